/**
 * End to end over TLS (--tls-cert/--tls-key, spec §13.3): one TLS port serves TLS-wrapped J-IM
 * TCP, wss and https; plain text on it is refused while the server keeps serving; --plain-port
 * serves plain text beside it; the certificate is swapped (app.reloadTls(), SIGHUP on the real
 * program) without dropping open connections, and a broken file keeps the old certificate.
 * Certificates are made at test time (tests/_tls.ts): a CA and a server certificate it signs.
 */
import assert from "node:assert/strict";
import { createApp } from "../src/app.ts";
import { JimClient } from "../src/client/jim_client.ts";
import { defaultConfig } from "../src/config/schema.ts";
import { createLogger } from "../src/log.ts";
import { TlsConfigError } from "../src/listener/tls.ts";
import { spawnJim } from "./_process.ts";
import { startServer } from "./_server.ts";
import { makeCa, makeServerCert, type TestCa, type TestCert } from "./_tls.ts";

const data = (p: { body: Record<string, unknown> }) => p.body.data as Record<string, unknown>;

interface TlsFiles {
  dir: string;
  cert: string;
  key: string;
  /** Replaces the files' contents (each file renamed into place, as a renewal tool would). */
  write(cert: TestCert | { certPem: string; keyPem: string }): Promise<void>;
}

async function tlsFiles(first: TestCert): Promise<TlsFiles> {
  const dir = await Deno.makeTempDir({ prefix: "jim-tls-" });
  const files: TlsFiles = {
    dir,
    cert: `${dir}/server.pem`,
    key: `${dir}/server.key`,
    async write(c) {
      await Deno.writeTextFile(`${dir}/tmp.pem`, c.certPem);
      await Deno.rename(`${dir}/tmp.pem`, files.cert);
      await Deno.writeTextFile(`${dir}/tmp.key`, c.keyPem);
      await Deno.rename(`${dir}/tmp.key`, files.key);
    },
  };
  await files.write(first);
  return files;
}

let fixture: { ca: TestCa; cert: TestCert; ca2: TestCa; cert2: TestCert } | undefined;
async function certs() {
  if (!fixture) {
    const ca = await makeCa("jim test CA 1");
    const ca2 = await makeCa("jim test CA 2");
    fixture = { ca, cert: await makeServerCert(ca), ca2, cert2: await makeServerCert(ca2, "jim reloaded") };
  }
  return fixture;
}

async function tlsServer(overrides: Parameters<typeof startServer>[0] = {}) {
  const { cert } = await certs();
  const files = await tlsFiles(cert);
  const server = await startServer({ tlsCert: files.cert, tlsKey: files.key, ...overrides });
  return {
    server,
    files,
    async stop() {
      await server.stop();
      await Deno.remove(files.dir, { recursive: true });
    },
  };
}

async function tlsLogin(port: number, ca: TestCa, userId: string): Promise<JimClient> {
  const c = await JimClient.connectTcp({ port, tls: { caCerts: [ca.certPem] } });
  assert.equal((await c.login(userId, "pw")).body.code, 10007);
  return c;
}

async function wssLogin(port: number, ca: TestCa, userId: string): Promise<JimClient> {
  const c = await JimClient.connectWs({
    port,
    path: `/?username=${userId}&password=pw`,
    tls: { caCerts: [ca.certPem] },
  });
  assert.equal((await c.next(6)).body.code, 10007);
  return c;
}

async function chat(from: JimClient, to: JimClient, toId: string, content: string): Promise<void> {
  await from.send(11, { chatType: 2, to: toId, content });
  assert.equal((await from.next(12)).body.code, 10000);
  assert.equal(data(await to.next(11)).content, content);
}

/** Whether a TLS client trusting only `ca` completes a handshake with the server. */
async function handshakeWith(port: number, ca: TestCa, hostname = "127.0.0.1"): Promise<boolean> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({ hostname, port, caCerts: [ca.certPem] });
    await conn.handshake();
    return true;
  } catch (err) {
    assert.match(String(err), /certificate|UnknownIssuer/i);
    return false;
  } finally {
    try {
      conn?.close();
    } catch {
      // closed by the failed handshake
    }
  }
}

