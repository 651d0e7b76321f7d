/** SQLite store helpers for tests: a store in a fresh temp dir, reopened from its path. */
import { SqliteStore, type SqliteStoreOptions } from "../src/store/sqlite/sqlite_store.ts";

export interface TempSqlite {
  store: SqliteStore;
  dir: string;
  /** The database file. */
  path: string;
  /** Opens another store on the same file (close the first one before, unless testing sharing). */
  reopen(options?: Omit<SqliteStoreOptions, "path">): SqliteStore;
  /** Closes `store` (if open) and removes the directory. */
  cleanup(): Promise<void>;
}

export async function tempSqlite(options: Omit<SqliteStoreOptions, "path"> = {}): Promise<TempSqlite> {
  const dir = await Deno.makeTempDir({ prefix: "jim_store_test_" });
  const path = `${dir}/jim.db`;
  const store = SqliteStore.open({ path, ...options });
  return {
    store,
    dir,
    path,
    reopen: (more = {}) => SqliteStore.open({ path, ...more }),
    cleanup: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Opens a backup (or any jim database file) as a store. */
export function openSqlite(path: string): Promise<SqliteStore> {
  return Promise.resolve(SqliteStore.open({ path }));
}
