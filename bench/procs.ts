/**
 * Processes of a benchmark run: servers (jim or the relay) pinned to core 0, load generators
 * pinned to core 1 (taskset; the pin covers every thread of a process, including jim's SQLite
 * worker thread), and what /proc says about them: CPU time (utime + stime, summed over all
 * threads) and resident memory (VmRSS).
 */
import type { LoadSpec } from "./load.ts";
import { wallMs } from "./wire.ts";

export const ROOT = new URL("..", import.meta.url).pathname;
export const cores = navigator.hardwareConcurrency;
export const hasTaskset = await new Deno.Command("taskset", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);
export const pinning = hasTaskset && cores > 1;

/** Prefixes `taskset -c CORES` when pinning is possible; `cores` undefined = not pinned. */
export function pinned(coreList: string | undefined, args: string[]): [string, string[]] {
  return pinning && coreList !== undefined
    ? ["taskset", ["-c", coreList, ...args]]
    : [args[0], args.slice(1)];
}

/** CPU seconds (utime + stime of all threads) of a process; NaN once it is gone. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ = 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * A process's CPU seconds split by thread: the main thread (jim's event loop), Deno worker
 * threads (named "worker-N" by the runtime: jim's SQLite store worker, and the IO workers of
 * --workers) and the rest (V8's GC helpers, the runtime's I/O threads).
 */
export async function threadCpuSeconds(
  pid: number,
): Promise<{ main: number; workers: number; other: number }> {
  const split = { main: 0, workers: 0, other: 0 };
  try {
    for await (const entry of Deno.readDir(`/proc/${pid}/task`)) {
      const tid = Number(entry.name);
      const [stat, comm] = await Promise.all([
        Deno.readTextFile(`/proc/${pid}/task/${tid}/stat`),
        Deno.readTextFile(`/proc/${pid}/task/${tid}/comm`),
      ]);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const s = (Number(fields[11]) + Number(fields[12])) / 100;
      if (tid === pid) split.main += s;
      else if (comm.startsWith("worker-")) split.workers += s;
      else split.other += s;
    }
  } catch {
    // the process or a thread ended meanwhile
  }
  return split;
}

