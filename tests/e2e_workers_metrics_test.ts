/**
 * `--workers 2` and the operator endpoints, on the real program as a child process: with
 * `--admin-port` the process starts (only the first worker binds that port) and `/metrics` there
 * reports both workers' samples, each labelled with its worker, every metric family once; without
 * it, whichever worker the main port hands the scrape to answers for both. Counters move on the
 * worker that did the work; the cluster-wide online-user gauge reads the same on both.
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { type JimProcess, spawnJim } from "./_process.ts";
import { httpGet, parseHttpResponse, RawConn } from "./_raw.ts";

type Samples = Map<string, number>;

interface Overview {
  node: string;
  nodes: Record<string, number>;
  users: { userId: string; nodes: Record<string, number> }[];
}

function parseSamples(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return samples;
}

/**
 * The merged text is well formed: each family's HELP and TYPE once, its samples right after
 * them (never split by another family), every sample labelled with a worker except the gauge
 * about the scrape itself.
 */
function assertMerged(text: string): void {
  const types = new Set<string>();
  const helps = new Set<string>();
  let family: string | undefined;
  for (const line of text.trimEnd().split("\n")) {
    const meta = line.match(/^# (HELP|TYPE) (\S+)/);
    if (meta) {
      const seen = meta[1] === "TYPE" ? types : helps;
      assert.ok(!seen.has(meta[2]), `# ${meta[1]} ${meta[2]} appears once`);
      seen.add(meta[2]);
      family = meta[2];
      continue;
    }
    const name = line.match(/^[a-zA-Z_:][a-zA-Z0-9_:]*/)![0];
    assert.ok(
      family !== undefined &&
        (name === family || ["_bucket", "_sum", "_count"].includes(name.slice(family.length))),
      `${line} follows its own family's TYPE (not ${family})`,
    );
    if (name === "jim_cluster_metrics_missing_nodes") assert.doesNotMatch(line, /worker=/);
    else assert.match(line, /\{(.*,)?worker="w[01]"\} /, `${line} has a worker label`);
  }
  assert.ok(types.has("jim_delivery_latency_seconds") && types.has("jim_logins_total"));
}

const get = (s: Samples, key: string) => s.get(key) ?? NaN;

/** One HTTP request on a fresh raw connection, or on `conn` (keep-alive: the same worker). */
async function request(port: number, path: string, conn?: RawConn) {
  const c = conn ?? await RawConn.open(port);
  try {
    await c.write(httpGet(path));
    return await c.take(parseHttpResponse);
  } finally {
    if (!conn) await c.close();
  }
}

async function overview(port: number, conn?: RawConn): Promise<Overview> {
  const res = await request(port, "/api/admin/overview", conn);
  assert.equal(res.status, 200, res.text);
  return JSON.parse(res.text);
}

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface User {
  id: string;
  client: JimClient;
}

/**
 * Logs clients in over TCP until each worker holds at least `perWorker` of them (the kernel
 * spreads connections over the workers' sockets); the overview on `opsPort` says where each is.
 */
async function usersOnBothWorkers(
  port: number,
  opsPort: number,
  perWorker: number,
): Promise<Map<string, User[]>> {
  const byNode = new Map<string, User[]>([["w0", []], ["w1", []]]);
  for (let i = 0; i < 64 && [...byNode.values()].some((l) => l.length < perWorker); i++) {
    const id = `m${i}`;
    const client = await JimClient.connectTcp({ port });
    assert.equal((await client.login(id, "pw")).body.code, 10007);
    const node = await until(`presence of ${id}`, async () => {
      const nodes = (await overview(opsPort)).users.find((u) => u.userId === id)?.nodes;
      return nodes ? Object.keys(nodes)[0] : undefined;
    });
    byNode.get(node)!.push({ id, client });
  }
  assert.ok(
    [...byNode.values()].every((l) => l.length >= perWorker),
    `both workers got connections: ${[...byNode].map(([n, l]) => `${n}=${l.length}`)}`,
  );
  return byNode;
}

const args = (dataDir: string) => [
  "--workers",
  "2",
  "--data-dir",
  dataDir,
  "--password-iterations",
  "1000",
  "--connect-rate-per-ip",
  "0",
];

Deno.test("--workers 2 --admin-port: starts, the first worker serves the admin port, /metrics reports both workers", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-workers-metrics-" });
  let jim: JimProcess | undefined;
  const clients: JimClient[] = [];
  try {
    jim = await spawnJim([...args(dataDir), "--admin-port", "0"]);
    const port = jim.port;
    const log = jim.stderr();
    const admin = Number(log.match(/"event":"server.started".*"admin":"127\.0\.0\.1:(\d+)"/)?.[1]);
    assert.ok(admin > 0, `server.started names the admin port:\n${log}`);
    // One admin listener: w0's; w1 bound none (before the fix it bound its own or failed).
    assert.match(log, /"event":"worker.started"[^\n]*"admin":"127\.0\.0\.1:\d+"[^\n]*"node":"w0"/);
    assert.doesNotMatch(log, /"event":"worker.started"[^\n]*"admin":[^\n]*"node":"w1"/);
    const a = `http://127.0.0.1:${admin}`;
    assert.equal(await (await fetch(`${a}/readyz`)).text(), '{"status":"ok"}');

    const byNode = await usersOnBothWorkers(port, admin, 2);
    for (const list of byNode.values()) clients.push(...list.map((u) => u.client));
    const counts = await until("sessions per worker in the overview", async () => {
      const { nodes } = await overview(admin);
      return nodes.w0 === byNode.get("w0")!.length && nodes.w1 === byNode.get("w1")!.length
        ? nodes
        : undefined;
    });
    const scrape = async () => {
      const res = await fetch(`${a}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      assertMerged(text);
      return { text, s: parseSamples(text) };
    };
    const before = await scrape();
    for (const w of ["w0", "w1"]) {
      assert.equal(get(before.s, `jim_logins_total{result="ok",worker="${w}"}`), counts[w], `logins on ${w}`);
      assert.equal(get(before.s, `jim_connections{protocol="tcp",worker="${w}"}`), counts[w]);
    }
    assert.equal(get(before.s, "jim_cluster_metrics_missing_nodes"), 0);
    // README's "Metrics to scrape" names every metric served, the cluster one too.
    const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
    for (const [, name] of before.text.matchAll(/^# TYPE (\w+) /gm)) {
      assert.ok(readme.includes(`| \`${name}`), `${name} is not in README's metrics table`);
    }

    // Traffic on both workers: 3 chats from each to a user on the other one, 1 refused on w1.
    const [x] = byNode.get("w0")!;
    const [y] = byNode.get("w1")!;
    for (let i = 0; i < 3; i++) {
      for (const [from, to] of [[x, y], [y, x]]) {
        await from.client.send(11, { chatType: 2, to: to.id, content: `c${i}`, createTime: i });
        assert.equal((await from.client.next(12)).body.code, 10000);
        await to.client.next(11);
      }
    }
    await y.client.send(11, { chatType: 2, to: "nobody-here", content: "?" });
    assert.equal((await y.client.next(12)).body.code, 10025);

    const after = await scrape();
    const moved = (key: string) => get(after.s, key) - (before.s.get(key) ?? 0);
    assert.equal(moved('jim_messages_received_total{worker="w0"}'), 3);
    assert.equal(moved('jim_messages_received_total{worker="w1"}'), 4);
    assert.equal(moved('jim_messages_stored_total{worker="w0"}'), 3);
    assert.equal(moved('jim_messages_stored_total{worker="w1"}'), 3);
    assert.equal(moved('jim_errors_total{code="10025",worker="w1"}'), 1);
    assert.ok(!after.s.has('jim_errors_total{code="10025",worker="w0"}'), "the error is w1's only");
    assert.equal(
      moved('jim_deliveries_total{worker="w0"}') + moved('jim_deliveries_total{worker="w1"}'),
      6,
      "every chat delivered once, counted by one worker",
    );
    for (const w of ["w0", "w1"]) {
      assert.ok(get(after.s, `jim_delivery_latency_seconds_count{worker="${w}"}`) >= 0);
      assert.ok(after.s.has(`jim_event_loop_lag_seconds{worker="${w}"}`));
      assert.ok(after.s.has(`jim_store_commit_seconds_count{worker="${w}"}`));
    }
    // Online users is already cluster-wide: every worker reports the whole count.
    const total = counts.w0 + counts.w1;
    await until("both workers count every online user", async () => {
      const { s } = await scrape();
      return get(s, 'jim_online_users{worker="w0"}') === total &&
          get(s, 'jim_online_users{worker="w1"}') === total
        ? true
        : undefined;
    });

    // The route split holds on every worker: fresh connections (spread over both) get 404.
    for (let i = 0; i < 8; i++) {
      for (const path of ["/metrics", "/api/admin/overview"]) {
        assert.equal((await request(port, path)).status, 404, `main port ${path}`);
      }
    }

    const status = await jim.stop("SIGTERM");
    assert.equal(status.code, 0, jim.stderr());
    jim = undefined;
  } finally {
    for (const c of clients) c.close();
    if (jim) await jim.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("--workers 2 without --admin-port: whichever worker takes the scrape on the main port reports both", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-workers-metrics-" });
  let jim: JimProcess | undefined;
  const clients: JimClient[] = [];
  try {
    jim = await spawnJim(args(dataDir));
    const port = jim.port;
    const byNode = await usersOnBothWorkers(port, port, 1);
    for (const list of byNode.values()) clients.push(...list.map((u) => u.client));
    // A keep-alive connection stays on one worker: the overview names it, /metrics follows.
    const answered = new Set<string>();
    for (let i = 0; i < 40 && answered.size < 2; i++) {
      const conn = await RawConn.open(port);
      try {
        const { node } = await overview(port, conn);
        const res = await request(port, "/metrics", conn);
        assert.equal(res.status, 200);
        assertMerged(res.text);
        const s = parseSamples(res.text);
        for (const w of ["w0", "w1"]) {
          assert.equal(
            get(s, `jim_logins_total{result="ok",worker="${w}"}`),
            byNode.get(w)!.length,
            `${node} reports ${w}'s logins`,
          );
        }
        assert.equal(get(s, "jim_cluster_metrics_missing_nodes"), 0);
        answered.add(node);
      } finally {
        await conn.close();
      }
    }
    assert.deepEqual([...answered].sort(), ["w0", "w1"], "both workers answered a scrape");
  } finally {
    for (const c of clients) c.close();
    if (jim) await jim.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
