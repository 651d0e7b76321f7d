/**
 * The fuzz runner: feeds generated inputs (tests/fuzz/_generators.ts) to a running jim over real
 * sockets and checks that every input is answered or closed, within a per-input timeout.
 *
 * ## Inputs and reproducibility
 *
 * Input `i` of a run is generated from `Prng.forInput(seed, i)` and the user the lane's
 * connection is logged in as; how a connection is set up (anonymous or which user) depends only
 * on the seed and the index of the first input it was opened for. So replaying a connection's
 * inputs in order on one lane (`only`: FuzzFailure.previous + index) regenerates the same bytes
 * on the same kind of connection; the failure report also carries the exact bytes and write sizes.
 *
 * Kinds, by index (i % 20): 9 × J-IM TCP frames, 6 × WebSocket frames, 4 × HTTP requests
 * (10% of them WebSocket upgrade requests), 1 × raw first bytes on a fresh connection.
 *
 * ## Lanes and connections
 *
 * `concurrency` lanes run in parallel, each with at most one open connection, reused for as many
 * inputs as the server keeps it open: a TCP lane logs in as one of FUZZ_USERS (or stays
 * anonymous), a WebSocket lane upgrades (logging in from the query, or not), an HTTP lane uses
 * keep-alive. Raw inputs always get a fresh connection.
 *
 * ## Complete, rejected and incomplete inputs (what "answered" means)
 *
 * Each input is classified before it is sent by running the server's own decoder on it (in the
 * state the connection's decoder is in: a WebSocket message left open by earlier inputs is
 * replayed first), so the expectation is what the server must do with those bytes:
 *
 * - **reject**: the decoder throws (TCP FrameError: version byte ≠ 0x01, negative length or
 *   synSeq, body over --max-body; WebSocket protocol error, invalid UTF-8, message too big; HTTP
 *   parse error), or the input holds a WebSocket close frame, or an HTTP request that does not
 *   keep the connection alive. Expected: the server closes the connection (after its error
 *   response / close frame).
 * - **complete**: the decoder consumes every byte and stops at a frame / request boundary (a
 *   fragmented WebSocket message may stay open: control frames still flow). The runner appends a
 *   *sentinel* the server must answer after everything before it: a cmd 13 heartbeat with a
 *   unique synSeq (TCP), a ping with a unique payload (WebSocket), `GET /healthz` (HTTP).
 *   Expected: the sentinel's answer (heartbeat reply with that synSeq / pong with that payload /
 *   one HTTP response per request, the sentinel's included), or a close: a request in the input
 *   may legitimately end the connection (failed login, cmd 14, a kick by another lane…).
 * - **upgrade** (HTTP): the input holds a WebSocket upgrade request. Expected: the responses up
 *   to and including the upgrade's (101, or a refusal and a close), or a close.
 * - **incomplete**: the decoder is left waiting for more bytes (a truncated frame, a length field
 *   larger than the bytes that follow, a partial HTTP head or body, nothing at all). The server is
 *   right to wait — its handshake / heartbeat timeouts cover such peers — so this is never a
 *   failure: the runner checks the answers to the complete HTTP requests ahead of the partial
 *   one, waits `incompleteWaitMs`, then closes the connection itself. A sample
 *   (`timeoutCheckRate`) of the incomplete HTTP / silent inputs instead waits for the server to
 *   close them within handshakeTimeout + 2 s (failure "timeout-not-enforced" otherwise).
 *
 * A complete, reject or upgrade input without its answer or a close after `inputTimeoutMs` gets
 * a grace period (`hangGraceMs`): answered then, it is only counted as late (a loaded machine);
 * still nothing, it is a **hang**. Server output that does not decode (a TCP frame or WebSocket
 * message that is not a JSON object, a malformed HTTP response) is a **bad-output** failure.
 * After an HTTP parse error only the close is checked: which requests ahead of the error the
 * server answered first depends on how the bytes arrived.
 */
import { FrameError, TcpFrameDecoder } from "../../src/protocol/frame.ts";
import { HttpParseError, HttpRequestParser, isWebSocketUpgrade } from "../../src/protocol/http_request.ts";
import { WsFrameDecoder, WsProtocolError } from "../../src/protocol/ws_frame.ts";
import {
  concat,
  FUZZ_PASSWORD,
  FUZZ_USERS,
  type FuzzInput,
  type FuzzKind,
  type GenContext,
  genHttp,
  genRaw,
  genTcp,
  genWs,
  wsPingFrame,
  wsTextFrame,
} from "./_generators.ts";
import { Prng } from "./_prng.ts";

