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
  nextReadBuffer,
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
  let buf = readBuffer ?? new Uint8Array(READ_BUFFER_BYTES);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let handedOver = false;
  let headDeadline = false;
  // The lifecycle log lines of a plain HTTP connection (a WebSocket upgrade logs as a session).
  const openedAt = Date.now();
  let requests = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let reason = "peer closed";
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      reason = headDeadline ? "request head timeout" : "idle timeout";
      closeQuietly(conn);
    }, ms);
  };
  const write = async (bytes: Uint8Array) => {
    await writeAll(conn, bytes);
    bytesOut += bytes.length;
  };
  try {
    let chunk: Uint8Array | null = first;
    while (chunk) {
      bytesIn += chunk.length;
      let parsed: HttpRequest[];
      try {
        parsed = parser.push(chunk);
      } catch (err) {
        if (!(err instanceof HttpParseError)) throw err;
        ctx.log.info("http.bad_request", { remote, status: err.status, error: err.message });
        reason = "bad request";
        await write(errorResponse(err.status, err.message));
        return;
      }
      for (const req of parsed) {
        if (isWebSocketUpgrade(req)) {
          if (!options.ws) {
            await write(errorResponse(404, "WebSocket is not served on this port"));
            return;
          }
          clearTimeout(timer);
          handedOver = true;
          // Returned, not awaited: this function's frame (parser, request list) is released
          // while the WebSocket session runs; the session keeps only the read buffer.
          return serveWs(conn, req, parser.takeRemainder(), ctx, buf);
        }
        if (!options.http) {
          await write(errorResponse(404, "HTTP is not served on this port"));
          return;
        }
        if (requests++ === 0) ctx.log.info("conn.open", { protocol: "http", remote });
        const reply = await ctx.http.handle(req, remote);
        // One line per client error (5xx are logged as http.internal_error where they happen).
        if (reply.status >= 400 && reply.status < 500) {
          ctx.log.info("http.refused", { remote, method: req.method, path: req.path, status: reply.status });
        }
        // A stopping server answers what it has and closes (Connection: close).
        const keepAlive = req.keepAlive && !ctx.drain.draining;
        await write(
          serializeHttpResponse({
            status: reply.status,
            headers: reply.headers,
            body: reply.body,
            keepAlive,
            head: req.method === "HEAD",
          }),
        );
        if (!keepAlive) {
          reason = req.keepAlive ? "server shutting down" : "Connection: close";
          return;
        }
      }
      // A request head must be complete within the handshake timeout from its first byte (the
      // deadline is not extended by trickling bytes); between requests the idle timeout applies.
      if (!parser.hasPartial()) {
        headDeadline = false;
        arm(KEEP_ALIVE_IDLE_MS);
        // Between requests: a stopping server closes it now (idle() says so).
        if (!ctx.drain.idle(conn)) {
          reason = "server shutting down";
          return;
        }
      } else if (!headDeadline) {
        headDeadline = true;
        arm(ctx.limits.handshakeTimeout);
      }
      let n: number | null;
      // A large body arrives in fewer reads: the buffer grows while reads fill it.
      if (chunk) buf = nextReadBuffer(buf, chunk.length);
      try {
        n = await conn.read(buf);
      } finally {
        ctx.drain.busy(conn);
      }
      chunk = n === null ? null : buf.subarray(0, n);
    }
  } catch (err) {
    if (!isConnectionGone(err)) {
      reason = String(err);
      ctx.log.warn("http.error", { remote, error: err });
    }
  } finally {
    clearTimeout(timer);
    if (!handedOver) {
      closeQuietly(conn);
      if (requests > 0) {
        ctx.log.info("conn.close", {
          protocol: "http",
          remote,
          reason,
          requests,
          durationMs: Date.now() - openedAt,
          bytesIn,
          bytesOut,
        });
      }
    }
  }
}
