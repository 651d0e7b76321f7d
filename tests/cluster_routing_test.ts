/**
 * Two nodes in one process, each on its own port (no SO_REUSEPORT, so every client's node is
 * chosen by the test), sharing one store and a PortBus mesh whose traffic the test counts:
 * packets cross the bus only when a receiver is on the other node.
 */
import assert from "node:assert/strict";
import { type App, createApp } from "../src/app.ts";
import type { BusPayload, ClusterBus } from "../src/cluster/bus.ts";
import { createPortMesh, PortBus } from "../src/cluster/port_bus.ts";
import { JimClient } from "../src/client/jim_client.ts";
import { defaultConfig } from "../src/config/schema.ts";
import { silentLogger } from "../src/log.ts";
import { MemoryStore } from "../src/store/memory/memory_store.ts";

/** A bus that records the type of every message it sends. */
class CountingBus implements ClusterBus {
  readonly sent: string[] = [];
  readonly #bus: ClusterBus;
  constructor(bus: ClusterBus) {
    this.#bus = bus;
  }
  get node() {
    return this.#bus.node;
  }
  send(node: string, m: BusPayload) {
    this.sent.push(m.type);
    this.#bus.send(node, m);
  }
  broadcast(m: BusPayload) {
    this.sent.push(m.type);
    this.#bus.broadcast(m);
  }
  subscribe(h: Parameters<ClusterBus["subscribe"]>[0]) {
    return this.#bus.subscribe(h);
  }
  close() {
    return this.#bus.close();
  }
}

async function twoNodes() {
  const store = new MemoryStore();
  const mesh = createPortMesh(["a", "b"]);
  const buses = ["a", "b"].map((n) => new CountingBus(new PortBus(n, mesh.get(n)!)));
  const config = { ...defaultConfig(), host: "127.0.0.1", port: 0, passwordIterations: 1000 };
  const apps: App[] = [];
  for (const bus of buses) {
    // Both share the store object, as IO workers share the store worker.
    const app = await createApp(config, { log: silentLogger, store, cluster: { bus, reusePort: false } });
    app.start();
    apps.push(app);
  }
  const clients: JimClient[] = [];
  const login = async (node: 0 | 1, userId: string) => {
    const c = await JimClient.connectTcp({ port: apps[node].addrs.main.port });
    clients.push(c);
    assert.equal((await c.login(userId, "pw")).body.code, 10007);
    return c;
  };
  return {
    buses,
    login,
    async stop() {
      for (const c of clients) c.close();
      await apps[0].stop().catch(() => {});
      await apps[1].stop().catch(() => {});
    },
  };
}

/** Lets bus messages in flight arrive. */
const settle = () => new Promise((r) => setTimeout(r, 50));

Deno.test("cluster routing: a chat between users of one node never crosses the bus", async () => {
  const c = await twoNodes();
  try {
    const alice = await c.login(0, "alice");
    const bob = await c.login(0, "bob");
    await c.login(1, "carol");
    await settle();
    const before = c.buses.map((b) => b.sent.filter((t) => t.startsWith("to")).length);
    await alice.send(11, { chatType: 2, to: "bob", content: "local", createTime: 1 });
    assert.equal((await alice.next(12)).body.code, 10000);
    await bob.next(11);
    await settle();
    const after = c.buses.map((b) => b.sent.filter((t) => t.startsWith("to")).length);
    assert.deepEqual(after, before, "no packet on the bus");
  } finally {
    await c.stop();
  }
});

Deno.test("cluster routing: a chat to a user on the other node is one message to that node", async () => {
  const c = await twoNodes();
  try {
    const alice = await c.login(0, "alice");
    const carol = await c.login(1, "carol");
    await settle();
    const sent = c.buses[0].sent.length;
    await alice.send(11, { chatType: 2, to: "carol", content: "remote", createTime: 1 });
    assert.equal((await alice.next(12)).body.code, 10000, "online on the other node");
    assert.equal(((await carol.next(11)).body.data as { content: string }).content, "remote");
    assert.deepEqual(c.buses[0].sent.slice(sent), ["toUser"]);
  } finally {
    await c.stop();
  }
});

Deno.test("cluster routing: group messages go to the other node only while it has members bound", async () => {
  const c = await twoNodes();
  try {
    const alice = await c.login(0, "alice");
    const bob = await c.login(0, "bob");
    const carol = await c.login(1, "carol");
    const join = async (client: JimClient, userId: string) => {
      await client.send(7, { groupId: "g" });
      await client.next((p) => p.command === 9 && (p.body.user as { userId: string }).userId === userId);
    };
    await join(alice, "alice");
    await join(bob, "bob");
    await settle();
    let sent = c.buses[0].sent.length;
    await alice.send(11, { chatType: 1, groupId: "g", content: "only here", createTime: 1 });
    await alice.next(12);
    await bob.next(11);
    await settle();
    assert.deepEqual(c.buses[0].sent.slice(sent).filter((t) => t.startsWith("to")), []);
    await join(carol, "carol");
    await settle();
    sent = c.buses[0].sent.length;
    await alice.send(11, { chatType: 1, groupId: "g", content: "everywhere", createTime: 2 });
    await alice.next(12);
    assert.equal(((await carol.next(11)).body.data as { content: string }).content, "everywhere");
    assert.deepEqual(c.buses[0].sent.slice(sent).filter((t) => t.startsWith("to")), ["toGroup"]);
  } finally {
    await c.stop();
  }
});
