/**
 * One server per data dir. A running server holds `<dataDir>/jim.lock`: the file names its owner
 * (pid, host, start time) and carries an exclusive OS lock (flock / LockFileEx, through
 * `Deno.FsFile.tryLockSync`). The kernel drops that lock when the process ends, however it ends,
 * so a lock file left behind by a crashed or killed server is simply taken over: no pid guessing,
 * no trouble with pids reused after a reboot.
 *
 * Fallback, for filesystems without file locks: the pid in the file is checked instead. On Linux
 * the owner is dead when `/proc/<pid>` does not exist (Deno.kill(pid, 0) would need --allow-run);
 * but Deno lets only --allow-all processes look into /proc, so under the start task's permissions,
 * on other systems, or when the file names another host, the lock file is trusted: a stale one
 * must then be deleted by hand (the error says so).
 */
import { join } from "node:path";

export const LOCK_FILE_NAME = "jim.lock";

export interface LockOwner {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  startedAt: string;
}

export class DataDirLockedError extends Error {
  readonly dataDir: string;
  readonly lockPath: string;
  /** Unknown when the lock file cannot be read (Windows denies reads of a locked file). */
  readonly owner: LockOwner | undefined;
  constructor(dataDir: string, lockPath: string, owner: LockOwner | undefined, trusted = false) {
    const who = owner
      ? `pid ${owner.pid}${owner.hostname ? ` on ${owner.hostname}` : ""} (since ${owner.startedAt})`
      : "another process";
    const hint = trusted ? " (no file locks on this filesystem: if that process is gone, delete it)" : "";
    super(`data dir ${dataDir} is in use by ${who}; lock file ${lockPath}${hint}`);
    this.name = "DataDirLockedError";
    this.dataDir = dataDir;
    this.lockPath = lockPath;
    this.owner = owner;
  }
}

export interface DataDirLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock file and drops the lock. Idempotent. */
  release(): void;
}

/**
 * Takes the data dir's lock (the directory must exist). Throws DataDirLockedError while another
 * process, or another App in this process, holds it.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  for (let attempt = 1;; attempt++) {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    let locked: boolean | undefined;
    try {
      locked = file.tryLockSync(true);
    } catch {
      locked = undefined; // no OS locks here: fall back to the pid in the file
    }
    if (locked === false || (locked === undefined && isAlive(readOwner(path)))) {
      file.close();
      throw new DataDirLockedError(dataDir, path, readOwner(path), locked === undefined);
    }
    // A releasing owner unlinks the file while still holding its lock: if we locked an unlinked
    // file, the path may already be someone else's. Try again on the current file.
    if (locked && !isSameFile(file, path) && attempt < 5) {
      file.close();
      continue;
    }
    const owner: LockOwner = { pid: Deno.pid, hostname: hostName(), startedAt: new Date().toISOString() };
    try {
      file.truncateSync(0);
      writeAll(file, new TextEncoder().encode(JSON.stringify(owner) + "\n"));
    } catch (err) {
      file.close();
      throw err;
    }
    let released = false;
    return {
      path,
      owner,
      release() {
        if (released) return;
        released = true;
        try {
          if (isSameFile(file, path)) Deno.removeSync(path); // while still locked (see above)
        } catch {
          // Already gone, or not removable (Windows): the next owner truncates it.
        }
        file.close(); // drops the OS lock
      },
    };
  }
}

/** The owner named by the lock file, if it can be read and parsed. */
export function readOwner(path: string): LockOwner | undefined {
  try {
    const data = JSON.parse(Deno.readTextFileSync(path));
    if (typeof data?.pid !== "number") return undefined;
    return {
      pid: data.pid,
      hostname: typeof data.hostname === "string" ? data.hostname : "",
      startedAt: typeof data.startedAt === "string" ? data.startedAt : "?",
    };
  } catch {
    return undefined;
  }
}

/** Fallback liveness check (see the module comment). */
function isAlive(owner: LockOwner | undefined): boolean {
  if (!owner) return false;
  const here = hostName();
  if (owner.hostname && here && owner.hostname !== here) return true; // cannot check another host
  if (owner.pid === Deno.pid) return true;
  if (Deno.build.os !== "linux") return true;
  try {
    Deno.statSync(`/proc/${owner.pid}`);
    return true;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound); // NotCapable without --allow-all: cannot tell
  }
}

function isSameFile(file: Deno.FsFile, path: string): boolean {
  try {
    const a = file.statSync();
    const b = Deno.statSync(path);
    return a.ino === null || (a.ino === b.ino && a.dev === b.dev);
  } catch {
    return false;
  }
}

/** The host name without --allow-sys (which the start task does not grant): "" when unknown. */
function hostName(): string {
  try {
    return Deno.readTextFileSync("/etc/hostname").trim(); // /proc/sys/... needs --allow-all
  } catch {
    // not Linux
  }
  try {
    if (Deno.permissions.querySync({ name: "env" }).state === "granted") {
      return Deno.env.get("HOSTNAME") ?? Deno.env.get("COMPUTERNAME") ?? "";
    }
  } catch {
    // no permission API
  }
  return "";
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}
