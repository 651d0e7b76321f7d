/**
 * An HTTP/1.1 connection on the shared port: requests answered one after another with
 * keep-alive; an idle connection is closed after KEEP_ALIVE_IDLE_MS, a slow head after the
 * handshake timeout (slowloris). A WebSocket upgrade hands the connection to ws_conn.ts.
 */
import {
  HttpParseError,
  type HttpRequest,
  HttpRequestParser,
  isWebSocketUpgrade,
} from "../protocol/http_request.ts";
import { serializeHttpResponse } from "../protocol/http_response.ts";
import {
  closeQuietly,
  type ConnContext,
  isConnectionGone,
  READ_BUFFER_BYTES,
  remoteAddrOf,
} from "./conn_context.ts";
import { serveWs } from "./ws_conn.ts";

/** J-IM advertises `keep-alive: timeout=10`. */
export const KEEP_ALIVE_IDLE_MS = 10_000;
export const MAX_HEADER_BYTES = 20480;

export interface HttpServeOptions {
  /** Serve WebSocket upgrades (protocol "ws" enabled). */
  ws: boolean;
  /** Serve plain HTTP requests (protocol "http" enabled). */
  http: boolean;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

function errorResponse(status: number, text: string): Uint8Array {
  return serializeHttpResponse({
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: text + "\n",
    keepAlive: false,
  });
}

/**
 * Serves HTTP/1.1 requests on a connection whose first bytes were already read (into
 * `readBuffer`, reused for later reads) until it closes or upgrades to a WebSocket.
 */
export async function serveHttp(
  conn: Deno.Conn,
  first: Uint8Array,
  ctx: ConnContext,
  options: HttpServeOptions,
  readBuffer?: Uint8Array,
): Promise<void> {
  const remote = remoteAddrOf(conn);
  const parser = new HttpRequestParser({
    maxHeaderBytes: MAX_HEADER_BYTES,
    maxBodyBytes: ctx.limits.maxBody,
  });
  const buf = readBuffer ?? new Uint8Array(READ_BUFFER_BYTES);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => closeQuietly(conn), ms);
  };
  let handedOver = false;
  let headDeadline = false;
  try {
    let chunk: Uint8Array | null = first;
    while (chunk) {
      let requests: HttpRequest[];
      try {
        requests = parser.push(chunk);
      } catch (err) {
        if (!(err instanceof HttpParseError)) throw err;
        ctx.log.info("http.bad_request", { remote, status: err.status, error: err.message });
        await writeAll(conn, errorResponse(err.status, err.message));
        return;
      }
      for (const req of requests) {
        if (isWebSocketUpgrade(req)) {
          if (!options.ws) {
            await writeAll(conn, errorResponse(404, "WebSocket is not served on this port"));
            return;
          }
          clearTimeout(timer);
          handedOver = true;
          // Returned, not awaited: this function's frame (parser, request list) is released
          // while the WebSocket session runs; the session keeps only the read buffer.
          return serveWs(conn, req, parser.takeRemainder(), ctx, buf);
        }
        if (!options.http) {
          await writeAll(conn, errorResponse(404, "HTTP is not served on this port"));
          return;
        }
        const reply = await ctx.http.handle(req, remote);
        const keepAlive = req.keepAlive;
        await writeAll(
          conn,
          serializeHttpResponse({
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
            keepAlive,
            head: req.method === "HEAD",
          }),
        );
        if (!keepAlive) return;
      }
      // A request head must be complete within the handshake timeout from its first byte (the
      // deadline is not extended by trickling bytes); between requests the idle timeout applies.
      if (!parser.hasPartial()) {
        headDeadline = false;
        arm(KEEP_ALIVE_IDLE_MS);
      } else if (!headDeadline) {
        headDeadline = true;
        arm(ctx.limits.handshakeTimeout);
      }
      const n: number | null = await conn.read(buf);
      chunk = n === null ? null : buf.subarray(0, n);
    }
  } catch (err) {
    if (!isConnectionGone(err)) {
      ctx.log.warn("http.error", { remote, error: err });
    }
  } finally {
    clearTimeout(timer);
    if (!handedOver) closeQuietly(conn);
  }
}
