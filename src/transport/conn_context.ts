/** What every transport needs from the app: the router, the session service, limits, logging. */
import type { Logger } from "../log.ts";
import type { Router } from "../router/router.ts";
import type { SessionService } from "../services/sessions.ts";
import type { Stats } from "../services/stats.ts";
import type { HttpApi } from "./http_api.ts";

export interface TransportLimits {
  /** Largest TCP body, WebSocket message or HTTP body. */
  maxBody: number;
  /** Bytes queued for one connection before it is dropped as a slow consumer. */
  outboxMaxBytes: number;
  /**
   * Time allowed for the first bytes, for a complete HTTP head, and for each TCP frame or
   * WebSocket message to complete once its first byte arrived (ms).
   */
  handshakeTimeout: number;
  /** Time a TCP or WebSocket connection may stay without logging in (ms); 0 = no limit. Default 0. */
  loginTimeout?: number;
  /** Origins allowed to open WebSockets; empty = any. */
  allowedOrigins: readonly string[];
}

export interface ConnContext {
  readonly router: Router;
  readonly sessions: SessionService;
  readonly http: HttpApi;
  readonly limits: TransportLimits;
  readonly log: Logger;
  /** Counters for /metrics (outbox drops). */
  readonly stats: Stats;
  /** Graceful shutdown: set once the server stops, read by every transport. */
  readonly drain: ConnDrain;
}

/**
 * The transports' side of a graceful shutdown (app.stop()). Once started, HTTP answers carry
 * `Connection: close` and keep-alive connections waiting for their next request are closed;
 * TCP and WebSocket sessions that open after it are told at once (the app tells the others).
 */
export class ConnDrain {
  #draining = false;
  /** HTTP keep-alive connections between two requests. */
  readonly #idle = new Set<Deno.Conn>();

  get draining(): boolean {
    return this.#draining;
  }

  /** An HTTP connection waits for its next request; false (and closed) when draining. */
  idle(conn: Deno.Conn): boolean {
    if (this.#draining) {
      closeQuietly(conn);
      return false;
    }
    this.#idle.add(conn);
    return true;
  }

  /** The connection's next request started arriving (or it ended). */
  busy(conn: Deno.Conn): void {
    this.#idle.delete(conn);
  }

  /** Starts the drain: idle keep-alive connections are closed now, busy ones after their answer. */
  start(): void {
    this.#draining = true;
    for (const conn of this.#idle) closeQuietly(conn);
    this.#idle.clear();
  }
}

/**
 * A connection's first read buffer: small, since most IM frames are small and most connections
 * are idle (idle memory per connection is a target, docs in bench/). A session whose reads fill
 * the buffer gets a bigger one, doubling up to MAX_READ_BUFFER_BYTES, so a busy pipelining
 * client needs few reads.
 */
export const READ_BUFFER_BYTES = 512;
export const MAX_READ_BUFFER_BYTES = 16 * 1024;

/**
 * The buffer for the next read: twice as large (up to MAX_READ_BUFFER_BYTES) when the last read
 * (already handled: the old buffer may be dropped) filled it, else the same one.
 */
export function nextReadBuffer(buf: Uint8Array, lastRead: number): Uint8Array {
  return lastRead === buf.length && buf.length < MAX_READ_BUFFER_BYTES ? new Uint8Array(buf.length * 2) : buf;
}

export function remoteAddrOf(conn: Deno.Conn): string {
  const addr = conn.remoteAddr as Deno.NetAddr;
  return addr.hostname !== undefined ? `${addr.hostname}:${addr.port}` : String(addr.transport);
}

/**
 * An I/O error that only means the connection is gone: reset by the peer, a write after the peer
 * closed (BrokenPipe), or closed by the server itself (a kick, a timeout, a slow consumer) while a
 * read was pending, which rejects that read with Interrupted ("operation canceled") or
 * BadResource. Not worth a warning.
 */
export function isConnectionGone(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.Interrupted || err instanceof Deno.errors.BrokenPipe;
}

/** Closes a Deno.Conn, ignoring "already closed". */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** Longest wait for queued bytes to drain before a closing connection is cut anyway. */
export const CLOSE_FLUSH_TIMEOUT_MS = 5000;

/** Lets the outbox drain (bounded in time), then closes the socket. Resolves once closed. */
export function flushThenClose(writer: { end(): Promise<void> }, conn: Deno.Conn): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_FLUSH_TIMEOUT_MS));
  return Promise.race([writer.end(), timeout]).catch(() => {}).finally(() => {
    clearTimeout(timer);
    closeQuietly(conn);
  });
}
