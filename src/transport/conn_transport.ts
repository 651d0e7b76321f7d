/**
 * What the TCP and WebSocket transports share: a bounded outbox, the slow-consumer policy, the
 * close sequence, and the read loop that feeds a session until either side ends it.
 */
import type { OutPacket } from "../protocol/packet.ts";
import { type Protocol, Session, type SessionTransport } from "../services/session.ts";
import {
  closeQuietly,
  type ConnContext,
  flushThenClose,
  isConnectionGone,
  READ_BUFFER_BYTES,
  remoteAddrOf,
} from "./conn_context.ts";
import { ConnWriter } from "./conn_writer.ts";

export abstract class ConnTransport implements SessionTransport {
  abstract readonly protocol: Protocol;
  readonly remoteAddr: string;
  readonly writer: ConnWriter;
  readonly conn: Deno.Conn;
  #closing = false;

  constructor(conn: Deno.Conn, ctx: ConnContext) {
    this.conn = conn;
    this.remoteAddr = remoteAddrOf(conn);
    // Overflow policy: a client that stops reading is cut off at once, nothing more is queued.
    this.writer = new ConnWriter(conn, ctx.limits.outboxMaxBytes, () => {
      ctx.log.info("conn.slow_consumer", { protocol: this.protocol, remote: this.remoteAddr });
      this.#closing = true;
      closeQuietly(conn);
    });
  }

  get lastWriteAt(): number {
    return this.writer.lastWriteAt;
  }

  abstract send(packet: OutPacket, synSeq: number): boolean;

  /** Bytes sent last when the server closes (a WebSocket close frame); none by default. */
  protected farewell(_code: number | undefined): Uint8Array | undefined {
    return undefined;
  }

  /** Server-initiated close: the farewell, then the socket once the outbox drained. */
  close(_reason: string, code?: number): void {
    if (this.#closing) return;
    this.#closing = true;
    const last = this.farewell(code);
    if (last) this.writer.write(last);
    flushThenClose(this.writer, this.conn);
  }

  writeRaw(bytes: Uint8Array): void {
    this.writer.write(bytes);
  }
}

/** A read loop's verdict on a chunk: keep reading, or stop with a reason. */
export type ChunkHandler = (chunk: Uint8Array, session: Session) => Promise<string | undefined>;

/**
 * Runs a session over a connection: registers it, feeds every chunk (starting with `first`)
 * to `onChunk` until the peer or the server ends it, then unregisters it and closes the socket
 * after a bounded flush. Requests are handled in order; while one is handled nothing is read.
 */
export async function runSession(
  transport: ConnTransport,
  first: Uint8Array,
  ctx: ConnContext,
  onChunk: ChunkHandler,
  beforeReading?: (session: Session) => Promise<void>,
): Promise<void> {
  const session = new Session(transport);
  const conn = transport.conn;
  ctx.sessions.opened(session);
  ctx.log.debug("conn.open", {
    session: session.id,
    protocol: transport.protocol,
    remote: transport.remoteAddr,
  });
  let reason = "peer closed";
  try {
    if (beforeReading) await beforeReading(session);
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    let chunk: Uint8Array | null = first;
    while (chunk && !session.closing) {
      session.lastReadAt = Date.now();
      const stop = await onChunk(chunk, session);
      if (stop !== undefined) {
        reason = stop;
        break;
      }
      if (session.closing) break;
      const n: number | null = await conn.read(buf);
      chunk = n === null ? null : buf.subarray(0, n);
    }
  } catch (err) {
    if (!isConnectionGone(err)) {
      reason = String(err);
      ctx.log.warn("conn.error", { session: session.id, protocol: transport.protocol, error: err });
    }
  } finally {
    ctx.sessions.closed(session);
    await flushThenClose(transport.writer, conn);
    ctx.log.debug("conn.close", { session: session.id, protocol: transport.protocol, reason });
  }
}
