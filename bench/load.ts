/**
 * Load generator: one process (bench/run.ts starts several, pinned to core 1 with taskset) that
 * speaks J-IM over TCP frames or WebSocket to jim or to the relay baseline.
 *
 *   deno run --allow-net bench/load.ts '<spec JSON>'
 *
 * Control: after connecting and logging in it prints `{"event":"ready"}` on stdout and waits for
 * a stdin line `{"go":EPOCH_MS}`; it measures from go + warmupMs for `seconds`, prints one
 * `{"event":"result",…}` line and exits. Idle mode prints `{"event":"held",…}` after each step
 * and waits for `{"next":true}`, then `{"stop":true}`.
 *
 * Modes: chat (1:1 pairs, open loop at `rate` or closed loop with `window` in flight), fanout
 * (members join one group; member 0 of generator 0 sends at `rate`), login (fresh connections
 * logging in with a token or a password, `concurrency` at a time), history (cmd 19 or cmd 23
 * pages at `rate`), idle (connections logged in and held).
 *
 * Efficiency: every frame is pre-encoded once per connection; sending copies it and writes a
 * 16-digit stamp; receiving scans bytes (no JSON parse, no text decode); latencies go into a
 * fixed histogram; writes queued while one is in flight leave in one write.
 */
import {
  bodyOffset,
  clientFrame,
  codeOf,
  FrameReader,
  Histogram,
  indexOf,
  NumberQueue,
  type Proto,
  stampOf,
  wallMs,
  writeStamp,
} from "./wire.ts";

export interface LoadSpec {
  mode: "chat" | "fanout" | "login" | "history" | "idle";
  server: "jim" | "relay";
  proto: Proto;
  port: number;
  runId: string;
  /** This generator's index among those of the run. */
  gen: number;
  warmupMs: number;
  seconds: number;
  /** Message content bytes. */
  size: number;
  // chat
  pairs?: number;
  firstPair?: number;
  /** Open loop: messages (or queries) per second sent by this process; absent = closed loop. */
  rate?: number;
  /** Several open-loop phases, one per rate, one after another (see statsAt). */
  rates?: number[];
  /** Pause between phases (ms, default 1000), so one phase's backlog drains before the next. */
  gapMs?: number;
  /** Closed loop: messages in flight per pair. */
  window?: number;
  /** How long a login may take before it counts as failed (ms, default 30000). */
  loginTimeoutMs?: number;
  // fanout
  members?: number;
  firstMember?: number;
  groupId?: string;
  // login
  users?: number;
  concurrency?: number;
  login?: "token" | "password";
  // history
  query?: "history" | "sync";
  /** Conversations h0↔h1, h2↔h3… queried by this process, and their length. */
  conversations?: number;
  firstConversation?: number;
  conversationLength?: number;
  page?: number;
  // idle
  conns?: number;
  steps?: number[];
}

const spec: LoadSpec = JSON.parse(Deno.args[0]);
const PASSWORD = "bench";
const decoder = new TextDecoder();

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

// ---- stdin control ----
const controlLines: string[] = [];
let controlWaiter: (() => void) | undefined;
(async () => {
  let text = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    let nl;
    while ((nl = text.indexOf("\n")) >= 0) {
      controlLines.push(text.slice(0, nl));
      text = text.slice(nl + 1);
      controlWaiter?.();
    }
  }
  controlLines.push('{"stop":true}');
  controlWaiter?.();
})();

async function control(): Promise<Record<string, unknown>> {
  while (controlLines.length === 0) await new Promise<void>((r) => controlWaiter = r);
  return JSON.parse(controlLines.shift()!);
}

// ---- connections ----
class Conn {
  readonly reader: FrameReader;
  closed = false;
  onClose?: () => void;
  #tcp!: Deno.TcpConn;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #writing = false;
  #expect?: { cmd: number; resolve: (body: Uint8Array) => void; reject: (e: Error) => void };

  constructor() {
    this.reader = new FrameReader(spec.proto, () => {});
  }

  /** Steady-state handler; frames awaited with expect() go there instead. */
  set handler(fn: (cmd: number, buf: Uint8Array, start: number, end: number) => void) {
    this.reader.onFrame = (cmd, buf, start, end) => {
      const e = this.#expect;
      if (e && cmd === e.cmd) {
        this.#expect = undefined;
        e.resolve(buf.slice(start, end));
      } else if (cmd === -1) {
        this.close();
      } else {
        fn(cmd, buf, start, end);
      }
    };
  }

