/**
 * A Store in plain Maps, for unit tests. Same semantics as SqliteStore (same contract suite),
 * including its orderings; copies go in and out so callers never share state with the store.
 */
import type { JsonObject } from "../../protocol/json.ts";
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

/** Same cap as SqliteStore: listUserGroups has no limit parameter. */
export const MAX_USER_GROUPS = 10_000;

/** A stored message plus its global insertion number (SQLite's rowid), the final tie-breaker. */
interface Entry {
  msg: StoredMessage;
  ord: number;
}

interface Membership {
  joinedAt: number;
  ord: number;
}

function privateKey(a: string, b: string): string {
  return "p:" + JSON.stringify(a < b ? [a, b] : [b, a]);
}

function conversationKey(c: Conversation): string {
  return c.kind === "private" ? privateKey(c.userA, c.userB) : "g:" + c.groupId;
}

/** SQLite compares TEXT as UTF-8 bytes, i.e. by code point; JS `<` compares UTF-16 units. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function byTime(a: Entry, b: Entry): number {
  return a.msg.createTime - b.msg.createTime || a.msg.seq - b.msg.seq || a.ord - b.ord;
}

function byJoin(a: Membership, b: Membership): number {
  return a.joinedAt - b.joinedAt || a.ord - b.ord;
}

function clampCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** Copies a message the way a JSON round trip through the database would. */
function copyMessage(m: NewMessage, seq: number): StoredMessage {
  const out = { id: m.id, chatType: m.chatType, from: m.from } as StoredMessage;
  if (m.to !== undefined) out.to = m.to;
  if (m.groupId !== undefined) out.groupId = m.groupId;
  if (m.msgType !== undefined) out.msgType = m.msgType;
  if (m.content !== undefined) out.content = m.content;
  out.createTime = m.createTime;
  if (m.extras !== undefined) out.extras = JSON.parse(JSON.stringify(m.extras)) as JsonObject;
  out.seq = seq;
  return out;
}

export class MemoryStore implements Store {
  readonly #users = new Map<string, UserRecord>();
  readonly #tokens = new Map<string, { userId: string; expiresAt: number }>();
  readonly #groups = new Map<string, GroupRecord>();
  /** groupId → userId → membership, and the reverse index. */
  readonly #members = new Map<string, Map<string, Membership>>();
  readonly #userGroups = new Map<string, Map<string, Membership>>();
  readonly #conversations = new Map<string, Entry[]>();
  /** userId → ord → entry */
  readonly #offline = new Map<string, Map<number, Entry>>();
  #ord = 0;
  #closed = false;

  #check(): void {
    if (this.#closed) throw new Error("store is closed");
  }

  // ---- accounts ----

