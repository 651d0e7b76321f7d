/**
 * /metrics over a real socket: scraped before and after real traffic (TCP and WebSocket logins,
 * chats, a refused chat, a slow consumer cut off), every figure named in docs moves as it should,
 * and the histograms are well-formed Prometheus histograms.
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { encodeTcpFrame } from "../src/protocol/frame.ts";
import { encodeJson } from "../src/protocol/json.ts";
import { loggedInTcp, loggedInWs, startServer } from "./_server.ts";

type Samples = Map<string, number>;

async function scrape(port: number): Promise<{ text: string; samples: Samples }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return { text, samples };
}

const get = (s: Samples, key: string) => s.get(key) ?? 0;

/** Checks the histogram's shape: cumulative buckets ending in +Inf = _count. */
function assertHistogram(text: string, samples: Samples, name: string): number {
  assert.match(text, new RegExp(`^# TYPE ${name} histogram$`, "m"));
  const buckets = [...samples].filter(([k]) => k.startsWith(`${name}_bucket{`));
  assert.ok(buckets.length > 2, `${name} has buckets`);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], "cumulative");
  assert.equal(buckets.at(-1)![0], `${name}_bucket{le="+Inf"}`);
  const count = get(samples, `${name}_count`);
  assert.equal(buckets.at(-1)![1], count);
  assert.ok(get(samples, `${name}_sum`) >= 0);
  return count;
}

Deno.test("/metrics: logins, messages in and out, latencies, errors and outbox drops move with traffic", async () => {
  const server = await startServer({ outboxMaxBytes: 1024 });
  try {
    const before = await scrape(server.port);
    const commitsBefore = assertHistogram(before.text, before.samples, "jim_store_commit_seconds");
    assertHistogram(before.text, before.samples, "jim_delivery_latency_seconds");

    const alice = await loggedInTcp(server, "alice");
    const bob = await loggedInWs(server, "bob");
    const wrong = await server.tcp();
    assert.equal((await wrong.login("alice", "not-her-password")).body.code, 10008);
    for (let i = 0; i < 3; i++) {
      await alice.send(11, { chatType: 2, to: "bob", content: `m${i}` });
      assert.equal((await alice.next(12)).body.code, 10000);
      await bob.next(11);
    }
    await alice.send(11, { chatType: 2, to: "nobody-here", content: "?" });
    assert.equal((await alice.next(12)).body.code, 10025);

    const mid = await scrape(server.port);
    const s = mid.samples;
    assert.ok(get(s, 'jim_connections{protocol="tcp"}') >= 1);
    assert.equal(get(s, 'jim_connections{protocol="ws"}'), 1);
    assert.ok(get(s, 'jim_connections{protocol="http"}') >= 1, "this scrape's own connection");
    assert.equal(get(s, "jim_online_users"), 2);
    assert.equal(get(s, 'jim_logins_total{result="ok"}'), 2);
    assert.equal(get(s, 'jim_logins_total{result="failed"}'), 1);
    assert.equal(get(s, "jim_messages_received_total"), 4);
    assert.equal(get(s, "jim_messages_stored_total"), 3);
    assert.equal(get(s, "jim_deliveries_total"), 3);
    assert.equal(get(s, 'jim_errors_total{code="10025"}'), 1);
    assert.equal(assertHistogram(mid.text, s, "jim_delivery_latency_seconds"), 3);
    assert.ok(assertHistogram(mid.text, s, "jim_store_commit_seconds") > commitsBefore, "commits counted");
    assert.equal(get(s, "jim_outbox_drops_total"), 0);
    assert.ok(s.has("jim_event_loop_lag_seconds"));
    // README's "Metrics to scrape" names every metric served.
    const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
    for (const [, name] of mid.text.matchAll(/^# TYPE (\w+) /gm)) {
      assert.ok(readme.includes(`| \`${name}`), `${name} is not in README's metrics table`);
    }

    // A client that logs in and never reads: big messages fill the socket buffers, then its
    // 1 KiB outbox, and it is cut off.
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await slow.write(encodeTcpFrame(5, encodeJson({ cmd: 5, userId: "slow", password: "pw" }), 0));
    assert.ok(await slow.read(new Uint8Array(4096)), "the login reply");
    const sender = await loggedInTcp(server, "sender");
    const big = "x".repeat(512 * 1024);
    let drops = 0;
    for (let i = 0; i < 40 && drops === 0; i++) {
      await sender.send(11, { chatType: 2, to: "slow", content: big });
      await sender.next(12, 10_000);
      drops = get((await scrape(server.port)).samples, "jim_outbox_drops_total");
    }
    assert.equal(drops, 1);
    slow.close();
    for (const c of [alice, bob, wrong, sender] as JimClient[]) c.close();
  } finally {
    await server.stop();
  }
});
