import assert from "node:assert/strict";
import { WebhookAuthenticator } from "./webhook.ts";

function fakeFetch(answer: (body: Record<string, unknown>) => Response | Promise<Response>) {
  const calls: Record<string, unknown>[] = [];
  const f = (async (_url: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body));
    calls.push(body);
    return await answer(body);
  }) as typeof fetch;
  return { f, calls };
}

Deno.test("webhook: decisions are cached by credentials, bounded, and shared while in flight", async () => {
  const { f, calls } = fakeFetch((b) => Response.json({ allow: b.password === "ok" }));
  const hook = new WebhookAuthenticator({
    url: "http://x/",
    timeoutMs: 1000,
    cacheSeconds: 60,
    maxEntries: 2,
    fetch: f,
  });
  const [a, b] = await Promise.all([
    hook.check({ userId: "u", password: "ok" }),
    hook.check({ userId: "u", password: "ok" }),
  ]);
  assert.deepEqual([a, b], [{ allow: true, userId: undefined }, { allow: true, userId: undefined }]);
  assert.equal(calls.length, 1, "one request for both");
  assert.equal((await hook.check({ userId: "u", password: "no" })).allow, false);
  assert.equal((await hook.check({ userId: "u", password: "no" })).allow, false);
  assert.equal(calls.length, 2);
  await hook.check({ userId: "v", password: "ok" }); // evicts the least recently used entry
  assert.equal(hook.cacheSize, 2);
  await hook.check({ userId: "u", password: "ok" });
  assert.equal(calls.length, 4, "the first entry was evicted");
  // Expired entries are asked again.
  await hook.check({ userId: "v", password: "ok" }, Date.now() + 61_000);
  assert.equal(calls.length, 5);
  // The remote address is sent but is not part of the key.
  await hook.check({ userId: "v", password: "ok", remote: "1.2.3.4:5" });
  assert.equal(calls.length, 5);
});

Deno.test("webhook: failures deny and are not cached; strange answers deny", async () => {
  let mode = "throw";
  const { f, calls } = fakeFetch(() => {
    switch (mode) {
      case "throw":
        throw new TypeError("connection refused");
      case "500":
        return new Response("oops", { status: 500 });
      case "302":
        return new Response(null, { status: 302, headers: { location: "http://elsewhere/" } });
      case "text":
        return new Response("allow");
      case "string-allow":
        return Response.json({ allow: "true" });
      default:
        return Response.json({ allow: true, userId: 42 });
    }
  });
  const hook = new WebhookAuthenticator({ url: "http://x/", timeoutMs: 1000, cacheSeconds: 60, fetch: f });
  for (const m of ["throw", "500", "302", "text", "bad-userid"]) {
    mode = m;
    const before = calls.length;
    assert.equal((await hook.check({ token: "t" })).allow, false, m);
    assert.equal((await hook.check({ token: "t" })).allow, false, m);
    assert.equal(calls.length, before + 2, `${m} is not cached`);
  }
  mode = "string-allow";
  assert.equal((await hook.check({ token: "t" })).allow, false);
  assert.equal(hook.cacheSize, 1, "a definitive deny is cached");
});
