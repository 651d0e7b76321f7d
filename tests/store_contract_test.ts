/**
 * The Store contract: one suite, run against every implementation. SQLite-only behaviour
 * (durability across reopen, failed group commits, migrations) is at the end.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { NewMessage, Store, StoredMessage, UserRecord } from "../src/store/store.ts";
import { MemoryStore } from "../src/store/memory/memory_store.ts";
import { SqliteStore, type SqliteStoreOptions } from "../src/store/sqlite/sqlite_store.ts";
import { SCHEMA_VERSION } from "../src/store/sqlite/sqlite_schema.ts";

type MakeStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

function user(userId: string, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    userId,
    passwordHash: "",
    nick: "nick-" + userId,
    avatar: "",
    createdAt: 1000,
    disabled: false,
    ...extra,
  };
}

function priv(from: string, to: string, createTime: number, id = `${from}-${to}-${createTime}`): NewMessage {
  return { id, chatType: 2, from, to, msgType: 0, content: `hi from ${from}`, createTime };
}

function grp(
  from: string,
  groupId: string,
  createTime: number,
  id = `${from}-${groupId}-${createTime}`,
): NewMessage {
  return { id, chatType: 1, from, groupId, msgType: 0, content: `hello ${groupId}`, createTime };
}

const ids = (ms: StoredMessage[]) => ms.map((m) => m.id);
const seqs = (ms: StoredMessage[]) => ms.map((m) => m.seq);
const all = { offset: 0, limit: 1000 };

export function runStoreContract(name: string, makeStore: MakeStore): void {
  const test = (title: string, fn: (store: Store) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await makeStore();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    });

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
    assert.equal((await s.appendMessage(priv("a", "b", 1), [])).seq, 1);
    assert.equal((await s.appendMessage(priv("b", "a", 2), [])).seq, 2);
    assert.equal((await s.appendMessage(grp("a", "g", 3), [])).seq, 1);
    assert.equal((await s.appendMessage(priv("a", "b", 4), [])).seq, 3);
    assert.equal((await s.appendMessage(priv("a", "c", 5), [])).seq, 1);
    assert.equal((await s.appendMessage(grp("b", "g", 6), [])).seq, 2);
    assert.equal((await s.appendMessage(grp("b", "h", 7), [])).seq, 1);
    const h = await s.history({ kind: "private", userA: "b", userB: "a" }, all);
    assert.deepEqual(seqs(h), [1, 2, 3]);
    assert.deepEqual(h, await s.history({ kind: "private", userA: "a", userB: "b" }, all));
  });

  test("seq: 300 concurrent appends get 1..300 in call order", async (s) => {
    const calls = [];
    for (let i = 0; i < 300; i++) {
      calls.push(s.appendMessage(grp("u" + (i % 7), "big", 1000 + i, "m" + i), []));
    }
    const stored = await Promise.all(calls);
    assert.deepEqual(seqs(stored), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.deepEqual(ids(stored), Array.from({ length: 300 }, (_, i) => "m" + i));
    const h = await s.history({ kind: "group", groupId: "big" }, all);
    assert.deepEqual(h, stored);
  });

  test("history: time range, offset/limit, ordering", async (s) => {
    // Out of time order on purpose: 30, 10, 20, 10, 40.
    for (const [t, id] of [[30, "x"], [10, "y"], [20, "z"], [10, "w"], [40, "v"]] as const) {
      await s.appendMessage(grp("a", "g", t, id), []);
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
    await s.appendMessage(priv("a", "u", 50, "a1"), ["u"]);
    await s.appendMessage(priv("b", "u", 10, "b1"), ["u"]);
    await s.appendMessage(grp("a", "g", 30, "g1"), ["u", "v"]);
    await s.appendMessage(priv("a", "u", 20, "a2"), ["u"]);
    await s.appendMessage(grp("b", "g", 40, "g2"), ["u", "v"]);
    await s.appendMessage(priv("a", "v", 5, "av"), ["v"]);
    await s.appendMessage(grp("c", "h", 1, "h1"), ["u"]);
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
    await s.appendMessage(priv("a", "u", 1), ["u", "u"]);
    assert.equal(await s.countOffline("u"), 1);
  });

  test("no leakage between conversations with look-alike ids", async (s) => {
    const pairs: [string, string][] = [["a", "b\u0000c"], ["a\u0000b", "c"], ["a", 'b","c'], ['a","b', "c"], [
      "p:a",
      "b",
    ]];
    for (const [x, y] of pairs) assert.equal((await s.appendMessage(priv(x, y, 1, x + "|" + y), [])).seq, 1);
    for (const gid of ['p:["a","b"]', "g:x", "x"]) {
      assert.equal((await s.appendMessage(grp("a", gid, 1, "grp" + gid), [])).seq, 1);
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
    const stored = await s.appendMessage(full, ["😀"]);
    assert.deepEqual(stored, { ...full, seq: 1 });
    assert.deepEqual(await s.history({ kind: "private", userA: "😀", userB: "用户" }, all), [stored]);
    assert.deepEqual(await s.takeOffline("😀", {}, 5), [stored]);

    const bare: NewMessage = { id: "b", chatType: 1, from: "x", groupId: "g", createTime: 5 };
    const got = await s.appendMessage(bare, []);
    assert.deepEqual(Object.keys(got).sort(), ["chatType", "createTime", "from", "groupId", "id", "seq"]);
    const [h] = await s.history({ kind: "group", groupId: "g" }, all);
    assert.deepEqual(Object.keys(h).sort(), ["chatType", "createTime", "from", "groupId", "id", "seq"]);
    assert.equal(
      (await s.appendMessage({ ...bare, id: "c", content: "", extras: {} }, [])).content,
      "",
    );
    assert.deepEqual((await s.history({ kind: "group", groupId: "g" }, all))[1].extras, {});

    // Mutating a result changes nothing stored.
    h.extras = { hacked: true };
    got.content = "hacked";
    assert.deepEqual(Object.keys((await s.history({ kind: "group", groupId: "g" }, all))[0]).length, 6);
  });

  test("invalid messages reject without consuming a seq", async (s) => {
    await assert.rejects(s.appendMessage({ id: "x", chatType: 2, from: "a", createTime: 1 }, []));
    await assert.rejects(s.appendMessage({ id: "x", chatType: 1, from: "a", createTime: 1 }, []));
    await assert.rejects(s.appendMessage({ ...priv("a", "b", 1), chatType: 3 as 1 }, []));
    assert.equal((await s.appendMessage(priv("a", "b", 1), [])).seq, 1);
  });

  test("methods reject after close", async (s) => {
    await s.close();
    await assert.rejects(s.getUser("a"));
    await assert.rejects(s.appendMessage(priv("a", "b", 1), []));
    await assert.rejects(s.history({ kind: "group", groupId: "g" }, all));
    await s.close();
  });
}

runStoreContract("memory", () => {
  const store = new MemoryStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
});

async function tempSqlite(options: Omit<SqliteStoreOptions, "path"> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "jim_store_test_" });
  const path = `${dir}/jim.db`;
  const store = SqliteStore.open({ path, ...options });
  return {
    store,
    path,
    cleanup: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

runStoreContract("sqlite", () => tempSqlite());
// Tiny batches and no wait: exercises seq continuity across many commits.
runStoreContract("sqlite(maxBatch=7)", () => tempSqlite({ maxBatch: 7, commitIntervalMs: 0 }));
runStoreContract("sqlite(:memory:)", async () => {
  const store = SqliteStore.open({ path: ":memory:" });
  return await Promise.resolve({ store, cleanup: () => store.close() });
});

Deno.test("sqlite: close then reopen keeps everything", async () => {
  const t = await tempSqlite({ commitIntervalMs: 10_000 });
  try {
    await t.store.createUser(user("alice"));
    await t.store.saveToken("h", "alice", 5000);
    await t.store.ensureGroup({ groupId: "g", name: "G", avatar: "", createdAt: 1 });
    await t.store.addMember("g", "alice", 2);
    // Not awaited before close (the batch would wait 10 s): close must flush the pending batch.
    const pending = [
      t.store.appendMessage(priv("a", "b", 1), ["b"]),
      t.store.appendMessage(priv("b", "a", 2), ["a"]),
    ];
    await t.store.close();
    assert.deepEqual(seqs(await Promise.all(pending)), [1, 2]);

    const db = new DatabaseSync(t.path);
    assert.equal(db.prepare("PRAGMA user_version").get()!.user_version, SCHEMA_VERSION);
    db.close();

    const s = SqliteStore.open({ path: t.path });
    try {
      assert.equal((await s.getUser("alice"))!.nick, "nick-alice");
      assert.equal(await s.findTokenUser("h", 0), "alice");
      assert.deepEqual(await s.listMembers("g", 10), ["alice"]);
      assert.equal(await s.countOffline("a"), 1);
      assert.equal((await s.appendMessage(priv("a", "b", 3), [])).seq, 3);
      assert.deepEqual(seqs(await s.history({ kind: "private", userA: "a", userB: "b" }, all)), [1, 2, 3]);
    } finally {
      await s.close();
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("sqlite: a failed batch rejects its callers and leaves no seq gap", async () => {
  let fail = false;
  const t = await tempSqlite({
    beforeCommit: () => {
      if (fail) throw new Error("injected commit failure");
    },
  });
  const s = t.store;
  try {
    assert.equal((await s.appendMessage(priv("a", "b", 1), ["b"])).seq, 1);
    fail = true;
    const doomed = [1, 2, 3].map((i) => s.appendMessage(priv("a", "b", 1 + i), ["b"]));
    const doomedGroup = s.appendMessage(grp("a", "new-group", 1), ["b"]);
    for (const p of [...doomed, doomedGroup]) await assert.rejects(p, /injected commit failure/);
    fail = false;
    assert.equal((await s.appendMessage(priv("b", "a", 9), ["b"])).seq, 2);
    assert.equal((await s.appendMessage(grp("a", "new-group", 10), [])).seq, 1);
    assert.deepEqual(seqs(await s.history({ kind: "private", userA: "a", userB: "b" }, all)), [1, 2]);
    assert.equal(await s.countOffline("b"), 2);
  } finally {
    await t.cleanup();
  }
});

Deno.test("sqlite: refuses a database from a newer schema", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jim_store_test_" });
  try {
    const db = new DatabaseSync(`${dir}/jim.db`);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => SqliteStore.open({ path: `${dir}/jim.db` }), /newer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
