/**
 * Retention: a background job deleting messages older than `--retention-days` or beyond
 * `--retention-max-messages` per conversation, and expired login tokens (always). It deletes in
 * small batches and yields between them, so delivery never waits behind it (the store does the
 * work in its own worker).
 */
import type { Logger } from "../log.ts";
import type { RetentionPolicy, Store } from "../store/store.ts";

export interface RetentionOptions {
  /** 0 = no age limit. */
  retentionDays: number;
  /** 0 = no count limit. */
  retentionMaxMessages: number;
  /** How often the job runs. */
  intervalMs: number;
  /** Messages deleted per store call. */
  batchLimit: number;
}

export const DAY_MS = 86_400_000;

/** The server's schedule: every minute, 1000 messages per store call, limits from the config. */
export function serverRetentionOptions(
  config: { retentionDays: number; retentionMaxMessages: number },
): RetentionOptions {
  return {
    retentionDays: config.retentionDays,
    retentionMaxMessages: config.retentionMaxMessages,
    intervalMs: 60_000,
    batchLimit: 1000,
  };
}

export class RetentionJob {
  readonly #store: Store;
  readonly #options: RetentionOptions;
  readonly #log: Logger;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<number> | undefined;
  #stopped = false;

  constructor(store: Store, options: RetentionOptions, log: Logger) {
    this.#store = store;
    this.#options = options;
    this.#log = log;
  }

  get enabled(): boolean {
    return this.#options.retentionDays > 0 || this.#options.retentionMaxMessages > 0;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.#options.intervalMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running?.catch(() => 0);
  }

  /** One pass: deletes batch after batch until nothing is left to delete. Returns the count. */
  runOnce(now = Date.now()): Promise<number> {
    this.#running ??= this.#pass(now).finally(() => this.#running = undefined);
    return this.#running;
  }

  async #pass(now: number): Promise<number> {
    await this.#purgeTokens(now);
    if (!this.enabled) return 0;
    const policy: RetentionPolicy = {
      olderThan: this.#options.retentionDays > 0 ? now - this.#options.retentionDays * DAY_MS : undefined,
      maxPerConversation: this.#options.retentionMaxMessages > 0
        ? this.#options.retentionMaxMessages
        : undefined,
    };
    let total = 0;
    try {
      while (!this.#stopped) {
        const n = await this.#store.pruneMessages(policy, this.#options.batchLimit);
        total += n;
        if (n < this.#options.batchLimit) break;
        await new Promise((r) => setTimeout(r, 0));
      }
    } catch (err) {
      this.#log.error("retention.failed", { error: err });
    }
    if (total > 0) this.#log.info("retention.pruned", { messages: total });
    return total;
  }

  /** Expired login tokens are useless; without this their rows would accumulate forever. */
  async #purgeTokens(now: number): Promise<void> {
    try {
      let purged = 0;
      while (!this.#stopped) {
        const n = await this.#store.purgeExpiredTokens(now, this.#options.batchLimit);
        purged += n;
        if (n < this.#options.batchLimit) break;
        await new Promise((r) => setTimeout(r, 0));
      }
      if (purged > 0) this.#log.info("tokens.purged", { tokens: purged });
    } catch (err) {
      this.#log.error("tokens.purge_failed", { error: err });
    }
  }
}
