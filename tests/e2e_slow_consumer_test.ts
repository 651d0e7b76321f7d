/**
 * Slow consumers (docs/protocol.md §8): jim runs as a child process; 500 clients (half J-IM TCP,
 * half WebSocket) log in, are put in one group and then never read again, while well-behaved
 * clients keep chatting. Group traffic fills the slow consumers' socket buffers and then their
 * outboxes, and each one is disconnected when its outbox reaches --outbox-max-bytes.
 *
 * Asserted: every slow consumer is disconnected (server side: the sessions are gone and each was
 * logged as conn.slow_consumer; client side: reading the socket at last ends in EOF or a reset),
 * the server's peak RSS stays under baseline + 500 × the outbox bound + a margin, and the
 * well-behaved clients' send → receive latency stays low.
 */
import assert from "node:assert/strict";
import { JimClient, type ReceivedPacket } from "../src/client/jim_client.ts";
import { CMD } from "../src/protocol/commands.ts";
import { encodeTcpFrame } from "../src/protocol/frame.ts";
import { encodeJson } from "../src/protocol/json.ts";
import { type JimProcess, spawnJim } from "./_process.ts";
import { concatBytes, parseTcpFrame, parseWsFrame, str, utf8 } from "./_raw.ts";

const SLOW_CONSUMERS = 500;
const OUTBOX_BYTES = 256 * 1024;
const GROUP = "big";
/**
 * Group messages: 4 KiB at 75/s (under the default --rate-per-connection of 200/s) is 300 KiB/s
 * into every slow consumer. On loopback the kernel takes about 3 MiB per connection (both socket
 * buffers) before the server's outbox starts to fill, so the cut-off comes after ~10 s. Fan-out
 * is 37500 deliveries/s while all 500 are connected. (A well-behaved client must take the largest
 * burst it gets in one go: with group commit a few dozen messages may be delivered at once, well
 * within 256 KiB at this size.)
 */
const FLOOD_MESSAGE_BYTES = 4 * 1024;
const FLOOD_PER_SECOND = 75;
/** Private messages between the two well-behaved clients, each way. */
const CHAT_PER_SECOND = 20;
/**
 * The bound is baseline + 500 × 256 KiB (125 MiB: every outbox full of distinct bytes, the worst
 * case) + this margin for what a flood costs besides the outboxes: garbage awaiting GC, the
 * store worker's page cache, allocator slack. In practice the outboxes of a group's slow members
 * share the same frames (packets are framed once per protocol), so the peak stays far below.
 */
const RSS_MARGIN_BYTES = 64 * 1024 * 1024;
/**
 * A sanity bound on a small, noisy CI machine (2 cores, shared), not a benchmark: with the
 * slow consumers cut off, the others' messages must still flow without stalls.
 */
const P99_LATENCY_BOUND_MS = 200;

/**
 * The child's memory from /proc/PID/status. Read through `cat`: Deno lets a process read /proc
 * files directly only with --allow-all, and the test task runs with explicit permissions.
 */
async function rssOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" }).output();
  const status = new TextDecoder().decode(out.stdout);
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))![1]) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * A client that logs in, reads until its login reply, then never reads again. Everything the
 * server sends after that piles up in the socket buffers and then in the server's outbox.
 */
