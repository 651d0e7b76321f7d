/**
 * What the TCP and WebSocket transports share: a bounded outbox, the slow-consumer policy, the
 * close sequence, and the read loop that feeds a session until either side ends it.
 */
import type { OutPacket } from "../protocol/packet.ts";
import {
  type Protocol,
  Session,
  type SessionTransport,
  SHUTDOWN_CLOSE_CODE,
  SHUTDOWN_REASON,
} from "../services/session.ts";
import {
  closeQuietly,
  type ConnContext,
  flushThenClose,
  isConnectionGone,
  nextReadBuffer,
  READ_BUFFER_BYTES,
  remoteAddrOf,
} from "./conn_context.ts";
import { ConnWriter } from "./conn_writer.ts";
import { LIMIT_CLOSE_CODE } from "../services/limits.ts";

export abstract class ConnTransport implements SessionTransport {
  abstract readonly protocol: Protocol;
  readonly remoteAddr: string;
  readonly writer: ConnWriter;
  readonly conn: Deno.Conn;
  #closing = false;
  /** Why the server ended the connection (for the close log line); unset when the peer did. */
  closeReason: string | undefined;

  constructor(conn: Deno.Conn, ctx: ConnContext) {
    this.conn = conn;
    this.remoteAddr = remoteAddrOf(conn);
    // Overflow policy: a client that stops reading is cut off at once, nothing more is queued.
    this.writer = new ConnWriter(conn, ctx.limits.outboxMaxBytes, (held) => {
      ctx.log.info("conn.slow_consumer", { protocol: this.protocol, remote: this.remoteAddr, held });
      ctx.stats.outboxDropped();
      this.#closing = true;
      this.closeReason ??= "slow consumer";
      closeQuietly(conn);
    });
  }

  get lastWriteAt(): number {
    return this.writer.lastWriteAt;
  }

  abstract send(packet: OutPacket, synSeq: number): boolean;

  /** Bytes sent last when the server closes (a WebSocket close frame); none by default. */
  protected farewell(_code: number | undefined, _reason: string): Uint8Array | undefined {
    return undefined;
  }

