/** The memory store's state and the small helpers its modules share. */
import type { JsonObject } from "../../protocol/json.ts";
import type {
  Conversation,
  GroupBan,
  GroupInvite,
  GroupRecord,
  GroupRole,
  GroupSettings,
  NewMessage,
  StoredMessage,
  UserRecord,
} from "../store.ts";

/** A stored message plus its global insertion number (SQLite's rowid), the final tie-breaker. */
export interface Entry {
  msg: StoredMessage;
  ord: number;
  convKey: string;
}

export interface Membership {
  joinedAt: number;
  ord: number;
  role: GroupRole;
  /** ms; 0 = not muted. */
  mutedUntil: number;
}

export interface ConvState {
  /** Canonical form: private conversations with userA < userB. */
  conversation: Conversation;
  /** Stored messages in seq order (pruning leaves holes in the seqs, never in the order). */
  entries: Entry[];
  /** Highest seq ever assigned; pruning never lowers it. */
  lastSeq: number;
  /** storedAt and ord of the message with lastSeq (kept when it is pruned). */
  lastStoredAt: number;
  lastOrd: number;
  /** userId → read seq. */
  read: Map<string, number>;
}

export interface MemoryState {
  users: Map<string, UserRecord>;
  tokens: Map<string, { userId: string; expiresAt: number }>;
  groups: Map<string, GroupRecord>;
  /** groupId → kind and owner (absent = open, no owner: ensureGroup's groups). */
  groupSettings: Map<string, GroupSettings>;
  /** groupId → userId → ban / pending invite, with an insertion number for the listing order. */
  bans: Map<string, Map<string, { ban: GroupBan; ord: number }>>;
  invites: Map<string, Map<string, { invite: GroupInvite; ord: number }>>;
  /** groupId → userId → membership, and the reverse index (same objects). */
  members: Map<string, Map<string, Membership>>;
  userGroups: Map<string, Map<string, Membership>>;
  conversations: Map<string, ConvState>;
  /** userId → private conversation key → the other user. */
  userPrivate: Map<string, Map<string, string>>;
  /** sentKey(from, id) → the message, for de-duplication. */
  sent: Map<string, Entry>;
  /** userId → ord → entry */
  offline: Map<string, Map<number, Entry>>;
  ord: number;
}

export function emptyState(): MemoryState {
  return {
    users: new Map(),
    tokens: new Map(),
    groups: new Map(),
    groupSettings: new Map(),
    bans: new Map(),
    invites: new Map(),
    members: new Map(),
    userGroups: new Map(),
    conversations: new Map(),
    userPrivate: new Map(),
    sent: new Map(),
    offline: new Map(),
    ord: 0,
  };
}

export function privateKey(a: string, b: string): string {
  return "p:" + JSON.stringify(a < b ? [a, b] : [b, a]);
}

export function conversationKey(c: Conversation): string {
  return c.kind === "private" ? privateKey(c.userA, c.userB) : "g:" + c.groupId;
}

export function sentKey(from: string, id: string): string {
  return JSON.stringify([from, id]);
}

/** SQLite compares TEXT as UTF-8 bytes, i.e. by code point; JS `<` compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export function byTime(a: Entry, b: Entry): number {
  return a.msg.createTime - b.msg.createTime || a.msg.seq - b.msg.seq || a.ord - b.ord;
}

export function byJoin(
  a: Pick<Membership, "joinedAt" | "ord">,
  b: Pick<Membership, "joinedAt" | "ord">,
): number {
  return a.joinedAt - b.joinedAt || a.ord - b.ord;
}

export function clampCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** A seq bound from the caller: a non-negative integer (NaN is `fallback`, +Infinity the maximum). */
export function seqBound(n: number | undefined, fallback: number): number {
  if (n === undefined || Number.isNaN(n)) return fallback;
  return n === Infinity ? Number.MAX_SAFE_INTEGER : Math.max(0, Math.floor(n));
}

/** Copies a message the way a JSON round trip through the database would. */
export function copyMessage(m: NewMessage, seq: number, storedAt: number): StoredMessage {
  const out = { id: m.id, chatType: m.chatType, from: m.from } as StoredMessage;
  if (m.to !== undefined) out.to = m.to;
  if (m.groupId !== undefined) out.groupId = m.groupId;
  if (m.msgType !== undefined) out.msgType = m.msgType;
  if (m.content !== undefined) out.content = m.content;
  out.createTime = m.createTime;
  if (m.extras !== undefined) out.extras = JSON.parse(JSON.stringify(m.extras)) as JsonObject;
  out.seq = seq;
  out.storedAt = storedAt;
  return out;
}

/** The index of the entry with this seq, or -1 (entries are in seq order). */
export function findSeq(entries: readonly Entry[], seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].msg.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo < entries.length && entries[lo].msg.seq === seq ? lo : -1;
}

/** The index of the first entry with seq > `seq` (entries are in seq order). */
export function firstAfter(entries: readonly Entry[], seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].msg.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
