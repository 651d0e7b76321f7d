/**
 * Fuzzing the whole program: jim runs as a child process (a crash shows as the process exiting)
 * while tests/fuzz/fuzz_runner.ts feeds it ≥100k mutated J-IM TCP frames, WebSocket frames and
 * HTTP requests from a fixed seed, and two well-behaved clients (one TCP, one WebSocket) chat
 * with each other the whole time, checking every message arrives intact.
 *
 * Environment:
 * - JIM_FUZZ_SEED    seed (decimal or 0x-hex; default 0x6a696d), printed with the results
 * - JIM_FUZZ_INPUTS  number of inputs (default 100000; `deno task fuzz` runs 1000000)
 * - JIM_FUZZ_ONLY    comma-separated input indices to replay, one lane (reproducing a failure)
 * - JIM_FUZZ_CONCURRENCY  lanes (default 24)
 * - JIM_FUZZ_DEADLINE_MS  ceiling for the run (default max(90 s, 1.5 ms per input)); hitting it fails
 */
import assert from "node:assert/strict";
import { JimClient, type ReceivedPacket } from "../src/client/jim_client.ts";
import { spawnJim } from "./_process.ts";
import { type FuzzStats, hex, runFuzz } from "./fuzz/fuzz_runner.ts";
import { parseSeed } from "./fuzz/_prng.ts";

const DEFAULT_SEED = "0x6a696d";
const env = (name: string) => Deno.env.get(name)?.trim() || undefined;

const seed = parseSeed(env("JIM_FUZZ_SEED") ?? DEFAULT_SEED);
const only = env("JIM_FUZZ_ONLY")?.split(",").map((s) => Number(s.trim()));
const inputs = only ? Math.max(...only) + 1 : Number(env("JIM_FUZZ_INPUTS") ?? 100_000);
const concurrency = only ? 1 : Number(env("JIM_FUZZ_CONCURRENCY") ?? 24);
/** A ceiling only: the run must finish every input before it (1.5 ms per input, at least 90 s). */
const deadlineMs = Number(env("JIM_FUZZ_DEADLINE_MS") ?? Math.max(90_000, inputs * 1.5));
const HANDSHAKE_TIMEOUT = 1000;
/**
 * Every fuzz connection comes from 127.0.0.1, so the per-IP abuse limits (connect rate, connections
 * per IP, login-failure lockouts) would turn the run into refused connections and locked-out
 * logins: they are off. The request rate limits stay on (their 10026 refusals are answers too).
 */
const LIMITS_OFF: Record<string, string> = {
  JIM_CONNECT_RATE_PER_IP: "0",
  JIM_MAX_CONNECTIONS_PER_IP: "0",
  JIM_LOGIN_FAILURES_PER_IP: "0",
  JIM_LOGIN_FAILURES_PER_USER: "0",
};
/** Generous: the server sits around 200 MiB under this load; unbounded growth would cross it. */
const MAX_RSS_MIB = 1024;
const ARTIFACTS = new URL("../test-artifacts/fuzz", import.meta.url).pathname;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Message texts that exercise escaping and UTF-8; every 25th is 20 KB. */
function goodContent(from: string, i: number): string {
  const base = `${from} #${i} ✓ 你好 🎉 "q" \\ \n\t <b>&amp;</b> \u00e9\u0301`;
  return i % 25 === 0 ? base + " " + "长".repeat(7000) : base;
}

interface PairStats {
  sent: number;
  delivered: number;
  maxLatencyMs: number;
  errors: string[];
}

/**
 * Sends private messages from → to one after another until `stop()`: each must be acked 10000
 * and arrive at `to` in order, byte for byte, with the right sender.
 */
async function chatLoop(
  from: JimClient,
  fromId: string,
  to: JimClient,
  toId: string,
  stop: () => boolean,
): Promise<PairStats> {
  const s: PairStats = { sent: 0, delivered: 0, maxLatencyMs: 0, errors: [] };
  for (let i = 0; !stop() && s.errors.length === 0; i++) {
    const content = goodContent(fromId, i);
    const started = Date.now();
    try {
      await from.send(11, { chatType: 2, to: toId, msgType: 0, content, createTime: started });
      s.sent++;
      const ack = await from.next(12, 10_000);
      if (ack.body.code !== 10000) throw new Error(`ack ${JSON.stringify(ack.body)}`);
      const got: ReceivedPacket = await to.next(11, 10_000);
      const data = got.body.data as Record<string, unknown>;
      if (data.from !== fromId || data.to !== toId || data.chatType !== 2 || data.content !== content) {
        throw new Error(`message ${i} arrived altered: ${JSON.stringify(data).slice(0, 300)}`);
      }
      s.delivered++;
      s.maxLatencyMs = Math.max(s.maxLatencyMs, Date.now() - started);
    } catch (e) {
      s.errors.push(`${fromId} → ${toId} message ${i}: ${(e as Error).message}`);
    }
    await sleep(5);
  }
  return s;
}

