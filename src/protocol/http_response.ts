/**
 * HTTP/1.1 response serializer (pure codec). Header names are written in lower case
 * (J-IM style). Framing headers are always computed here: caller-supplied `content-length`,
 * `transfer-encoding` and `connection` are ignored (except `connection` on 101, where the
 * caller's `connection: upgrade` is kept). `server: jim` and `date` are added unless given.
 * 1xx and 204 responses carry neither body nor content-length.
 */

export type HttpHeaders = Record<string, string> | [string, string][];

export interface HttpResponse {
  status: number;
  headers?: HttpHeaders;
  body?: Uint8Array | string;
  keepAlive: boolean;
  /** Response to HEAD: content-length of the body, but no body bytes. */
  head?: boolean;
  /** Clock for the date header (ms since epoch); defaults to Date.now(). */
  now?: number;
}

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** Standard reason phrase, or "" for codes not in the table (the status line keeps its SP). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "";
}

let cachedSecond = -1;
let cachedDate = "";

/** IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), cached per second. */
export function httpDate(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(second * 1000).toUTCString();
  }
  return cachedDate;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;

export function serializeHttpResponse(res: HttpResponse): Uint8Array {
  const status = res.status;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError("invalid HTTP status: " + status);
  }
  const informational = status < 200;
  const bodyless = informational || status === 204;
  const body = bodyless || res.body === undefined
    ? EMPTY
    : typeof res.body === "string"
    ? encoder.encode(res.body)
    : res.body;

  let head = "HTTP/1.1 " + status + " " + reasonPhrase(status) + "\r\n";
  let hasServer = false;
  let hasDate = false;
  let hasConnection = false;
  const entries = res.headers === undefined
    ? []
    : Array.isArray(res.headers)
    ? res.headers
    : Object.entries(res.headers);
  for (const [rawName, value] of entries) {
    if (!TOKEN.test(rawName)) throw new TypeError("invalid header name: " + rawName);
    if (BAD_VALUE.test(value)) throw new TypeError("invalid header value for " + rawName);
    const name = rawName.toLowerCase();
    if (name === "content-length" || name === "transfer-encoding") continue;
    if (name === "connection") {
      if (status !== 101) continue;
      hasConnection = true;
    } else if (name === "server") hasServer = true;
    else if (name === "date") hasDate = true;
    head += name + ": " + value + "\r\n";
  }
  if (!bodyless) head += "content-length: " + body.length + "\r\n";
  if (!hasConnection) head += res.keepAlive ? "connection: keep-alive\r\n" : "connection: close\r\n";
  if (!hasServer) head += "server: jim\r\n";
  if (!hasDate) head += "date: " + httpDate(res.now) + "\r\n";
  head += "\r\n";

  const headBytes = encoder.encode(head);
  if (res.head || body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}

/** A response with an already-serialized JSON body and `content-type: application/json; charset=utf-8`. */
export function jsonResponse(status: number, json: string, keepAlive: boolean, head = false): Uint8Array {
  return serializeHttpResponse({
    status,
    headers: [["content-type", "application/json; charset=utf-8"]],
    body: json,
    keepAlive,
    head,
  });
}