export interface FuzzOptions {
  port: number;
  hostname?: string;
  seed: number;
  /** Number of inputs (indices 0 … inputs-1). */
  inputs: number;
  /** Parallel lanes (connections); default 24. */
  concurrency?: number;
  /** Stop taking new inputs after this many ms (stats.deadlineHit); default: none. */
  deadlineMs?: number;
  /** Longest wait for an input's answer or close; default 2000. */
  inputTimeoutMs?: number;
  /**
   * After inputTimeoutMs, how much longer to wait before calling it a hang; default 8000. An
   * answer in this grace period is "late" (stats.late), not a failure: the server was slow (a
   * loaded CI machine, a GC pause), not stuck on the input.
   */
  hangGraceMs?: number;
  /** How long an incomplete input's connection stays open before the runner closes it; default 5. */
  incompleteWaitMs?: number;
  /** The server's --max-body (default J-IM's 2202009). */
  maxBody?: number;
  /** The server's --handshake-timeout, for the timeout checks; default 1000. */
  handshakeTimeoutMs?: number;
  /** Fraction of incomplete HTTP / silent inputs whose server-side timeout is checked; default 0.02. */
  timeoutCheckRate?: number;
  /** Run only these input indices (to reproduce a failure). */
  only?: readonly number[];
  /** Stop early after this many failures; default 20. */
  maxFailures?: number;
  /** Called about once a second. */
  onProgress?: (stats: FuzzStats) => void;
}

export type InputClass = "complete" | "reject" | "upgrade" | "incomplete";
export type FailureReason = "hang" | "bad-output" | "timeout-not-enforced" | "setup";

export interface FuzzFailure {
  reason: FailureReason;
  index: number;
  kind: FuzzKind | "setup";
  label: string;
  class?: InputClass;
  detail: string;
  /** The input's bytes (without the sentinel). */
  bytes: Uint8Array;
  writes: number[];
  /**
   * The inputs run before it on the same connection, from the one the connection was opened for
   * (whose index decides how it was set up): replaying previous + index on one lane reproduces it.
   */
  previous: number[];
  connection: string;
}

export interface FuzzStats {
  seed: number;
  /** Inputs run to the end. */
  inputs: number;
  byKind: Record<FuzzKind, number>;
  byClass: Record<InputClass, number>;
  /** `${kind} ${class}` → inputs. */
  byKindClass: Record<string, number>;
  /** Complete / upgrade inputs answered (sentinel reply, or the expected responses). */
  answered: number;
  /** Complete / reject / upgrade inputs that ended with the server closing the connection. */
  closedByServer: number;
  /** Incomplete inputs closed by the runner. */
  closedByRunner: number;
  timeoutChecks: number;
  connections: number;
  bytesSent: number;
  bytesReceived: number;
  /** Inputs answered only in the grace period after inputTimeoutMs (index, ms), first 50. */
  late: { index: number; ms: number }[];
  lateCount: number;
  /** Server frames / messages / responses decoded. */
  serverUnits: number;
  /** Slowest answer (ms) and the 99th percentile. */
  maxAnswerMs: number;
  p99AnswerMs: number;
  failures: FuzzFailure[];
  elapsedMs: number;
  inputsPerSecond: number;
  deadlineHit: boolean;
}

const KIND_PATTERN: readonly FuzzKind[] = [
  "tcp",
  "ws",
  "tcp",
  "http",
  "tcp",
  "ws",
  "tcp",
  "raw",
  "tcp",
  "ws",
  "http",
  "tcp",
  "ws",
  "tcp",
  "http",
  "ws",
  "tcp",
  "ws",
  "tcp",
  "http",
];

export function kindOf(index: number): FuzzKind {
  return KIND_PATTERN[index % KIND_PATTERN.length];
}

/** Regenerates input `index` of a run (what the runner sends, before its sentinel). */
export function generateInput(seed: number, index: number, ctx: GenContext): FuzzInput {
  const p = Prng.forInput(seed, index);
  switch (kindOf(index)) {
    case "tcp":
      return genTcp(p, ctx, index);
    case "ws":
      return genWs(p, ctx, index);
    case "http":
      return genHttp(p, ctx, index);
    case "raw":
      return genRaw(p, ctx, index);
  }
}

export function hex(bytes: Uint8Array, max = 4096): string {
  let s = "";
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) s += bytes[i].toString(16).padStart(2, "0");
  return bytes.length > max ? `${s}… (${bytes.length} bytes)` : s;
}

