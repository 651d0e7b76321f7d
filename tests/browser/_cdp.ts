/**
 * Drives Debian's Chromium headless over the DevTools protocol with Deno's built-in WebSocket
 * (no npm package). Each browser gets a fresh --user-data-dir; pages are CDP sessions.
 */

export const CHROMIUM = Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium";

/** Whether a Chromium binary is installed. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/**
 * Browser tests run wherever Chromium is installed, and always in CI (.ci/run installs it), where
 * a missing browser must fail rather than skip.
 */
export const SKIP_BROWSER_TESTS = !hasChromium() && !Deno.env.get("CI");

type Json = Record<string, unknown>;
interface Pending {
  resolve: (v: Json) => void;
  reject: (e: Error) => void;
}

export class Browser {
  readonly #child: Deno.ChildProcess;
  readonly #ws: WebSocket;
  readonly #userDataDir: string;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(method: string, params: Json, sessionId?: string) => void>();

  private constructor(child: Deno.ChildProcess, ws: WebSocket, userDataDir: string) {
    this.#child = child;
    this.#ws = ws;
    this.#userDataDir = userDataDir;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data as string);
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (!p) return;
        if (msg.error) p.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p.resolve(msg.result ?? {});
      } else {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    };
  }

  static async launch(): Promise<Browser> {
    const userDataDir = await Deno.makeTempDir({ prefix: "jim-chromium-" });
    const child = new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--remote-debugging-port=0",
        `--user-data-dir=${userDataDir}`,
        "about:blank",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let url: string | undefined;
    const deadline = Date.now() + 30_000;
    while (!url && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      url = text.match(/DevTools listening on (ws:\/\/\S+)/)?.[1];
    }
    // Keep draining stderr so Chromium never blocks on a full pipe.
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* closed */ }
    })();
    if (!url) {
      child.kill("SIGKILL");
      throw new Error(`chromium did not start:\n${text}`);
    }
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("cannot connect to chromium's DevTools socket"));
    });
    return new Browser(child, ws, userDataDir);
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  on(listener: (method: string, params: Json, sessionId?: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A new tab of `width`×`height` CSS pixels, in its own browser context (cookies and storage
   * not shared with other pages), so two pages can be two different users.
   */
  async newPage(width = 1200, height = 800): Promise<Page> {
    const { browserContextId } = await this.send("Target.createBrowserContext", { disposeOnDetach: true });
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank", browserContextId });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, String(sessionId), String(targetId));
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: width < 600,
    });
    return page;
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.send("Browser.close"), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // already gone
    }
    try {
      this.#ws.close();
    } catch {
      // closed
    }
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // exited
    }
    await this.#child.status;
    for (const p of this.#pending.values()) p.reject(new Error("browser closed"));
    // Chromium's helper processes may still write into the profile for a moment after it exits.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await Deno.remove(this.#userDataDir, { recursive: true });
        break;
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

export class Page {
  readonly browser: Browser;
  readonly sessionId: string;
  readonly targetId: string;
  /** console errors and uncaught exceptions seen on the page. */
  readonly errors: string[] = [];

  constructor(browser: Browser, sessionId: string, targetId: string) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.targetId = targetId;
    browser.on((method, params, sid) => {
      if (sid !== sessionId) return;
      if (method === "Runtime.exceptionThrown") {
        const d = params.exceptionDetails as Json;
        this.errors.push(String((d.exception as Json)?.description ?? d.text));
      } else if (method === "Runtime.consoleAPICalled" && params.type === "error") {
        this.errors.push((params.args as Json[]).map((a) => a.value ?? a.description).join(" "));
      }
    });
  }

  send(method: string, params: Json = {}): Promise<Json> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** Navigates and waits for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const off = this.browser.on((method, _p, sid) => {
        if (sid === this.sessionId && method === "Page.loadEventFired") {
          off();
          resolve();
        }
      });
    });
    await this.send("Page.navigate", { url });
    await withTimeout(loaded, 15_000, `load of ${url}`);
  }

  async reload(): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const off = this.browser.on((method, _p, sid) => {
        if (sid === this.sessionId && method === "Page.loadEventFired") {
          off();
          resolve();
        }
      });
    });
    await this.send("Page.reload");
    await withTimeout(loaded, 15_000, "reload");
  }

  /** Evaluates an expression in the page (awaiting promises) and returns its JSON value. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails as Json;
      throw new Error(`page threw: ${(d.exception as Json)?.description ?? d.text}`);
    }
    return (r.result as Json).value as T;
  }

  /** Polls until the expression is truthy; returns its value. */
  async waitFor<T = unknown>(expression: string, timeoutMs = 10_000, what = expression): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        last = await this.eval(expression);
        if (last) return last as T;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
  }

  /** Waits for an element and returns its trimmed text. */
  async text(selector: string, timeoutMs = 10_000): Promise<string> {
    return await this.waitFor<string>(
      `(() => { const e = document.querySelector(${
        JSON.stringify(selector)
      }); return e ? e.textContent.trim() || " " : ""; })()`,
      timeoutMs,
      `element ${selector}`,
    );
  }

  async exists(selector: string): Promise<boolean> {
    return await this.eval<boolean>(`!!document.querySelector(${JSON.stringify(selector)})`);
  }

  async click(selector: string): Promise<void> {
    await this.waitFor(
      `!!document.querySelector(${JSON.stringify(selector)})`,
      10_000,
      `element ${selector}`,
    );
    await this.eval(`document.querySelector(${JSON.stringify(selector)}).click()`);
  }

  /** Focuses the element and types the text as real key input. */
  async type(selector: string, text: string): Promise<void> {
    await this.waitFor(
      `!!document.querySelector(${JSON.stringify(selector)})`,
      10_000,
      `element ${selector}`,
    );
    await this.eval(
      `(() => { const e = document.querySelector(${JSON.stringify(selector)}); e.focus(); e.value = ""; })()`,
    );
    await this.send("Input.insertText", { text });
  }

  /** Presses a key (e.g. "Enter") on the focused element. */
  async press(key: string, code = key, keyCode = key === "Enter" ? 13 : 0): Promise<void> {
    const base = { key, code, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode };
    await this.send("Input.dispatchKeyEvent", {
      type: "keyDown",
      ...base,
      text: key === "Enter" ? "\r" : undefined,
    });
    await this.send("Input.dispatchKeyEvent", { type: "keyUp", ...base });
  }

  async screenshot(path: string): Promise<void> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    const bytes = Uint8Array.from(atob(String(data)), (c) => c.charCodeAt(0));
    await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeFile(path, bytes);
  }

  async close(): Promise<void> {
    await this.browser.send("Target.closeTarget", { targetId: this.targetId }).catch(() => {});
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where browser tests put screenshots (kept as CI artifacts). */
export const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;
