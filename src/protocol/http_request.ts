/**
 * Strict, incremental HTTP/1.1 request parser (pure codec, no sockets).
 *
 * The listener sniffs the first bytes of a TCP connection; anything that is not the binary
 * protocol is fed here. Choices (all errors are {@link HttpParseError} with an HTTP status):
 * - Lines must end in CRLF. A bare LF, a CR not followed by LF, or any control character
 *   other than HTAB in the head is rejected with 400 (RFC 9112 §2.2 allows either).
 * - Empty lines (CRLF) before a request line are ignored (RFC 9112 §2.2).
 * - Request line is exactly `METHOD SP target SP HTTP/x.y`; method is a token (case kept).
 *   Versions other than HTTP/1.0 and HTTP/1.1 → 505.
 * - Target: origin-form (`/path?query`), or absolute-form `http://host/path?query`
 *   (also https; the authority is dropped). Asterisk-form, authority-form, fragments → 400.
 *   The path is percent-decoded as UTF-8; malformed escapes → 400.
 * - Header names must be tokens (so whitespace before the colon → 400); obs-fold → 400.
 *   Values are trimmed of SP/HTAB; bytes 0x80–0xFF are kept (decoded as windows-1252).
 *   Repeated headers are joined with ", ". HTTP/1.1 requires exactly one Host (else 400).
 * - Content-Length: digits only; a repeated or list value must be identical (else 400);
 *   larger than maxBodyBytes → 413 as soon as the head is parsed.
 * - Transfer-Encoding other than `identity` (e.g. chunked) → 501: chunked request bodies are
 *   not supported. Without Content-Length a request has an empty body.
 * - The whole head (request line through the final CRLFCRLF) may be at most maxHeaderBytes;
 *   431 as soon as that many bytes are buffered without a terminator.
 * - After a WebSocket upgrade request (see {@link isWebSocketUpgrade}) is returned the parser
 *   stops: later bytes are only buffered, for {@link HttpRequestParser.takeRemainder}.
 * - After an error the parser is dead: every later push rethrows the same error.
 */

export interface HttpRequest {
  method: string;
  /** Request-target exactly as received. */
  target: string;
  /** Percent-decoded path, without the query. */
  path: string;
  query: URLSearchParams;
  version: "HTTP/1.0" | "HTTP/1.1";
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
  body: Uint8Array;
  /** HTTP/1.1: true unless `Connection: close`; HTTP/1.0: only with `Connection: keep-alive`. */
  keepAlive: boolean;
}

export interface HttpRequestParserOptions {
  /** Maximum size of the whole head, request line and final CRLFCRLF included. */
  maxHeaderBytes: number;
  /** Maximum Content-Length accepted. */
  maxBodyBytes: number;
}

export class HttpParseError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpParseError";
    this.status = status;
  }
}

const CR = 0x0d;
const LF = 0x0a;
const HTAB = 0x09;
const EMPTY = new Uint8Array(0);
const SHRINK_ABOVE = 64 * 1024;

/** RFC 9110 tchar lookup for code units < 128. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

const headDecoder = new TextDecoder("latin1");
const utf8Decoder = new TextDecoder();

/** True if the request asks for a WebSocket: an `upgrade` header listing `websocket`, or a `sec-websocket-key` header. */
export function isWebSocketUpgrade(req: Pick<HttpRequest, "headers">): boolean {
  if (req.headers.has("sec-websocket-key")) return true;
  const upgrade = req.headers.get("upgrade");
  return upgrade !== undefined && hasListToken(upgrade, "websocket");
}

