/**
 * End to end over real sockets: protocol detection on the shared port (spec §7), the handshake
 * timeout, per-port protocol selection, extra single-protocol listeners and maxConnections.
 */
import assert from "node:assert/strict";
import { startServer } from "./_server.ts";
import {
  eventually,
  hex,
  httpGet,
  parseHttpResponse,
  parseTcpFrame,
  RawConn,
  str,
  tcpFrame,
  wsUpgrade,
} from "./_raw.ts";

const HEARTBEAT = tcpFrame(13, new Uint8Array([0x80]));
const HEARTBEAT_REPLY = `{"command":13,"data":{"hbbyte":-128}}`;

/** Sends `bytes` on a fresh connection and expects a close with no reply at all. */
async function expectSilentClose(port: number, bytes: Uint8Array | string, what: string): Promise<void> {
  const c = await RawConn.open(port);
  try {
    await c.write(bytes);
    const rest = await c.waitClosed();
    assert.equal(rest.length, 0, `${what}: unexpected reply ${hex(rest.slice(0, 32))}`);
  } finally {
    await c.close();
  }
}

/** A heartbeat round trip on a fresh connection: true if answered. */
async function tcpWorks(port: number): Promise<boolean> {
  const c = await RawConn.open(port);
  try {
    await c.write(HEARTBEAT);
    const f = await c.take(parseTcpFrame, 2000);
    return str(f.body) === HEARTBEAT_REPLY;
  } catch {
    return false;
  } finally {
    await c.close();
  }
}

/** Reads the HTTP status answered to `request` on a fresh connection (undefined: closed silently). */
async function httpStatus(port: number, request: string): Promise<number | undefined> {
  const c = await RawConn.open(port);
  try {
    await c.write(request);
    return (await c.take(parseHttpResponse)).status;
  } catch {
    assert.equal(c.closed, true, "neither a response nor a close");
    assert.equal(c.buffered.length, 0, `garbage reply: ${hex(c.buffered.slice(0, 32))}`);
    return undefined;
  } finally {
    await c.close();
  }
}

Deno.test("listener: first byte 0x01 → J-IM TCP, HTTP → HTTP, upgrade → WebSocket", async () => {
  const server = await startServer();
  try {
    assert.ok(await tcpWorks(server.port));
    assert.equal(await httpStatus(server.port, httpGet("/healthz")), 200);
    assert.equal(await httpStatus(server.port, wsUpgrade("/")), 101);
    // Upgrade detection needs only one of Sec-WebSocket-Key / Upgrade: websocket; without a key
    // the upgrade is refused as a bad WebSocket request, not served as HTTP.
    assert.equal(
      await httpStatus(server.port, httpGet("/", "Upgrade: websocket\r\nConnection: Upgrade\r\n")),
      400,
    );
  } finally {
    await server.stop();
  }
});

Deno.test("listener: TLS ClientHello, binary and lowercase garbage are closed without a reply", async () => {
  const server = await startServer();
  try {
    // Start of a TLS 1.0 record carrying a ClientHello.
    const clientHello = new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]);
    await expectSilentClose(server.port, clientHello, "TLS ClientHello");
    await expectSilentClose(server.port, new Uint8Array([0x00, 0xff, 0x13, 0x37, 0x02]), "binary");
    await expectSilentClose(server.port, new Uint8Array([0x02, 0x51, 0x0d, 0, 0, 0, 0]), "wrong version");
    await expectSilentClose(server.port, "hello world\r\n\r\n", "lowercase text");
    await expectSilentClose(server.port, "get / http/1.1\r\nhost: x\r\n\r\n", "lowercase HTTP");
    // The server is still healthy afterwards.
    assert.ok(await tcpWorks(server.port));
  } finally {
    await server.stop();
  }
});

