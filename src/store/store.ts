/**
 * The persistence contract. Every implementation (SQLite by default, memory for tests, later
 * Redis) must pass tests/store_contract_test.ts. All methods are async so a networked store fits.
 *
 * Rules every implementation keeps:
 * - A promise that resolves means the write is durable (for SQLite: committed to disk).
 * - Queries are bounded: callers pass a limit, and implementations never return more.
 * - Messages are returned in ascending (createTime, seq) order.
 * - Nothing is ever returned for a conversation the query did not name.
 */
import type { JsonObject } from "../protocol/json.ts";
import type { HistogramSnapshot } from "../metrics/histogram.ts";

export interface UserRecord {
  userId: string;
  /** Encoded password hash ("pbkdf2-sha256$iterations$salt$hash"), "" when the account has no password. */
  passwordHash: string;
  nick: string;
  avatar: string;
  createdAt: number;
  disabled: boolean;
}

export interface GroupRecord {
  groupId: string;
  name: string;
  avatar: string;
  createdAt: number;
}

/** Who may join a group: anyone (J-IM's behaviour) or only invited users. */
export type GroupKind = "open" | "invite";
export type GroupRole = "owner" | "admin" | "member";

export interface GroupSettings {
  kind: GroupKind;
  /** The member with role "owner"; "" when the group has none (created by the system). */
  ownerId: string;
}

export interface MemberRecord {
  userId: string;
  role: GroupRole;
  joinedAt: number;
  /** Until when (ms since the epoch) the member may not send to the group; 0 = not muted. */
  mutedUntil: number;
}

export interface GroupBan {
  groupId: string;
  userId: string;
  bannedAt: number;
  /** Who banned the user. */
  by: string;
}

export interface GroupInvite {
  groupId: string;
  userId: string;
  invitedAt: number;
  /** Who invited the user. */
  by: string;
}

/** A chat message as stored and delivered (J-IM ChatBody plus jim's seq). */
export interface StoredMessage {
  /** Client-supplied or server-generated message id. */
  id: string;
  /** 1 group, 2 private. */
  chatType: 1 | 2;
  from: string;
  /** Private chats: the receiver. */
  to?: string;
  /** Group chats: the group. */
  groupId?: string;
  msgType?: number;
  content?: string;
  /** Milliseconds since the epoch. */
  createTime: number;
  extras?: JsonObject;
  /** Per-conversation sequence number assigned by the store: 1, 2, 3… without gaps. */
  seq: number;
  /** Server time (ms) when the message was stored; the recall window counts from it. */
  storedAt: number;
  /** Set once the sender recalled the message; `content` and `extras` are then removed. */
  recalled?: boolean;
}

/** A message before the store assigned its seq and stored time. */
export type NewMessage = Omit<StoredMessage, "seq" | "storedAt" | "recalled">;

export interface AppendResult {
  /** The stored message: the new one, or the original when this was a duplicate. */
  message: StoredMessage;
  /**
   * True when the sender already has a message with this id (in any conversation): nothing was
   * stored or queued, and `message` is the original (same seq), so a resend after a lost ack
   * gets the original ack.
   */
  duplicate: boolean;
}

export interface SeqQuery {
  /** Messages with seq > afterSeq, ascending (the default, with afterSeq 0). */
  afterSeq?: number;
  /** The `limit` messages just below this seq (seq < beforeSeq), returned ascending. */
  beforeSeq?: number;
  limit: number;
}

/** One of a user's conversations, for the conversation list. */
export interface ConversationSummary {
  conversation: Conversation;
  /** Highest seq in the conversation (0 when it has no message yet). */
  lastSeq: number;
  /** The message with lastSeq, when there is one. */
  lastMessage?: StoredMessage;
  /** Highest seq the user has read (sending counts as reading). */
  readSeq: number;
}

export interface SearchQuery {
  /** Words to find (FTS5 syntax is not exposed: the text is matched as plain words). */
  text: string;
  /** Restrict to one conversation (which the user must belong to). */
  conversation?: Conversation;
  offset: number;
  limit: number;
}

export interface RetentionPolicy {
  /** Delete messages stored before this time (ms); undefined = no age limit. */
  olderThan?: number;
  /** Keep at most this many newest messages per conversation; undefined = no count limit. */
  maxPerConversation?: number;
}

export type Conversation =
  | { kind: "private"; userA: string; userB: string }
  | { kind: "group"; groupId: string };

