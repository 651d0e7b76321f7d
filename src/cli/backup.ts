/**
 * `jim backup FILE`: a consistent copy of the live database, made while the server keeps running.
 *
 * The copy is backupDatabaseFile's (store/sqlite/sqlite_backup.ts): SQLite's online backup from a
 * separate read-only connection, every page in one step, i.e. one read transaction. So the copy is
 * the database as of one commit, and in WAL mode the server's writers never wait for it.
 *
 * The copy goes to a temporary file beside FILE, is made self-contained (no -wal), checked
 * (integrity_check, schema version, tables) and fsynced, and only then appears as FILE — never
 * replacing an existing file.
 */
import { basename, dirname, join, resolve } from "node:path";
import { databasePath } from "../app.ts";
import type { JimConfig } from "../config/schema.ts";
import { backupDatabaseFile } from "../store/sqlite/sqlite_backup.ts";
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

export const BACKUP_USAGE = "usage: jim backup FILE [--data-dir DIR]";

/** Runs `jim backup` with the positionals after "backup". Exit code: 0 ok, 1 failed, 2 usage. */
export async function runBackup(
  config: JimConfig,
  args: readonly string[],
  io: CliIo = CONSOLE_IO,
): Promise<number> {
  if (args.length !== 1 || args[0].startsWith("-") || args[0] === "") {
    io.err(BACKUP_USAGE);
    return 2;
  }
  const out = resolve(args[0]);
  try {
    const info = await backupDatabase(databasePath(config), out);
    const counts = describeCounts(info);
    io.out(
      `backup ok: ${out} (${formatBytes(info.bytes)}${counts ? `, ${counts}` : ""}, ` +
        `schema v${info.schemaVersion})`,
    );
    return 0;
  } catch (err) {
    io.err(`jim backup: ${errorText(err)}`);
    return 1;
  }
}

/**
 * Copies the jim database `dbPath` (in use by a server or not) to the new file `outPath`.
 * Throws CliError when `outPath` exists, `dbPath` is missing or the copy fails its checks.
 */
export async function backupDatabase(dbPath: string, outPath: string): Promise<DatabaseInfo> {
  if (exists(outPath)) throw new CliError(`${outPath} already exists; refusing to overwrite it`);
  if (!exists(dbPath)) throw new CliError(`no database at ${dbPath} (is --data-dir right?)`);
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${Deno.pid}.tmp`);
  const tmpFiles = [tmp, ...SIDE_SUFFIXES.map((s) => tmp + s)];
  removeIfExists(...tmpFiles);
  try {
    await backupDatabaseFile(dbPath, tmp, 10_000);
    const info = finalizeCopy(tmp, `the copy of ${dbPath}`);
    publish(tmp, outPath);
    fsyncDir(dirname(outPath));
    return info;
  } finally {
    removeIfExists(...tmpFiles);
  }
}

/** Gives `tmp` the name `outPath`, failing rather than replacing a file that appeared meanwhile. */
function publish(tmp: string, outPath: string): void {
  try {
    Deno.linkSync(tmp, outPath); // fails if outPath exists
    return;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new CliError(`${outPath} already exists; refusing to overwrite it`);
    }
    // No hard links on this filesystem: check, then rename (the window is tiny).
  }
  if (exists(outPath)) throw new CliError(`${outPath} already exists; refusing to overwrite it`);
  Deno.renameSync(tmp, outPath);
}
