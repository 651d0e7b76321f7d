/**
 * The default Store: one node:sqlite connection in WAL mode. Messages are group-committed:
 * appendMessage queues, and one `BEGIN IMMEDIATE … COMMIT` writes the whole batch (see
 * sqlite_batch.ts), so many concurrent senders share one fsync. Everything else runs as single
 * autocommit statements or one short transaction; since node:sqlite is synchronous and a batch
 * runs in one go, nothing interleaves inside a batch or transaction. Statements, multi-table
 * queries, schema and backup live in the sibling sqlite_*.ts files.
 */
import { DatabaseSync } from "node:sqlite";
import type {
  AppendResult,
  Conversation,
  ConversationSummary,
  GroupBan,
  GroupInvite,
  GroupRecord,
  GroupSettings,
  MemberRecord,
  NewMessage,
  OfflineFilter,
  RetentionPolicy,
  SearchQuery,
  SeqQuery,
  Store,
  StoredMessage,
  TimeRangeQuery,
  UserRecord,
} from "../store.ts";
import { configure, migrate } from "./sqlite_schema.ts";
import {
  clampCount,
  conversationKey,
  type MessageParams,
  seqBound,
  toGroup,
  toMessage,
  toParams,
  toText,
  toUser,
} from "./sqlite_rows.ts";
import { prepareAll, type Statements } from "./sqlite_statements.ts";
import {
  listConversations,
  prepareQueries,
  prune,
  type Queries,
  readCounts,
  search,
} from "./sqlite_queries.ts";
import { type BatchItem, writeBatch, type WrittenBatch } from "./sqlite_batch.ts";
import { copyDatabase } from "./sqlite_backup.ts";
import * as groups from "./sqlite_groups.ts";
import { Histogram, type HistogramSnapshot } from "../../metrics/histogram.ts";

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

interface Pending extends BatchItem {
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #s: Statements;
  readonly #q: Queries;
  readonly #g: groups.GroupStatements;
  readonly #commitIntervalMs: number;
  readonly #maxBatch: number;
  readonly #beforeCommit?: (batchSize: number) => void;
  /** last_seq per conversation as committed; loaded lazily, dropped when a batch fails. */
  readonly #lastSeq = new Map<string, number>();
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Seconds per group commit (BEGIN … COMMIT), for /metrics. */
  readonly #commitLatency = new Histogram();