/** Case-insensitive membership of `token` in a comma-separated header list. */
function hasListToken(value: string, token: string): boolean {
  for (const part of value.split(",")) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

function bad(message: string): HttpParseError {
  return new HttpParseError(400, message);
}

interface ParsedHead {
  request: HttpRequest;
  bodyLength: number;
}

/** Parses a complete head (without the final CRLFCRLF), already checked for CTLs and bare CR/LF. */
function parseHead(text: string, maxBodyBytes: number): ParsedHead {
  const lines = text.split("\r\n");
  const requestLine = lines[0];
  const sp1 = requestLine.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : requestLine.indexOf(" ", sp1 + 1);
  if (sp2 < 0 || requestLine.indexOf(" ", sp2 + 1) >= 0) throw bad("malformed request line");
  const method = requestLine.slice(0, sp1);
  const target = requestLine.slice(sp1 + 1, sp2);
  const versionText = requestLine.slice(sp2 + 1);
  if (!isToken(method)) throw bad("invalid method");
  if (!/^HTTP\/\d\.\d$/.test(versionText)) throw bad("malformed HTTP version");
  if (versionText !== "HTTP/1.1" && versionText !== "HTTP/1.0") {
    throw new HttpParseError(505, "HTTP version not supported");
  }
  const version = versionText as HttpRequest["version"];
  const { path, query } = parseTarget(target);

  const headers = new Map<string, string>();
  let hostCount = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === HTAB) throw bad("obsolete line folding");
    const colon = line.indexOf(":");
    if (colon < 0) throw bad("malformed header line");
    const rawName = line.slice(0, colon);
    if (!isToken(rawName)) throw bad("invalid header name");
    const name = rawName.toLowerCase();
    const value = trimOws(line, colon + 1);
    if (name === "host") hostCount++;
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : prev + ", " + value);
  }
  if (hostCount > 1) throw bad("multiple Host headers");
  if (hostCount === 0 && version === "HTTP/1.1") throw bad("missing Host header");

  const te = headers.get("transfer-encoding");
  if (te !== undefined) {
    for (const part of te.split(",")) {
      const coding = part.trim().toLowerCase();
      if (coding !== "" && coding !== "identity") {
        throw new HttpParseError(501, "unsupported Transfer-Encoding: " + coding);
      }
    }
  }

  let bodyLength = 0;
  const cl = headers.get("content-length");
  if (cl !== undefined) {
    let first: string | undefined;
    for (const part of cl.split(",")) {
      const v = part.trim();
      if (!/^\d+$/.test(v)) throw bad("invalid Content-Length");
      if (first === undefined) first = v;
      else if (Number(v) !== Number(first)) throw bad("conflicting Content-Length");
    }
    bodyLength = Number(first);
    if (bodyLength > maxBodyBytes) throw new HttpParseError(413, "request body too large");
  }

  const connection = headers.get("connection");
  const keepAlive = version === "HTTP/1.1"
    ? connection === undefined || !hasListToken(connection, "close")
    : connection !== undefined && hasListToken(connection, "keep-alive") &&
      !hasListToken(connection, "close");

  return {
    request: { method, target, path, query, version, headers, body: EMPTY, keepAlive },
    bodyLength,
  };
}

function trimOws(s: string, from: number): string {
  let a = from;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === HTAB)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === HTAB)) b--;
  return s.slice(a, b);
}

function parseTarget(target: string): { path: string; query: URLSearchParams } {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c > 0x7e || c === 0x23 /* # */) throw bad("invalid character in request target");
  }
  let pathStart: number;
  if (target.charCodeAt(0) === 0x2f /* / */) {
    pathStart = 0;
  } else {
    const m = /^https?:\/\/[^/?]+/i.exec(target);
    if (m === null) throw bad("unsupported request target form");
    pathStart = m[0].length;
  }
  const q = target.indexOf("?", pathStart);
  let rawPath = q < 0 ? target.slice(pathStart) : target.slice(pathStart, q);
  if (rawPath === "") rawPath = "/";
  let path = rawPath;
  if (rawPath.includes("%")) {
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      throw bad("invalid percent-encoding in path");
    }
  }
  return { path, query: new URLSearchParams(q < 0 ? "" : target.slice(q + 1)) };
}

export class HttpRequestParser {
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;
  /** Buffered bytes are #buf[#start, #end). */
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  /** Bytes of the current head already scanned (relative to #start) without a terminator. */
  #scanned = 0;
  /** A parsed head waiting for its body. */
  #pending: ParsedHead | null = null;
  #stopped = false;
  #error: HttpParseError | null = null;

  constructor(options: HttpRequestParserOptions) {
    this.#maxHeaderBytes = options.maxHeaderBytes;
    this.#maxBodyBytes = options.maxBodyBytes;
  }