export interface TimeRangeQuery {
  /** Inclusive lower bound on createTime; only applied together with endTime. */
  beginTime?: number;
  /** Inclusive upper bound on createTime. */
  endTime?: number;
  /** Number of matching messages to skip (oldest first). */
  offset: number;
  /** Maximum number of messages to return (the store never returns more). */
  limit: number;
}

export interface OfflineFilter {
  /** Only private messages sent by this user. */
  fromUserId?: string;
  /** Only messages of this group. */
  groupId?: string;
  /** Only private messages (when neither fromUserId nor groupId is set, both kinds are returned). */
}

export interface Store {
  // ---- accounts ----
  getUser(userId: string): Promise<UserRecord | undefined>;
  /** Creates the account; resolves false (and changes nothing) when the userId exists. */
  createUser(user: UserRecord): Promise<boolean>;
  /** Updates the given fields; resolves false when the user does not exist. */
  updateUser(userId: string, patch: Partial<Omit<UserRecord, "userId" | "createdAt">>): Promise<boolean>;
  /** Users ordered by userId, starting after `afterUserId`. */
  listUsers(afterUserId: string, limit: number): Promise<UserRecord[]>;

  // ---- login tokens (stored as hashes, never in clear) ----
  saveToken(tokenHash: string, userId: string, expiresAt: number): Promise<void>;
  /** The user of an unexpired token, or undefined. */
  findTokenUser(tokenHash: string, now: number): Promise<string | undefined>;
  deleteToken(tokenHash: string): Promise<void>;
  /** Deletes at most `limit` tokens that expired at or before `now`; resolves with the count. */
  purgeExpiredTokens(now: number, limit: number): Promise<number>;

  // ---- groups ----
  getGroup(groupId: string): Promise<GroupRecord | undefined>;
  /** Creates the group if it does not exist; returns the stored record either way. */
  ensureGroup(group: GroupRecord): Promise<GroupRecord>;
  /** Resolves true when the user was not a member before. */
  addMember(groupId: string, userId: string, joinedAt: number): Promise<boolean>;
  /**
   * Resolves true when the user was a member. Also drops the user's queued offline messages of
   * the group and clears the group's ownerId when they were its owner.
   */
  removeMember(groupId: string, userId: string): Promise<boolean>;
  isMember(groupId: string, userId: string): Promise<boolean>;
  /** Member userIds in join order, at most `limit`. */
  listMembers(groupId: string, limit: number): Promise<string[]>;
  /** The user's groups in join order. */
  listUserGroups(userId: string): Promise<GroupRecord[]>;
  /** Groups by groupId (code point order) after `afterGroupId`, with member counts, at most `limit`. */
  listGroups(afterGroupId: string, limit: number): Promise<(GroupRecord & { memberCount: number })[]>;

  // ---- group permissions: kind, owner, roles, mutes, bans, invites, disband ----
  /**
   * Creates the group with its settings and, when `settings.ownerId` is set, makes that user its
   * first member with role "owner" (joined at `group.createdAt`). Resolves false (and changes
   * nothing) when the group exists. (ensureGroup creates "open" groups without an owner.)
   */
  createGroup(group: GroupRecord, settings: GroupSettings): Promise<boolean>;
  /** The group's kind and owner; undefined when there is no such group. */
  getGroupSettings(groupId: string): Promise<GroupSettings | undefined>;
  /** One member's role and mute; undefined when the user is not a member. */
  getMember(groupId: string, userId: string): Promise<MemberRecord | undefined>;
  /** Members with their roles in join order (as listMembers), at most `limit`. */
  listMemberRecords(groupId: string, limit: number): Promise<MemberRecord[]>;
  /**
   * Sets a member's role to "admin" or "member". Resolves false (and changes nothing) when the
   * user is not a member or is the owner: ownership moves only with setGroupOwner.
   */
  setMemberRole(groupId: string, userId: string, role: "admin" | "member"): Promise<boolean>;
  /**
   * Makes the member the group's owner (ownerId and role "owner"); the previous owner, if still a
   * member, becomes "admin". Resolves false (and changes nothing) when the user is not a member.
   */
  setGroupOwner(groupId: string, userId: string): Promise<boolean>;
  /** Sets until when (ms, 0 = not muted) a member may not send; false when not a member. */
  setMutedUntil(groupId: string, userId: string, mutedUntil: number): Promise<boolean>;
  /**
   * Bans the user: removes the membership (as removeMember does) and any pending invite, and
   * records the ban (a ban already recorded is kept as it is). Resolves true when the user was a
   * member. Rejects when the group does not exist.
   */
  banUser(ban: GroupBan): Promise<boolean>;
  /** Resolves true when the user was banned. */
  unbanUser(groupId: string, userId: string): Promise<boolean>;
  getBan(groupId: string, userId: string): Promise<GroupBan | undefined>;
  /** The group's bans, oldest first, at most `limit`. */
  listBans(groupId: string, limit: number): Promise<GroupBan[]>;
  /**
   * Records a pending invite. Resolves false (keeping the first one) when one is pending.
   * Rejects when the group does not exist.
   */
  addInvite(invite: GroupInvite): Promise<boolean>;
  /** Resolves true when an invite was pending (accepting, declining and revoking all remove it). */
  removeInvite(groupId: string, userId: string): Promise<boolean>;
  /** Pending invites of one group or of one user, oldest first, at most `limit`. */
  listInvites(of: { groupId: string } | { userId: string }, limit: number): Promise<GroupInvite[]>;
  /**
   * Disbands the group: deletes it with its members, bans, invites and messages (their offline
   * entries, full-text rows and read positions too), in one transaction. The conversation's last
   * seq is kept, so a group created later with the same id continues the sequence and no seq is
   * ever reused. Resolves false when there is no such group.
   */
  deleteGroup(groupId: string): Promise<boolean>;

