/**
 * Abuse limits (docs/protocol.md §8): token buckets for request and connect rates and connection
 * counts per IP (the login-failure lockout is in login_guard.ts). Everything is in memory, per process.
 *
 * Costs: a check allocates nothing. Per key (connection, user, IP) there is one small mutable
 * record, refilled lazily from the elapsed time when it is next used (no timers). Maps keyed by
 * something a client chooses (IP, userId) are bounded: when one reaches its bound, records that
 * hold no information (a full bucket, an expired failure window) are dropped first, then the
 * oldest.
 */

/** Clock in ms; injectable for tests. */
export type Clock = () => number;

/**
 * WebSocket close code of a connection closed by a limit (login timeout, frame deadline, request
 * rate): 1008, policy violation (RFC 6455 §7.4.1).
 */
export const LIMIT_CLOSE_CODE = 1008;

/** Refusals a connection may collect within STRIKE_WINDOW_MS before it is disconnected. */
export const STRIKES_TO_DISCONNECT = 50;
export const STRIKE_WINDOW_MS = 10_000;
/** Default bound of each keyed map (IPs, users, userIds with login failures). */
export const DEFAULT_MAX_KEYS = 100_000;

/**
 * One token bucket: `tokens` (fractional) as of time `at`. Refills at `rate` tokens/s up to
 * `burst`; a request takes one token. Also counts refusals ("strikes") in a window.
 */
export class Bucket {
  tokens: number;
  at: number;
  strikes = 0;
  strikeAt = 0;

  constructor(burst: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }

  /** Refills for the time elapsed since the last use. */
  refill(rate: number, burst: number, now: number): void {
    const elapsed = now - this.at;
    if (elapsed > 0) {
      const t = this.tokens + elapsed * rate / 1000;
      this.tokens = t < burst ? t : burst;
      this.at = now;
    }
  }

  /** Takes a token: true when one was available. */
  take(rate: number, burst: number, now: number): boolean {
    this.refill(rate, burst, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until a token is available (after refill). */
  retryAfter(rate: number): number {
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * 1000 / rate);
  }

  /** Records a refusal; returns the refusals in the current window (the window starts at the first). */
  strike(now: number, windowMs: number): number {
    if (now - this.strikeAt >= windowMs) {
      this.strikeAt = now;
      this.strikes = 0;
    }
    return ++this.strikes;
  }

  /** True when the record says nothing a fresh one would not: full and no strikes pending. */
  idle(rate: number, burst: number, now: number, windowMs: number): boolean {
    this.refill(rate, burst, now);
    return this.tokens >= burst && (this.strikes === 0 || now - this.strikeAt >= windowMs);
  }
}

/** Drops entries from a map at its bound: first those `idle` says are useless, then the oldest. */
export function shrink<K, V>(map: Map<K, V>, maxKeys: number, idle: (v: V) => boolean): void {
  if (map.size < maxKeys) return;
  for (const [k, v] of map) if (idle(v)) map.delete(k);
  // Leave room for a tenth of the bound so the sweep is amortised over many inserts.
  const target = Math.max(0, Math.floor(maxKeys * 0.9));
  if (map.size <= target) return;
  for (const k of map.keys()) {
    map.delete(k);
    if (map.size <= target) break;
  }
}

export interface RateOptions {
  /** Tokens per second; 0 = unlimited. */
  rate: number;
  /** Bucket size; default 2 × rate. */
  burst?: number;
  maxKeys?: number;
  now?: Clock;
}

/** Token buckets keyed by a string (an IP, a userId), in a bounded map. */
export class RateLimiter {
  #rate = 0;
  #burst = 1;
  readonly #maxKeys: number;
  readonly #now: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateOptions) {
    this.setRate(options.rate, options.burst);
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#now = options.now ?? Date.now;
  }

  get rate(): number {
    return this.#rate;
  }

  get burst(): number {
    return this.#burst;
  }

