/**
 * RFC 6455 WebSocket frame codec (pure: no sockets, no I/O).
 *
 * Used by the server on raw accepted TCP connections (client frames must be masked) and by the
 * test client (server frames must be unmasked). No extension is ever negotiated, so every RSV bit
 * must be 0.
 */

/** Frame opcodes (RFC 6455 §5.2). */
export const OPCODE = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** Close codes used by the decoder when it rejects its input (RFC 6455 §7.4.1). */
export const WS_CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
} as const;

export type WsEvent =
  | { type: "text"; data: string }
  | { type: "binary"; data: Uint8Array }
  | { type: "ping"; data: Uint8Array }
  | { type: "pong"; data: Uint8Array }
  | { type: "close"; code?: number; reason: string };

/** The peer broke the protocol: close the connection with `closeCode`. */
export class WsProtocolError extends Error {
  readonly closeCode: number;
  /**
   * Events fully decoded by the same push() call before the error was detected (in order), so a
   * caller may still handle the messages that preceded the bad frame in the same chunk.
   */
  events: WsEvent[] = [];

  constructor(closeCode: number, message: string) {
    super(message);
    this.name = "WsProtocolError";
    this.closeCode = closeCode;
  }
}

export interface WsFrameDecoderOptions {
  /** Largest data message (total across fragments), in bytes; larger → 1009. */
  maxMessageBytes: number;
  /** true on the server (client frames must be masked); false on a client (frames must not be). */
  requireMask: boolean;
}

/** Valid close codes in a received close frame (RFC 6455 §7.4, IANA registry). */
export function isValidWsCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * One unmasking scratch buffer shared by every decoder of the module (decoding is synchronous,
 * so it is never used by two decoders at once): text messages up to SCRATCH_MAX are unmasked or
 * reassembled into it and decoded from there, with no per-message byte allocation.
 */
const SCRATCH_MAX = 64 * 1024;
let scratch = new Uint8Array(0);

function scratchFor(n: number): Uint8Array {
  if (n > SCRATCH_MAX) return new Uint8Array(n);
  if (scratch.length < n) {
    let size = 1024;
    while (size < n) size *= 2;
    scratch = new Uint8Array(size);
  }
  return scratch;
}

/**
 * dst[d..d+n) = src[s..s+n) XOR mask, starting at mask byte `phase` (bytes of the frame payload
 * already unmasked). Works in place when dst/src are the same array and d === s.
 */
function xorMask(
  dst: Uint8Array,
  d: number,
  src: Uint8Array,
  s: number,
  n: number,
  mask: number,
  phase: number,
): void {
  // `mask` is the 4 key bytes big-endian in one number; byte i of the key is (mask >>> (24 - 8i)).
  const k0 = (mask >>> (24 - 8 * (phase & 3))) & 0xff;
  const k1 = (mask >>> (24 - 8 * ((phase + 1) & 3))) & 0xff;
  const k2 = (mask >>> (24 - 8 * ((phase + 2) & 3))) & 0xff;
  const k3 = (mask >>> (24 - 8 * ((phase + 3) & 3))) & 0xff;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    dst[d + i] = src[s + i] ^ k0;
    dst[d + i + 1] = src[s + i + 1] ^ k1;
    dst[d + i + 2] = src[s + i + 2] ^ k2;
    dst[d + i + 3] = src[s + i + 3] ^ k3;
  }
  if (i < n) dst[d + i] = src[s + i] ^ k0;
  if (i + 1 < n) dst[d + i + 1] = src[s + i + 1] ^ k1;
  if (i + 2 < n) dst[d + i + 2] = src[s + i + 2] ^ k2;
}

function maskWord(mask: Uint8Array): number {
  return ((mask[0] << 24) | (mask[1] << 16) | (mask[2] << 8) | mask[3]) >>> 0;
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    throw new WsProtocolError(1007, `invalid UTF-8 in ${what}`);
  }
}

