/**
 * What the load generator and the relay share: client frames built once (J-IM TCP frames, or
 * masked WebSocket text frames), a streaming parser of server frames that hands out body ranges
 * without copying, send-time stamps written into pre-encoded frames, and a latency histogram
 * that generator processes can merge.
 *
 * WebSocket client frames are masked with the all-zero key: a valid RFC 6455 masked frame whose
 * payload bytes equal the plain text, so a stamp can be written straight into a pre-encoded frame.
 * The server does the same unmasking work whatever the key is.
 */
import { encodeTcpFrame } from "../src/protocol/frame.ts";
import { encodeWsText } from "../src/protocol/ws_frame.ts";

export type Proto = "tcp" | "ws";

export const encoder = new TextEncoder();
const ZERO_MASK = new Uint8Array(4);

/** A client frame (TCP: cmd in the header and the body; WebSocket: cmd in the JSON). */
export function clientFrame(proto: Proto, cmd: number, json: string): Uint8Array {
  return proto === "tcp" ? encodeTcpFrame(cmd, encoder.encode(json)) : encodeWsText(json, ZERO_MASK);
}

/** Offset of the JSON body inside a frame built by clientFrame. */
export function bodyOffset(proto: Proto, frame: Uint8Array): number {
  if (proto === "tcp") return 7;
  const len7 = frame[1] & 0x7f;
  return (len7 === 126 ? 4 : len7 === 127 ? 10 : 2) + 4;
}

/** Wall-clock time in ms with sub-ms precision, comparable across processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Digits of a stamp: epoch microseconds (16 digits until the year 2286). */
export const STAMP_DIGITS = 16;

/** Writes `ms` as STAMP_DIGITS decimal digits of microseconds at `at`. */
export function writeStamp(buf: Uint8Array, at: number, ms: number): void {
  let us = Math.round(ms * 1000);
  for (let i = at + STAMP_DIGITS - 1; i >= at; i--) {
    buf[i] = 48 + (us % 10);
    us = Math.floor(us / 10);
  }
}

export function readStamp(buf: Uint8Array, at: number): number {
  let us = 0;
  for (let i = at; i < at + STAMP_DIGITS; i++) us = us * 10 + (buf[i] - 48);
  return us / 1000;
}

