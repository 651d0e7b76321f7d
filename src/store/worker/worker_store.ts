/**
 * A Store that runs SqliteStore in a Worker (store_worker.ts), so SQLite's synchronous work —
 * statements, the fsync of each group commit, WAL checkpoints — never blocks the network event
 * loop. Every Store method call is forwarded as one {id, method, args} record; the records of one
 * tick travel in one postMessage (and the worker answers likewise), so a group commit of 512
 * appends costs two messages, not 1024. Arguments and results cross as structured clones (Maps
 * included); errors thrown in the worker are re-created here with their name and message.
 *
 * Calls start in the worker in the order they were made here, so appendMessage's seq order is
 * the caller's call order, exactly as with SqliteStore in-process.
 *
 * With --workers N the thread that opened the store hands each IO worker a MessagePort
 * (openPort); WorkerStore.connect(port) there is a Store over the same database and worker.
 */
import type { Store } from "../store.ts";
import {
  type CallMessage,
  decodeError,
  OPEN_METHOD,
  PORT_METHOD,
  type ReplyMessage,
  STORE_METHODS,
  type StoreMethod,
  type WorkerStoreOpenOptions,
} from "./worker_protocol.ts";

export type { WorkerStoreOpenOptions } from "./worker_protocol.ts";

export interface WorkerStoreOptions extends WorkerStoreOpenOptions {
  /**
   * Called once if the worker dies unexpectedly (an uncaught error in it). Every pending and later
   * call then rejects with the same error; the store is unusable and should be replaced.
   */
  onFatal?: (error: Error) => void;
}

// Every Store method but close is generated onto the prototype (see the static block), typed by
// this merged interface; close is written out below.
export interface WorkerStore extends Omit<Store, "close"> {}

export class WorkerStore implements Store {
  /** The worker (the store that opened it) or a port to it (a connected store). */
  readonly #endpoint: Worker | MessagePort;
  readonly #owner: boolean;
  /** Calls made and not yet answered, by id. */
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  /** Calls made in the current tick, posted together by #post. */
  #outbox: CallMessage[] = [];
  #nextId = 1;
  /** Set once closing starts or the worker died: every new call rejects with it. */
  #stopped: Error | undefined;
  #closing: Promise<void> | undefined;
  #terminated = false;
  /** Installed once open succeeded: a worker that fails to start is reported by open's rejection. */
  #onFatal: ((error: Error) => void) | undefined;

  private constructor(endpoint: Worker | MessagePort) {
    this.#endpoint = endpoint;
    this.#owner = endpoint instanceof Worker;
    endpoint.onmessage = (event: MessageEvent<ReplyMessage[]>) => {
      for (const reply of event.data) this.#settle(reply);
    };
    if (endpoint instanceof Worker) {
      endpoint.onerror = (event: ErrorEvent) => {
        // Handled here: without preventDefault the worker's error would also be thrown in this thread.
        event.preventDefault();
        this.#die(`store worker died: ${event.message || "unknown error"}`);
      };
    }
    endpoint.onmessageerror = () => this.#die("store worker died: a reply could not be deserialized");
  }

  /**
   * A Store over a port from openPort() (another thread's end of it). Its close() waits for its
   * own calls and closes the port; the database stays open for the owner and the other ports.
   */
  static connect(port: MessagePort): WorkerStore {
    return new WorkerStore(port);
  }

  /**
   * A new port to this store's worker, to transfer to another thread (WorkerStore.connect
   * there). Only the store that opened the worker hands out ports.
   */
  async openPort(): Promise<MessagePort> {
    if (!this.#owner) throw new Error("only the store that opened the worker hands out ports");
    const { port1, port2 } = new MessageChannel();
    const id = this.#nextId++;
    const call = Promise.withResolvers<unknown>();
    this.#pending.set(id, call);
    this.#post();
    (this.#endpoint as Worker).postMessage([{ id, method: PORT_METHOD, args: [port2] }], [port2]);
    await call.promise;
    return port1;
  }

  /**
   * Starts the worker and opens the database in it. Resolves once the worker has opened it;
   * rejects with the worker's error (and terminates the worker) when it cannot.
   */
  static async open(options: WorkerStoreOptions): Promise<WorkerStore> {
    const worker = new Worker(new URL("./store_worker.ts", import.meta.url).href, {
      type: "module",
      name: "jim-store",
    });
    const store = new WorkerStore(worker);
    const init: WorkerStoreOpenOptions = { path: options.path };
    if (options.commitIntervalMs !== undefined) init.commitIntervalMs = options.commitIntervalMs;
    if (options.maxBatch !== undefined) init.maxBatch = options.maxBatch;
    try {
      await store.#call(OPEN_METHOD, [init]);
    } catch (err) {
      store.#stopped ??= new Error("store is closed");
      store.#terminate();
      throw err;
    }
    store.#onFatal = options.onFatal;
    return store;
  }

  /**
   * Flushes pending writes and closes the database in the worker, then terminates the worker.
   * A connected store (WorkerStore.connect) waits for its own calls, then closes its port.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#stopped) return Promise.reject(this.#stopped);
    if (!this.#owner) {
      const calls = [...this.#pending.values()].map((c) => c.promise.catch(() => {}));
      this.#stopped = new Error("store is closed");
      this.#closing = Promise.all(calls).then(() => this.#shutdown());
      return this.#closing;
    }
    const closing = this.#call("close", []);
    this.#stopped = new Error("store is closed");
    this.#closing = closing.then(
      () => this.#shutdown(),
      (err: Error) => {
        this.#shutdown();
        throw err;
      },
    );
    return this.#closing;
  }

  static {
    for (const name of Object.keys(STORE_METHODS) as StoreMethod[]) {
      if (name === "close") continue;
      Object.defineProperty(WorkerStore.prototype, name, {
        value: function (this: WorkerStore, ...args: unknown[]) {
          return this.#call(name, args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  #call(method: string, args: unknown[]): Promise<unknown> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    const call = Promise.withResolvers<unknown>();
    this.#pending.set(id, call);
    if (this.#outbox.push({ id, method, args }) === 1) queueMicrotask(this.#post);
    return call.promise;
  }

  /** Posts every call made since the last post as one message (one clone, one wake-up of the worker). */
  readonly #post = (): void => {
    const batch = this.#outbox;
    this.#outbox = [];
    if (this.#terminated) return; // #die already rejected these calls
    try {
      this.#endpoint.postMessage(batch);
    } catch {
      // Some argument cannot be cloned (a function, say): post one by one so only its call fails.
      for (const message of batch) {
        try {
          this.#endpoint.postMessage([message]);
        } catch (err) {
          const call = this.#pending.get(message.id);
          this.#pending.delete(message.id);
          call?.reject(err as Error);
        }
      }
    }
  };

  #settle(reply: ReplyMessage): void {
    const call = this.#pending.get(reply.id);
    if (call === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(decodeError(reply.error));
  }

  /** After close: terminates the worker (closes the port); pending calls can no longer be answered. */
  #shutdown(): void {
    this.#terminate();
    this.#rejectAll(this.#stopped!);
  }

  #terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    if (this.#endpoint instanceof Worker) this.#endpoint.terminate();
    else this.#endpoint.close();
  }

  /** The worker failed: fails everything pending and everything later with one clear error. */
  #die(reason: string): void {
    if (this.#terminated) return;
    const error = new Error(reason);
    this.#stopped = error;
    this.#terminate();
    this.#rejectAll(error);
    this.#onFatal?.(error);
  }

  #rejectAll(error: Error): void {
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of calls) call.reject(error);
  }
}