/** Bytes of a frame header given its second byte. */
function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/**
 * Incremental frame decoder: feed it the bytes of the connection in any chunking; it returns the
 * complete events (messages reassembled from their fragments, control frames as they come).
 *
 * Every returned payload is a fresh copy: the caller may reuse the chunk buffer.
 *
 * Lifecycle: once push() has thrown a WsProtocolError or returned a "close" event, the decoder is
 * finished: the rest of that chunk is ignored and further push() calls return no events. The
 * caller is expected to close the connection (answering the close / using `closeCode`).
 *
 * Memory: a decoder holds at most a 14-byte header stash, the bytes received so far of the
 * current incomplete data message (never preallocated from the announced length) and, for a
 * control frame split across chunks, its ≤125-byte payload.
 */
export class WsFrameDecoder {
  readonly #max: number;
  readonly #requireMask: boolean;

  /** Header bytes stashed while a header is split across chunks (allocated on first need). */
  #hdr: Uint8Array | null = null;
  #hdrLen = 0;

  /** true while reading the payload of the current frame. */
  #inPayload = false;
  #fin = false;
  #opcode = 0;
  #masked = false;
  /** The current frame's masking key, big-endian in one number (no per-connection array). */
  #mask = 0;
  /** Payload bytes of the current frame still to read. */
  #remaining = 0;
  /** Payload bytes of the current frame already read (mask phase). */
  #read = 0;

  /** Opcode (1/2) of the data message in progress, 0 when none. */
  #msgOpcode = 0;
  /** Unmasked bytes of the data message in progress (received pieces, in order). */
  #parts: Uint8Array[] = [];
  #partsBytes = 0;

  /** Payload of a control frame split across chunks. */
  #ctrl: Uint8Array | null = null;

  #done = false;

  constructor(options: WsFrameDecoderOptions) {
    this.#max = options.maxMessageBytes;
    this.#requireMask = options.requireMask;
  }

  /** True once a close frame was received or a protocol error was thrown. */
  get finished(): boolean {
    return this.#done;
  }

  /** True while a frame header, a frame's payload or a fragmented message is incomplete. */
  get partial(): boolean {
    return !this.#done && (this.#hdrLen > 0 || this.#inPayload || this.#msgOpcode !== 0);
  }

  /** Decodes `chunk`; throws WsProtocolError (with the events decoded before it) on a violation. */
  push(chunk: Uint8Array): WsEvent[] {
    const events: WsEvent[] = [];
    if (this.#done) return events;
    try {
      this.#run(chunk, events);
    } catch (e) {
      this.#finish();
      if (e instanceof WsProtocolError) e.events = events;
      throw e;
    }
    return events;
  }

  #finish(): void {
    this.#done = true;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#ctrl = null;
    this.#hdr = null;
  }

