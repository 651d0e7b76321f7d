/** Every prepared statement of the SQLite store, prepared once per connection. */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { GROUP_COLUMNS, MESSAGE_COLUMNS, selectText, USER_COLUMNS } from "./sqlite_rows.ts";

export type Statements = ReturnType<typeof prepareAll>;

export function prepareAll(db: DatabaseSync) {
  const p = (sql: string) => db.prepare(sql);
  return {
    begin: p("BEGIN IMMEDIATE"),
    commit: p("COMMIT"),
    rollback: p("ROLLBACK"),
    getUser: p(`SELECT ${USER_COLUMNS} FROM users u WHERE u.user_id = ? LIMIT 1`),
    createUser: p(
      `INSERT INTO users (user_id, password_hash, nick, avatar, created_at, disabled)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`,
    ),
    // NULL means "leave as is", so one statement serves every patch shape.
    updateUser: p(
      `UPDATE users SET password_hash = COALESCE(?, password_hash), nick = COALESCE(?, nick),
       avatar = COALESCE(?, avatar), disabled = COALESCE(?, disabled) WHERE user_id = ?`,
    ),
    listUsers: p(`SELECT ${USER_COLUMNS} FROM users u WHERE u.user_id > ? ORDER BY u.user_id LIMIT ?`),
    saveToken: p(
      `INSERT INTO tokens (token_hash, user_id, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (token_hash) DO UPDATE SET user_id = excluded.user_id, expires_at = excluded.expires_at`,
    ),
    findToken: p(
      `SELECT ${selectText("t.user_id")} FROM tokens t WHERE t.token_hash = ? AND t.expires_at > ? LIMIT 1`,
    ),
    deleteToken: p("DELETE FROM tokens WHERE token_hash = ?"),
    // Bounded by the expiry index: at most `limit` rows per call.
    purgeTokens: p(
      `DELETE FROM tokens WHERE token_hash IN
       (SELECT token_hash FROM tokens WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`,
    ),
    getGroup: p(`SELECT ${GROUP_COLUMNS} FROM chat_groups g WHERE g.group_id = ? LIMIT 1`),
    insertGroup: p(
      `INSERT INTO chat_groups (group_id, name, avatar, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id) DO NOTHING`,
    ),
    addMember: p(
      `INSERT INTO group_members (group_id, user_id, joined_at) VALUES (?, ?, ?)
       ON CONFLICT (group_id, user_id) DO NOTHING`,
    ),
    removeMember: p("DELETE FROM group_members WHERE group_id = ? AND user_id = ?"),
    isMember: p("SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ? LIMIT 1"),
    listMembers: p(
      `SELECT ${selectText("gm.user_id")} FROM group_members gm WHERE gm.group_id = ?
       ORDER BY gm.joined_at, gm.rowid LIMIT ?`,
    ),
    listUserGroups: p(
      `SELECT ${GROUP_COLUMNS} FROM group_members gm JOIN chat_groups g ON g.group_id = gm.group_id
       WHERE gm.user_id = ? ORDER BY gm.joined_at, gm.rowid LIMIT ?`,
    ),
    // The LIMIT applies to the groups before their members are counted (by the join-order index).
    listGroups: p(
      `SELECT ${GROUP_COLUMNS},
         (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.group_id) AS member_count
       FROM chat_groups g WHERE g.group_id > ? ORDER BY g.group_id LIMIT ?`,
    ),

    // ---- the append batch ----
    lastSeq: p("SELECT last_seq FROM conversations WHERE conv_key = ? LIMIT 1"),
    // Messages reference their conversation, so a new conversation's row comes first.
    newConversation: p(
      `INSERT INTO conversations (conv_key, last_seq, last_stored_at, last_row) VALUES (?, 0, 0, 0)
       ON CONFLICT (conv_key) DO NOTHING`,
    ),
    setLast: p("UPDATE conversations SET last_seq = ?, last_stored_at = ?, last_row = ? WHERE conv_key = ?"),
    findSent: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.from_user = ? AND m.msg_id = ? AND m.dup_of IS NULL LIMIT 1`,
    ),
    insertMessage: p(
      `INSERT INTO messages (conv_key, seq, msg_id, chat_type, from_user, to_user, group_id, msg_type,
       content, create_time, extras, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertFts: p("INSERT INTO messages_fts (rowid, content) VALUES (?, ?)"),
    insertOffline: p("INSERT INTO offline (user_id, message_row) VALUES (?, ?) ON CONFLICT DO NOTHING"),
    addUserConversation: p(
      "INSERT INTO user_conversations (user_id, conv_key, peer_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    ),
    raiseReadQuiet: p(
      `INSERT INTO read_state (user_id, conv_key, read_seq) VALUES (?, ?, ?)
       ON CONFLICT (user_id, conv_key) DO UPDATE SET read_seq = MAX(read_seq, excluded.read_seq)`,
    ),
    raiseRead: p(
      `INSERT INTO read_state (user_id, conv_key, read_seq) VALUES (?, ?, ?)
       ON CONFLICT (user_id, conv_key) DO UPDATE SET read_seq = MAX(read_seq, excluded.read_seq)
       RETURNING read_seq`,
    ),

    // ---- message queries ----
    getRead: p("SELECT read_seq FROM read_state WHERE user_id = ? AND conv_key = ? LIMIT 1"),
    history: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conv_key = ?
       ORDER BY m.create_time, m.seq LIMIT ? OFFSET ?`,
    ),
    historyRange: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conv_key = ? AND m.create_time BETWEEN ? AND ?
       ORDER BY m.create_time, m.seq LIMIT ? OFFSET ?`,
    ),
    seqAfter: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conv_key = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`,
    ),
    // Newest first here; the store reverses.
    seqBefore: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conv_key = ? AND m.seq > ? AND m.seq < ?
       ORDER BY m.seq DESC LIMIT ?`,
    ),
    bySeq: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conv_key = ? AND m.seq = ? LIMIT 1`),
    recall: p(
      `UPDATE messages SET recalled = 1, content = NULL, extras = NULL WHERE conv_key = ? AND seq = ?
       RETURNING row_id`,
    ),
    deleteFts: p("DELETE FROM messages_fts WHERE rowid = ?"),
    // A NULL filter parameter disables that condition; row_id breaks ties across conversations.
    offline: p(
      `SELECT ${MESSAGE_COLUMNS} FROM offline o JOIN messages m ON m.row_id = o.message_row
       WHERE o.user_id = :user
         AND (:from IS NULL OR (m.chat_type = 2 AND m.from_user = :from))
         AND (:group IS NULL OR (m.chat_type = 1 AND m.group_id = :group))
       ORDER BY m.create_time, m.seq, m.row_id LIMIT :limit`,
    ),
    deleteOffline: p("DELETE FROM offline WHERE user_id = ? AND message_row = ?"),
    countOffline: p("SELECT COUNT(*) AS n FROM offline WHERE user_id = ?"),
  } satisfies Record<string, StatementSync>;
}
