/**
 * WorkerStore: the Store contract against SQLite running in a Worker, plus what only the worker
 * proxy can get wrong — error transport, call order across the thread boundary, close and crash.
 */
import assert from "node:assert/strict";
import type { NewMessage } from "../src/store/store.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite_store.ts";
import { WorkerStore, type WorkerStoreOptions } from "../src/store/worker/worker_store.ts";
import { STORE_METHODS } from "../src/store/worker/worker_protocol.ts";
import { runStoreContract } from "./store_contract.ts";

async function tempStore(options: Partial<WorkerStoreOptions> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "jim-worker-store-" });
  const store = await WorkerStore.open({ path: `${dir}/jim.db`, ...options });
  return { store, dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

runStoreContract(
  "worker(sqlite)",
  async () => {
    const { store, cleanup } = await tempStore({ commitIntervalMs: 1 });
    return {
      store,
      cleanup: async () => {
        await store.close().catch(() => {});
        await cleanup();
      },
    };
  },
  { openBackup: (path) => WorkerStore.open({ path }) },
);

function msg(i: number): NewMessage {
  return {
    id: `m${i}`,
    chatType: 2,
    from: "alice",
    to: "bob",
    msgType: 0,
    content: `#${i}`,
    createTime: 1000,
  };
}

Deno.test("worker store: every Store method is forwarded", async () => {
  const { store, cleanup } = await tempStore();
  try {
    for (const name of Object.keys(STORE_METHODS)) {
      assert.equal(typeof (store as unknown as Record<string, unknown>)[name], "function", name);
    }
  } finally {
    await store.close();
    await cleanup();
  }
});

Deno.test("worker store: errors thrown in the worker reject with the same name and message", async () => {
  const { store, cleanup } = await tempStore();
  const local = SqliteStore.open({ path: ":memory:" });
  try {
    // A synchronous validation error (TypeError) …
    const bad = { ...msg(1), to: undefined };
    const expected = await local.appendMessage(bad, []).then(() => undefined, (e: Error) => e);
    assert.ok(expected instanceof TypeError);
    await assert.rejects(store.appendMessage(bad, []), (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.equal(err.name, expected.name);
      assert.equal(err.message, expected.message);
      return true;
    });
    // … and an SQLite error (foreign key: the group does not exist).
    const sqlErr = await local.addMember("nope", "alice", 1).then(() => undefined, (e: Error) => e);
    assert.ok(sqlErr instanceof Error);
    await assert.rejects(store.addMember("nope", "alice", 1), (err: Error) => {
      assert.ok(err instanceof Error);
      assert.equal(err.name, sqlErr.name);
      assert.equal(err.message, sqlErr.message);
      assert.equal((err as Error & { code?: string }).code, (sqlErr as Error & { code?: string }).code);
      return true;
    });
    // The store keeps working after a failed call.
    assert.equal(await store.countOffline("alice"), 0);
  } finally {
    await local.close();
    await store.close();
    await cleanup();
  }
});

Deno.test("worker store: an argument that cannot be cloned fails only its own call", async () => {
  const { store, cleanup } = await tempStore();
  try {
    const before = store.countOffline("alice");
    const bad = store.getUser((() => "alice") as unknown as string);
    const after = store.countOffline("bob");
    await assert.rejects(bad, (err: Error) => err.name === "DataCloneError");
    assert.deepEqual(await Promise.all([before, after]), [0, 0]);
  } finally {
    await store.close();
    await cleanup();
  }
});

Deno.test("worker store: concurrent appends get seqs in call order", async () => {
  const { store, cleanup } = await tempStore({ commitIntervalMs: 2, maxBatch: 64 });
  try {
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => store.appendMessage(msg(i), ["bob"])),
    );
    assert.deepEqual(results.map((r) => r.message.id), Array.from({ length: 300 }, (_, i) => `m${i}`));
    assert.deepEqual(results.map((r) => r.message.seq), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.equal(await store.countOffline("bob"), 300);
  } finally {
    await store.close();
    await cleanup();
  }
});

Deno.test("worker store: close flushes pending appends, terminates, and later calls reject", async () => {
  const { store, dir, cleanup } = await tempStore({ commitIntervalMs: 10_000 });
  try {
    // The long commit interval keeps these queued in the worker until close flushes them.
    const appends = [store.appendMessage(msg(1), []), store.appendMessage(msg(2), [])];
    await store.close();
    assert.deepEqual((await Promise.all(appends)).map((r) => r.message.seq), [1, 2]);
    await assert.rejects(store.countOffline("bob"), /store is closed/);
    await assert.rejects(store.appendMessage(msg(3), []), /store is closed/);
    await store.close(); // idempotent

    const reopened = await WorkerStore.open({ path: `${dir}/jim.db` });
    try {
      const seqs =
        (await reopened.history({ kind: "private", userA: "alice", userB: "bob" }, { offset: 0, limit: 10 }))
          .map((m) => m.seq);
      assert.deepEqual(seqs, [1, 2]);
    } finally {
      await reopened.close();
    }
  } finally {
    await cleanup();
  }
});