  getUser(userId: string): Promise<UserRecord | undefined> {
    return this.#run(() => {
      const u = this.#users.get(userId);
      return u && { ...u };
    });
  }

  createUser(user: UserRecord): Promise<boolean> {
    return this.#run(() => {
      if (this.#users.has(user.userId)) return false;
      this.#users.set(user.userId, { ...user });
      return true;
    });
  }

  updateUser(userId: string, patch: Partial<Omit<UserRecord, "userId" | "createdAt">>): Promise<boolean> {
    return this.#run(() => {
      const u = this.#users.get(userId);
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
      [...this.#users.values()]
        .filter((u) => compareCodePoints(u.userId, afterUserId) > 0)
        .sort((a, b) => compareCodePoints(a.userId, b.userId))
        .slice(0, clampCount(limit))
        .map((u) => ({ ...u }))
    );
  }

  // ---- tokens ----

  saveToken(tokenHash: string, userId: string, expiresAt: number): Promise<void> {
    return this.#run(() => {
      this.#tokens.set(tokenHash, { userId, expiresAt });
    });
  }

  findTokenUser(tokenHash: string, now: number): Promise<string | undefined> {
    return this.#run(() => {
      const t = this.#tokens.get(tokenHash);
      return t && t.expiresAt > now ? t.userId : undefined;
    });
  }

  deleteToken(tokenHash: string): Promise<void> {
    return this.#run(() => {
      this.#tokens.delete(tokenHash);
    });
  }

  // ---- groups ----

  getGroup(groupId: string): Promise<GroupRecord | undefined> {
    return this.#run(() => {
      const g = this.#groups.get(groupId);
      return g && { ...g };
    });
  }

  ensureGroup(group: GroupRecord): Promise<GroupRecord> {
    return this.#run(() => {
      if (!this.#groups.has(group.groupId)) this.#groups.set(group.groupId, { ...group });
      return { ...this.#groups.get(group.groupId)! };
    });
  }

  /** Rejects when the group does not exist, like SQLite's foreign key. */
  addMember(groupId: string, userId: string, joinedAt: number): Promise<boolean> {
    return this.#run(() => {
      if (!this.#groups.has(groupId)) throw new Error(`unknown group ${groupId}`);
      let members = this.#members.get(groupId);
      if (!members) this.#members.set(groupId, members = new Map());
      if (members.has(userId)) return false;
      const m: Membership = { joinedAt, ord: ++this.#ord };
      members.set(userId, m);
      let groups = this.#userGroups.get(userId);
      if (!groups) this.#userGroups.set(userId, groups = new Map());
      groups.set(groupId, m);
      return true;
    });
  }

  removeMember(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => {
      this.#userGroups.get(userId)?.delete(groupId);
      return this.#members.get(groupId)?.delete(userId) ?? false;
    });
  }

  isMember(groupId: string, userId: string): Promise<boolean> {
    return this.#run(() => this.#members.get(groupId)?.has(userId) ?? false);
  }

  listMembers(groupId: string, limit: number): Promise<string[]> {
    return this.#run(() =>
      [...(this.#members.get(groupId) ?? [])]
        .sort((a, b) => byJoin(a[1], b[1]))
        .slice(0, clampCount(limit))
        .map(([userId]) => userId)
    );
  }

  listUserGroups(userId: string): Promise<GroupRecord[]> {
    return this.#run(() =>
      [...(this.#userGroups.get(userId) ?? [])]
        .sort((a, b) => byJoin(a[1], b[1]))
        .slice(0, MAX_USER_GROUPS)
        .map(([groupId]) => ({ ...this.#groups.get(groupId)! }))
    );
  }

  // ---- messages ----

  appendMessage(message: NewMessage, offlineRecipients: readonly string[]): Promise<StoredMessage> {
    return this.#run(() => {
      let key: string;
      if (message.chatType === 2) {
        if (typeof message.to !== "string") throw new TypeError("private message needs `to`");
        key = privateKey(message.from, message.to);
      } else if (message.chatType === 1) {
        if (typeof message.groupId !== "string") throw new TypeError("group message needs `groupId`");
        key = "g:" + message.groupId;
      } else {
        throw new TypeError(`unknown chatType ${String(message.chatType)}`);
      }
      if (!Number.isFinite(message.createTime)) throw new TypeError("createTime must be a finite number");
      let entries = this.#conversations.get(key);
      if (!entries) this.#conversations.set(key, entries = []);
      // Seq assigned synchronously, so it follows call order.
      const entry: Entry = { msg: copyMessage(message, entries.length + 1), ord: ++this.#ord };
      entries.push(entry);
      for (const user of offlineRecipients) {
        let queue = this.#offline.get(user);
        if (!queue) this.#offline.set(user, queue = new Map());
        queue.set(entry.ord, entry);
      }
      return structuredClone(entry.msg);
    });
  }

  history(conversation: Conversation, q: TimeRangeQuery): Promise<StoredMessage[]> {
    return this.#run(() => {
      const ranged = q.beginTime !== undefined && q.endTime !== undefined;
      const offset = clampCount(q.offset);
      return (this.#conversations.get(conversationKey(conversation)) ?? [])
        .filter((e) => !ranged || (e.msg.createTime >= q.beginTime! && e.msg.createTime <= q.endTime!))
        .sort(byTime)
        .slice(offset, offset + clampCount(q.limit))
        .map((e) => structuredClone(e.msg));
    });
  }

  takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]> {
    return this.#run(() => {
      const queue = this.#offline.get(userId);
      if (!queue) return [];
      const taken = [...queue.values()]
        .filter(({ msg }) =>
          (filter.fromUserId === undefined || (msg.chatType === 2 && msg.from === filter.fromUserId)) &&
          (filter.groupId === undefined || (msg.chatType === 1 && msg.groupId === filter.groupId))
        )
        .sort(byTime)
        .slice(0, clampCount(limit));
      for (const e of taken) queue.delete(e.ord);
      if (queue.size === 0) this.#offline.delete(userId);
      return taken.map((e) => structuredClone(e.msg));
    });
  }

  countOffline(userId: string): Promise<number> {
    return this.#run(() => this.#offline.get(userId)?.size ?? 0);
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
