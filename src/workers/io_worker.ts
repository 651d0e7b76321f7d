/**
 * Entry of an IO worker (`--workers N`): one event loop running the listeners, router and
 * services for its share of the connections (the kernel spreads them over the workers' sockets,
 * SO_REUSEPORT). The store is the one database of the process, reached through a MessagePort to
 * the store worker; users on other workers are reached through the cluster bus. Started and
 * stopped by supervisor.ts (worker_messages.ts has the messages).
 */
import { createApp } from "../app.ts";
import type { App } from "../app.ts";
import { createLogger, type Logger } from "../log.ts";
import { PortBus } from "../cluster/port_bus.ts";
import { WorkerStore } from "../store/worker/worker_store.ts";
import type { FromWorker, StartMessage, ToWorker } from "./worker_messages.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}
const scope = globalThis as unknown as WorkerScope;
const reply = (message: FromWorker) => scope.postMessage(message);

let app: App | undefined;

/** Every line this worker logs names it (`"node":"w1"`). */
function tagged(log: Logger, node: string): Logger {
  const add = (fields?: Record<string, unknown>) => ({ ...fields, node });
  return {
    enabled: (level) => log.enabled(level),
    debug: (e, f) => log.debug(e, add(f)),
    info: (e, f) => log.info(e, add(f)),
    warn: (e, f) => log.warn(e, add(f)),
    error: (e, f) => log.error(e, add(f)),
    setLevel: (level) => log.setLevel(level),
  };
}

async function start(m: StartMessage): Promise<void> {
  const { config } = m;
  const log = tagged(
    createLogger({
      level: config.logLevel,
      format: config.logFormat === "auto" ? (Deno.stderr.isTerminal() ? "text" : "json") : config.logFormat,
    }),
    m.node,
  );
  const store = WorkerStore.connect(m.store);
  const bus = new PortBus(m.node, new Map(m.bus));
  try {
    app = await createApp(config, { log, store, cluster: { bus, adminPort: m.admin } });
    app.start();
  } catch (err) {
    await store.close().catch(() => {});
    await bus.close();
    const e = err instanceof Error ? err : new Error(String(err));
    reply({ type: "failed", error: { name: e.name, message: e.message } });
    return;
  }
  reply({ type: "started", addrs: app.addrs });
}

scope.onmessage = ({ data }) => {
  switch (data.type) {
    case "start":
      void start(data);
      break;
    case "stop":
      // app.stop closes the listeners, the connections, the bus and this worker's store port.
      void (app ? app.stop() : Promise.resolve()).finally(() => reply({ type: "stopped" }));
      break;
    case "reloadTls":
      void (app ? app.reloadTls() : Promise.resolve(false)).then((ok) => reply({ type: "reloaded", ok }));
      break;
    case "reload":
      // The app logs what changed and what needs a restart (each line tagged with this worker).
      void (app ? app.reload(data.config).then(() => true) : Promise.resolve(false))
        .catch((error) => {
          app?.log.error("config.reload_failed", { error });
          return false;
        })
        .then((ok) => reply({ type: "reconfigured", ok }));
      break;
    case "hurry":
      app?.hurry();
      break;
  }
};