const encoder = new TextEncoder();
const HTTP_MAX_HEAD = 20480;
/** Inputs remembered per connection for the failure report (its replay list). */
const MAX_HISTORY = 2000;
const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// Classification (the server's own decoders as the oracle)

export function classifyTcp(bytes: Uint8Array, maxBody: number): InputClass {
  const d = new TcpFrameDecoder(maxBody);
  try {
    d.push(bytes);
  } catch (e) {
    if (e instanceof FrameError) return "reject";
    throw e;
  }
  return d.bufferedBytes === 0 ? "complete" : "incomplete";
}

function wsTry(bytes: Uint8Array, maxBody: number) {
  const d = new WsFrameDecoder({ maxMessageBytes: maxBody, requireMask: true });
  try {
    return { events: d.push(bytes), error: undefined };
  } catch (e) {
    if (e instanceof WsProtocolError) return { events: e.events, error: e };
    throw e;
  }
}

/**
 * WebSocket classification. `carry` = bytes sent on the connection since its decoder was last
 * known to be idle (no fragmented message open), so replaying carry + input reproduces its state.
 * Returns the class and the new carry (for complete inputs).
 */
export function classifyWs(
  carry: Uint8Array,
  input: Uint8Array,
  sentinel: Uint8Array,
  sentinelPayload: string,
  maxBody: number,
): { cls: InputClass; carry: Uint8Array } {
  const base = concat([carry, input]);
  const r0 = wsTry(base, maxBody);
  if (r0.error || r0.events.some((e) => e.type === "close")) return { cls: "reject", carry: EMPTY };
  const withSentinel = concat([base, sentinel]);
  const r1 = wsTry(withSentinel, maxBody);
  const last = r1.events[r1.events.length - 1];
  if (
    r1.error || last?.type !== "ping" || new TextDecoder().decode(last.data) !== sentinelPayload
  ) {
    return { cls: "incomplete", carry: EMPTY };
  }
  const probe = wsTry(concat([withSentinel, wsTextFrame("{}", Uint8Array.of(1, 2, 3, 4))]), maxBody);
  const open = probe.error?.message.includes("fragmented message is in progress") ?? false;
  return { cls: "complete", carry: open ? withSentinel : EMPTY };
}

interface HttpPlan {
  cls: InputClass;
  /** The parser rejects the bytes: which requests ahead of the error get answered is timing. */
  parseError?: boolean;
  /** Methods of the requests the server must answer before it closes / is done. */
  methods: string[];
}

/** HTTP classification; a complete plan ends with the sentinel request (already counted). */
export function classifyHttp(bytes: Uint8Array, maxBody: number): HttpPlan {
  const parser = new HttpRequestParser({ maxHeaderBytes: HTTP_MAX_HEAD, maxBodyBytes: maxBody });
  let requests;
  try {
    requests = parser.push(bytes);
  } catch (e) {
    if (e instanceof HttpParseError) return { cls: "reject", methods: [], parseError: true };
    throw e;
  }
  const methods: string[] = [];
  for (const req of requests) {
    methods.push(req.method);
    if (isWebSocketUpgrade(req)) return { cls: "upgrade", methods };
    if (!req.keepAlive) return { cls: "reject", methods };
  }
  if (parser.hasPartial()) return { cls: "incomplete", methods };
  methods.push("GET");
  return { cls: "complete", methods };
}

const HTTP_SENTINEL = encoder.encode("GET /healthz HTTP/1.1\r\nHost: fuzz\r\n\r\n");

// ---------------------------------------------------------------------------------------------
// A connection with a background reader and a protocol-specific decoder of server output

type Proto = "tcp" | "ws" | "http";

class FuzzConn {
  readonly conn: Deno.TcpConn;
  readonly proto: Proto;
  closed = false;
  badOutput: string | undefined;
  /** TCP: synSeqs of the cmd 13 replies seen; WS: payloads of the pongs seen. */
  readonly seen = new Set<string>();
  /** TCP: the last login reply code. */
  loginCode: number | undefined;
  /** WS: true once the 101 head was read. */
  upgraded = false;
  /** HTTP: methods of the requests whose responses are still expected, and the count answered. */
  httpExpect: string[] = [];
  httpResponses = 0;
  /** HTTP: a 101 was seen (the connection is now a WebSocket: the runner stops parsing). */
  httpSwitched = false;
  /**
   * HTTP: stop checking the responses. After a request the parser rejects, which requests ahead
   * of it the server answered before the error depends on how the bytes arrived (and a HEAD
   * response has no body), so only the close is checked.
   */
  httpUnchecked = false;
  units = 0;
  bytesReceived = 0;
  #buf: Uint8Array = EMPTY;
  #tcp: TcpFrameDecoder | undefined;
  #ws: WsFrameDecoder | undefined;
  #waiters: (() => void)[] = [];
  readonly reader: Promise<void>;

