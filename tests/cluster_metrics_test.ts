/**
 * /metrics across cluster nodes: MetricsGather over a real PortBus mesh (answers, a silent node,
 * a node whose rendering fails), and two in-process apps on their own ports whose /metrics each
 * report both nodes, waiting only for nodes that run (a node that said bye is not waited for).
 */
import assert from "node:assert/strict";
import { type App, createApp } from "../src/app.ts";
import { MetricsGather } from "../src/cluster/metrics_gather.ts";
import { createPortMesh, PortBus } from "../src/cluster/port_bus.ts";
import { JimClient } from "../src/client/jim_client.ts";
import { defaultConfig } from "../src/config/schema.ts";
import { silentLogger } from "../src/log.ts";
import { MemoryStore } from "../src/store/memory/memory_store.ts";

Deno.test("MetricsGather: every node's text in node order; silent and failing nodes are reported missing", async () => {
  const nodes = ["w2", "w10", "w1", "silent", "broken"];
  const mesh = createPortMesh(nodes);
  const buses = new Map(nodes.map((n) => [n, new PortBus(n, mesh.get(n)!)]));
  const peersOf = (n: string) => () => nodes.filter((p) => p !== n);
  const gathers: MetricsGather[] = [];
  for (const n of ["w2", "w10", "w1"]) {
    gathers.push(
      new MetricsGather(buses.get(n)!, peersOf(n), () => Promise.resolve(`m{} ${n}\n`), silentLogger),
    );
  }
  gathers.push(
    new MetricsGather(
      buses.get("broken")!,
      peersOf("broken"),
      () => Promise.reject(new Error("no")),
      silentLogger,
    ),
  );
  // "silent" is on the bus but answers nothing (a stuck worker).
  buses.get("silent")!.subscribe(() => {});
  try {
    for (const g of gathers) g.start();
    const got = await gathers[0].gather(300);
    assert.deepEqual(got.parts.map((p) => p.node), ["w1", "w2", "w10"]);
    assert.deepEqual(got.parts.map((p) => p.text), ["m{} w1\n", "m{} w2\n", "m{} w10\n"]);
    assert.deepEqual(got.missing, ["broken", "silent"]);

    // Alone: no one to ask, this node's own text only.
    const alone = new MetricsGather(buses.get("w1")!, () => [], () => Promise.resolve("own\n"), silentLogger);
    assert.deepEqual(await alone.gather(300), { parts: [{ node: "w1", text: "own\n" }], missing: [] });
  } finally {
    for (const g of gathers) g.stop();
    await Promise.all([...buses.values()].map((b) => b.close()));
  }
});

Deno.test("cluster /metrics: each node's scrape reports both nodes; a node that left is not waited for", async () => {
  const store = new MemoryStore();
  // "late" has ports in the mesh but never starts: the others must not wait for it.
  const mesh = createPortMesh(["a", "b", "late"]);
  const config = { ...defaultConfig(), host: "127.0.0.1", port: 0, passwordIterations: 1000 };
  const apps: App[] = [];
  const clients: JimClient[] = [];
  try {
    for (const n of ["a", "b"]) {
      const bus = new PortBus(n, mesh.get(n)!);
      const app = await createApp(config, { log: silentLogger, store, cluster: { bus, reusePort: false } });
      app.start();
      apps.push(app);
    }
    const c = await JimClient.connectTcp({ port: apps[1].addrs.main.port });
    clients.push(c);
    assert.equal((await c.login("bob", "pw")).body.code, 10007);
    const scrape = async (app: App) => {
      const res = await fetch(`http://127.0.0.1:${app.addrs.main.port}/metrics`);
      assert.equal(res.status, 200);
      return await res.text();
    };
    for (const app of apps) {
      const text = await scrape(app);
      assert.match(text, /^jim_logins_total\{result="ok",worker="a"\} 0$/m);
      assert.match(text, /^jim_logins_total\{result="ok",worker="b"\} 1$/m);
      assert.match(text, /^jim_cluster_metrics_missing_nodes 0$/m);
      assert.equal(text.match(/^# TYPE jim_logins_total /gm)?.length, 1);
    }
    await apps[1].stop();
    // b said bye: a answers alone, at once, and reports nobody missing.
    const alone = await scrape(apps[0]);
    assert.match(alone, /^jim_logins_total\{result="ok",worker="a"\} 0$/m);
    assert.doesNotMatch(alone, /worker="b"/);
    assert.match(alone, /^jim_cluster_metrics_missing_nodes 0$/m);
  } finally {
    for (const c of clients) c.close();
    for (const app of apps) await app.stop().catch(() => {});
  }
});
