/**
 * One port, three protocols (spec §7): the first byte 0x01 means J-IM TCP; otherwise the bytes
 * must be an HTTP request head, which is a WebSocket upgrade or a plain HTTP request. Anything
 * else, or silence past the handshake timeout, is closed.
 *
 * With TLS (spec §13.3) the port is a Deno.listenTls listener: the handshake comes first and the
 * sniffing runs on the decrypted bytes, so one port serves TLS-wrapped J-IM TCP, wss and https.
 */
import type { Logger } from "../log.ts";
import { TCP_VERSION } from "../protocol/frame.ts";
import {
  closeQuietly,
  type ConnContext,
  READ_BUFFER_BYTES,
  remoteAddrOf,
} from "../transport/conn_context.ts";
import { serveHttp } from "../transport/http_conn.ts";
import { serveTcp } from "../transport/tcp_conn.ts";
import { type ConnectionGate, OncePerWindow } from "../services/limits.ts";
import type { TlsKeyPair } from "./tls.ts";

export type ProtocolName = "tcp" | "ws" | "http";

/** Open connections across every listener of an app: maxConnections is a global limit. */
export interface ConnectionCounter {
  active: number;
}

export interface ListenerOptions {
  hostname: string;
  port: number;
  protocols: readonly ProtocolName[];
  maxConnections: number;
  /** Shared by the app's listeners so the limit counts them together; own counter when absent. */
  counter?: ConnectionCounter;
  /** Per-IP connection count and connect rate, shared by the app's listeners; none when absent. */
  gate?: ConnectionGate;
  /** PEM certificate and key: the port speaks TLS (checked beforehand, see loadTlsKeyPair). */
  tls?: TlsKeyPair;
  /**
   * SO_REUSEPORT (`--workers`): each worker binds the port and the kernel spreads new connections
   * across them. Needs Deno's --unstable-net.
   */
  reusePort?: boolean;
}

/** How long a re-bind may keep failing (port still held by the closing socket) before giving up. */
const REBIND_TIMEOUT_MS = 2000;

/** Accepts connections until closed; tracks them so stop() can end them all. */
export class SniffingListener {
  #listener: Deno.Listener;
  readonly #addr: Deno.NetAddr;
  #tls: TlsKeyPair | undefined;
  /** Serialises certificate swaps with each other and with stop(). */
  #swap: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #ctx: ConnContext;
  readonly #options: ListenerOptions;
  readonly #log: Logger;
  readonly #conns = new Set<Deno.Conn>();
  readonly #counter: ConnectionCounter;
  readonly #tasks = new Set<Promise<void>>();
  /** Connection-limit warnings: one per 10 s. */
  readonly #limitLog = new OncePerWindow(10_000);
  #acceptLoop: Promise<void> | undefined;

  constructor(options: ListenerOptions, ctx: ConnContext) {
    this.#options = options;
    this.#counter = options.counter ?? { active: 0 };
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#tls = options.tls;
    this.#listener = this.#bind(options.port);
    this.#addr = this.#listener.addr as Deno.NetAddr;
  }

