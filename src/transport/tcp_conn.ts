/**
 * A J-IM TCP connection: frames in, router, frames out. Requests are handled one after another
 * (a slow request stops reading, which is the backpressure); replies carry the request's synSeq.
 */
import { encodeTcpFrame, FrameError, TcpFrameDecoder } from "../protocol/frame.ts";
import type { OutPacket } from "../protocol/packet.ts";
import { Session, type SessionTransport } from "../services/session.ts";
import {
  closeQuietly,
  type ConnContext,
  flushThenClose,
  READ_BUFFER_BYTES,
  remoteAddrOf,
} from "./conn_context.ts";
import { ConnWriter } from "./conn_writer.ts";

class TcpTransport implements SessionTransport {
  readonly protocol = "tcp" as const;
  readonly remoteAddr: string;
  readonly writer: ConnWriter;
  readonly #conn: Deno.Conn;
  #closing = false;

  constructor(conn: Deno.Conn, ctx: ConnContext) {
    this.#conn = conn;
    this.remoteAddr = remoteAddrOf(conn);
    this.writer = new ConnWriter(conn, ctx.limits.outboxMaxBytes, () => {
      ctx.log.info("conn.slow_consumer", { protocol: "tcp", remote: this.remoteAddr });
      this.hardClose();
    });
  }

  get lastWriteAt(): number {
    return this.writer.lastWriteAt;
  }

  send(packet: OutPacket, synSeq: number): boolean {
    return this.writer.write(encodeTcpFrame(packet.command, packet.bytes, synSeq));
  }

  close(_reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    flushThenClose(this.writer, this.#conn);
  }

  hardClose(): void {
    this.#closing = true;
    closeQuietly(this.#conn);
  }
}

export async function serveTcp(conn: Deno.Conn, first: Uint8Array, ctx: ConnContext): Promise<void> {
  const transport = new TcpTransport(conn, ctx);
  const session = new Session(transport);
  ctx.sessions.opened(session);
  ctx.log.debug("conn.open", { session: session.id, protocol: "tcp", remote: transport.remoteAddr });
  const decoder = new TcpFrameDecoder(ctx.limits.maxBody);
  const buf = new Uint8Array(READ_BUFFER_BYTES);
  let reason = "peer closed";
  try {
    let chunk: Uint8Array | null = first;
    while (chunk && !session.closing) {
      session.lastReadAt = Date.now();
      for (const frame of decoder.push(chunk)) {
        await ctx.router.dispatchFrame(session, frame.cmd, frame.body, frame.synSeq);
        if (session.closing) break;
      }
      if (session.closing) break;
      const n: number | null = await conn.read(buf);
      chunk = n === null ? null : buf.subarray(0, n);
    }
  } catch (err) {
    if (err instanceof FrameError) {
      reason = err.message;
      ctx.log.info("conn.protocol_error", { session: session.id, protocol: "tcp", error: err.message });
    } else if (!(err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset)) {
      reason = String(err);
    }
  } finally {
    ctx.sessions.closed(session);
    await flushThenClose(transport.writer, conn);
    ctx.log.debug("conn.close", { session: session.id, protocol: "tcp", reason });
  }
}
