/// <reference lib="dom" />
/**
 * Renders the sidebar lists from the state: conversations (`[data-conv]` with `.last` and
 * `.unread`), online users (`[data-user]`) and search results (`[data-result-seq]`). Elements are
 * kept per key and updated in place, so focus stays on the item the user is on.
 */
import { type ChatMessage, messageConvKey } from "../../client/ws_client.ts";
import { el, formatTime, setAttr, setText, show, syncChildren } from "./dom.ts";
import { type AppState, type Conversation, RECALLED_TEXT } from "./state.ts";

const convItems = new Map<string, HTMLLIElement>();
const userItems = new Map<string, HTMLLIElement>();

export function renderConversations(list: HTMLElement, empty: HTMLElement, state: AppState): void {
  const items: HTMLLIElement[] = [];
  const seen = new Set<string>();
  for (const conv of state.sortedConversations()) {
    seen.add(conv.key);
    let li = convItems.get(conv.key);
    if (!li) convItems.set(conv.key, li = makeConvItem(conv));
    updateConvItem(li, conv, state);
    items.push(li);
  }
  for (const key of [...convItems.keys()]) if (!seen.has(key)) convItems.delete(key);
  syncChildren(list, items);
  show(empty, items.length === 0);
}

function makeConvItem(conv: Conversation): HTMLLIElement {
  const button = el(
    "button",
    { type: "button", class: `conv ${conv.kind === "g" ? "group" : "private"}`, "data-conv": conv.key },
    el("span", { class: "name" }, conv.id),
    el("span", { class: "time" }),
    el("span", { class: "preview" }, el("span", { class: "last-from" }), el("span", { class: "last" })),
    el("span", { class: "unread", hidden: true }),
  );
  return el("li", {}, button);
}

function updateConvItem(li: HTMLLIElement, conv: Conversation, state: AppState): void {
  const button = li.firstElementChild as HTMLButtonElement;
  const unread = state.unread(conv);
  setAttr(button, "aria-current", conv.key === state.selected ? "true" : undefined);
  const kind = conv.kind === "g" ? "group" : "chat with";
  setAttr(button, "aria-label", `${kind} ${conv.id}${unread ? `, ${unread} unread` : ""}`);
  setText(button.querySelector(".time")!, formatTime(conv.lastTime));
  const showFrom = conv.lastText !== "" && (conv.lastFrom === state.me || conv.kind === "g");
  setText(
    button.querySelector(".last-from")!,
    showFrom ? `${conv.lastFrom === state.me ? "you" : conv.lastFrom}: ` : "",
  );
  setText(button.querySelector(".last")!, conv.lastText);
  const badge = button.querySelector<HTMLElement>(".unread")!;
  setText(badge, String(unread));
  show(badge, unread > 0);
}

export function renderOnline(list: HTMLElement, empty: HTMLElement, state: AppState): void {
  const users = state.onlineUsers();
  const items = users.map((userId) => {
    let li = userItems.get(userId);
    if (!li) {
      const me = userId === state.me;
      li = el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: "user", "data-user": userId, title: me ? "you" : `chat with ${userId}` },
          el("span", { class: "dot", "aria-hidden": "true" }),
          el("span", { class: "user-name" }, userId),
          me && el("span", { class: "you" }, " (you)"),
        ),
      );
      userItems.set(userId, li);
    }
    return li;
  });
  for (const userId of [...userItems.keys()]) if (!users.includes(userId)) userItems.delete(userId);
  syncChildren(list, items);
  show(empty, items.length === 0);
}

export function renderSearch(
  list: HTMLElement,
  box: HTMLElement,
  summary: HTMLElement,
  state: AppState,
): void {
  const results = state.searchResults;
  show(box, results !== undefined);
  if (results === undefined) {
    list.replaceChildren();
    return;
  }
  setText(
    summary,
    results.length === 0
      ? `No messages match “${state.searchText}”.`
      : `${results.length} message${results.length === 1 ? " matches" : "s match"} “${state.searchText}”:`,
  );
  list.replaceChildren(...results.map((m) => searchItem(m, state.me)));
}

function searchItem(m: ChatMessage, me: string): HTMLLIElement {
  const key = messageConvKey(me, m);
  return el(
    "li",
    {},
    el(
      "button",
      { type: "button", class: "result", "data-result-seq": m.seq ?? 0, "data-conv": key },
      el("span", { class: "result-conv" }, key.startsWith("g:") ? `#${key.slice(2)}` : key.slice(2)),
      el("span", { class: "result-time" }, formatTime(m.createTime)),
      el("span", { class: "result-text" }, `${m.from}: ${m.recalled ? RECALLED_TEXT : (m.content ?? "")}`),
    ),
  );
}

/** Forgets rendered items (after logout). */
export function clearListCaches(): void {
  convItems.clear();
  userItems.clear();
}
