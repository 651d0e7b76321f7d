/**
 * The --workers supervisor when an IO worker dies: the others are stopped, the store closed, the
 * data dir lock released, and the exit code is 1 (run in-process with a stand-in worker module
 * that crashes; tests/e2e_workers_test.ts covers the real workers and SIGTERM).
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/config/schema.ts";
import { createLogger } from "../src/log.ts";
import { acquireDataDirLock } from "../src/store/data_dir_lock.ts";
import { runWorkers, workerCount } from "../src/workers/supervisor.ts";

Deno.test("runWorkers() exits 1 when a worker dies, after stopping the others and releasing the data dir", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-supervisor-" });
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", sink: (line) => lines.push(line) });
  try {
    const config = { ...defaultConfig(), dataDir, port: 0 };
    const code = await runWorkers(config, 3, log, {
      workerUrl: new URL("./_crashing_io_worker.ts", import.meta.url),
    });
    assert.equal(code, 1);
    const events = lines.map((l) => JSON.parse(l));
    assert.ok(events.some((e) => e.event === "server.started" && e.workers === 3));
    const fatal = events.find((e) => e.event === "server.fatal");
    assert.match(fatal?.error ?? "", /worker w1 died: .*boom in w1/);
    // The lock is free again: another server could start on this data dir now.
    acquireDataDirLock(dataDir).release();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("workerCount(): 0 means one per core, otherwise the number given", () => {
  assert.equal(workerCount(3), 3);
  assert.equal(workerCount(1), 1);
  assert.equal(workerCount(0), Math.max(1, navigator.hardwareConcurrency));
});
