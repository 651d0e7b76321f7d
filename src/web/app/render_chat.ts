/// <reference lib="dom" />
/**
 * Renders the open conversation: title, messages (`.message` with `.from`, `.content`, `.status`,
 * `.recall`, `.retry`), the "load older" button, the typing line and the composer's state.
 * Message elements are kept per message and updated in place; the scroll position follows the
 * newest message when the user is at the bottom and stays put when older messages are prepended.
 */
import { el, formatTime, setAttr, setText, show, syncChildren } from "./dom.ts";
import { type AppState, type Conversation, type MessageItem, RECALLED_TEXT } from "./state.ts";

export interface ChatElements {
  pane: HTMLElement;
  title: HTMLElement;
  subtitle: HTMLElement;
  scroller: HTMLElement;
  list: HTMLElement;
  loadOlder: HTMLButtonElement;
  empty: HTMLElement;
  typing: HTMLElement;
  input: HTMLTextAreaElement;
  send: HTMLButtonElement;
}

let shownKey: string | undefined;
const nodes = new Map<string, HTMLElement>();

/** How long after sending the recall button is offered (the server's default --recall-window). */
export const RECALL_WINDOW_MS = 120_000;

export function renderChat(els: ChatElements, state: AppState, now = Date.now()): void {
  const conv = state.selected ? state.conversations.get(state.selected) : undefined;
  const switched = conv?.key !== shownKey;
  if (switched) {
    nodes.clear();
    els.list.replaceChildren();
    shownKey = conv?.key;
  }
  show(els.empty, !conv);
  els.input.disabled = !conv;
  els.send.disabled = !conv;
  if (!conv) {
    setText(els.title, "No conversation open");
    setText(els.subtitle, "");
    setText(els.typing, "");
    show(els.loadOlder, false);
    return;
  }
  setText(els.title, conv.kind === "g" ? `#${conv.id}` : conv.id);
  setText(els.subtitle, subtitleOf(conv, state));
  setAttr(els.input, "placeholder", `Message ${conv.kind === "g" ? "#" : ""}${conv.id}`);
  show(els.loadOlder, conv.hasOlder);
  els.loadOlder.disabled = conv.loading;
  setText(els.loadOlder, conv.loading ? "Loading…" : "Load older messages");
  setText(els.typing, typingText(conv));

  const scroller = els.scroller;
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  const firstBefore = els.list.firstElementChild;
  const lastBefore = els.list.lastElementChild;

  const wanted: HTMLElement[] = [];
  const alive = new Set<string>();
  for (const item of conv.messages) {
    const key = `${item.from}\u0000${item.id}`;
    alive.add(key);
    let node = nodes.get(key);
    if (!node) nodes.set(key, node = makeMessage(item));
    updateMessage(node, item, conv, now);
    wanted.push(node);
  }
  for (const key of [...nodes.keys()]) if (!alive.has(key)) nodes.delete(key);
  syncChildren(els.list, wanted);

  const last = els.list.lastElementChild as HTMLElement | null;
  const ownNewLast = last !== lastBefore && last?.classList.contains("mine");
  if (switched || atBottom || ownNewLast) {
    scroller.scrollTop = scroller.scrollHeight;
  } else if (els.list.firstElementChild !== firstBefore) {
    // Older messages went in above: keep what the user was looking at in place.
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  }
}

/** Scrolls a message into view and highlights it briefly (search results). */
export function revealMessage(els: ChatElements, seq: number): boolean {
  const node = els.list.querySelector<HTMLElement>(`.message[data-seq="${seq}"]`);
  if (!node) return false;
  node.scrollIntoView({ block: "center" });
  node.classList.add("highlight");
  setTimeout(() => node.classList.remove("highlight"), 2500);
  return true;
}

function subtitleOf(conv: Conversation, state: AppState): string {
  if (conv.kind === "g") {
    let n = 0;
    for (const groups of state.online.values()) if (groups.has(conv.id)) n++;
    return `group · ${n} online`;
  }
  if (conv.id === state.me) return "notes to yourself";
  const online = state.isOnline(conv.id);
  return online === undefined ? "" : online ? "online" : "offline";
}

function typingText(conv: Conversation): string {
  const users = [...conv.typing.keys()];
  if (users.length === 0) return "";
  if (users.length === 1) return `${users[0]} is typing…`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`;
  return `${users.length} people are typing…`;
}

function makeMessage(item: MessageItem): HTMLElement {
  return el(
    "div",
    { class: "message", "data-id": item.id, "data-from": item.from },
    el("div", { class: "head" }, el("span", { class: "from" }, item.from), el("time", { class: "time" })),
    el("div", { class: "content" }),
    el(
      "div",
      { class: "meta" },
      el("span", { class: "status" }),
      el("span", { class: "read-by", hidden: true }),
    ),
  );
}

function updateMessage(node: HTMLElement, item: MessageItem, conv: Conversation, now: number): void {
  node.classList.toggle("mine", item.mine);
  node.classList.toggle("theirs", !item.mine);
  node.classList.toggle("recalled", item.recalled);
  node.classList.toggle("failed", item.status === "failed");
  setAttr(node, "data-seq", item.seq === undefined ? undefined : String(item.seq));
  const time = node.querySelector("time")!;
  setText(time, formatTime(item.createTime, now));
  setAttr(time, "datetime", new Date(item.createTime).toISOString());
  setText(node.querySelector(".content")!, item.recalled ? RECALLED_TEXT : item.content);

  const status = node.querySelector<HTMLElement>(".status")!;
  setText(status, item.mine ? (item.status ?? "") : "");
  setAttr(status, "title", item.error);
  show(status, item.mine);
  const readBy = node.querySelector<HTMLElement>(".read-by")!;
  const showReadBy = item.mine && conv.kind === "g" && item.readBy > 0 && !item.recalled;
  setText(readBy, showReadBy ? `read by ${item.readBy}` : "");
  show(readBy, showReadBy);

  const meta = node.querySelector<HTMLElement>(".meta")!;
  const canRecall = item.mine && !item.recalled && item.seq !== undefined &&
    now - item.createTime < RECALL_WINDOW_MS;
  toggleButton(meta, "recall", canRecall, "Recall", `Recall this message`);
  toggleButton(meta, "retry", item.status === "failed", "Retry", `Send this message again`);
}

function toggleButton(meta: HTMLElement, cls: string, wanted: boolean, text: string, label: string): void {
  const existing = meta.querySelector(`:scope > .${cls}`);
  if (wanted && !existing) {
    meta.append(el("button", { type: "button", class: cls, "aria-label": label }, text));
  }
  if (!wanted && existing) existing.remove();
}