  #bind(port: number): Deno.Listener {
    const { hostname } = this.#options;
    const reusePort = this.#options.reusePort || undefined;
    return this.#tls
      ? Deno.listenTls({ hostname, port, transport: "tcp", reusePort, ...this.#tls })
      : Deno.listen({ hostname, port, transport: "tcp", reusePort });
  }

  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  get tls(): boolean {
    return this.#tls !== undefined;
  }

  /** Changes the connection limit (SIGHUP); connections above a lowered limit stay open. */
  setMaxConnections(max: number): void {
    this.#options.maxConnections = max;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  start(): void {
    this.#acceptLoop ??= this.#accept(this.#listener);
  }

  /**
   * Serves new connections with another certificate (checked beforehand: see loadTlsKeyPair);
   * accepted connections keep theirs and are not touched. A Deno TLS listener's certificate is
   * fixed, and a second listener on the same port needs SO_REUSEPORT (`--unstable-net`), so the
   * listening socket is closed and bound again at once: for about a millisecond new connections
   * are refused, and those the kernel had queued but not handed over yet are reset (clients
   * reconnect). Resolves true once the new pair serves, false if it would not bind and the old
   * one serves again. Should neither bind, the port is retried every second until stop().
   */
  reloadTls(pair: TlsKeyPair): Promise<boolean> {
    if (!this.#tls) return Promise.reject(new Error("not a TLS listener"));
    const run = this.#swap.then(() => this.#swapListener(pair));
    this.#swap = run.then(() => {}, () => {});
    return run;
  }

  async #swapListener(pair: TlsKeyPair): Promise<boolean> {
    if (this.#stopped) return false;
    const old = this.#tls!;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    // The socket is released once its pending accept has been cancelled.
    await this.#acceptLoop;
    let listener = await this.#rebind(pair, REBIND_TIMEOUT_MS);
    const swapped = listener !== undefined;
    if (swapped) this.#tls = pair;
    else listener = await this.#rebind(old, REBIND_TIMEOUT_MS);
    if (!listener) {
      this.#log.error("listener.lost", { port: this.#addr.port, retry: "every second until bound" });
      while (!listener && !this.#stopped) listener = await this.#rebind(old, 1000, true);
      if (!listener) return false;
      this.#log.info("listener.rebound", { port: this.#addr.port });
    }
    this.#listener = listener;
    if (this.#acceptLoop) this.#acceptLoop = this.#accept(listener);
    return swapped;
  }

  /** Binds the port again with `pair`, retrying (the closed socket may linger) for up to `ms`. */
  async #rebind(pair: TlsKeyPair, ms: number, quiet = false): Promise<Deno.Listener | undefined> {
    const deadline = Date.now() + ms;
    for (let wait = 1;; wait = Math.min(wait * 2, 250)) {
      try {
        return Deno.listenTls({
          hostname: this.#options.hostname,
          port: this.#addr.port,
          reusePort: this.#options.reusePort || undefined,
          ...pair,
        });
      } catch (err) {
        if (Date.now() + wait > deadline) {
          if (!quiet) this.#log.error("listener.rebind_failed", { port: this.#addr.port, error: err });
          return undefined;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) return;
        // Transient (e.g. EMFILE): log, back off briefly, keep accepting.
        this.#log.warn("listener.accept_error", { error: String(err) });
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.#counter.active >= this.#options.maxConnections) {
        if (this.#limitLog.check("max-connections")) {
          this.#log.warn("listener.connection_limit", { limit: this.#options.maxConnections });
        }
        closeQuietly(conn);
        continue;
      }
      // Per IP: the connect rate and open connections (docs/protocol.md §8), closed at accept.
      const gate = this.#options.gate;
      const ip = gate ? ipOfConn(conn) : "";
      if (gate) {
        const refusal = gate.admit(ip);
        if (refusal) {
          if (gate.shouldLog(ip, refusal)) {
            this.#log.info("listener.ip_limit", {
              ip,
              limit: refusal,
              max: refusal === "per-ip" ? gate.maxPerIp : gate.connectRate,
            });
          }
          closeQuietly(conn);
          continue;
        }
      }
      // A Deno.TlsConn offers no setNoDelay (Nagle stays on for TLS connections).
      if (!isTlsConn(conn)) {
        try {
          (conn as Deno.TcpConn).setNoDelay(true);
        } catch {
          // not a TCP socket option on this platform
        }
      }
      this.#conns.add(conn);
      this.#counter.active++;
      const task = this.#serve(conn).finally(() => {
        gate?.release(ip);
        this.#conns.delete(conn);
        this.#counter.active--;
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const protocols = this.#options.protocols;
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    const timer = setTimeout(() => closeQuietly(conn), this.#ctx.limits.handshakeTimeout);
    let n: number | null;
    try {
      // TLS: a failed handshake (a plain-text client, a bad ClientHello, an untrusted
      // certificate on the client side) ends here, without a word to the client.
      if (isTlsConn(conn)) await this.#handshake(conn);
      n = await conn.read(buf);
    } catch {
      n = null;
    } finally {
      clearTimeout(timer);
    }
    if (n === null || n === 0) return closeQuietly(conn);
    const first = buf.subarray(0, n);
    // The protocol's promise is returned, not awaited: this frame is released while the
    // connection lives (idle memory per connection is a target; see bench/).
    const failed = (err: unknown) => {
      this.#log.error("listener.serve_error", { error: err });
      closeQuietly(conn);
    };
    try {
      if (first[0] === TCP_VERSION) {
        if (!protocols.includes("tcp")) return closeQuietly(conn);
        return serveTcp(conn, first, this.#ctx, buf).catch(failed);
      }
      // An HTTP request line starts with an upper-case method token.
      if (first[0] >= 0x41 && first[0] <= 0x5a && (protocols.includes("http") || protocols.includes("ws"))) {
        return serveHttp(conn, first, this.#ctx, {
          ws: protocols.includes("ws"),
          http: protocols.includes("http"),
        }, buf).catch(failed);
      }
      this.#log.info("listener.unknown_protocol", { firstByte: first[0] });
      closeQuietly(conn);
    } catch (err) {
      failed(err);
    }
  }

  async #handshake(conn: Deno.TlsConn): Promise<void> {
    try {
      await conn.handshake();
    } catch (err) {
      this.#log.info("listener.tls_handshake_failed", {
        remote: remoteAddrOf(conn),
        error: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
  }

  /** Closes the listening socket: no new connections; open ones are served on (graceful stop). */
  async stopAccepting(): Promise<void> {
    this.#stopped = true;
    await this.#swap;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    await this.#acceptLoop;
  }

  /** Resolves once every accepted connection has ended (call after stopAccepting()). */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.#tasks]);
  }

  /** Stops accepting, closes every connection and waits for their tasks to finish. */
  async stop(): Promise<void> {
    await this.stopAccepting();
    for (const conn of this.#conns) closeQuietly(conn);
    await this.drained();
  }
}

function ipOfConn(conn: Deno.Conn): string {
  const addr = conn.remoteAddr as Deno.NetAddr;
  return addr.hostname ?? String(addr.transport);
}

function isTlsConn(conn: Deno.Conn): conn is Deno.TlsConn {
  return typeof (conn as Partial<Deno.TlsConn>).handshake === "function";
}