  static async open(port = spec.port): Promise<Conn> {
    const c = new Conn();
    c.handler = () => {};
    // A full accept backlog drops SYNs and connect() would retry for minutes: give up sooner.
    const connecting = Deno.connect({ hostname: "127.0.0.1", port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("connect timed out")), spec.loginTimeoutMs ?? 30_000);
    });
    try {
      c.#tcp = await Promise.race([connecting, timeout]);
    } catch (err) {
      connecting.then((late) => late.close(), () => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
    c.#tcp.setNoDelay(true);
    let initial: Uint8Array = new Uint8Array(0);
    if (spec.proto === "ws") initial = await c.#upgrade(port);
    c.#readLoop(initial);
    return c;
  }

  async #upgrade(port: number): Promise<Uint8Array> {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const req = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    await this.#writeAll(new TextEncoder().encode(req));
    const buf = new Uint8Array(1024);
    let head = new Uint8Array(0);
    for (;;) {
      const n = await this.#tcp.read(buf);
      if (n === null) throw new Error("closed during the WebSocket handshake");
      const next = new Uint8Array(head.length + n);
      next.set(head);
      next.set(buf.subarray(0, n), head.length);
      head = next;
      const end = indexOf(head, CRLF2, 0, head.length);
      if (end >= 0) {
        if (head[9] !== 0x31 || head[10] !== 0x30 || head[11] !== 0x31) {
          throw new Error(`upgrade refused: ${decoder.decode(head.subarray(0, end))}`);
        }
        return head.slice(end + 4);
      }
    }
  }

  async #readLoop(initial: Uint8Array): Promise<void> {
    // Idle connections are many and quiet: a small read buffer each keeps the generator small.
    const buf = new Uint8Array(spec.mode === "idle" ? 2048 : 64 * 1024);
    try {
      if (initial.length) this.reader.push(initial);
      for (;;) {
        const n = await this.#tcp.read(buf);
        if (n === null) break;
        this.reader.push(buf.subarray(0, n));
      }
    } catch {
      // reset or closed by us
    }
    this.close();
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        let out: Uint8Array;
        if (this.#pending.length === 1) out = this.#pending[0];
        else {
          out = new Uint8Array(this.#pendingBytes);
          let off = 0;
          for (const b of this.#pending) {
            out.set(b, off);
            off += b.length;
          }
        }
        this.#pending = [];
        this.#pendingBytes = 0;
        await this.#writeAll(out);
      }
    } catch {
      this.close();
    }
    this.#writing = false;
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    for (let w = 0; w < bytes.length;) w += await this.#tcp.write(bytes.subarray(w));
  }

  /** The body of the next frame with this cmd (other frames go to the handler). */
  expect(cmd: number, timeoutMs = 30_000): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no cmd ${cmd} within ${timeoutMs} ms`)), timeoutMs);
      this.#expect = {
        cmd,
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.#tcp?.close();
    } catch {
      // already closed
    }
    this.#expect?.reject(new Error("connection closed"));
    this.#expect = undefined;
    this.onClose?.();
  }
}

const CRLF2 = new Uint8Array([13, 10, 13, 10]);

function frame(cmd: number, body: Record<string, unknown>): Uint8Array {
  return clientFrame(spec.proto, cmd, JSON.stringify({ cmd, ...body }));
}

async function login(c: Conn, body: Record<string, unknown>): Promise<void> {
  const reply = c.expect(6, spec.loginTimeoutMs);
  c.send(frame(5, body));
  const b = await reply;
  if (codeOf(b, 0) !== 10007) throw new Error(`login refused: ${decoder.decode(b)}`);
}

async function connectAndLogin(userId: string, port = spec.port): Promise<Conn> {
  const c = await Conn.open(port);
  try {
    await login(c, { userId, password: PASSWORD });
  } catch (err) {
    c.close();
    throw err;
  }
  return c;
}

/** Runs fn(i) for i < n with at most `limit` in flight. */
async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** A chat frame template with its stamp position: content = 16-digit stamp + "|" + padding. */
function chatTemplate(head: string): { bytes: Uint8Array; stampAt: number } {
  const pad = "x".repeat(Math.max(0, spec.size - 17));
  const json = `{${head},"chatType":${head.includes("groupId") ? 1 : 2},"cmd":11,"msgType":0,"content":"` +
    `${"0".repeat(16)}|${pad}"}`;
  const bytes = clientFrame(spec.proto, 11, json);
  return { bytes, stampAt: bodyOffset(spec.proto, bytes) + json.indexOf('"content":"') + 11 };
}

