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
  WS_CLOSE,
  WsFrameDecoder,
  WsProtocolError,
} from "../protocol/ws_frame.ts";
import { buildWsHandshakeResponse, computeWsAccept, validateWsUpgrade } from "../protocol/ws_handshake.ts";
import type { Session } from "../services/session.ts";
import { closeQuietly, type ConnContext } from "./conn_context.ts";
import { ConnTransport, runSession } from "./conn_transport.ts";

class WsTransport extends ConnTransport {
  readonly protocol = "ws" as const;

  send(packet: OutPacket, _synSeq: number): boolean {
    if (!this.writer.writable) return false;
    return this.writer.write(packet.wsFrame);
  }

  /** The reason text goes out only with 1001 (server shutting down); other reasons stay in the log. */
  protected override farewell(code: number | undefined, reason: string): Uint8Array {
    return encodeWsClose(code ?? WS_CLOSE.NORMAL, code === WS_CLOSE.GOING_AWAY ? reason : "");
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

/**
 * Upgrades an HTTP request to a WebSocket session. Nothing of the request is kept for the
 * session's lifetime but the login parameters; `readBuffer` is reused for reading.
 */
export async function serveWs(
  conn: Deno.Conn,
  request: HttpRequest,
  remainder: Uint8Array,
  ctx: ConnContext,
  readBuffer?: Uint8Array,
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
  // Dropped once used: the session does not keep the password for its lifetime.
  let login = queryLogin(request.query);
  const transport = new WsTransport(conn, ctx);
  transport.writeRaw(buildWsHandshakeResponse(accept));
  const decoder = new WsFrameDecoder({ maxMessageBytes: ctx.limits.maxBody, requireMask: true });
  /** Messages and control frames completed so far, for the frame deadline. */
  let completed = 0;
  const progress = () => decoder.partial ? completed : -1;
  return runSession(
    transport,
    remainder,
    ctx,
    async (chunk, session) => {
      let events;
      try {
        events = decoder.push(chunk);
      } catch (err) {
        if (!(err instanceof WsProtocolError)) throw err;
        // Messages before the bad frame still count; then close with the RFC 6455 code.
        for (const event of err.events) await handleEvent(session, transport, event, ctx);
        ctx.log.info("conn.protocol_error", { session: session.id, protocol: "ws", error: err.message });
        transport.close(err.message, err.closeCode);
        return err.message;
      }
      completed += events.length;
      for (const event of events) {
        await handleEvent(session, transport, event, ctx);
        if (session.closing) break;
      }
      return undefined;
    },
    login
      ? (session) => {
        const body = login!;
        login = undefined;
        return ctx.router.dispatchObject(session, CMD.LOGIN_REQ, body);
      }
      : undefined,
    progress,
    readBuffer,
  );
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
 * With no credentials in the query (undefined here) the client is expected to send cmd 5 itself.
 */
function queryLogin(query: URLSearchParams): Record<string, string | undefined> | undefined {
  const userId = query.get("username") ?? query.get("userId") ?? undefined;
  const password = query.get("password") ?? undefined;
  const token = query.get("token") ?? undefined;
  if (!userId && !password && !token) return undefined;
  const extensions = query.get("extensions") ?? undefined;
  return { extensions, password, token, userId };
}
