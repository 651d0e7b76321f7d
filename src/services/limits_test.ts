import assert from "node:assert/strict";
import { FailureLockout, LoginGuard, MAX_LOCKOUT_MS } from "./login_guard.ts";
import {
  ConnectionGate,
  ipOf,
  OncePerWindow,
  RateLimiter,
  RequestLimiter,
  STRIKE_WINDOW_MS,
  STRIKES_TO_DISCONNECT,
} from "./limits.ts";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => t += ms };
}

Deno.test("rate limiter: burst, then the rate, refilled lazily", () => {
  const clock = fakeClock();
  const r = new RateLimiter({ rate: 10, now: clock.now });
  assert.equal(r.burst, 20);
  for (let i = 0; i < 20; i++) assert.equal(r.take("a"), true, `token ${i}`);
  assert.equal(r.take("a"), false);
  assert.equal(r.retryAfter("a"), 100);
  assert.equal(r.take("b"), true, "keys are independent");
  clock.advance(100);
  assert.equal(r.take("a"), true);
  assert.equal(r.take("a"), false);
  clock.advance(60_000);
  for (let i = 0; i < 20; i++) assert.equal(r.take("a"), true);
  assert.equal(r.take("a"), false, "refill stops at the burst");
});

Deno.test("rate limiter: 0 = unlimited", () => {
  const r = new RateLimiter({ rate: 0 });
  for (let i = 0; i < 10_000; i++) assert.equal(r.take("a"), true);
  assert.equal(r.size, 0);
});

Deno.test("rate limiter: the map stays bounded; idle buckets go first", () => {
  const clock = fakeClock();
  const r = new RateLimiter({ rate: 1, maxKeys: 100, now: clock.now });
  // "busy" has spent its tokens: it carries state and must survive the sweep.
  r.take("busy");
  r.take("busy");
  assert.equal(r.take("busy"), false);
  for (let i = 0; i < 99; i++) r.take(`k${i}`);
  clock.advance(10_000); // every other bucket is full again, "busy" refilled too...
  r.take("busy");
  r.take("busy"); // ...and emptied again
  for (let i = 0; i < 50; i++) r.take(`new${i}`);
  assert.ok(r.size <= 100, `size ${r.size}`);
  assert.equal(r.take("busy"), false, "the busy bucket kept its state");
  // When no bucket is idle the oldest go: the map never grows past its bound.
  for (let i = 0; i < 1000; i++) r.take(`more${i}`);
  assert.ok(r.size <= 100, `size ${r.size}`);
});

Deno.test("once per window", () => {
  const clock = fakeClock();
  const once = new OncePerWindow(1000, { now: clock.now, maxKeys: 10 });
  assert.equal(once.check("a"), true);
  assert.equal(once.check("a"), false);
  assert.equal(once.check("b"), true);
  clock.advance(1000);
  assert.equal(once.check("a"), true);
  for (let i = 0; i < 100; i++) once.check(`k${i}`);
});

Deno.test("ipOf strips the port, IPv6 included", () => {
  assert.equal(ipOf("127.0.0.1:5000"), "127.0.0.1");
  assert.equal(ipOf("::1:5000"), "::1");
  assert.equal(ipOf("2001:db8::7:443"), "2001:db8::7");
});

Deno.test("connection gate: per-IP count and connect rate", () => {
  const clock = fakeClock();
  const gate = new ConnectionGate({ maxPerIp: 2, connectRatePerIp: 0, now: clock.now });
  assert.equal(gate.admit("1.1.1.1"), undefined);
  assert.equal(gate.admit("1.1.1.1"), undefined);
  assert.equal(gate.admit("1.1.1.1"), "per-ip");
  assert.equal(gate.admit("2.2.2.2"), undefined);
  gate.release("1.1.1.1");
  assert.equal(gate.admit("1.1.1.1"), undefined);
  gate.release("1.1.1.1");
  gate.release("1.1.1.1");
  gate.release("1.1.1.1"); // more releases than admits never go negative
  assert.equal(gate.openFrom("1.1.1.1"), 0);

  const rated = new ConnectionGate({ maxPerIp: 0, connectRatePerIp: 2, now: clock.now });
  for (let i = 0; i < 4; i++) assert.equal(rated.admit("3.3.3.3"), undefined);
  assert.equal(rated.admit("3.3.3.3"), "connect-rate");
  assert.equal(rated.shouldLog("3.3.3.3", "connect-rate"), true);
  assert.equal(rated.shouldLog("3.3.3.3", "connect-rate"), false);
  clock.advance(500);
  assert.equal(rated.admit("3.3.3.3"), undefined);
});