Deno.test("listener: a silent connection is closed after handshakeTimeout", async () => {
  const server = await startServer({ handshakeTimeout: 300 });
  try {
    const c = await RawConn.open(server.port);
    try {
      const t0 = Date.now();
      const rest = await c.waitClosed(5000);
      const elapsed = Date.now() - t0;
      assert.equal(rest.length, 0);
      assert.ok(elapsed >= 250, `closed too early: ${elapsed} ms`);
      assert.ok(elapsed <= 3000, `closed too late: ${elapsed} ms`);
    } finally {
      await c.close();
    }
    // A connection that talks in time is not affected by the timeout later on.
    const t = await RawConn.open(server.port);
    try {
      await t.write(HEARTBEAT);
      await t.take(parseTcpFrame);
      assert.equal(await t.closesWithin(600), false);
      await t.write(HEARTBEAT);
      assert.equal(str((await t.take(parseTcpFrame)).body), HEARTBEAT_REPLY);
    } finally {
      await t.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("listener: protocols [tcp] refuses HTTP and WebSocket", async () => {
  const server = await startServer({ protocols: ["tcp"] });
  try {
    assert.ok(await tcpWorks(server.port));
    for (
      const req of [httpGet("/"), httpGet("/api/user/online?userid=x"), wsUpgrade("/?username=a&password=b")]
    ) {
      const status = await httpStatus(server.port, req);
      assert.ok(status === undefined || status === 404, `got HTTP ${status} for ${req.split("\r\n")[0]}`);
    }
  } finally {
    await server.stop();
  }
});

Deno.test("listener: protocols [http, ws] closes J-IM TCP", async () => {
  const server = await startServer({ protocols: ["http", "ws"] });
  try {
    await expectSilentClose(server.port, HEARTBEAT, "TCP frame");
    assert.equal(await httpStatus(server.port, httpGet("/healthz")), 200);
    assert.equal(await httpStatus(server.port, wsUpgrade("/")), 101);
  } finally {
    await server.stop();
  }
});

Deno.test("listener: protocols [ws] serves upgrades but no plain HTTP; [http] no upgrades", async () => {
  const ws = await startServer({ protocols: ["ws"] });
  try {
    assert.equal(await httpStatus(ws.port, wsUpgrade("/")), 101);
    const status = await httpStatus(ws.port, httpGet("/healthz"));
    assert.ok(status === undefined || status === 404, `plain HTTP got ${status}`);
  } finally {
    await ws.stop();
  }
  const http = await startServer({ protocols: ["http"] });
  try {
    assert.equal(await httpStatus(http.port, httpGet("/healthz")), 200);
    const status = await httpStatus(http.port, wsUpgrade("/"));
    assert.ok(status === undefined || status === 404, `upgrade got ${status}`);
  } finally {
    await http.stop();
  }
});

Deno.test("listener: extra tcpPort / httpPort listeners serve only their protocol", async () => {
  const server = await startServer({ tcpPort: 0, httpPort: 0 });
  try {
    const tcpPort = server.app.addrs.tcp!.port;
    const httpPort = server.app.addrs.http!.port;
    assert.notEqual(tcpPort, server.port);
    assert.notEqual(httpPort, server.port);
    assert.notEqual(tcpPort, httpPort);

    assert.ok(await tcpWorks(tcpPort));
    for (const req of [httpGet("/healthz"), wsUpgrade("/")]) {
      const status = await httpStatus(tcpPort, req);
      assert.ok(status === undefined || status === 404, `tcp port answered HTTP ${status}`);
    }

    await expectSilentClose(httpPort, HEARTBEAT, "TCP on the HTTP port");
    assert.equal(await httpStatus(httpPort, httpGet("/healthz")), 200);
    assert.equal(await httpStatus(httpPort, wsUpgrade("/")), 101);

    // The main port still serves everything.
    assert.ok(await tcpWorks(server.port));
    assert.equal(await httpStatus(server.port, httpGet("/healthz")), 200);
  } finally {
    await server.stop();
  }
});

Deno.test("listener: maxConnections: extra connections are closed, a slot frees up on close", async () => {
  const server = await startServer({ maxConnections: 2 });
  const open: RawConn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const c = await RawConn.open(server.port);
      open.push(c);
      await c.write(HEARTBEAT);
      await c.take(parseTcpFrame); // accepted and being served
    }
    for (let i = 0; i < 3; i++) {
      const extra = await RawConn.open(server.port);
      try {
        await extra.write(HEARTBEAT); // may fail: the server may already have closed it
        const rest = await extra.waitClosed();
        assert.equal(rest.length, 0);
      } finally {
        await extra.close();
      }
    }
    // The two accepted connections are unaffected.
    for (const c of open) {
      await c.write(HEARTBEAT);
      assert.equal(str((await c.take(parseTcpFrame)).body), HEARTBEAT_REPLY);
    }
    // Closing one frees a slot (once the server has noticed).
    await open.shift()!.close();
    await eventually(() => tcpWorks(server.port));
  } finally {
    for (const c of open) await c.close();
    await server.stop();
  }
});

Deno.test("listener: HTTP and WebSocket detection survive a head split across writes", async () => {
  const server = await startServer();
  try {
    for (const req of [httpGet("/healthz"), wsUpgrade("/")]) {
      const c = await RawConn.open(server.port);
      try {
        for (const part of [req.slice(0, 1), req.slice(1, 5), req.slice(5, 30), req.slice(30)]) {
          await c.write(part);
          await new Promise((r) => setTimeout(r, 10));
        }
        const res = await c.take(parseHttpResponse);
        assert.ok(res.status === 200 || res.status === 101, res.statusLine);
      } finally {
        await c.close();
      }
    }
  } finally {
    await server.stop();
  }
});

Deno.test("listener: maxConnections counts the connections of every listener together", async () => {
  const server = await startServer({ maxConnections: 2, tcpPort: 0, httpPort: 0 });
  const open: RawConn[] = [];
  try {
    const main = await RawConn.open(server.port);
    open.push(main);
    await main.write(HEARTBEAT);
    await main.take(parseTcpFrame);
    const tcp = await RawConn.open(server.app.addrs.tcp!.port);
    open.push(tcp);
    await tcp.write(HEARTBEAT);
    await tcp.take(parseTcpFrame);
    // The limit is reached: the HTTP listener (and the others) refuse more.
    for (const port of [server.app.addrs.http!.port, server.port, server.app.addrs.tcp!.port]) {
      const extra = await RawConn.open(port);
      try {
        await extra.write(port === server.app.addrs.http!.port ? httpGet("/healthz") : HEARTBEAT);
        const rest = await extra.waitClosed();
        assert.equal(rest.length, 0, `port ${port} served a connection over the limit`);
      } finally {
        await extra.close();
      }
    }
  } finally {
    for (const c of open) await c.close();
    await server.stop();
  }
});
