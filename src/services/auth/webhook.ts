/**
 * `--auth webhook`: the application decides. Each login's credentials are POSTed as JSON
 * `{"userId"?, "password"?, "token"?, "remote"}` to the configured URL; a 2xx answer with
 * `{"allow": true, "userId"?: "…"}` allows (the webhook may map a token to a userId), anything
 * else denies. Failures (timeout, network error, 5xx, an unreadable answer) deny too.
 *
 * Decisions are cached for a short time, in a bounded LRU keyed by a SHA-256 of the credentials
 * (never the credentials themselves): allows and denies alike, but not failures, so an outage of
 * the webhook is not remembered beyond itself. Concurrent checks of the same credentials share
 * one request.
 */

export interface WebhookOptions {
  url: string;
  /** Milliseconds before a call is abandoned (and the login denied). */
  timeoutMs: number;
  /** Seconds a decision is reused; 0 = no cache. */
  cacheSeconds: number;
  /** Most cached decisions (least recently used ones go first). Default 10000. */
  maxEntries?: number;
  /** Tests: a replacement for the global fetch. */
  fetch?: typeof fetch;
}

export interface WebhookRequest {
  userId?: string;
  password?: string;
  token?: string;
  /** The client's address, for the application's own policies and logs. */
  remote?: string;
}

export type WebhookDecision =
  | { allow: true; userId?: string }
  | { allow: false; reason: string };

/** Largest answer body read from the webhook. */
const MAX_ANSWER_BYTES = 64 * 1024;

interface CacheEntry {
  decision: WebhookDecision;
  expiresAt: number;
}

interface Outcome {
  decision: WebhookDecision;
  /** A definitive answer from the application (cached), as opposed to a failure (not cached). */
  definitive: boolean;
}

export class WebhookAuthenticator {
  readonly #options: WebhookOptions;
  readonly #maxEntries: number;
  readonly #fetch: typeof fetch;
  /** Insertion order = recency order (a hit is moved to the end). */
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inFlight = new Map<string, Promise<Outcome>>();
  /** Calls made to the URL (for tests and stats). */
  calls = 0;

  constructor(options: WebhookOptions) {
    this.#options = options;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#fetch = options.fetch ?? fetch;
  }

  async check(request: WebhookRequest, now: number = Date.now()): Promise<WebhookDecision> {
    const key = await cacheKey(request);
    const cached = this.#cache.get(key);
    if (cached) {
      this.#cache.delete(key);
      if (cached.expiresAt > now) {
        this.#cache.set(key, cached);
        return cached.decision;
      }
    }
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#call(request).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    const outcome = await pending;
    if (outcome.definitive && this.#options.cacheSeconds > 0) {
      this.#cache.set(key, {
        decision: outcome.decision,
        expiresAt: Date.now() + this.#options.cacheSeconds * 1000,
      });
      while (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return outcome.decision;
  }

  /** Number of cached decisions (tests). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  async #call(request: WebhookRequest): Promise<Outcome> {
    this.calls++;
    const body = JSON.stringify({
      userId: request.userId,
      password: request.password,
      token: request.token,
      remote: request.remote,
    });
    let response: Response;
    try {
      response = await this.#fetch(this.#options.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body,
        // A redirect would resend the credentials elsewhere: treated as a failure instead.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof DOMException &&
        (err.name === "TimeoutError" || err.name === "AbortError");
      return failure(timedOut ? "webhook timed out" : `webhook unreachable: ${errorText(err)}`);
    }
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel().catch(() => {});
      // 4xx is the application's answer; 3xx/5xx are failures of the webhook itself.
      if (response.status >= 400 && response.status < 500) {
        return {
          decision: { allow: false, reason: `webhook answered ${response.status}` },
          definitive: true,
        };
      }
      return failure(`webhook answered ${response.status}`);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(await readLimited(response, MAX_ANSWER_BYTES));
    } catch (err) {
      return failure(`unreadable webhook answer: ${errorText(err)}`);
    }
    if (answer === null || typeof answer !== "object" || Array.isArray(answer)) {
      return failure("webhook answer is not a JSON object");
    }
    const { allow, userId } = answer as { allow?: unknown; userId?: unknown };
    if (allow !== true) return { decision: { allow: false, reason: "webhook denied" }, definitive: true };
    if (userId !== undefined && typeof userId !== "string") return failure("webhook userId is not a string");
    return { decision: { allow: true, userId }, definitive: true };
  }
}

function failure(reason: string): Outcome {
  return { decision: { allow: false, reason }, definitive: false };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** SHA-256 (hex) of the credentials, so the cache never holds a password or token. */
async function cacheKey(request: WebhookRequest): Promise<string> {
  const text = JSON.stringify([request.userId ?? null, request.password ?? null, request.token ?? null]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The body as text, refusing more than `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) throw new Error(`answer longer than ${limit} bytes`);
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
    if (size > limit) await response.body.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(all);
}
