/**
 * A Store in plain Maps, for unit tests. Same semantics as SqliteStore (same contract suite),
 * including its orderings; copies go in and out so callers never share state with the store.
 * Message operations live in memory_messages.ts, the backup format in memory_backup.ts.
 *
 * Differences from SQLite, outside the contract: search matches words as search_text.ts
 * describes (no diacritic folding); `backup` writes a JSON snapshot (not a database file), which
 * MemoryStore.openBackup reads back.
 */
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
import {
  byJoin,
  byTime,
  clampCount,
  compareCodePoints,
  conversationKey,
  emptyState,
  type MemoryState,
  sentKey,
} from "./memory_state.ts";
import * as messages from "./memory_messages.ts";
import * as groups from "./memory_groups.ts";
import { parseState, serializeState } from "./memory_backup.ts";

/** Same cap as SqliteStore: listUserGroups has no limit parameter. */
export const MAX_USER_GROUPS = 10_000;

export class MemoryStore implements Store {
  readonly #st: MemoryState;
  #closed = false;

  constructor(state: MemoryState = emptyState()) {
    this.#st = state;
  }

  /** A new store holding the state saved by `backup(path)`. */
  static async openBackup(path: string): Promise<MemoryStore> {
    return new MemoryStore(parseState(await Deno.readTextFile(path)));
  }

  #check(): void {
    if (this.#closed) throw new Error("store is closed");
  }

  // ---- accounts ----

