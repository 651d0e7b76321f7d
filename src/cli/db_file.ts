/**
 * What `jim backup` and `jim restore` share: turning a private copy of a database into one
 * self-contained, synced file and checking that it is a sound jim database; small file helpers.
 */
import { DatabaseSync } from "node:sqlite";
import { migrate, SCHEMA_VERSION, schemaVersion } from "../store/sqlite/sqlite_schema.ts";

/** Where a command writes: stdout for its result line, stderr for errors. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const CONSOLE_IO: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** A failure with a message meant for the user (exit code 1). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

export interface DatabaseInfo {
  schemaVersion: number;
  bytes: number;
  /** Undefined when the count failed (never expected for a database that passed the checks). */
  messages?: number;
  users?: number;
}

/** SQLite's companions of a database file, which belong to it and to no other. */
export const SIDE_SUFFIXES = ["-wal", "-shm", "-journal"] as const;

/**
 * Makes the database file at `path` (a private copy nobody else opens) self-contained: any WAL
 * beside it is checkpointed into it and the file is switched to a rollback journal (jim turns WAL
 * back on when it opens it). Then checks it (see checkJimDatabase) and fsyncs it.
 * Throws CliError saying what is wrong.
 */
export function finalizeCopy(path: string, label: string): DatabaseInfo {
  let info: Omit<DatabaseInfo, "bytes">;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = DELETE");
  } catch (err) {
    db?.close();
    throw new CliError(`${label} is not a readable SQLite database: ${errorText(err)}`);
  }
  try {
    info = checkJimDatabase(db, label);
  } finally {
    db.close();
  }
  removeIfExists(...SIDE_SUFFIXES.map((s) => path + s));
  fsyncFile(path);
  return { ...info, bytes: Deno.statSync(path).size };
}

/**
 * A jim database: `PRAGMA integrity_check` is ok, the schema version is one this jim knows
 * (1..SCHEMA_VERSION; an older one is upgraded at the next start) and every table that version
 * has is there. Throws CliError otherwise.
 */
export function checkJimDatabase(db: DatabaseSync, label: string): Omit<DatabaseInfo, "bytes"> {
  let problems: string[];
  try {
    problems = db.prepare("PRAGMA integrity_check(20)").all().map((r) => String(r.integrity_check));
  } catch (err) {
    throw new CliError(`${label} is not a readable SQLite database: ${errorText(err)}`);
  }
  if (problems.length !== 1 || problems[0] !== "ok") {
    throw new CliError(`${label} failed PRAGMA integrity_check:\n  ${problems.join("\n  ")}`);
  }
  const version = schemaVersion(db);
  if (version === 0) throw new CliError(`${label} is not a jim database (PRAGMA user_version is 0)`);
  if (version > SCHEMA_VERSION) {
    throw new CliError(
      `${label} has schema version ${version}, newer than this jim supports (${SCHEMA_VERSION}); ` +
        "use a newer jim",
    );
  }
  const reference = referenceSchema(version);
  const present = tablesOf(db);
  const missing = [...tablesOf(reference)].filter((t) => !present.has(t));
  reference.close();
  if (missing.length > 0) {
    throw new CliError(
      `${label} is not a jim database: schema version ${version} but missing table(s) ${missing.join(", ")}`,
    );
  }
  return { schemaVersion: version, messages: count(db, "messages"), users: count(db, "users") };
}

/** An empty in-memory database at schema `version`, for the list of tables it must have. */
function referenceSchema(version: number): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  migrate(db, version);
  return db;
}

function tablesOf(db: DatabaseSync): Set<string> {
  const rows = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  ).all();
  return new Set(rows.map((r) => String(r.name)));
}

function count(db: DatabaseSync, table: string): number | undefined {
  try {
    return Number(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.n);
  } catch {
    return undefined;
  }
}

/** "1,234 messages, 56 users" (what is known). */
export function describeCounts(info: DatabaseInfo): string {
  const parts: string[] = [];
  if (info.messages !== undefined) parts.push(`${info.messages} message${info.messages === 1 ? "" : "s"}`);
  if (info.users !== undefined) parts.push(`${info.users} user${info.users === 1 ? "" : "s"}`);
  return parts.join(", ");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) [value, i] = [value / 1024, i + 1];
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

/** True when anything (even a dangling symlink) is at `path`. */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

export function removeIfExists(...paths: string[]): void {
  for (const path of paths) {
    try {
      Deno.removeSync(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}

export function fsyncFile(path: string): void {
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    file.syncSync();
  } finally {
    file.close();
  }
}

/** Makes a rename or link in `dir` durable. Best effort: not every platform can sync a directory. */
export function fsyncDir(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch {
    // Windows cannot open a directory; the rename itself is atomic there too.
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
