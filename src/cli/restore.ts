/**
 * `jim restore FILE`: replaces the data dir's database with FILE (typically made by `jim backup`),
 * with the server stopped.
 *
 * Refuses while a server holds the data dir's lock (and holds it itself, so no server starts
 * meanwhile). FILE is copied into the data dir first, and the copy is what gets checked
 * (integrity_check, schema version not newer than this jim, the tables of that version) and
 * fsynced. Then the copy is renamed over jim.db: an atomic switch. The previous jim.db, with its
 * -wal, stays as `jim.db.before-restore-<UTC time>` unless --no-keep; the stale -wal/-shm of the
 * previous database never stay beside the new one (SQLite would replay that WAL into it).
 */
import { join, resolve } from "node:path";
import { databasePath } from "../app.ts";
import type { JimConfig } from "../config/schema.ts";
import { acquireDataDirLock, DataDirLockedError } from "../store/data_dir_lock.ts";
import { SCHEMA_VERSION } from "../store/sqlite/sqlite_schema.ts";
import {
  CliError,
  type CliIo,
  CONSOLE_IO,
  type DatabaseInfo,
  describeCounts,
  errorText,
  exists,
  finalizeCopy,
  formatBytes,
  fsyncDir,
  removeIfExists,
  SIDE_SUFFIXES,
} from "./db_file.ts";

export const RESTORE_USAGE = "usage: jim restore FILE [--no-keep] [--data-dir DIR]";

/** Flags of `jim restore` itself rather than configuration options (main.ts passes them on). */
export const RESTORE_FLAGS: readonly string[] = ["--no-keep"];

export interface RestoreOptions {
  /** Keep the previous database as jim.db.before-restore-<time> (default true). */
  keep?: boolean;
  now?: Date;
}

export interface RestoreResult extends DatabaseInfo {
  dbPath: string;
  /** Whether a previous database was replaced. */
  replaced: boolean;
  /** Where the previous database was kept. */
  keptAs?: string;
}

/**
 * Runs `jim restore` with the positionals after "restore" and its own flags (RESTORE_FLAGS).
 * Exit code: 0 ok, 1 failed or refused, 2 usage.
 */
export function runRestore(
  config: JimConfig,
  args: readonly string[],
  io: CliIo = CONSOLE_IO,
): Promise<number> {
  const flags = args.filter((a) => a.startsWith("-"));
  const files = args.filter((a) => !a.startsWith("-"));
  if (files.length !== 1 || files[0] === "" || flags.some((f) => !RESTORE_FLAGS.includes(f))) {
    io.err(RESTORE_USAGE);
    return Promise.resolve(2);
  }
  const source = resolve(files[0]);
  try {
    const r = restoreDatabase(config.dataDir, source, { keep: !flags.includes("--no-keep") });
    const counts = describeCounts(r);
    const parts = [
      `restore ok: ${source} -> ${r.dbPath} (${formatBytes(r.bytes)}${counts ? `, ${counts}` : ""}, ` +
      `schema v${r.schemaVersion})`,
    ];
    if (r.keptAs) parts.push(`previous database kept as ${r.keptAs}`);
    else if (r.replaced) parts.push("previous database removed (--no-keep)");
    if (r.schemaVersion < SCHEMA_VERSION) {
      parts.push(`jim upgrades it to schema v${SCHEMA_VERSION} when it next starts`);
    }
    io.out(parts.join("; "));
    return Promise.resolve(0);
  } catch (err) {
    io.err(
      err instanceof DataDirLockedError
        ? `jim restore: refusing to restore: ${err.message}. Stop that server first.`
        : `jim restore: ${errorText(err)}`,
    );
    return Promise.resolve(1);
  }
}

/**
 * Replaces `<dataDir>/jim.db` with a checked copy of `source` (see the module comment).
 * Throws DataDirLockedError while a server runs on `dataDir`, CliError when `source` is not
 * fit to restore.
 */
export function restoreDatabase(
  dataDir: string,
  source: string,
  options: RestoreOptions = {},
): RestoreResult {
  dataDir = resolve(dataDir);
  const dbPath = databasePath({ dataDir });
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(source);
  } catch (err) {
    throw new CliError(`cannot read ${source}: ${errorText(err)}`);
  }
  if (!stat.isFile) throw new CliError(`${source} is not a file`);
  if (isSameFile(source, dbPath)) throw new CliError(`${source} is the database of ${dataDir} itself`);

  Deno.mkdirSync(dataDir, { recursive: true });
  const lock = acquireDataDirLock(dataDir);
  const tmp = join(dataDir, "jim.db.restore-tmp");
  const tmpFiles = [tmp, ...SIDE_SUFFIXES.map((s) => tmp + s)];
  try {
    removeIfExists(...tmpFiles); // left by an interrupted restore
    Deno.copyFileSync(source, tmp);
    // A WAL beside FILE holds its latest commits (say, a kept pre-restore database, or one whose
    // server crashed): it comes along and finalizeCopy checkpoints it into the copy.
    if (exists(source + "-wal")) Deno.copyFileSync(source + "-wal", tmp + "-wal");
    const info = finalizeCopy(tmp, source);

    const replaced = exists(dbPath);
    let keptAs: string | undefined;
    if (replaced && options.keep !== false) {
      keptAs = unusedName(`${dbPath}.before-restore-${timestamp(options.now ?? new Date())}`);
      try {
        Deno.linkSync(dbPath, keptAs);
      } catch {
        Deno.copyFileSync(dbPath, keptAs); // no hard links here
      }
      // Its WAL (and any rollback journal) belongs to it: keep the pair together.
      for (const suffix of ["-wal", "-journal"]) {
        if (exists(dbPath + suffix)) Deno.renameSync(dbPath + suffix, keptAs + suffix);
      }
    }
    removeIfExists(...SIDE_SUFFIXES.map((s) => dbPath + s));
    Deno.renameSync(tmp, dbPath);
    fsyncDir(dataDir);
    return { ...info, dbPath, replaced, keptAs };
  } finally {
    try {
      removeIfExists(...tmpFiles);
    } finally {
      lock.release();
    }
  }
}

function isSameFile(a: string, b: string): boolean {
  try {
    const sa = Deno.statSync(a);
    const sb = Deno.statSync(b);
    if (sa.ino !== null && sb.ino !== null) return sa.ino === sb.ino && sa.dev === sb.dev;
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}

/** 2025-01-02T03:04:05.678Z → 20250102T030405Z */
function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

function unusedName(path: string): string {
  let candidate = path;
  for (let i = 2; exists(candidate); i++) candidate = `${path}-${i}`;
  return candidate;
}