  private constructor(db: DatabaseSync, options: SqliteStoreOptions) {
    this.#db = db;
    this.#s = prepareAll(db);
    this.#q = prepareQueries(db);
    this.#g = groups.prepareGroupStatements(db);
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

  purgeExpiredTokens(now: number, limit: number): Promise<number> {
    return this.#run(() => Number(this.#s.purgeTokens.run(now, clampCount(limit)).changes));
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
    return this.#run(() => this.#transaction(() => groups.removeMember(this.#g, groupId, userId)));
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

  listGroups(afterGroupId: string, limit: number): Promise<(GroupRecord & { memberCount: number })[]> {
    return this.#run(() =>
      this.#s.listGroups.all(afterGroupId, clampCount(limit)).map((r) => ({
        ...toGroup(r),
        memberCount: r.member_count as number,
      }))
    );
  }

  // ---- group permissions (sqlite_groups.ts) ----

  createGroup(group: GroupRecord, settings: GroupSettings): Promise<boolean> {
    return this.#run(() => this.#transaction(() => groups.createGroup(this.#g, group, settings)));
  }

  getGroupSettings(groupId: string): Promise<GroupSettings | undefined> {
    return this.#run(() => groups.getSettings(this.#g, groupId));
  }

  getMember(groupId: string, userId: string): Promise<MemberRecord | undefined> {
    return this.#run(() => groups.getMember(this.#g, groupId, userId));
  }

  listMemberRecords(groupId: string, limit: number): Promise<MemberRecord[]> {
    return this.#run(() => groups.listMembers(this.#g, groupId, limit));
  }

  setMemberRole(groupId: string, userId: string, role: "admin" | "member"): Promise<boolean> {
    return this.#run(() => groups.setRole(this.#g, groupId, userId, role));
  }

  setGroupOwner(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => this.#transaction(() => groups.setOwner(this.#g, groupId, userId)));
  }

  setMutedUntil(groupId: string, userId: string, mutedUntil: number): Promise<boolean> {
    return this.#run(() => groups.setMuted(this.#g, groupId, userId, mutedUntil));
  }

  banUser(ban: GroupBan): Promise<boolean> {
    return this.#run(() => this.#transaction(() => groups.ban(this.#g, ban)));
  }

  unbanUser(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => groups.unban(this.#g, groupId, userId));
  }

  getBan(groupId: string, userId: string): Promise<GroupBan | undefined> {
    return this.#run(() => groups.getBan(this.#g, groupId, userId));
  }

  listBans(groupId: string, limit: number): Promise<GroupBan[]> {
    return this.#run(() => groups.listBans(this.#g, groupId, limit));
  }

  addInvite(invite: GroupInvite): Promise<boolean> {
    return this.#run(() => groups.addInvite(this.#g, invite));
  }

  removeInvite(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => groups.removeInvite(this.#g, groupId, userId));
  }

  listInvites(of: { groupId: string } | { userId: string }, limit: number): Promise<GroupInvite[]> {
    return this.#run(() => groups.listInvites(this.#g, of, limit));
  }

  /** Commits pending appends first, so none of the group's messages lands after the delete. */
  deleteGroup(groupId: string): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    this.#flush();
    return this.#run(() => this.#transaction(() => groups.deleteGroup(this.#g, groupId)));
  }

  // ---- messages ----

  appendMessage(message: NewMessage, offlineRecipients: readonly string[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    let params: MessageParams;
    try {
      params = toParams(message);
    } catch (err) {
      return Promise.reject(err);
    }
    const recipients = [...new Set(offlineRecipients)];
    return new Promise<AppendResult>((resolve, reject) => {
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
    let written: WrittenBatch;
    const started = performance.now();
    try {
      s.begin.run();
      written = writeBatch(s, batch, Date.now(), (key) => this.#lastSeq.get(key));
      this.#beforeCommit?.(batch.length);
      s.commit.run();
      this.#commitLatency.observe((performance.now() - started) / 1000);
    } catch (err) {
      this.#rollbackQuietly();
      // The cache may be ahead of the disk now; reload from the table next time.
      for (const p of batch) this.#lastSeq.delete(p.params.convKey);
      for (const p of batch) p.reject(err);
      return;
    }
    for (const [key, last] of written.lastSeqs) this.#lastSeq.set(key, last);
    batch.forEach((p, i) => p.resolve(written.results[i]));
  }

  #rollbackQuietly(): void {
    try {
      if (this.#db.isOpen && this.#db.isTransaction) this.#s.rollback.run();
    } catch {
      // The original error is what callers need to see.
    }
  }

  /** Runs `fn` in a write transaction (node:sqlite is synchronous: nothing interleaves). */
  #transaction<T>(fn: () => T): T {
    this.#s.begin.run();
    try {
      const out = fn();
      this.#s.commit.run();
      return out;
    } catch (err) {
      this.#rollbackQuietly();
      throw err;
    }
  }

  /** Committed last seq: the cache, else the table (appends still in a batch do not count). */
  #committedLastSeq(key: string): number {
    return this.#lastSeq.get(key) ?? (this.#s.lastSeq.get(key)?.last_seq as number | undefined) ?? 0;
  }

  findSentMessage(fromUserId: string, id: string): Promise<StoredMessage | undefined> {
    return this.#run(() => {
      const row = this.#s.findSent.get(fromUserId, id);
      return row ? toMessage(row) : undefined;
    });
  }

  messagesBySeq(conversation: Conversation, q: SeqQuery): Promise<StoredMessage[]> {
    return this.#run(() => {
      const key = conversationKey(conversation);
      const limit = clampCount(q.limit);
      const after = seqBound(q.afterSeq, 0);
      if (limit === 0) return [];
      if (q.beforeSeq === undefined) return this.#s.seqAfter.all(key, after, limit).map(toMessage);
      const before = seqBound(q.beforeSeq, 0);
      return this.#s.seqBefore.all(key, after, before, limit).map(toMessage).reverse();
    });
  }

  lastSeq(conversation: Conversation): Promise<number> {
    return this.#run(() => this.#committedLastSeq(conversationKey(conversation)));
  }

  listConversations(userId: string, limit: number): Promise<ConversationSummary[]> {
    return this.#run(() => listConversations(this.#q, userId, limit));
  }

  markRead(userId: string, conversation: Conversation, seq: number): Promise<number> {
    return this.#run(() => {
      const key = conversationKey(conversation);
      const target = Math.min(seqBound(seq, 0), this.#committedLastSeq(key));
      if (target <= 0) return (this.#s.getRead.get(userId, key)?.read_seq as number | undefined) ?? 0;
      return this.#s.raiseRead.get(userId, key, target)!.read_seq as number;
    });
  }

  getReadSeq(userId: string, conversation: Conversation): Promise<number> {
    return this.#run(() =>
      (this.#s.getRead.get(userId, conversationKey(conversation))?.read_seq as number | undefined) ?? 0
    );
  }

  readCounts(conversation: Conversation, seqs: readonly number[]): Promise<Map<number, number>> {
    return this.#run(() => readCounts(this.#q, conversationKey(conversation), seqs));
  }

  recallMessage(conversation: Conversation, seq: number): Promise<StoredMessage | undefined> {
    if (!Number.isSafeInteger(seq)) return this.#run(() => undefined);
    return this.#run(() =>
      this.#transaction(() => {
        const key = conversationKey(conversation);
        const hit = this.#s.recall.get(key, seq);
        if (!hit) return undefined;
        this.#s.deleteFts.run(hit.row_id as number);
        return toMessage(this.#s.bySeq.get(key, seq)!);
      })
    );
  }

  search(userId: string, query: SearchQuery): Promise<StoredMessage[]> {
    return this.#run(() => search(this.#q, userId, query));
  }

  pruneMessages(policy: RetentionPolicy, batchLimit: number): Promise<number> {
    return this.#run(() => {
      const n = clampCount(batchLimit);
      if (n === 0) return 0;
      return this.#transaction(() => prune(this.#q, policy, n));
    });
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
      return this.#transaction(() => {
        const rows = this.#s.offline.all({
          user: userId,
          from: filter.fromUserId ?? null,
          group: filter.groupId ?? null,
          limit: n,
        });
        for (const r of rows) this.#s.deleteOffline.run(userId, r.row_id as number);
        return rows.map(toMessage);
      });
    });
  }

  countOffline(userId: string): Promise<number> {
    return this.#run(() => this.#s.countOffline.get(userId)!.n as number);
  }

  /**
   * Commits the pending batch, then copies the database with SQLite's backup API from this
   * connection (so ":memory:" stores work too). Refuses an existing `path`. Appends made
   * meanwhile wait for the next batch; for a live server's file from another process, see
   * backupDatabaseFile.
   */
  async backup(path: string): Promise<void> {
    this.#check();
    this.#flush();
    await copyDatabase(this.#db, path);
  }

  commitLatency(): Promise<HistogramSnapshot> {
    return Promise.resolve(this.#commitLatency.snapshot());
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