Deno.test("worker store: open rejects with the worker's error and leaks no worker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jim-worker-store-" });
  try {
    await assert.rejects(
      WorkerStore.open({ path: `${dir}/missing/dir/jim.db` }),
      (err: Error) => {
        assert.match(err.message, /unable to open database/);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker store: a dying worker fails pending and later calls and reports onFatal", async () => {
  // Capture the Worker WorkerStore creates, to break it from outside.
  const RealWorker = globalThis.Worker;
  let worker: Worker | undefined;
  globalThis.Worker = class extends RealWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      worker = this;
    }
  };
  const fatal: Error[] = [];
  let opened: Awaited<ReturnType<typeof tempStore>>;
  try {
    opened = await tempStore({ commitIntervalMs: 10_000, onFatal: (e) => fatal.push(e) });
  } finally {
    globalThis.Worker = RealWorker;
  }
  const { store, cleanup } = opened;
  try {
    const pending = store.appendMessage(msg(1), []); // waits 10 s for its group commit
    await store.countOffline("bob"); // the append has reached the worker
    worker!.postMessage(null); // a malformed message: the worker throws, uncaught
    await assert.rejects(pending, /store worker died: .*malformed message/);
    assert.equal(fatal.length, 1);
    assert.match(fatal[0].message, /store worker died/);
    await assert.rejects(store.countOffline("bob"), /store worker died/);
    await assert.rejects(store.close(), /store worker died/);
    assert.equal(fatal.length, 1);
  } finally {
    await cleanup();
  }
});

// ---- --workers: several threads share one store worker through MessagePorts ----

runStoreContract(
  "worker(sqlite) over a port",
  async () => {
    const { store: owner, cleanup } = await tempStore({ commitIntervalMs: 1 });
    const store = WorkerStore.connect(await owner.openPort());
    return {
      store,
      cleanup: async () => {
        await store.close().catch(() => {});
        await owner.close().catch(() => {});
        await cleanup();
      },
    };
  },
  { openBackup: (path) => WorkerStore.open({ path }) },
);

Deno.test("worker store: ports append into one conversation gap-free, each port's order kept", async () => {
  const { store: owner, cleanup } = await tempStore();
  const a = WorkerStore.connect(await owner.openPort());
  const b = WorkerStore.connect(await owner.openPort());
  try {
    const n = 200;
    const appends = [];
    for (let i = 0; i < n; i++) {
      appends.push(a.appendMessage({ ...msg(i), id: `a${i}` }, []));
      appends.push(b.appendMessage({ ...msg(i), id: `b${i}`, from: "bob", to: "alice" }, []));
    }
    const results = await Promise.all(appends);
    // A resend of an id is answered from the original, whichever port it comes through.
    const dup = await b.appendMessage({ ...msg(0), id: "a0" }, []);
    assert.equal(dup.duplicate, true);
    assert.equal(dup.message.seq, results[0].message.seq);
    const seqs = results.map((r) => r.message.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, Array.from({ length: 2 * n }, (_, i) => i + 1));
    for (const port of ["a", "b"]) {
      const own = results.filter((r) => r.message.id.startsWith(port)).map((r) => r.message.seq);
      assert.deepEqual(own, [...own].sort((x, y) => x - y), `port ${port} kept its call order`);
    }
    // Closing a port leaves the database open for the others.
    await a.close();
    await assert.rejects(a.getUser("x"), /store is closed/);
    assert.equal(await b.lastSeq({ kind: "private", userA: "alice", userB: "bob" }), 2 * n);
    assert.equal(await owner.lastSeq({ kind: "private", userA: "alice", userB: "bob" }), 2 * n);
  } finally {
    await b.close().catch(() => {});
    await owner.close();
    await cleanup();
  }
});

Deno.test("worker store: only the owner hands out ports", async () => {
  const { store: owner, cleanup } = await tempStore();
  const client = WorkerStore.connect(await owner.openPort());
  try {
    await assert.rejects(client.openPort(), /only the store that opened the worker/);
  } finally {
    await client.close();
    await owner.close();
    await cleanup();
  }
});
