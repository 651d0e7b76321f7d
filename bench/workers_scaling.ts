/**
 * --workers scaling: the same 1:1 chat load (bench/load.ts) against jim with 1 and with 2 IO
 * workers, alternating, several runs each; reports delivered msg/s and the server's CPU time
 * per thread (from /proc/PID/task/*, Linux), so a run limited by cores shows where the CPU went.
 * Nothing is pinned: on a 2-core machine the generator competes with the workers for the cores.
 *
 *   deno run -A bench/workers_scaling.ts [pairs=200] [seconds=5] [repeat=3] [window=8]
 */
const ROOT = new URL("..", import.meta.url).pathname;
const [pairs = 200, seconds = 5, repeat = 3, window = 8] = Deno.args.filter((a) => a !== "--").map(Number);

/** utime+stime ticks (10 ms) of every thread of `pid`, by thread name. */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const key = `${name}#${task.name}`;
      out.set(key, Number(f[11]) + Number(f[12]));
    } catch {
      // thread gone
    }
  }
  return out;
}

async function startJim(workers: number, dataDir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "-A",
      `${ROOT}main.ts`,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--workers",
      String(workers),
      "--data-dir",
      dataDir,
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
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port = 0;
  while (!port) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`jim did not start: ${text}`);
    text += value;
    port = Number(text.match(/"event":"server.started","main":"[^"]*:(\d+)"/)?.[1] ?? 0);
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { child, port };
}

interface Row {
  workers: number;
  rate: number;
  p99: number;
  errors: number;
  cpuSeconds: number;
  threads: [string, number][];
}

const rows: Row[] = [];
for (let run = 0; run < repeat; run++) {
  for (const workers of [1, 2]) {
    const dataDir = await Deno.makeTempDir({ prefix: "jim-scaling-" });
    const { child, port } = await startJim(workers, dataDir);
    try {
      const before = threadTicks(child.pid);
      const spec = JSON.stringify({
        port,
        mode: "jim",
        pairs,
        seconds,
        window,
        size: 100,
        runId: `s${run}w${workers}`,
      });
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-net", `${ROOT}bench/load.ts`, spec],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const after = threadTicks(child.pid);
      const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
      const threads: [string, number][] = [...after]
        .map(([k, v]): [string, number] => [k, (v - (before.get(k) ?? 0)) / 100])
        .filter(([, s]) => s >= 0.05)
        .sort((a, b) => b[1] - a[1]);
      const cpuSeconds = threads.reduce((s, [, v]) => s + v, 0);
      rows.push({ workers, rate: result.rate, p99: result.p99, errors: result.errors, cpuSeconds, threads });
      console.error(
        `run ${run + 1} workers=${workers}: ${result.rate.toFixed(0)} msg/s, p99 ${
          result.p99.toFixed(1)
        } ms, ` +
          `errors ${result.errors}, server CPU ${cpuSeconds.toFixed(2)} s: ` +
          threads.map(([k, v]) => `${k.split("#")[0]}=${v.toFixed(2)}`).join(" "),
      );
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (w: number) => {
  const r = rows.filter((x) => x.workers === w);
  return {
    rate: median(r.map((x) => x.rate)),
    p99: median(r.map((x) => x.p99)),
    cpu: median(r.map((x) => x.cpuSeconds)),
  };
};
const one = summary(1);
const two = summary(2);
console.log(JSON.stringify({
  cores: navigator.hardwareConcurrency,
  pairs,
  seconds,
  window,
  repeat,
  one,
  two,
  ratio: two.rate / one.rate,
}));
