/**
 * The default Store: one node:sqlite connection in WAL mode. Messages are group-committed:
 * appendMessage queues, and one `BEGIN IMMEDIATE … COMMIT` writes the whole batch, so many
 * concurrent senders share one fsync. Everything else runs as single autocommit statements; since
 * node:sqlite is synchronous and a batch runs in one go, nothing interleaves inside a batch.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type {
  Conversation,
  GroupRecord,
  NewMessage,
  OfflineFilter,
  Store,
  StoredMessage,
  TimeRangeQuery,
  UserRecord,
} from "../store.ts";
import { configure, migrate } from "./sqlite_schema.ts";
import {
  clampCount,
  conversationKey,
  GROUP_COLUMNS,
  MESSAGE_COLUMNS,
  type MessageParams,
  paramsToMessage,
  selectText,
  toGroup,
  toMessage,
  toParams,
  toText,
  toUser,
  USER_COLUMNS,
} from "./sqlite_rows.ts";

/** listUserGroups has no limit parameter; this keeps the query bounded anyway. */
export const MAX_USER_GROUPS = 10_000;

export interface SqliteStoreOptions {
  /** File path, or ":memory:". */
  path: string;
  /** How long the first message of a batch waits for company before the commit. Default 2. */
  commitIntervalMs?: number;
  /** A batch this large commits at once. Default 512. */
  maxBatch?: number;
  /** Tests only: runs inside the batch transaction just before COMMIT; throwing fails the batch. */
  beforeCommit?: (batchSize: number) => void;
}

interface Pending {
  params: MessageParams;
  recipients: readonly string[];
  resolve: (m: StoredMessage) => void;
  reject: (e: unknown) => void;
}

