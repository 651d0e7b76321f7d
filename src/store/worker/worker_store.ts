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
 */
import type { Store } from "../store.ts";
import {
  type CallMessage,
  decodeError,
  OPEN_METHOD,
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
  readonly #worker: Worker;
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

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<ReplyMessage[]>) => {
      for (const reply of event.data) this.#settle(reply);
    };
    worker.onerror = (event: ErrorEvent) => {
      // Handled here: without preventDefault the worker's error would also be thrown in this thread.
      event.preventDefault();
      this.#die(`store worker died: ${event.message || "unknown error"}`);
    };
    worker.onmessageerror = () => this.#die("store worker died: a reply could not be deserialized");
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

  /** Flushes pending writes and closes the database in the worker, then terminates the worker. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#stopped) return Promise.reject(this.#stopped);
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
      this.#worker.postMessage(batch);
    } catch {
      // Some argument cannot be cloned (a function, say): post one by one so only its call fails.
      for (const message of batch) {
        try {
          this.#worker.postMessage([message]);
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

  /** After close: terminates the worker; anything still pending can no longer be answered. */
  #shutdown(): void {
    this.#terminate();
    this.#rejectAll(this.#stopped!);
  }

  #terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#worker.terminate();
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
