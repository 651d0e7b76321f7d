/**
 * Online backup of a jim SQLite database with SQLite's backup API (node:sqlite `backup`), all
 * pages in one step: one read transaction, so the copy is a consistent snapshot (every committed
 * transaction up to its start, nothing after), a self-contained database file that SqliteStore
 * opens as is. In WAL mode the writer keeps committing while the copy is made.
 * (`VACUUM INTO` would need ATTACH, which Deno allows only with --allow-all.)
 */
import { backup, DatabaseSync } from "node:sqlite";
import { schemaVersion } from "./sqlite_schema.ts";

/** Throws when `path` exists (as anything, even an empty file or a dangling link). */
function refuseExisting(path: string): void {
  try {
    Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  throw new Deno.errors.AlreadyExists(`backup target already exists: ${path}`);
}

/**
 * Copies the database behind `db` into the new file `outPath`. The connection must not be inside
 * a transaction. Refuses an existing `outPath`; removes a partial copy when the copy fails.
 */
export async function copyDatabase(db: DatabaseSync, outPath: string): Promise<void> {
  refuseExisting(outPath);
  try {
    // rate -1: every page in one step, so a concurrent writer cannot restart the copy forever.
    await backup(db, outPath, { rate: -1 });
  } catch (err) {
    try {
      Deno.removeSync(outPath);
    } catch {
      // Nothing was written, or it cannot be removed: the copy error is what matters.
    }
    throw err;
  }
}

/**
 * Backs up the jim database file `dbPath` (which a running server may be using) to the new file
 * `outPath`, through a separate read-only connection: for a CLI process next to a live server.
 * Refuses a file that is not a jim database (schema version 0), never migrates or writes it.
 */
export async function backupDatabaseFile(
  dbPath: string,
  outPath: string,
  busyTimeoutMs = 5000,
): Promise<void> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    if (schemaVersion(db) === 0) throw new Error(`not a jim database: ${dbPath}`);
    await copyDatabase(db, outPath);
  } finally {
    db.close();
  }
}
