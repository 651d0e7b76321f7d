/**
 * jim's WebSocket client for browsers and Deno, on the standard `WebSocket` API only (no Deno
 * APIs): the web page bundles it and the tests run it. It logs in with jim's extensions (seqs in
 * acks and deliveries), matches replies to requests, keeps the connection alive (cmd 13) and,
 * when the connection drops, reconnects with backoff, catches up every conversation it knows by
 * seq (cmd 25, then cmd 23 from its last seq while `hasMore`) and resends unacked chats with the
 * same ids (the server de-duplicates them). docs/protocol.md §9 is the contract it follows.
 *
 * Reply matching: a connection's replies come in request order per command, so requests are
 * matched first-in first-out per reply command. Chats are the exception: the server acks them
 * after the commit but answers a refused chat at once, so an error ack could overtake an earlier
 * chat's ack. The client therefore keeps one chat in flight; a success ack is matched by its
 * `data.id`, an error ack by being the one in flight.
 *
 * Wire shapes and converters: ws_client_protocol.ts; seq bookkeeping: ws_client_seq.ts.
 */

import {
  type ChatAck,
  type ChatMessage,
  CMD,
  type ConversationInfo,
  convKey,
  type ConvRef,
  type Credentials,
  type GroupNotice,
  type GroupUser,
  JimError,
  type Json,
  messageConvKey,
  newMessageId,
  OK_CODES,
  type ReadNotice,
  type RecallNotice,
  refBody,
  refOfKey,
  replyError,
  type SyncPage,
  type TokenInfo,
  toMessage,
  type TypingNotice,
  type UserInfo,
  withExtensions,
} from "./ws_client_protocol.ts";
import { SeqTracker } from "./ws_client_seq.ts";

export * from "./ws_client_protocol.ts";

export interface PendingChat {
  id: string;
  /** The message as it will be stored (no seq yet). */
  message: ChatMessage;
  /** Resolves on the ack (after the message is on disk); rejects when the server refuses it. */
  ack: Promise<ChatAck>;
}

export type ConnectionStatus = "connecting" | "online" | "reconnecting" | "offline";

/**
 * WebSocket close code of a session closed by an operator (the server's KICKED_CLOSE_CODE in
 * src/services/session.ts): the client must not reconnect on its own.
 */
export const KICKED_CLOSE_CODE = 4001;

export interface ClientEvents {
  status: (status: ConnectionStatus) => void;
  /** Every successful login, the first and each one after a reconnect. */
  login: (info: { reconnect: boolean }) => void;
  /** The server refused the credentials (10008); the client stops. */
  loginFailed: (error: JimError) => void;
  /**
   * An operator closed the session (WebSocket close code KICKED_CLOSE_CODE, 4001): the client
   * stops (no automatic reconnect) and goes offline.
   */
  kicked: (info: { reason: string }) => void;
  /** A message the client had not seen; `live` false when it came from the catch-up sync. */
  message: (message: ChatMessage, info: { live: boolean }) => void;
  /** The conversation list fetched after each login (before the catch-up). */
  conversations: (list: ConversationInfo[]) => void;
  /** The catch-up after a login finished. */
  synced: () => void;
  join: (notice: GroupNotice) => void;
  exit: (notice: GroupNotice) => void;
  recall: (notice: RecallNotice) => void;
  read: (notice: ReadNotice) => void;
  typing: (notice: TypingNotice) => void;
}

export interface ClientOptions {
  /**
   * Log in with cmd 5 after the socket opens (keeps the password out of the URL), instead of
   * credentials in the URL's query.
   */
  login?: Credentials;
  /** The user's id when the URL logs in with `?token=` (otherwise learned with cmd 21). */
  userId?: string;
  /** Interval of cmd 13 heartbeats (ms); a connection silent for twice that is dropped. */
  heartbeatMs?: number;
  /** A request or a chat ack not answered within this (ms) drops the connection (then reconnect). */
  requestTimeoutMs?: number;
  /** Reconnect backoff (ms); `false` never reconnects. */
  reconnect?: false | { minDelayMs?: number; maxDelayMs?: number };
  /** Creates the socket (tests wrap it); default `new WebSocket(url)`. */
  createWebSocket?: (url: string) => WebSocket;
}

/** Opens a client; `client.loggedIn` settles with the first login. */
export function connect(url: string, options: ClientOptions = {}): JimWsClient {
  return new JimWsClient(url, options);
}

