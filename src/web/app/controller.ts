/**
 * Connects the client to the state and carries out what the user asks: open a conversation
 * (latest page, then older ones), send / retry / recall, mark read while the conversation is on
 * screen, typing indicators, search, new private chats and group joins. No DOM here: the view
 * supplies the few things only it knows (ViewHooks).
 */
import {
  type ChatAck,
  JimError,
  type JimWsClient,
  type PendingChat,
  refOfKey,
} from "../../client/ws_client.ts";
import type { AppState } from "./state.ts";

export interface ViewHooks {
  /** The open conversation is on screen and the page is visible. */
  chatVisible(): boolean;
  /** Shows the chat pane (narrow screens show one pane at a time). */
  showChatPane(): void;
  /** Renders pending changes now. */
  flush(): void;
  /** Scrolls to a rendered message; false when it is not rendered. */
  reveal(seq: number): boolean;
}

/** Shown (until the page is reloaded) after the server closed the session with code 4001. */
export const KICKED_NOTICE =
  "The server closed this session (an administrator disconnected you). Reload the page to connect again.";

const PAGE = 50;
const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;
const NOTICE_MS = 6000;
/** Older pages fetched at most to reach a search result. */
const MAX_REVEAL_PAGES = 40;

export class ChatController {
  readonly client: JimWsClient;
  readonly state: AppState;
  readonly #view: ViewHooks;
  readonly #offs: (() => void)[] = [];
  readonly #ticker: ReturnType<typeof setInterval>;
  #ticks = 0;
  #disposed = false;
  #typingKey: string | undefined;
  #typingSentAt = 0;
  #typingIdle: ReturnType<typeof setTimeout> | undefined;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  #onlineTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #reading = new Set<string>();
  readonly #countTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(client: JimWsClient, state: AppState, view: ViewHooks) {
    this.client = client;
    this.state = state;
    this.#view = view;
    state.me = client.userId;
    this.#listen();
    this.#ticker = setInterval(() => this.#tick(), 1000);
  }

  dispose(): void {
    this.#disposed = true;
    for (const off of this.#offs) off();
    clearInterval(this.#ticker);
    clearTimeout(this.#typingIdle);
    clearTimeout(this.#noticeTimer);
    clearTimeout(this.#onlineTimer);
    for (const t of this.#countTimers.values()) clearTimeout(t);
  }

  #listen(): void {
    const { client, state } = this;
    const on = this.#offs;
    on.push(client.on("status", (status) => {
      state.connection = status;
      state.touch("status");
      if (status === "online") this.markReadIfVisible();
    }));
    on.push(client.on("kicked", () => {
      // No automatic reconnect after an operator closed the session: say so until the user acts.
      clearTimeout(this.#noticeTimer);
      state.notice = KICKED_NOTICE;
      state.touch("notice");
    }));
    on.push(client.on("login", () => {
      state.me = client.userId;
      this.#refreshOnline();
      const conv = state.selected ? state.conversations.get(state.selected) : undefined;
      if (conv && !conv.loaded) this.#loadLatest(conv.key);
      if (conv) this.#refreshReadCounts(conv.key);
    }));
    on.push(client.on("conversations", (list) => {
      state.applyList(list);
      this.markReadIfVisible();
    }));
    on.push(client.on("message", (m) => {
      state.addMessages([m]);
      if (m.from !== state.me) {
        state.setTyping(this.#keyOf(m.chatType, m.from, m.to, m.groupId), m.from, false);
      }
      this.markReadIfVisible();
    }));
    on.push(client.on("join", (n) => {
      state.joined(n.group, n.user);
      // A group of one's own: learn who else is online in it.
      if (n.user.userId === state.me && client.online) this.#refreshOnline();
    }));
    on.push(client.on("exit", (n) => state.left(n.group, n.user)));
    on.push(
      client.on(
        "recall",
        (n) => state.recalled(this.#keyOf(n.chatType, n.from, n.to, n.groupId), n.from, n.id),
      ),
    );
    on.push(client.on("typing", (n) => {
      state.setTyping(this.#keyOf(n.chatType, n.from, n.to, n.groupId), n.from, n.typing);
    }));
    on.push(client.on("read", (n) => {
      if (n.chatType === 1) {
        const key = `g:${n.groupId}`;
        if (n.from === state.me) state.setReadSeq(key, n.readSeq);
        else this.#refreshReadCounts(key);
      } else if (n.from === state.me) {
        state.setReadSeq(`p:${n.to}`, n.readSeq);
      } else {
        state.setPeerRead(`p:${n.from}`, n.readSeq);
      }
    }));
  }

  /** Who is online in the user's groups (cmd 17 type 0), at most one request at a time. */
  #refreshOnline(): void {
    if (this.#onlineTimer !== undefined) return;
    this.#onlineTimer = setTimeout(() => {
      this.#onlineTimer = undefined;
      this.client.getUser(this.client.userId, 0).then((info) => this.state.setOnlineFrom(info), () => {});
    }, 100);
  }

  /** The conversation of a notice from the user's point of view. */
  #keyOf(chatType: number, from: string, to: string | undefined, groupId: string | undefined): string {
    if (chatType === 1) return `g:${groupId}`;
    return `p:${from === this.state.me ? to : from}`;
  }

  #tick(): void {
    this.state.expireTyping();
    // Time labels and the recall window move on.
    if (++this.#ticks % 5 === 0) this.state.touch("chat");
  }

  notify(text: string): void {
    this.state.notice = text;
    this.state.touch("notice");
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => {
      this.state.notice = "";
      this.state.touch("notice");
    }, NOTICE_MS);
  }

  // ---- conversations ----------------------------------------------------------------------

  async open(key: string): Promise<void> {
    const { state } = this;
    const conv = state.ensure(key);
    if (state.selected !== key) this.#stopTyping();
    state.selected = key;
    state.touch("list", "chat");
    this.#view.showChatPane();
    if (conv.kind === "p" && conv.id !== state.me && this.client.online) {
      this.client.getUser(conv.id, 2).then(
        (u) => state.setPresence(conv.id, u?.status === "online"),
        () => {},
      );
    }
    if (!conv.loaded) await this.#loadLatest(key);
    this.markReadIfVisible();
    this.#refreshReadCounts(key);
  }

  /** Narrow screens: back to the list (the conversation is no longer being read). */
  close(): void {
    this.#stopTyping();
    this.state.selected = undefined;
    this.state.touch("list", "chat");
  }

  async #loadLatest(key: string): Promise<void> {
    const conv = this.state.ensure(key);
    if (conv.loading || !this.client.online) return;
    conv.loading = true;
    this.state.touch("chat");
    try {
      const page = await this.client.latest(refOfKey(key), PAGE);
      conv.lastSeq = Math.max(conv.lastSeq, page.lastSeq);
      this.state.addMessages(page.messages);
      conv.loaded = true;
      conv.hasOlder = page.hasMore;
    } catch (err) {
      this.notify(`Could not load messages: ${describe(err)}`);
    } finally {
      conv.loading = false;
      this.state.touch("chat");
    }
  }

  async loadOlder(): Promise<void> {
    const key = this.state.selected;
    const conv = key ? this.state.conversations.get(key) : undefined;
    if (!key || !conv || conv.loading || !this.client.online) return;
    const oldest = conv.messages.find((m) => m.seq !== undefined)?.seq;
    if (oldest === undefined || !conv.loaded) return this.#loadLatest(key);
    if (!conv.hasOlder) return;
    conv.loading = true;
    this.state.touch("chat");
    try {
      const page = await this.client.sync(refOfKey(key), { beforeSeq: oldest, limit: PAGE });
      this.state.addMessages(page.messages);
      conv.hasOlder = page.hasMore;
      this.#refreshReadCounts(key);
    } catch (err) {
      this.notify(`Could not load older messages: ${describe(err)}`);
    } finally {
      conv.loading = false;
      this.state.touch("chat");
    }
  }

  /** Marks the open conversation read up to its last message, when the user can see it. */
  markReadIfVisible(): void {
    const key = this.state.selected;
    const conv = key ? this.state.conversations.get(key) : undefined;
    if (!key || !conv || this.#reading.has(key) || !this.client.online || !this.#view.chatVisible()) return;
    if (conv.lastSeq <= conv.readSeq) return;
    const seq = conv.lastSeq;
    const before = conv.readSeq;
    this.state.setReadSeq(key, seq); // shown at once; undone if the server refuses
    this.#reading.add(key);
    this.client.markRead(refOfKey(key), seq)
      .then((readSeq) => this.state.setReadSeq(key, readSeq))
      .catch(() => {
        if (conv.readSeq === seq) conv.readSeq = before;
        this.state.touch("list");
      })
      .finally(() => {
        this.#reading.delete(key);
        if (conv.lastSeq > conv.readSeq) this.markReadIfVisible();
      });
  }

  /** Read state of own messages: "read" (private) and "read by N" (groups), via cmd 30. */
  #refreshReadCounts(key: string): void {
    if (this.#countTimers.has(key)) return;
    this.#countTimers.set(
      key,
      setTimeout(() => {
        this.#countTimers.delete(key);
        const conv = this.state.conversations.get(key);
        if (!conv || key !== this.state.selected || !this.client.online) return;
        const seqs = conv.messages.filter((m) => m.mine && m.seq !== undefined && !m.recalled)
          .map((m) => m.seq!).slice(-200);
        if (seqs.length === 0) return;
        this.client.readCounts(refOfKey(key), seqs).then((c) => this.state.setReadCounts(key, c), () => {});
      }, 250),
    );
  }

  // ---- sending ----------------------------------------------------------------------------

  /** Sends to the open conversation; false when there is nothing to send. */
  send(text: string): boolean {
    const key = this.state.selected;
    const content = text.replace(/\s+$/, "");
    if (!key || content.trim() === "") return false;
    const pending = this.client.sendChat(refOfKey(key), content);
    this.state.addLocal(pending.message);
    this.#track(key, pending);
    this.#stopTyping();
    return true;
  }

  retry(id: string): void {
    const key = this.state.selected;
    const item = key ? this.state.retrying(key, id) : undefined;
    if (!key || !item) return;
    this.#track(key, this.client.sendChat(refOfKey(key), item.content, { id, createTime: item.createTime }));
  }

  #track(key: string, pending: PendingChat): void {
    pending.ack.then(
      (ack: ChatAck) => !this.#disposed && this.state.acked(key, ack.id, ack.seq, ack.createTime),
      (err) => !this.#disposed && this.state.failed(key, pending.id, describe(err)),
    );
  }

  async recall(id: string): Promise<void> {
    const key = this.state.selected;
    if (!key) return;
    try {
      await this.client.recall(id);
      this.state.recalled(key, this.state.me, id);
    } catch (err) {
      const code = err instanceof JimError ? err.code : undefined;
      this.notify(
        code === 10031
          ? "Too late: messages can only be recalled shortly after sending."
          : code === 10032
          ? "This message cannot be recalled."
          : `Recall failed: ${describe(err)}`,
      );
    }
  }

  /** The composer's text changed: tell the other side, at most every few seconds. */
  typed(text: string): void {
    const key = this.state.selected;
    if (!key || text.trim() === "") return this.#stopTyping();
    const now = Date.now();
    if (this.#typingKey !== key || now - this.#typingSentAt > TYPING_REPEAT_MS) {
      this.client.typing(refOfKey(key), true);
      this.#typingKey = key;
      this.#typingSentAt = now;
    }
    clearTimeout(this.#typingIdle);
    this.#typingIdle = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
  }

  #stopTyping(): void {
    clearTimeout(this.#typingIdle);
    if (this.#typingKey === undefined) return;
    this.client.typing(refOfKey(this.#typingKey), false);
    this.#typingKey = undefined;
    this.#typingSentAt = 0;
  }

  // ---- finding people, groups and messages -----------------------------------------------

  async startPrivate(peer: string): Promise<boolean> {
    const userId = peer.trim();
    if (!userId) return false;
    try {
      await this.client.getUser(userId, 2);
    } catch (err) {
      if (err instanceof JimError && err.code === 10004) {
        this.notify(`There is no user “${userId}”.`);
        return false;
      }
      // Offline or a server problem: open anyway; sending will tell.
    }
    await this.open(`p:${userId}`);
    return true;
  }

  async joinGroup(groupId: string): Promise<boolean> {
    const id = groupId.trim();
    if (!id) return false;
    try {
      await this.client.joinGroup(id);
    } catch (err) {
      this.notify(`Could not join “${id}”: ${describe(err)}`);
      return false;
    }
    await this.open(`g:${id}`);
    return true;
  }

  async search(text: string): Promise<void> {
    const query = text.trim();
    if (!query) return this.clearSearch();
    try {
      const results = await this.client.search(query, { limit: 50 });
      this.state.searchText = query;
      this.state.searchResults = results;
      this.state.touch("search");
    } catch (err) {
      this.notify(`Search failed: ${describe(err)}`);
    }
  }

  clearSearch(): void {
    this.state.searchResults = undefined;
    this.state.searchText = "";
    this.state.touch("search");
  }

  /** Opens a search result's conversation and scrolls to it, loading older pages if needed. */
  async openResult(key: string, seq: number): Promise<void> {
    await this.open(key);
    for (let i = 0; i < MAX_REVEAL_PAGES; i++) {
      this.#view.flush();
      if (this.#view.reveal(seq)) return;
      const conv = this.state.conversations.get(key);
      if (!conv?.loaded || !conv.hasOlder || this.state.selected !== key) break;
      await this.loadOlder();
    }
    this.notify("That message is not available any more.");
  }
}

export function describe(err: unknown): string {
  if (err instanceof JimError) {
    switch (err.code) {
      case 10024:
        return "not allowed";
      case 10025:
        return "no such user";
      case 10026:
        return "limit exceeded";
      case 10028:
        return "server busy, try again";
      case undefined:
        return err.message;
    }
    return `${err.message} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}
