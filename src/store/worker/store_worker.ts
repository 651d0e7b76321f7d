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
/** Replies settled in the current tick, posted together by postReplies. */
let outbox: ReplyMessage[] = [];

function send(reply: ReplyMessage): void {
  if (outbox.push(reply) === 1) queueMicrotask(postReplies);
}

function postReplies(): void {
  const batch = outbox;
  outbox = [];
  try {
    scope.postMessage(batch);
  } catch {
    // Some value cannot be structured-cloned: post one by one so only its caller gets the error.
    for (const reply of batch) {
      try {
        scope.postMessage([reply]);
      } catch (err) {
        scope.postMessage([{ id: reply.id, ok: false, error: encodeError(err) }]);
      }
    }
  }
}

const ok = (id: number, value: unknown) => send({ id, ok: true, value });
const fail = (id: number, err: unknown) => send({ id, ok: false, error: encodeError(err) });

async function open(id: number, options: WorkerStoreOpenOptions): Promise<void> {
  opening = true;
  try {
    // Works whether SqliteStore.open returns the store or a promise of it.
    store = await SqliteStore.open({
      path: options.path,
      commitIntervalMs: options.commitIntervalMs,
      maxBatch: options.maxBatch,
    });
    ok(id, undefined);
  } catch (err) {
    fail(id, err);
  } finally {
    opening = false;
  }
}

function isCall(m: unknown): m is CallMessage {
  const c = m as CallMessage | null;
  return typeof c?.id === "number" && typeof c.method === "string" && Array.isArray(c.args);
}

/** Starts one call; its reply is sent when its promise settles. */
function start({ id, method, args }: CallMessage): void {
  if (method === OPEN_METHOD) {
    if (store !== undefined || opening) fail(id, new Error("store worker: already open"));
    else void open(id, args[0] as WorkerStoreOpenOptions);
    return;
  }
  if (store === undefined) {
    fail(id, new Error("store worker: store is not open"));
    return;
  }
  if (!isStoreMethod(method)) {
    fail(id, new TypeError(`store worker: unknown method ${JSON.stringify(method)}`));
    return;
  }
  let result: Promise<unknown>;
  try {
    result = (store[method] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
  } catch (err) {
    fail(id, err);
    return;
  }
  Promise.resolve(result).then((value) => ok(id, value), (err) => fail(id, err));
}

scope.onmessage = ({ data }) => {
  if (!Array.isArray(data) || !data.every(isCall)) {
    // Cannot be answered (no id to answer to): fail loudly, so WorkerStore fails every call.
    throw new Error("store worker: malformed message");
  }
  // Every call is started now, in order, before the next message is handled: this is what keeps
  // appendMessage's seq order equal to the caller's call order.
  for (const call of data) start(call);
};
