/**
 * SIGHUP on the real program: jim re-reads its config file and applies the live options (here
 * the request rate and the log level) to the running server, also to connections already open;
 * an option that needs a restart is named in a warning; a broken file changes nothing.
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { type JimProcess, spawnJim } from "./_process.ts";

/** The JSON log lines of the child's stderr with the given event. */
function events(jim: JimProcess, event: string): Record<string, unknown>[] {
  return jim.stderr().split("\n").filter((l) => l.includes(`"event":"${event}"`)).map((l) => JSON.parse(l));
}

/** Waits until the child has logged `count` lines of `event`. */
async function logged(jim: JimProcess, event: string, count = 1): Promise<Record<string, unknown>[]> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const found = events(jim, event);
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${event} (x${count}) in:\n${jim.stderr()}`);
}

/** Sends `n` heartbeats at once and counts the replies refused with 10026. */
async function burst(client: JimClient, n: number): Promise<number> {
  for (let i = 0; i < n; i++) await client.send(13, {});
  let refused = 0;
  for (let i = 0; i < n; i++) {
    const reply = await client.next(13);
    if (reply.body.code === 10026) refused++;
  }
  return refused;
}

/**
 * With `workers`, the same through the supervisor: it reads the file once and every worker
 * applies it (each logs its own lines, tagged with its node).
 */
async function reloadScenario(workers: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "jim-reload-" });
  const file = `${dir}/jim.json`;
  await Deno.writeTextFile(file, `{ "ratePerConnection": 1000, "passwordIterations": 1000 }`);
  const jim = await spawnJim(["--data-dir", `${dir}/data`, "--config", file, "--workers", String(workers)]);
  try {
    const alice = await JimClient.connectTcp({ port: jim.port });
    assert.equal((await alice.login("alice", "pw")).body.code, 10007);
    await alice.send(7, { groupId: "g1" });
    await alice.next(9);
    assert.equal(await burst(alice, 10), 0);
    await alice.send(11, { chatType: 1, groupId: "g1", content: "at info level" });
    await alice.next(12);
    assert.equal(events(jim, "chat.group").length, 0, "no debug lines at info");

    // A file with an error: logged, and the running configuration stays.
    await Deno.writeTextFile(file, `{ "ratePerConnection": 1, "logLevel": "debug", `);
    jim.child.kill("SIGHUP");
    const [failed] = await logged(jim, "config.reload_failed");
    assert.match(JSON.stringify(failed.problems), /not valid JSON/);
    assert.equal(await burst(alice, 10), 0, "the old rate still applies");
    assert.equal(events(jim, "config.reloaded").length, 0);

    // A good file: the new rate applies to the open connection, debug lines appear, and the
    // restart-only option is named.
    await Deno.writeTextFile(
      file,
      `{
        // one request per second, bursts of two
        "ratePerConnection": 1,
        "logLevel": "debug",
        "maxOfflineBatch": 5,
        "passwordIterations": 1000,
      }`,
    );
    jim.child.kill("SIGHUP");
    const reloaded = await logged(jim, "config.reloaded", workers);
    for (const r of reloaded) assert.deepEqual(r.changed, ["logLevel", "ratePerConnection"]);
    if (workers > 1) assert.deepEqual(reloaded.map((r) => r.node).sort(), ["w0", "w1"]);
    const restart = events(jim, "config.needs_restart");
    assert.deepEqual([...new Set(restart.map((e) => e.key))], ["maxOfflineBatch"]);
    assert.equal(restart.length, workers, "named once per event loop");
    assert.ok(await burst(alice, 10) >= 7, "at most the burst of 2 (plus refill) gets through");
    await new Promise((r) => setTimeout(r, 2100)); // refill
    await alice.send(11, { chatType: 1, groupId: "g1", content: "at debug level" });
    assert.equal((await alice.next(12)).body.code, 10000);
    assert.equal((await logged(jim, "chat.group"))[0].groupId, "g1");
    alice.close();
  } finally {
    assert.equal((await jim.stop()).code, 0, jim.stderr());
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("SIGHUP applies a lower rate limit and the debug level live; a broken file changes nothing", async () => {
  await reloadScenario(1);
});

Deno.test("SIGHUP with --workers 2: every worker applies the reloaded options", async () => {
  await reloadScenario(2);
});