async function slowConsumer(port: number, userId: string, ws: boolean): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (ws) {
    await writeAll(
      conn,
      utf8(
        `GET /?username=${userId}&password=pw HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
  } else {
    await writeAll(conn, encodeTcpFrame(CMD.LOGIN_REQ, encodeJson({ cmd: 5, userId, password: "pw" })));
  }
  let buf: Uint8Array = new Uint8Array(0);
  let headDone = !ws;
  const chunk = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error(`${userId}: closed before the login reply`);
    buf = concatBytes(buf, chunk.subarray(0, n));
    if (!headDone) {
      const end = str(buf).indexOf("\r\n\r\n");
      if (end < 0) continue;
      if (!str(buf).startsWith("HTTP/1.1 101")) throw new Error(`${userId}: upgrade refused`);
      buf = buf.slice(utf8(str(buf).slice(0, end + 4)).length);
      headDone = true;
    }
    for (;;) {
      let body: string | undefined;
      if (ws) {
        const f = parseWsFrame(buf);
        if (!f) break;
        buf = buf.slice(f.used);
        body = str(f.value.payload);
      } else {
        const f = parseTcpFrame(buf);
        if (!f) break;
        buf = buf.slice(f.used);
        body = str(f.value.body);
      }
      const packet = JSON.parse(body);
      if (packet.command === CMD.LOGIN_RESP) {
        if (packet.code !== 10007) throw new Error(`${userId}: login failed: ${body}`);
        return conn;
      }
    }
  }
}

/** Reads what is left until EOF or a reset: true when the server closed the connection. */
async function drainToClose(conn: Deno.TcpConn, timeoutMs: number): Promise<boolean> {
  const buf = new Uint8Array(256 * 1024);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        conn.read(buf),
        new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), deadline - Date.now())),
      ]).finally(() => clearTimeout(timer));
      if (n === "timeout") return false;
      if (n === null) return true;
    }
    return false;
  } catch {
    return true; // reset by the server
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

interface Overview {
  connections: { tcp: number; ws: number; http: number; total: number };
  onlineUsers: number;
}

async function overview(port: number): Promise<Overview> {
  const res = await fetch(`http://127.0.0.1:${port}/api/admin/overview`);
  return await res.json();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

Deno.test({
  name: "slow consumers: 500 clients that never read are cut off; memory bounded, others unaffected",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "jim-slow-" });
    let jim: JimProcess | undefined;
    const slow: Deno.TcpConn[] = [];
    const clients: JimClient[] = [];
    try {
      jim = await spawnJim([
        "--data-dir",
        dataDir,
        "--outbox-max-bytes",
        String(OUTBOX_BYTES),
        "--default-groups",
        GROUP,
        "--password-iterations",
        "1000",
        // Every client of this test comes from 127.0.0.1: lift the per-IP limits only.
        "--max-connections-per-ip",
        "0",
        "--connect-rate-per-ip",
        "0",
      ]);
      const { port } = jim;
      const pid = jim.child.pid;

      // The well-behaved clients: A (TCP) and B (WebSocket) chat privately; F floods the group.
      const a = await JimClient.connectTcp({ port });
      const b = await JimClient.connectWs({ port, path: "/?username=b&password=pw" });
      const f = await JimClient.connectTcp({ port });
      clients.push(a, b, f);
      assert.equal((await a.login("a", "pw")).body.code, 10007);
      assert.equal((await b.next(CMD.LOGIN_RESP)).body.code, 10007);
      assert.equal((await f.login("f", "pw")).body.code, 10007);

      // 500 slow consumers, half TCP, half WebSocket, a few at a time.
      for (let i = 0; i < SLOW_CONSUMERS; i += 25) {
        const batch = [];
        for (let j = i; j < Math.min(i + 25, SLOW_CONSUMERS); j++) {
          batch.push(slowConsumer(port, `slow${j}`, j % 2 === 1));
        }
        slow.push(...await Promise.all(batch));
      }
      const before = await overview(port);
      assert.equal(before.onlineUsers, SLOW_CONSUMERS + 3);
      // Let the server settle (GC after the logins), then take the baseline.
      await new Promise((r) => setTimeout(r, 1000));
      const baseline = (await rssOf(pid)).rss;
      const bound = baseline + SLOW_CONSUMERS * OUTBOX_BYTES + RSS_MARGIN_BYTES;

      // Latency probes. Private A ↔ B: the content is the send time. Group: F's messages at A.
      const latencies: number[] = [];
      const groupLatencies: number[] = [];
      const onChat = (into: number[]) => (p: ReceivedPacket) => {
        if (p.command !== CMD.CHAT_REQ) return;
        const data = p.body.data as { content?: string; from?: string };
        const sentAt = Number(data.content?.slice(0, data.content.indexOf(" ")));
        if (Number.isFinite(sentAt) && sentAt > 0) into.push(performance.now() - sentAt);
      };
      const privateProbe = onChat(latencies);
      const groupProbe = onChat(groupLatencies);
      a.onPacket((p) => (p.body.data as { from?: string })?.from === "f" ? groupProbe(p) : privateProbe(p));
      b.onPacket((p) => (p.body.data as { from?: string })?.from === "f" ? undefined : privateProbe(p));
      // Replies are consumed so the clients' queues stay small.
      for (const c of clients) {
        c.onPacket(() => {});
      }

      let running = true;
      let flooding = true;
      let peakRss = 0;
      const sampler = (async () => {
        while (running) {
          peakRss = Math.max(peakRss, (await rssOf(pid)).rss);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const sendErrors: string[] = [];
      const pace = async (perSecond: number, send: (i: number) => Promise<void>, flood = false) => {
        const start = performance.now();
        for (let i = 0; running && (flooding || !flood); i++) {
          try {
            await send(i);
          } catch (err) {
            sendErrors.push(String(err));
            return;
          }
          const due = start + (i + 1) * 1000 / perSecond;
          await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
        }
      };
      const padding = "x".repeat(FLOOD_MESSAGE_BYTES);
      let floodSent = 0;
      const loops = [
        pace(FLOOD_PER_SECOND, async () => {
          floodSent++;
          await f.send(CMD.CHAT_REQ, {
            chatType: 1,
            groupId: GROUP,
            content: `${performance.now()} ${padding}`,
          });
        }, true),
        pace(
          CHAT_PER_SECOND,
          (i) => a.send(CMD.CHAT_REQ, { chatType: 2, to: "b", content: `${performance.now()} a${i}` }),
        ),
        pace(
          CHAT_PER_SECOND,
          (i) => b.send(CMD.CHAT_REQ, { chatType: 2, to: "a", content: `${performance.now()} b${i}` }),
        ),
      ];

      // Wait (generously) until the server has cut off every slow consumer, watching its log (which
      // costs the server nothing, unlike polling its admin API). With unbounded outboxes this
      // would run to the timeout, holding 300 KiB/s × 500 more every second.
      const floodStart = performance.now();
      const slowCutOff = () => jim!.stderr().match(/"event":"conn\.slow_consumer"/g)?.length ?? 0;
      while (performance.now() - floodStart < 120_000 && slowCutOff() < SLOW_CONSUMERS) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const cutOffMs = performance.now() - floodStart;
      // The flood has done its job; A and B keep chatting a little longer. (Flooding on would
      // measure something else: every group message now queued for 500 offline members.)
      flooding = false;
      await new Promise((r) => setTimeout(r, 2000));
      running = false;
      await Promise.all([...loops, sampler]);
      const { hwm } = await rssOf(pid);
      peakRss = Math.max(peakRss, hwm);

      const sorted = [...latencies].sort((x, y) => x - y);
      const groupSorted = [...groupLatencies].sort((x, y) => x - y);
      const report = {
        cutOffMs: Math.round(cutOffMs),
        floodMessages: floodSent,
        floodBytesPerConsumer: mib(floodSent * FLOOD_MESSAGE_BYTES),
        baselineRss: mib(baseline),
        peakRss: mib(peakRss),
        rssBound: mib(bound),
        privateMessages: sorted.length,
        privateP50Ms: percentile(sorted, 0.5)?.toFixed(1),
        privateP99Ms: percentile(sorted, 0.99)?.toFixed(1),
        privateMaxMs: sorted[sorted.length - 1]?.toFixed(1),
        groupMessages: groupSorted.length,
        groupP50Ms: percentile(groupSorted, 0.5)?.toFixed(1),
        groupP99Ms: percentile(groupSorted, 0.99)?.toFixed(1),
      };
      console.log("slow consumer report:", JSON.stringify(report));
      assert.deepEqual(sendErrors, [], "the well-behaved clients could always send");

      // Server side: every slow consumer was cut off for being slow, and its session is gone.
      assert.equal(slowCutOff(), SLOW_CONSUMERS);
      const after = await overview(port);
      assert.equal(
        after.connections.tcp + after.connections.ws,
        3,
        `still connected: ${JSON.stringify(after)}`,
      );
      assert.equal(after.onlineUsers, 3);
      // Client side: reading at last ends in EOF or a reset.
      const closed = await Promise.all(slow.map((c) => drainToClose(c, 60_000)));
      slow.length = 0;
      assert.equal(closed.filter((c) => !c).length, 0, "slow consumers whose socket stayed open");
      // Memory stayed bounded.
      assert.ok(peakRss <= bound, `peak RSS ${mib(peakRss)} over the bound ${mib(bound)}`);
      // The well-behaved clients kept chatting, promptly.
      assert.ok(sorted.length >= CHAT_PER_SECOND, `only ${sorted.length} private messages arrived`);
      assert.ok(groupSorted.length > 0, "no group message arrived");
      const p99 = percentile(sorted, 0.99);
      assert.ok(p99 < P99_LATENCY_BOUND_MS, `private p99 ${p99.toFixed(1)} ms`);
      assert.ok(percentile(groupSorted, 0.99) < P99_LATENCY_BOUND_MS, "group p99");
    } finally {
      for (const c of slow) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
      for (const c of clients) c.close();
      if (jim) await jim.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
