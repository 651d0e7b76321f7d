/**
 * Log lines of the real program (stderr is not a terminal: JSON): one line per connection
 * lifecycle event (open, login, close with reason, duration and bytes) and one per error with
 * its status code; chats themselves log nothing at info.
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { spawnJim } from "./_process.ts";

Deno.test("JSON log lines: connection open, login, close and errors with their status code", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-logs-" });
  const jim = await spawnJim(["--data-dir", dataDir, "--password-iterations", "1000"]);
  let stopped = false;
  try {
    const alice = await JimClient.connectTcp({ port: jim.port });
    assert.equal((await alice.login("alice", "pw")).body.code, 10007);
    const bob = await JimClient.connectWs({ port: jim.port, path: "/?username=bob&password=pw" });
    assert.equal((await bob.next(6)).body.code, 10007);
    for (let i = 0; i < 5; i++) {
      await alice.send(11, { chatType: 2, to: "bob", content: `hello ${i}` });
      assert.equal((await alice.next(12)).body.code, 10000);
    }
    await alice.send(11, { chatType: 2, to: "nobody-here", content: "?" });
    assert.equal((await alice.next(12)).body.code, 10025);
    await bob.sendWsClose(1000);
    await bob.waitClosed();
    const res = await fetch(`http://127.0.0.1:${jim.port}/no-such-page`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
    alice.close();
    await alice.waitClosed();
    assert.equal((await jim.stop()).code, 0);
    stopped = true;

    const lines = jim.stderr().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of lines) {
      assert.equal(typeof line.time, "string");
      assert.ok(["debug", "info", "warn", "error"].includes(line.level as string));
    }
    const of = (event: string) => lines.filter((l) => l.event === event);

    const opens = of("conn.open");
    const tcpOpen = opens.find((l) => l.protocol === "tcp")!;
    const wsOpen = opens.find((l) => l.protocol === "ws")!;
    assert.match(tcpOpen.remote as string, /^127\.0\.0\.1:\d+$/);
    assert.match(wsOpen.remote as string, /^127\.0\.0\.1:\d+$/);
    assert.ok(opens.some((l) => l.protocol === "http"), "the HTTP request's connection");

    const logins = of("login");
    assert.deepEqual(logins.map((l) => [l.userId, l.session]), [
      ["alice", tcpOpen.session],
      ["bob", wsOpen.session],
    ]);

    const closes = of("conn.close");
    const bobClose = closes.find((l) => l.session === wsOpen.session)!;
    assert.equal(bobClose.userId, "bob");
    assert.equal(bobClose.reason, "peer sent close");
    assert.equal(typeof bobClose.durationMs, "number");
    assert.ok(
      (bobClose.bytesIn as number) > 0 && (bobClose.bytesOut as number) > 0,
      JSON.stringify(bobClose),
    );
    const aliceClose = closes.find((l) => l.session === tcpOpen.session)!;
    assert.equal(aliceClose.userId, "alice");
    assert.equal(aliceClose.reason, "peer closed");
    assert.ok((aliceClose.bytesIn as number) > 0 && (aliceClose.bytesOut as number) > 0);
    const httpClose = closes.find((l) => l.protocol === "http")!;
    assert.equal(httpClose.requests, 1);

    const refused = of("request.refused");
    assert.equal(refused.length, 1);
    assert.equal(refused[0].code, 10025);
    assert.equal(refused[0].session, tcpOpen.session);
    assert.deepEqual(of("http.refused").map((l) => [l.path, l.status]), [["/no-such-page", 404]]);

    // Nothing per message on the hot path at info.
    assert.equal(lines.filter((l) => JSON.stringify(l).includes("hello ")).length, 0);
    assert.ok(lines.length < 20, `${lines.length} lines:\n${jim.stderr()}`);
  } finally {
    if (!stopped) await jim.stop("SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