/**
 * Resident memory (MiB) and CPU time (s) of a process, from `ps` (Deno needs --allow-all to read
 * /proc, while the test tasks grant --allow-run); undefined where `ps` is not available.
 */
async function processStats(pid: number): Promise<{ rssMiB: number; cpuSeconds: number } | undefined> {
  try {
    const out = await new Deno.Command("ps", { args: ["-o", "rss=,times=", "-p", String(pid)] }).output();
    const [rss, times] = new TextDecoder().decode(out.stdout).trim().split(/\s+/).map(Number);
    if (!out.success || !Number.isFinite(rss) || !Number.isFinite(times)) return undefined;
    return { rssMiB: Math.round(rss / 1024), cpuSeconds: times };
  } catch {
    return undefined;
  }
}

function report(stats: FuzzStats, extra: Record<string, unknown>): string {
  const { failures: _, late: __, ...rest } = stats;
  return JSON.stringify({ ...rest, ...extra }, null, 1);
}

/** Samples the server's resident memory every second until stopped; the peak, if measured. */
function sampleRss(pid: number): { stop(): Promise<number | undefined> } {
  let peak: number | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rss = (await processStats(pid))?.rssMiB;
      if (rss !== undefined) peak = Math.max(peak ?? 0, rss);
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

Deno.test({
  name: `fuzz: ${inputs} mutated TCP / WebSocket / HTTP inputs (seed ${seed}) never crash or hang jim`,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "jim-fuzz-" });
    const jim = await spawnJim([
      "--data-dir",
      dataDir,
      "--handshake-timeout",
      String(HANDSHAKE_TIMEOUT),
      "--heartbeat-timeout",
      "5000",
      "--password-iterations",
      "1000",
    ], LIMITS_OFF);
    let exited: Deno.CommandStatus | undefined;
    const exitWatch = jim.child.status.then((s) => exited = s);
    const clients: JimClient[] = [];
    const firstRss = (await processStats(jim.child.pid))?.rssMiB;
    const rss = sampleRss(jim.child.pid);
    let stopped = false;
    try {
      // Two well-behaved clients, chatting through the whole run.
      const tcpId = `good-tcp-${seed}`;
      const wsId = `good-ws-${seed}`;
      const goodTcp = await JimClient.connectTcp({ port: jim.port });
      clients.push(goodTcp);
      assert.equal((await goodTcp.login(tcpId, "good-pw")).body.code, 10007);
      const goodWs = await JimClient.connectWs({
        port: jim.port,
        path: `/?username=${wsId}&password=good-pw`,
      });
      clients.push(goodWs);
      assert.equal((await goodWs.next(6)).body.code, 10007);
      let stopChat = false;
      const chats = Promise.all([
        chatLoop(goodTcp, tcpId, goodWs, wsId, () => stopChat),
        chatLoop(goodWs, wsId, goodTcp, tcpId, () => stopChat),
      ]);

      console.log(`fuzz: seed ${seed} (JIM_FUZZ_SEED=${seed}), ${inputs} inputs, ${concurrency} lanes`);
      let lastPrint = 0;
      const stats = await runFuzz({
        port: jim.port,
        seed,
        inputs,
        only,
        concurrency,
        deadlineMs,
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT,
        onProgress: (s) => {
          if (s.elapsedMs - lastPrint < 10_000) return;
          lastPrint = s.elapsedMs;
          console.log(
            `  ${s.inputs} inputs, ${Math.round(s.elapsedMs / 1000)} s, ${s.failures.length} failures`,
          );
        },
      });
      stopChat = true;
      const [tcpToWs, wsToTcp] = await chats;
      const peakRss = await rss.stop();
      const server = await processStats(jim.child.pid);
      const self = await processStats(Deno.pid);

      const extra = {
        tcpToWs: { ...tcpToWs, errors: tcpToWs.errors.length },
        wsToTcp: { ...wsToTcp, errors: wsToTcp.errors.length },
        serverRssMiB: { start: firstRss, peak: peakRss, end: server?.rssMiB },
        serverLogMiB: Math.round(jim.stderr().length / 1048576),
        cpuSeconds: { server: server?.cpuSeconds, fuzzer: self?.cpuSeconds },
      };
      console.log(`fuzz: seed ${seed}\n${report(stats, extra)}`);
      if (stats.lateCount > 0) {
        console.log(
          `late answers (after ${2000} ms, within the grace period): ${stats.lateCount}, e.g. ` +
            stats.late.slice(0, 10).map((l) => `#${l.index} ${l.ms} ms`).join(", "),
        );
      }
      for (const e of [...tcpToWs.errors, ...wsToTcp.errors]) console.log(`well-behaved client: ${e}`);

      for (const f of stats.failures) {
        // The whole input goes to a file (the log shows its first 1 KiB).
        const file = `${ARTIFACTS}/seed-${seed}-input-${f.index}.bin`;
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        await Deno.writeFile(file, f.bytes);
        console.log(
          `\nFAILURE ${f.reason} — input ${f.index} (${f.kind}, ${f.class ?? "-"}): ${f.detail}\n` +
            `  label: ${f.label}\n  connection: ${f.connection}; earlier inputs on it: [${f.previous}]\n` +
            `  writes: [${f.writes}]\n  bytes (${f.bytes.length}, all in ${file}): ${hex(f.bytes, 1024)}\n` +
            `  reproduce: JIM_FUZZ_SEED=${seed} JIM_FUZZ_ONLY=${[...f.previous, f.index].join(",")} ` +
            `deno test -A tests/fuzz_test.ts`,
        );
      }
      // Internal errors (10027) and unexpected connection errors the server logged.
      const serverErrors = jim.stderr().split("\n").filter((l) =>
        /"level":"error"/.test(l) || /"event":"(conn|http)\.error"/.test(l)
      );
      for (const l of serverErrors.slice(0, 10)) console.log(`server error log: ${l.slice(0, 2000)}`);

      // The process survived and still serves a fresh client.
      assert.equal(exited, undefined, `jim exited: ${JSON.stringify(exited)}\n${jim.stderr().slice(-4000)}`);
      const fresh = await JimClient.connectTcp({ port: jim.port });
      clients.push(fresh);
      assert.equal((await fresh.login(`fresh-${seed}`, "pw")).body.code, 10007);
      await fresh.send(11, { chatType: 2, to: wsId, msgType: 0, content: "after the storm" });
      assert.equal((await fresh.next(12)).body.code, 10000);
      const last = await goodWs.next(11);
      assert.equal((last.body.data as Record<string, unknown>).content, "after the storm");
      const health = await fetch(`http://127.0.0.1:${jim.port}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });

      // Nothing failed, and memory stayed bounded.
      const failures = stats.failures.map((f) => `${f.reason} #${f.index}`);
      assert.deepEqual(failures, [], `seed ${seed}: see the FAILURE lines above`);
      assert.equal(stats.inputs, only ? only.length : inputs, `deadline hit after ${stats.inputs} inputs`);
      assert.deepEqual(
        [...tcpToWs.errors, ...wsToTcp.errors],
        [],
        "the well-behaved clients saw every message",
      );
      assert.ok(tcpToWs.delivered > 0 && wsToTcp.delivered > 0, "the well-behaved clients chatted");
      assert.ok(!goodTcp.closed && !goodWs.closed, "the well-behaved clients are still connected");
      assert.deepEqual(serverErrors.slice(0, 10), [], "the server logged internal errors");
      if (peakRss === undefined) console.log("server memory not measured (no ps)");
      else assert.ok(peakRss < MAX_RSS_MIB, `server memory peaked at ${peakRss} MiB`);

      // And it still shuts down cleanly.
      for (const c of clients) c.close();
      stopped = true;
      const status = await jim.stop("SIGTERM");
      assert.equal(status.code, 0, `exit status ${JSON.stringify(status)}\n${jim.stderr().slice(-4000)}`);
    } finally {
      await rss.stop();
      for (const c of clients) c.close();
      await Promise.all(clients.map((c) => c.waitClosed(2000).catch(() => {})));
      if (!stopped) await jim.stop("SIGTERM");
      await exitWatch;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