async function httpsGet(port: number, ca: TestCa, path: string) {
  const client = Deno.createHttpClient({ caCerts: [ca.certPem] });
  try {
    const res = await fetch(`https://127.0.0.1:${port}${path}`, { client });
    return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
  } finally {
    client.close();
  }
}

const utf8 = (text: string) => new TextEncoder().encode(text);
/** Content type of a TLS alert record. */
const TLS_ALERT = 0x15;

/** Sends raw bytes and reads until the server closes (within 5 s). */
async function sendAndReadToEnd(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 5000);
  const chunks: number[] = [];
  try {
    await conn.write(bytes);
    const buf = new Uint8Array(1024);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(...buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
  return new Uint8Array(chunks);
}

async function closeAll(...clients: JimClient[]): Promise<void> {
  for (const c of clients) c.close();
  await Promise.all(clients.map((c) => c.waitClosed().catch(() => {})));
}

Deno.test("tls: TLS-wrapped J-IM TCP and wss log in and chat on one port", async () => {
  const { ca } = await certs();
  const t = await tlsServer();
  try {
    const alice = await tlsLogin(t.server.port, ca, "alice");
    const bob = await wssLogin(t.server.port, ca, "bob");
    await chat(alice, bob, "bob", "hello over tls");
    await chat(bob, alice, "alice", "hi over wss");
    assert.equal(alice.protocolError, undefined);
    assert.equal(bob.protocolError, undefined);
    await closeAll(alice, bob);
  } finally {
    await t.stop();
  }
});

Deno.test("tls: https serves the page and the API on the same port", async () => {
  const { ca } = await certs();
  const t = await tlsServer();
  try {
    const page = await httpsGet(t.server.port, ca, "/");
    assert.equal(page.status, 200);
    assert.match(page.type ?? "", /^text\/html/);
    assert.match(page.body, /<html/i);
    const bob = await tlsLogin(t.server.port, ca, "bob");
    const online = await httpsGet(t.server.port, ca, "/api/user/online?userid=bob");
    assert.equal(online.status, 200);
    assert.equal(online.body, `{"code":10019,"msg":"online 用户在线"}`);
    const offline = await httpsGet(t.server.port, ca, "/api/user/online?userid=nobody");
    assert.equal(offline.body, `{"code":10001,"msg":"offline 用户不在线"}`);
    await closeAll(bob);
  } finally {
    await t.stop();
  }
});

Deno.test("tls: plain text or an untrusting client on the TLS port is closed; the server keeps serving", async () => {
  const { ca, ca2 } = await certs();
  const t = await tlsServer();
  try {
    // A J-IM TCP client without TLS: its frame is no ClientHello.
    const plainTcp = await JimClient.connectTcp({ port: t.server.port });
    await plainTcp.send(5, { userId: "mallory", password: "pw" });
    await plainTcp.waitClosed();
    assert.equal(plainTcp.pending.length, 0);
    // Plain HTTP, or random bytes: at most a TLS alert, then the connection ends.
    for (
      const bytes of [utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), crypto.getRandomValues(new Uint8Array(300))]
    ) {
      const answer = await sendAndReadToEnd(t.server.port, bytes);
      assert.ok(answer.length === 0 || answer[0] === TLS_ALERT, `answer: ${answer}`);
    }
    // A client that does not trust the certificate gives up during the handshake.
    assert.equal(await handshakeWith(t.server.port, ca2), false);
    await assert.rejects(JimClient.connectTcp({ port: t.server.port, tls: { caCerts: [ca2.certPem] } }));

    const alice = await tlsLogin(t.server.port, ca, "alice");
    const bob = await wssLogin(t.server.port, ca, "bob");
    await chat(alice, bob, "bob", "still serving");
    await closeAll(alice, bob);
  } finally {
    await t.stop();
  }
});

