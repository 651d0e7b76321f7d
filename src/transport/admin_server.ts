/**
 * `--admin-port`: a separate HTTP listener for operators, served by Deno.serve (no J-IM protocol
 * to sniff here, so the standard server is the simple choice). It answers with the same HttpApi
 * handlers as the main port, restricted to /healthz, /readyz, /metrics, the admin page and
 * /api/admin/* (see HttpApiDeps.routes).
 */
import type { Logger } from "../log.ts";
import type { HttpRequest } from "../protocol/http_request.ts";
import type { HttpApi } from "./http_api.ts";

export interface AdminServerOptions {
  hostname: string;
  port: number;
  http: HttpApi;
  /** Largest request body accepted (--max-body). */
  maxBody: number;
  log: Logger;
}

export interface AdminServer {
  readonly addr: Deno.NetAddr;
  /** Stops accepting and waits for the requests in progress. */
  shutdown(): Promise<void>;
}

export function serveAdmin(options: AdminServerOptions): AdminServer {
  const { http, log, maxBody } = options;
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {},
    onError: (err) => {
      log.error("admin.internal_error", { error: err });
      return new Response("internal error\n", { status: 500 });
    },
  }, async (request, info) => {
    const remote = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`;
    const req = await toHttpRequest(request, maxBody);
    if (!req) return new Response("request body too large\n", { status: 413 });
    const reply = await http.handle(req, remote);
    if (reply.status >= 400 && reply.status < 500) {
      log.info("http.refused", {
        port: "admin",
        remote,
        method: req.method,
        path: req.path,
        status: reply.status,
      });
    }
    const body = typeof reply.body === "string" ? reply.body : reply.body as Uint8Array<ArrayBuffer>;
    return new Response(req.method === "HEAD" ? null : body, {
      status: reply.status,
      headers: reply.headers,
    });
  });
  return {
    addr: server.addr as Deno.NetAddr,
    shutdown: () => server.shutdown(),
  };
}

/** The HttpApi view of a fetch Request; undefined when the body is larger than `maxBody`. */
async function toHttpRequest(request: Request, maxBody: number): Promise<HttpRequest | undefined> {
  const url = new URL(request.url);
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // keep the raw path: it will not match a route
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBody) return undefined;
  const body = request.body ? await readLimited(request.body, maxBody) : new Uint8Array(0);
  if (!body) return undefined;
  return {
    method: request.method,
    target: url.pathname + url.search,
    path,
    query: url.searchParams,
    version: "HTTP/1.1",
    headers: new Map(request.headers),
    body,
    keepAlive: true,
  };
}

/** The whole stream, or undefined (and the stream cancelled) once it passes `max` bytes. */
async function readLimited(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > max) return undefined; // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
