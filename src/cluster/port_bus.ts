/**
 * The in-process ClusterBus for `--workers N`: a full mesh of MessagePorts between the IO
 * workers, made by the main thread (createPortMesh) and transferred to each worker. A message
 * goes straight to its receiver's thread, with no hop through the main thread; what one node
 * sends in one tick to one peer travels as one postMessage (one clone, one wake-up).
 * MessagePorts keep order per port, which is the bus's per-sender order. Messages travel as JSON
 * text, made at send time, as they would through Redis: a copy of what was sent, then.
 */
import type { BusHandler, BusPayload, ClusterBus, NodeId } from "./bus.ts";

/** For each node, its ports to every other node (node → peer → port). */
export type PortMesh = Map<NodeId, Map<NodeId, MessagePort>>;

/** One MessageChannel per pair of nodes. */
export function createPortMesh(nodes: readonly NodeId[]): PortMesh {
  const mesh: PortMesh = new Map(nodes.map((n) => [n, new Map()]));
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const { port1, port2 } = new MessageChannel();
      mesh.get(nodes[i])!.set(nodes[j], port1);
      mesh.get(nodes[j])!.set(nodes[i], port2);
    }
  }
  return mesh;
}

export class PortBus implements ClusterBus {
  readonly node: NodeId;
  readonly #ports: ReadonlyMap<NodeId, MessagePort>;
  readonly #handlers = new Set<BusHandler>();
  /** Messages sent this tick, per peer, posted together by #flush. */
  readonly #outbox = new Map<NodeId, string[]>();
  #scheduled = false;
  #listening = false;
  #closed = false;

  /** `ports`: this node's ends of the mesh, by peer node id. */
  constructor(node: NodeId, ports: ReadonlyMap<NodeId, MessagePort>) {
    this.node = node;
    this.#ports = ports;
  }

  /**
   * Starts the ports (on the first subscribe): until then what the peers send waits in the
   * ports, so nothing is lost while this node is still starting up.
   */
  #listen(): void {
    for (const [peer, port] of this.#ports) {
      port.onmessage = (event: MessageEvent<string[]>) => {
        for (const text of event.data) {
          if (this.#closed) return;
          const message = JSON.parse(text) as BusPayload;
          for (const handler of this.#handlers) handler(message, peer);
        }
      };
    }
  }

  send(node: NodeId, message: BusPayload): void {
    this.#queue(node, JSON.stringify(message));
  }

  broadcast(message: BusPayload): void {
    if (this.#closed) return;
    const text = JSON.stringify(message);
    for (const peer of this.#ports.keys()) this.#queue(peer, text);
  }

  #queue(node: NodeId, text: string): void {
    if (this.#closed || !this.#ports.has(node)) return;
    let queue = this.#outbox.get(node);
    if (!queue) this.#outbox.set(node, queue = []);
    queue.push(text);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  subscribe(handler: BusHandler): () => void {
    if (this.#closed) return () => {};
    if (!this.#listening) {
      this.#listening = true;
      this.#listen();
    }
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#flush();
      this.#closed = true;
      this.#handlers.clear();
      for (const port of this.#ports.values()) port.close();
    }
    return Promise.resolve();
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    for (const [peer, batch] of this.#outbox) this.#ports.get(peer)!.postMessage(batch);
    this.#outbox.clear();
  };
}
