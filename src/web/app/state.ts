/**
 * The web app's model: conversations with their messages, read positions and typing users,
 * who is online, search results. Pure data (no DOM, no network): the controller feeds it what
 * the client reports, the renderers read it. Every change marks what needs redrawing.
 */
import {
  type ChatMessage,
  type ConnectionStatus,
  type ConversationInfo,
  convKey,
  type GroupUser,
  messageConvKey,
  type UserInfo,
} from "../../client/ws_client.ts";

export type SendStatus = "sending" | "sent" | "read" | "failed";

export interface MessageItem {
  id: string;
  seq?: number;
  from: string;
  content: string;
  createTime: number;
  recalled: boolean;
  mine: boolean;
  /** Own messages only. */
  status?: SendStatus;
  /** Own group messages: how many members have read it. */
  readBy: number;
  /** Why sending failed. */
  error?: string;
  /** Arrival order, to keep unacked messages in the order they were written. */
  order: number;
}

export interface Conversation {
  key: string;
  kind: "p" | "g";
  /** The peer's userId or the groupId. */
  id: string;
  /** Sorted: by seq, unacked ones last. */
  messages: MessageItem[];
  byId: Map<string, MessageItem>;
  lastSeq: number;
  /** How far the user has read (unread = lastSeq − readSeq, as the server counts). */
  readSeq: number;
  /** Private: how far the peer has read. */
  peerReadSeq: number;
  lastText: string;
  lastFrom: string;
  lastTime: number;
  /** Seq of the message shown as the preview (Infinity for an unacked one). */
  previewSeq: number;
  /** The latest page was fetched; older pages exist while hasOlder. */
  loaded: boolean;
  hasOlder: boolean;
  loading: boolean;
  /** userId → when the indicator expires (ms). */
  typing: Map<string, number>;
}

/** What a render has to redraw. */
export type Dirty = "list" | "online" | "chat" | "search" | "notice" | "status";

/** How long a typing indicator lasts without a refresh. */
export const TYPING_TTL_MS = 6000;
export const RECALLED_TEXT = "message recalled";

const idKey = (from: string, id: string) => `${from}\u0000${id}`;

export class AppState {
  me = "";
  readonly conversations = new Map<string, Conversation>();
  selected: string | undefined;
  /** userId → groups in which they are online. */
  readonly online = new Map<string, Set<string>>();
  /** Presence of private peers, asked for when their conversation opens (cmd 17 type 2). */
  readonly presence = new Map<string, boolean>();
  searchResults: ChatMessage[] | undefined;
  searchText = "";
  notice = "";
  connection: ConnectionStatus = "offline";
  readonly dirty = new Set<Dirty>();
  #order = 0;
  #onChange: () => void = () => {};

  /** Called (synchronously) after every change; the app batches renders itself. */
  onChange(fn: () => void): void {
    this.#onChange = fn;
  }

  touch(...what: Dirty[]): void {
    for (const w of what) this.dirty.add(w);
    this.#onChange();
  }

