/**
 * The cluster bus: how the nodes of one jim (the IO workers of `--workers N` today, servers
 * sharing a Redis later) tell each other about presence and hand each other packets to deliver.
 * Services never see it; cluster_node.ts translates between it and them.
 *
 * The contract every implementation keeps (tests/cluster_bus_contract.ts checks it):
 * - A node has an id, unique in the cluster; a message is never delivered back to its sender.
 * - `send(node, m)` reaches that node only; `broadcast(m)` reaches every other node.
 * - Messages from one node to another arrive in the order they were sent (sends and broadcasts
 *   together), once each, as copies: only JSON-serializable values travel (no shared objects).
 * - Delivery is asynchronous (never inside send/broadcast) and best effort: a node that is gone
 *   misses what was sent to it. After close() nothing more is delivered or sent.
 */

/** A node's id: "w0", "w1"… for IO workers; a Redis cluster would use host-unique ids. */
export type NodeId = string;

/** Any JSON value; each implementation serializes as it needs (structured clone, JSON text). */
export type BusPayload = { readonly type: string } & Record<string, unknown>;

export type BusHandler = (message: BusPayload, from: NodeId) => void;

export interface ClusterBus {
  readonly node: NodeId;
  /** To one other node. Sending to an unknown node drops the message. */
  send(node: NodeId, message: BusPayload): void;
  /** To every other node. */
  broadcast(message: BusPayload): void;
  /** Adds a handler for every message received; returns the function that removes it. */
  subscribe(handler: BusHandler): () => void;
  /** Stops sending and receiving; sends made before close still go out. */
  close(): Promise<void>;
}