  /** Changes the rate (SIGHUP); buckets holding more than the new burst are capped when next used. */
  setRate(rate: number, burst?: number): void {
    this.#rate = rate;
    this.#burst = burst ?? Math.max(1, 2 * rate);
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token for `key`: true when allowed (always, when disabled). */
  take(key: string): boolean {
    if (this.rate <= 0) return true;
    return this.bucket(key).take(this.rate, this.burst, this.#now());
  }

  /** Milliseconds until `key` has a token again. */
  retryAfter(key: string): number {
    if (this.rate <= 0) return 0;
    const b = this.#buckets.get(key);
    if (!b) return 0;
    b.refill(this.rate, this.burst, this.#now());
    return b.retryAfter(this.rate);
  }

  /** The bucket of `key`, created full. */
  bucket(key: string): Bucket {
    let b = this.#buckets.get(key);
    if (!b) {
      const now = this.#now();
      shrink(this.#buckets, this.#maxKeys, (v) => v.idle(this.rate, this.burst, now, STRIKE_WINDOW_MS));
      this.#buckets.set(key, b = new Bucket(this.burst, now));
    }
    return b;
  }
}

/** Allows one event per key per window (e.g. one log line per IP per 10 s), in a bounded map. */
export class OncePerWindow {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: Clock;
  readonly #last = new Map<string, number>();

  constructor(windowMs: number, options: { maxKeys?: number; now?: Clock } = {}) {
    this.#windowMs = windowMs;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** True the first time in a window for this key. */
  check(key: string): boolean {
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#windowMs) return false;
    if (last === undefined) shrink(this.#last, this.#maxKeys, (t) => now - t >= this.#windowMs);
    else this.#last.delete(key); // re-inserted below: the map stays in time order
    this.#last.set(key, now);
    return true;
  }
}

/** The IP of a "host:port" remote address (IPv6 hosts contain colons too). */
export function ipOf(remote: string): string {
  const i = remote.lastIndexOf(":");
  return i > 0 ? remote.slice(0, i) : remote;
}

// ---- connections ----------------------------------------------------------------------------

export interface ConnectionGateOptions {
  /** Open connections per IP; 0 = unlimited. */
  maxPerIp: number;
  /** New connections per second per IP (burst 2×); 0 = unlimited. */
  connectRatePerIp: number;
  maxKeys?: number;
  now?: Clock;
}

/** Why a connection was refused at accept. */
export type ConnectRefusal = "connect-rate" | "per-ip";

/**
 * Admission at accept, shared by every listener of an app: the connect rate and the number of
 * open connections per IP. (The global --max-connections count stays in the listener.)
 */
export class ConnectionGate {
  maxPerIp: number;
  readonly #rate: RateLimiter;
  /** Open connections per IP; an IP leaves the map with its last connection (bounded by them). */
  readonly #open = new Map<string, number>();
  /** One log line per IP and reason per window. */
  readonly #logOnce: OncePerWindow;

  constructor(options: ConnectionGateOptions) {
    this.maxPerIp = options.maxPerIp;
    this.#rate = new RateLimiter({
      rate: options.connectRatePerIp,
      maxKeys: options.maxKeys,
      now: options.now,
    });
    this.#logOnce = new OncePerWindow(STRIKE_WINDOW_MS, { now: options.now });
  }

  get connectRate(): number {
    return this.#rate.rate;
  }

  /** New limits (SIGHUP); open connections above a lowered maxPerIp stay, new ones wait below it. */
  configure(options: Pick<ConnectionGateOptions, "maxPerIp" | "connectRatePerIp">): void {
    this.maxPerIp = options.maxPerIp;
    this.#rate.setRate(options.connectRatePerIp);
  }

  /** Counts a new connection from `ip`, or says why it is refused (then nothing is counted). */
  admit(ip: string): ConnectRefusal | undefined {
    if (!this.#rate.take(ip)) return "connect-rate";
    const open = this.#open.get(ip) ?? 0;
    if (this.maxPerIp > 0 && open >= this.maxPerIp) return "per-ip";
    this.#open.set(ip, open + 1);
    return undefined;
  }

  /** A connection admitted by admit() ended. */
  release(ip: string): void {
    const open = this.#open.get(ip);
    if (open === undefined) return;
    if (open <= 1) this.#open.delete(ip);
    else this.#open.set(ip, open - 1);
  }

  openFrom(ip: string): number {
    return this.#open.get(ip) ?? 0;
  }

  /** Whether a refusal for this IP and reason should be logged (once per 10 s window). */
  shouldLog(ip: string, reason: ConnectRefusal): boolean {
    return this.#logOnce.check(reason + " " + ip);
  }
}

// ---- requests -------------------------------------------------------------------------------

/** What a session is, for the request limiter: anything with a stable identity and a user. */
export interface RateSubject {
  readonly userId: string | undefined;
}

export interface RequestLimitOptions {
  /** Requests per second per connection (burst 2×); 0 = unlimited. */
  perConnection: number;
  /** Requests per second per user, over all their connections (burst 2×); 0 = unlimited. */
  perUser: number;
  maxKeys?: number;
  now?: Clock;
}

/**
 * Request rates: one bucket per connection (held weakly, gone with the session) and one per
 * logged-in user. A refused request counts as a strike against its connection; too many strikes
 * in a window and the connection is to be closed.
 */
export class RequestLimiter {
  perConnection = 0;
  perUser = 0;
  #connBurst = 1;
  readonly #conns = new WeakMap<RateSubject, Bucket>();
  readonly #users: RateLimiter;
  readonly #now: Clock;

  constructor(options: RequestLimitOptions) {
    this.#users = new RateLimiter({ rate: options.perUser, maxKeys: options.maxKeys, now: options.now });
    this.#now = options.now ?? Date.now;
    this.configure(options);
  }

  /** New rates (SIGHUP): every bucket, existing ones included, refills at the new rate from now on. */
  configure(options: Pick<RequestLimitOptions, "perConnection" | "perUser">): void {
    this.perConnection = options.perConnection;
    this.perUser = options.perUser;
    this.#connBurst = Math.max(1, 2 * options.perConnection);
    this.#users.setRate(options.perUser);
  }

  /**
   * Takes a token for one request of `subject`: 0 when allowed, otherwise the milliseconds until
   * the request would be allowed (the caller refuses it and calls strike()).
   */
  admit(subject: RateSubject): number {
    const now = this.#now();
    let wait = 0;
    if (this.perConnection > 0) {
      const b = this.#connBucket(subject, now);
      if (!b.take(this.perConnection, this.#connBurst, now)) wait = b.retryAfter(this.perConnection);
    }
    const userId = subject.userId;
    if (wait === 0 && this.perUser > 0 && userId !== undefined && !this.#users.take(userId)) {
      wait = this.#users.retryAfter(userId);
      // The connection's token was taken for a request that is refused: give it back.
      if (this.perConnection > 0) {
        const b = this.#connBucket(subject, now);
        b.tokens = Math.min(b.tokens + 1, this.#connBurst);
      }
    }
    return wait === 0 ? 0 : Math.max(1, wait);
  }

  /** Counts a refusal; true when the connection has collected too many and must be closed. */
  strike(subject: RateSubject): boolean {
    const now = this.#now();
    return this.#connBucket(subject, now).strike(now, STRIKE_WINDOW_MS) >= STRIKES_TO_DISCONNECT;
  }

  #connBucket(subject: RateSubject, now: number): Bucket {
    let b = this.#conns.get(subject);
    if (!b) this.#conns.set(subject, b = new Bucket(this.#connBurst, now));
    return b;
  }
}
