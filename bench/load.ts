/**
 * Load generator (runs as its own process, pinned to its own core by bench/run.ts).
 * 1:1 chat over J-IM TCP: `pairs` sender→receiver pairs, each sender keeps `window` messages in
 * flight; latency is send → delivery, measured in this process (both ends live here).
 *
 *   deno run --allow-net bench/load.ts '{"port":8888,"mode":"jim","pairs":50,"seconds":5,"window":8}'
 */
import { encodeTcpFrame, TcpFrameDecoder } from "../src/protocol/frame.ts";

interface LoadOptions {
  port: number;
  /** "jim" logs in and waits for acks; "relay" only counts deliveries. */
  mode: "jim" | "relay";
  pairs: number;
  seconds: number;
  window: number;
  /** Message content size in bytes. */
  size: number;
  runId: string;
}

const opts: LoadOptions = {
  pairs: 50,
  seconds: 5,
  window: 8,
  size: 100,
  runId: "r",
  ...JSON.parse(Deno.args[0]),
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Conn {
  readonly conn: Deno.TcpConn;
  readonly #frames = new TcpFrameDecoder(16 * 1024 * 1024);
  onFrame: (cmd: number, body: Uint8Array) => void = () => {};
  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    conn.setNoDelay(true);
  }
  async write(bytes: Uint8Array) {
    for (let w = 0; w < bytes.length;) w += await this.conn.write(bytes.subarray(w));
  }
  async readLoop() {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) return;
        for (const f of this.#frames.push(buf.subarray(0, n))) this.onFrame(f.cmd, f.body);
      }
    } catch {
      // closed at the end of the run
    }
  }
}

async function connect(): Promise<Conn> {
  return new Conn(await Deno.connect({ hostname: "127.0.0.1", port: opts.port }));
}

function frame(cmd: number, body: unknown): Uint8Array {
  return encodeTcpFrame(cmd, encoder.encode(JSON.stringify(body)));
}

async function login(c: Conn, userId: string): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    c.onFrame = (cmd, body) => {
      if (cmd !== 6) return;
      const reply = JSON.parse(decoder.decode(body));
      reply.code === 10007 ? resolve() : reject(new Error(`login ${userId}: ${JSON.stringify(reply)}`));
    };
  });
  await c.write(frame(5, { userId, password: "bench" }));
  await done;
}

const latencies: number[] = [];
let delivered = 0;
let acked = 0;
let errors = 0;
let stopAt = 0;

/** Connects a pair; pairs are connected one after another so the relay pairs them correctly. */
async function connectPair(): Promise<[Conn, Conn]> {
  const sender = await connect();
  const receiver = await connect();
  return [sender, receiver];
}

async function runPair(i: number, sender: Conn, receiver: Conn): Promise<void> {
  const from = `${opts.runId}-s${i}`;
  const to = `${opts.runId}-r${i}`;
  sender.readLoop();
  receiver.readLoop();
  if (opts.mode === "jim") {
    await login(receiver, to);
    await login(sender, from);
  }
  const pad = "x".repeat(Math.max(0, opts.size - 20));
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const release = () => {
    inFlight--;
    wake?.();
  };
  receiver.onFrame = (cmd, body) => {
    if (cmd !== 11) return;
    const text = decoder.decode(body);
    const at = text.indexOf('"content":"');
    const sentAt = Number(text.slice(at + 11, text.indexOf("|", at)));
    latencies.push(performance.now() - sentAt);
    delivered++;
    if (opts.mode === "relay") release();
  };
  sender.onFrame = (cmd, body) => {
    if (cmd !== 12) return;
    if (body[9] !== 0x30 || body[10] !== 0x30 || body[11] !== 0x30) errors++; // not 10000
    acked++;
    release();
  };
  while (performance.now() < stopAt) {
    while (inFlight >= opts.window && performance.now() < stopAt) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    if (inFlight >= opts.window) break;
    inFlight++;
    const content = `${performance.now()}|${pad}`;
    await sender.write(frame(11, { chatType: 2, to, msgType: 0, content }));
  }
  await new Promise((r) => setTimeout(r, 300));
  sender.conn.close();
  receiver.conn.close();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

// Connect everyone, give logins a head start, then measure a fixed window.
const conns: [Conn, Conn][] = [];
for (let i = 0; i < opts.pairs; i++) conns.push(await connectPair());
const started = performance.now() + 500;
stopAt = started + opts.seconds * 1000;
const runs = conns.map(([s, r], i) => runPair(i, s, r));
await new Promise((r) => setTimeout(r, Math.max(0, started - performance.now())));
const deliveredAtStart = delivered;
const latencyStart = latencies.length;
await new Promise((r) => setTimeout(r, Math.max(0, stopAt - performance.now())));
const measuredDelivered = delivered - deliveredAtStart;
const measured = latencies.slice(latencyStart).sort((a, b) => a - b);
await Promise.all(runs);
console.log(JSON.stringify({
  mode: opts.mode,
  pairs: opts.pairs,
  window: opts.window,
  seconds: opts.seconds,
  delivered: measuredDelivered,
  rate: measuredDelivered / opts.seconds,
  acked,
  errors,
  p50: percentile(measured, 0.5),
  p99: percentile(measured, 0.99),
  p999: percentile(measured, 0.999),
}));
Deno.exit(0);
