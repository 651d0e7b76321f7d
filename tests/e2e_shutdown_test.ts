/**
 * Graceful shutdown of the real program: a jim child process with TCP, WebSocket and HTTP clients
 * receives SIGTERM / SIGINT. Clients are told (WebSocket close 1001, TCP closed after its outbox,
 * idle HTTP keep-alive closed), chats acked before or during the stop are in the database after
 * the restart, and a connection that will not finish is dropped at --shutdown-timeout.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { JimClient } from "../src/client/jim_client.ts";
import { spawnJim } from "./_process.ts";

const FAST = ["--password-iterations", "1000"];

/** The JSON log lines of a child's stderr with the given event. */
function events(stderr: string, event: string): Record<string, unknown>[] {
  return stderr.split("\n").filter((l) => l.includes(`"event":"${event}"`)).map((l) => JSON.parse(l));
}

async function readUntilClosed(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let out = "";
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    // reset by the server: closed too
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  return out;
}

function storedIds(dataDir: string, from: string): string[] {
  const db = new DatabaseSync(`${dataDir}/jim.db`, { readOnly: true });
  try {
    return db.prepare("SELECT msg_id FROM messages WHERE from_user = ? ORDER BY row_id").all(from)
      .map((r) => String(r.msg_id));
  } finally {
    db.close();
  }
}

