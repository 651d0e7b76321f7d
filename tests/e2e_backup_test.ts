/**
 * `jim backup` and `jim restore` as a user runs them: child processes with the start task's
 * permission flags next to a live server. A backup taken while a client keeps chatting is intact
 * and holds every message acked before it started; restored into a fresh data dir, a real client
 * reads that history over a socket (cmd 19). The data dir lock refuses a second server and a
 * restore under a running server; backup never overwrites a file; restore refuses files that are
 * not (sound, known) jim databases.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { JimClient } from "../src/client/jim_client.ts";
import { SCHEMA_VERSION } from "../src/store/sqlite/sqlite_schema.ts";
import { runJim, spawnJim } from "./_process.ts";

const FAST = ["--password-iterations", "1000"];
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
type Obj = Record<string, unknown>;

async function login(port: number, userId: string, password: string): Promise<JimClient> {
  const c = await JimClient.connectTcp({ port });
  const reply = await c.login(userId, password);
  assert.equal(reply.body.code, 10007, JSON.stringify(reply.body));
  return c;
}

/** alice chats to bob without pause, one message per ack, recording what was acked. */
async function startChatter(port: number) {
  const alice = await login(port, "alice", "pw-a");
  const bob = await login(port, "bob", "pw-b");
  bob.onPacket(() => {}); // bob is online and receives; nothing to check on his side
  const acked: string[] = [];
  let stopping = false;
  const waiters: { n: number; resolve: () => void }[] = [];
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      const content = `msg ${i}`;
      await alice.send(11, { chatType: 2, to: "bob", content, createTime: 1_000_000 + i });
      const ack = await alice.next(12, 10_000);
      assert.equal(ack.body.code, 10000, JSON.stringify(ack.body));
      acked.push(content);
      for (const w of waiters.filter((w) => acked.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  })();
  return {
    acked,
    /** Resolves once `n` messages in all have been acked. */
    waitFor(n: number): Promise<void> {
      if (acked.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async stop(): Promise<void> {
      stopping = true;
      await loop;
      alice.close();
      bob.close();
    },
  };
}

/** Every history message of alice's conversation with bob, through cmd 19 pages. */
async function history(client: JimClient): Promise<string[]> {
  const all: string[] = [];
  for (let offset = 0;; offset += 500) {
    await client.send(19, { type: 1, userId: "alice", fromUserId: "bob", offset, count: 500 });
    const reply = await client.next(20);
    assert.equal(reply.body.code, 10018, JSON.stringify(reply.body));
    const page = ((reply.body.data as Obj).friends as Record<string, { content: string }[]>).bob ?? [];
    all.push(...page.map((m) => m.content));
    if (page.length < 500) return all;
  }
}

function messageContents(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT CAST(content AS TEXT) AS c FROM messages ORDER BY row_id").all()
      .map((r) => String(r.c));
  } finally {
    db.close();
  }
}

async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("backup while clients chat, restore into a fresh data dir, read the history back", () =>
  withTempDir("jim-backup-", async (dir) => {
    const dataDir = `${dir}/data`;
    const backupFile = `${dir}/backup.db`;
    const restoredDir = `${dir}/restored`;

    const jim = await spawnJim(["--data-dir", dataDir, ...FAST]);
    let ackedBefore: string[];
    try {
      const chat = await startChatter(jim.port);
      await chat.waitFor(50);
      ackedBefore = [...chat.acked];
      const out = await runJim(["backup", backupFile, "--data-dir", dataDir]);
      const ackedByBackupEnd = chat.acked.length;
      await chat.waitFor(ackedByBackupEnd + 20); // the server kept going
      await chat.stop();
      assert.equal(out.code, 0, text(out.stderr));
      assert.match(text(out.stdout), /^backup ok: .*backup\.db \(.* \d+ messages, 2 users, schema v\d+\)\n$/);
      assert.ok(ackedByBackupEnd > ackedBefore.length, "no chat was acked while the backup ran");
    } finally {
      assert.equal((await jim.stop()).code, 0, jim.stderr());
    }

    // The copy: intact, self-contained, at the current schema, with every message acked before it
    // began, and nothing but a prefix of what alice sent (a snapshot, not a mix of moments).
    const db = new DatabaseSync(backupFile, { readOnly: true });
    try {
      assert.deepEqual(db.prepare("PRAGMA integrity_check").all().map((r) => r.integrity_check), ["ok"]);
      assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
    } finally {
      db.close();
    }
    const inBackup = messageContents(backupFile);
    assert.ok(inBackup.length >= ackedBefore.length);
    assert.deepEqual(inBackup, inBackup.map((_, i) => `msg ${i}`));
    assert.deepEqual(inBackup.slice(0, ackedBefore.length), ackedBefore);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["backup.db", "data"]);

    const restore = await runJim(["restore", backupFile, "--data-dir", restoredDir]);
    assert.equal(restore.code, 0, text(restore.stderr));
    assert.match(text(restore.stdout), /^restore ok: .*backup\.db -> .*restored\/jim\.db \(/);
    assert.deepEqual([...Deno.readDirSync(restoredDir)].map((e) => e.name), ["jim.db"]);

    const jim2 = await spawnJim(["--data-dir", restoredDir, ...FAST]);
    try {
      const wrong = await JimClient.connectTcp({ port: jim2.port });
      assert.equal((await wrong.login("alice", "not-her-password")).body.code, 10008); // accounts came back
      await wrong.waitClosed();
      const alice = await login(jim2.port, "alice", "pw-a");
      assert.deepEqual(await history(alice), inBackup);
      alice.close();
    } finally {
      assert.equal((await jim2.stop()).code, 0, jim2.stderr());
    }
  }));

Deno.test("the data dir lock: a second server and a restore under a running server are refused", () =>
  withTempDir("jim-lock-", async (dir) => {
    const dataDir = `${dir}/data`;
    const backupFile = `${dir}/backup.db`;
    await Deno.mkdir(dataDir);
    // What a killed server leaves behind does not block the next start.
    await Deno.writeTextFile(`${dataDir}/jim.lock`, '{"pid":2147483647,"hostname":"","startedAt":"x"}\n');

    const jim = await spawnJim(["--data-dir", dataDir, ...FAST]);
    try {
      const pid = jim.child.pid;
      const alice = await login(jim.port, "alice", "pw-a");
      alice.close();
      assert.equal((await runJim(["backup", backupFile, "--data-dir", dataDir])).code, 0);

      const second = await runJim(["--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0", ...FAST]);
      assert.equal(second.code, 1);
      assert.match(text(second.stderr), new RegExp(`cannot start: data dir .* is in use by pid ${pid}\\b`));

      const restore = await runJim(["restore", backupFile, "--data-dir", dataDir]);
      assert.equal(restore.code, 1);
      assert.match(
        text(restore.stderr),
        new RegExp(`refusing to restore: data dir .* in use by pid ${pid}\\b`),
      );
      assert.deepEqual(
        [...Deno.readDirSync(dataDir)].map((e) => e.name).filter((n) =>
          !/^jim\.(db(-wal|-shm)?|lock)$/.test(n)
        ),
        [],
      );

      // Backup never overwrites.
      await Deno.writeTextFile(`${dir}/precious`, "keep me");
      const over = await runJim(["backup", `${dir}/precious`, "--data-dir", dataDir]);
      assert.equal(over.code, 1);
      assert.match(text(over.stderr), /precious already exists; refusing to overwrite it/);
      assert.equal(await Deno.readTextFile(`${dir}/precious`), "keep me");

      // The first server is still serving.
      const again = await login(jim.port, "alice", "pw-a");
      again.close();
    } finally {
      assert.equal((await jim.stop()).code, 0, jim.stderr());
    }
    assert.ok(!(await exists(`${dataDir}/jim.lock`)), "jim.lock left behind by a clean stop");

    // Stopped: the restore goes through and keeps the previous database.
    const restore = await runJim(["restore", backupFile, "--data-dir", dataDir]);
    assert.equal(restore.code, 0, text(restore.stderr));
    const kept = [...Deno.readDirSync(dataDir)].map((e) => e.name).filter((n) =>
      n.includes("before-restore")
    );
    assert.equal(kept.length, 1, `kept: ${kept}`);
    assert.match(text(restore.stdout), new RegExp(`previous database kept as .*${kept[0]}`));
    assert.match(kept[0], /^jim\.db\.before-restore-\d{8}T\d{6}Z$/);
    assert.ok(!(await exists(`${dataDir}/jim.db-wal`)));
  }));

Deno.test("restore refuses what is not a sound jim database of a known schema", () =>
  withTempDir("jim-restore-", async (dir) => {
    const dataDir = `${dir}/data`;
    const cases: [string, (path: string) => void, RegExp][] = [
      ["text", (p) => Deno.writeTextFileSync(p, "hello"), /not a readable SQLite database/],
      ["foreign", (p) => {
        const db = new DatabaseSync(p);
        db.exec("CREATE TABLE t (x)");
        db.close();
      }, /not a jim database \(PRAGMA user_version is 0\)/],
      ["no tables", (p) => {
        const db = new DatabaseSync(p);
        db.exec("CREATE TABLE users (x); PRAGMA user_version = 1");
        db.close();
      }, /not a jim database: schema version 1 but missing table\(s\) .*messages/],
      ["newer", (p) => {
        const db = new DatabaseSync(p);
        db.exec(`CREATE TABLE t (x); PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
        db.close();
      }, new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer than this jim supports`)],
    ];
    for (const [name, make, expected] of cases) {
      const file = `${dir}/${name}.db`;
      make(file);
      const out = await runJim(["restore", file, "--data-dir", dataDir]);
      assert.equal(out.code, 1, `${name}: ${text(out.stderr)}`);
      assert.match(text(out.stderr), expected, name);
      assert.deepEqual([...Deno.readDirSync(dataDir)], [], `${name}: the data dir was touched`);
    }
    const missing = await runJim(["restore", `${dir}/missing.db`, "--data-dir", dataDir]);
    assert.equal(missing.code, 1);
    assert.match(text(missing.stderr), /cannot read .*missing\.db/);

    for (const args of [["restore"], ["backup"], ["restore", "a", "b"], ["backup", "x", "--no-keep"]]) {
      const usage = await runJim([...args, "--data-dir", dataDir]);
      assert.equal(usage.code, 2, `${args.join(" ")}: ${text(usage.stderr)}`);
    }
  }));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
