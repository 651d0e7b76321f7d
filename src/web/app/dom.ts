/// <reference lib="dom" />
/**
 * DOM helpers for the web app. Every piece of user content goes through `textContent` (never
 * HTML parsing), so names and messages are always shown as text.
 */

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | undefined | false;

/** Creates an element; attributes set with setAttribute (true = present, false/undefined = absent). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === "class") node.className = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** The element with this id (the page's fixed skeleton, see index_page.ts). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node as T;
}

/** Sets text only when it changed (keeps screen readers and selections calm). */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setAttr(node: Element, name: string, value: string | undefined): void {
  if (value === undefined) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== value) {
    node.setAttribute(name, value);
  }
}

export function show(node: HTMLElement, visible: boolean): void {
  if (node.hidden === visible) node.hidden = !visible;
}

/** The child of `parent` matching `selector`, created with `make` when absent. */
export function child<T extends HTMLElement>(parent: HTMLElement, selector: string, make: () => T): T {
  const found = parent.querySelector<T>(`:scope > ${selector}`);
  if (found) return found;
  const made = make();
  parent.append(made);
  return made;
}

/** Makes `parent`'s children exactly `nodes`, in order, moving only what is out of place. */
export function syncChildren(parent: HTMLElement, nodes: readonly HTMLElement[]): void {
  const wanted = new Set<Node>(nodes);
  for (const node of [...parent.children]) if (!wanted.has(node)) node.remove();
  let cursor = parent.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      parent.insertBefore(node, cursor);
    }
  }
}

/** "14:05" today, "Mon 14:05" this week, else "2025-06-01 14:05". */
export function formatTime(ms: number, now = Date.now()): string {
  if (!ms) return "";
  const d = new Date(ms);
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return time;
  if (now - ms < 6 * 86_400_000 && ms < now) {
    return `${d.toLocaleDateString([], { weekday: "short" })} ${time}`;
  }
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}