  private constructor(conn: Deno.TcpConn, proto: Proto) {
    this.conn = conn;
    this.proto = proto;
    if (proto === "tcp") this.#tcp = new TcpFrameDecoder(256 * 1024 * 1024);
    this.reader = this.#read();
  }

  static async open(hostname: string, port: number, proto: Proto): Promise<FuzzConn> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new FuzzConn(conn, proto);
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.bytesReceived += n;
        this.#onData(buf.subarray(0, n));
        this.#notify();
      }
    } catch {
      // reset, or closed by the runner
    } finally {
      this.closed = true;
      this.#notify();
    }
  }

  #bad(what: string): void {
    this.badOutput ??= what;
  }

  #onData(chunk: Uint8Array): void {
    if (this.badOutput) return;
    if (this.proto === "tcp") {
      let frames;
      try {
        frames = this.#tcp!.push(chunk);
      } catch (e) {
        return this.#bad(`undecodable TCP frame from the server: ${e}`);
      }
      for (const f of frames) {
        this.units++;
        let body;
        try {
          body = parseServerJson(f.body);
        } catch {
          return this.#bad(`server TCP frame cmd ${f.cmd} body is not a JSON object: ${hex(f.body, 200)}`);
        }
        if (f.cmd === 13) this.seen.add(String(f.synSeq));
        if (f.cmd === 6) this.loginCode = Number(body.code);
      }
      return;
    }
    if (this.proto === "ws" && this.upgraded) return this.#onWs(chunk);
    // HTTP responses (or the 101 head of a WebSocket lane).
    this.#buf = this.#buf.length === 0 ? chunk.slice() : concat([this.#buf, chunk]);
    this.#parseHttp();
  }

  #onWs(chunk: Uint8Array): void {
    this.#ws ??= new WsFrameDecoder({ maxMessageBytes: 256 * 1024 * 1024, requireMask: false });
    let events;
    try {
      events = this.#ws.push(chunk);
    } catch (e) {
      return this.#bad(`undecodable WebSocket frame from the server: ${e}`);
    }
    for (const e of events) {
      this.units++;
      if (e.type === "pong") this.seen.add(new TextDecoder().decode(e.data));
      if (e.type === "text" || e.type === "binary") {
        let body;
        try {
          body = parseServerJson(e.data);
        } catch {
          const text = typeof e.data === "string" ? e.data : hex(e.data, 200);
          return this.#bad(`server WebSocket message is not a JSON object: ${text.slice(0, 400)}`);
        }
        if (body.command === 6) this.loginCode = Number(body.code);
      }
    }
  }

  #parseHttp(): void {
    for (;;) {
      if (this.httpSwitched || this.httpUnchecked) {
        this.#buf = EMPTY;
        return;
      }
      const b = this.#buf;
      const end = indexOfCrlfCrlf(b);
      if (end < 0) {
        if (b.length > 64 * 1024) this.#bad("HTTP response head over 64 KiB");
        return;
      }
      const head = new TextDecoder("latin1").decode(b.subarray(0, end));
      const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*(\r\n|$)/.exec(head);
      if (!m) return this.#bad(`malformed HTTP status line: ${JSON.stringify(head.slice(0, 200))}`);
      const status = Number(m[1]);
      const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
      const method = this.proto === "ws" ? "GET" : this.httpExpect[this.httpResponses] ?? "GET";
      const bodyless = status < 200 || status === 204 || status === 304 || method === "HEAD";
      const bodyLen = bodyless ? 0 : cl ? Number(cl[1]) : -1;
      if (bodyLen < 0) return this.#bad(`HTTP response without content-length: ${head.slice(0, 200)}`);
      if (b.length < end + 4 + bodyLen) return;
      this.#buf = b.slice(end + 4 + bodyLen);
      this.units++;
      if (this.proto === "ws") {
        if (status !== 101) return this.#bad(`upgrade answered ${status}`);
        this.upgraded = true;
        const rest = this.#buf;
        this.#buf = EMPTY;
        if (rest.length > 0) this.#onWs(rest);
        return;
      }
      this.httpResponses++;
      if (status === 101) {
        this.httpSwitched = true;
        return;
      }
    }
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Waits until `done()` (checked after every chunk and at EOF); false on timeout. */
  async wait(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.badOutput) return true;
      const ms = deadline - Date.now();
      if (ms <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const changed = await new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
        this.#waiters.push(() => resolve(true));
      });
      clearTimeout(timer);
      if (!changed && !done()) return false;
    }
    return true;
  }

  /** Writes the pieces in order; false when the peer closed first. */
  async write(bytes: Uint8Array, writes: readonly number[], pauses: boolean): Promise<boolean> {
    try {
      let off = 0;
      for (let i = 0; i < writes.length; i++) {
        const end = i === writes.length - 1 ? bytes.length : off + writes[i];
        while (off < end) off += await this.conn.write(bytes.subarray(off, end));
        if (pauses && i < writes.length - 1) await new Promise((r) => setTimeout(r, 0));
      }
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

function indexOfCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A server message must be a JSON object in valid UTF-8 (throws otherwise). Not parseJsonObject:
 * its depth limit is for requests, and a reply may legitimately nest a level deeper (cmd 4 echoes
 * the request under "data").
 */
function parseServerJson(data: Uint8Array | string): Record<string, unknown> {
  const value = JSON.parse(typeof data === "string" ? data : strictUtf8.decode(data));
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
  return value;
}

/** A cmd 13 heartbeat frame with a synSeq (the TCP sentinel). */
function tcpSentinel(synSeq: number): Uint8Array {
  const out = new Uint8Array(11 + 2);
  const v = new DataView(out.buffer);
  out[0] = 0x01;
  out[1] = 0x51 | 0x20;
  v.setUint32(2, synSeq);
  out[6] = 13;
  v.setUint32(7, 2);
  out.set(encoder.encode("{}"), 11);
  return out;
}

function tcpFrame(cmd: number, body: Record<string, unknown>): Uint8Array {
  const json = encoder.encode(JSON.stringify(body));
  const out = new Uint8Array(7 + json.length);
  out[0] = 0x01;
  out[1] = 0x51;
  out[2] = cmd;
  new DataView(out.buffer).setUint32(3, json.length);
  out.set(json, 7);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The run

class Run {
  readonly o: Required<Omit<FuzzOptions, "only" | "onProgress" | "deadlineMs">> & FuzzOptions;
  readonly stats: FuzzStats;
  readonly queues: Record<FuzzKind, number[]> = { tcp: [], ws: [], http: [], raw: [] };
  readonly #qpos: Record<FuzzKind, number> = { tcp: 0, ws: 0, http: 0, raw: 0 };
  readonly answerMs: number[] = [];
  readonly start = Date.now();
  /** Reader loops of connections not yet fully closed (awaited at the end: no leaked ops). */
  readonly readers = new Set<Promise<void>>();
  stopped = false;

  constructor(options: FuzzOptions) {
    this.o = {
      hostname: "127.0.0.1",
      concurrency: 24,
      inputTimeoutMs: 2000,
      hangGraceMs: 8000,
      incompleteWaitMs: 5,
      maxBody: 2202009,
      handshakeTimeoutMs: 1000,
      timeoutCheckRate: 0.02,
      maxFailures: 20,
      ...options,
    };
    this.stats = {
      seed: options.seed,
      inputs: 0,
      byKind: { tcp: 0, ws: 0, http: 0, raw: 0 },
      byClass: { complete: 0, reject: 0, upgrade: 0, incomplete: 0 },
      byKindClass: {},
      answered: 0,
      closedByServer: 0,
      closedByRunner: 0,
      timeoutChecks: 0,
      connections: 0,
      bytesSent: 0,
      bytesReceived: 0,
      late: [],
      lateCount: 0,
      serverUnits: 0,
      maxAnswerMs: 0,
      p99AnswerMs: 0,
      failures: [],
      elapsedMs: 0,
      inputsPerSecond: 0,
      deadlineHit: false,
    };
    if (options.only) {
      this.#ordered = [...options.only];
    } else {
      for (let i = 0; i < options.inputs; i++) this.queues[kindOf(i)].push(i);
    }
  }

  /** `only` runs its indices in the order given (one lane: a connection's inputs, replayed). */
  #ordered: number[] | undefined;

  /** The next input index, preferring `kind`; undefined when all are taken or the run stops. */
  take(kind: FuzzKind): { index: number; kind: FuzzKind } | undefined {
    if (this.stopped) return undefined;
    if (this.o.deadlineMs !== undefined && Date.now() - this.start > this.o.deadlineMs) {
      this.stats.deadlineHit = true;
      this.stopped = true;
      return undefined;
    }
    if (this.#ordered) {
      const index = this.#ordered.shift();
      return index === undefined ? undefined : { index, kind: kindOf(index) };
    }
    for (const k of [kind, "tcp", "ws", "http", "raw"] as FuzzKind[]) {
      const q = this.queues[k];
      if (this.#qpos[k] < q.length) return { index: q[this.#qpos[k]++], kind: k };
    }
    return undefined;
  }

  fail(f: FuzzFailure): void {
    this.stats.failures.push(f);
    if (this.stats.failures.length >= this.o.maxFailures) this.stopped = true;
  }

  answered(ms: number): void {
    this.stats.answered++;
    if (this.answerMs.length < 1_000_000) this.answerMs.push(ms);
    if (ms > this.stats.maxAnswerMs) this.stats.maxAnswerMs = ms;
  }

  finish(): FuzzStats {
    const s = this.stats;
    s.elapsedMs = Date.now() - this.start;
    s.inputsPerSecond = Math.round(s.inputs / Math.max(0.001, s.elapsedMs / 1000));
    const sorted = this.answerMs.sort((a, b) => a - b);
    s.p99AnswerMs = sorted.length ? sorted[Math.floor(sorted.length * 0.99)] : 0;
    return s;
  }
}

/** One lane: one connection at a time, inputs one after another. */
class Lane {
  readonly run: Run;
  readonly id: number;
  readonly home: FuzzKind;
  readonly p: Prng;
  conn: FuzzConn | undefined;
  connKind: FuzzKind | undefined;
  connDesc = "";
  userId: string | undefined;
  history: number[] = [];
  wsCarry: Uint8Array = EMPTY;
  sentinels = 0;

  constructor(run: Run, id: number, home: FuzzKind) {
    this.run = run;
    this.id = id;
    this.home = home;
    this.p = new Prng(run.o.seed, 0x1a4e, id);
  }

  nextSentinel(): number {
    // Unique per lane and input; never 0 (0 = no synSeq), always ≤ 0x7fffffff.
    this.sentinels = (this.sentinels + 1) & 0xfffff;
    return ((0x40 + this.id) << 20 | this.sentinels) & 0x7fffffff || 1;
  }

  drop(): void {
    if (this.conn) {
      this.run.stats.serverUnits += this.conn.units;
      this.run.stats.bytesReceived += this.conn.bytesReceived;
      this.conn.close();
    }
    this.conn = undefined;
    this.connKind = undefined;
    this.history = [];
    this.wsCarry = EMPTY;
  }

  async loop(): Promise<void> {
    for (;;) {
      const next = this.run.take(this.home);
      if (!next) break;
      try {
        await this.runInput(next.index, next.kind);
      } catch (e) {
        this.run.fail({
          reason: "setup",
          index: next.index,
          kind: "setup",
          label: "runner error",
          detail: String((e as Error)?.stack ?? e),
          bytes: EMPTY,
          writes: [],
          previous: this.history.slice(),
          connection: this.connDesc,
        });
        this.drop();
      }
    }
    this.drop();
  }

  /**
   * Opens (and for TCP / WS, sets up) a connection for `kind`, for input `index` first; retries a
   * few times. How it is set up (who logs in) depends only on the seed and `index`, so replaying
   * a connection's inputs from its first one sets it up the same way.
   */
  async connect(kind: FuzzKind, proto: Proto, index: number): Promise<FuzzConn> {
    for (let attempt = 0;; attempt++) {
      this.drop();
      const { hostname, port } = this.run.o;
      const conn = await FuzzConn.open(hostname, port, proto);
      this.run.stats.connections++;
      this.run.readers.add(conn.reader);
      conn.reader.finally(() => this.run.readers.delete(conn.reader));
      this.conn = conn;
      this.connKind = kind;
      const problem = await this.setup(kind, conn, new Prng(this.run.o.seed, 0x5e7, index, attempt));
      if (problem === undefined) return conn;
      if (attempt >= 4) throw new Error(`connection setup failed 5 times: ${problem} (${this.connDesc})`);
    }
  }

  /** Logs in (TCP / WS); undefined when ready, else what went wrong (the caller retries). */
  async setup(kind: FuzzKind, conn: FuzzConn, p: Prng): Promise<string | undefined> {
    const timeout = this.run.o.inputTimeoutMs * 2;
    if (kind === "tcp") {
      const login = p.chance(0.85);
      this.userId = login ? p.pick(FUZZ_USERS) : undefined;
      this.connDesc = `tcp lane ${this.id} ${login ? `login ${this.userId}` : "anonymous"}`;
      const seq = this.nextSentinel();
      const first = login
        ? tcpFrame(5, { userId: this.userId, password: FUZZ_PASSWORD, extensions: p.chance(0.3) })
        : tcpFrame(1, {});
      const bytes = concat([first, tcpSentinel(seq)]);
      if (!await conn.write(bytes, [bytes.length], false)) return "write failed";
      const ok = await conn.wait(() => conn.closed || conn.seen.has(String(seq)), timeout);
      if (!ok) return "no answer to the login";
      if (conn.badOutput) return conn.badOutput;
      if (conn.closed) return "closed during login";
      if (login && conn.loginCode !== 10007) return `login answered ${conn.loginCode}`;
      return undefined;
    }
    if (kind === "ws") {
      const login = p.chance(0.7);
      this.userId = login ? p.pick(FUZZ_USERS) : undefined;
      const path = login ? `/?username=${this.userId}&password=${FUZZ_PASSWORD}` : "/";
      this.connDesc = `ws lane ${this.id} ${login ? `login ${this.userId}` : "anonymous"}`;
      const key = btoa(String.fromCharCode(...p.bytes(16)));
      const sentinel = `s${this.nextSentinel()}`;
      const head = encoder.encode(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      const bytes = concat([head, wsPingFrame(encoder.encode(sentinel), p.bytes(4))]);
      if (!await conn.write(bytes, [bytes.length], false)) return "write failed";
      const ok = await conn.wait(() => conn.closed || conn.seen.has(sentinel), timeout);
      if (!ok) return "no answer to the upgrade";
      if (conn.badOutput) return conn.badOutput;
      if (conn.closed) return "closed during the upgrade";
      if (login && conn.loginCode !== 10007) return `login answered ${conn.loginCode}`;
      return undefined;
    }
    this.userId = undefined;
    this.connDesc = `${kind} lane ${this.id} (${conn.proto})`;
    return undefined;
  }

  async runInput(index: number, kind: FuzzKind): Promise<void> {
    const run = this.run;
    const o = run.o;
    let input: FuzzInput;
    let conn: FuzzConn;
    if (kind === "raw") {
      // The first byte decides the protocol (and so how the server's output is decoded).
      input = generateInput(o.seed, index, { maxBody: o.maxBody });
      conn = await this.connect(kind, input.bytes[0] === 0x01 ? "tcp" : "http", index);
    } else {
      if (!this.conn || this.conn.closed || this.connKind !== kind) await this.connect(kind, kind, index);
      conn = this.conn!;
      input = generateInput(o.seed, index, { userId: this.userId, maxBody: o.maxBody });
    }
    if (this.history.length < MAX_HISTORY) this.history.push(index);

    // Classify, and add the sentinel to complete inputs.
    let cls: InputClass;
    let bytes = input.bytes;
    let writes = input.writes;
    let done: () => boolean;
    let dropAfter = kind === "raw";
    const first = input.bytes[0];
    const addSentinel = (s: Uint8Array) => {
      bytes = concat([bytes, s]);
      writes = [...writes.slice(0, -1), (writes[writes.length - 1] ?? 0) + s.length];
    };
    if (kind === "raw" && input.bytes.length === 0) {
      cls = "incomplete";
      done = () => conn.closed;
    } else if (kind === "raw" && first !== 0x01 && !(first >= 0x41 && first <= 0x5a)) {
      cls = "reject"; // neither J-IM TCP nor an HTTP method: closed at once
      done = () => conn.closed;
    } else if (conn.proto === "tcp") {
      cls = classifyTcp(input.bytes, o.maxBody);
      const seq = String(this.nextSentinel());
      conn.seen.clear();
      if (cls === "complete") addSentinel(tcpSentinel(Number(seq)));
      done = cls === "complete" ? () => conn.closed || conn.seen.has(seq) : () => conn.closed;
    } else if (conn.proto === "ws") {
      const sentinel = `s${this.nextSentinel()}`;
      const frame = wsPingFrame(encoder.encode(sentinel), this.p.bytes(4));
      const r = classifyWs(this.wsCarry, input.bytes, frame, sentinel, o.maxBody);
      cls = r.cls;
      this.wsCarry = r.carry;
      // Replaying a long-open fragmented message for every input gets slow: start afresh.
      if (r.carry.length > 256 * 1024) dropAfter = true;
      if (cls === "complete") addSentinel(frame);
      done = cls === "complete" ? () => conn.closed || conn.seen.has(sentinel) : () => conn.closed;
    } else {
      const plan = classifyHttp(input.bytes, o.maxBody);
      cls = plan.cls;
      if (cls === "complete") addSentinel(HTTP_SENTINEL);
      conn.httpExpect = plan.methods;
      conn.httpResponses = 0;
      conn.httpUnchecked = plan.parseError === true;
      const n = plan.methods.length;
      done = cls === "reject"
        ? () => conn.closed
        : () => conn.closed || conn.httpResponses >= n || conn.httpSwitched;
      if (cls === "upgrade") dropAfter = true;
    }

    const started = Date.now();
    const wrote = await conn.write(bytes, writes, input.pauses);
    run.stats.bytesSent += bytes.length;
    run.stats.inputs++;
    run.stats.byKind[kind]++;
    run.stats.byClass[cls]++;
    const kc = `${kind} ${cls}`;
    run.stats.byKindClass[kc] = (run.stats.byKindClass[kc] ?? 0) + 1;
    /** Waits for `until`; after inputTimeoutMs, a grace period that makes a late answer no failure. */
    const waitAnswer = async (until: () => boolean): Promise<boolean> => {
      if (await conn.wait(until, o.inputTimeoutMs)) return true;
      if (!await conn.wait(until, o.hangGraceMs)) return false;
      run.stats.lateCount++;
      if (run.stats.late.length < 50) run.stats.late.push({ index, ms: Date.now() - started });
      return true;
    };

    const failure = (reason: FailureReason, detail: string): FuzzFailure => ({
      reason,
      index,
      kind,
      label: input.label,
      class: cls,
      detail,
      bytes: input.bytes,
      writes: input.writes,
      previous: this.history.filter((i) => i !== index),
      connection: this.connDesc,
    });

    if (cls === "incomplete") {
      // Answers to the complete HTTP requests ahead of the partial one are still owed.
      const owed = conn.proto === "http" ? conn.httpExpect.length : 0;
      if (
        owed > 0 && wrote &&
        !await waitAnswer(() => conn.closed || conn.httpResponses >= owed)
      ) {
        run.fail(failure("hang", `${conn.httpResponses} of ${owed} responses before the partial request`));
        return this.drop();
      }
      const checkTimeout = (conn.proto === "http" || input.bytes.length === 0) && wrote && !conn.closed &&
        this.p.chance(o.timeoutCheckRate);
      if (checkTimeout) {
        const limit = o.handshakeTimeoutMs + 2000;
        if (!await conn.wait(() => conn.closed, limit)) {
          run.fail(failure("timeout-not-enforced", `still open ${limit} ms after an incomplete request`));
        } else {
          run.stats.timeoutChecks++;
        }
      } else if (o.incompleteWaitMs > 0) {
        await conn.wait(() => conn.closed, o.incompleteWaitMs);
      }
      if (conn.badOutput) run.fail(failure("bad-output", conn.badOutput));
      run.stats.closedByRunner++;
      return this.drop();
    }

    const ok = wrote ? await waitAnswer(done) : true;
    if (conn.badOutput) {
      run.fail(failure("bad-output", conn.badOutput));
      return this.drop();
    }
    if (!ok) {
      const what = cls === "reject"
        ? "the server did not close the connection"
        : "neither the sentinel's answer nor a close";
      run.fail(failure("hang", `${what} within ${o.inputTimeoutMs + o.hangGraceMs} ms`));
      return this.drop();
    }
    if (!wrote || conn.closed) {
      run.stats.closedByServer++;
      return this.drop();
    }
    run.answered(Date.now() - started);
    if (dropAfter) this.drop();
  }
}

/** Runs the inputs against the server at `port`; never throws for server misbehaviour (see stats.failures). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const run = new Run(options);
  const c = Math.max(4, run.o.concurrency);
  // Lanes per kind, in proportion to the kinds' shares of the inputs (9 : 6 : 4 : 1).
  const homes: FuzzKind[] = [];
  const shares: [FuzzKind, number][] = [["tcp", 9], ["ws", 6], ["http", 4], ["raw", 1]];
  for (const [k, share] of shares) {
    for (let i = Math.max(1, Math.round((c * share) / 20)); i > 0; i--) homes.push(k);
  }
  const lanes = options.only ? [new Lane(run, 0, "tcp")] : homes.map((home, i) => new Lane(run, i, home));
  const progress = options.onProgress
    ? setInterval(() => options.onProgress!({ ...run.stats, elapsedMs: Date.now() - run.start }), 1000)
    : undefined;
  try {
    await Promise.all(lanes.map((l) => l.loop()));
    await Promise.all([...run.readers]);
  } finally {
    clearInterval(progress);
  }
  return run.finish();
}
