/**
 * The Store contract: one suite, run against every implementation. Exports runStoreContract and
 * registers nothing itself; tests/store_contract_test.ts (and each implementation's own test
 * file) registers it. The delivery-contract parts live in store_contract_delivery.ts and
 * store_contract_search.ts, the group listing in store_contract_group_list.ts, group permissions
 * (kind, roles, mutes, bans, invites, disband) in store_contract_groups.ts.
 */
import assert from "node:assert/strict";
import type { NewMessage } from "../src/store/store.ts";
import {
  all,
  type ContractOptions,
  grp,
  ids,
  type MakeStore,
  priv,
  put,
  seqs,
  storeTest,
  user,
} from "./_store_fixtures.ts";
import { runDeliveryContract } from "./store_contract_delivery.ts";
import { runGroupListContract } from "./store_contract_group_list.ts";
import { runGroupPermissionsContract } from "./store_contract_groups.ts";
import { runSearchContract } from "./store_contract_search.ts";

export type { ContractOptions, MakeStore } from "./_store_fixtures.ts";

export function runStoreContract(name: string, makeStore: MakeStore, options: ContractOptions = {}): void {
  const test = storeTest(name, makeStore);

  test("users: create, get, update, list", async (s) => {
    assert.equal(await s.getUser("alice"), undefined);
    assert.equal(await s.createUser(user("alice", { passwordHash: "pbkdf2-sha256$1$s$h" })), true);
    assert.equal(await s.createUser(user("alice", { nick: "impostor" })), false);
    assert.deepEqual(await s.getUser("alice"), user("alice", { passwordHash: "pbkdf2-sha256$1$s$h" }));

    assert.equal(await s.updateUser("alice", { nick: "Alice", disabled: true }), true);
    assert.deepEqual(
      await s.getUser("alice"),
      user("alice", { passwordHash: "pbkdf2-sha256$1$s$h", nick: "Alice", disabled: true }),
    );
    assert.equal(await s.updateUser("alice", { passwordHash: "", disabled: false }), true);
    assert.equal((await s.getUser("alice"))!.passwordHash, "");
    assert.equal(await s.updateUser("nobody", { nick: "x" }), false);
    assert.equal(await s.getUser("nobody"), undefined);

    for (const id of ["dave", "bob", "carol", "eve"]) await s.createUser(user(id));
    await s.createUser(user("zed\u0000", { nick: "z\u0000z", avatar: "ü" }));
    assert.deepEqual(await s.getUser("zed\u0000"), user("zed\u0000", { nick: "z\u0000z", avatar: "ü" }));
    assert.equal(await s.getUser("zed"), undefined);
    assert.deepEqual((await s.listUsers("", 3)).map((u) => u.userId), ["alice", "bob", "carol"]);
    assert.deepEqual((await s.listUsers("carol", 10)).map((u) => u.userId), ["dave", "eve", "zed\u0000"]);
    // Ordered by code point (SQLite's UTF-8 byte order), not by UTF-16 unit.
    await s.createUser(user("😀"));
    await s.createUser(user("\uff01"));
    assert.deepEqual((await s.listUsers("eve", 10)).map((u) => u.userId), ["zed\u0000", "\uff01", "😀"]);
    assert.deepEqual(await s.listUsers("", 0), []);

    // Returned records are copies.
    const got = (await s.getUser("bob"))!;
    got.nick = "mutated";
    assert.equal((await s.getUser("bob"))!.nick, "nick-bob");
  });

  test("tokens: save, find until expiry, delete", async (s) => {
    await s.saveToken("h1", "alice", 5000);
    assert.equal(await s.findTokenUser("h1", 4999), "alice");
    assert.equal(await s.findTokenUser("h1", 5000), undefined);
    assert.equal(await s.findTokenUser("h2", 0), undefined);
    await s.saveToken("h1", "bob", 9000);
    assert.equal(await s.findTokenUser("h1", 6000), "bob");
    await s.deleteToken("h1");
    assert.equal(await s.findTokenUser("h1", 0), undefined);
    await s.deleteToken("h1");
  });

  test("tokens: purgeExpiredTokens deletes only expired ones, oldest first, at most limit", async (s) => {
    await s.saveToken("t1", "alice", 100);
    await s.saveToken("t2", "alice", 200);
    await s.saveToken("t3", "bob", 300);
    await s.saveToken("t4", "bob", 10_000);
    assert.equal(await s.purgeExpiredTokens(300, 2), 2);
    assert.equal(await s.findTokenUser("t3", 250), "bob", "t3 was not among the two oldest");
    assert.equal(await s.purgeExpiredTokens(300, 10), 1);
    assert.equal(await s.purgeExpiredTokens(300, 10), 0);
    assert.equal(await s.findTokenUser("t4", 300), "bob");
    await s.saveToken("t1", "alice", 400);
    assert.equal(await s.findTokenUser("t1", 300), "alice", "a purged hash can be saved again");
  });

  test("groups: ensure, members, join order", async (s) => {
    assert.equal(await s.getGroup("g1"), undefined);
    const g1 = { groupId: "g1", name: "Group 1", avatar: "a.png", createdAt: 10 };
    assert.deepEqual(await s.ensureGroup(g1), g1);
    assert.deepEqual(await s.ensureGroup({ ...g1, name: "other", createdAt: 99 }), g1);
    assert.deepEqual(await s.getGroup("g1"), g1);
    const g2 = { groupId: "g2", name: "", avatar: "", createdAt: 20 };
    await s.ensureGroup(g2);

    assert.equal(await s.addMember("g1", "carol", 100), true);
    assert.equal(await s.addMember("g1", "alice", 100), true);
    assert.equal(await s.addMember("g1", "bob", 50), true);
    assert.equal(await s.addMember("g1", "alice", 200), false);
    assert.deepEqual(await s.listMembers("g1", 10), ["bob", "carol", "alice"]);
    assert.deepEqual(await s.listMembers("g1", 2), ["bob", "carol"]);
    assert.deepEqual(await s.listMembers("g2", 10), []);
    assert.equal(await s.isMember("g1", "alice"), true);
    assert.equal(await s.isMember("g2", "alice"), false);

    assert.equal(await s.removeMember("g1", "carol"), true);
    assert.equal(await s.removeMember("g1", "carol"), false);
    assert.equal(await s.isMember("g1", "carol"), false);
    assert.equal(await s.addMember("g1", "carol", 100), true);
    assert.deepEqual(await s.listMembers("g1", 10), ["bob", "alice", "carol"]);

    await s.addMember("g2", "alice", 150);
    assert.deepEqual(await s.listUserGroups("alice"), [g1, g2]);
    assert.deepEqual(await s.listUserGroups("bob"), [g1]);
    assert.deepEqual(await s.listUserGroups("nobody"), []);
    await assert.rejects(s.addMember("no-such-group", "alice", 1));
  });

  test("seq: per conversation, both directions share a private conversation", async (s) => {
    assert.equal((await put(s, priv("a", "b", 1))).seq, 1);
    assert.equal((await put(s, priv("b", "a", 2))).seq, 2);
    assert.equal((await put(s, grp("a", "g", 3))).seq, 1);
    assert.equal((await put(s, priv("a", "b", 4))).seq, 3);
    assert.equal((await put(s, priv("a", "c", 5))).seq, 1);
    assert.equal((await put(s, grp("b", "g", 6))).seq, 2);
    assert.equal((await put(s, grp("b", "h", 7))).seq, 1);
    const h = await s.history({ kind: "private", userA: "b", userB: "a" }, all);
    assert.deepEqual(seqs(h), [1, 2, 3]);
    assert.deepEqual(h, await s.history({ kind: "private", userA: "a", userB: "b" }, all));
  });

  test("seq: 300 concurrent appends get 1..300 in call order", async (s) => {
    const calls = [];
    for (let i = 0; i < 300; i++) {
      calls.push(s.appendMessage(grp("u" + (i % 7), "big", 1000 + i, "m" + i), []));
    }
    const stored = (await Promise.all(calls)).map((r) => r.message);
    assert.deepEqual(seqs(stored), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.deepEqual(ids(stored), Array.from({ length: 300 }, (_, i) => "m" + i));
    const h = await s.history({ kind: "group", groupId: "big" }, all);
    assert.deepEqual(h, stored);
  });

  test("history: time range, offset/limit, ordering", async (s) => {
    // Out of time order on purpose: 30, 10, 20, 10, 40.
    for (const [t, id] of [[30, "x"], [10, "y"], [20, "z"], [10, "w"], [40, "v"]] as const) {
      await put(s, grp("a", "g", t, id), []);
    }
    const g = { kind: "group", groupId: "g" } as const;
    assert.deepEqual(ids(await s.history(g, all)), ["y", "w", "z", "x", "v"]);
    assert.deepEqual(ids(await s.history(g, { offset: 1, limit: 2 })), ["w", "z"]);
    assert.deepEqual(ids(await s.history(g, { offset: 4, limit: 10 })), ["v"]);
    assert.deepEqual(await s.history(g, { offset: 5, limit: 10 }), []);
    assert.deepEqual(await s.history(g, { offset: 0, limit: 0 }), []);
    assert.deepEqual(ids(await s.history(g, { beginTime: 10, endTime: 30, ...all })), ["y", "w", "z", "x"]);
    assert.deepEqual(ids(await s.history(g, { beginTime: 11, endTime: 30, offset: 1, limit: 1 })), ["x"]);
    assert.deepEqual(await s.history(g, { beginTime: 41, endTime: 50, ...all }), []);
    // A single bound is ignored.
    assert.equal((await s.history(g, { beginTime: 35, ...all })).length, 5);
    assert.equal((await s.history(g, { endTime: 15, ...all })).length, 5);
    assert.deepEqual(await s.history({ kind: "group", groupId: "other" }, all), []);
  });

  test("offline: filters, limit, removes only what it returned", async (s) => {
    await s.ensureGroup({ groupId: "g", name: "", avatar: "", createdAt: 0 });
    await put(s, priv("a", "u", 50, "a1"), ["u"]);
    await put(s, priv("b", "u", 10, "b1"), ["u"]);
    await put(s, grp("a", "g", 30, "g1"), ["u", "v"]);
    await put(s, priv("a", "u", 20, "a2"), ["u"]);
    await put(s, grp("b", "g", 40, "g2"), ["u", "v"]);
    await put(s, priv("a", "v", 5, "av"), ["v"]);
    await put(s, grp("c", "h", 1, "h1"), ["u"]);
    assert.equal(await s.countOffline("u"), 6);
    assert.equal(await s.countOffline("v"), 3);
    assert.equal(await s.countOffline("nobody"), 0);

    // From a: private only (a's group message g1 is not included), oldest first.
    assert.deepEqual(ids(await s.takeOffline("u", { fromUserId: "a" }, 1)), ["a2"]);
    assert.equal(await s.countOffline("u"), 5);
    assert.deepEqual(ids(await s.takeOffline("u", { fromUserId: "a" }, 10)), ["a1"]);
    assert.deepEqual(await s.takeOffline("u", { fromUserId: "a" }, 10), []);
    assert.deepEqual(ids(await s.takeOffline("u", { groupId: "g" }, 10)), ["g1", "g2"]);
    assert.deepEqual(await s.takeOffline("u", { groupId: "g" }, 0), []);
    assert.equal(await s.countOffline("u"), 2);
    assert.deepEqual(ids(await s.takeOffline("u", {}, 10)), ["h1", "b1"]);
    assert.equal(await s.countOffline("u"), 0);

    // v's queue was untouched.
    assert.equal(await s.countOffline("v"), 3);
    assert.deepEqual(ids(await s.takeOffline("v", {}, 2)), ["av", "g1"]);
    assert.deepEqual(ids(await s.takeOffline("v", {}, 2)), ["g2"]);
    // Offline delivery does not remove history.
    assert.equal((await s.history({ kind: "group", groupId: "g" }, all)).length, 2);
  });

  test("offline: duplicate recipients queue once", async (s) => {
    await put(s, priv("a", "u", 1), ["u", "u"]);
    assert.equal(await s.countOffline("u"), 1);
  });

  test("no leakage between conversations with look-alike ids", async (s) => {
    const pairs: [string, string][] = [["a", "b\u0000c"], ["a\u0000b", "c"], ["a", 'b","c'], ['a","b', "c"], [
      "p:a",
      "b",
    ]];
    for (const [x, y] of pairs) assert.equal((await put(s, priv(x, y, 1, x + "|" + y))).seq, 1);
    for (const gid of ['p:["a","b"]', "g:x", "x"]) {
      assert.equal((await put(s, grp("a", gid, 1, "grp" + gid))).seq, 1);
    }
    for (const [x, y] of pairs) {
      assert.deepEqual(ids(await s.history({ kind: "private", userA: y, userB: x }, all)), [x + "|" + y]);
    }
    assert.deepEqual(ids(await s.history({ kind: "group", groupId: "g:x" }, all)), ["grpg:x"]);
    assert.deepEqual(await s.history({ kind: "private", userA: "a", userB: "b" }, all), []);
  });

  test("values round-trip; optional fields stay absent", async (s) => {
    const full: NewMessage = {
      id: "ü-1",
      chatType: 2,
      from: "用户",
      to: "😀",
      msgType: 0,
      content: 'héllo 世界 😀\n"quoted"',
      createTime: 1700000000123,
      extras: { n: 1, nested: { list: [1, "two", null, { deep: true }] }, s: "ß" },
    };
    const before = Date.now();
    const stored = await put(s, full, ["😀"]);
    assert.ok(stored.storedAt >= before && stored.storedAt <= Date.now());
    assert.deepEqual(stored, { ...full, seq: 1, storedAt: stored.storedAt });
    assert.deepEqual(await s.history({ kind: "private", userA: "😀", userB: "用户" }, all), [stored]);
    assert.deepEqual(await s.takeOffline("😀", {}, 5), [stored]);

    const bare: NewMessage = { id: "b", chatType: 1, from: "x", groupId: "g", createTime: 5 };
    const got = await put(s, bare, []);
    assert.deepEqual(Object.keys(got).sort(), [
      "chatType",
      "createTime",
      "from",
      "groupId",
      "id",
      "seq",
      "storedAt",
    ]);
    const [h] = await s.history({ kind: "group", groupId: "g" }, all);
    assert.deepEqual(Object.keys(h).sort(), [
      "chatType",
      "createTime",
      "from",
      "groupId",
      "id",
      "seq",
      "storedAt",
    ]);
    assert.equal(
      (await put(s, { ...bare, id: "c", content: "", extras: {} }, [])).content,
      "",
    );
    assert.deepEqual((await s.history({ kind: "group", groupId: "g" }, all))[1].extras, {});

    // Mutating a result changes nothing stored.
    h.extras = { hacked: true };
    got.content = "hacked";
    assert.deepEqual(Object.keys((await s.history({ kind: "group", groupId: "g" }, all))[0]).length, 7);
  });

  test("invalid messages reject without consuming a seq", async (s) => {
    await assert.rejects(s.appendMessage({ id: "x", chatType: 2, from: "a", createTime: 1 }, []));
    await assert.rejects(s.appendMessage({ id: "x", chatType: 1, from: "a", createTime: 1 }, []));
    await assert.rejects(s.appendMessage({ ...priv("a", "b", 1), chatType: 3 as 1 }, []));
    assert.equal((await put(s, priv("a", "b", 1))).seq, 1);
  });

  test("methods reject after close", async (s) => {
    await s.close();
    await assert.rejects(s.getUser("a"));
    await assert.rejects(s.appendMessage(priv("a", "b", 1), []));
    await assert.rejects(s.history({ kind: "group", groupId: "g" }, all));
    await s.close();
  });

  runDeliveryContract(name, makeStore);
  runSearchContract(name, makeStore, options);
  runGroupListContract(name, makeStore);
  runGroupPermissionsContract(name, makeStore, options);
}