  getUser(userId: string): Promise<UserRecord | undefined> {
    return this.#run(() => {
      const u = this.#st.users.get(userId);
      return u && { ...u };
    });
  }

  createUser(user: UserRecord): Promise<boolean> {
    return this.#run(() => {
      if (this.#st.users.has(user.userId)) return false;
      this.#st.users.set(user.userId, { ...user });
      return true;
    });
  }

  updateUser(userId: string, patch: Partial<Omit<UserRecord, "userId" | "createdAt">>): Promise<boolean> {
    return this.#run(() => {
      const u = this.#st.users.get(userId);
      if (!u) return false;
      if (patch.passwordHash !== undefined) u.passwordHash = patch.passwordHash;
      if (patch.nick !== undefined) u.nick = patch.nick;
      if (patch.avatar !== undefined) u.avatar = patch.avatar;
      if (patch.disabled !== undefined) u.disabled = patch.disabled;
      return true;
    });
  }

  listUsers(afterUserId: string, limit: number): Promise<UserRecord[]> {
    return this.#run(() =>
      [...this.#st.users.values()]
        .filter((u) => compareCodePoints(u.userId, afterUserId) > 0)
        .sort((a, b) => compareCodePoints(a.userId, b.userId))
        .slice(0, clampCount(limit))
        .map((u) => ({ ...u }))
    );
  }

  // ---- tokens ----

  saveToken(tokenHash: string, userId: string, expiresAt: number): Promise<void> {
    return this.#run(() => {
      this.#st.tokens.set(tokenHash, { userId, expiresAt });
    });
  }

  findTokenUser(tokenHash: string, now: number): Promise<string | undefined> {
    return this.#run(() => {
      const t = this.#st.tokens.get(tokenHash);
      return t && t.expiresAt > now ? t.userId : undefined;
    });
  }

  deleteToken(tokenHash: string): Promise<void> {
    return this.#run(() => {
      this.#st.tokens.delete(tokenHash);
    });
  }

  purgeExpiredTokens(now: number, limit: number): Promise<number> {
    return this.#run(() => {
      const expired = [...this.#st.tokens].filter(([, t]) => t.expiresAt <= now)
        .sort((a, b) => a[1].expiresAt - b[1].expiresAt)
        .slice(0, Math.max(0, Number.isFinite(limit) ? Math.floor(limit) : 0));
      for (const [hash] of expired) this.#st.tokens.delete(hash);
      return expired.length;
    });
  }

  // ---- groups ----

  getGroup(groupId: string): Promise<GroupRecord | undefined> {
    return this.#run(() => {
      const g = this.#st.groups.get(groupId);
      return g && { ...g };
    });
  }

  ensureGroup(group: GroupRecord): Promise<GroupRecord> {
    return this.#run(() => {
      if (!this.#st.groups.has(group.groupId)) this.#st.groups.set(group.groupId, { ...group });
      return { ...this.#st.groups.get(group.groupId)! };
    });
  }

  /** Rejects when the group does not exist, like SQLite's foreign key. */
  addMember(groupId: string, userId: string, joinedAt: number): Promise<boolean> {
    return this.#run(() => groups.addMembership(this.#st, groupId, userId, joinedAt, "member"));
  }

  removeMember(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => groups.removeMember(this.#st, groupId, userId));
  }

  isMember(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => this.#st.members.get(groupId)?.has(userId) ?? false);
  }

  listMembers(groupId: string, limit: number): Promise<string[]> {
    return this.#run(() =>
      [...(this.#st.members.get(groupId) ?? [])]
        .sort((a, b) => byJoin(a[1], b[1]))
        .slice(0, clampCount(limit))
        .map(([userId]) => userId)
    );
  }

  listUserGroups(userId: string): Promise<GroupRecord[]> {
    return this.#run(() =>
      [...(this.#st.userGroups.get(userId) ?? [])]
        .sort((a, b) => byJoin(a[1], b[1]))
        .slice(0, MAX_USER_GROUPS)
        .map(([groupId]) => ({ ...this.#st.groups.get(groupId)! }))
    );
  }

  listGroups(afterGroupId: string, limit: number): Promise<(GroupRecord & { memberCount: number })[]> {
    return this.#run(() =>
      [...this.#st.groups.values()]
        .filter((g) => compareCodePoints(g.groupId, afterGroupId) > 0)
        .sort((a, b) => compareCodePoints(a.groupId, b.groupId))
        .slice(0, clampCount(limit))
        .map((g) => ({ ...g, memberCount: this.#st.members.get(g.groupId)?.size ?? 0 }))
    );
  }

  // ---- group permissions (memory_groups.ts) ----

  createGroup(group: GroupRecord, settings: GroupSettings): Promise<boolean> {
    return this.#run(() => groups.createGroup(this.#st, group, settings));
  }

  getGroupSettings(groupId: string): Promise<GroupSettings | undefined> {
    return this.#run(() => groups.getSettings(this.#st, groupId));
  }

  getMember(groupId: string, userId: string): Promise<MemberRecord | undefined> {
    return this.#run(() => groups.getMember(this.#st, groupId, userId));
  }

  listMemberRecords(groupId: string, limit: number): Promise<MemberRecord[]> {
    return this.#run(() => groups.listMembers(this.#st, groupId, limit));
  }

  setMemberRole(groupId: string, userId: string, role: "admin" | "member"): Promise<boolean> {
    return this.#run(() => groups.setRole(this.#st, groupId, userId, role));
  }

  setGroupOwner(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => groups.setOwner(this.#st, groupId, userId));
  }

  setMutedUntil(groupId: string, userId: string, mutedUntil: number): Promise<boolean> {
    return this.#run(() => groups.setMuted(this.#st, groupId, userId, mutedUntil));
  }

  banUser(ban: GroupBan): Promise<boolean> {
    return this.#run(() => groups.ban(this.#st, ban));
  }

  unbanUser(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => groups.unban(this.#st, groupId, userId));
  }

  getBan(groupId: string, userId: string): Promise<GroupBan | undefined> {
    return this.#run(() => groups.getBan(this.#st, groupId, userId));
  }

  listBans(groupId: string, limit: number): Promise<GroupBan[]> {
    return this.#run(() => groups.listBans(this.#st, groupId, limit));
  }

  addInvite(invite: GroupInvite): Promise<boolean> {
    return this.#run(() => groups.addInvite(this.#st, invite));
  }

  removeInvite(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => groups.removeInvite(this.#st, groupId, userId));
  }

  listInvites(of: { groupId: string } | { userId: string }, limit: number): Promise<GroupInvite[]> {
    return this.#run(() => groups.listInvites(this.#st, of, limit));
  }

  deleteGroup(groupId: string): Promise<boolean> {
    return this.#run(() => groups.deleteGroup(this.#st, groupId));
  }

  // ---- messages ----

  appendMessage(message: NewMessage, offlineRecipients: readonly string[]): Promise<AppendResult> {
    return this.#run(() => structuredClone(messages.append(this.#st, message, offlineRecipients)));
  }

  findSentMessage(fromUserId: string, id: string): Promise<StoredMessage | undefined> {
    return this.#run(() => {
      const e = this.#st.sent.get(sentKey(fromUserId, id));
      return e && structuredClone(e.msg);
    });
  }

  messagesBySeq(conversation: Conversation, query: SeqQuery): Promise<StoredMessage[]> {
    return this.#run(() => structuredClone(messages.messagesBySeq(this.#st, conversation, query)));
  }

  lastSeq(conversation: Conversation): Promise<number> {
    return this.#run(() => this.#st.conversations.get(conversationKey(conversation))?.lastSeq ?? 0);
  }

  listConversations(userId: string, limit: number): Promise<ConversationSummary[]> {
    return this.#run(() => structuredClone(messages.listConversations(this.#st, userId, limit)));
  }

  markRead(userId: string, conversation: Conversation, seq: number): Promise<number> {
    return this.#run(() => messages.markRead(this.#st, userId, conversation, seq));
  }

  getReadSeq(userId: string, conversation: Conversation): Promise<number> {
    return this.#run(() => this.#st.conversations.get(conversationKey(conversation))?.read.get(userId) ?? 0);
  }

  readCounts(conversation: Conversation, seqs: readonly number[]): Promise<Map<number, number>> {
    return this.#run(() => messages.readCounts(this.#st, conversation, seqs));
  }

  recallMessage(conversation: Conversation, seq: number): Promise<StoredMessage | undefined> {
    return this.#run(() => structuredClone(messages.recall(this.#st, conversation, seq)));
  }

  search(userId: string, query: SearchQuery): Promise<StoredMessage[]> {
    return this.#run(() => structuredClone(messages.search(this.#st, userId, query)));
  }

  pruneMessages(policy: RetentionPolicy, batchLimit: number): Promise<number> {
    return this.#run(() => messages.prune(this.#st, policy, clampCount(batchLimit)));
  }

  history(conversation: Conversation, q: TimeRangeQuery): Promise<StoredMessage[]> {
    return this.#run(() => {
      const ranged = q.beginTime !== undefined && q.endTime !== undefined;
      const offset = clampCount(q.offset);
      return (this.#st.conversations.get(conversationKey(conversation))?.entries ?? [])
        .filter((e) => !ranged || (e.msg.createTime >= q.beginTime! && e.msg.createTime <= q.endTime!))
        .sort(byTime)
        .slice(offset, offset + clampCount(q.limit))
        .map((e) => structuredClone(e.msg));
    });
  }

  takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]> {
    return this.#run(() => {
      const queue = this.#st.offline.get(userId);
      if (!queue) return [];
      const taken = [...queue.values()]
        .filter(({ msg }) =>
          (filter.fromUserId === undefined || (msg.chatType === 2 && msg.from === filter.fromUserId)) &&
          (filter.groupId === undefined || (msg.chatType === 1 && msg.groupId === filter.groupId))
        )
        .sort(byTime)
        .slice(0, clampCount(limit));
      for (const e of taken) queue.delete(e.ord);
      if (queue.size === 0) this.#st.offline.delete(userId);
      return taken.map((e) => structuredClone(e.msg));
    });
  }

  countOffline(userId: string): Promise<number> {
    return this.#run(() => this.#st.offline.get(userId)?.size ?? 0);
  }

  /** Writes a JSON snapshot (see memory_backup.ts) to the new file `path`; refuses an existing one. */
  async backup(path: string): Promise<void> {
    this.#check();
    // Serialised synchronously: a consistent snapshot however many calls follow.
    const text = serializeState(this.#st);
    await Deno.writeTextFile(path, text, { createNew: true });
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #run<T>(fn: () => T): Promise<T> {
    try {
      this.#check();
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
