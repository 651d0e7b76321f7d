/** Helpers shared by the browser tests: signing in on the chat page, reading it, failure shots. */
import type { Page } from "./_cdp.ts";
import { ARTIFACTS } from "./_cdp.ts";

export const q = (selector: string) => JSON.stringify(selector);

/** Signs in on the chat page (already loaded) and waits until it is online as `userId`. */
export async function signIn(page: Page, userId: string, password = "pw"): Promise<void> {
  await page.waitFor(`!document.querySelector("#login-view").hidden`, 10_000, "the sign-in form");
  await page.type("#login-user", userId);
  await page.type("#login-password", password);
  await page.click("#login-submit");
  await waitOnline(page, userId);
}

/** Waits until the signed-in screen shows `userId` and the connection is online. */
export async function waitOnline(page: Page, userId: string): Promise<void> {
  await page.waitFor(
    `document.querySelector("#me")?.textContent === ${q(userId)} &&
     !document.querySelector("#app-view").hidden &&
     document.querySelector("#connection-status").textContent === "online"`,
    10_000,
    `${userId} online`,
  );
}

/** Opens a conversation from the sidebar list and waits until its messages are loaded. */
export async function openConversation(page: Page, key: string): Promise<void> {
  await page.click(`#conversations [data-conv=${q(key)}]`);
  await page.waitFor(
    `document.querySelector(${
      q(`#conversations [data-conv=${q(key)}]`)
    })?.getAttribute("aria-current") === "true"`,
    10_000,
    `${key} open`,
  );
}

/** Types into the composer and presses Enter. */
export async function sendWithEnter(page: Page, text: string): Promise<void> {
  await page.type("#composer-input", text);
  await page.press("Enter");
}

/** [from, content, classes] of each message of the open conversation, in order. */
export function messages(page: Page): Promise<{ from: string; content: string; mine: boolean }[]> {
  return page.eval(`[...document.querySelectorAll("#message-list > .message")].map((m) => ({
    from: m.dataset.from,
    content: m.querySelector(".content").textContent,
    mine: m.classList.contains("mine"),
  }))`);
}

/** Waits until a message with this content is shown in the open conversation; returns its selector's data. */
export async function waitMessage(
  page: Page,
  content: string,
  what = `message "${content}"`,
): Promise<{ from: string; mine: boolean; seq: string | undefined; status: string }> {
  return await page.waitFor(
    `(() => {
      const m = [...document.querySelectorAll("#message-list > .message")]
        .find((m) => m.querySelector(".content").textContent === ${q(content)});
      return m && { from: m.dataset.from, mine: m.classList.contains("mine"), seq: m.dataset.seq,
        status: m.querySelector(".status")?.textContent ?? "" };
    })()`,
    10_000,
    what,
  );
}

/**
 * Waits until the own message with this content shows one of `statuses` (sending, sent, read,
 * failed). A message sent into a conversation the peer has open may go from sending to read.
 */
export async function waitStatus(page: Page, content: string, ...statuses: string[]): Promise<void> {
  await page.waitFor(
    `[...document.querySelectorAll("#message-list > .message.mine")].some((m) =>
      m.querySelector(".content").textContent === ${q(content)} &&
      ${
      JSON.stringify(statuses)
    }.includes(m.querySelector(".status").textContent) && m.dataset.seq !== undefined)`,
    10_000,
    `"${content}" ${statuses.join(" or ")}`,
  );
}

/** Runs `fn`; when it throws, saves a screenshot of every page as `<name>-failure-<i>.png`. */
export async function screenshotOnFailure(
  name: string,
  pages: () => Page[],
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await fn();
  } catch (err) {
    for (const [i, page] of pages().entries()) {
      await page.screenshot(`${ARTIFACTS}${name}-failure-${i}.png`).catch(() => {});
    }
    throw err;
  }
}

/** Polls a condition on the server side (registry, store) for up to `timeoutMs`. */
export async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