  /** Server-initiated close: the farewell, then the socket once the outbox drained. */
  close(reason: string, code?: number): void {
    if (this.#closing) return;
    this.#closing = true;
    this.closeReason ??= reason;
    const last = this.farewell(code, reason);
    if (last) this.writer.write(last);
    flushThenClose(this.writer, this.conn);
  }

  writeRaw(bytes: Uint8Array): void {
    this.writer.write(bytes);
  }
}

/** A read loop's verdict on a chunk: keep reading, or stop with a reason. */
export type ChunkHandler = (chunk: Uint8Array, session: Session) => Promise<string | undefined>;

/**
 * The decoder's progress, for the frame deadline: -1 when no frame (TCP frame, WebSocket
 * message) is incomplete, otherwise how many frames have completed so far (any count that grows
 * whenever one completes).
 */
export type FrameProgress = () => number;

/**
 * Runs a session over a connection: registers it, feeds every chunk (starting with `first`)
 * to `onChunk` until the peer or the server ends it, then unregisters it and closes the socket
 * after a bounded flush. Requests are handled in order; while one is handled nothing is read.
 *
 * Slowloris limits: a connection that has not logged in within `loginTimeout` is closed, and so
 * is one whose incomplete frame (per `progress`) does not complete within `handshakeTimeout` of
 * the server starting to wait for its rest (time spent handling requests does not count, and
 * trickling bytes does not extend it).
 */
export async function runSession(
  transport: ConnTransport,
  first: Uint8Array,
  ctx: ConnContext,
  onChunk: ChunkHandler,
  beforeReading?: (session: Session) => Promise<void>,
  progress?: FrameProgress,
  readBuffer?: Uint8Array,
): Promise<void> {
  const session = new Session(transport);
  const conn = transport.conn;
  ctx.sessions.opened(session);
  // One line per lifecycle event (open, login in sessions.ts, close); nothing per message.
  ctx.log.info("conn.open", {
    session: session.id,
    protocol: transport.protocol,
    remote: transport.remoteAddr,
  });
  // Opened while the server stops (after it told the sessions it had): told at once.
  if (ctx.drain.draining) session.close(SHUTDOWN_REASON, SHUTDOWN_CLOSE_CODE);
  const loginTimeout = ctx.limits.loginTimeout ?? 0;
  let loginTimer = loginTimeout > 0
    ? setTimeout(() => {
      if (session.user || session.closing) return;
      ctx.log.info("conn.login_timeout", {
        session: session.id,
        protocol: transport.protocol,
        remote: transport.remoteAddr,
      });
      session.close("login timeout", LIMIT_CLOSE_CODE);
    }, loginTimeout)
    : undefined;
  // Made when a frame is first left incomplete: an idle connection that only ever sends whole
  // frames never needs one (idle memory per connection).
  let frameDeadline: FrameDeadline | undefined;
  let reason = "peer closed";
  let bytesIn = 0;
  try {
    if (beforeReading) await beforeReading(session);
    // `first` may be a view of `readBuffer`: it is handled before the first read overwrites it.
    let buf = readBuffer ?? new Uint8Array(READ_BUFFER_BYTES);
    let chunk: Uint8Array | null = first;
    while (chunk && !session.closing) {
      session.lastReadAt = Date.now();
      bytesIn += chunk.length;
      const stop = await onChunk(chunk, session);
      if (stop !== undefined) {
        reason = stop;
        break;
      }
      if (session.closing) break;
      // Logged in: the login deadline is over (cleared now, not left to fire: idle memory).
      if (loginTimer !== undefined && session.user) {
        clearTimeout(loginTimer);
        loginTimer = undefined;
      }
      buf = nextReadBuffer(buf, chunk.length); // the chunk is handled: its buffer may be replaced
      if (frameDeadline === undefined && progress !== undefined && progress() >= 0) {
        frameDeadline = new FrameDeadline(session, ctx, progress);
      }
      frameDeadline?.reading();
      const n: number | null = await conn.read(buf);
      frameDeadline?.idle();
      chunk = n === null ? null : buf.subarray(0, n);
    }
  } catch (err) {
    if (!isConnectionGone(err)) {
      reason = String(err);
      ctx.log.warn("conn.error", { session: session.id, protocol: transport.protocol, error: err });
    }
  } finally {
    clearTimeout(loginTimer);
    frameDeadline?.stop();
    ctx.sessions.closed(session);
    await flushThenClose(transport.writer, conn);
    ctx.log.info("conn.close", {
      session: session.id,
      protocol: transport.protocol,
      remote: transport.remoteAddr,
      userId: session.userId,
      reason: transport.closeReason ?? reason,
      durationMs: Date.now() - session.connectedAt,
      bytesIn,
      bytesOut: transport.writer.bytesWritten,
    });
  }
}

/**
 * The deadline of an incomplete frame. One timer per connection at most, armed when a partial
 * frame is first waited for and re-armed from its callback, so a busy connection does not
 * create a timer per read.
 */
class FrameDeadline {
  readonly #session: Session;
  readonly #ctx: ConnContext;
  readonly #progress: FrameProgress;
  readonly #timeout: number;
  /** When the server started waiting for the rest of the current partial frame; 0 = none. */
  #since = 0;
  /** The progress count when #since was set: a completed frame restarts the clock. */
  #mark = -1;
  #waiting = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(session: Session, ctx: ConnContext, progress: FrameProgress) {
    this.#session = session;
    this.#ctx = ctx;
    this.#progress = progress;
    this.#timeout = ctx.limits.handshakeTimeout;
  }

  /** The read loop is about to wait for bytes. */
  reading(): void {
    const p = this.#progress();
    if (p < 0) {
      this.#since = 0;
    } else if (this.#since === 0 || p !== this.#mark) {
      this.#since = Date.now();
      this.#mark = p;
    }
    this.#waiting = true;
    if (this.#since !== 0 && this.#timer === undefined) this.#arm(this.#timeout);
  }

  /** Bytes arrived (or the read ended); handling them does not count against the deadline. */
  idle(): void {
    this.#waiting = false;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#since === 0 || this.#session.closing) return;
    if (!this.#waiting) return this.#arm(this.#timeout); // busy with requests; reading() restarts the clock
    const left = this.#since + this.#timeout - Date.now();
    if (left > 0) return this.#arm(left);
    const transport = this.#session.transport;
    this.#ctx.log.info("conn.frame_timeout", {
      session: this.#session.id,
      protocol: transport.protocol,
      remote: transport.remoteAddr,
    });
    this.#session.close("incomplete frame timeout", LIMIT_CLOSE_CODE);
  }
}
