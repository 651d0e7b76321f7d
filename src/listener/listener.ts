/**
 * One port, three protocols (spec §7): the first byte 0x01 means J-IM TCP; otherwise the bytes
 * must be an HTTP request head, which is a WebSocket upgrade or a plain HTTP request. Anything
 * else, or silence past the handshake timeout, is closed.
 */
import type { Logger } from "../log.ts";
import { TCP_VERSION } from "../protocol/frame.ts";
import { closeQuietly, type ConnContext, READ_BUFFER_BYTES } from "../transport/conn_context.ts";
import { serveHttp } from "../transport/http_conn.ts";
import { serveTcp } from "../transport/tcp_conn.ts";

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
}

/** Accepts connections until closed; tracks them so stop() can end them all. */
export class SniffingListener {
  readonly #listener: Deno.TcpListener;
  readonly #ctx: ConnContext;
  readonly #options: ListenerOptions;
  readonly #log: Logger;
  readonly #conns = new Set<Deno.Conn>();
  readonly #counter: ConnectionCounter;
  readonly #tasks = new Set<Promise<void>>();
  #acceptLoop: Promise<void> | undefined;

  constructor(options: ListenerOptions, ctx: ConnContext) {
    this.#options = options;
    this.#counter = options.counter ?? { active: 0 };
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  }

  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  start(): void {
    this.#acceptLoop ??= this.#accept();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) return;
        // Transient (e.g. EMFILE): log, back off briefly, keep accepting.
        this.#log.warn("listener.accept_error", { error: String(err) });
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.#counter.active >= this.#options.maxConnections) {
        this.#log.warn("listener.connection_limit", { limit: this.#options.maxConnections });
        closeQuietly(conn);
        continue;
      }
      try {
        conn.setNoDelay(true);
      } catch {
        // not a TCP socket option on this platform
      }
      this.#conns.add(conn);
      this.#counter.active++;
      const task = this.#serve(conn).finally(() => {
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
      n = await conn.read(buf);
    } catch {
      n = null;
    } finally {
      clearTimeout(timer);
    }
    if (n === null || n === 0) return closeQuietly(conn);
    const first = buf.subarray(0, n);
    try {
      if (first[0] === TCP_VERSION) {
        if (!protocols.includes("tcp")) return closeQuietly(conn);
        return await serveTcp(conn, first, this.#ctx);
      }
      // An HTTP request line starts with an upper-case method token.
      if (first[0] >= 0x41 && first[0] <= 0x5a && (protocols.includes("http") || protocols.includes("ws"))) {
        return await serveHttp(conn, first, this.#ctx, {
          ws: protocols.includes("ws"),
          http: protocols.includes("http"),
        });
      }
      this.#log.info("listener.unknown_protocol", { firstByte: first[0] });
      closeQuietly(conn);
    } catch (err) {
      this.#log.error("listener.serve_error", { error: err });
      closeQuietly(conn);
    }
  }

  /** Stops accepting, closes every connection and waits for their tasks to finish. */
  async stop(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    await this.#acceptLoop;
    for (const conn of this.#conns) closeQuietly(conn);
    await Promise.allSettled([...this.#tasks]);
  }
}
