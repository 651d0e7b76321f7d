/**
 * Worker entry: owns the SQLite database so its synchronous work (statement execution, the fsync
 * of every group commit, and the WAL checkpoints SQLite runs inside a commit once the WAL passes
 * its auto-checkpoint threshold) blocks this thread, never the network event loop.
 *
 * Started by WorkerStore. The first call opens the store; every later call is a Store method,
 * started synchronously on receipt, so calls start in the order they were made (the SqliteStore
 * assigns seqs in appendMessage call order and batches commits by itself; nothing here waits for
 * one call before starting the next). Each reply is sent when its call's promise settles; the
 * replies of one tick go out as one message. See worker_protocol.ts for the message format.
 *
 * With --workers N, each IO worker calls through its own MessagePort (PORT_METHOD hands one over):
 * one database, one seq counter and one dedup table for every event loop.
 *
 * Checkpoints: SqliteStore leaves SQLite's automatic WAL checkpoint on (every commit that takes
 * the WAL past 1000 pages checkpoints it), so checkpoints run on this thread, inside that commit.
 */
import type { Store } from "../store.ts";
import { SqliteStore } from "../sqlite/sqlite_store.ts";
import {
  type CallMessage,
  encodeError,
  isStoreMethod,
  OPEN_METHOD,
  PORT_METHOD,
  type ReplyMessage,
  type WorkerStoreOpenOptions,
} from "./worker_protocol.ts";

/** The parts of the worker global scope used here (the project type-checks with the window lib). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<unknown>) => void) | null;
  postMessage(message: ReplyMessage[]): void;
}
const scope = globalThis as unknown as WorkerScope;

let store: Store | undefined;
let opening = false;

/**
 * Where calls come from and replies go: the thread that started this worker, plus one MessagePort
 * per IO worker (--workers). Each has its own outbox; calls of different clients interleave, but
 * each client's calls start in its order.
 */
class Client {
  readonly #post: (batch: ReplyMessage[]) => void;
  /** May close the database (the owner); port clients may not. */
  readonly owner: boolean;
  /** Replies settled in the current tick, posted together by #flush. */
  #outbox: ReplyMessage[] = [];

  constructor(post: (batch: ReplyMessage[]) => void, owner: boolean) {
    this.#post = post;
    this.owner = owner;
  }

  send(reply: ReplyMessage): void {
    if (this.#outbox.push(reply) === 1) queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    const batch = this.#outbox;
    this.#outbox = [];
    try {
      this.#post(batch);
    } catch {
      // Some value cannot be structured-cloned: post one by one so only its caller gets the error.
      for (const reply of batch) {
        try {
          this.#post([reply]);
        } catch (err) {
          this.#post([{ id: reply.id, ok: false, error: encodeError(err) }]);
        }
      }
    }
  };
}

const ownerClient = new Client((batch) => scope.postMessage(batch), true);

const ok = (client: Client, id: number, value: unknown) => client.send({ id, ok: true, value });
const fail = (client: Client, id: number, err: unknown) =>
  client.send({ id, ok: false, error: encodeError(err) });

async function open(client: Client, id: number, options: WorkerStoreOpenOptions): Promise<void> {
  opening = true;
  try {
    // Works whether SqliteStore.open returns the store or a promise of it.
    store = await SqliteStore.open({
      path: options.path,
      commitIntervalMs: options.commitIntervalMs,
      maxBatch: options.maxBatch,
    });
    ok(client, id, undefined);
  } catch (err) {
    fail(client, id, err);
  } finally {
    opening = false;
  }
}

function isCall(m: unknown): m is CallMessage {
  const c = m as CallMessage | null;
  return typeof c?.id === "number" && typeof c.method === "string" && Array.isArray(c.args);
}

/** A new client: calls arriving on `port` are served like the owner's (but may not close). */
function attach(port: MessagePort): void {
  const client = new Client((batch) => port.postMessage(batch), false);
  port.onmessage = ({ data }) => receive(data, client);
}

/** Starts one call; its reply is sent to its client when its promise settles. */
function start({ id, method, args }: CallMessage, client: Client): void {
  if (method === OPEN_METHOD) {
    if (store !== undefined || opening) fail(client, id, new Error("store worker: already open"));
    else void open(client, id, args[0] as WorkerStoreOpenOptions);
    return;
  }
  if (method === PORT_METHOD) {
    if (!(args[0] instanceof MessagePort)) fail(client, id, new TypeError("store worker: no port given"));
    else {
      attach(args[0]);
      ok(client, id, undefined);
    }
    return;
  }
  if (store === undefined) {
    fail(client, id, new Error("store worker: store is not open"));
    return;
  }
  if (!isStoreMethod(method)) {
    fail(client, id, new TypeError(`store worker: unknown method ${JSON.stringify(method)}`));
    return;
  }
  if (method === "close" && !client.owner) {
    fail(client, id, new Error("store worker: only the owner closes the store"));
    return;
  }
  let result: Promise<unknown>;
  try {
    result = (store[method] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
  } catch (err) {
    fail(client, id, err);
    return;
  }
  Promise.resolve(result).then((value) => ok(client, id, value), (err) => fail(client, id, err));
}

function receive(data: unknown, client: Client): void {
  if (!Array.isArray(data) || !data.every(isCall)) {
    // Cannot be answered (no id to answer to): fail loudly, so WorkerStore fails every call.
    throw new Error("store worker: malformed message");
  }
  // Every call is started now, in order, before the next message is handled: this is what keeps
  // appendMessage's seq order equal to the caller's call order.
  for (const call of data) start(call, client);
}

scope.onmessage = ({ data }) => receive(data, ownerClient);
