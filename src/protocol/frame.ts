/**
 * J-IM TCP frame codec (spec §6), byte-exact.
 *
 *   version(1)=0x01 | mask(1) | [synSeq(4) if mask & 0x20] | cmd(1) | bodyLength(4, BE) | body
 *
 * Output mask is 0x51, or 0xF1 when a synSeq is carried (J-IM's encoder quirk, §6.2).
 * Input: any mask accepted; only bit 0x20 (synSeq present) is honoured. Unknown command bytes are
 * passed up (jim answers them with 10017 and keeps the connection, see compat.md).
 */

export const TCP_VERSION = 0x01;
export const MASK_OUT = 0x51;
export const MASK_OUT_SYNSEQ = 0xf1;
export const MASK_HAS_SYNSEQ = 0x20;
/** J-IM's documented (and jim's default) largest body: (int)(1024*1024*2.1). */
export const DEFAULT_MAX_BODY = 2202009;

export interface TcpFrame {
  cmd: number;
  /** 0 when the frame carried no synSeq. */
  synSeq: number;
  body: Uint8Array;
}

/** A framing violation: the connection must be closed (the stream cannot be resynchronised). */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/** Encodes one frame. `synSeq` > 0 sets mask 0xF1 and writes the 4-byte synSeq. */
export function encodeTcpFrame(cmd: number, body: Uint8Array, synSeq = 0): Uint8Array {
  const withSeq = synSeq > 0;
  const head = withSeq ? 11 : 7;
  const out = new Uint8Array(head + body.length);
  writeTcpHeader(out, 0, cmd, body.length, synSeq);
  out.set(body, head);
  return out;
}

/** Size of the header encodeTcpFrame would write. */
export function tcpHeaderSize(synSeq: number): number {
  return synSeq > 0 ? 11 : 7;
}

/** Writes a frame header at `offset`; returns the offset after it. */
export function writeTcpHeader(
  out: Uint8Array,
  offset: number,
  cmd: number,
  bodyLength: number,
  synSeq: number,
): number {
  out[offset++] = TCP_VERSION;
  if (synSeq > 0) {
    out[offset++] = MASK_OUT_SYNSEQ;
    out[offset++] = (synSeq >>> 24) & 0xff;
    out[offset++] = (synSeq >>> 16) & 0xff;
    out[offset++] = (synSeq >>> 8) & 0xff;
    out[offset++] = synSeq & 0xff;
  } else {
    out[offset++] = MASK_OUT;
  }
  out[offset++] = cmd & 0xff;
  out[offset++] = (bodyLength >>> 24) & 0xff;
  out[offset++] = (bodyLength >>> 16) & 0xff;
  out[offset++] = (bodyLength >>> 8) & 0xff;
  out[offset++] = bodyLength & 0xff;
  return offset;
}

/**
 * Incremental decoder: feed chunks of any size; complete frames come back in order.
 * Bodies are copied, so the caller may reuse its read buffer. Only the bytes of an unfinished
 * frame are kept between calls, in a buffer that grows as they arrive (never to the announced
 * length up front, so a header alone cannot make the server allocate megabytes).
 */
export class TcpFrameDecoder {
  #buf: Uint8Array | null = null;
  #len = 0;
  /** Bytes #buf must hold before parsing can make progress. */
  #need = 0;
  #maxBody: number;

  constructor(maxBody = DEFAULT_MAX_BODY) {
    this.#maxBody = maxBody;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#len;
  }

  /** Decodes every complete frame in `chunk` (plus earlier leftovers). Throws FrameError. */
  push(chunk: Uint8Array): TcpFrame[] {
    const frames: TcpFrame[] = [];
    if (this.#len === 0) {
      const used = this.#parse(chunk, chunk.length, frames);
      if (used < chunk.length) this.#keep(chunk.subarray(used));
      return frames;
    }
    this.#append(chunk);
    if (this.#len < this.#need) {
      if (this.#buf![0] !== TCP_VERSION) this.#parse(this.#buf!, this.#len, frames);
      return frames;
    }
    const buf = this.#buf!;
    const used = this.#parse(buf, this.#len, frames);
    if (used === this.#len) {
      this.#buf = null;
      this.#len = 0;
    } else if (used > 0) {
      buf.copyWithin(0, used, this.#len);
      this.#len -= used;
    }
    return frames;
  }

  #keep(rest: Uint8Array): void {
    this.#buf = new Uint8Array(Math.max(rest.length, 64));
    this.#buf.set(rest);
    this.#len = rest.length;
  }

  #append(chunk: Uint8Array): void {
    const buf = this.#buf!;
    const needed = this.#len + chunk.length;
    if (needed > buf.length) {
      const grown = new Uint8Array(Math.max(needed, buf.length * 2));
      grown.set(buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf!.set(chunk, this.#len);
    this.#len = needed;
  }

  /** Parses complete frames from buf[0, end); returns the bytes consumed and sets #need. */
  #parse(buf: Uint8Array, end: number, frames: TcpFrame[]): number {
    let pos = 0;
    this.#need = 0;
    while (pos < end) {
      const available = end - pos;
      // Reject garbage from the first byte, before waiting for a whole header.
      if (buf[pos] !== TCP_VERSION) {
        throw new FrameError(`protocol version 0x${buf[pos].toString(16).padStart(2, "0")} is not 0x01`);
      }
      if (available < 2) {
        this.#need = 2;
        break;
      }
      const hasSeq = (buf[pos + 1] & MASK_HAS_SYNSEQ) !== 0;
      const head = hasSeq ? 11 : 7;
      if (available < head) {
        this.#need = head;
        break;
      }
      let p = pos + 2;
      let synSeq = 0;
      if (hasSeq) {
        synSeq = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
        if (synSeq > 0x7fffffff) throw new FrameError("negative synSeq");
        p += 4;
      }
      const cmd = buf[p++];
      const length = (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
      if (length < 0) throw new FrameError("negative body length");
      if (length > this.#maxBody) {
        throw new FrameError(`body of ${length} bytes exceeds the limit of ${this.#maxBody}`);
      }
      p += 4;
      if (end - p < length) {
        this.#need = head + length;
        break;
      }
      frames.push({ cmd, synSeq, body: buf.slice(p, p + length) });
      pos = p + length;
    }
    return pos;
  }
}
