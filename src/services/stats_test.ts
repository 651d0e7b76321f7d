import assert from "node:assert/strict";
import { MAX_ERROR_MESSAGE, MAX_RECENT_ERRORS, RATE_SECONDS, Stats } from "./stats.ts";

function clock(start: number) {
  const c = { t: start, now: () => c.t };
  return c;
}

Deno.test("stats: per-second rings cover the last 60 s, oldest first", () => {
  const c = clock(1_000_000_500);
  const stats = new Stats({ now: c.now });
  stats.messageStored(2);
  stats.messageStored(1);
  stats.login(true);
  c.t += 1000;
  stats.messageStored(0);
  stats.login(false);
  let s = stats.snapshot();
  assert.equal(s.messagesPerSecond.length, RATE_SECONDS);
  assert.deepEqual(s.messagesPerSecond.slice(-2), [2, 1]);
  assert.deepEqual(s.loginsPerSecond.slice(-2), [1, 1]);
  assert.equal(s.messagesPerSecond.slice(0, -2).reduce((a, b) => a + b), 0);
  assert.deepEqual(s.totals, {
    messagesReceived: 0,
    messagesStored: 3,
    deliveries: 3,
    loginsOk: 1,
    loginsFailed: 1,
    errors: 0,
    errorsByCode: {},
    outboxDrops: 0,
  });

  // 58 s later the first second is the oldest bucket; one more and it is gone.
  c.t += 58_000;
  s = stats.snapshot();
  assert.deepEqual([s.messagesPerSecond[0], s.messagesPerSecond[1]], [2, 1]);
  c.t += 1000;
  s = stats.snapshot();
  assert.deepEqual([s.messagesPerSecond[0], s.messagesPerSecond.at(-1)], [1, 0]);
  stats.messageStored(5);
  assert.equal(stats.snapshot().messagesPerSecond.at(-1), 1);

  // A long silence clears everything; totals stay.
  c.t += 3_600_000;
  s = stats.snapshot();
  assert.equal(s.messagesPerSecond.reduce((a, b) => a + b), 0);
  assert.equal(s.totals.messagesStored, 4);
  assert.equal(stats.uptimeSeconds, 3_660);
});

Deno.test("stats: recent errors are a bounded ring, newest first, counted by code or name", () => {
  const c = clock(5_000);
  const stats = new Stats({ now: c.now });
  assert.deepEqual(stats.recentErrors(), []);
  for (let i = 0; i < MAX_RECENT_ERRORS + 5; i++) {
    c.t++;
    stats.error({ event: "request.refused", code: 10025, message: `m${i}`, userId: "u", session: i });
  }
  stats.error({ event: "request.internal_error", error: "TypeError", message: "x".repeat(500) });
  const recent = stats.recentErrors();
  assert.equal(recent.length, MAX_RECENT_ERRORS);
  assert.equal(recent[0].error, "TypeError");
  assert.equal(recent[0].message.length, MAX_ERROR_MESSAGE + 1);
  assert.equal(recent[1].message, `m${MAX_RECENT_ERRORS + 4}`);
  assert.equal(recent[1].time, 5_000 + MAX_RECENT_ERRORS + 5);
  assert.equal(recent.at(-1)!.message, "m6");
  assert.deepEqual(stats.totals().errorsByCode, { "10025": MAX_RECENT_ERRORS + 5, TypeError: 1 });
  assert.equal(stats.totals().errors, MAX_RECENT_ERRORS + 6);
  assert.equal(stats.recentErrors(2).length, 2);
  // Copies: changing one changes nothing kept.
  recent[0].message = "changed";
  assert.notEqual(stats.recentErrors()[0].message, "changed");
});

Deno.test("stats: delivery latency counts messages delivered to someone; outbox drops add up", () => {
  const stats = new Stats();
  stats.messageReceived();
  stats.messageReceived();
  stats.messageStored(2, 0.003);
  stats.messageStored(0, 0.5); // nobody online: no delivery, no latency
  stats.outboxDropped();
  const h = stats.deliveryLatency();
  assert.equal(h.count, 1);
  assert.equal(h.sum, 0.003);
  assert.equal(h.counts[h.bounds.findIndex((b) => b >= 0.003)], 1);
  const totals = stats.totals();
  assert.equal(totals.messagesReceived, 2);
  assert.equal(totals.messagesStored, 2);
  assert.equal(totals.outboxDrops, 1);
});
