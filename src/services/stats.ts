/**
 * In-process counters for the admin page: totals since start, per-second rates over the last
 * minute and the most recent errors. Cheap on the hot path: a rate is a fixed ring of 60 buckets
 * indexed by second (no allocation per message); errors go into a bounded ring.
 *
 * Also the /metrics figures kept on the message path: the delivery latency histogram and the
 * outbox drops (fixed buckets, no allocation per observation).
 *
 * Never record secrets here: error entries carry status codes, error names, short texts and
 * userIds, never passwords or tokens (callers pass no request bodies).
 */

import { Histogram, type HistogramSnapshot } from "../metrics/histogram.ts";

/** Seconds covered by the rate rings. */
export const RATE_SECONDS = 60;
/** Recent errors kept (oldest dropped first). */
export const MAX_RECENT_ERRORS = 100;
/** Longest error message kept, in UTF-16 units. */
export const MAX_ERROR_MESSAGE = 200;

export interface ErrorEntry {
  /** Milliseconds since the epoch. */
  time: number;
  /** What failed, e.g. "request.refused", "request.internal_error". */
  event: string;
  /** The status code answered, when there was one. */
  code?: number;
  /** The error's name for unexpected errors (TypeError, …). */
  error?: string;
  /** A short description (never a secret). */
  message: string;
  /** The request's command, when known. */
  cmd?: number;
  userId?: string;
  session?: number;
}

export interface StatsTotals {
  /** Chat messages received (cmd 11, the HTTP send API), before validation. */
  messagesReceived: number;
  messagesStored: number;
  deliveries: number;
  loginsOk: number;
  loginsFailed: number;
  errors: number;
  /** Error count per status code ("10025") or, without one, per error name. */
  errorsByCode: Record<string, number>;
  /** Connections cut because their bounded outbox overflowed (slow consumers). */
  outboxDrops: number;
}

export interface StatsSnapshot {
  /** Per second, oldest first, ending with the current second. */
  messagesPerSecond: number[];
  loginsPerSecond: number[];
  totals: StatsTotals;
  /** Newest first. */
  recentErrors: ErrorEntry[];
}

/** Counts per second for the last RATE_SECONDS seconds. */
class RateRing {
  readonly buckets = new Float64Array(RATE_SECONDS);

  clear(fromSecond: number, toSecond: number): void {
    // Seconds (fromSecond, toSecond] start from zero; at most one full turn.
    const n = Math.min(toSecond - fromSecond, RATE_SECONDS);
    for (let i = 1; i <= n; i++) this.buckets[(fromSecond + i) % RATE_SECONDS] = 0;
  }

  /** Oldest first, ending with `second`. */
  series(second: number): number[] {
    const out = new Array<number>(RATE_SECONDS);
    for (let i = 0; i < RATE_SECONDS; i++) {
      out[i] = this.buckets[(second - RATE_SECONDS + 1 + i) % RATE_SECONDS];
    }
    return out;
  }
}

export class Stats {
  readonly #now: () => number;
  readonly startedAt: number;
  readonly #messages = new RateRing();
  readonly #logins = new RateRing();
  /** The second the rings are current for (buckets of later seconds are stale). */
  #second: number;
  #messagesReceived = 0;
  #messagesStored = 0;
  #outboxDrops = 0;
  /**
   * Seconds from a chat's arrival (its handling starts, after decoding) to its deliveries being
   * queued on the receivers' connections (after the commit), for messages pushed to at least one
   * live session.
   */
  readonly #deliveryLatency = new Histogram();
  #deliveries = 0;
  #loginsOk = 0;
  #loginsFailed = 0;
  #errors = 0;
  readonly #errorsByCode = new Map<string, number>();
  readonly #recent: (ErrorEntry | undefined)[] = new Array(MAX_RECENT_ERRORS);
  /** Where the next error goes in #recent. */
  #recentNext = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.startedAt = this.#now();
    this.#second = Math.floor(this.startedAt / 1000);
  }

  /** A chat message arrived (counted before it is validated). */
  messageReceived(): void {
    this.#messagesReceived++;
  }

  /**
   * A message was stored (not a duplicate) and pushed to `deliveries` live sessions,
   * `latencySeconds` after it arrived.
   */
  messageStored(deliveries: number, latencySeconds?: number): void {
    this.#messagesStored++;
    this.#deliveries += deliveries;
    if (deliveries > 0 && latencySeconds !== undefined) this.#deliveryLatency.observe(latencySeconds);
    this.#messages.buckets[this.#advance() % RATE_SECONDS]++;
  }

  /** A login attempt was decided by authentication. */
  login(ok: boolean): void {
    if (ok) this.#loginsOk++;
    else this.#loginsFailed++;
    this.#logins.buckets[this.#advance() % RATE_SECONDS]++;
  }

  /** An error answered to a client (or an unexpected one). `message` must hold no secret. */
  error(entry: Omit<ErrorEntry, "time">): void {
    this.#errors++;
    const key = entry.code !== undefined ? String(entry.code) : entry.error ?? "unknown";
    this.#errorsByCode.set(key, (this.#errorsByCode.get(key) ?? 0) + 1);
    const message = entry.message.length > MAX_ERROR_MESSAGE
      ? entry.message.slice(0, MAX_ERROR_MESSAGE) + "…"
      : entry.message;
    this.#recent[this.#recentNext] = { time: this.#now(), ...entry, message };
    this.#recentNext = (this.#recentNext + 1) % MAX_RECENT_ERRORS;
  }

  /** A connection was cut because its outbox overflowed. */
  outboxDropped(): void {
    this.#outboxDrops++;
  }

  deliveryLatency(): HistogramSnapshot {
    return this.#deliveryLatency.snapshot();
  }

  get uptimeSeconds(): number {
    return Math.max(0, Math.floor((this.#now() - this.startedAt) / 1000));
  }

  totals(): StatsTotals {
    return {
      messagesReceived: this.#messagesReceived,
      messagesStored: this.#messagesStored,
      deliveries: this.#deliveries,
      loginsOk: this.#loginsOk,
      loginsFailed: this.#loginsFailed,
      errors: this.#errors,
      errorsByCode: Object.fromEntries(this.#errorsByCode),
      outboxDrops: this.#outboxDrops,
    };
  }

  /** Newest first, at most `limit`. */
  recentErrors(limit = MAX_RECENT_ERRORS): ErrorEntry[] {
    const out: ErrorEntry[] = [];
    for (let i = 1; i <= MAX_RECENT_ERRORS && out.length < limit; i++) {
      const e = this.#recent[(this.#recentNext - i + MAX_RECENT_ERRORS) % MAX_RECENT_ERRORS];
      if (!e) break;
      out.push({ ...e });
    }
    return out;
  }

  snapshot(): StatsSnapshot {
    const second = this.#advance();
    return {
      messagesPerSecond: this.#messages.series(second),
      loginsPerSecond: this.#logins.series(second),
      totals: this.totals(),
      recentErrors: this.recentErrors(),
    };
  }

  /** Moves the rings to the current second, zeroing the buckets of the seconds skipped. */
  #advance(): number {
    const second = Math.floor(this.#now() / 1000);
    if (second > this.#second) {
      this.#messages.clear(this.#second, second);
      this.#logins.clear(this.#second, second);
      this.#second = second;
    }
    // A clock that went back keeps counting into the current bucket.
    return this.#second;
  }
}