Deno.test("SIGTERM tells TCP, WebSocket and HTTP clients, keeps what was acked and exits 0", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-shutdown-" });
  try {
    const jim = await spawnJim(["--data-dir", dataDir, ...FAST, "--shutdown-timeout", "8"]);
    let stopped = false;
    try {
      const alice = await JimClient.connectTcp({ port: jim.port });
      assert.equal((await alice.login("alice", "pw-a")).body.code, 10007);
      const bob = await JimClient.connectWs({ port: jim.port, path: "/?username=bob&password=pw-b" });
      assert.equal((await bob.next(6)).body.code, 10007);
      await alice.send(11, { chatType: 2, to: "bob", content: "before the stop", id: "m-1" });
      assert.equal((await alice.next(12)).body.code, 10000);
      assert.equal(((await bob.next(11)).body.data as { content: string }).content, "before the stop");
      await bob.send(11, { chatType: 2, to: "alice", content: "reply", id: "m-2" });
      assert.equal((await bob.next(12)).body.code, 10000);

      // An HTTP keep-alive connection between two requests.
      const http = await Deno.connect({ hostname: "127.0.0.1", port: jim.port });
      await http.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: jim\r\n\r\n"));
      const first = new Uint8Array(4096);
      const n = await http.read(first);
      const head = new TextDecoder().decode(first.subarray(0, n ?? 0));
      assert.match(head, /^HTTP\/1\.1 200/);
      assert.doesNotMatch(head, /connection: close/i);

      const status = await jim.stop("SIGTERM");
      stopped = true;
      assert.equal(status.code, 0, jim.stderr());
      await bob.waitClosed();
      assert.equal(bob.closeCode, 1001);
      assert.equal(bob.closeReason, "server shutting down");
      await alice.waitClosed();
      assert.equal(await readUntilClosed(http), "", "the idle keep-alive connection is closed, nothing sent");

      const log = jim.stderr();
      assert.equal(events(log, "server.stopping").length, 1, log);
      assert.equal(events(log, "server.shutdown_timeout").length, 0, log);
      assert.equal(events(log, "server.stopped").length, 1, log);
      const closes = events(log, "conn.close").filter((e) => e.reason === "server shutting down");
      assert.deepEqual(closes.map((e) => e.protocol).sort(), ["tcp", "ws"], log);
      alice.close();
      bob.close();
    } finally {
      if (!stopped) await jim.stop("SIGKILL");
    }

    const again = await spawnJim(["--data-dir", dataDir, ...FAST]);
    try {
      const alice = await JimClient.connectTcp({ port: again.port });
      assert.equal((await alice.login("alice", "pw-a")).body.code, 10007);
      await alice.send(19, { type: 1, userId: "alice", fromUserId: "bob" });
      const friends = ((await alice.next(20)).body.data as { friends: Record<string, { content: string }[]> })
        .friends;
      assert.deepEqual(friends.bob.map((m) => m.content), ["before the stop", "reply"]);
      alice.close();
    } finally {
      assert.equal((await again.stop("SIGINT")).code, 0, again.stderr());
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("SIGTERM during pipelined chats: every acked chat is stored, every stored chat was acked", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-shutdown-pipe-" });
  try {
    const jim = await spawnJim([
      "--data-dir",
      dataDir,
      ...FAST,
      "--rate-per-connection",
      "0",
      "--rate-per-user",
      "0",
    ]);
    let stopped = false;
    const acked: string[] = [];
    try {
      const bob = await JimClient.connectTcp({ port: jim.port });
      assert.equal((await bob.login("bob", "pw-b")).body.code, 10007);
      bob.close();
      const alice = await JimClient.connectTcp({ port: jim.port });
      await alice.send(5, { userId: "alice", password: "pw-a", extensions: true });
      assert.equal((await alice.next(6)).body.code, 10007);
      alice.onPacket((p) => {
        const data = p.body.data as { id?: string } | undefined;
        if (p.command === 12 && data?.id && acked.push(data.id) === 20) jim.child.kill("SIGTERM");
      });
      // Chats keep going out while the signal arrives (at the 20th ack): those in progress are
      // acked, later ones are not taken.
      const sending = (async () => {
        for (let i = 0; i < 2000 && !alice.closed; i++) {
          await alice.send(11, { chatType: 2, to: "bob", content: `n${i}`, id: `p-${i}` }).catch(() => {});
        }
      })();
      const status = await jim.child.status;
      stopped = true;
      assert.equal(status.code, 0, jim.stderr());
      await sending;
      await alice.waitClosed();
    } finally {
      if (!stopped) await jim.stop("SIGKILL");
    }
    const stored = storedIds(dataDir, "alice");
    assert.ok(acked.length >= 20 && acked.length < 2000, `${acked.length} acks`);
    assert.deepEqual(stored, acked, "acked and stored chats are the same, in order");
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a connection that does not finish is dropped at --shutdown-timeout; jim still exits 0", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-shutdown-timeout-" });
  try {
    const jim = await spawnJim(["--data-dir", dataDir, ...FAST, "--shutdown-timeout", "1"]);
    let stopped = false;
    try {
      // Half an HTTP request head: the server waits for the rest (up to --handshake-timeout, 10 s).
      const slow = await Deno.connect({ hostname: "127.0.0.1", port: jim.port });
      await slow.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\n"));
      const ws = await JimClient.connectWs({ port: jim.port, path: "/?username=carol&password=pw-c" });
      assert.equal((await ws.next(6)).body.code, 10007);

      const status = await jim.stop("SIGTERM");
      stopped = true;
      assert.equal(status.code, 0, jim.stderr());
      await ws.waitClosed();
      assert.equal(ws.closeCode, 1001);
      await readUntilClosed(slow);
      const log = jim.stderr();
      const timeout = events(log, "server.shutdown_timeout");
      assert.equal(timeout.length, 1, log);
      assert.equal(timeout[0].dropped, 1);
      assert.equal(events(log, "server.stopped").length, 1, log);
      ws.close();
    } finally {
      if (!stopped) await jim.stop("SIGKILL");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("SIGTERM with --workers 2: every worker tells its clients (1001) and drains; exit 0", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-shutdown-workers-" });
  try {
    const jim = await spawnJim(["--data-dir", dataDir, ...FAST, "--workers", "2", "--shutdown-timeout", "8"]);
    let stopped = false;
    try {
      // Enough connections that the kernel gives both workers some (SO_REUSEPORT hashing).
      const clients = [];
      for (let i = 0; i < 8; i++) {
        const c = await JimClient.connectWs({ port: jim.port, path: `/?username=u${i}&password=pw` });
        assert.equal((await c.next(6)).body.code, 10007);
        clients.push(c);
      }
      const status = await jim.stop("SIGTERM");
      stopped = true;
      assert.equal(status.code, 0, jim.stderr());
      for (const c of clients) {
        await c.waitClosed();
        assert.equal(c.closeCode, 1001);
        c.close();
      }
      const log = jim.stderr();
      // Each worker drains its own connections; the supervisor logs the process's stop once.
      const closes = events(log, "conn.close").filter((e) => e.reason === "server shutting down");
      assert.equal(closes.length, 8, log);
      assert.equal(events(log, "server.stopping").length, 2, log);
      assert.equal(events(log, "server.shutdown_timeout").length, 0, log);
    } finally {
      if (!stopped) await jim.stop("SIGKILL");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
