/**
 * `/metrics` of the whole cluster, gathered over the bus by the node that was asked: it
 * broadcasts `metricsAsk {id}`, every other node answers `metricsText {id, text}` with its own
 * rendering (send to the asker only), and the asker waits for every node it knows to be running
 * (ClusterNode.peers) or for the timeout, whichever comes first. Nodes that did not answer are
 * reported as missing, so a scrape never hangs on a stuck worker. Merging the texts is the
 * caller's (metrics/prometheus_merge.ts).
 */
import type { Logger } from "../log.ts";
import type { BusPayload, ClusterBus, NodeId } from "./bus.ts";

export interface GatheredMetrics {
  /** Each node's text, this node's included, in node order (w0, w1, … w10). */
  parts: { node: NodeId; text: string }[];
  /** Nodes known to be running that did not answer in time (or failed to render). */
  missing: NodeId[];
}

interface Pending {
  waiting: Set<NodeId>;
  /** Answered without a text (its rendering failed). */
  failed: NodeId[];
  parts: { node: NodeId; text: string }[];
  done: () => void;
}

const byNode = (a: { node: NodeId }, b: { node: NodeId }) =>
  a.node.localeCompare(b.node, "en", { numeric: true });

export class MetricsGather {
  readonly #bus: ClusterBus;
  readonly #peers: () => Iterable<NodeId>;
  readonly #render: () => Promise<string>;
  readonly #log: Logger;
  readonly #pending = new Map<string, Pending>();
  #unsubscribe: (() => void) | undefined;
  #nextId = 1;

  /**
   * `peers`: the other nodes running now; `render`: this node's own metrics text (what the
   * others get when they ask).
   */
  constructor(bus: ClusterBus, peers: () => Iterable<NodeId>, render: () => Promise<string>, log: Logger) {
    this.#bus = bus;
    this.#peers = peers;
    this.#render = render;
    this.#log = log;
  }

  start(): void {
    this.#unsubscribe ??= this.#bus.subscribe((m, from) => this.#receive(m, from));
  }

  /** Stops answering; scrapes in progress finish at once with what they have. */
  stop(): void {
    this.#unsubscribe?.();
    for (const p of this.#pending.values()) p.done();
  }

  /** This node's text and every running node's, waiting at most `timeoutMs` for the others. */
  async gather(timeoutMs: number): Promise<GatheredMetrics> {
    const id = `${this.#bus.node}:${this.#nextId++}`;
    const waiting = new Set(this.#peers());
    const { promise, resolve } = Promise.withResolvers<void>();
    const pending: Pending = { waiting, failed: [], parts: [], done: resolve };
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (waiting.size > 0) {
      this.#pending.set(id, pending);
      this.#bus.broadcast({ type: "metricsAsk", id });
      timer = setTimeout(resolve, timeoutMs);
    } else {
      resolve();
    }
    try {
      const [own] = await Promise.all([this.#render(), promise]);
      pending.parts.push({ node: this.#bus.node, text: own });
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
    const missing = [...waiting, ...pending.failed].sort((a, b) => byNode({ node: a }, { node: b }));
    if (missing.length > 0) this.#log.warn("metrics.nodes_missing", { nodes: missing.join(","), timeoutMs });
    return { parts: pending.parts.sort(byNode), missing };
  }

  #receive(m: BusPayload, from: NodeId): void {
    if (m.type === "metricsAsk") {
      this.#render().then(
        (text) => this.#bus.send(from, { type: "metricsText", id: m.id, text }),
        (err) => {
          this.#log.error("metrics.render_failed", { for: from, error: err });
          this.#bus.send(from, { type: "metricsText", id: m.id });
        },
      );
    } else if (m.type === "metricsText") {
      const pending = this.#pending.get(m.id as string);
      if (!pending || !pending.waiting.has(from)) return;
      pending.waiting.delete(from);
      if (typeof m.text === "string") pending.parts.push({ node: from, text: m.text });
      else pending.failed.push(from);
      if (pending.waiting.size === 0) pending.done();
    }
  }
}
