/**
 * A stand-in IO worker for tests/workers_supervisor_test.ts: answers the supervisor like
 * io_worker.ts, but worker w1 throws an uncaught error a while after starting (long enough for
 * the supervisor to have started the others, even with a cold module cache: a death during the
 * start is a different path, a failed start).
 */
import type { FromWorker, ToWorker } from "../src/workers/worker_messages.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
};

scope.onmessage = ({ data }) => {
  if (data.type === "start") {
    data.store.close();
    for (const [, port] of data.bus) port.close();
    scope.postMessage({
      type: "started",
      addrs: { main: { transport: "tcp", hostname: "127.0.0.1", port: data.config.port || 1 } },
    });
    if (data.node === "w1") {
      setTimeout(() => {
        throw new Error("boom in w1");
      }, 1500);
    }
  } else if (data.type === "stop") {
    scope.postMessage({ type: "stopped" });
  }
};
