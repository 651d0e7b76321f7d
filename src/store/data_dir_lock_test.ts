import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE_NAME, readOwner } from "./data_dir_lock.ts";

async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jim-lock-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("data dir lock: a second holder is refused until the first releases", () =>
  withDir((dir) => {
    const first = acquireDataDirLock(dir);
    assert.equal(first.owner.pid, Deno.pid);
    assert.deepEqual(readOwner(join(dir, LOCK_FILE_NAME)), first.owner);
    assert.throws(
      () => acquireDataDirLock(dir),
      (err) => err instanceof DataDirLockedError && err.message.includes(`in use by pid ${Deno.pid}`),
    );
    first.release();
    first.release(); // idempotent
    assert.throws(() => Deno.statSync(join(dir, LOCK_FILE_NAME)), Deno.errors.NotFound);
    const second = acquireDataDirLock(dir);
    second.release();
  }));

Deno.test("data dir lock: a lock file left by a dead process is taken over", () =>
  withDir((dir) => {
    const path = join(dir, LOCK_FILE_NAME);
    // A pid that cannot be running, and the same host: what a SIGKILLed server leaves behind.
    Deno.writeTextFileSync(path, JSON.stringify({ pid: 2 ** 31 - 1, hostname: "", startedAt: "x" }));
    const lock = acquireDataDirLock(dir);
    assert.equal(readOwner(path)?.pid, Deno.pid);
    lock.release();
    Deno.writeTextFileSync(path, "not json");
    acquireDataDirLock(dir).release();
  }));