const DEFAULT_HEARTBEAT_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 20_000;
const TICK_MS = 1000;
/** How long a hole in the seqs of live messages may stay before the client syncs it. */
const GAP_FILL_MS = 1500;
const SYNC_PAGE = 500;
const LAST_SEQ_MAX = Number.MAX_SAFE_INTEGER;

interface Pending {
  resolve: (body: Json) => void;
  reject: (err: JimError) => void;
  deadline: number;
}

interface OutChat {
  id: string;
  key: string;
  body: Json;
  resolve: (ack: ChatAck) => void;
  reject: (err: JimError) => void;
  sentAt: number;
}

interface PendingJoin extends Pending {
  groupId: string;
}

export class JimWsClient {
  #url: string;
  readonly #options: ClientOptions;
  #userId: string;
  #ws: WebSocket | undefined;
  #status: ConnectionStatus = "connecting";
  #online = false;
  #everLoggedIn = false;
  #stopped = false;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #lastReceivedAt = 0;
  #lastHeartbeatAt = 0;
  readonly #pending = new Map<number, Pending[]>();
  #joins: PendingJoin[] = [];
  readonly #outbox: OutChat[] = [];
  #inflight: OutChat | undefined;
  readonly #seqs = new SeqTracker();
  readonly #gapTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #handlers = new Map<keyof ClientEvents, Set<(...args: never[]) => void>>();
  #closeWaiters: (() => void)[] = [];
  #settleLogin!: { resolve: () => void; reject: (e: JimError) => void };

  /** Settles with the first login: resolves on 10007, rejects on 10008 or a failed connection. */
  readonly loggedIn: Promise<void>;

