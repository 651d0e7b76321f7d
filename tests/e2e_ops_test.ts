/**
 * Operations endpoints and commands: /metrics (Prometheus text), /readyz, and
 * `jim check-config` / `jim print-config` run as a child process.
 */
import assert from "node:assert/strict";
import { loggedInTcp, startServer } from "./_server.ts";
import { runJim } from "./_process.ts";

const decoder = new TextDecoder();

function sample(body: string, series: string): number {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in:\n${body}`);
  return Number(line.slice(series.length + 1));
}

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

Deno.test("/metrics counts a login and a chat; /readyz and /healthz answer", async () => {
  const server = await startServer();
  try {
    const before = await get(server.port, "/metrics");
    assert.equal(before.status, 200);
    assert.match(before.type, /^text\/plain; version=0\.0\.4/);
    for (
      const name of [
        "jim_connections",
        "jim_online_users",
        "jim_logins_total",
        "jim_messages_stored_total",
        "jim_deliveries_total",
        "jim_errors_total",
        "jim_event_loop_lag_seconds",
        "jim_uptime_seconds",
        "jim_build_info",
      ]
    ) {
      assert.match(before.body, new RegExp(`^# HELP ${name} `, "m"));
      assert.match(before.body, new RegExp(`^# TYPE ${name} (gauge|counter)$`, "m"));
    }
    assert.equal(sample(before.body, 'jim_logins_total{result="ok"}'), 0);
    assert.equal(sample(before.body, "jim_messages_stored_total"), 0);
    assert.match(before.body, /^jim_build_info\{version="[^"]+",deno="[^"]+"\} 1$/m);

    const alice = await loggedInTcp(server, "alice");
    const bob = await loggedInTcp(server, "bob");
    await alice.send(11, { chatType: 2, to: "bob", content: "hi", createTime: 1 });
    assert.equal((await alice.next(12)).body.code, 10000);
    await bob.next(11);

    const after = (await get(server.port, "/metrics")).body;
    assert.equal(sample(after, 'jim_logins_total{result="ok"}'), 2);
    assert.equal(sample(after, "jim_messages_stored_total"), 1);
    assert.equal(sample(after, "jim_deliveries_total"), 1);
    assert.equal(sample(after, "jim_online_users"), 2);
    assert.equal(sample(after, 'jim_connections{protocol="tcp"}'), 2);
    assert.ok(sample(after, "jim_event_loop_lag_seconds") >= 0);

    const ready = await get(server.port, "/readyz");
    assert.equal(ready.status, 200);
    assert.equal((await get(server.port, "/healthz")).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("/metrics needs the API token when one is configured; /readyz stays public", async () => {
  const server = await startServer({ apiToken: "metrics-token" });
  try {
    const denied = await get(server.port, "/metrics");
    assert.equal(denied.status, 401);
    assert.doesNotMatch(denied.body, /jim_/);
    const wrong = await get(server.port, "/metrics", { authorization: "Bearer nope" });
    assert.equal(wrong.status, 401);
    const ok = await get(server.port, "/metrics", { authorization: "Bearer metrics-token" });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^jim_uptime_seconds \d+$/m);
    assert.equal((await get(server.port, "/readyz")).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("jim check-config reports every problem by key and exits 2", async () => {
  const out = await runJim(["check-config", "--port", "abc", "--log-level", "loud"], {
    JIM_MAX_BODY: "0",
  });
  const err = decoder.decode(out.stderr);
  assert.equal(out.code, 2, err);
  assert.match(err, /--port: /);
  assert.match(err, /--log-level: /);
  assert.match(err, /JIM_MAX_BODY: /);
  assert.match(err, /3 problems/);
});

Deno.test("jim check-config says config ok for a good configuration", async () => {
  const out = await runJim(["check-config", "--port", "9000"]);
  assert.equal(out.code, 0, decoder.decode(out.stderr));
  assert.equal(decoder.decode(out.stdout).trim(), "config ok");
});

Deno.test("jim print-config shows every value with its source and masks secrets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jim-print-config-" });
  try {
    const file = `${dir}/jim.json`;
    await Deno.writeTextFile(file, JSON.stringify({ maxBody: 4096 }));
    const out = await runJim(
      ["print-config", "--config", file, "--api-token", "super-secret-token", "--port", "9001"],
      { JIM_LOG_LEVEL: "warn" },
    );
    const text = decoder.decode(out.stdout);
    assert.equal(out.code, 0, decoder.decode(out.stderr));
    assert.doesNotMatch(text, /super-secret-token/);
    assert.match(text, /^apiToken\s+"\*\*\*"\s+\(flag\)$/m);
    assert.match(text, /^port\s+9001\s+\(flag\)$/m);
    assert.match(text, /^maxBody\s+4096\s+\(file\)$/m);
    assert.match(text, /^logLevel\s+"warn"\s+\(env\)$/m);
    assert.match(text, /^host\s+"0\.0\.0\.0"\s+\(default\)$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
