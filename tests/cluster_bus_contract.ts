/**
 * The ClusterBus contract (src/cluster/bus.ts), run against every implementation: the in-process
 * PortBus now, a Redis pub/sub bus later (same suite, its own factory).
 */
import assert from "node:assert/strict";
import type { BusPayload, ClusterBus, NodeId } from "../src/cluster/bus.ts";

export interface BusCluster {
  /** One connected bus per node id, in the order asked. */
  buses: ClusterBus[];
  cleanup(): Promise<void>;
}

export type BusClusterFactory = (nodes: NodeId[]) => Promise<BusCluster>;

interface Received {
  from: NodeId;
  message: BusPayload;
}

function collect(bus: ClusterBus): Received[] {
  const got: Received[] = [];
  bus.subscribe((message, from) => got.push({ from, message }));
  return got;
}

/** Waits until `done()` or fails after a generous time (no timing assertions, only a bound). */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets in-flight messages arrive, to check that nothing more does. */
const settle = () => new Promise((r) => setTimeout(r, 100));

export function runBusContract(name: string, factory: BusClusterFactory): void {
  const test = (title: string, fn: (c: BusCluster) => Promise<void>, nodes = ["n0", "n1", "n2"]) =>
    Deno.test(`${name}: ${title}`, async () => {
      const cluster = await factory(nodes);
      try {
        await fn(cluster);
      } finally {
        await cluster.cleanup();
      }
    });

  test("each bus knows its node id", ({ buses }) => {
    assert.deepEqual(buses.map((b) => b.node), ["n0", "n1", "n2"]);
    return Promise.resolve();
  });

  test("send reaches the one node named, with the sender's id", async ({ buses: [a, b, c] }) => {
    const atB = collect(b);
    const atC = collect(c);
    const atA = collect(a);
    a.send("n1", { type: "hello", n: 1 });
    await until(() => atB.length === 1, "the message at n1");
    await settle();
    assert.deepEqual(atB, [{ from: "n0", message: { type: "hello", n: 1 } }]);
    assert.deepEqual(atC, []);
    assert.deepEqual(atA, [], "never back to the sender");
  });

  test("broadcast reaches every other node, not the sender", async ({ buses: [a, b, c] }) => {
    const got = [a, b, c].map(collect);
    b.broadcast({ type: "all" });
    await until(() => got[0].length === 1 && got[2].length === 1, "both receivers");
    await settle();
    assert.equal(got[1].length, 0);
    assert.deepEqual(got[0][0], { from: "n1", message: { type: "all" } });
  });

  test("delivery is asynchronous", async ({ buses: [a, b] }) => {
    const atB = collect(b);
    a.send("n1", { type: "x" });
    assert.equal(atB.length, 0, "not delivered inside send");
    await until(() => atB.length === 1, "the message");
  });

  test("one sender's messages arrive in order, sends and broadcasts together", async ({ buses: [a, b, c] }) => {
    const atB = collect(b);
    const atC = collect(c);
    const n = 2000;
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) a.broadcast({ type: "seq", i });
      else a.send("n1", { type: "seq", i });
      // Spread over several ticks too.
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    await until(() => atB.length === n, "every message at n1");
    assert.deepEqual(atB.map((r) => r.message.i), Array.from({ length: n }, (_, i) => i));
    await until(() => atC.length === Math.ceil(n / 3), "the broadcasts at n2");
    assert.deepEqual(atC.map((r) => r.message.i), Array.from({ length: Math.ceil(n / 3) }, (_, i) => i * 3));
  });

  test("messages are copies: changing one after sending changes nothing received", async ({ buses: [a, b] }) => {
    const atB = collect(b);
    const message = { type: "obj", nested: { list: [1, 2] } };
    a.send("n1", message);
    message.nested.list.push(3);
    await until(() => atB.length === 1, "the message");
    assert.deepEqual(atB[0].message, { type: "obj", nested: { list: [1, 2] } });
  });

  test("JSON values travel intact (strings with any characters, numbers, null, nesting)", async ({ buses: [a, b] }) => {
    const atB = collect(b);
    const message = { type: "json", text: 'é "q" \n 😀', n: -1.5, nil: null, deep: [{ a: [true] }] };
    a.send("n1", message);
    await until(() => atB.length === 1, "the message");
    assert.deepEqual(atB[0].message, message);
  });

  test("a removed handler gets nothing more; other handlers still do", async ({ buses: [a, b] }) => {
    const first: BusPayload[] = [];
    const second: BusPayload[] = [];
    const off = b.subscribe((m) => first.push(m));
    b.subscribe((m) => second.push(m));
    a.send("n1", { type: "1" });
    await until(() => first.length === 1 && second.length === 1, "both handlers");
    off();
    a.send("n1", { type: "2" });
    await until(() => second.length === 2, "the remaining handler");
    await settle();
    assert.equal(first.length, 1);
  });

  test("sending to an unknown node is dropped without error", async ({ buses: [a, b] }) => {
    const atB = collect(b);
    a.send("nope", { type: "lost" });
    a.send("n1", { type: "kept" });
    await until(() => atB.length === 1, "the kept message");
    assert.equal(atB[0].message.type, "kept");
  });

  test("after close nothing is delivered to or sent from the closed node", async ({ buses: [a, b, c] }) => {
    const atB = collect(b);
    const atC = collect(c);
    a.send("n1", { type: "before" });
    await until(() => atB.length === 1, "the first message");
    await b.close();
    a.send("n1", { type: "after" });
    b.send("n2", { type: "from-closed" });
    b.broadcast({ type: "from-closed" });
    await settle();
    assert.equal(atB.length, 1);
    assert.deepEqual(atC, []);
    a.send("n2", { type: "others still talk" });
    await until(() => atC.length === 1, "n0 → n2 after n1 closed");
  });

  test("messages sent just before close still go out", async ({ buses: [a, b] }) => {
    const atB = collect(b);
    a.send("n1", { type: "last words" });
    await a.close();
    await until(() => atB.length === 1, "the message sent before close");
  });

  test("a two-node cluster works the same", async ({ buses: [a, b] }) => {
    const atA = collect(a);
    b.broadcast({ type: "hi" });
    await until(() => atA.length === 1, "the broadcast");
    assert.equal(atA[0].from, "w1");
  }, ["w0", "w1"]);
}