  /** True once a WebSocket upgrade request has been returned; later pushes only buffer. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Feeds bytes; returns the requests completed by them, in order. The chunk is not retained
   * (bodies and leftovers are copied). Throws {@link HttpParseError}.
   */
  push(chunk: Uint8Array): HttpRequest[] {
    if (this.#error !== null) throw this.#error;
    if (this.#stopped) {
      this.#append(chunk);
      return [];
    }
    const direct = this.#start === this.#end;
    let data: Uint8Array;
    let pos: number;
    let end: number;
    if (direct) {
      data = chunk;
      pos = 0;
      end = chunk.length;
    } else {
      this.#append(chunk);
      data = this.#buf;
      pos = this.#start;
      end = this.#end;
    }
    const out: HttpRequest[] = [];
    try {
      while (true) {
        if (this.#pending === null) {
          // Ignore empty lines before a request line (a head never starts with CRLF).
          while (end - pos >= 2 && data[pos] === CR && data[pos + 1] === LF) {
            pos += 2;
            this.#scanned = this.#scanned > 2 ? this.#scanned - 2 : 0;
          }
          if (pos === end) break;
          const headEnd = this.#scanHead(data, pos, end);
          if (headEnd < 0) break;
          this.#scanned = 0;
          this.#pending = parseHead(headDecoder.decode(data.subarray(pos, headEnd - 4)), this.#maxBodyBytes);
          pos = headEnd;
        }
        const { request, bodyLength } = this.#pending;
        if (bodyLength > 0) {
          if (end - pos < bodyLength) break;
          request.body = data.slice(pos, pos + bodyLength);
          pos += bodyLength;
        }
        this.#pending = null;
        out.push(request);
        if (isWebSocketUpgrade(request)) {
          this.#stopped = true;
          break;
        }
      }
    } catch (e) {
      if (e instanceof HttpParseError) {
        this.#error = e;
        this.#pending = null;
        this.#buf = EMPTY;
        this.#start = this.#end = 0;
      }
      throw e;
    }
    if (direct) {
      this.#start = this.#end = 0;
      if (pos < end) this.#append(data.subarray(pos, end));
    } else {
      this.#start = pos;
      if (pos === end) this.#reset();
    }
    return out;
  }

  /** True if bytes of an unfinished request are buffered (e.g. to apply a header/body timeout). */
  hasPartial(): boolean {
    return !this.#stopped && (this.#pending !== null || this.#end > this.#start);
  }

  /** Returns (a copy of) and drops all buffered bytes, e.g. WebSocket frames after an upgrade. */
  takeRemainder(): Uint8Array {
    const rest = this.#buf.slice(this.#start, this.#end);
    this.#reset();
    return rest;
  }

  #reset(): void {
    this.#start = this.#end = 0;
    if (this.#buf.length > SHRINK_ABOVE) this.#buf = EMPTY;
  }

  #append(chunk: Uint8Array): void {
    const len = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      if (len + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(this.#buf.length * 2, len + chunk.length, 1024));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = len;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * Scans for the CRLFCRLF ending the head starting at `pos`, validating bytes on the way.
   * Returns the index just past the terminator, or -1 if more bytes are needed.
   */
  #scanHead(data: Uint8Array, pos: number, end: number): number {
    const max = this.#maxHeaderBytes;
    const limit = Math.min(end, pos + max);
    for (let i = pos + this.#scanned; i < limit; i++) {
      const b = data[i];
      const prevCr = i > pos && data[i - 1] === CR;
      if (b === LF) {
        if (!prevCr) throw bad("bare LF in request head");
        if (i - pos >= 3 && data[i - 2] === LF && data[i - 3] === CR) return i + 1;
      } else if (prevCr) {
        throw bad("bare CR in request head");
      } else if ((b < 0x20 && b !== HTAB && b !== CR) || b === 0x7f) {
        throw bad("control character in request head");
      }
    }
    if (end - pos >= max) throw new HttpParseError(431, "request header fields too large");
    this.#scanned = limit - pos;
    return -1;
  }
}

const FORM_TYPE = "application/x-www-form-urlencoded";

/**
 * Query parameters followed by `application/x-www-form-urlencoded` body parameters (body
 * decoded as UTF-8; `+` is a space). Like J-IM, both are kept: `get()` returns the query's
 * value when a name is in both, `getAll()` returns query values then body values.
 */
export function parseFormBody(req: HttpRequest): URLSearchParams {
  const params = new URLSearchParams(req.query);
  const type = req.headers.get("content-type");
  if (req.body.length > 0 && type !== undefined) {
    const semi = type.indexOf(";");
    const media = (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase();
    if (media === FORM_TYPE) {
      for (const [k, v] of new URLSearchParams(utf8Decoder.decode(req.body))) params.append(k, v);
    }
  }
  return params;
}
