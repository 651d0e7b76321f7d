/**
 * --admin-port: a Deno.serve listener (loopback by default) with /metrics, /healthz, /readyz, the
 * admin page and /api/admin/*, all answered by the same app over real sockets; those operator
 * routes leave the main port, which keeps /healthz, /readyz, the web client and J-IM's API.
 */
import assert from "node:assert/strict";
import { loggedInWs, startServer } from "./_server.ts";

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") ?? "" };
}

Deno.test("--admin-port serves metrics, health and the admin API; the main port no longer does", async () => {
  const server = await startServer({ adminPort: 0, maxBody: 4096 });
  try {
    const admin = server.app.addrs.admin!;
    assert.equal(admin.hostname, "127.0.0.1", "--admin-host defaults to loopback");
    assert.notEqual(admin.port, server.port);
    const a = `http://127.0.0.1:${admin.port}`;
    const m = `http://127.0.0.1:${server.port}`;

    for (const path of ["/healthz", "/readyz"]) {
      assert.equal((await get(a + path)).status, 200, `admin ${path}`);
      assert.equal((await get(m + path)).status, 200, `main ${path}`);
    }
    const metrics = await get(a + "/metrics");
    assert.equal(metrics.status, 200);
    assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /^jim_build_info\{/m);
    assert.match((await get(a + "/admin")).body, /<html/i);

    const bob = await loggedInWs(server, "bob");
    const overview = JSON.parse((await get(a + "/api/admin/overview")).body);
    assert.equal(overview.connections.ws, 1);
    // The admin API acts on the sessions of the main port.
    const kick = await get(a + "/api/admin/kick", {
      method: "POST",
      body: JSON.stringify({ userId: "bob" }),
    });
    assert.deepEqual(JSON.parse(kick.body), { closed: 1 });
    await bob.waitClosed();
    assert.equal(bob.closeCode, 4001);

    // Request bodies are bounded by --max-body here too.
    const big = await get(a + "/api/admin/kick", { method: "POST", body: "x".repeat(5000) });
    assert.equal(big.status, 413);

    for (const path of ["/metrics", "/admin", "/api/admin/overview"]) {
      assert.equal((await get(m + path)).status, 404, `main ${path} moved to the admin port`);
    }
    assert.equal((await get(m + "/api/user/online?userid=bob")).status, 200, "J-IM's API stays");
    assert.equal((await get(m + "/")).status, 200, "the web client stays");
    for (const path of ["/", "/api/user/online?userid=bob", "/app.js"]) {
      assert.equal((await get(a + path)).status, 404, `admin port ${path}`);
    }
  } finally {
    await server.stop();
  }
});

Deno.test("--admin-port with --api-token: operator routes need the token, health checks do not", async () => {
  const server = await startServer({ adminPort: 0, apiToken: "s3cret-token" });
  try {
    const a = `http://127.0.0.1:${server.app.addrs.admin!.port}`;
    assert.equal((await get(a + "/metrics")).status, 401);
    assert.equal((await get(a + "/api/admin/overview")).status, 401);
    const auth = { headers: { authorization: "Bearer s3cret-token" } };
    assert.equal((await get(a + "/metrics", auth)).status, 200);
    assert.equal((await get(a + "/api/admin/overview", auth)).status, 200);
    assert.equal((await get(a + "/healthz")).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("a stopping server answers /readyz 503 on the admin port until it closes", async () => {
  const server = await startServer({ adminPort: 0, shutdownTimeout: 10 });
  const a = `http://127.0.0.1:${server.app.addrs.admin!.port}`;
  const bob = await loggedInWs(server, "bob");
  // Half a request head on the main port: the stop waits for it to finish (or the timeout).
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await slow.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\n"));
  assert.equal((await get(a + "/readyz")).status, 200);
  const stopping = server.app.stop();
  await bob.waitClosed();
  assert.equal(bob.closeCode, 1001);
  assert.equal((await get(a + "/readyz")).status, 503);
  assert.equal((await get(a + "/healthz")).status, 200, "alive while it stops");
  // The last request arrives: answered with Connection: close, and the stop completes.
  await slow.write(new TextEncoder().encode("Host: jim\r\n\r\n"));
  const buf = new Uint8Array(4096);
  const n = await slow.read(buf);
  assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 200[\s\S]*connection: close/i);
  await stopping;
  slow.close();
  await server.stop();
});