/** VmRSS of a process in KiB. */
export async function rssKiB(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Busy and total jiffies of each CPU (from /proc/stat), to tell how busy a core was overall. */
export async function coreJiffies(): Promise<{ busy: number; total: number }[]> {
  const stat = await Deno.readTextFile("/proc/stat").catch(() => "");
  return stat.split("\n").filter((l) => /^cpu\d+ /.test(l)).map((l) => {
    const f = l.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  });
}

export async function memAvailableMiB(): Promise<number> {
  const info = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  return Number(info.match(/MemAvailable:\s+(\d+)/)?.[1] ?? NaN) / 1024;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Flags every benchmarked jim gets: a benchmark from one IP would trip the abuse limits. */
export const JIM_BENCH_FLAGS = [
  "--password-iterations",
  "1000",
  "--log-format",
  "json",
  "--rate-per-connection",
  "0",
  "--rate-per-user",
  "0",
  "--connect-rate-per-ip",
  "0",
  "--max-connections-per-ip",
  "0",
  "--max-sessions-per-user",
  "0",
  "--login-failures-per-ip",
  "0",
  "--login-failures-per-user",
  "0",
];

export interface Server {
  kind: "jim" | "relay";
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  dataDir?: string;
  /** Extra jim flags (a scenario's own, e.g. --workers 2). */
  flags?: string[];
  /** taskset core list; default "0". */
  cores?: string;
  /** Relay: bytes of its fixed history reply. */
  replyBytes?: number;
  port?: number;
  /**
   * Starts the server with the V8 inspector on 127.0.0.1:<port>, so that fullGc() can collect
   * garbage before a memory reading (the idle scenario).
   */
  inspectPort?: number;
}

export async function startServer(kind: "jim" | "relay", options: ServerOptions = {}): Promise<Server> {
  const deno = Deno.execPath();
  const args = kind === "relay"
    ? [
      deno,
      "run",
      ...inspectFlag(options),
      "--allow-net",
      `${ROOT}bench/relay.ts`,
      String(options.port ?? 0),
      String(options.replyBytes ?? 4096),
    ]
    : [
      deno,
      "run",
      ...inspectFlag(options),
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      // --workers shares the port between threads (SO_REUSEPORT), which Deno calls unstable.
      ...(options.flags?.includes("--workers") ? ["--unstable-net"] : []),
      `${ROOT}main.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port ?? 0),
      "--data-dir",
      options.dataDir!,
      ...JIM_BENCH_FLAGS,
      ...(options.flags ?? []),
    ];
  const [cmd, cmdArgs] = pinned(options.cores ?? "0", args);
  const child = new Deno.Command(cmd, { args: cmdArgs, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  // The relay announces its port on stdout, jim in its JSON log on stderr; both keep being read
  // so that a full pipe never blocks a server.
  let text = "";
  let port = 0;
  const found = new Promise<void>((resolve) => {
    const watch = async (stream: ReadableStream<Uint8Array<ArrayBuffer>>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        if (!port) {
          text += chunk;
          const m = text.match(/"port":(\d+)/) ?? text.match(/"main":"[^"]*:(\d+)"/);
          if (m) {
            port = Number(m[1]);
            resolve();
          }
        }
      }
      resolve();
    };
    watch(child.stdout);
    watch(child.stderr);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([found, new Promise((r) => timer = setTimeout(r, 30_000))]);
  clearTimeout(timer);
  if (!port) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`${kind} did not start: ${text.slice(0, 2000)}`);
  }
  return {
    kind,
    pid: child.pid,
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 10_000);
      await child.status;
      clearTimeout(t);
    },
  };
}

function inspectFlag(options: ServerOptions): string[] {
  return options.inspectPort ? [`--inspect=127.0.0.1:${options.inspectPort}`] : [];
}

/**
 * A full garbage collection in a server started with `inspectPort`, through the DevTools
 * protocol (HeapProfiler.collectGarbage): RSS read afterwards counts what the connections keep,
 * not garbage the collector has not got to yet.
 */
export async function fullGc(inspectPort: number): Promise<void> {
  const targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("inspector connection failed"));
    });
    // Three rounds with a pause between: objects kept by weak references and finalization
    // registries (some of the runtime's own) are only freed by a later collection.
    for (let id = 1; id <= 3; id++) {
      await new Promise<void>((resolve, reject) => {
        ws.onmessage = (e) => JSON.parse(e.data).id === id ? resolve() : undefined;
        ws.onclose = () => reject(new Error("inspector closed"));
        ws.send(JSON.stringify({ id, method: "HeapProfiler.collectGarbage" }));
      });
      await sleep(300);
    }
  } finally {
    ws.onclose = null;
    ws.close();
  }
}

/** Whether jim's --help lists a flag (e.g. --workers, which lands separately). */
export async function jimHasFlag(flag: string): Promise<boolean> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", `${ROOT}main.ts`, "--help"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).includes(flag);
}

/** One load generator process. */
export class Generator {
  readonly pid: number;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #events: Record<string, unknown>[] = [];
  #wake?: () => void;
  #stderr = "";
  #ended = false;

  constructor(spec: LoadSpec, coreList = "1") {
    const [cmd, args] = pinned(coreList, [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--v8-flags=--max-old-space-size=4096",
      `${ROOT}bench/load.ts`,
      JSON.stringify(spec),
    ]);
    const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    this.#child = child;
    this.pid = child.pid;
    this.#stdin = child.stdin.getWriter();
    (async () => {
      let text = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        let nl;
        while ((nl = text.indexOf("\n")) >= 0) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          try {
            this.#events.push(JSON.parse(line));
          } catch {
            // not ours
          }
          this.#wake?.();
        }
      }
      this.#ended = true;
      this.#wake?.();
    })();
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-4000);
      }
    })();
  }

  /** The next event line of this type (earlier ones of other types are dropped). */
  async next(event: string, timeoutMs = 300_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#events.findIndex((e) => e.event === event);
      if (i >= 0) return this.#events.splice(0, i + 1)[i];
      if (this.#ended) throw new Error(`load generator exited without "${event}": ${this.#stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${event}" from the load generator: ${this.#stderr}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#wake = r),
        new Promise((r) => timer = setTimeout(r, 1000)),
      ]);
      clearTimeout(timer);
    }
  }

  async send(msg: Record<string, unknown>): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(JSON.stringify(msg) + "\n"));
  }

  async close(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch {
      // gone
    }
    const t = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, 30_000);
    await this.#child.status;
    clearTimeout(t);
  }
}

