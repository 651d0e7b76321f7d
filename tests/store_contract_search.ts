/**
 * Store contract, maintenance part: full-text search, retention (pruneMessages) and backup.
 * Registered through runStoreContract (tests/store_contract.ts).
 *
 * Search cases stay within what FTS5's unicode61 tokenizer and the memory store's word matching
 * agree on (see src/store/search_text.ts): ASCII words, case, punctuation, CJK characters.
 */
import assert from "node:assert/strict";
import type { NewMessage, Store } from "../src/store/store.ts";
import {
  all,
  type ContractOptions,
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
  tickPast,
  user,
} from "./_store_fixtures.ts";

function say(m: NewMessage, content: string): NewMessage {
  return { ...m, content };
}

export function runSearchContract(name: string, makeStore: MakeStore, options: ContractOptions): void {
  const test = storeTest(name, makeStore);
  const find = async (
    s: Store,
    userId: string,
    text: string,
    more: { offset?: number; limit?: number } = {},
  ) => ids(await s.search(userId, { text, offset: more.offset ?? 0, limit: more.limit ?? 100 }));

  test("search: only the user's own private conversations and current groups", async (s) => {
    await makeGroup(s, "g1", ["a", "b"]);
    await makeGroup(s, "g2", ["b", "c"]);
    await put(s, say(priv("a", "b", 1, "ab"), "apple banana"));
    await put(s, say(priv("b", "c", 2, "bc"), "apple cherry"));
    await put(s, say(grp("b", "g1", 3, "g1"), "an apple for the group"));
    await put(s, say(grp("c", "g2", 4, "g2"), "apple secret"));
    await put(s, say(priv("c", "a", 5, "ca"), "no fruit here"));
    await put(s, say(grp("a", "g3", 6, "g3"), "apple in a group a is not in"));

    assert.deepEqual(await find(s, "a", "apple"), ["g1", "ab"]);
    assert.deepEqual(await find(s, "b", "apple"), ["g2", "g1", "bc", "ab"]);
    assert.deepEqual(await find(s, "c", "apple"), ["g2", "bc"]);
    assert.deepEqual(await find(s, "nobody", "apple"), []);
    const inConv = (userId: string, conversation: Parameters<Store["lastSeq"]>[0]) =>
      s.search(userId, { text: "apple", conversation, ...all }).then(ids);
    assert.deepEqual(await inConv("a", P("b", "a")), ["ab"]);
    assert.deepEqual(await inConv("a", G("g1")), ["g1"]);
    assert.deepEqual(await inConv("a", P("b", "c")), []);
    assert.deepEqual(await inConv("a", G("g2")), []);
    assert.deepEqual(await inConv("a", G("g3")), []);
    await s.removeMember("g1", "a");
    assert.deepEqual(await find(s, "a", "apple"), ["ab"]);
  });

  test("search: plain words, all required, any order and case", async (s) => {
    await put(s, say(priv("a", "b", 1, "1"), "Apple banana split"));
    await put(s, say(priv("a", "b", 2, "2"), "banana bread"));
    await put(s, say(priv("a", "b", 3, "3"), "pineapple, applesauce; apple-pie"));
    await put(s, say(priv("a", "b", 4, "4"), "你好世界 hello"));
    await put(s, say(priv("a", "b", 5, "5"), "node.js and deno2 v2.9"));
    await put(s, { ...priv("a", "b", 6, "6"), content: undefined });
    assert.deepEqual(await find(s, "a", "apple"), ["3", "1"]);
    assert.deepEqual(await find(s, "a", "APPLE Banana"), ["1"]);
    assert.deepEqual(await find(s, "b", "banana   apple"), ["1"]);
    assert.deepEqual(await find(s, "a", "banana"), ["2", "1"]);
    assert.deepEqual(await find(s, "a", "app"), []);
    assert.deepEqual(await find(s, "a", "apple pie"), ["3"]);
    assert.deepEqual(await find(s, "a", "apple-pie"), ["3"]);
    assert.deepEqual(await find(s, "a", "pie-apple"), []);
    assert.deepEqual(await find(s, "a", "世界"), ["4"]);
    assert.deepEqual(await find(s, "a", "你好"), ["4"]);
    assert.deepEqual(await find(s, "a", "界世"), []);
    assert.deepEqual(await find(s, "a", "node.js"), ["5"]);
    assert.deepEqual(await find(s, "a", "deno2"), ["5"]);
    assert.deepEqual(await find(s, "a", "v2.9"), ["5"]);
    assert.deepEqual(await find(s, "a", "split banana bread"), []);
  });

  test("search: quotes, operators and punctuation are just text", async (s) => {
    await put(s, say(priv("a", "b", 1, "1"), 'he said "apple" (twice) OR NOT'));
    await put(s, say(priv("a", "b", 2, "2"), "cherry"));
    const weird = [
      '"',
      '""',
      '"apple',
      "apple*",
      "*",
      "-apple",
      "apple -cherry",
      "NEAR(apple cherry)",
      "apple OR cherry",
      "content:apple",
      "^apple",
      "(apple",
      "apple)",
      "'",
      "''",
      "\\",
      "a\u0000pple",
      "{apple}",
      ":",
      "AND",
      "NOT",
      "",
      "   ",
      "\u{1F600}",
      "%_",
    ];
    for (const text of weird) {
      const got = await find(s, "a", text);
      assert.ok(got.every((id) => id === "1" || id === "2"), text);
    }
    assert.deepEqual(await find(s, "a", '"apple'), ["1"]);
    assert.deepEqual(await find(s, "a", "apple*"), ["1"]);
    assert.deepEqual(await find(s, "a", "-apple"), ["1"]);
    assert.deepEqual(await find(s, "a", "(apple)"), ["1"]);
    assert.deepEqual(await find(s, "a", "apple OR cherry"), []);
    assert.deepEqual(await find(s, "a", "apple or cherry"), []);
    assert.deepEqual(await find(s, "a", "apple or NOT"), ["1"]);
    assert.deepEqual(await find(s, "a", "NOT"), ["1"]);
    assert.deepEqual(await find(s, "a", ""), []);
    assert.deepEqual(await find(s, "a", '"" *'), []);
  });

  test("search: newest first, offset and limit", async (s) => {
    await makeGroup(s, "g", ["a"]);
    for (let i = 1; i <= 5; i++) {
      await put(
        s,
        say(i % 2 ? priv("a", "b", 100 - i, "p" + i) : grp("a", "g", 100 - i, "g" + i), "ping " + i),
      );
      await put(s, say(priv("a", "b", 200 + i, "x" + i), "pong"));
    }
    assert.deepEqual(await find(s, "a", "ping"), ["p5", "g4", "p3", "g2", "p1"]);
    assert.deepEqual(await find(s, "a", "ping", { limit: 2 }), ["p5", "g4"]);
    assert.deepEqual(await find(s, "a", "ping", { offset: 2, limit: 2 }), ["p3", "g2"]);
    assert.deepEqual(await find(s, "a", "ping", { offset: 4, limit: 2 }), ["p1"]);
    assert.deepEqual(await find(s, "a", "ping", { offset: 5, limit: 2 }), []);
    assert.deepEqual(await find(s, "a", "ping", { limit: 0 }), []);
    const [hit] = await s.search("a", { text: "ping 3", ...all });
    assert.deepEqual(hit, (await s.messagesBySeq(P("a", "b"), { afterSeq: 3, limit: 1 }))[0]);
  });

  test("prune by age: old messages, their offline entries and index rows go; seqs continue", async (s) => {
    await put(s, say(priv("a", "b", 1, "1"), "oldword one"), ["b"]);
    await put(s, say(grp("a", "g", 2, "2"), "oldword two"), ["b"]);
    const m2 = await put(s, say(priv("b", "a", 3, "3"), "oldword three"), ["a"]);
    await tickPast(m2.storedAt);
    const cut = Date.now();
    const m4 = await put(s, say(priv("a", "b", 4, "4"), "newword four"), ["b"]);
    assert.ok(m4.storedAt >= cut);
    await s.markRead("b", P("a", "b"), 3);

    assert.equal(await s.pruneMessages({ olderThan: cut }, 2), 2);
    assert.equal(await s.pruneMessages({ olderThan: cut }, 2), 1);
    assert.equal(await s.pruneMessages({ olderThan: cut }, 2), 0);
    assert.deepEqual(ids(await s.history(P("a", "b"), all)), ["4"]);
    assert.deepEqual(await s.history(G("g"), all), []);
    assert.deepEqual(ids(await s.takeOffline("b", {}, 10)), ["4"]);
    assert.equal(await s.countOffline("a"), 0);
    assert.deepEqual(await find(s, "a", "oldword"), []);
    assert.deepEqual(await find(s, "a", "newword"), ["4"]);
    assert.equal(await s.findSentMessage("a", "1"), undefined);
    assert.equal(await s.lastSeq(P("a", "b")), 3);
    assert.equal(await s.lastSeq(G("g")), 1);
    assert.equal(await s.getReadSeq("b", P("a", "b")), 3);
    assert.deepEqual(await s.messagesBySeq(P("a", "b"), { limit: 10 }), [m4]);
    assert.equal((await put(s, priv("a", "b", 5))).seq, 4);
    assert.equal((await put(s, grp("a", "g", 6))).seq, 2);
    assert.deepEqual(await s.pruneMessages({}, 10), 0);
    assert.deepEqual(await s.pruneMessages({ olderThan: Date.now() + 1000 }, 0), 0);
  });

  test("prune by count: keeps the newest per conversation, oldest deleted first", async (s) => {
    // Interleaved: x1 y1 x2 y2 x3 x4 x5 z1
    const order: [string, number][] = [["x", 1], ["y", 1], ["x", 2], ["y", 2], ["x", 3], ["x", 4], ["x", 5]];
    for (const [c, i] of order) await put(s, grp("u", c, i, c + i), ["v"]);
    await put(s, priv("u", "z", 1, "z1"), ["v"]);
    const policy = { maxPerConversation: 2 };
    assert.equal(await s.pruneMessages(policy, 2), 2);
    assert.deepEqual(ids(await s.history(G("x"), all)), ["x3", "x4", "x5"]);
    assert.deepEqual(ids(await s.history(G("y"), all)), ["y1", "y2"]);
    assert.equal(await s.pruneMessages(policy, 2), 1);
    assert.equal(await s.pruneMessages(policy, 2), 0);
    assert.deepEqual(ids(await s.history(G("x"), all)), ["x4", "x5"]);
    assert.equal(await s.countOffline("v"), 5);
    assert.equal(await s.lastSeq(G("x")), 5);
    const x6 = await put(s, grp("u", "x", 6, "x6"));
    assert.equal(x6.seq, 6);
    assert.deepEqual(seqs(await s.messagesBySeq(G("x"), { limit: 10 })), [4, 5, 6]);
    assert.equal(await s.pruneMessages(policy, 10), 1);
    // Age and count together (x5 x6 y1 y2 z1 are older than y3), then count 0 empties everything.
    await tickPast(x6.storedAt);
    const y3 = await put(s, grp("u", "y", 3, "y3"));
    assert.equal(await s.pruneMessages({ olderThan: y3.storedAt, maxPerConversation: 5 }, 100), 5);
    assert.deepEqual(ids(await s.history(G("y"), all)), ["y3"]);
    assert.equal(await s.pruneMessages({ maxPerConversation: 0 }, 100), 1);
    assert.equal(await s.countOffline("v"), 0);
    assert.equal(await s.lastSeq(G("y")), 3);
  });

  test("backup: a consistent copy that opens as a store, while writes continue", async (s) => {
    const dir = await Deno.makeTempDir({ prefix: "jim_backup_test_" });
    try {
      await s.createUser(user("alice"));
      await makeGroup(s, "g", ["alice", "bob"]);
      for (let i = 1; i <= 20; i++) {
        await put(s, say(grp("alice", "g", i, "m" + i), "backup word " + i), ["bob"]);
      }
      await put(s, say(priv("bob", "alice", 1, "p1"), "private backup"), ["alice"]);
      await s.markRead("bob", G("g"), 7);
      await s.recallMessage(G("g"), 3);
      const before = {
        history: await s.history(G("g"), all),
        conversations: await s.listConversations("alice", 10),
      };
      // Writes in flight before, during and after the backup call.
      const writes = Array.from(
        { length: 30 },
        (_, i) => s.appendMessage(grp("carol", "g", 100 + i, "w" + i), []),
      );
      const path = `${dir}/backup.db`;
      const backup = s.backup(path);
      writes.push(
        ...Array.from({ length: 30 }, (_, i) => s.appendMessage(grp("carol", "g", 200 + i, "v" + i), [])),
      );
      await backup;
      assert.deepEqual(seqs((await Promise.all(writes)).map((r) => r.message)), range(21, 80));
      assert.ok((await Deno.stat(path)).size > 0);
      await assert.rejects(s.backup(path));
      assert.equal((await put(s, grp("alice", "g", 300, "after"))).seq, 81);

      if (!options.openBackup) return;
      const copy = await options.openBackup(path);
      try {
        const h = await copy.history(G("g"), { offset: 0, limit: 100 });
        // Everything written before the call; the in-flight writes form a gap-free prefix.
        assert.deepEqual(h.slice(0, 20), before.history);
        assert.deepEqual(seqs(h), range(1, h.length));
        assert.ok(h.length <= 80);
        assert.deepEqual(await copy.getUser("alice"), user("alice"));
        assert.deepEqual(await copy.listMembers("g", 10), ["alice", "bob"]);
        assert.equal(await copy.getReadSeq("bob", G("g")), 7);
        assert.equal(await copy.countOffline("bob"), 20);
        assert.deepEqual(ids(await copy.search("bob", { text: "backup", offset: 0, limit: 3 })), [
          "p1",
          "m20",
          "m19",
        ]);
        // The same conversations (the order may differ: the in-flight writes made g more recent).
        const names = (list: { conversation: unknown }[]) =>
          list.map((c) => JSON.stringify(c.conversation)).sort();
        assert.deepEqual(names(await copy.listConversations("alice", 10)), names(before.conversations));
        assert.deepEqual((await copy.appendMessage(grp("alice", "g", 1, "m1"), [])).duplicate, true);
        assert.equal((await put(copy, grp("alice", "g", 400, "new"))).seq, h.length + 1);
      } finally {
        await copy.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
