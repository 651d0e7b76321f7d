/**
 * Benchmark runner: starts the baseline relay and jim pinned to core 0, the load generator
 * pinned to core 1 (taskset), repeats each scenario, reads server CPU from /proc/PID/stat and
 * writes bench/results/latest.json and latest.md. Each jim figure is also given as a ratio to
 * the relay measured in the same run (absolute numbers drift on a shared machine).
 *
 *   deno task bench [--seconds 5] [--repeat 3] [--pairs 50] [--smoke]
 */
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args.filter((a) => a !== "--"),
  options: {
    seconds: { type: "string", default: "5" },
    repeat: { type: "string", default: "3" },
    pairs: { type: "string", default: "50" },
    window: { type: "string", default: "8" },
    smoke: { type: "boolean", default: false },
    out: { type: "string", default: `${ROOT}bench/results` },
  },
});
const seconds = values.smoke ? 1 : Number(values.seconds);
const repeat = values.smoke ? 1 : Number(values.repeat);
const pairs = values.smoke ? 5 : Number(values.pairs);
const window = Number(values.window);
const hasTaskset = await new Deno.Command("taskset", { args: ["-V"], stdout: "null", stderr: "null" })
  .output()
  .then((o) => o.success).catch(() => false);
const cores = navigator.hardwareConcurrency;

function pinned(core: number, args: string[]): [string, string[]] {
  return hasTaskset && cores > 1 ? ["taskset", ["-c", String(core), ...args]] : [args[0], args.slice(1)];
}

/** utime + stime of a process in clock ticks (USER_HZ = 100 on Linux). */
async function cpuTicks(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

interface Server {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

async function startServer(kind: "relay" | "jim", dataDir: string): Promise<Server> {
  const deno = Deno.execPath();
  const args = kind === "relay" ? [deno, "run", "--allow-net", `${ROOT}bench/relay.ts`, "0"] : [
    deno,
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    `${ROOT}main.ts`,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--password-iterations",
    "1000",
    "--log-format",
    "json",
    // A throughput benchmark from one IP: the abuse limits (docs/protocol.md §8) would refuse it.
    "--rate-per-connection",
    "0",
    "--rate-per-user",
    "0",
    "--connect-rate-per-ip",
    "0",
    "--max-connections-per-ip",
    "0",
  ];
  const [cmd, cmdArgs] = pinned(0, args);
  const child = new Deno.Command(cmd, { args: cmdArgs, stdout: "piped", stderr: "piped" }).spawn();
  const stream = kind === "relay" ? child.stdout : child.stderr;
  (kind === "relay" ? child.stderr : child.stdout).cancel();
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port = 0;
  const deadline = Date.now() + 20_000;
  while (!port && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const m = text.match(/"port":(\d+)/) ?? text.match(/"main":"[^"]*:(\d+)"/);
    if (m) port = Number(m[1]);
  }
  if (!port) throw new Error(`${kind} did not start: ${text}`);
  // Keep draining so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return {
    pid: child.pid,
    port,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

interface LoadResult {
  rate: number;
  delivered: number;
  errors: number;
  p50: number;
  p99: number;
  p999: number;
}

async function runLoad(port: number, mode: "relay" | "jim", runId: string): Promise<LoadResult> {
  const spec = JSON.stringify({ port, mode, pairs, seconds, window, size: 100, runId });
  const [cmd, args] = pinned(1, [Deno.execPath(), "run", "--allow-net", `${ROOT}bench/load.ts`, spec]);
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`load generator failed: ${new TextDecoder().decode(out.stderr)}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

interface Row extends LoadResult {
  server: "relay" | "jim";
  run: number;
  cpuPerMsgUs: number;
}

const rows: Row[] = [];
for (let run = 1; run <= repeat; run++) {
  for (const kind of ["relay", "jim"] as const) {
    const dataDir = await Deno.makeTempDir({ prefix: "jim-bench-" });
    const server = await startServer(kind, dataDir);
    try {
      const before = await cpuTicks(server.pid);
      const result = await runLoad(server.port, kind, `b${run}${Date.now()}`);
      const ticks = (await cpuTicks(server.pid)) - before;
      const cpuPerMsgUs = (ticks * 10_000) / Math.max(1, result.delivered);
      rows.push({ server: kind, run, cpuPerMsgUs, ...result });
      console.error(
        `${kind} run ${run}: ${result.rate.toFixed(0)} msg/s, p99 ${
          result.p99.toFixed(2)
        } ms, errors ${result.errors}`,
      );
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  }
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (kind: "relay" | "jim") => {
  const r = rows.filter((x) => x.server === kind);
  return {
    rate: median(r.map((x) => x.rate)),
    p50: median(r.map((x) => x.p50)),
    p99: median(r.map((x) => x.p99)),
    p999: median(r.map((x) => x.p999)),
    cpuPerMsgUs: median(r.map((x) => x.cpuPerMsgUs)),
    errors: r.reduce((s, x) => s + x.errors, 0),
  };
};
const relay = summary("relay");
const jim = summary("jim");
const machine = {
  cores,
  os: Deno.build.os,
  arch: Deno.build.arch,
  deno: Deno.version.deno,
  pinned: hasTaskset && cores > 1,
  date: new Date().toISOString(),
};
const report = {
  scenario: "1:1 chat over J-IM TCP, ack after commit, 100-byte content",
  pairs,
  window,
  seconds,
  repeat,
  machine,
  relay,
  jim,
  ratio: jim.rate / relay.rate,
  rows,
};
const fmt = (n: number, d = 0) => Number.isFinite(n) ? n.toFixed(d) : "–";
const md = `# jim benchmark (${machine.date})

Machine: ${cores} cores, ${machine.os}/${machine.arch}, Deno ${machine.deno}; server pinned to core 0 and load generator
to core 1: ${machine.pinned}. Scenario: ${report.scenario}; ${pairs} pairs, window ${window}, ${seconds} s × ${repeat}
runs (medians).

| server | msg/s | ratio to relay | p50 ms | p99 ms | p99.9 ms | server CPU µs/msg | errors |
|---|---|---|---|---|---|---|---|
| relay (baseline) | ${fmt(relay.rate)} | 1.00 | ${fmt(relay.p50, 2)} | ${fmt(relay.p99, 2)} | ${
  fmt(relay.p999, 2)
} | ${fmt(relay.cpuPerMsgUs, 1)} | ${relay.errors} |
| jim | ${fmt(jim.rate)} | ${fmt(report.ratio, 2)} | ${fmt(jim.p50, 2)} | ${fmt(jim.p99, 2)} | ${
  fmt(jim.p999, 2)
} | ${fmt(jim.cpuPerMsgUs, 1)} | ${jim.errors} |
`;
await Deno.mkdir(values.out!, { recursive: true });
const name = values.smoke ? "smoke" : "latest";
await Deno.writeTextFile(`${values.out}/${name}.json`, JSON.stringify(report, null, 2) + "\n");
await Deno.writeTextFile(`${values.out}/${name}.md`, md);
console.log(md);