  constructor(url: string, options: ClientOptions = {}) {
    this.#options = options;
    this.#url = withExtensions(url);
    const query = new URL(this.#url).searchParams;
    this.#userId = options.login?.userId ?? query.get("username") ?? query.get("userId") ??
      options.userId ?? "";
    this.loggedIn = new Promise((resolve, reject) => this.#settleLogin = { resolve, reject });
    // Callers that only use events need not handle the rejection.
    this.loggedIn.catch(() => {});
    this.#open();
  }

  /** The logged-in user ("" until known with a token login). */
  get userId(): string {
    return this.#userId;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Logged in on the current connection. */
  get online(): boolean {
    return this.#online;
  }

  /** Messages sent and not acked yet, oldest first. */
  get unacked(): readonly string[] {
    return this.#outbox.map((c) => c.id);
  }

  /** Registers an event handler; returns the function that removes it. */
  on<K extends keyof ClientEvents>(type: K, fn: ClientEvents[K]): () => void {
    let set = this.#handlers.get(type);
    if (!set) this.#handlers.set(type, set = new Set());
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Where the next reconnect goes, e.g. `loginUrl(base, {token})` once a token was issued. */
  setUrl(url: string, login?: ClientOptions["login"]): void {
    this.#url = withExtensions(url);
    if (login !== undefined) this.#options.login = login;
  }

  /** The seq up to which the client has a conversation (0 when it does not know it). */
  lastSeqOf(key: string): number {
    return this.#seqs.lastSeq(key);
  }

  /** Reconnects at once instead of waiting for the backoff (e.g. when the network is back). */
  reconnectNow(): void {
    if (this.#stopped || !this.#everLoggedIn || this.#ws) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#open();
  }

  /** Stops for good: no reconnect; unfinished requests and chats reject. Resolves once closed. */
  close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const ws = this.#ws;
    const closed = ws ? new Promise<void>((resolve) => this.#closeWaiters.push(resolve)) : Promise.resolve();
    const err = new JimError("client closed");
    for (const chat of this.#outbox.splice(0)) chat.reject(err);
    this.#inflight = undefined;
    if (ws) {
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    } else {
      this.#settleLogin.reject(err);
      this.#setStatus("offline");
    }
    return closed;
  }

  // ---- requests -------------------------------------------------------------------------

  /** Sends a chat (cmd 11); unacked chats survive reconnects and are resent with the same id. */
  sendChat(
    to: ConvRef,
    content: string,
    options: { id?: string; msgType?: number; createTime?: number; extras?: Record<string, unknown> } = {},
  ): PendingChat {
    const id = options.id ?? newMessageId();
    const message: ChatMessage = {
      id,
      chatType: to.groupId !== undefined ? 1 : 2,
      from: this.#userId,
      ...(to.groupId !== undefined ? { groupId: to.groupId } : { to: to.peer }),
      content,
      msgType: options.msgType ?? 0,
      createTime: options.createTime ?? Date.now(),
      ...(options.extras ? { extras: options.extras } : {}),
    };
    const ack = new Promise<ChatAck>((resolve, reject) => {
      if (this.#stopped) return reject(new JimError("client closed"));
      const existing = this.#outbox.find((c) => c.id === id);
      if (existing) existing.reject(new JimError("sent again"));
      if (existing) this.#outbox.splice(this.#outbox.indexOf(existing), 1);
      if (existing && this.#inflight === existing) this.#inflight = undefined;
      this.#outbox.push({
        id,
        key: convKey(to),
        body: { cmd: CMD.CHAT_REQ, ...message },
        resolve,
        reject,
        sentAt: 0,
      });
      this.#pump();
    });
    return { id, message, ack };
  }

  /** cmd 23 → 24: a page of a conversation by seq (ascending). Without a seq: from the start. */
  async sync(
    ref: ConvRef,
    query: { afterSeq?: number; beforeSeq?: number; limit?: number } = {},
  ): Promise<SyncPage> {
    const data = await this.#request(CMD.SYNC_REQ, { ...refBody(ref), ...query }, CMD.SYNC_RESP);
    const page = (data.data ?? {}) as Json;
    return {
      chatType: Number(page.chatType) === 1 ? 1 : 2,
      peer: page.peer as string | undefined,
      groupId: page.groupId as string | undefined,
      hasMore: page.hasMore === true,
      lastSeq: Number(page.lastSeq ?? 0),
      messages: ((page.messages ?? []) as Json[]).map(toMessage),
    };
  }

  /** The newest `limit` messages of a conversation. */
  latest(ref: ConvRef, limit = 50): Promise<SyncPage> {
    return this.sync(ref, { beforeSeq: LAST_SEQ_MAX, limit });
  }

  /** cmd 25 → 26: conversations, most recently active first. */
  async conversations(limit = 1000): Promise<ConversationInfo[]> {
    const data = await this.#request(CMD.CONVERSATIONS_REQ, { limit }, CMD.CONVERSATIONS_RESP);
    const list = ((data.data as Json | undefined)?.conversations ?? []) as Json[];
    return list.map((c) => ({
      chatType: Number(c.chatType) === 1 ? 1 : 2,
      peer: c.peer as string | undefined,
      groupId: c.groupId as string | undefined,
      lastSeq: Number(c.lastSeq ?? 0),
      readSeq: Number(c.readSeq ?? 0),
      unread: Number(c.unread ?? 0),
      lastMessage: c.lastMessage ? toMessage(c.lastMessage as Json) : undefined,
    }));
  }

  /** cmd 27 → 28: read up to `seq`; resolves with the saved read position. */
  async markRead(ref: ConvRef, seq: number): Promise<number> {
    const data = await this.#request(CMD.READ_REQ, { ...refBody(ref), seq }, CMD.READ_RESP);
    return Number((data.data as Json | undefined)?.readSeq ?? 0);
  }

  /** cmd 30 → 31: for each seq, how many users other than its sender have read it. */
  async readCounts(ref: ConvRef, seqs: number[]): Promise<Record<string, number>> {
    const data = await this.#request(CMD.READ_COUNT_REQ, { ...refBody(ref), seqs }, CMD.READ_COUNT_RESP);
    return ((data.data as Json | undefined)?.counts ?? {}) as Record<string, number>;
  }

  /** cmd 34 → 35: full-text search of the user's conversations, newest first. */
  async search(
    text: string,
    options: { ref?: ConvRef; offset?: number; limit?: number } = {},
  ): Promise<ChatMessage[]> {
    const body: Json = { text, offset: options.offset ?? 0, limit: options.limit ?? 50 };
    if (options.ref) Object.assign(body, refBody(options.ref));
    const data = await this.#request(CMD.SEARCH_REQ, body, CMD.SEARCH_RESP);
    return (((data.data as Json | undefined)?.messages ?? []) as Json[]).map(toMessage);
  }

  /** cmd 15 → 16: recalls one of the user's own messages. */
  async recall(id: string): Promise<RecallNotice> {
    const data = await this.#request(CMD.CANCEL_MSG_REQ, { id }, CMD.CANCEL_MSG_RESP);
    return data.data as RecallNotice;
  }

  /** cmd 17 → 18: a user (type 0 online, 1 offline, 2 all); for oneself, groups with members. */
  async getUser(userId: string, type: 0 | 1 | 2 = 0): Promise<UserInfo | undefined> {
    const data = await this.#request(CMD.GET_USER_REQ, { userId, type }, CMD.GET_USER_RESP);
    return data.data as UserInfo | undefined;
  }

  /** cmd 21 → 22: a login token for reconnects (`?token=` or cmd 5). */
  async token(): Promise<TokenInfo> {
    const data = await this.#request(CMD.TOKEN_REQ, {}, CMD.TOKEN_RESP);
    return data.data as TokenInfo;
  }

  /** cmd 7: joins (or creates) a group; resolves with the joiner's own cmd 9. */
  joinGroup(groupId: string, name?: string): Promise<GroupNotice> {
    if (!this.#online || !this.#ws) return Promise.reject(new JimError("not connected"));
    return new Promise((resolve, reject) => {
      this.#joins.push({
        groupId,
        resolve: (body) => resolve({ group: String(body.group), user: body.user as GroupUser }),
        reject,
        deadline: Date.now() + this.#timeoutMs,
      });
      this.#send({ cmd: CMD.JOIN_GROUP_REQ, groupId, name });
    });
  }

  /** cmd 32: tells the other side whether the user is typing (no reply; dropped when offline). */
  typing(ref: ConvRef, typing: boolean): void {
    if (this.#online) this.#send({ cmd: CMD.TYPING_REQ, ...refBody(ref), typing });
  }

  // ---- connection -----------------------------------------------------------------------

  get #timeoutMs(): number {
    return this.#options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  #open(): void {
    this.#setStatus(this.#everLoggedIn ? "reconnecting" : "connecting");
    let ws: WebSocket;
    try {
      ws = this.#options.createWebSocket?.(this.#url) ?? new WebSocket(this.#url);
    } catch (err) {
      this.#settleLogin.reject(new JimError(`cannot connect: ${(err as Error).message}`));
      this.#stopped = true;
      this.#setStatus("offline");
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#lastReceivedAt = Date.now();
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      const login = this.#options.login;
      if (login) this.#send({ cmd: CMD.LOGIN_REQ, ...login, extensions: true });
    };
    ws.onmessage = (e: MessageEvent) => {
      if (ws !== this.#ws) return;
      const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer);
      let body: Json;
      try {
        body = JSON.parse(text);
      } catch {
        return;
      }
      if (body && typeof body === "object") this.#onPacket(body);
    };
    ws.onclose = (e: CloseEvent) => this.#onClose(ws, e.code, e.reason);
    ws.onerror = () => {
      // A close event follows.
    };
  }

  #send(body: Json): void {
    try {
      this.#ws?.send(JSON.stringify(body));
    } catch {
      // Closing: the close handler resends what matters.
    }
  }

  /** Drops a connection that looks dead without waiting for the close handshake. */
  #drop(): void {
    const ws = this.#ws;
    if (!ws) return;
    try {
      ws.close(4000, "unresponsive");
    } catch {
      // already closing
    }
    this.#onClose(ws);
  }

  #onClose(ws: WebSocket, code?: number, reason = ""): void {
    if (ws === this.#ws) {
      const kicked = code === KICKED_CLOSE_CODE && !this.#stopped;
      if (kicked) this.#stopped = true;
      this.#ws = undefined;
      this.#online = false;
      clearInterval(this.#ticker);
      this.#ticker = undefined;
      for (const t of this.#gapTimers.values()) clearTimeout(t);
      this.#gapTimers.clear();
      const lost = new JimError("connection lost");
      for (const queue of this.#pending.values()) for (const p of queue.splice(0)) p.reject(lost);
      for (const j of this.#joins.splice(0)) j.reject(lost);
      this.#inflight = undefined;
      if (this.#stopped || !this.#everLoggedIn || this.#options.reconnect === false) {
        this.#stopped = true;
        this.#settleLogin.reject(new JimError("connection closed before login"));
        for (const chat of this.#outbox.splice(0)) chat.reject(lost);
        this.#setStatus("offline");
        if (kicked) this.#emit("kicked", { reason });
      } else {
        this.#scheduleReconnect();
      }
    }
    if (!this.#ws) {
      const waiters = this.#closeWaiters;
      this.#closeWaiters = [];
      for (const w of waiters) w();
    }
  }

  #scheduleReconnect(): void {
    const cfg = this.#options.reconnect || {};
    const min = cfg.minDelayMs ?? 500;
    const max = cfg.maxDelayMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.#attempt, 16)) * (0.5 + Math.random() / 2);
    this.#attempt++;
    this.#setStatus("reconnecting");
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#stopped) this.#open();
    }, delay);
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#emit("status", status);
  }

  #tick(): void {
    const now = Date.now();
    const hb = this.#options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (now - this.#lastHeartbeatAt >= hb) {
      this.#lastHeartbeatAt = now;
      this.#send({ cmd: CMD.HEARTBEAT_REQ, hbbyte: -127 });
    }
    let expired = now - this.#lastReceivedAt > 2 * hb + 5000;
    if (this.#inflight && now - this.#inflight.sentAt > this.#timeoutMs) expired = true;
    for (const queue of this.#pending.values()) if (queue.length && queue[0].deadline < now) expired = true;
    if (this.#joins.length && this.#joins[0].deadline < now) expired = true;
    // A late reply would be matched to the wrong request: start over on a fresh connection.
    if (expired) this.#drop();
  }

  // ---- incoming -------------------------------------------------------------------------

  #onPacket(body: Json): void {
    this.#lastReceivedAt = Date.now();
    const command = Number(body.command);
    const code = body.code === undefined ? undefined : Number(body.code);
    switch (command) {
      case CMD.LOGIN_RESP:
        return code === 10007 ? void this.#onLogin() : this.#onLoginFailed(body);
      case CMD.CHAT_REQ:
        return this.#ingest(toMessage((body.data ?? {}) as Json), true);
      case CMD.CHAT_RESP:
        return this.#onChatAck(body, code);
      case CMD.JOIN_GROUP_NOTIFY:
        return this.#onJoinNotify(body);
      case CMD.JOIN_GROUP_RESP:
        return void this.#joins.shift()?.reject(replyError(body));
      case CMD.EXIT_GROUP_NOTIFY:
        return this.#emit("exit", body.data as GroupNotice);
      case CMD.CANCEL_MSG_RESP:
        if (code === undefined) return this.#emit("recall", body.data as RecallNotice);
        break;
      case CMD.READ_NOTIFY:
        return this.#emit("read", body.data as ReadNotice);
      case CMD.TYPING_NOTIFY:
        // With a code it is the error reply of a cmd 32 (nothing waits for it).
        if (code === undefined) this.#emit("typing", body.data as TypingNotice);
        return;
      case CMD.HEARTBEAT_REQ:
      case CMD.UNKNOWN:
        return;
    }
    const pending = this.#pending.get(command)?.shift();
    if (!pending) return;
    if (code !== undefined && OK_CODES[command] && !OK_CODES[command].includes(code)) {
      pending.reject(replyError(body));
    } else {
      pending.resolve(body);
    }
  }

  async #onLogin(): Promise<void> {
    const reconnect = this.#everLoggedIn;
    this.#everLoggedIn = true;
    this.#online = true;
    this.#attempt = 0;
    this.#lastHeartbeatAt = Date.now();
    clearInterval(this.#ticker);
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    const ws = this.#ws;
    try {
      if (!this.#userId) this.#userId = (await this.token()).userId;
    } catch {
      return; // the connection went away; the next login tries again
    }
    this.#setStatus("online");
    this.#settleLogin.resolve();
    this.#emit("login", { reconnect });
    this.#pump();
    try {
      const list = await this.conversations(1000);
      const behind: string[] = [];
      for (const c of list) {
        const key = convKey(c.groupId !== undefined ? { groupId: c.groupId } : { peer: c.peer ?? "" });
        if (!this.#seqs.has(key)) this.#seqs.follow(key, c.lastSeq);
        else if (c.lastSeq > this.#seqs.lastSeq(key)) behind.push(key);
      }
      this.#emit("conversations", list);
      for (const key of behind) {
        if (ws !== this.#ws) return;
        await this.#catchUp(key);
      }
      this.#emit("synced");
    } catch {
      // The connection dropped during the catch-up; the next login starts it again.
    }
  }

  #onLoginFailed(body: Json): void {
    const err = replyError(body);
    this.#stopped = true;
    this.#settleLogin.reject(err);
    if (this.#everLoggedIn) this.#emit("loginFailed", err);
    // The server closes the connection; the close handler rejects what is left.
  }

  #onChatAck(body: Json, code: number | undefined): void {
    const data = body.data as Json | undefined;
    const id = typeof data?.id === "string" ? data.id : undefined;
    const chat = id !== undefined ? this.#outbox.find((c) => c.id === id) : this.#inflight;
    if (!chat) return;
    this.#outbox.splice(this.#outbox.indexOf(chat), 1);
    if (this.#inflight === chat) this.#inflight = undefined;
    if (code === 10000 || code === 10001) {
      const seq = Number(data?.seq ?? 0);
      if (seq > 0) this.#note(chat.key, seq);
      chat.resolve({
        id: chat.id,
        seq,
        createTime: Number(data?.createTime ?? chat.body.createTime),
        online: code === 10000,
        duplicate: data?.duplicate === true,
      });
    } else {
      chat.reject(replyError(body));
    }
    this.#pump();
  }

  #onJoinNotify(body: Json): void {
    const notice: GroupNotice = { group: String(body.group ?? ""), user: (body.user ?? {}) as GroupUser };
    if (notice.user.userId === this.#userId) {
      const i = this.#joins.findIndex((j) => j.groupId === notice.group);
      if (i >= 0) this.#joins.splice(i, 1)[0].resolve(body);
    }
    this.#emit("join", notice);
  }

  /** Sends the oldest unacked chat when none is in flight. */
  #pump(): void {
    if (!this.#online || this.#inflight || this.#outbox.length === 0) return;
    const chat = this.#outbox[0];
    this.#inflight = chat;
    chat.sentAt = Date.now();
    this.#send(chat.body);
  }

  #request(cmd: number, body: Json, replyCmd: number): Promise<Json> {
    if (!this.#online || !this.#ws) return Promise.reject(new JimError("not connected"));
    return new Promise((resolve, reject) => {
      let queue = this.#pending.get(replyCmd);
      if (!queue) this.#pending.set(replyCmd, queue = []);
      queue.push({ resolve, reject, deadline: Date.now() + this.#timeoutMs });
      this.#send({ cmd, ...body });
    });
  }

  // ---- seq tracking and catch-up --------------------------------------------------------

  /** Emits a message unless its seq was seen already. */
  #ingest(message: ChatMessage, live: boolean): void {
    if (message.seq !== undefined && !this.#note(messageConvKey(this.#userId, message), message.seq)) return;
    this.#emit("message", message, { live });
  }

  /** Records a seq; false when it was seen before. A hole is synced if it stays open. */
  #note(key: string, seq: number): boolean {
    const noted = this.#seqs.note(key, seq);
    if (noted === "gap") this.#scheduleGapFill(key);
    return noted !== "duplicate";
  }

  /** A live seq skipped one: give the missing message time to arrive, then sync the hole. */
  #scheduleGapFill(key: string): void {
    if (this.#gapTimers.has(key) || !this.#online) return;
    this.#gapTimers.set(
      key,
      setTimeout(() => {
        this.#gapTimers.delete(key);
        if (this.#online && this.#seqs.hasGap(key)) this.#catchUp(key).catch(() => {});
      }, GAP_FILL_MS),
    );
  }

  /** Syncs a conversation from the last seq held, page by page, emitting what was missed. */
  async #catchUp(key: string): Promise<void> {
    const ref = refOfKey(key);
    for (;;) {
      const page = await this.sync(ref, { afterSeq: this.#seqs.lastSeq(key), limit: SYNC_PAGE });
      for (const m of page.messages) this.#ingest(m, false);
      this.#seqs.pageDone(key, page);
      if (!page.hasMore || page.messages.length === 0) return;
    }
  }

  #emit<K extends keyof ClientEvents>(type: K, ...args: Parameters<ClientEvents[K]>): void {
    const set = this.#handlers.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (...a: Parameters<ClientEvents[K]>) => void)(...args);
      } catch (err) {
        console.error(`jim client: ${type} handler failed`, err);
      }
    }
  }
}
