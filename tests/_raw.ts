/**
 * Raw-socket helpers for the end-to-end tests: a connection that buffers everything the server
 * sends, plus parsers for the three wire formats (J-IM TCP frames, HTTP responses, WebSocket
 * server frames). Used where JimClient deliberately hides bytes (exact headers, masks, pongs…).
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const utf8 = (s: string): Uint8Array => encoder.encode(s);
export const str = (b: Uint8Array): string => decoder.decode(b);

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * A raw TCP connection. A background loop reads everything into `received`; `take()` waits for
 * a parser to find a complete unit at the front of the buffer and removes it.
 */
export class RawConn {
  readonly conn: Deno.TcpConn;
  #buf: Uint8Array = new Uint8Array(0);
  #closed = false;
  #changed: (() => void)[] = [];
  readonly #reader: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.#reader = this.#read();
  }

  static async open(port: number, hostname = "127.0.0.1"): Promise<RawConn> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true); // many tests write small pieces back to back
    return new RawConn(conn);
  }

  /** Bytes received and not yet taken. */
  get buffered(): Uint8Array {
    return this.#buf;
  }

  /** True once the server closed (EOF or reset). */
  get closed(): boolean {
    return this.#closed;
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.#buf = concatBytes(this.#buf, buf.subarray(0, n));
        this.#notify();
      }
    } catch {
      // reset or closed locally
    } finally {
      this.#closed = true;
      this.#notify();
    }
  }

  #notify(): void {
    const waiters = this.#changed;
    this.#changed = [];
    for (const w of waiters) w();
  }

  #waitChange(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const ms = deadline - Date.now();
      if (ms <= 0) return resolve(false);
      const waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#changed = this.#changed.filter((w) => w !== waiter);
        resolve(false);
      }, ms);
      this.#changed.push(waiter);
    });
  }

  /** Writes everything; false if the peer already closed (EPIPE/reset). */
  async write(data: Uint8Array | string): Promise<boolean> {
    const bytes = typeof data === "string" ? utf8(data) : data;
    try {
      let off = 0;
      while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Waits until `parse` recognises a complete unit at the front of the buffer (it returns the
   * unit and the bytes it used, or undefined for "need more"), removes those bytes, returns it.
   */
  async take<T>(
    parse: (buf: Uint8Array) => { value: T; used: number } | undefined,
    timeoutMs = 5000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = parse(this.#buf);
      if (r) {
        this.#buf = this.#buf.slice(r.used);
        return r.value;
      }
      if (this.#closed) throw new Error(`connection closed; buffered: ${hex(this.#buf.slice(0, 64))}`);
      if (!await this.#waitChange(deadline)) {
        throw new Error(`timed out after ${timeoutMs} ms; buffered: ${hex(this.#buf.slice(0, 64))}`);
      }
    }
  }

  /** Exactly n bytes. */
  takeBytes(n: number, timeoutMs = 5000): Promise<Uint8Array> {
    return this.take((b) => b.length >= n ? { value: b.slice(0, n), used: n } : undefined, timeoutMs);
  }

  /** Waits for the server to close; returns the bytes that were left untaken. */
  async waitClosed(timeoutMs = 5000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      if (!await this.#waitChange(deadline)) throw new Error(`connection still open after ${timeoutMs} ms`);
    }
    return this.#buf;
  }

  /** Resolves true if the server closed within `ms`, false if the connection is still open. */
  async closesWithin(ms: number): Promise<boolean> {
    try {
      await this.waitClosed(ms);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes our side and waits for the reader loop. */
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    await this.#reader;
  }
}

// ---- J-IM TCP frames ----------------------------------------------------------------------

export interface RawTcpFrame {
  mask: number;
  synSeq: number;
  cmd: number;
  body: Uint8Array;
  /** The whole frame, header included. */
  bytes: Uint8Array;
}

export function parseTcpFrame(b: Uint8Array): { value: RawTcpFrame; used: number } | undefined {
  if (b.length < 7) return undefined;
  if (b[0] !== 0x01) throw new Error(`bad version byte in server frame: ${hex(b.slice(0, 16))}`);
  const hasSeq = (b[1] & 0x20) !== 0;
  const head = hasSeq ? 11 : 7;
  if (b.length < head) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const synSeq = hasSeq ? dv.getInt32(2) : 0;
  const cmd = b[head - 5];
  const len = dv.getInt32(head - 4);
  if (b.length < head + len) return undefined;
  const bytes = b.slice(0, head + len);
  return { value: { mask: b[1], synSeq, cmd, body: bytes.slice(head), bytes }, used: head + len };
}

/** A client frame with any mask / synSeq / length (the length may lie, for error tests). */
export function tcpFrame(
  cmd: number,
  body: Uint8Array | string,
  opts: { version?: number; mask?: number; synSeq?: number; length?: number } = {},
): Uint8Array {
  const payload = typeof body === "string" ? utf8(body) : body;
  const mask = opts.mask ?? (opts.synSeq !== undefined ? 0x71 : 0x51);
  const hasSeq = (mask & 0x20) !== 0;
  const head = hasSeq ? 11 : 7;
  const out = new Uint8Array(head + payload.length);
  const dv = new DataView(out.buffer);
  out[0] = opts.version ?? 0x01;
  out[1] = mask;
  if (hasSeq) dv.setInt32(2, opts.synSeq ?? 0);
  out[head - 5] = cmd;
  dv.setInt32(head - 4, opts.length ?? payload.length);
  out.set(payload, head);
  return out;
}

// ---- HTTP responses -----------------------------------------------------------------------

export interface RawHttpResponse {
  status: number;
  statusLine: string;
  /** Lower-case names. */
  headers: Map<string, string>;
  body: Uint8Array;
  text: string;
}

/** Parses one response framed by content-length (or with no body when absent). */
export function parseHttpResponse(b: Uint8Array): { value: RawHttpResponse; used: number } | undefined {
  return parseResponse(b, false);
}

/** Parses a response to HEAD: a head only, whatever content-length says. */
export function parseHttpHeadResponse(b: Uint8Array): { value: RawHttpResponse; used: number } | undefined {
  return parseResponse(b, true);
}

function parseResponse(
  b: Uint8Array,
  headOnly: boolean,
): { value: RawHttpResponse; used: number } | undefined {
  let end = -1;
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) return undefined;
  const lines = str(b.subarray(0, end)).split("\r\n");
  const statusLine = lines[0];
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const status = Number(m[1]);
  const length = headOnly || status === 101 || status === 204 || status === 304
    ? 0
    : Number(headers.get("content-length") ?? 0);
  const start = end + 4;
  if (b.length < start + length) return undefined;
  const body = b.slice(start, start + length);
  return { value: { status, statusLine, headers, body, text: str(body) }, used: start + length };
}

export function httpGet(path: string, extraHeaders = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}\r\n`;
}

// ---- WebSocket server frames --------------------------------------------------------------

export interface RawWsFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  /** The 7-bit length field: the length itself, or 126 / 127 for the extended forms. */
  len7: number;
  payload: Uint8Array;
  /** First header byte (0x81 for a final text frame). */
  b0: number;
}

export function parseWsFrame(b: Uint8Array): { value: RawWsFrame; used: number } | undefined {
  if (b.length < 2) return undefined;
  const len7 = b[1] & 0x7f;
  const masked = (b[1] & 0x80) !== 0;
  let p = 2;
  let len = len7;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (len7 === 126) {
    if (b.length < 4) return undefined;
    len = dv.getUint16(2);
    p = 4;
  } else if (len7 === 127) {
    if (b.length < 10) return undefined;
    len = Number(dv.getBigUint64(2));
    p = 10;
  }
  let mask: Uint8Array | undefined;
  if (masked) {
    if (b.length < p + 4) return undefined;
    mask = b.slice(p, p + 4);
    p += 4;
  }
  if (b.length < p + len) return undefined;
  const payload = b.slice(p, p + len);
  if (mask) { for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3]; }
  return {
    value: { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, masked, len7, payload, b0: b[0] },
    used: p + len,
  };
}

/** A client frame; masked with a fixed key unless `mask: null`. */
export function wsFrame(
  opcode: number,
  payload: Uint8Array | string,
  opts: { fin?: boolean; mask?: Uint8Array | null; rsv?: number } = {},
): Uint8Array {
  const data = typeof payload === "string" ? utf8(payload) : payload;
  const mask = opts.mask === undefined ? new Uint8Array([0x12, 0x34, 0x56, 0x78]) : opts.mask;
  const n = data.length;
  const ext = n < 126 ? 0 : n <= 0xffff ? 2 : 8;
  const out = new Uint8Array(2 + ext + (mask ? 4 : 0) + n);
  const dv = new DataView(out.buffer);
  out[0] = (opts.fin === false ? 0 : 0x80) | (opts.rsv ?? 0) | opcode;
  const m = mask ? 0x80 : 0;
  if (ext === 0) out[1] = m | n;
  else if (ext === 2) {
    out[1] = m | 126;
    dv.setUint16(2, n);
  } else {
    out[1] = m | 127;
    dv.setBigUint64(2, BigInt(n));
  }
  let p = 2 + ext;
  if (mask) {
    out.set(mask, p);
    p += 4;
  }
  for (let i = 0; i < n; i++) out[p + i] = mask ? data[i] ^ mask[i & 3] : data[i];
  return out;
}

export const SAMPLE_WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
export const SAMPLE_WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

export function wsUpgrade(path: string, extraHeaders = "", key = SAMPLE_WS_KEY): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`;
}

/** Opens a raw WebSocket: sends the upgrade, checks the 101, returns the connection. */
export async function openRawWs(port: number, path = "/", extraHeaders = ""): Promise<RawConn> {
  const c = await RawConn.open(port);
  await c.write(wsUpgrade(path, extraHeaders));
  const res = await c.take(parseHttpResponse);
  if (res.status !== 101) {
    await c.close();
    throw new Error(`upgrade refused: ${res.statusLine}`);
  }
  return c;
}

/** Polls `check` every 20 ms until it returns true (or throws after the timeout). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
