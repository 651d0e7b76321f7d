/**
 * Store contract, delivery part: de-duplication, stored time, seq queries, the conversation list,
 * read state and recall. Registered through runStoreContract (tests/store_contract.ts).
 */
import assert from "node:assert/strict";
import type { StoredMessage } from "../src/store/store.ts";
import {
  all,
  G,
  grp,
  ids,
  makeGroup,
  type MakeStore,
  P,
  priv,
  put,
  seqs,
  storeTest,
} from "./_store_fixtures.ts";

export function runDeliveryContract(name: string, makeStore: MakeStore): void {
  const test = storeTest(name, makeStore);

  test("dedup: a resend by the same sender returns the original and stores nothing", async (s) => {
    const first = await s.appendMessage(priv("a", "b", 1, "m1"), ["b"]);
    assert.equal(first.duplicate, false);
    await put(s, priv("b", "a", 2, "r1"), ["a"]);
    const again = await s.appendMessage({ ...priv("a", "b", 3, "m1"), content: "changed" }, ["b", "c"]);
    assert.deepEqual(again, { message: first.message, duplicate: true });
    assert.equal(again.message.content, "hi from a");
    // Same id in another conversation of the same sender: still the original.
    const elsewhere = await s.appendMessage(grp("a", "g", 4, "m1"), ["b"]);
    assert.deepEqual(elsewhere, { message: first.message, duplicate: true });
    assert.deepEqual(seqs(await s.history(P("a", "b"), all)), [1, 2]);
    assert.equal(await s.lastSeq(G("g")), 0);
    assert.equal(await s.countOffline("b"), 1);
    assert.equal(await s.countOffline("c"), 0);
    // Nothing was raised by the duplicate: a's read seq is still its own send (1).
    assert.equal(await s.getReadSeq("a", P("a", "b")), 1);
    // Same id, different sender: a different message.
    const other = await s.appendMessage(priv("b", "a", 5, "m1"), []);
    assert.equal(other.duplicate, false);
    assert.equal(other.message.seq, 3);
    assert.deepEqual(await s.findSentMessage("a", "m1"), first.message);
    assert.deepEqual(await s.findSentMessage("b", "m1"), other.message);
    assert.equal(await s.findSentMessage("c", "m1"), undefined);
    assert.equal(await s.findSentMessage("a", "nope"), undefined);
  });

  test("dedup: duplicates among concurrent appends (one group-commit batch)", async (s) => {
    const calls = [
      s.appendMessage(grp("a", "g", 1, "x"), ["b"]),
      s.appendMessage(grp("a", "g", 2, "x"), ["b"]),
      s.appendMessage(grp("b", "g", 3, "x"), ["a"]),
      s.appendMessage(priv("a", "c", 4, "x"), ["c"]),
      s.appendMessage(grp("a", "g", 5, "y"), ["b"]),
      s.appendMessage(grp("a", "g", 6, "y"), ["b"]),
    ];
    const results = await Promise.all(calls);
    assert.deepEqual(results.map((r) => r.duplicate), [false, true, false, true, false, true]);
    assert.deepEqual(results.map((r) => r.message.seq), [1, 1, 2, 1, 3, 3]);
    assert.deepEqual(results[1].message, results[0].message);
    assert.deepEqual(results[3].message, results[0].message);
    assert.deepEqual(results[5].message, results[4].message);
    assert.deepEqual(seqs(await s.history(G("g"), all)), [1, 2, 3]);
    assert.deepEqual(await s.history(P("a", "c"), all), []);
    assert.equal(await s.countOffline("b"), 2);
    assert.equal(await s.countOffline("c"), 0);
    assert.equal((await put(s, grp("c", "g", 7, "z"))).seq, 4);
    // 50 resends of 10 ids, interleaved: 10 stored with seqs 5..14, every resend gets its original.
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => s.appendMessage(grp("d", "g", 10 + i, "d" + (i % 10)), [])),
    );
    assert.deepEqual(many.map((r) => r.message.seq), Array.from({ length: 50 }, (_, i) => 5 + (i % 10)));
    assert.deepEqual(many.map((r) => r.duplicate), Array.from({ length: 50 }, (_, i) => i >= 10));
    assert.deepEqual(seqs(await s.history(G("g"), all)), Array.from({ length: 14 }, (_, i) => i + 1));
  });

  test("storedAt: set by the store, kept everywhere the message is read", async (s) => {
    const before = Date.now();
    const m = await put(s, priv("a", "b", 1), ["b"]);
    assert.ok(Number.isInteger(m.storedAt) && m.storedAt >= before && m.storedAt <= Date.now());
    assert.deepEqual(await s.history(P("a", "b"), all), [m]);
    assert.deepEqual(await s.messagesBySeq(P("b", "a"), { limit: 5 }), [m]);
    assert.deepEqual(await s.findSentMessage("a", m.id), m);
    assert.deepEqual(await s.takeOffline("b", {}, 5), [m]);
  });

  test("messagesBySeq and lastSeq: after, before, limit edges", async (s) => {
    assert.equal(await s.lastSeq(P("a", "b")), 0);
    assert.deepEqual(await s.messagesBySeq(P("a", "b"), { limit: 10 }), []);
    // createTime deliberately descending: seq order is not time order.
    for (let i = 1; i <= 10; i++) await put(s, priv(i % 2 ? "a" : "b", i % 2 ? "b" : "a", 100 - i, "m" + i));
    await put(s, priv("a", "c", 1));
    const c = P("b", "a");
    assert.equal(await s.lastSeq(c), 10);
    assert.equal(await s.lastSeq(P("a", "b")), 10);
    assert.equal(await s.lastSeq(P("c", "a")), 1);
    const q = async (query: Parameters<typeof s.messagesBySeq>[1]) => seqs(await s.messagesBySeq(c, query));
    assert.deepEqual(await q({ limit: 3 }), [1, 2, 3]);
    assert.deepEqual(await q({ afterSeq: 0, limit: 3 }), [1, 2, 3]);
    assert.deepEqual(await q({ afterSeq: 3, limit: 4 }), [4, 5, 6, 7]);
    assert.deepEqual(await q({ afterSeq: 8, limit: 10 }), [9, 10]);
    assert.deepEqual(await q({ afterSeq: 10, limit: 10 }), []);
    assert.deepEqual(await q({ beforeSeq: 5, limit: 2 }), [3, 4]);
    assert.deepEqual(await q({ beforeSeq: 3, limit: 10 }), [1, 2]);
    assert.deepEqual(await q({ beforeSeq: 1, limit: 10 }), []);
    assert.deepEqual(await q({ beforeSeq: 100, limit: 3 }), [8, 9, 10]);
    assert.deepEqual(await q({ afterSeq: 2, beforeSeq: 6, limit: 10 }), [3, 4, 5]);
    assert.deepEqual(await q({ afterSeq: 2, beforeSeq: 9, limit: 2 }), [7, 8]);
    assert.deepEqual(await q({ afterSeq: 5, beforeSeq: 5, limit: 2 }), []);
    assert.deepEqual(await q({ limit: 0 }), []);
    assert.deepEqual(await q({ beforeSeq: 5, limit: 0 }), []);
    assert.deepEqual(ids(await s.messagesBySeq(c, { afterSeq: 9, limit: 1 })), ["m10"]);
    assert.deepEqual(await s.messagesBySeq(G("b"), { limit: 10 }), []);
  });

  test("listConversations: private both ways, groups with and without messages, order, limit", async (s) => {
    await makeGroup(s, "g1", ["a", "b"]);
    await makeGroup(s, "g2", ["a"]);
    await makeGroup(s, "g3", ["x", "a"]);
    await makeGroup(s, "gx", ["b"]);
    await put(s, priv("a", "b", 1, "ab1")); // a→b
    await put(s, grp("b", "g1", 2, "g1-1"));
    await put(s, priv("c", "a", 3, "ca1")); // only incoming for a
    await put(s, grp("b", "gx", 4, "gx-1")); // a is not a member
    await put(s, priv("b", "c", 5, "bc1")); // not a's
    await put(s, priv("b", "a", 6, "ba1")); // b→a: the a-b conversation is the most recent again
    const last = await put(s, priv("a", "a", 7, "self")); // a note to self

    const list = await s.listConversations("a", 10);
    assert.deepEqual(list.map((c) => c.conversation), [
      P("a", "a"),
      P("a", "b"),
      P("a", "c"),
      G("g1"),
      G("g2"),
      G("g3"),
    ]);
    assert.deepEqual(list.map((c) => c.lastSeq), [1, 2, 1, 1, 0, 0]);
    assert.deepEqual(list.map((c) => c.lastMessage?.id), [
      "self",
      "ba1",
      "ca1",
      "g1-1",
      undefined,
      undefined,
    ]);
    assert.deepEqual(list.map((c) => c.readSeq), [1, 1, 0, 0, 0, 0]);
    assert.deepEqual(list[0].lastMessage, last);
    assert.deepEqual(list[4], { conversation: G("g2"), lastSeq: 0, readSeq: 0 });
    assert.deepEqual(await s.listConversations("a", 2), list.slice(0, 2));
    assert.deepEqual(await s.listConversations("a", 0), []);
    assert.deepEqual(await s.listConversations("nobody", 10), []);

    // b's view: the same private conversation named from b's side.
    const forB = await s.listConversations("b", 10);
    assert.deepEqual(forB.map((c) => c.conversation), [P("b", "a"), P("b", "c"), G("gx"), G("g1")]);
    assert.deepEqual(forB.map((c) => c.readSeq), [2, 1, 1, 1]);

    // Reading and leaving show up; new activity reorders.
    await s.markRead("a", P("a", "c"), 1);
    await s.removeMember("g3", "a");
    await put(s, grp("a", "g2", 8, "g2-1"));
    const after = await s.listConversations("a", 10);
    assert.deepEqual(after.map((c) => c.conversation), [
      G("g2"),
      P("a", "a"),
      P("a", "b"),
      P("a", "c"),
      G("g1"),
    ]);
    assert.deepEqual(after.map((c) => c.readSeq), [1, 1, 1, 1, 0]);
  });

  test("read state: sending reads, markRead is monotonic and capped at lastSeq", async (s) => {
    const c = P("a", "b");
    assert.equal(await s.markRead("b", c, 5), 0);
    assert.equal(await s.getReadSeq("b", c), 0);
    for (let i = 1; i <= 5; i++) await put(s, priv("a", "b", i, "m" + i));
    assert.equal(await s.getReadSeq("a", c), 5);
    assert.equal(await s.getReadSeq("a", P("b", "a")), 5);
    assert.equal(await s.getReadSeq("b", c), 0);
    assert.equal(await s.markRead("b", c, 3), 3);
    assert.equal(await s.markRead("b", P("b", "a"), 2), 3);
    assert.equal(await s.markRead("b", c, 0), 3);
    assert.equal(await s.markRead("b", c, -1), 3);
    assert.equal(await s.markRead("b", c, Number.NaN), 3);
    assert.equal(await s.markRead("b", c, 99), 5);
    assert.equal(await s.getReadSeq("b", c), 5);
    assert.equal(await s.markRead("b", G("g"), 3), 0);
    // b sends: b's read seq follows; a duplicate of a's old message changes nothing.
    await put(s, priv("b", "a", 6, "r6"));
    assert.equal(await s.getReadSeq("b", c), 6);
    assert.equal((await s.appendMessage(priv("a", "b", 7, "m2"), [])).duplicate, true);
    assert.equal(await s.getReadSeq("a", c), 5);
    assert.equal(await s.markRead("a", c, 6), 6);
  });

  test("readCounts: readers other than the sender, per seq", async (s) => {
    await makeGroup(s, "g", ["a", "b", "c", "d"]);
    for (let i = 1; i <= 3; i++) await put(s, grp("a", "g", i, "a" + i));
    await s.markRead("c", G("g"), 2);
    await s.markRead("d", G("g"), 3);
    await put(s, grp("b", "g", 4, "b4"));
    const counts = await s.readCounts(G("g"), [1, 2, 3, 4, 99, 0]);
    assert.deepEqual([...counts].sort((x, y) => x[0] - y[0]), [[1, 3], [2, 3], [3, 2], [4, 0]]);
    await s.markRead("a", G("g"), 4);
    assert.deepEqual([...await s.readCounts(G("g"), [4, 3])].sort((x, y) => x[0] - y[0]), [[3, 2], [4, 1]]);
    assert.equal((await s.readCounts(G("g"), [])).size, 0);
    assert.equal((await s.readCounts(G("other"), [1])).size, 0);
    await put(s, priv("a", "b", 1));
    assert.deepEqual([...await s.readCounts(P("b", "a"), [1])], [[1, 0]]);
    await s.markRead("b", P("b", "a"), 1);
    assert.deepEqual([...await s.readCounts(P("a", "b"), [1])], [[1, 1]]);
  });

  test("recall: content and extras gone, seq kept, recalled everywhere", async (s) => {
    await put(s, priv("a", "b", 1, "m1"));
    const m = await put(s, { ...priv("a", "b", 2, "m2"), content: "secret plan", extras: { k: 1 } }, ["b"]);
    await put(s, priv("b", "a", 3, "m3"));
    const expected: StoredMessage = {
      id: "m2",
      chatType: 2,
      from: "a",
      to: "b",
      msgType: 0,
      createTime: 2,
      seq: 2,
      storedAt: m.storedAt,
      recalled: true,
    };
    assert.deepEqual(await s.recallMessage(P("b", "a"), 2), expected);
    assert.deepEqual(await s.recallMessage(P("a", "b"), 2), expected);
    assert.equal(await s.recallMessage(P("a", "b"), 9), undefined);
    assert.equal(await s.recallMessage(P("a", "c"), 2), undefined);
    const h = await s.history(P("a", "b"), all);
    assert.deepEqual(seqs(h), [1, 2, 3]);
    assert.deepEqual(h[1], expected);
    assert.equal(h[0].recalled, undefined);
    assert.deepEqual(await s.messagesBySeq(P("a", "b"), { afterSeq: 1, limit: 1 }), [expected]);
    assert.deepEqual(await s.findSentMessage("a", "m2"), expected);
    assert.deepEqual(await s.takeOffline("b", {}, 10), [expected]);
    assert.deepEqual(await s.search("a", { text: "secret", offset: 0, limit: 10 }), []);
    assert.equal(await s.lastSeq(P("a", "b")), 3);
    // A resend of the recalled id is still a duplicate of it.
    assert.deepEqual(await s.appendMessage(priv("a", "b", 4, "m2"), []), {
      message: expected,
      duplicate: true,
    });
    // The last message recalled: the conversation list shows it recalled.
    await s.recallMessage(P("a", "b"), 3);
    assert.equal((await s.listConversations("a", 1))[0].lastMessage?.recalled, true);
  });
}
