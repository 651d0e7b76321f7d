/**
 * Registers the Store contract (tests/store_contract.ts) for the in-process implementations, then
 * the SQLite-only behaviour: durability across reopen, failed group commits, de-duplication
 * across a restart, schema migrations, and backups of a live database file.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MemoryStore } from "../src/store/memory/memory_store.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite_store.ts";
import { migrate, SCHEMA_VERSION } from "../src/store/sqlite/sqlite_schema.ts";
import { backupDatabaseFile } from "../src/store/sqlite/sqlite_backup.ts";
import { runStoreContract } from "./store_contract.ts";
import { all, G, grp, ids, P, priv, put, seqs, user } from "./_store_fixtures.ts";
import { openSqlite, tempSqlite } from "./_sqlite_store.ts";

runStoreContract("memory", () => {
  const store = new MemoryStore();
  return Promise.resolve({ store, cleanup: () => store.close() });
}, { openBackup: (path) => MemoryStore.openBackup(path) });

runStoreContract("sqlite", () => tempSqlite(), { openBackup: openSqlite });
// Tiny batches and no wait: exercises seq continuity across many commits.
runStoreContract("sqlite(maxBatch=7)", () => tempSqlite({ maxBatch: 7, commitIntervalMs: 0 }), {
  openBackup: openSqlite,
});
runStoreContract("sqlite(:memory:)", () => {
  const store = SqliteStore.open({ path: ":memory:" });
  return Promise.resolve({ store, cleanup: () => store.close() });
}, { openBackup: openSqlite });

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
    assert.deepEqual(seqs((await Promise.all(pending)).map((r) => r.message)), [1, 2]);

    const db = new DatabaseSync(t.path);
    assert.equal(db.prepare("PRAGMA user_version").get()!.user_version, SCHEMA_VERSION);
    db.close();

    const s = SqliteStore.open({ path: t.path });
    try {
      assert.equal((await s.getUser("alice"))!.nick, "nick-alice");
      assert.equal(await s.findTokenUser("h", 0), "alice");
      assert.deepEqual(await s.listMembers("g", 10), ["alice"]);
      assert.equal(await s.countOffline("a"), 1);
      assert.equal((await put(s, priv("a", "b", 3))).seq, 3);
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
    assert.equal((await put(s, priv("a", "b", 1), ["b"])).seq, 1);
    fail = true;
    const doomed = [1, 2, 3].map((i) => s.appendMessage(priv("a", "b", 1 + i), ["b"]));
    const doomedGroup = s.appendMessage(grp("a", "new-group", 1), ["b"]);
    for (const p of [...doomed, doomedGroup]) await assert.rejects(p, /injected commit failure/);
    fail = false;
    assert.equal((await put(s, priv("b", "a", 9), ["b"])).seq, 2);
    assert.equal((await put(s, grp("a", "new-group", 10))).seq, 1);
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

Deno.test("sqlite: de-duplication survives a restart", async () => {
  const t = await tempSqlite();
  try {
    const first = await put(t.store, priv("a", "b", 1, "m1"), ["b"]);
    await t.store.close();
    const s = t.reopen();
    try {
      assert.deepEqual(await s.appendMessage(priv("a", "b", 2, "m1"), ["b"]), {
        message: first,
        duplicate: true,
      });
      assert.equal(await s.countOffline("b"), 1);
      assert.equal((await put(s, priv("a", "b", 3, "m2"))).seq, 2);
    } finally {
      await s.close();
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("sqlite: the full-text index follows appends, recalls and pruning", async () => {
  const t = await tempSqlite();
  const db = new DatabaseSync(t.path);
  const count = (sql: string) => db.prepare(sql).get()!.n as number;
  const check = () =>
    assert.equal(
      count("SELECT COUNT(*) AS n FROM messages_fts"),
      count("SELECT COUNT(*) AS n FROM messages WHERE content IS NOT NULL"),
    );
  try {
    const s = t.store;
    for (let i = 1; i <= 10; i++) await put(s, { ...priv("a", "b", i, "m" + i), content: `word${i} common` });
    await put(s, { ...priv("a", "b", 11, "bare"), content: undefined });
    check();
    await s.recallMessage(P("a", "b"), 2);
    await s.recallMessage(P("a", "b"), 2);
    check();
    assert.equal(await s.pruneMessages({ maxPerConversation: 5 }, 100), 6);
    check();
    assert.deepEqual(ids(await s.search("a", { text: "common", offset: 0, limit: 10 })), [
      "m10",
      "m9",
      "m8",
      "m7",
    ]);
  } finally {
    db.close();
    await t.cleanup();
  }
});

Deno.test("sqlite: migrating a v1 database keeps its data and de-duplicates its resends", async () => {
  const t = await tempSqlite();
  await t.store.close();
  await Deno.remove(t.path);
  const db = new DatabaseSync(t.path);
  migrate(db, 1);
  const key = 'p:["a","b"]';
  db.exec(`INSERT INTO conversations VALUES ('${key}', 4), ('g:g', 1)`);
  const insert = db.prepare(
    `INSERT INTO messages (row_id, conv_key, seq, msg_id, chat_type, from_user, to_user, group_id, content,
     create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run(1, key, 1, "x", 2, "a", "b", null, "first try", 1000);
  insert.run(2, key, 2, "x", 2, "a", "b", null, "resent", 1001); // a v1 duplicate of row 1
  insert.run(3, key, 3, "y", 2, "b", "a", null, "reply", 1002);
  insert.run(4, "g:g", 1, "x", 1, "a", null, "g", "group resend", 1003); // another duplicate
  insert.run(5, key, 4, "x", 2, "b", "a", null, "same id, other sender", 1004);
  db.exec("INSERT INTO offline VALUES ('b', 2), ('a', 3)");
  db.close();

  const s = t.reopen();
  try {
    const h = await s.history(P("a", "b"), all);
    assert.deepEqual(ids(h), ["x", "x", "y", "x"]);
    assert.deepEqual(h.map((m) => m.storedAt), [1000, 1001, 1002, 1004]);
    assert.deepEqual(await s.findSentMessage("a", "x"), h[0]);
    assert.deepEqual(await s.findSentMessage("b", "x"), h[3]);
    assert.deepEqual(await s.appendMessage(priv("a", "b", 2000, "x"), []), {
      message: h[0],
      duplicate: true,
    });
    assert.equal(await s.getReadSeq("a", P("a", "b")), 2);
    assert.equal(await s.getReadSeq("b", P("a", "b")), 4);
    assert.equal(await s.getReadSeq("a", G("g")), 1);
    assert.deepEqual(ids(await s.search("b", { text: "resent", offset: 0, limit: 10 })), ["x"]);
    const list = await s.listConversations("b", 10);
    assert.deepEqual(list.map((c) => [c.conversation, c.lastSeq, c.lastMessage?.seq]), [[P("b", "a"), 4, 4]]);
    assert.deepEqual(ids(await s.takeOffline("b", {}, 10)), ["x"]);
    assert.equal((await put(s, priv("a", "b", 2001, "z"))).seq, 5);
    assert.equal((await put(s, grp("b", "g", 2002, "z"))).seq, 2);
    assert.equal((await s.listConversations("a", 10))[0].lastMessage?.id, "z");
    await s.close();
    const check = new DatabaseSync(t.path);
    assert.equal(check.prepare("PRAGMA user_version").get()!.user_version, SCHEMA_VERSION);
    check.close();
  } finally {
    await s.close();
    await t.cleanup();
  }
});

Deno.test("sqlite: backupDatabaseFile copies a live database from another connection", async () => {
  const t = await tempSqlite();
  try {
    const s = t.store;
    await s.createUser(user("alice"));
    for (let i = 1; i <= 50; i++) await put(s, grp("alice", "g", i, "m" + i), ["bob"]);
    const inFlight = Array.from(
      { length: 20 },
      (_, i) => s.appendMessage(grp("carol", "g", 100 + i, "w" + i), []),
    );
    const out = `${t.dir}/copy.db`;
    await backupDatabaseFile(t.path, out);
    await assert.rejects(() => backupDatabaseFile(t.path, out), Deno.errors.AlreadyExists);
    await Promise.all(inFlight);
    assert.equal((await put(s, grp("alice", "g", 200, "after"))).seq, 71);

    const copy = SqliteStore.open({ path: out });
    try {
      const h = await copy.history(G("g"), { offset: 0, limit: 100 });
      // Committed before the copy: at least the 50 awaited messages, and a gap-free prefix.
      assert.ok(h.length >= 50 && h.length <= 70);
      assert.deepEqual(seqs(h), Array.from({ length: h.length }, (_, i) => i + 1));
      assert.deepEqual(await copy.getUser("alice"), user("alice"));
      assert.equal(await copy.countOffline("bob"), 50);
    } finally {
      await copy.close();
    }

    const notJim = `${t.dir}/other.db`;
    new DatabaseSync(notJim).close();
    await assert.rejects(() => backupDatabaseFile(notJim, `${t.dir}/x.db`), /not a jim database/);
    await assert.rejects(() => backupDatabaseFile(`${t.dir}/missing.db`, `${t.dir}/y.db`));
  } finally {
    await t.cleanup();
  }
});

Deno.test("sqlite: migrating a v2 database makes its groups open, ownerless, with plain members", async () => {
  const t = await tempSqlite();
  await t.store.close();
  await Deno.remove(t.path);
  const db = new DatabaseSync(t.path);
  migrate(db, 2);
  db.exec(`INSERT INTO chat_groups VALUES ('g', 'G', '', 1), ('100', '100', '', 2)`);
  db.exec(`INSERT INTO group_members VALUES ('g', 'a', 10), ('g', 'b', 20), ('100', 'a', 30)`);
  db.close();

  const s = t.reopen();
  try {
    assert.deepEqual(await s.getGroup("g"), { groupId: "g", name: "G", avatar: "", createdAt: 1 });
    assert.deepEqual(await s.getGroupSettings("g"), { kind: "open", ownerId: "" });
    assert.deepEqual(await s.listMemberRecords("g", 10), [
      { userId: "a", role: "member", joinedAt: 10, mutedUntil: 0 },
      { userId: "b", role: "member", joinedAt: 20, mutedUntil: 0 },
    ]);
    assert.deepEqual(await s.listBans("g", 10), []);
    assert.deepEqual(await s.listInvites({ userId: "a" }, 10), []);
    assert.equal(await s.setGroupOwner("g", "b"), true);
    assert.equal(await s.deleteGroup("100"), true);
    assert.deepEqual(await s.listUserGroups("a"), [{ groupId: "g", name: "G", avatar: "", createdAt: 1 }]);
  } finally {
    await s.close();
    await t.cleanup();
  }
});
