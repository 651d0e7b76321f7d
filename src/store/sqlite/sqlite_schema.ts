/**
 * Connection settings and forward-only schema migrations for the SQLite store.
 * The schema version lives in `PRAGMA user_version`; migration i moves the schema from version i
 * to i + 1 inside one transaction, so a crash mid-migration leaves the previous version intact.
 */
import type { DatabaseSync } from "node:sqlite";

const V1 = `
CREATE TABLE users (
  user_id TEXT PRIMARY KEY NOT NULL,
  password_hash TEXT NOT NULL,
  nick TEXT NOT NULL,
  avatar TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX tokens_by_expiry ON tokens (expires_at);

-- "groups" is an SQL keyword (window frames), hence chat_groups.
CREATE TABLE chat_groups (
  group_id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  avatar TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Keeps its rowid: join order is (joined_at, rowid).
CREATE TABLE group_members (
  group_id TEXT NOT NULL REFERENCES chat_groups (group_id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_join ON group_members (group_id, joined_at);
CREATE INDEX group_members_by_user ON group_members (user_id, joined_at);

CREATE TABLE conversations (
  conv_key TEXT PRIMARY KEY NOT NULL,
  last_seq INTEGER NOT NULL
);

CREATE TABLE messages (
  row_id INTEGER PRIMARY KEY,
  conv_key TEXT NOT NULL REFERENCES conversations (conv_key),
  seq INTEGER NOT NULL,
  msg_id TEXT NOT NULL,
  chat_type INTEGER NOT NULL CHECK (chat_type IN (1, 2)),
  from_user TEXT NOT NULL,
  to_user TEXT,
  group_id TEXT,
  msg_type INTEGER,
  content TEXT,
  create_time INTEGER NOT NULL,
  extras TEXT,
  UNIQUE (conv_key, seq)
);
CREATE INDEX messages_by_time ON messages (conv_key, create_time, seq);

CREATE TABLE offline (
  user_id TEXT NOT NULL,
  message_row INTEGER NOT NULL REFERENCES messages (row_id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, message_row)
) WITHOUT ROWID;
-- Lets a future message purge cascade without scanning the whole queue.
CREATE INDEX offline_by_message ON offline (message_row);
`;

/** MIGRATIONS[i] upgrades version i to version i + 1. Append only; never edit a shipped entry. */
const MIGRATIONS: readonly ((db: DatabaseSync) => void)[] = [
  (db) => db.exec(V1),
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the connection pragmas. Must run outside any transaction. */
export function configure(db: DatabaseSync, busyTimeoutMs = 5000): void {
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
}

export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get();
  return Number(row?.user_version ?? 0);
}

/** Brings the database up to SCHEMA_VERSION; refuses a database written by a newer jim. */
export function migrate(db: DatabaseSync): void {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this jim supports (${SCHEMA_VERSION})`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      MIGRATIONS[v](db);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw err;
    }
  }
}