  #run(chunk: Uint8Array, events: WsEvent[]): void {
    const len = chunk.length;
    let pos = 0;
    while (!this.#done) {
      if (!this.#inPayload) {
        if (pos >= len) return;
        // ---- header ----
        if (this.#hdrLen === 0 && len - pos >= 2) {
          const b0 = chunk[pos], b1 = chunk[pos + 1];
          this.#checkStart(b0, b1);
          const need = headerSize(b1);
          if (len - pos >= need) {
            this.#readHeader(chunk, pos);
            pos += need;
          } else {
            const hdr = this.#hdr ??= new Uint8Array(14);
            while (pos < len) hdr[this.#hdrLen++] = chunk[pos++];
            return;
          }
        } else {
          const hdr = this.#hdr ??= new Uint8Array(14);
          if (this.#hdrLen < 2) {
            hdr[this.#hdrLen++] = chunk[pos++];
            if (this.#hdrLen < 2) continue;
            this.#checkStart(hdr[0], hdr[1]);
          }
          const need = headerSize(hdr[1]);
          while (this.#hdrLen < need && pos < len) hdr[this.#hdrLen++] = chunk[pos++];
          if (this.#hdrLen < need) return;
          this.#hdrLen = 0;
          this.#readHeader(hdr, 0);
        }
        this.#inPayload = true;
      }

      // ---- payload (may be empty) ----
      const rem = this.#remaining;
      const avail = len - pos;
      if (rem > 0 && avail === 0) return;
      const n = rem <= avail ? rem : avail;
      const frameDone = n === rem;
      const op = this.#opcode;

      if (op & 0x8) {
        // Control frame (≤125 bytes, always FIN).
        let payload: Uint8Array;
        if (frameDone && this.#ctrl === null) {
          payload = this.#copyPayload(chunk, pos, n);
        } else {
          const ctrl = this.#ctrl ??= new Uint8Array(this.#read + rem);
          this.#unmaskInto(ctrl, this.#read, chunk, pos, n);
          payload = ctrl;
        }
        pos += n;
        this.#read += n;
        this.#remaining -= n;
        if (!frameDone) return;
        this.#ctrl = null;
        this.#inPayload = false;
        this.#control(op, payload, events);
        continue;
      }

      // Data frame.
      if (frameDone && this.#fin && this.#partsBytes === 0) {
        // The whole (rest of the) message is in this chunk: decode it straight from the chunk.
        this.#emitSingle(chunk, pos, n, events);
      } else if (n > 0) {
        const piece = new Uint8Array(n);
        this.#unmaskInto(piece, 0, chunk, pos, n);
        this.#parts.push(piece);
        this.#partsBytes += n;
      }
      pos += n;
      this.#read += n;
      this.#remaining -= n;
      if (!frameDone) return;
      this.#inPayload = false;
      if (this.#fin && this.#msgOpcode !== 0) this.#emitParts(events);
    }
  }

  /** Checks what the first two header bytes alone tell (fails fast on split headers). */
  #checkStart(b0: number, b1: number): void {
    if (b0 & 0x70) throw new WsProtocolError(1002, "reserved bits set without a negotiated extension");
    const op = b0 & 0x0f;
    if (op & 0x8) {
      if (op > 0xa) throw new WsProtocolError(1002, `unknown opcode 0x${op.toString(16)}`);
      if (!(b0 & 0x80)) throw new WsProtocolError(1002, "fragmented control frame");
      if ((b1 & 0x7f) > 125) throw new WsProtocolError(1002, "control frame payload over 125 bytes");
    } else if (op === 0) {
      if (this.#msgOpcode === 0) throw new WsProtocolError(1002, "continuation frame without a message");
    } else if (op <= 2) {
      if (this.#msgOpcode !== 0) {
        throw new WsProtocolError(1002, "new data frame while a fragmented message is in progress");
      }
    } else {
      throw new WsProtocolError(1002, `unknown opcode 0x${op.toString(16)}`);
    }
    if (((b1 & 0x80) !== 0) !== this.#requireMask) {
      throw new WsProtocolError(1002, this.#requireMask ? "unmasked client frame" : "masked server frame");
    }
  }

  /** Reads a complete header (already checked by #checkStart) at b[p]. */
  #readHeader(b: Uint8Array, p: number): void {
    const b0 = b[p], b1 = b[p + 1];
    const op = b0 & 0x0f;
    let length = b1 & 0x7f;
    p += 2;
    if (length === 126) {
      length = (b[p] << 8) | b[p + 1];
      p += 2;
    } else if (length === 127) {
      const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      if (hi >= 0x80000000) throw new WsProtocolError(1002, "64-bit payload length with its high bit set");
      const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
      length = hi * 0x100000000 + lo;
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) {
      this.#mask = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
    }
    if (!(op & 0x8)) {
      if (this.#partsBytes + length > this.#max) {
        throw new WsProtocolError(1009, `message over ${this.#max} bytes`);
      }
      if (op !== 0) this.#msgOpcode = op;
    }
    this.#fin = (b0 & 0x80) !== 0;
    this.#opcode = op;
    this.#masked = masked;
    this.#remaining = length;
    this.#read = 0;
  }

  #unmaskInto(dst: Uint8Array, d: number, src: Uint8Array, s: number, n: number): void {
    if (this.#masked) xorMask(dst, d, src, s, n, this.#mask, this.#read);
    else dst.set(src.subarray(s, s + n), d);
  }

  /** A fresh unmasked copy of a complete frame payload sitting in `src`. */
  #copyPayload(src: Uint8Array, s: number, n: number): Uint8Array {
    if (!this.#masked) return src.slice(s, s + n);
    const out = new Uint8Array(n);
    xorMask(out, 0, src, s, n, this.#mask, 0);
    return out;
  }

  /** Emits an unfragmented data message whose whole payload is src[s..s+n). */
  #emitSingle(src: Uint8Array, s: number, n: number, events: WsEvent[]): void {
    const op = this.#msgOpcode;
    this.#msgOpcode = 0;
    if (op === 1) {
      let view: Uint8Array;
      if (this.#masked) {
        const buf = scratchFor(n);
        xorMask(buf, 0, src, s, n, this.#mask, 0);
        view = buf.subarray(0, n);
      } else {
        view = src.subarray(s, s + n);
      }
      events.push({ type: "text", data: decodeUtf8(view, "text message") });
    } else {
      events.push({ type: "binary", data: this.#copyPayload(src, s, n) });
    }
  }

  /** Emits the data message reassembled from #parts. */
  #emitParts(events: WsEvent[]): void {
    const op = this.#msgOpcode;
    const parts = this.#parts;
    const total = this.#partsBytes;
    this.#msgOpcode = 0;
    this.#parts = [];
    this.#partsBytes = 0;
    let data: Uint8Array;
    if (parts.length === 1) {
      data = parts[0];
    } else {
      const buf = op === 1 ? scratchFor(total) : new Uint8Array(total);
      let off = 0;
      for (const part of parts) {
        buf.set(part, off);
        off += part.length;
      }
      data = buf.length === total ? buf : buf.subarray(0, total);
    }
    if (op === 1) events.push({ type: "text", data: decodeUtf8(data, "text message") });
    else events.push({ type: "binary", data });
  }

  #control(op: number, payload: Uint8Array, events: WsEvent[]): void {
    if (op === 0x9) {
      events.push({ type: "ping", data: payload });
    } else if (op === 0xa) {
      events.push({ type: "pong", data: payload });
    } else {
      const n = payload.length;
      if (n === 0) {
        events.push({ type: "close", reason: "" });
      } else {
        if (n === 1) throw new WsProtocolError(1002, "close frame payload of 1 byte");
        const code = (payload[0] << 8) | payload[1];
        if (!isValidWsCloseCode(code)) throw new WsProtocolError(1002, `invalid close code ${code}`);
        const reason = n === 2 ? "" : decodeUtf8(payload.subarray(2), "close reason");
        events.push({ type: "close", code, reason });
      }
      this.#finish();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Encoders

export interface WsFrameOptions {
  /** FIN bit, default true. */
  fin?: boolean;
  /** 4-byte masking key (client side only; servers send unmasked frames). */
  mask?: Uint8Array;
}

/** Header size of a frame with a `payloadLength`-byte payload. */
export function wsHeaderSize(payloadLength: number, masked = false): number {
  return (payloadLength < 126 ? 2 : payloadLength <= 0xffff ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes a frame header at out[0..]; returns its size. */
function writeHeader(out: Uint8Array, b0: number, n: number, mask: Uint8Array | undefined): number {
  out[0] = b0;
  const m = mask ? 0x80 : 0;
  let p: number;
  if (n < 126) {
    out[1] = m | n;
    p = 2;
  } else if (n <= 0xffff) {
    out[1] = m | 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
    p = 4;
  } else {
    out[1] = m | 127;
    const hi = Math.floor(n / 0x100000000);
    const lo = n >>> 0;
    out[2] = hi >>> 24;
    out[3] = (hi >>> 16) & 0xff;
    out[4] = (hi >>> 8) & 0xff;
    out[5] = hi & 0xff;
    out[6] = lo >>> 24;
    out[7] = (lo >>> 16) & 0xff;
    out[8] = (lo >>> 8) & 0xff;
    out[9] = lo & 0xff;
    p = 10;
  }
  if (mask) {
    out[p] = mask[0];
    out[p + 1] = mask[1];
    out[p + 2] = mask[2];
    out[p + 3] = mask[3];
    p += 4;
  }
  return p;
}

function checkMask(mask: Uint8Array | undefined): void {
  if (mask !== undefined && mask.length !== 4) throw new RangeError("a WebSocket masking key has 4 bytes");
}

/** Encodes one frame (header + payload in a single new array), masking it when `mask` is given. */
export function encodeWsFrame(opcode: number, payload: Uint8Array, options?: WsFrameOptions): Uint8Array {
  const mask = options?.mask;
  checkMask(mask);
  const n = payload.length;
  const out = new Uint8Array(wsHeaderSize(n, mask !== undefined) + n);
  const p = writeHeader(out, (options?.fin === false ? 0 : 0x80) | (opcode & 0x0f), n, mask);
  if (mask) xorMask(out, p, payload, 0, n, maskWord(mask), 0);
  else out.set(payload, p);
  return out;
}

/** UTF-8 length of a string as TextEncoder would encode it (lone surrogates → U+FFFD). */
function utf8Length(s: string): number {
  const len = s.length;
  let n = len;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // surrogate pair: 2 code units → 4 bytes
      i++;
    } else {
      n += 2;
    }
  }
  return n;
}

/** A final text frame. A string is UTF-8 encoded straight into the frame (one allocation). */
export function encodeWsText(payload: Uint8Array | string, mask?: Uint8Array): Uint8Array {
  if (typeof payload !== "string") return encodeWsFrame(OPCODE.TEXT, payload, { mask });
  checkMask(mask);
  const n = utf8Length(payload);
  const out = new Uint8Array(wsHeaderSize(n, mask !== undefined) + n);
  const p = writeHeader(out, 0x80 | OPCODE.TEXT, n, mask);
  utf8Encoder.encodeInto(payload, out.subarray(p));
  if (mask) xorMask(out, p, out, p, n, maskWord(mask), 0);
  return out;
}

/** A final binary frame. */
export function encodeWsBinary(payload: Uint8Array, mask?: Uint8Array): Uint8Array {
  return encodeWsFrame(OPCODE.BINARY, payload, { mask });
}

/** A ping frame (payload ≤125 bytes). */
export function encodeWsPing(payload: Uint8Array = new Uint8Array(0), mask?: Uint8Array): Uint8Array {
  if (payload.length > 125) throw new RangeError("control frame payload over 125 bytes");
  return encodeWsFrame(OPCODE.PING, payload, { mask });
}

/** A pong frame echoing a ping's payload (≤125 bytes). */
export function encodeWsPong(payload: Uint8Array, mask?: Uint8Array): Uint8Array {
  if (payload.length > 125) throw new RangeError("control frame payload over 125 bytes");
  return encodeWsFrame(OPCODE.PONG, payload, { mask });
}

/**
 * A close frame. Without `code` the payload is empty (and `reason` ignored). The reason is
 * truncated at a character boundary to fit the 125-byte control frame limit (123 bytes).
 */
export function encodeWsClose(code?: number, reason = "", mask?: Uint8Array): Uint8Array {
  if (code === undefined) return encodeWsFrame(OPCODE.CLOSE, new Uint8Array(0), { mask });
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
    throw new RangeError(`invalid close code ${code}`);
  }
  const payload = new Uint8Array(125);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  // encodeInto never splits a character, so the reason is cut at a code point boundary.
  const { written } = utf8Encoder.encodeInto(reason, payload.subarray(2));
  return encodeWsFrame(OPCODE.CLOSE, payload.subarray(0, 2 + written), { mask });
}
