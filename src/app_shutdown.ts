/**
 * The order of a graceful stop, for the composition root (app.ts): what the network side does
 * between SIGTERM and closing the store. See App.stop().
 */
import type { SniffingListener } from "./listener/listener.ts";
import type { Logger } from "./log.ts";
import type { Router } from "./router/router.ts";
import { SHUTDOWN_CLOSE_CODE, SHUTDOWN_REASON } from "./services/session.ts";
import type { SessionRegistry } from "./services/session_registry.ts";
import type { ConnDrain } from "./transport/conn_context.ts";

/** The end of a stop's wait: --shutdown-timeout after start(), or earlier with hurry(). */
export class ShutdownDeadline {
  readonly #reached = Promise.withResolvers<void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves false once the deadline is reached (to race against "done"). */
  readonly expired: Promise<false> = this.#reached.promise.then(() => false);

  start(timeoutMs: number): void {
    this.#timer = setTimeout(() => this.#reached.resolve(), timeoutMs);
  }

  hurry(): void {
    this.#reached.resolve();
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

export interface DrainParts {
  listeners: readonly SniffingListener[];
  router: Router;
  drain: ConnDrain;
  registry: SessionRegistry;
  log: Logger;
}

/**
 * Ends every connection politely, within the deadline: resolves true if all of them ended,
 * false if some were still open when it was reached (the caller then drops them).
 */
export async function drainConnections(parts: DrainParts, deadline: ShutdownDeadline): Promise<boolean> {
  const { listeners, router, drain, registry } = parts;
  // 1. No new connections, no new requests (a request read from now on is not answered).
  await Promise.all(listeners.map((l) => l.stopAccepting()));
  router.drain();
  drain.start();
  // 2. Requests in progress finish: chats commit and their acks are queued.
  await Promise.race([router.idle(), deadline.expired]);
  // 3. Tell every client: WebSocket close 1001 after its queued frames, TCP closed once its
  //    outbox is flushed; HTTP answers already carry Connection: close.
  for (const session of [...registry.all()]) session.close(SHUTDOWN_REASON, SHUTDOWN_CLOSE_CODE);
  return await Promise.race([
    Promise.all(listeners.map((l) => l.drained())).then(() => true),
    deadline.expired,
  ]);
}
