/**
 * A WebSocket connection on the shared port (RFC 6455 on the raw socket, no Deno.serve):
 * upgrade, optional login from the query string (J-IM web demo), JSON messages to the router,
 * ping → pong, close handshake. Server frames are single unmasked text frames.
 */
import type { HttpRequest } from "../protocol/http_request.ts";
import { serializeHttpResponse } from "../protocol/http_response.ts";
import { CMD } from "../protocol/commands.ts";
import type { OutPacket } from "../protocol/packet.ts";
import {
  encodeWsClose,
  encodeWsPong,
  encodeWsText,
  WS_CLOSE,
  WsFrameDecoder,
  WsProtocolError,
} from "../protocol/ws_frame.ts";
import { buildWsHandshakeResponse, computeWsAccept, validateWsUpgrade } from "../protocol/ws_handshake.ts";
import { Session, type SessionTransport } from "../services/session.ts";
import {
  closeQuietly,
  type ConnContext,
  flushThenClose,
  READ_BUFFER_BYTES,
  remoteAddrOf,
} from "./conn_context.ts";
import { ConnWriter } from "./conn_writer.ts";

class WsTransport implements SessionTransport {
  readonly protocol = "ws" as const;
  readonly remoteAddr: string;
  readonly writer: ConnWriter;
  readonly #conn: Deno.Conn;
  #closing = false;

  constructor(conn: Deno.Conn, ctx: ConnContext) {
    this.#conn = conn;
    this.remoteAddr = remoteAddrOf(conn);
    this.writer = new ConnWriter(conn, ctx.limits.outboxMaxBytes, () => {
      ctx.log.info("conn.slow_consumer", { protocol: "ws", remote: this.remoteAddr });
      this.#closing = true;
      closeQuietly(conn);
    });
  }

  get lastWriteAt(): number {
    return this.writer.lastWriteAt;
  }

  send(packet: OutPacket, _synSeq: number): boolean {
    return this.writer.write(encodeWsText(packet.bytes));
  }

  /** Server-initiated close: a close frame, then the socket once the outbox drained. */
  close(_reason: string, code: number = WS_CLOSE.NORMAL): void {
    if (this.#closing) return;
    this.#closing = true;
    this.writer.write(encodeWsClose(code));
    flushThenClose(this.writer, this.#conn);
  }

  writeRaw(bytes: Uint8Array): void {
    this.writer.write(bytes);
  }
}

function refuse(conn: Deno.Conn, status: number, text: string): void {
  const bytes = serializeHttpResponse({
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: text + "\n",
    keepAlive: false,
  });
  conn.write(bytes).catch(() => {}).finally(() => closeQuietly(conn));
}

export async function serveWs(
  conn: Deno.Conn,
  request: HttpRequest,
  remainder: Uint8Array,
  ctx: ConnContext,
): Promise<void> {
  const problem = validateWsUpgrade(request.headers);
  if (problem) return refuse(conn, 400, problem);
  // Only browsers send Origin, and the allow-list exists to keep other sites' pages out; native
  // clients (no Origin) are not affected.
  const origin = request.headers.get("origin");
  if (ctx.limits.allowedOrigins.length > 0 && origin && !ctx.limits.allowedOrigins.includes(origin)) {
    return refuse(conn, 403, "origin not allowed");
  }
  const accept = await computeWsAccept(request.headers.get("sec-websocket-key")!.trim());
  const transport = new WsTransport(conn, ctx);
  const session = new Session(transport);
  ctx.sessions.opened(session);
  transport.writeRaw(buildWsHandshakeResponse(accept));
  ctx.log.debug("conn.open", { session: session.id, protocol: "ws", remote: transport.remoteAddr });

  let reason = "peer closed";
  try {
    await loginFromQuery(session, request.query, ctx);
    const decoder = new WsFrameDecoder({ maxMessageBytes: ctx.limits.maxBody, requireMask: true });
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    let chunk: Uint8Array | null = remainder;
    while (chunk && !session.closing) {
      session.lastReadAt = Date.now();
      let events;
      try {
        events = decoder.push(chunk);
      } catch (err) {
        if (!(err instanceof WsProtocolError)) throw err;
        for (const event of err.events) await handleEvent(session, transport, event, ctx);
        reason = err.message;
        ctx.log.info("conn.protocol_error", { session: session.id, protocol: "ws", error: err.message });
        transport.close(reason, err.closeCode);
        break;
      }
      for (const event of events) {
        await handleEvent(session, transport, event, ctx);
        if (session.closing) break;
      }
      if (session.closing) break;
      const n: number | null = await conn.read(buf);
      chunk = n === null ? null : buf.subarray(0, n);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset)) {
      reason = String(err);
      ctx.log.warn("conn.error", { session: session.id, protocol: "ws", error: err });
    }
  } finally {
    ctx.sessions.closed(session);
    // Let the close frame (if any) go out, but never wait forever.
    await flushThenClose(transport.writer, conn);
    ctx.log.debug("conn.close", { session: session.id, protocol: "ws", reason });
  }
}

type WsEventOf<T> = T extends (chunk: Uint8Array) => (infer E)[] ? E : never;
type WsEvent = WsEventOf<WsFrameDecoder["push"]>;

async function handleEvent(session: Session, transport: WsTransport, event: WsEvent, ctx: ConnContext) {
  switch (event.type) {
    case "text":
    case "binary":
      await ctx.router.dispatchMessage(session, event.data);
      break;
    case "ping":
      transport.writeRaw(encodeWsPong(event.data));
      break;
    case "pong":
      break;
    case "close":
      // Echo the peer's code (RFC 6455 §5.5.1), then close.
      session.closing = true;
      transport.close("peer sent close", event.code ?? WS_CLOSE.NORMAL);
      break;
  }
}

/**
 * J-IM's web demo logs in during the upgrade: `?username=&password=` (or `?token=`), handled
 * exactly like a cmd 5 (cmd 9 notifies, then cmd 6; a failed login answers 10008 and closes).
 * With no credentials in the query the client is expected to send cmd 5 itself.
 */
async function loginFromQuery(session: Session, query: URLSearchParams, ctx: ConnContext): Promise<void> {
  const userId = query.get("username") ?? query.get("userId") ?? undefined;
  const password = query.get("password") ?? undefined;
  const token = query.get("token") ?? undefined;
  if (!userId && !password && !token) return;
  await ctx.router.dispatchObject(session, CMD.LOGIN_REQ, { password, token, userId });
}
