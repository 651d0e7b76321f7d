/** Runs jim as a child process exactly as `deno task start` does (same permission flags). */
import { startTaskPermissions } from "../scripts/compile.ts";

const ROOT = new URL("..", import.meta.url).pathname;

export interface JimProcess {
  child: Deno.ChildProcess;
  port: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * The process tests exercise one event loop unless they pass `--workers` (a flag beats the
 * environment); tests/e2e_workers_test.ts covers several.
 */
const ONE_LOOP = { JIM_WORKERS: "1" };

export async function permissionFlags(): Promise<string[]> {
  return startTaskPermissions(await Deno.readTextFile(`${ROOT}/deno.json`));
}

/** Runs `main.ts ARGS` to completion and returns its output (for --help, version…). */
export async function runJim(args: string[], env: Record<string, string> = {}): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["run", ...await permissionFlags(), `${ROOT}/main.ts`, ...args],
    env: { ...ONE_LOOP, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

/** Starts jim on a free port and waits for its server.started log line. */
export async function spawnJim(args: string[], env: Record<string, string> = {}): Promise<JimProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...await permissionFlags(),
      `${ROOT}/main.ts`,
      // deno task passes a literal "--" first: keep it there, as in `deno task start -- --port 9000`.
      ...(args[0] === "--" ? ["--"] : []),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log-format",
      "json",
      ...(args[0] === "--" ? args.slice(1) : args),
    ],
    env: { ...ONE_LOOP, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  const { promise: portPromise, resolve: resolvePort, reject: rejectPort } = Promise.withResolvers<number>();
  (async () => {
    const decoder = new TextDecoder();
    let started = false;
    for await (const chunk of child.stderr) {
      err += decoder.decode(chunk, { stream: true });
      // Only until the line is found: matching the whole, ever longer log on every chunk made a
      // long-running child's output cost quadratic time (tests/fuzz_test.ts logs megabytes).
      if (started) continue;
      const m = err.match(/"event":"server.started","main":"[^"]*:(\d+)"/);
      if (m) {
        started = true;
        resolvePort(Number(m[1]));
      }
    }
    rejectPort(new Error(`jim exited before listening:\n${err}`));
  })();
  child.stdout.cancel();
  const timer = setTimeout(() => rejectPort(new Error(`jim did not start:\n${err}`)), 20_000);
  const port = await portPromise.finally(() => clearTimeout(timer));
  return {
    child,
    port,
    stderr: () => err,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      return await child.status;
    },
  };
}
