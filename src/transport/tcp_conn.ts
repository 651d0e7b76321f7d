/**
 * A J-IM TCP connection: frames in, router, frames out. Replies carry the request's synSeq.
 */
import { encodeTcpFrame, FrameError, TcpFrameDecoder } from "../protocol/frame.ts";
import type { OutPacket } from "../protocol/packet.ts";
import type { ConnContext } from "./conn_context.ts";
import { ConnTransport, runSession } from "./conn_transport.ts";

class TcpTransport extends ConnTransport {
  readonly protocol = "tcp" as const;

  send(packet: OutPacket, synSeq: number): boolean {
    // A connection cut off (slow consumer) or closing: nothing to encode (group fan-out skips it).
    if (!this.writer.writable) return false;
    // Without a synSeq the frame is the same for every receiver: shared, not copied.
    return this.writer.write(
      synSeq > 0 ? encodeTcpFrame(packet.command, packet.bytes, synSeq) : packet.tcpFrame,
    );
  }
}

/**
 * Serves a J-IM TCP connection whose first bytes were already read. `readBuffer` (the buffer
 * `first` was read into, if any) is reused for every later read, so an idle connection holds one
 * read buffer, not two.
 */
export function serveTcp(
  conn: Deno.Conn,
  first: Uint8Array,
  ctx: ConnContext,
  readBuffer?: Uint8Array,
): Promise<void> {
  const decoder = new TcpFrameDecoder(ctx.limits.maxBody);
  /** Frames completed so far, for the frame deadline. */
  let completed = 0;
  const progress = () => decoder.bufferedBytes > 0 ? completed : -1;
  return runSession(
    new TcpTransport(conn, ctx),
    first,
    ctx,
    async (chunk, session) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        // A framing error cannot be resynchronised: close without a reply (J-IM does the same).
        ctx.log.info("conn.protocol_error", { session: session.id, protocol: "tcp", error: err.message });
        return err.message;
      }
      completed += frames.length;
      for (const frame of frames) {
        await ctx.router.dispatchFrame(session, frame.cmd, frame.body, frame.synSeq);
        if (session.closing) break;
      }
      return undefined;
    },
    undefined,
    progress,
    readBuffer,
  );
}