// ---- measurement windows ----
/**
 * A run has one phase per offered rate (`rates`, else one): phase i sends from go + i·P, where
 * P = warmupMs + seconds + gapMs, and is measured over [start + warmupMs, start + warmupMs +
 * seconds); what arrives in that window counts for phase i.
 */
class PhaseStats {
  sent = 0;
  delivered = 0;
  acked = 0;
  errors = 0;
  completed = 0;
  replyBytes = 0;
  emptyReplies = 0;
  readonly latency = new Histogram();
  readonly ackLatency = new Histogram();

  toJSON() {
    return {
      sent: this.sent,
      delivered: this.delivered,
      acked: this.acked,
      errors: this.errors,
      completed: this.completed,
      replyBytes: this.replyBytes,
      emptyReplies: this.emptyReplies,
      latency: this.latency.toSparse(),
      latencyMax: this.latency.max,
      ackLatency: this.ackLatency.toSparse(),
      ackLatencyMax: this.ackLatency.max,
    };
  }
}

const rates = spec.rates ?? (spec.rate ? [spec.rate] : [0]);
const phases = rates.map(() => new PhaseStats());
const period = spec.warmupMs + spec.seconds * 1000 + (spec.gapMs ?? 1000);
let go = Infinity;
/** Errors outside any window still count (in the last phase). */
let errorsOutside = 0;
const phaseStart = (i: number) => go + i * period;
const windowStart = (i: number) => phaseStart(i) + spec.warmupMs;
const windowEnd = (i: number) => windowStart(i) + spec.seconds * 1000;
/** End of the last window: nothing is sent after it. */
let measureEnd = Infinity;

/** The stats of the phase whose measured window contains t. */
function statsAt(t: number): PhaseStats | undefined {
  if (t < go) return undefined;
  const i = Math.floor((t - go) / period);
  if (i >= phases.length) return undefined;
  return t >= windowStart(i) && t < windowEnd(i) ? phases[i] : undefined;
}

function countError(t: number): void {
  const s = statsAt(t);
  if (s) s.errors++;
  else errorsOutside++;
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - wallMs())));

async function waitGo(): Promise<void> {
  emit({ event: "ready", gen: spec.gen });
  const msg = await control();
  go = Number(msg.go);
  measureEnd = windowEnd(phases.length - 1);
  await sleepUntil(go);
}

