/**
 * The messages between the supervisor (main thread) and an IO worker (io_worker.ts). Only
 * structured-cloneable values; the MessagePorts are transferred with the start message.
 *
 *   supervisor → worker   start {node, config, store, bus, admin}  → started {addrs} | failed {error}
 *                         stop                                     → stopped
 *                         reloadTls                                → reloaded {ok}
 *                         reload {config} (SIGHUP)                 → reconfigured {ok}
 *                         hurry (a second stop signal)             (no answer)
 */
import type { JimConfig } from "../config/schema.ts";

export interface StartMessage {
  type: "start";
  node: string;
  /** The ports resolved: every worker after the first binds the ports the first one got. */
  config: JimConfig;
  /** This worker's port to the store worker (WorkerStore.connect). */
  store: MessagePort;
  /** This worker's ends of the bus mesh, by peer node id. */
  bus: [string, MessagePort][];
  /** Whether this worker binds --admin-port (the first one only). */
  admin: boolean;
}

export type ToWorker =
  | StartMessage
  | { type: "stop" }
  | { type: "reloadTls" }
  | { type: "reload"; config: JimConfig }
  | { type: "hurry" };

export interface WorkerAddrs {
  main: Deno.NetAddr;
  tcp?: Deno.NetAddr;
  http?: Deno.NetAddr;
  plain?: Deno.NetAddr;
  admin?: Deno.NetAddr;
}

export type FromWorker =
  | { type: "started"; addrs: WorkerAddrs }
  | { type: "failed"; error: { name: string; message: string } }
  | { type: "stopped" }
  | { type: "reloaded"; ok: boolean }
  | { type: "reconfigured"; ok: boolean };