  /** Marks the chat dirty when `key` is the open conversation, and the list in any case. */
  #touchConv(key: string): void {
    this.touch(...(key === this.selected ? ["list", "chat"] as const : ["list"] as const));
  }

  reset(): void {
    this.me = "";
    this.conversations.clear();
    this.online.clear();
    this.presence.clear();
    this.selected = undefined;
    this.searchResults = undefined;
    this.searchText = "";
    this.notice = "";
    this.connection = "offline";
    this.touch("list", "online", "chat", "search", "notice", "status");
  }

  ensure(key: string): Conversation {
    let conv = this.conversations.get(key);
    if (!conv) {
      conv = {
        key,
        kind: key.startsWith("g:") ? "g" : "p",
        id: key.slice(2),
        messages: [],
        byId: new Map(),
        lastSeq: 0,
        readSeq: 0,
        peerReadSeq: 0,
        lastText: "",
        lastFrom: "",
        lastTime: 0,
        previewSeq: 0,
        loaded: false,
        hasOlder: false,
        loading: false,
        typing: new Map(),
      };
      this.conversations.set(key, conv);
      this.touch("list");
    }
    return conv;
  }

  /** Most recently active first. */
  sortedConversations(): Conversation[] {
    return [...this.conversations.values()].sort((a, b) =>
      b.lastTime - a.lastTime || a.key.localeCompare(b.key)
    );
  }

  unread(conv: Conversation): number {
    return Math.max(0, conv.lastSeq - conv.readSeq);
  }

  /** The cmd 25 list: positions, unread counts and previews. */
  applyList(list: readonly ConversationInfo[]): void {
    for (const c of list) {
      const conv = this.ensure(
        convKey(c.groupId !== undefined ? { groupId: c.groupId } : { peer: c.peer ?? "" }),
      );
      conv.lastSeq = Math.max(conv.lastSeq, c.lastSeq);
      conv.readSeq = Math.max(conv.readSeq, c.readSeq);
      if (c.lastMessage) this.#preview(conv, c.lastMessage);
    }
    this.touch("list", "chat");
  }

  /** Messages from the server (live, catch-up or history pages). */
  addMessages(messages: readonly ChatMessage[]): void {
    const touched = new Set<string>();
    for (const m of messages) {
      const key = messageConvKey(this.me, m);
      this.#upsert(this.ensure(key), m);
      touched.add(key);
    }
    for (const key of touched) this.#touchConv(key);
  }

  /** An own message just written (not acked yet). */
  addLocal(message: ChatMessage): void {
    const conv = this.ensure(messageConvKey(this.me, message));
    this.#upsert(conv, message);
    this.#touchConv(conv.key);
  }

  acked(key: string, id: string, seq: number, createTime: number): void {
    const conv = this.ensure(key);
    const item = conv.byId.get(idKey(this.me, id));
    if (!item) return;
    item.seq = seq;
    item.createTime = createTime;
    item.error = undefined;
    item.status = this.#ownStatus(conv, item);
    conv.lastSeq = Math.max(conv.lastSeq, seq);
    // Sending marks the conversation read up to the message (the server does the same).
    conv.readSeq = Math.max(conv.readSeq, seq);
    if (conv.previewSeq === Infinity) conv.previewSeq = seq;
    this.#sort(conv);
    this.#touchConv(key);
  }

  failed(key: string, id: string, error: string): void {
    const item = this.conversations.get(key)?.byId.get(idKey(this.me, id));
    if (!item || item.seq !== undefined) return;
    item.status = "failed";
    item.error = error;
    this.#touchConv(key);
  }

  retrying(key: string, id: string): MessageItem | undefined {
    const item = this.conversations.get(key)?.byId.get(idKey(this.me, id));
    if (!item || item.status !== "failed") return undefined;
    item.status = "sending";
    item.error = undefined;
    this.#touchConv(key);
    return item;
  }

  recalled(key: string, from: string, id: string): void {
    const conv = this.ensure(key);
    const item = conv.byId.get(idKey(from, id));
    if (item) {
      item.recalled = true;
      item.content = "";
      if (item.seq !== undefined && item.seq >= conv.previewSeq) conv.lastText = RECALLED_TEXT;
    }
    this.#touchConv(key);
  }

  setReadSeq(key: string, readSeq: number): void {
    const conv = this.ensure(key);
    if (readSeq <= conv.readSeq) return;
    conv.readSeq = readSeq;
    this.touch("list");
  }

  /** Private conversation: the peer read up to `readSeq`. */
  setPeerRead(key: string, readSeq: number): void {
    const conv = this.ensure(key);
    if (readSeq <= conv.peerReadSeq) return;
    conv.peerReadSeq = readSeq;
    for (const item of conv.messages) if (item.mine) item.status = this.#ownStatus(conv, item);
    this.#touchConv(key);
  }

  /** cmd 31 counts (seq → readers other than the sender) for own messages. */
  setReadCounts(key: string, counts: Record<string, number>): void {
    const conv = this.ensure(key);
    for (const item of conv.messages) {
      if (!item.mine || item.seq === undefined) continue;
      const n = counts[String(item.seq)];
      if (n === undefined) continue;
      item.readBy = n;
      if (conv.kind === "p") conv.peerReadSeq = Math.max(conv.peerReadSeq, n > 0 ? item.seq : 0);
      item.status = this.#ownStatus(conv, item);
    }
    this.#touchConv(key);
  }

  setTyping(key: string, from: string, typing: boolean, now = Date.now()): void {
    if (from === this.me) return;
    const conv = this.ensure(key);
    if (typing) conv.typing.set(from, now + TYPING_TTL_MS);
    else if (!conv.typing.delete(from)) return;
    this.#touchConv(key);
  }

  /** Drops indicators that were not refreshed; true when one went away. */
  expireTyping(now = Date.now()): boolean {
    let changed = false;
    for (const conv of this.conversations.values()) {
      for (const [user, until] of conv.typing) {
        if (until <= now) {
          conv.typing.delete(user);
          changed = true;
          if (conv.key === this.selected) this.dirty.add("chat");
        }
      }
    }
    if (changed) this.touch();
    return changed;
  }

  /** cmd 18 for oneself (type 0): the groups, and who is online in them. */
  setOnlineFrom(info: UserInfo | undefined): void {
    this.online.clear();
    for (const group of info?.groups ?? []) {
      this.ensure(`g:${group.groupId}`);
      for (const user of group.users) if (user.status !== "offline") this.#addOnline(group.groupId, user);
    }
    this.touch("online", "list");
  }

  joined(groupId: string, user: GroupUser): void {
    if (user.userId === this.me) this.ensure(`g:${groupId}`);
    if (user.status !== "offline") {
      this.#addOnline(groupId, user);
      this.presence.set(user.userId, true);
    }
    this.touch("online");
  }

  setPresence(userId: string, online: boolean): void {
    this.presence.set(userId, online);
    this.touch("online");
  }

  /** true / false when known, undefined when not. */
  isOnline(userId: string): boolean | undefined {
    return this.online.has(userId) ? true : this.presence.get(userId);
  }

  left(groupId: string, user: GroupUser): void {
    // cmd 10 comes when the member's last connection closed.
    this.presence.set(user.userId, false);
    const groups = this.online.get(user.userId);
    if (!groups) return;
    groups.delete(groupId);
    if (groups.size === 0) this.online.delete(user.userId);
    this.touch("online");
  }

  onlineUsers(): string[] {
    return [...this.online.keys()].sort((a, b) => a.localeCompare(b));
  }

  #addOnline(groupId: string, user: GroupUser): void {
    let groups = this.online.get(user.userId);
    if (!groups) this.online.set(user.userId, groups = new Set());
    groups.add(groupId);
  }

  #upsert(conv: Conversation, m: ChatMessage): void {
    const k = idKey(m.from, m.id);
    let item = conv.byId.get(k);
    if (item) {
      if (m.seq !== undefined && item.seq === undefined) item.seq = m.seq;
      if (m.recalled) {
        item.recalled = true;
        item.content = "";
      }
    } else {
      const mine = m.from === this.me;
      item = {
        id: m.id,
        seq: m.seq,
        from: m.from,
        content: m.recalled ? "" : (m.content ?? ""),
        createTime: m.createTime || Date.now(),
        recalled: m.recalled === true,
        mine,
        readBy: 0,
        order: this.#order++,
      };
      conv.byId.set(k, item);
      conv.messages.push(item);
    }
    if (item.mine) {
      item.status = item.status === "failed" && item.seq === undefined
        ? "failed"
        : this.#ownStatus(conv, item);
    }
    if (m.seq !== undefined) conv.lastSeq = Math.max(conv.lastSeq, m.seq);
    this.#preview(conv, m);
    this.#sort(conv);
  }

  #ownStatus(conv: Conversation, item: MessageItem): SendStatus {
    if (item.seq === undefined) return "sending";
    if (conv.kind === "p" && item.seq <= conv.peerReadSeq && conv.id !== this.me) return "read";
    return "sent";
  }

  #preview(conv: Conversation, m: ChatMessage): void {
    const seq = m.seq ?? Infinity;
    if (seq < conv.previewSeq) return;
    conv.previewSeq = seq;
    conv.lastText = m.recalled ? RECALLED_TEXT : (m.content ?? "");
    conv.lastFrom = m.from;
    conv.lastTime = Math.max(conv.lastTime, m.createTime || Date.now());
  }

  #sort(conv: Conversation): void {
    conv.messages.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity) || a.order - b.order);
  }
}