  // ---- messages ----
  /**
   * Stores a message, assigns its per-conversation seq and stored time, queues it for each of
   * `offlineRecipients`, and raises the sender's read seq of the conversation to it (sending
   * counts as reading). Resolves once durable. De-duplicates by (from, id): see AppendResult.
   */
  appendMessage(message: NewMessage, offlineRecipients: readonly string[]): Promise<AppendResult>;
  /** The message the user sent with this id, if any. */
  findSentMessage(fromUserId: string, id: string): Promise<StoredMessage | undefined>;
  /** A conversation's messages by seq (see SeqQuery), ascending, at most `limit`. */
  messagesBySeq(conversation: Conversation, query: SeqQuery): Promise<StoredMessage[]>;
  /** The conversation's highest seq, 0 when empty. */
  lastSeq(conversation: Conversation): Promise<number>;
  /**
   * The user's conversations: every private conversation with a message from or to the user,
   * and every group the user is a member of. Most recently active first (by last message
   * storedAt, groups without messages last), at most `limit`.
   */
  listConversations(userId: string, limit: number): Promise<ConversationSummary[]>;
  /** Raises the user's read seq (never lowers it, never above lastSeq); resolves with the result. */
  markRead(userId: string, conversation: Conversation, seq: number): Promise<number>;
  getReadSeq(userId: string, conversation: Conversation): Promise<number>;
  /**
   * For each seq: how many users other than the message's sender have read up to at least it.
   * Missing seqs are absent from the map.
   */
  readCounts(conversation: Conversation, seqs: readonly number[]): Promise<Map<number, number>>;
  /** Marks the message recalled and drops its content and extras; resolves with the updated message. */
  recallMessage(conversation: Conversation, seq: number): Promise<StoredMessage | undefined>;
  /**
   * Full-text search over the user's own conversations only (private ones they are part of,
   * groups they are a member of), newest first. Recalled messages never match.
   */
  search(userId: string, query: SearchQuery): Promise<StoredMessage[]>;
  /** Deletes at most `batchLimit` messages the policy no longer keeps; resolves with the count. */
  pruneMessages(policy: RetentionPolicy, batchLimit: number): Promise<number>;
  /** A conversation's messages in ascending order, filtered and paged as the query says. */
  history(conversation: Conversation, query: TimeRangeQuery): Promise<StoredMessage[]>;
  /**
   * Returns up to `limit` of the user's queued offline messages (oldest first) matching the
   * filter and removes exactly those from the queue.
   */
  takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]>;
  /** Number of queued offline messages for the user. */
  countOffline(userId: string): Promise<number>;

  /** Writes a consistent copy of the whole store to `path` while it keeps serving. */
  backup(path: string): Promise<void>;

  /**
   * For /metrics: seconds each group commit took (BEGIN to COMMIT, the fsync included), as a
   * histogram. Optional: stores without group commits (memory) leave it out.
   */
  commitLatency?(): Promise<HistogramSnapshot>;

  /** Flushes pending writes and releases resources. */
  close(): Promise<void>;
}
