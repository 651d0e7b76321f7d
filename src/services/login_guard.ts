/**
 * The login-failure lockout (docs/protocol.md §8): failures counted per claimed userId and per
 * IP, with an exponential-backoff lockout. In memory, per process; maps bounded as in limits.ts.
 */
import { type Clock, DEFAULT_MAX_KEYS, shrink } from "./limits.ts";

/** Window in which login failures are counted. */
export const LOGIN_FAILURE_WINDOW_MS = 10 * 60_000;
/** Longest lockout; each lockout in a row doubles the previous one up to this. */
export const MAX_LOCKOUT_MS = 15 * 60_000;

interface FailureRecord {
  /** Failures in the current window. */
  failures: number;
  windowStart: number;
  lockedUntil: number;
  /** Lockouts in a row: the next one lasts base × 2^level. */
  level: number;
  lastFailureAt: number;
}

export interface LockoutOptions {
  /** Failures within LOGIN_FAILURE_WINDOW_MS that lock the key; 0 = never. */
  maxFailures: number;
  /** First lockout; each further one in a row doubles, up to MAX_LOCKOUT_MS. */
  baseLockMs: number;
  windowMs?: number;
  maxLockMs?: number;
  maxKeys?: number;
  now?: Clock;
}

/**
 * Exponential-backoff lockout after repeated failures of one key (a userId, an IP). The level
 * (how long the next lockout lasts) decays once a whole window plus the longest lockout passed
 * without a failure, or on success (reset).
 */
export class FailureLockout {
  maxFailures: number;
  #baseLockMs: number;
  readonly #windowMs: number;
  #maxLockMs: number;
  readonly #maxKeys: number;
  readonly #now: Clock;
  readonly #records = new Map<string, FailureRecord>();

  constructor(options: LockoutOptions) {
    this.maxFailures = options.maxFailures;
    this.#baseLockMs = options.baseLockMs;
    this.#windowMs = options.windowMs ?? LOGIN_FAILURE_WINDOW_MS;
    this.#maxLockMs = Math.max(options.maxLockMs ?? MAX_LOCKOUT_MS, options.baseLockMs);
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#records.size;
  }

  /** New thresholds (SIGHUP); lockouts already running keep their end. */
  configure(options: Pick<LockoutOptions, "maxFailures" | "baseLockMs">): void {
    this.maxFailures = options.maxFailures;
    this.#baseLockMs = options.baseLockMs;
    this.#maxLockMs = Math.max(this.#maxLockMs, options.baseLockMs);
  }

  /** Milliseconds the key stays locked; 0 = not locked. */
  lockedFor(key: string): number {
    if (this.maxFailures <= 0) return 0;
    const r = this.#records.get(key);
    if (!r) return 0;
    const left = r.lockedUntil - this.#now();
    return left > 0 ? left : 0;
  }

  /** Records a failure; returns the length of the lockout it starts (0 = none). */
  fail(key: string): number {
    if (this.maxFailures <= 0) return 0;
    const now = this.#now();
    let r = this.#records.get(key);
    if (!r) {
      shrink(this.#records, this.#maxKeys, (v) => this.#forgettable(v, now));
      this.#records.set(
        key,
        r = { failures: 0, windowStart: now, lockedUntil: 0, level: 0, lastFailureAt: 0 },
      );
    }
    if (r.lockedUntil > now) return 0; // already locked; attempts are not even checked
    if (r.level > 0 && now - r.lastFailureAt >= this.#windowMs + this.#maxLockMs) r.level = 0;
    if (now - r.windowStart >= this.#windowMs) {
      r.windowStart = now;
      r.failures = 0;
    }
    r.lastFailureAt = now;
    if (++r.failures < this.maxFailures) return 0;
    const lock = Math.min(this.#baseLockMs * 2 ** Math.min(r.level, 30), this.#maxLockMs);
    r.lockedUntil = now + lock;
    r.level++;
    r.failures = 0;
    r.windowStart = now;
    return lock;
  }

  /** Forgets the key's failures (a successful login). */
  reset(key: string): void {
    this.#records.delete(key);
  }

  #forgettable(r: FailureRecord, now: number): boolean {
    return r.lockedUntil <= now && now - r.lastFailureAt >= this.#windowMs &&
      (r.level === 0 || now - r.lastFailureAt >= this.#windowMs + this.#maxLockMs);
  }
}

export interface LoginGuardOptions {
  /** Failures per userId before a lockout; 0 = off. */
  failuresPerUser: number;
  /** Failures per IP before a lockout; 0 = off. */
  failuresPerIp: number;
  /** First lockout in ms (doubling up to MAX_LOCKOUT_MS). */
  lockoutMs: number;
  maxKeys?: number;
  now?: Clock;
}

/**
 * Brute-force protection for logins: failures are counted per claimed userId (existing or not,
 * so a lockout tells nothing about which accounts exist) and per client IP. A locked login is
 * refused without checking the credentials.
 */
export class LoginGuard {
  readonly #users: FailureLockout;
  readonly #ips: FailureLockout;

  constructor(options: LoginGuardOptions) {
    const common = { baseLockMs: options.lockoutMs, maxKeys: options.maxKeys, now: options.now };
    this.#users = new FailureLockout({ ...common, maxFailures: options.failuresPerUser });
    this.#ips = new FailureLockout({ ...common, maxFailures: options.failuresPerIp });
  }

  /** New thresholds and lockout (SIGHUP). */
  configure(options: Pick<LoginGuardOptions, "failuresPerUser" | "failuresPerIp" | "lockoutMs">): void {
    this.#users.configure({ maxFailures: options.failuresPerUser, baseLockMs: options.lockoutMs });
    this.#ips.configure({ maxFailures: options.failuresPerIp, baseLockMs: options.lockoutMs });
  }

  /** Milliseconds the login stays refused (the longer of the user's and the IP's lock); 0 = allowed. */
  lockedFor(userId: string | undefined, ip: string): number {
    const u = userId === undefined ? 0 : this.#users.lockedFor(userId);
    const i = this.#ips.lockedFor(ip);
    return u > i ? u : i;
  }

  /** Counts a failure; returns which keys it locked (for the log). */
  failed(userId: string | undefined, ip: string): { userLock: number; ipLock: number } {
    return {
      userLock: userId === undefined ? 0 : this.#users.fail(userId),
      ipLock: this.#ips.fail(ip),
    };
  }

  /** A successful login resets the user's failures (not the IP's: an attacker's own account must not). */
  succeeded(userId: string): void {
    this.#users.reset(userId);
  }
}
