/// <reference lib="dom" />
/**
 * The signed-in screen: finds the page's fixed elements (index_page.ts), turns user input into
 * controller actions, and redraws what the state marks dirty (batched, once per task). On narrow
 * screens one pane shows at a time (`.show-chat` on #app-view).
 */
import type { ChatController, ViewHooks } from "./controller.ts";
import { byId, setAttr, setText } from "./dom.ts";
import { type ChatElements, renderChat, revealMessage } from "./render_chat.ts";
import { renderConversations, renderOnline, renderSearch } from "./render_list.ts";
import type { AppState } from "./state.ts";

const NARROW = "(max-width: 720px)";

export interface ChatView {
  /** Renders pending changes now. */
  flush(): void;
  dispose(): void;
}

/** ViewHooks for a controller created before the view is bound (it needs them at once). */
export function viewHooks(state: AppState): ViewHooks & { bind(view: ChatView): void } {
  let view: ChatView | undefined;
  const appView = byId("app-view");
  return {
    bind: (v) => view = v,
    chatVisible: () =>
      document.visibilityState === "visible" && state.selected !== undefined &&
      (!matchMedia(NARROW).matches || appView.classList.contains("show-chat")),
    showChatPane: () => appView.classList.add("show-chat"),
    flush: () => view?.flush(),
    reveal: (seq) => revealMessage(chatElements(), seq),
  };
}

function chatElements(): ChatElements {
  return {
    pane: byId("chat"),
    title: byId("chat-title"),
    subtitle: byId("chat-subtitle"),
    scroller: byId("messages"),
    list: byId("message-list"),
    loadOlder: byId<HTMLButtonElement>("load-older"),
    empty: byId("chat-empty"),
    typing: byId("typing"),
    input: byId<HTMLTextAreaElement>("composer-input"),
    send: byId<HTMLButtonElement>("composer-send"),
  };
}

export function bindChatView(controller: ChatController, state: AppState): ChatView {
  const chat = chatElements();
  const appView = byId("app-view");
  const conversations = byId("conversations");
  const online = byId("online-users");
  const results = byId("search-results");
  const input = chat.input;
  const cleanups: (() => void)[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const dirty = new Set(state.dirty);
    state.dirty.clear();
    if (dirty.has("list")) renderConversations(conversations, byId("conversations-empty"), state);
    if (dirty.has("online")) renderOnline(online, byId("online-empty"), state);
    if (dirty.has("chat") || dirty.has("online")) renderChat(chat, state);
    if (dirty.has("search")) renderSearch(results, byId("search-box"), byId("search-summary"), state);
    if (dirty.has("notice")) setText(byId("notice"), state.notice);
    if (dirty.has("status")) {
      const status = byId("connection-status");
      const text = state.connection === "online"
        ? "online"
        : state.connection === "offline"
        ? "offline"
        : "reconnecting";
      setText(status, text);
      setAttr(status, "data-status", text);
    }
  }

  state.onChange(() => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(flush, 0);
  });

  function listen<E extends Event = Event>(
    target: EventTarget,
    type: string,
    fn: (e: E) => void,
  ): void {
    target.addEventListener(type, fn as EventListener);
    cleanups.push(() => target.removeEventListener(type, fn as EventListener));
  }

  const openAndFocus = async (key: string) => {
    await controller.open(key);
    input.focus();
  };

  listen(conversations, "click", (e) => {
    const item = (e.target as Element).closest<HTMLElement>("[data-conv]");
    if (item) openAndFocus(item.dataset.conv!);
  });
  listen(online, "click", (e) => {
    const user = (e.target as Element).closest<HTMLElement>("[data-user]")?.dataset.user;
    if (user !== undefined) openAndFocus(`p:${user}`);
  });
  listen(results, "click", (e) => {
    const item = (e.target as Element).closest<HTMLElement>("[data-result-seq]");
    if (item) controller.openResult(item.dataset.conv!, Number(item.dataset.resultSeq));
  });
  listen(byId("back"), "click", () => {
    const key = state.selected;
    controller.close();
    appView.classList.remove("show-chat");
    flush();
    if (key) conversations.querySelector<HTMLElement>(`[data-conv="${CSS.escape(key)}"]`)?.focus();
  });

  submit("new-peer-form", async () => {
    const field = byId<HTMLInputElement>("new-peer");
    if (await controller.startPrivate(field.value)) {
      field.value = "";
      input.focus();
    }
  });
  submit("join-group-form", async () => {
    const field = byId<HTMLInputElement>("join-group");
    if (await controller.joinGroup(field.value)) {
      field.value = "";
      input.focus();
    }
  });
  submit("search-form", () => controller.search(byId<HTMLInputElement>("search-input").value));
  listen(byId("search-clear"), "click", () => {
    byId<HTMLInputElement>("search-input").value = "";
    controller.clearSearch();
  });

  listen(chat.list, "click", (e) => {
    const target = e.target as Element;
    const id = target.closest<HTMLElement>(".message")?.dataset.id;
    if (id === undefined) return;
    if (target.closest(".recall")) {
      controller.recall(id);
      input.focus();
    } else if (target.closest(".retry")) {
      controller.retry(id);
    }
  });
  listen(chat.loadOlder, "click", () => controller.loadOlder());
  listen(chat.scroller, "scroll", () => {
    if (chat.scroller.scrollTop < 40) controller.loadOlder();
  });

  submit("composer", () => {
    if (controller.send(input.value)) {
      input.value = "";
      autosize(input);
    }
  });
  listen<KeyboardEvent>(input, "keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      byId<HTMLFormElement>("composer").requestSubmit();
    }
  });
  listen(input, "input", () => {
    autosize(input);
    controller.typed(input.value);
  });

  listen(document, "visibilitychange", () => controller.markReadIfVisible());
  listen(window, "focus", () => controller.markReadIfVisible());
  listen(window, "online", () => controller.client.reconnectNow());

  function submit(formId: string, fn: () => unknown): void {
    listen(byId(formId), "submit", (e) => {
      e.preventDefault();
      fn();
    });
  }

  setText(byId("me"), state.me);
  state.touch("list", "online", "chat", "search", "notice", "status");
  flush();
  return {
    flush,
    dispose() {
      for (const off of cleanups) off();
      state.onChange(() => {});
      appView.classList.remove("show-chat");
    },
  };
}

/** Grows the textarea with its text, up to the CSS max-height. */
function autosize(area: HTMLTextAreaElement): void {
  area.style.height = "auto";
  area.style.height = `${area.scrollHeight}px`;
}
