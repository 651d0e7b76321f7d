/**
 * `--workers N` (N > 1): the main thread becomes a supervisor. It holds the data dir lock, opens
 * the one store worker (the SQLite database: seqs, dedup and every write in one place), runs the
 * background jobs once, and starts N IO workers (io_worker.ts) that share the ports through
 * SO_REUSEPORT, each with its own MessagePort to the store and its ends of the bus mesh. With a
 * port of 0 the first worker binds a free port and the others bind the same one.
 *
 * Signals: SIGTERM / SIGINT stop every worker gracefully (each drains its connections within
 * --shutdown-timeout; a second signal hurries them), then the store; SIGHUP re-reads the
 * configuration and hands it to every worker (log level, limits, TLS certificate, as with one
 * event loop). A worker that dies stops the
 * others and the process exits 1: a supervisor that restarts workers would have to rebuild
 * their users' presence, and systemd restarts the whole process faster and more simply.
 */
import { databasePath } from "../app.ts";
import type { JimConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { createPortMesh } from "../cluster/port_bus.ts";
import { OPEN_MODE_BANNER, OPEN_MODE_WARNING } from "../services/auth/open.ts";
import { RetentionJob, serverRetentionOptions } from "../services/retention.ts";
import { acquireDataDirLock, DataDirLockedError } from "../store/data_dir_lock.ts";
import { WorkerStore } from "../store/worker/worker_store.ts";
import type { FromWorker, ToWorker, WorkerAddrs } from "./worker_messages.ts";

/** Beyond --shutdown-timeout: how long a worker may take to close its store port and answer. */
const STOP_GUARD_MS = 5_000;
/** After a death: the workers may be waiting on a dead store, so they get less time. */
const FATAL_STOP_TIMEOUT_MS = 2_000;

export interface RunWorkersOptions {
  /** The IO worker module (tests substitute one); io_worker.ts by default. */
  workerUrl?: URL;
  /**
   * SIGHUP: the configuration read again (file and environment; flags as given), or undefined
   * when it has problems (the callback logs them and nothing changes).
   */
  reloadConfig?: () => JimConfig | undefined;
}

/**
 * A worker's configuration: the configured one, with the ports the first worker bound (the
 * same as configured unless a port was 0) so that every worker shares the same sockets.
 */
function withBoundPorts(config: JimConfig, addrs: WorkerAddrs | undefined): JimConfig {
  const own = { ...config };
  if (addrs) {
    own.port = addrs.main.port;
    if (addrs.tcp) own.tcpPort = addrs.tcp.port;
    if (addrs.http) own.httpPort = addrs.http.port;
    if (addrs.plain) own.plainPort = addrs.plain.port;
  }
  return own;
}

/** `--workers 0` means one per core. */
export function workerCount(configured: number): number {
  return configured > 0 ? configured : Math.max(1, navigator.hardwareConcurrency || 1);
}

/** Whether this Deno allows SO_REUSEPORT listeners (it needs --unstable-net). */
export function reusePortAvailable(_hostname: string): boolean {
  // Deno exits the process (it does not throw) when reusePort is used without --unstable-net, so
  // probe the flag by an API it enables instead of trying a listener.
  return typeof (Deno as unknown as Record<string, unknown>).listenDatagram === "function";
}

class IoWorker {
  readonly node: string;
  /** Died (an uncaught error): it answers nothing anymore. */
  dead = false;
  readonly #worker: Worker;
  readonly #waiting = new Map<FromWorker["type"], (m: FromWorker) => void>();

  constructor(node: string, url: URL, onDeath: (node: string, reason: string) => void) {
    this.node = node;
    this.#worker = new Worker(url.href, {
      type: "module",
      name: `jim-${node}`,
    });
    this.#worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
      const waiter = this.#waiting.get(data.type === "failed" ? "started" : data.type);
      waiter?.(data);
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.dead = true;
      onDeath(node, event.message || "unknown error");
    };
  }

  /** Posts `message` and waits for the answer of type `answer` (or a `failed` for a start). */
  ask(message: ToWorker, answer: FromWorker["type"], transfer: Transferable[] = []): Promise<FromWorker> {
    const { promise, resolve } = Promise.withResolvers<FromWorker>();
    this.#waiting.set(answer, (m) => {
      this.#waiting.delete(answer);
      resolve(m);
    });
    this.#worker.postMessage(message, transfer);
    return promise;
  }

  /** Posts a message that gets no answer. */
  post(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/**
 * Runs the server with `count` IO workers until a signal stops it (exit code 0) or it cannot
 * start or a worker dies (1). Messages for the operator go to stderr like main.ts's.
 */
export async function runWorkers(
  config: JimConfig,
  count: number,
  log: Logger,
  options: RunWorkersOptions = {},
): Promise<number> {
  const url = options.workerUrl ?? new URL("./io_worker.ts", import.meta.url);
  Deno.mkdirSync(config.dataDir, { recursive: true });
  let lock;
  try {
    lock = acquireDataDirLock(config.dataDir);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      console.error(`jim: cannot start: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const { promise: fatal, resolve: die } = Promise.withResolvers<string>();
  let store: WorkerStore;
  try {
    store = await WorkerStore.open({
      path: databasePath(config),
      onFatal: (error) => die(`store worker: ${error.message}`),
    });
  } catch (err) {
    lock.release();
    console.error(
      `jim: cannot open the data dir ${config.dataDir}: ${err instanceof Error ? err.message : err}`,
    );
    return 1;
  }
  if (config.auth === "open") log.warn("auth.open_mode", { warning: OPEN_MODE_WARNING });

  const nodes = Array.from({ length: count }, (_, i) => `w${i}`);
  const mesh = createPortMesh(nodes);
  const workers = nodes.map((node) =>
    new IoWorker(node, url, (n, reason) => die(`worker ${n} died: ${reason}`))
  );
  const retention = new RetentionJob(store, serverRetentionOptions(config), log);

  const stopAll = async (timeoutMs = config.shutdownTimeout * 1000 + STOP_GUARD_MS) => {
    await retention.stop();
    await Promise.all(workers.map(async (w) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise((r) => timer = setTimeout(r, timeoutMs));
      if (!w.dead) await Promise.race([w.ask({ type: "stop" }, "stopped"), timeout]);
      clearTimeout(timer);
      w.terminate();
    }));
    try {
      await store.close();
    } finally {
      lock.release();
    }
  };

  // Start the first worker, then the others on the ports it bound (the same when configured).
  let addrs: WorkerAddrs | undefined;
  for (const w of workers) {
    const own = withBoundPorts(config, addrs);
    const storePort = await store.openPort();
    const bus = [...mesh.get(w.node)!];
    const started = await Promise.race([
      w.ask({ type: "start", node: w.node, config: own, store: storePort, bus, admin: !addrs }, "started", [
        storePort,
        ...bus.map(([, port]) => port),
      ]),
      fatal.then((reason): FromWorker => ({ type: "failed", error: { name: "Error", message: reason } })),
    ]);
    if (started.type !== "started") {
      const error = started.type === "failed" ? started.error : { name: "Error", message: "no answer" };
      log.error("server.start_failed", { node: w.node, error: error.message });
      console.error(`jim: cannot start: ${error.message}`);
      await stopAll(FATAL_STOP_TIMEOUT_MS).catch(() => {});
      return 1;
    }
    addrs ??= started.addrs;
  }
  const main = addrs!;
  if (config.auth === "open") console.error(OPEN_MODE_BANNER);
  retention.start();
  log.info("server.started", {
    main: `${main.main.hostname}:${main.main.port}`,
    protocols: config.protocols.join(","),
    tcp: main.tcp ? `${main.tcp.hostname}:${main.tcp.port}` : undefined,
    http: main.http ? `${main.http.hostname}:${main.http.port}` : undefined,
    tls: config.tlsCert ? true : undefined,
    plain: main.plain ? `${main.plain.hostname}:${main.plain.port}` : undefined,
    admin: main.admin ? `${main.admin.hostname}:${main.admin.port}` : undefined,
    dataDir: config.dataDir,
    workers: count,
  });

  const { promise: signalled, resolve: onSignal } = Promise.withResolvers<string>();
  let signals = 0;
  const stopSignal = (signal: string) => {
    if (++signals === 1) return onSignal(signal);
    // A second signal: every worker drops its remaining connections now.
    log.warn("server.signal", { signal, action: "dropping the remaining connections now" });
    for (const w of workers) if (!w.dead) w.post({ type: "hurry" });
  };
  const listeners: [Deno.Signal, () => void][] = [["SIGINT", () => stopSignal("SIGINT")]];
  if (Deno.build.os !== "windows") {
    listeners.push(["SIGTERM", () => stopSignal("SIGTERM")]);
    // Reloads run one after another; each worker applies the live options like one event loop.
    let reloading = Promise.resolve();
    listeners.push(["SIGHUP", () => {
      log.info("server.signal", { signal: "SIGHUP" });
      reloading = reloading.then(async () => {
        const next = options.reloadConfig?.();
        if (!next) return;
        log.setLevel(next.logLevel);
        const answers = await Promise.all(
          workers.filter((w) => !w.dead).map((w) =>
            // Like at start: the first worker has the configured ports, the others the bound ones.
            w.ask(
              { type: "reload", config: withBoundPorts(next, w === workers[0] ? undefined : main) },
              "reconfigured",
            )
          ),
        );
        if (!answers.every((a) => a.type === "reconfigured" && a.ok)) {
          log.error("config.reload_failed", { error: "a worker kept its previous configuration" });
        }
      });
    }]);
  }
  for (const [signal, fn] of listeners) Deno.addSignalListener(signal, fn);
  try {
    const outcome = await Promise.race([
      signalled.then((signal) => ({ signal })),
      fatal.then((reason) => ({ reason })),
    ]);
    if ("signal" in outcome) {
      log.info("server.signal", { signal: outcome.signal });
      await stopAll();
      log.info("server.stopped");
      return 0;
    }
    log.error("server.fatal", { error: outcome.reason });
    await stopAll(FATAL_STOP_TIMEOUT_MS).catch(() => {});
    return 1;
  } finally {
    for (const [signal, fn] of listeners) Deno.removeSignalListener(signal, fn);
  }
}