Deno.test("tls: --plain-port serves plain text beside the TLS port; --tcp-port is TLS too", async () => {
  const { ca } = await certs();
  const t = await tlsServer({ plainPort: 0, tcpPort: 0 });
  try {
    const addrs = t.server.app.addrs;
    assert.ok(addrs.plain && addrs.tcp);
    const alice = await JimClient.connectTcp({ port: addrs.plain.port });
    assert.equal((await alice.login("alice", "pw")).body.code, 10007);
    const bob = await JimClient.connectWs({ port: addrs.plain.port, path: "/?username=bob&password=pw" });
    assert.equal((await bob.next(6)).body.code, 10007);
    const carol = await tlsLogin(t.server.port, ca, "carol");
    const dave = await tlsLogin(addrs.tcp.port, ca, "dave");
    await chat(alice, bob, "bob", "plain to plain");
    await chat(alice, carol, "carol", "plain to tls");
    await chat(carol, dave, "dave", "tls to the tls tcp port");
    const res = await fetch(`http://127.0.0.1:${addrs.plain.port}/api/user/online?userid=carol`);
    assert.equal(await res.text(), `{"code":10019,"msg":"online 用户在线"}`);
    // The extra TCP port speaks TLS only.
    const plainOnTcpPort = await JimClient.connectTcp({ port: addrs.tcp.port });
    await plainOnTcpPort.send(5, { userId: "eve", password: "pw" });
    await plainOnTcpPort.waitClosed();
    await closeAll(alice, bob, carol, dave);
  } finally {
    await t.stop();
  }
});

Deno.test("tls: reloadTls() serves the new certificate and keeps open connections; bad files keep the old one", async () => {
  const { ca, ca2, cert2 } = await certs();
  const t = await tlsServer({ tcpPort: 0 });
  const { app } = t.server;
  const port = t.server.port;
  try {
    const alice = await tlsLogin(port, ca, "alice");
    const bob = await wssLogin(port, ca, "bob");
    await chat(alice, bob, "bob", "before the reload");

    await t.files.write(cert2);
    assert.equal(await app.reloadTls(), true);
    assert.equal(app.addrs.main.port, port);
    await chat(alice, bob, "bob", "after the reload");
    await chat(bob, alice, "alice", "still here");
    for (const p of [port, app.addrs.tcp!.port]) {
      assert.equal(await handshakeWith(p, ca2), true, `new certificate on ${p}`);
      assert.equal(await handshakeWith(p, ca), false, `old certificate gone from ${p}`);
    }
    const carol = await tlsLogin(port, ca2, "carol");
    await chat(carol, alice, "alice", "from a new connection");
    // Reloads in a row (SIGHUPs in quick succession) are serialised; chats go on meanwhile.
    const chats = chat(alice, bob, "bob", "during reloads");
    assert.deepEqual(await Promise.all([app.reloadTls(), app.reloadTls(), app.reloadTls()]), [
      true,
      true,
      true,
    ]);
    await chats;

    // Broken files: reloadTls() says no and the current certificate keeps serving.
    await Deno.writeTextFile(
      t.files.cert,
      "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
    );
    assert.equal(await app.reloadTls(), false);
    await t.files.write({ certPem: cert2.certPem, keyPem: (await certs()).cert.keyPem }); // key of another cert
    assert.equal(await app.reloadTls(), false);
    await Deno.remove(t.files.key);
    assert.equal(await app.reloadTls(), false);
    assert.equal(await handshakeWith(port, ca2), true);
    const dave = await tlsLogin(port, ca2, "dave");
    await chat(dave, alice, "alice", "after a failed reload");
    await chat(alice, bob, "bob", "the first connections are still open");
    await closeAll(alice, bob, carol, dave);
  } finally {
    await t.stop();
  }
});

