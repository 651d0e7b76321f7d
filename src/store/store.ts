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
}

/** A message before the store assigned its seq. */
export type NewMessage = Omit<StoredMessage, "seq">;

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

  // ---- groups ----
  getGroup(groupId: string): Promise<GroupRecord | undefined>;
  /** Creates the group if it does not exist; returns the stored record either way. */
  ensureGroup(group: GroupRecord): Promise<GroupRecord>;
  /** Resolves true when the user was not a member before. */
  addMember(groupId: string, userId: string, joinedAt: number): Promise<boolean>;
  /** Resolves true when the user was a member. */
  removeMember(groupId: string, userId: string): Promise<boolean>;
  isMember(groupId: string, userId: string): Promise<boolean>;
  /** Member userIds in join order, at most `limit`. */
  listMembers(groupId: string, limit: number): Promise<string[]>;
  /** The user's groups in join order. */
  listUserGroups(userId: string): Promise<GroupRecord[]>;

  // ---- messages ----
  /**
   * Stores a message, assigns its per-conversation seq and queues it for each of
   * `offlineRecipients`. Resolves with the stored message once it is durable.
   */
  appendMessage(message: NewMessage, offlineRecipients: readonly string[]): Promise<StoredMessage>;
  /** A conversation's messages in ascending order, filtered and paged as the query says. */
  history(conversation: Conversation, query: TimeRangeQuery): Promise<StoredMessage[]>;
  /**
   * Returns up to `limit` of the user's queued offline messages (oldest first) matching the
   * filter and removes exactly those from the queue.
   */
  takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]>;
  /** Number of queued offline messages for the user. */
  countOffline(userId: string): Promise<number>;

  /** Flushes pending writes and releases resources. */
  close(): Promise<void>;
}
