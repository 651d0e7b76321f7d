/**
 * Store micro-benchmark (not a test): appends N messages from the main thread through
 * (a) SqliteStore in-process and (b) WorkerStore (the same SqliteStore in a Worker), with up to
 * `--concurrency` appends in flight (like that many connections each waiting for its ack). For
 * each run it reports rows/s, the ack latency and the main thread's event-loop lag: how late a
 * 1 ms setInterval fired (max and p99), which is what every socket on the server would feel. An
 * idle run of the same monitor gives this machine's floor for that figure.
 *
 *   deno run -A bench/store_bench.ts [--messages 50000] [--concurrency 512] [--conversations 100]
 *     [--commit-interval 2] [--max-batch 512] [--repeat 1] [--dir DIR] [--json-only]
 *
 * The database goes to a fresh temp directory under --dir (default: the system temp dir); put it
 * on the disk the server would use, since fsync cost is most of a commit.
 */
import { parseArgs } from "node:util";
import type { NewMessage, Store } from "../src/store/store.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite_store.ts";
import { WorkerStore } from "../src/store/worker/worker_store.ts";

const { values } = parseArgs({
  args: Deno.args.filter((a) => a !== "--"),
  options: {
    messages: { type: "string", default: "50000" },
    concurrency: { type: "string", default: "512" },
    conversations: { type: "string", default: "100" },
    "commit-interval": { type: "string", default: "2" },
    "max-batch": { type: "string", default: "512" },
    repeat: { type: "string", default: "1" },
    dir: { type: "string" },
    "json-only": { type: "boolean", default: false },
  },
});
const N = Number(values.messages);
const CONCURRENCY = Math.max(1, Number(values.concurrency));
const CONVERSATIONS = Math.max(1, Number(values.conversations));
const COMMIT_INTERVAL = Number(values["commit-interval"]);
const MAX_BATCH = Number(values["max-batch"]);
const REPEAT = Math.max(1, Number(values.repeat));

type Mode = "sqlite (main thread)" | "worker(sqlite)";

interface Result {
  mode: Mode;
  messages: number;
  seconds: number;
  rowsPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  lagMaxMs: number;
  lagP99Ms: number;
  /** Size of the -wal file at the end of the run (before close). */
  walBytes: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function message(i: number): NewMessage {
  const c = i % CONVERSATIONS;
  return {
    id: `m${i}`,
    chatType: 2,
    from: `u${c}a`,
    to: `u${c}b`,
    msgType: 0,
    content: `message number ${i}, a typical short chat line`,
    createTime: 1_700_000_000_000 + i,
  };
}

/** Samples how late a 1 ms interval fires on this thread. */
function startLagMonitor() {
  const lags: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - last - 1));
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    // The final gap (from the last tick to now) counts too: a stall at the end is still a stall.
    lags.push(Math.max(0, performance.now() - last - 1));
    return Float64Array.from(lags).sort();
  };
}

/**
 * A macrotask hop, like a socket read between one ack and the client's next message. Without it
 * the acks of a batch start the next appends in the same microtask run, and a 1 ms timer would
 * never get a turn while the main-thread store is busy: not how a server is driven.
 */
function macrotasks() {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()!();
  return {
    hop: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(null);
      }),
    close: () => {
      channel.port1.close();
      channel.port2.close();
    },
  };
}

async function open(mode: Mode, path: string): Promise<Store> {
  const options = { path, commitIntervalMs: COMMIT_INTERVAL, maxBatch: MAX_BATCH };
  return mode === "worker(sqlite)" ? await WorkerStore.open(options) : await SqliteStore.open(options);
}

async function run(mode: Mode): Promise<Result> {
  const dir = await Deno.makeTempDir({ dir: values.dir, prefix: "jim-store-bench-" });
  const path = `${dir}/bench.db`;
  const store = await open(mode, path);
  try {
    const acks = new Float64Array(N);
    let next = 0;
    const network = macrotasks();
    const client = async () => {
      while (next < N) {
        const i = next++;
        const m = message(i);
        const t0 = performance.now();
        await store.appendMessage(m, [m.to!]);
        acks[i] = performance.now() - t0;
        await network.hop();
      }
    };
    const stopLag = startLagMonitor();
    const start = performance.now();
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, N) }, client));
    const seconds = (performance.now() - start) / 1000;
    const lags = stopLag();
    network.close();
    const walBytes = await Deno.stat(`${path}-wal`).then((s) => s.size, () => 0);
    acks.sort();
    return {
      mode,
      messages: N,
      seconds: round(seconds, 3),
      rowsPerSecond: Math.round(N / seconds),
      ackP50Ms: round(percentile(acks, 0.5)),
      ackP99Ms: round(percentile(acks, 0.99)),
      ackMaxMs: round(acks[acks.length - 1] ?? 0),
      lagMaxMs: round(lags[lags.length - 1] ?? 0),
      lagP99Ms: round(percentile(lags, 0.99)),
      walBytes,
    };
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The lag floor of this machine: the same monitor with nothing else running, for one second. */
async function idleLag(): Promise<{ lagP99Ms: number; lagMaxMs: number }> {
  const stop = startLagMonitor();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const lags = stop();
  return { lagP99Ms: round(percentile(lags, 0.99)), lagMaxMs: round(lags[lags.length - 1] ?? 0) };
}

const idle = await idleLag();
const results: Result[] = [];
for (let r = 0; r < REPEAT; r++) {
  for (const mode of ["sqlite (main thread)", "worker(sqlite)"] as const) results.push(await run(mode));
}

const report = {
  config: {
    messages: N,
    concurrency: CONCURRENCY,
    conversations: CONVERSATIONS,
    commitIntervalMs: COMMIT_INTERVAL,
    maxBatch: MAX_BATCH,
    repeat: REPEAT,
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
  },
  idle,
  results,
};
console.log(JSON.stringify(report));
if (!values["json-only"]) {
  const cols = [
    "mode",
    "rowsPerSecond",
    "ackP50Ms",
    "ackP99Ms",
    "ackMaxMs",
    "lagP99Ms",
    "lagMaxMs",
    "walBytes",
  ] as const;
  console.log(`\n| ${cols.join(" | ")} |\n|${cols.map(() => "---").join("|")}|`);
  for (const r of results) console.log(`| ${cols.map((c) => r[c]).join(" | ")} |`);
  console.log(`\nidle event-loop lag (no store, 1 s): p99 ${idle.lagP99Ms} ms, max ${idle.lagMaxMs} ms`);
}