/** Open-loop pacing of phase i: send(k, scheduledMs) for message k at start + k/rate, until its window ends. */
async function paced(i: number, send: (k: number, at: number) => void): Promise<void> {
  const rate = rates[i];
  const start = phaseStart(i);
  const end = windowEnd(i);
  await sleepUntil(start);
  let k = 0;
  const interval = 1000 / rate;
  for (;;) {
    const now = wallMs();
    const until = Math.min(now, end);
    while (start + k * interval <= until) {
      send(k, start + k * interval);
      k++;
    }
    if (now >= end) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Every phase in turn, then a drain for late replies. */
async function pacedPhases(send: (k: number, at: number) => void): Promise<void> {
  for (let i = 0; i < phases.length; i++) if (rates[i] > 0) await paced(i, send);
  await sleepUntil(measureEnd + 500);
}

function finish(extra: Record<string, unknown> = {}): never {
  phases[phases.length - 1].errors += errorsOutside;
  emit({ event: "result", gen: spec.gen, mode: spec.mode, phases: phases.map((p) => p.toJSON()), ...extra });
  Deno.exit(0);
}

// ---- modes ----

async function chat(): Promise<void> {
  const pairs = spec.pairs ?? 1;
  const first = spec.firstPair ?? 0;
  interface Pair {
    sender: Conn;
    receiver: Conn;
    bytes: Uint8Array;
    stampAt: number;
    acks: NumberQueue;
  }
  const list: Pair[] = new Array(pairs);
  const closedLoop = rates[0] === 0;
  const window = spec.window ?? 8;
  const sendOne = (p: Pair, at: number) => {
    const f = p.bytes.slice();
    writeStamp(f, p.stampAt, at);
    p.sender.send(f);
    if (spec.server === "jim") p.acks.push(at);
    const s = statsAt(at);
    if (s) s.sent++;
  };
  await pool(pairs, 32, async (i) => {
    const n = first + i;
    const to = `${spec.runId}-r${n}`;
    const receiver = await connectAndLogin(to);
    const sender = await connectAndLogin(`${spec.runId}-s${n}`);
    const p: Pair = { sender, receiver, ...chatTemplate(`"to":"${to}"`), acks: new NumberQueue() };
    list[i] = p;
    receiver.handler = (cmd, buf, start, end) => {
      if (cmd !== 11) return;
      const t = wallMs();
      const s = statsAt(t);
      if (s) {
        s.delivered++;
        s.latency.add(t - stampOf(buf, start, end));
      }
      if (closedLoop && spec.server === "relay" && t < measureEnd) sendOne(p, t);
    };
    sender.handler = (cmd, buf, start) => {
      if (cmd !== 12) return;
      const t = wallMs();
      const at = p.acks.shift();
      const code = codeOf(buf, start);
      if (code !== 10000 && code !== 10001) countError(t);
      const s = statsAt(t);
      if (s) {
        s.acked++;
        s.ackLatency.add(t - at);
      }
      if (closedLoop && t < measureEnd) sendOne(p, t);
    };
  });
  await waitGo();
  if (closedLoop) {
    for (const p of list) for (let w = 0; w < window; w++) sendOne(p, wallMs());
    await sleepUntil(measureEnd + 500);
  } else {
    await pacedPhases((k, at) => sendOne(list[k % pairs], at));
  }
  finish();
}

async function fanout(): Promise<void> {
  const members = spec.members ?? 1;
  const first = spec.firstMember ?? 0;
  const groupId = spec.groupId ?? `${spec.runId}-g`;
  const conns: Conn[] = new Array(members);
  const acks = new NumberQueue();
  const join = frame(7, { groupId });
  const heartbeat = frame(13, {});
  await pool(members, 32, async (i) => {
    const c = await connectAndLogin(`${spec.runId}-m${first + i}`);
    conns[i] = c;
    // Requests are handled in order: the heartbeat's reply means the join is done.
    const done = c.expect(13);
    c.send(join);
    c.send(heartbeat);
    await done;
    c.handler = (cmd, buf, start, end) => {
      if (cmd === 11) {
        const t = wallMs();
        const s = statsAt(t);
        if (s) {
          s.delivered++;
          s.latency.add(t - stampOf(buf, start, end));
        }
      } else if (cmd === 12) {
        const t = wallMs();
        const at = acks.shift();
        const code = codeOf(buf, start);
        if (code !== 10000 && code !== 10001) countError(t);
        const s = statsAt(t);
        if (s) {
          s.acked++;
          s.ackLatency.add(t - at);
        }
      }
    };
  });
  await waitGo();
  if (first === 0) {
    const sender = conns[0];
    const t = chatTemplate(`"groupId":"${groupId}"`);
    await pacedPhases((_k, at) => {
      const f = t.bytes.slice();
      writeStamp(f, t.stampAt, at);
      sender.send(f);
      if (spec.server === "jim") acks.push(at);
      const s = statsAt(at);
      if (s) s.sent++;
    });
  } else {
    await sleepUntil(measureEnd + 500);
  }
  finish();
}

async function loginStorm(): Promise<void> {
  const users = spec.users ?? 100;
  const kind = spec.login ?? "token";
  const frames: Uint8Array[] = new Array(users);
  const ids = Array.from({ length: users }, (_, i) => `${spec.runId}-l${spec.gen}-${i}`);
  if (spec.server === "jim") {
    // Accounts first (registered by their first password login), and a cmd 21 token each.
    await pool(users, 16, async (i) => {
      const c = await connectAndLogin(ids[i]);
      if (kind === "token") {
        const reply = c.expect(22);
        c.send(frame(21, {}));
        const body = JSON.parse(decoder.decode(await reply));
        frames[i] = frame(5, { token: body.data.token });
      } else {
        frames[i] = frame(5, { userId: ids[i], password: PASSWORD });
      }
      c.close();
    });
  } else {
    for (let i = 0; i < users; i++) frames[i] = frame(5, { userId: ids[i], password: PASSWORD });
  }
  await waitGo();
  let next = 0;
  const worker = async () => {
    while (wallMs() < measureEnd) {
      const f = frames[next++ % users];
      const t0 = wallMs();
      try {
        const c = await Conn.open();
        const reply = c.expect(6, spec.loginTimeoutMs);
        c.send(f);
        const code = codeOf(await reply, 0);
        c.close();
        const t = wallMs();
        if (code !== 10007) countError(t);
        else {
          const s = statsAt(t);
          if (s) {
            s.completed++;
            s.latency.add(t - t0);
          }
        }
      } catch {
        countError(wallMs());
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency ?? 32 }, worker));
  finish({ login: kind });
}

async function history(): Promise<void> {
  const n = spec.conversations ?? 1;
  const first = spec.firstConversation ?? 0;
  const length = spec.conversationLength ?? 1000;
  const page = spec.page ?? 20;
  const query = spec.query ?? "history";
  const conns: { c: Conn; me: string; peer: string; sentAt: NumberQueue }[] = [];
  const HAS_MESSAGE = new TextEncoder().encode('"content"');
  const replyCmd = query === "history" ? 20 : 24;
  const okCode = query === "history" ? 10018 : 10033;
  await pool(n, 16, async (i) => {
    const me = `h${2 * (first + i)}`;
    const peer = `h${2 * (first + i) + 1}`;
    const c = await connectAndLogin(me);
    const entry = { c, me, peer, sentAt: new NumberQueue() };
    conns.push(entry);
    c.handler = (cmd, buf, start, end) => {
      if (cmd !== replyCmd) return;
      const t = wallMs();
      const at = entry.sentAt.shift();
      if (spec.server === "jim" && codeOf(buf, start) !== okCode) countError(t);
      const s = statsAt(t);
      if (s) {
        s.completed++;
        s.replyBytes += end - start;
        s.latency.add(t - at);
        if (spec.server === "jim" && indexOf(buf, HAS_MESSAGE, start, end) < 0) s.emptyReplies++;
      }
    };
  });
  await waitGo();
  await pacedPhases((k, at) => {
    const e = conns[k % conns.length];
    const pos = Math.floor(Math.random() * Math.max(1, length - page));
    const body = query === "history"
      ? { type: 1, userId: e.me, fromUserId: e.peer, offset: pos, count: page }
      : { peer: e.peer, beforeSeq: pos + page + 1, limit: page };
    e.c.send(frame(query === "history" ? 19 : 23, body));
    e.sentAt.push(at);
    const s = statsAt(at);
    if (s) s.sent++;
  });
  finish({ query });
}

async function idle(): Promise<void> {
  const total = spec.conns ?? 100;
  const steps = spec.steps?.length ? spec.steps : [total];
  const conns: Conn[] = [];
  let failed = 0;
  let dropped = 0;
  let made = 0;
  for (const step of steps) {
    const want = Math.min(step, total) - made;
    if (want > 0) {
      await pool(want, 64, async () => {
        const k = made++;
        try {
          const c = await connectAndLogin(`${spec.runId}-i${spec.gen}-${k}`);
          c.onClose = () => dropped++;
          conns.push(c);
        } catch {
          failed++;
        }
      });
    }
    emit({ event: "held", gen: spec.gen, held: conns.length - dropped, failed, dropped });
    const msg = await control();
    if (msg.stop) break;
  }
  const held = conns.length - dropped;
  for (const c of conns) {
    c.onClose = undefined;
    c.close();
  }
  finish({ held, failed, dropped });
}

const modes = { chat, fanout, login: loginStorm, history, idle };
try {
  await modes[spec.mode]();
} catch (err) {
  console.error(`load generator ${spec.gen} (${spec.mode}): ${err instanceof Error ? err.stack : err}`);
  Deno.exit(1);
}