/** First index of `pattern` in buf[start, end), or -1. */
export function indexOf(buf: Uint8Array, pattern: Uint8Array, start: number, end: number): number {
  const first = pattern[0];
  const last = end - pattern.length;
  outer: for (let i = start; i <= last; i++) {
    if (buf[i] !== first) continue;
    for (let j = 1; j < pattern.length; j++) if (buf[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

const CONTENT = encoder.encode('"content":"');
const COMMAND = encoder.encode('"command":');
/** A client's own JSON, as the relay forwards it. */
const CMD = encoder.encode('"cmd":');

/** The stamp at the start of a chat body's content, or NaN. */
export function stampOf(buf: Uint8Array, start: number, end: number): number {
  const i = indexOf(buf, CONTENT, start, end);
  return i < 0 ? NaN : readStamp(buf, i + CONTENT.length);
}

/** `"code":NNNNN` at the start of a reply body (`{"code":…`), or 0. */
export function codeOf(buf: Uint8Array, start: number): number {
  // {"code":10000,…
  if (buf[start + 2] !== 0x63 || buf[start + 7] !== 0x3a) return 0;
  let n = 0;
  for (let i = start + 8; i < start + 13; i++) n = n * 10 + (buf[i] - 48);
  return n;
}

export type FrameHandler = (cmd: number, buf: Uint8Array, start: number, end: number) => void;

/**
 * Server → client frames of one connection: J-IM TCP frames, or unmasked WebSocket frames whose
 * JSON carries `"command":N`. Calls `onFrame` with the body's range in a buffer that is only
 * valid during the call.
 */
export class FrameReader {
  readonly #proto: Proto;
  #rest: Uint8Array | null = null;
  onFrame: FrameHandler;

  constructor(proto: Proto, onFrame: FrameHandler) {
    this.#proto = proto;
    this.onFrame = onFrame;
  }

  push(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.#rest) {
      buf = new Uint8Array(this.#rest.length + chunk.length);
      buf.set(this.#rest);
      buf.set(chunk, this.#rest.length);
      this.#rest = null;
    }
    const used = this.#proto === "tcp" ? this.#tcp(buf) : this.#ws(buf);
    if (used < buf.length) this.#rest = buf.slice(used);
  }

  #tcp(buf: Uint8Array): number {
    let pos = 0;
    for (;;) {
      const avail = buf.length - pos;
      if (avail < 7) return pos;
      const head = (buf[pos + 1] & 0x20) !== 0 ? 11 : 7;
      if (avail < head) return pos;
      const cmd = buf[pos + head - 5];
      const p = pos + head - 4;
      const len = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
      if (avail < head + len) return pos;
      this.onFrame(cmd, buf, pos + head, pos + head + len);
      pos += head + len;
    }
  }

  #ws(buf: Uint8Array): number {
    let pos = 0;
    for (;;) {
      const avail = buf.length - pos;
      if (avail < 2) return pos;
      const opcode = buf[pos] & 0x0f;
      let len = buf[pos + 1] & 0x7f;
      let head = 2;
      if (len === 126) {
        if (avail < 4) return pos;
        len = (buf[pos + 2] << 8) | buf[pos + 3];
        head = 4;
      } else if (len === 127) {
        if (avail < 10) return pos;
        len = (buf[pos + 6] << 24 | buf[pos + 7] << 16 | buf[pos + 8] << 8 | buf[pos + 9]) >>> 0;
        head = 10;
      }
      if (avail < head + len) return pos;
      const start = pos + head;
      const end = start + len;
      if (opcode === 1 || opcode === 2) {
        const scanEnd = Math.min(end, start + 80);
        let i = indexOf(buf, COMMAND, start, scanEnd);
        let j = i + COMMAND.length;
        if (i < 0) {
          i = indexOf(buf, CMD, start, scanEnd);
          j = i + CMD.length;
        }
        let cmd = 0;
        if (i >= 0) { for (; buf[j] >= 48 && buf[j] <= 57; j++) cmd = cmd * 10 + buf[j] - 48; }
        this.onFrame(cmd, buf, start, end);
      } else if (opcode === 8) {
        this.onFrame(-1, buf, start, end);
      }
      pos = end;
    }
  }
}

/**
 * Latency histogram in ms: 10 µs buckets below 10 ms, 0.1 ms to 100 ms, 1 ms to 10 s, then one
 * overflow bucket. Percentiles report a bucket's upper bound (never flattering).
 */
export class Histogram {
  static readonly SIZE = 1000 + 900 + 9900 + 1;
  readonly counts = new Float64Array(Histogram.SIZE);
  count = 0;
  max = 0;

  static index(ms: number): number {
    if (!(ms > 0)) return 0;
    if (ms < 10) return Math.floor(ms * 100);
    if (ms < 100) return 1000 + Math.floor((ms - 10) * 10);
    if (ms < 10_000) return 1900 + Math.floor(ms - 100);
    return Histogram.SIZE - 1;
  }

  static upper(i: number): number {
    if (i < 1000) return (i + 1) / 100;
    if (i < 1900) return 10 + (i - 1000 + 1) / 10;
    if (i < Histogram.SIZE - 1) return 100 + (i - 1900 + 1);
    return Infinity;
  }

  add(ms: number): void {
    this.counts[Histogram.index(ms)]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil(this.count * p);
    let seen = 0;
    for (let i = 0; i < Histogram.SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Histogram.upper(i), this.max);
    }
    return this.max;
  }

  /** Sparse form for a result line: [[index, count], …]. */
  toSparse(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < Histogram.SIZE; i++) if (this.counts[i]) out.push([i, this.counts[i]]);
    return out;
  }

  static fromSparse(sparse: number[][], max: number): Histogram {
    const h = new Histogram();
    for (const [i, n] of sparse) {
      h.counts[i] += n;
      h.count += n;
    }
    h.max = max;
    return h;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < Histogram.SIZE; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.max = Math.max(this.max, other.max);
  }
}

/** A FIFO of numbers (send stamps awaiting their acks) without Array.shift's copying. */
export class NumberQueue {
  #buf = new Float64Array(64);
  #head = 0;
  #tail = 0;

  get length(): number {
    return this.#tail - this.#head;
  }

  push(x: number): void {
    if (this.#tail === this.#buf.length) {
      const n = this.#tail - this.#head;
      if (n * 2 > this.#buf.length) {
        const next = new Float64Array(this.#buf.length * 2);
        next.set(this.#buf.subarray(this.#head, this.#tail));
        this.#buf = next;
      } else {
        this.#buf.copyWithin(0, this.#head, this.#tail);
      }
      this.#head = 0;
      this.#tail = n;
    }
    this.#buf[this.#tail++] = x;
  }

  shift(): number {
    if (this.#head === this.#tail) return NaN;
    return this.#buf[this.#head++];
  }
}