Deno.test("tls: unusable files fail the start with a message naming them; reloadTls() without TLS is false", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jim-tls-" });
  const plain = await startServer();
  try {
    assert.equal(await plain.app.reloadTls(), false);
    await Deno.writeTextFile(`${dir}/bad.pem`, "not a certificate");
    const { cert } = await certs();
    await Deno.writeTextFile(`${dir}/good.key`, cert.keyPem);
    for (
      const [certPath, pattern] of [[`${dir}/missing.pem`, /--tls-cert .*missing\.pem: cannot read/], [
        `${dir}/bad.pem`,
        /bad\.pem .*not a usable certificate and key/,
      ]] as const
    ) {
      const dataDir = await Deno.makeTempDir({ prefix: "jim-tls-data-" });
      const app = await createApp({
        ...defaultConfig(),
        host: "127.0.0.1",
        port: 0,
        dataDir,
        tlsCert: certPath,
        tlsKey: `${dir}/good.key`,
      }, { log: createLogger({ level: "error", format: "text" }) });
      try {
        assert.throws(
          () => app.start(),
          (err: Error) => err instanceof TlsConfigError && pattern.test(err.message),
        );
      } finally {
        await app.stop();
        await Deno.remove(dataDir, { recursive: true });
      }
    }
  } finally {
    await plain.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

async function waitForLog(jim: { stderr(): string }, event: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (jim.stderr().split(`"event":"${event}"`).length - 1 < count) {
    if (Date.now() > deadline) throw new Error(`no ${event} log (#${count}):\n${jim.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// With --workers 2 each IO worker swaps its own listening socket; SIGHUP reaches them all.
for (const workers of [1, 2]) {
  Deno.test({
    name:
      `tls: SIGHUP reloads the certificate of a running jim without dropping connections (--workers ${workers})`,
    ignore: Deno.build.os === "windows",
    async fn() {
      const { ca, cert, ca2, cert2 } = await certs();
      const files = await tlsFiles(cert);
      const dataDir = await Deno.makeTempDir({ prefix: "jim-tls-data-" });
      const jim = await spawnJim([
        "--data-dir",
        dataDir,
        "--password-iterations",
        "1000",
        "--tls-cert",
        files.cert,
        "--tls-key",
        files.key,
        "--workers",
        String(workers),
      ]);
      try {
        const alice = await tlsLogin(jim.port, ca, "alice");
        const bob = await wssLogin(jim.port, ca, "bob");
        await chat(alice, bob, "bob", "before SIGHUP");
        // A plain-text client on the TLS port: closed, logged at info.
        const plain = await JimClient.connectTcp({ port: jim.port });
        await plain.send(5, { userId: "mallory", password: "pw" });
        await plain.waitClosed();
        await waitForLog(jim, "listener.tls_handshake_failed", 1);
        assert.match(jim.stderr(), /"level":"info","event":"listener.tls_handshake_failed"/);

        await files.write(cert2);
        jim.child.kill("SIGHUP");
        await waitForLog(jim, "tls.reloaded", workers);
        await chat(alice, bob, "bob", "after SIGHUP");
        await chat(bob, alice, "alice", "both ways");
        assert.equal(await handshakeWith(jim.port, ca2), true);
        assert.equal(await handshakeWith(jim.port, ca), false);
        const carol = await tlsLogin(jim.port, ca2, "carol");
        await chat(carol, alice, "alice", "new connection, new certificate");

        // A broken certificate file: logged, and the current certificate keeps serving.
        await Deno.writeTextFile(files.cert, "garbage");
        jim.child.kill("SIGHUP");
        await waitForLog(jim, "tls.reload_failed", workers);
        assert.match(jim.stderr(), /"event":"tls.reload_failed".*server\.pem/);
        assert.equal(await handshakeWith(jim.port, ca2), true);
        const dave = await tlsLogin(jim.port, ca2, "dave");
        await chat(dave, bob, "bob", "after a failed reload");
        await chat(alice, bob, "bob", "first connections still open");
        await closeAll(alice, bob, carol, dave);
      } finally {
        const status = await jim.stop("SIGTERM");
        await Deno.remove(files.dir, { recursive: true });
        await Deno.remove(dataDir, { recursive: true });
        assert.equal(status.code, 0, jim.stderr());
      }
    },
  });
}
