/**
 * `/metrics` in the Prometheus text exposition format (version 0.0.4). Rendered on request from
 * the Stats counters and the session registry: nothing here runs on the message path.
 * Also the event-loop lag probe (a 500 ms timer's drift) the composition root starts and stops.
 */
import type { HistogramSnapshot } from "../metrics/histogram.ts";
import { escapeLabelValue as label, mergeByWorker, type WorkerMetrics } from "../metrics/prometheus_merge.ts";
import type { SessionRegistry } from "../services/session_registry.ts";
import type { Stats } from "../services/stats.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface MetricsSource {
  stats: Stats;
  registry: SessionRegistry;
  /** Open sockets on every listener (the connection limit's count). */
  connections: () => number;
  /** Latest event-loop lag, in seconds. */
  lagSeconds: () => number;
  /** Group-commit durations from the store (its worker); absent when the store has none. */
  commitLatency?: HistogramSnapshot;
  version: string;
  denoVersion: string;
}

export interface ConnectionCounts {
  tcp: number;
  ws: number;
  http: number;
  total: number;
}

/**
 * Open connections by protocol, for the admin page and /metrics alike. HTTP requests have no
 * session: every open socket that is not a TCP or WebSocket session counts as HTTP (or is one
 * whose protocol is not known yet).
 */
export function countConnections(registry: SessionRegistry, openSockets: number): ConnectionCounts {
  let tcp = 0;
  let ws = 0;
  let httpSessions = 0;
  for (const s of registry.all()) {
    if (s.protocol === "tcp") tcp++;
    else if (s.protocol === "ws") ws++;
    else httpSessions++;
  }
  const total = Math.max(openSockets, tcp + ws + httpSessions);
  return { tcp, ws, http: total - tcp - ws, total };
}

export function renderMetrics(src: MetricsSource): string {
  const { stats, registry } = src;
  const { tcp, ws, http } = countConnections(registry, src.connections());
  const totals = stats.totals();
  const lines: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric("jim_connections", "gauge", "Open connections by protocol.", [
    ['{protocol="tcp"}', tcp],
    ['{protocol="ws"}', ws],
    ['{protocol="http"}', http],
  ]);
  metric("jim_online_users", "gauge", "Users with at least one session.", [["", registry.onlineUserCount]]);
  metric("jim_logins_total", "counter", "Login attempts decided by authentication.", [
    ['{result="ok"}', totals.loginsOk],
    ['{result="failed"}', totals.loginsFailed],
  ]);
  metric("jim_messages_received_total", "counter", "Chat messages received (cmd 11, HTTP send API).", [
    ["", totals.messagesReceived],
  ]);
  metric("jim_messages_stored_total", "counter", "Chat messages stored (messages in).", [
    ["", totals.messagesStored],
  ]);
  metric("jim_deliveries_total", "counter", "Messages pushed to live sessions (messages out).", [
    ["", totals.deliveries],
  ]);
  histogram(
    lines,
    "jim_delivery_latency_seconds",
    "From a chat's arrival to its deliveries queued on the receivers' connections (after the commit).",
    stats.deliveryLatency(),
  );
  if (src.commitLatency) {
    histogram(
      lines,
      "jim_store_commit_seconds",
      "Duration of one group commit of the store (BEGIN to COMMIT, fsync included).",
      src.commitLatency,
    );
  }
  metric(
    "jim_outbox_drops_total",
    "counter",
    "Connections cut because their bounded outbox overflowed (slow consumers).",
    [["", totals.outboxDrops]],
  );
  metric(
    "jim_errors_total",
    "counter",
    "Errors answered to clients, by status code or error name.",
    Object.keys(totals.errorsByCode).sort().map((
      code,
    ) => [`{code="${label(code)}"}`, totals.errorsByCode[code]]),
  );
  metric("jim_event_loop_lag_seconds", "gauge", "Drift of a 500 ms timer.", [["", src.lagSeconds()]]);
  metric("jim_uptime_seconds", "gauge", "Seconds since the server started.", [["", stats.uptimeSeconds]]);
  metric("jim_build_info", "gauge", "The jim and Deno versions.", [
    [`{version="${label(src.version)}",deno="${label(src.denoVersion)}"}`, 1],
  ]);
  return lines.join("\n") + "\n";
}

/**
 * `/metrics` with `--workers`: every worker's renderMetrics() text merged, each sample labelled
 * with its worker, plus how many workers did not answer in time (their samples are absent).
 */
export function renderClusterMetrics(parts: readonly WorkerMetrics[], missing: number): string {
  return mergeByWorker(parts) + [
    "# HELP jim_cluster_metrics_missing_nodes Workers that did not answer this scrape in time.",
    "# TYPE jim_cluster_metrics_missing_nodes gauge",
    `jim_cluster_metrics_missing_nodes ${missing}`,
  ].join("\n") + "\n";
}

/** A Prometheus histogram: cumulative `_bucket{le}` samples, then `_sum` and `_count`. */
function histogram(lines: string[], name: string, help: string, h: HistogramSnapshot): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i];
    lines.push(`${name}_bucket{le="${h.bounds[i]}"} ${cumulative}`);
  }
  lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
}

/** Measures event-loop lag as the drift of a 500 ms interval timer; stop() ends it. */
export class EventLoopLag {
  static readonly INTERVAL_MS = 500;
  #lagMs = 0;
  #expected: number;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor() {
    this.#expected = performance.now() + EventLoopLag.INTERVAL_MS;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#lagMs = Math.max(0, now - this.#expected);
      this.#expected = now + EventLoopLag.INTERVAL_MS;
    }, EventLoopLag.INTERVAL_MS);
  }

  get seconds(): number {
    return this.#lagMs / 1000;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