function prepareAll(db: DatabaseSync) {
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
    lastSeq: p("SELECT last_seq FROM conversations WHERE conv_key = ? LIMIT 1"),
    setLastSeq: p(
      `INSERT INTO conversations (conv_key, last_seq) VALUES (?, ?)
       ON CONFLICT (conv_key) DO UPDATE SET last_seq = excluded.last_seq`,
    ),
    insertMessage: p(
      `INSERT INTO messages (conv_key, seq, msg_id, chat_type, from_user, to_user, group_id, msg_type,
       content, create_time, extras) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertOffline: p(
      "INSERT INTO offline (user_id, message_row) VALUES (?, ?) ON CONFLICT DO NOTHING",
    ),
    history: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conv_key = ?
       ORDER BY m.create_time, m.seq LIMIT ? OFFSET ?`,
    ),
    historyRange: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.conv_key = ? AND m.create_time BETWEEN ? AND ?
       ORDER BY m.create_time, m.seq LIMIT ? OFFSET ?`,
    ),
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

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #s: ReturnType<typeof prepareAll>;
  readonly #commitIntervalMs: number;
  readonly #maxBatch: number;
  readonly #beforeCommit?: (batchSize: number) => void;
  /** last_seq per conversation as committed; loaded lazily, dropped when a batch fails. */
  readonly #lastSeq = new Map<string, number>();
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  private constructor(db: DatabaseSync, options: SqliteStoreOptions) {
    this.#db = db;
    this.#s = prepareAll(db);
    this.#commitIntervalMs = Math.max(0, options.commitIntervalMs ?? 2);
    this.#maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 512));
    this.#beforeCommit = options.beforeCommit;
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    const db = new DatabaseSync(options.path);
    try {
      configure(db);
      migrate(db);
      return new SqliteStore(db, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  #check(): void {
    if (this.#closed) throw new Error("store is closed");
  }

  // ---- accounts ----

  getUser(userId: string): Promise<UserRecord | undefined> {
    return this.#run(() => {
      const row = this.#s.getUser.get(userId);
      return row ? toUser(row) : undefined;
    });
  }

  createUser(u: UserRecord): Promise<boolean> {
    return this.#run(() =>
      this.#s.createUser.run(u.userId, u.passwordHash, u.nick, u.avatar, u.createdAt, u.disabled ? 1 : 0)
        .changes === 1
    );
  }

  updateUser(userId: string, patch: Partial<Omit<UserRecord, "userId" | "createdAt">>): Promise<boolean> {
    return this.#run(() => {
      const disabled = patch.disabled === undefined ? null : patch.disabled ? 1 : 0;
      const r = this.#s.updateUser.run(
        patch.passwordHash ?? null,
        patch.nick ?? null,
        patch.avatar ?? null,
        disabled,
        userId,
      );
      return r.changes > 0;
    });
  }

  listUsers(afterUserId: string, limit: number): Promise<UserRecord[]> {
    return this.#run(() => this.#s.listUsers.all(afterUserId, clampCount(limit)).map(toUser));
  }

  // ---- tokens ----

  saveToken(tokenHash: string, userId: string, expiresAt: number): Promise<void> {
    return this.#run(() => {
      this.#s.saveToken.run(tokenHash, userId, expiresAt);
    });
  }

  findTokenUser(tokenHash: string, now: number): Promise<string | undefined> {
    return this.#run(() => {
      const row = this.#s.findToken.get(tokenHash, now);
      return row ? toText(row.user_id) : undefined;
    });
  }

  deleteToken(tokenHash: string): Promise<void> {
    return this.#run(() => {
      this.#s.deleteToken.run(tokenHash);
    });
  }

  // ---- groups ----

  getGroup(groupId: string): Promise<GroupRecord | undefined> {
    return this.#run(() => {
      const row = this.#s.getGroup.get(groupId);
      return row ? toGroup(row) : undefined;
    });
  }

  ensureGroup(g: GroupRecord): Promise<GroupRecord> {
    return this.#run(() => {
      this.#s.insertGroup.run(g.groupId, g.name, g.avatar, g.createdAt);
      return toGroup(this.#s.getGroup.get(g.groupId)!);
    });
  }

  /** Rejects (foreign key) when the group does not exist: call ensureGroup first. */
  addMember(groupId: string, userId: string, joinedAt: number): Promise<boolean> {
    return this.#run(() => this.#s.addMember.run(groupId, userId, joinedAt).changes === 1);
  }

  removeMember(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => this.#s.removeMember.run(groupId, userId).changes > 0);
  }

  isMember(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => this.#s.isMember.get(groupId, userId) !== undefined);
  }

  listMembers(groupId: string, limit: number): Promise<string[]> {
    return this.#run(() => this.#s.listMembers.all(groupId, clampCount(limit)).map((r) => toText(r.user_id)));
  }

  listUserGroups(userId: string): Promise<GroupRecord[]> {
    return this.#run(() => this.#s.listUserGroups.all(userId, MAX_USER_GROUPS).map(toGroup));
  }

  // ---- messages ----

  appendMessage(message: NewMessage, offlineRecipients: readonly string[]): Promise<StoredMessage> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    let params: MessageParams;
    try {
      params = toParams(message);
    } catch (err) {
      return Promise.reject(err);
    }
    const recipients = [...new Set(offlineRecipients)];
    return new Promise<StoredMessage>((resolve, reject) => {
      // Pushed synchronously, so batch order (and thus seq order) is call order.
      this.#pending.push({ params, recipients, resolve, reject });
      if (this.#pending.length >= this.#maxBatch) {
        this.#flush();
      } else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#flush(), this.#commitIntervalMs);
      }
    });
  }

  /** Writes the pending batch in one transaction, then settles every caller of that batch. */
  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const s = this.#s;
    const touched = new Map<string, number>();
    const stored: StoredMessage[] = [];
    try {
      s.begin.run();
      // Seqs are assigned here, in batch order, from committed last_seq values.
      const seqs = batch.map(({ params: { convKey } }) => {
        let last = touched.get(convKey) ?? this.#lastSeq.get(convKey);
        if (last === undefined) last = (s.lastSeq.get(convKey)?.last_seq as number | undefined) ?? 0;
        touched.set(convKey, last + 1);
        return last + 1;
      });
      // Conversation rows first: messages reference them.
      for (const [key, last] of touched) s.setLastSeq.run(key, last);
      batch.forEach(({ params: p, recipients }, i) => {
        const row = s.insertMessage.run(
          p.convKey,
          seqs[i],
          p.msgId,
          p.chatType,
          p.from,
          p.to,
          p.groupId,
          p.msgType,
          p.content,
          p.createTime,
          p.extras,
        ).lastInsertRowid;
        for (const user of recipients) s.insertOffline.run(user, row);
        stored.push(paramsToMessage(p, seqs[i]));
      });
      this.#beforeCommit?.(batch.length);
      s.commit.run();
    } catch (err) {
      this.#rollbackQuietly();
      // The cache may be ahead of the disk now; reload from the table next time.
      for (const key of touched.keys()) this.#lastSeq.delete(key);
      for (const p of batch) p.reject(err);
      return;
    }
    for (const [key, last] of touched) this.#lastSeq.set(key, last);
    batch.forEach((p, i) => p.resolve(stored[i]));
  }

  #rollbackQuietly(): void {
    try {
      if (this.#db.isOpen && this.#db.isTransaction) this.#s.rollback.run();
    } catch {
      // The original error is what callers need to see.
    }
  }

  history(conversation: Conversation, q: TimeRangeQuery): Promise<StoredMessage[]> {
    return this.#run(() => {
      const key = conversationKey(conversation);
      const limit = clampCount(q.limit);
      const offset = clampCount(q.offset);
      if (limit === 0) return [];
      const rows = q.beginTime !== undefined && q.endTime !== undefined
        ? this.#s.historyRange.all(key, q.beginTime, q.endTime, limit, offset)
        : this.#s.history.all(key, limit, offset);
      return rows.map(toMessage);
    });
  }

  takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]> {
    return this.#run(() => {
      const n = clampCount(limit);
      if (n === 0) return [];
      const s = this.#s;
      s.begin.run();
      try {
        const rows = s.offline.all({
          user: userId,
          from: filter.fromUserId ?? null,
          group: filter.groupId ?? null,
          limit: n,
        });
        for (const r of rows) s.deleteOffline.run(userId, r.row_id as number);
        s.commit.run();
        return rows.map(toMessage);
      } catch (err) {
        this.#rollbackQuietly();
        throw err;
      }
    });
  }

  countOffline(userId: string): Promise<number> {
    return this.#run(() => this.#s.countOffline.get(userId)!.n as number);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#flush();
    this.#closed = true;
    this.#lastSeq.clear();
    this.#db.close();
    return Promise.resolve();
  }

  /** Runs a synchronous query as a promise; throws (rejects) after close. */
  #run<T>(fn: () => T): Promise<T> {
    try {
      this.#check();
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