export interface Window {
  /** CPU seconds the server used in the measured window, and as a share of one core. */
  serverCpuS: number;
  serverCpuPct: number;
  /** The same for all generator processes together (they share core 1). */
  genCpuS: number;
  genCpuPct: number;
  /** How busy cores 0 and 1 were in the window, whoever used them (the machine is shared). */
  core0BusyPct: number;
  core1BusyPct: number;
  seconds: number;
  /** serverCpuS split: the main thread, Deno worker threads (the store worker), the rest. */
  serverThreads: { main: number; workers: number; other: number };
}

export interface Measured {
  results: Record<string, unknown>[];
  /** One per phase (see LoadSpec.rates). */
  windows: Window[];
}

/**
 * Runs generators against one server: waits until all are ready, starts them together, reads
 * the CPU time of the server and of the generators over each phase's measured window (the
 * windows of bench/load.ts), collects the results.
 */
export async function measure(serverPid: number, specs: LoadSpec[]): Promise<Measured> {
  const gens = specs.map((s) => new Generator(s));
  try {
    await Promise.all(gens.map((g) => g.next("ready")));
    const go = wallMs() + 300;
    await Promise.all(gens.map((g) => g.send({ go })));
    const { warmupMs, seconds } = specs[0];
    const phases = specs[0].rates?.length ?? 1;
    const period = warmupMs + seconds * 1000 + (specs[0].gapMs ?? 1000);
    const windows: Window[] = [];
    for (let i = 0; i < phases; i++) {
      await sleep(go + i * period + warmupMs - wallMs());
      const s0 = await cpuSeconds(serverPid);
      const t0Threads = await threadCpuSeconds(serverPid);
      const g0 = await Promise.all(gens.map((g) => cpuSeconds(g.pid)));
      const c0 = await coreJiffies();
      const t0 = wallMs();
      await sleep(go + i * period + warmupMs + seconds * 1000 - wallMs());
      const s1 = await cpuSeconds(serverPid);
      const t1Threads = await threadCpuSeconds(serverPid);
      const g1 = await Promise.all(gens.map((g) => cpuSeconds(g.pid)));
      const c1 = await coreJiffies();
      const busy = (core: number) =>
        c0[core] && c1[core]
          ? ((c1[core].busy - c0[core].busy) / Math.max(1, c1[core].total - c0[core].total)) * 100
          : NaN;
      const wall = (wallMs() - t0) / 1000;
      const genCpuS = g1.reduce((s, x, j) => s + x - g0[j], 0);
      windows.push({
        serverCpuS: s1 - s0,
        serverCpuPct: ((s1 - s0) / wall) * 100,
        genCpuS,
        genCpuPct: (genCpuS / wall) * 100,
        core0BusyPct: busy(0),
        core1BusyPct: busy(1),
        seconds: wall,
        serverThreads: {
          main: t1Threads.main - t0Threads.main,
          workers: t1Threads.workers - t0Threads.workers,
          other: t1Threads.other - t0Threads.other,
        },
      });
    }
    const results = await Promise.all(gens.map((g) => g.next("result")));
    return { results, windows };
  } finally {
    await Promise.all(gens.map((g) => g.close()));
  }
}