Deno.test("request limiter: per connection, per user, strikes", () => {
  const clock = fakeClock();
  const limits = new RequestLimiter({ perConnection: 5, perUser: 8, now: clock.now });
  const a1 = { userId: "a" as string | undefined };
  const a2 = { userId: "a" as string | undefined };
  for (let i = 0; i < 10; i++) assert.equal(limits.admit(a1), 0);
  assert.equal(limits.admit(a1), 200, "connection bucket empty: 1 token per 200 ms");
  // The user's bucket (16) has 6 left: a2 gets them, then the user limit refuses.
  for (let i = 0; i < 6; i++) assert.equal(limits.admit(a2), 0);
  assert.ok(limits.admit(a2) > 0);
  clock.advance(1000);
  assert.equal(limits.admit(a2), 0);
  // Anonymous sessions only have the connection bucket.
  const anon = { userId: undefined };
  for (let i = 0; i < 10; i++) assert.equal(limits.admit(anon), 0);
  assert.ok(limits.admit(anon) > 0);
  for (let i = 1; i < STRIKES_TO_DISCONNECT; i++) assert.equal(limits.strike(anon), false);
  assert.equal(limits.strike(anon), true);
  clock.advance(STRIKE_WINDOW_MS);
  assert.equal(limits.strike(anon), false, "a new window starts over");
});

Deno.test("request limiter: 0 = unlimited", () => {
  const limits = new RequestLimiter({ perConnection: 0, perUser: 0 });
  const s = { userId: "u" };
  for (let i = 0; i < 10_000; i++) assert.equal(limits.admit(s), 0);
});

Deno.test("lockout: after N failures, doubling, capped, decays, reset", () => {
  const clock = fakeClock();
  const l = new FailureLockout({ maxFailures: 3, baseLockMs: 60_000, now: clock.now });
  assert.equal(l.fail("u"), 0);
  assert.equal(l.fail("u"), 0);
  assert.equal(l.fail("u"), 60_000);
  assert.equal(l.lockedFor("u"), 60_000);
  assert.equal(l.fail("u"), 0, "failures while locked do not count");
  clock.advance(60_000);
  assert.equal(l.lockedFor("u"), 0);
  l.fail("u");
  l.fail("u");
  assert.equal(l.fail("u"), 120_000, "the second lockout in a row doubles");
  for (let i = 0; i < 10; i++) {
    clock.advance(l.lockedFor("u"));
    l.fail("u");
    l.fail("u");
    l.fail("u");
  }
  assert.equal(l.lockedFor("u"), MAX_LOCKOUT_MS, "capped at 15 minutes");
  // A long quiet period forgets the level.
  clock.advance(MAX_LOCKOUT_MS + 10 * 60_000 + MAX_LOCKOUT_MS);
  l.fail("u");
  l.fail("u");
  assert.equal(l.fail("u"), 60_000);
  l.reset("u");
  assert.equal(l.lockedFor("u"), 0);
  // Failures spread over more than the window never lock.
  for (let i = 0; i < 10; i++) {
    assert.equal(l.fail("slow"), 0);
    l.fail("slow");
    clock.advance(10 * 60_000);
  }
});

Deno.test("lockout: the map stays bounded", () => {
  const clock = fakeClock();
  const l = new FailureLockout({ maxFailures: 5, baseLockMs: 1000, maxKeys: 50, now: clock.now });
  for (let i = 0; i < 1000; i++) l.fail(`user${i}`);
  assert.ok(l.size <= 50, `size ${l.size}`);
});

Deno.test("login guard: user and IP counted separately; success resets the user only", () => {
  const clock = fakeClock();
  const g = new LoginGuard({ failuresPerUser: 2, failuresPerIp: 3, lockoutMs: 1000, now: clock.now });
  g.failed("alice", "1.1.1.1");
  assert.equal(g.lockedFor("alice", "2.2.2.2"), 0);
  assert.equal(g.failed("alice", "2.2.2.2").userLock, 1000);
  assert.equal(g.lockedFor("alice", "3.3.3.3"), 1000, "the user is locked from every IP");
  assert.equal(g.lockedFor("bob", "1.1.1.1"), 0);
  g.failed("bob", "1.1.1.1");
  assert.equal(g.failed(undefined, "1.1.1.1").ipLock, 1000, "the third failure from the IP");
  assert.equal(g.lockedFor("carol", "1.1.1.1"), 1000, "the IP is locked for every user");
  clock.advance(1000);
  g.failed("bob", "4.4.4.4");
  g.succeeded("bob");
  g.failed("bob", "4.4.4.4");
  assert.equal(g.lockedFor("bob", "5.5.5.5"), 0, "success reset bob's count");
  const off = new LoginGuard({ failuresPerUser: 0, failuresPerIp: 0, lockoutMs: 1000 });
  for (let i = 0; i < 100; i++) off.failed("x", "1.1.1.1");
  assert.equal(off.lockedFor("x", "1.1.1.1"), 0);
});
