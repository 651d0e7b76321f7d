/** The ClusterBus contract against the in-process PortBus (--workers N). */
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
