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
    return this.writer.write(encodeTcpFrame(packet.command, packet.bytes, synSeq));
  }
}

export async function serveTcp(conn: Deno.Conn, first: Uint8Array, ctx: ConnContext): Promise<void> {
  const decoder = new TcpFrameDecoder(ctx.limits.maxBody);
  await runSession(new TcpTransport(conn, ctx), first, ctx, async (chunk, session) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      // A framing error cannot be resynchronised: close without a reply (J-IM does the same).
      ctx.log.info("conn.protocol_error", { session: session.id, protocol: "tcp", error: err.message });
      return err.message;
    }
    for (const frame of frames) {
      await ctx.router.dispatchFrame(session, frame.cmd, frame.body, frame.synSeq);
      if (session.closing) break;
    }
    return undefined;
  });
}
