/**
 * `/metrics` for the composition root (app.ts). One event loop: its own counters, as
 * transport/metrics.ts renders them. With `--workers` (a cluster node): the worker that got the
 * request gathers every worker's text over the bus (cluster/metrics_gather.ts) and answers with
 * them merged, a `worker` label on each sample; workers that do not answer within
 * GATHER_TIMEOUT_MS are left out and counted in jim_cluster_metrics_missing_nodes.
 */
import type { ClusterBus } from "./cluster/bus.ts";
import type { ClusterNode } from "./cluster/cluster_node.ts";
import { MetricsGather } from "./cluster/metrics_gather.ts";
import type { Logger } from "./log.ts";
import type { SessionRegistry } from "./services/session_registry.ts";
import type { Stats } from "./services/stats.ts";
import type { Store } from "./store/store.ts";
import { EventLoopLag, renderClusterMetrics, renderMetrics } from "./transport/metrics.ts";
import { VERSION } from "./version.ts";

/** How long a scrape waits for the other workers' metrics. */
export const GATHER_TIMEOUT_MS = 1000;

export interface MetricsParts {
  stats: Stats;
  registry: SessionRegistry;
  /** Open sockets on this node's listeners. */
  connections: () => number;
  store: Store;
  log: Logger;
  /** With --workers: this node and its bus. */
  cluster?: { node: ClusterNode; bus: ClusterBus };
}

export interface MetricsEndpoint {
  /** The `/metrics` body. */
  render(): Promise<string>;
  /** Starts answering the other nodes' scrapes (cluster only). */
  start(): void;
  /** Stops the lag probe and the answering. */
  stop(): void;
}

export function createMetricsEndpoint(parts: MetricsParts): MetricsEndpoint {
  const lag = new EventLoopLag();
  const own = async () =>
    renderMetrics({
      stats: parts.stats,
      registry: parts.registry,
      connections: parts.connections,
      lagSeconds: () => lag.seconds,
      version: VERSION,
      denoVersion: Deno.version.deno,
      // Aggregated in the store's worker; one message per scrape.
      commitLatency: await withTimeout(parts.store.commitLatency?.(), 1000),
    });
  const { cluster } = parts;
  if (!cluster) return { render: own, start() {}, stop: () => lag.stop() };
  const gather = new MetricsGather(cluster.bus, () => cluster.node.peers(), own, parts.log);
  return {
    async render() {
      const { parts, missing } = await gather.gather(GATHER_TIMEOUT_MS);
      return renderClusterMetrics(parts.map((p) => ({ worker: p.node, text: p.text })), missing.length);
    },
    start: () => gather.start(),
    stop() {
      lag.stop();
      gather.stop();
    },
  };
}

/** The promise's value, or undefined if it takes longer than `ms` or fails. */
export async function withTimeout<T>(promise: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  if (!promise) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms));
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
