/** The ClusterBus contract against the in-process PortBus (--workers N). */
import assert from "node:assert/strict";
import { createPortMesh, PortBus } from "../src/cluster/port_bus.ts";
import { runBusContract } from "./cluster_bus_contract.ts";

runBusContract("port bus", (nodes) => {
  const mesh = createPortMesh(nodes);
  const buses = nodes.map((n) => new PortBus(n, mesh.get(n)!));
  return Promise.resolve({
    buses,
    cleanup: async () => {
      await Promise.all(buses.map((b) => b.close()));
    },
  });
});

Deno.test("port bus: what peers send before the first subscribe waits for it", async () => {
  const mesh = createPortMesh(["a", "b"]);
  const a = new PortBus("a", mesh.get("a")!);
  const b = new PortBus("b", mesh.get("b")!);
  try {
    a.send("b", { type: "early" });
    await new Promise((r) => setTimeout(r, 50));
    const got: string[] = [];
    b.subscribe((m) => got.push(m.type));
    a.send("b", { type: "later" });
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, ["early", "later"]);
  } finally {
    await a.close();
    await b.close();
  }
});
