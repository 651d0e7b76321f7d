/**
 * End to end over real sockets: the admin page (`/admin`, `/admin.js`) and its API under
 * `/api/admin/` — overview by protocol, rates, recent errors, groups and members, kick, system
 * messages, and the API token.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { JimClient } from "../src/client/jim_client.ts";
import { BODY, bodyOf, expectBody, waitOffline, waitUntil, withServer } from "./_e2e.ts";
import { loggedInTcp, loggedInWs, type TestServer } from "./_server.ts";

interface Fetched {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

async function call(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Fetched> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const get = (server: TestServer, path: string, headers?: Record<string, string>) =>
  call(server, "GET", path, undefined, headers);
const post = (server: TestServer, path: string, body: unknown, headers?: Record<string, string>) =>
  call(server, "POST", path, body, headers);

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Joins and takes the joiner's own cmd 9 (other members' notifies stay queued). */
async function join(c: JimClient, groupId: string, userId: string): Promise<void> {
  await c.send(7, { groupId });
  const p = await c.next((p) => p.command === 9 && p.body.group === groupId);
  assert.equal(bodyOf(p), BODY.joinNotify(groupId, userId));
}

/** The ChatBody of the next cmd 11 delivery. */
async function nextChat(c: JimClient): Promise<Record<string, unknown>> {
  return (await c.next(11)).body.data as Record<string, unknown>;
}

Deno.test("admin: overview counts connections by protocol and lists online users", async () => {
  await withServer(async (server) => {
    const aliceTcp = await loggedInTcp(server, "alice");
    const aliceWs = await loggedInWs(server, "alice");
    const bobWs = await loggedInWs(server, "bob");
    const anonymous = await server.tcp(); // connected, not logged in
    await anonymous.send(13, {});
    await anonymous.next(13);

    const r = await get(server, "/api/admin/overview");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(r.headers.get("cache-control"), "no-store");
    const o = r.json;
    assert.equal(o.connections.tcp, 2);
    assert.equal(o.connections.ws, 2);
    // This request's own connection is an HTTP one.
    assert.ok(o.connections.http >= 1, JSON.stringify(o.connections));
    assert.equal(o.connections.total, o.connections.tcp + o.connections.ws + o.connections.http);
    assert.equal(o.onlineUsers, 2);
    assert.deepEqual(o.users.map((u: { userId: string }) => u.userId), ["alice", "bob"]);
    const alice = o.users[0];
    assert.equal(alice.nick, "alice");
    assert.deepEqual(alice.sessions.map((s: { protocol: string }) => s.protocol), ["tcp", "ws"]);
    for (const s of alice.sessions) {
      assert.equal(typeof s.id, "number");
      assert.match(s.remote, /^127\.0\.0\.1:\d+$/);
      assert.ok(Math.abs(Date.now() - s.connectedAt) < 60_000);
    }
    assert.equal(o.rates.messagesPerSecond.length, 60);
    assert.equal(o.rates.loginsPerSecond.length, 60);
    assert.equal(sum(o.rates.loginsPerSecond), 3);
    assert.equal(o.totals.loginsOk, 3);
    assert.equal(o.totals.loginsFailed, 0);
    assert.deepEqual(o.recentErrors, []);
    assert.equal(typeof o.version, "string");
    assert.ok(o.uptimeSeconds >= 0);

    // Closed connections leave the counts.
    aliceTcp.close();
    bobWs.close();
    await waitOffline(server, "bob");
    await waitUntil(
      () => server.app.services.registry.sessionsOf("alice").size === 1,
      "alice has one session",
    );
    const after = (await get(server, "/api/admin/overview")).json;
    assert.equal(after.connections.ws, 1);
    assert.equal(after.connections.tcp, 1);
    assert.deepEqual(after.users.map((u: { userId: string }) => u.userId), ["alice"]);
    aliceWs.close();
    anonymous.close();
  });
});

Deno.test("admin: rates and totals move after chats; a refused chat is a recent error", async () => {
  await withServer(async (server) => {
    const alice = await loggedInTcp(server, "alice");
    const bob = await loggedInWs(server, "bob");
    for (let i = 0; i < 3; i++) {
      await alice.send(11, { chatType: 2, to: "bob", msgType: 0, content: `hi ${i}` });
      await expectBody(alice, 12, BODY.sent);
      await bob.next(11);
    }
    // A failed login counts too (and closes that connection).
    const mallory = await server.tcp();
    await mallory.login("alice", "Guess-7f3a");
    await mallory.waitClosed();

    // A chat to a user who does not exist: 10025, recorded with who asked.
    await alice.send(11, { chatType: 2, to: "ghost", msgType: 0, content: "boo" });
    await expectBody(alice, 12, BODY.userNotFound);
    // An unparsable body: 10023.
    await alice.sendRaw(new Uint8Array([0x01, 0x51, 11, 0, 0, 0, 1, 0x7b]));
    await expectBody(alice, 12, BODY.chatBadRequest);

    const o = (await get(server, "/api/admin/overview")).json;
    assert.equal(sum(o.rates.messagesPerSecond), 3);
    assert.equal(o.totals.messagesStored, 3);
    assert.equal(o.totals.deliveries, 3);
    assert.equal(o.totals.loginsOk, 2);
    assert.equal(o.totals.loginsFailed, 1);
    assert.equal(sum(o.rates.loginsPerSecond), 3);
    assert.equal(o.totals.errors, 2);
    assert.deepEqual(o.totals.errorsByCode, { "10023": 1, "10025": 1 });
    const [bad, notFound] = o.recentErrors;
    assert.equal(bad.event, "request.bad_body");
    assert.equal(bad.code, 10023);
    assert.equal(notFound.event, "request.refused");
    assert.equal(notFound.code, 10025);
    assert.equal(notFound.cmd, 11);
    assert.equal(notFound.userId, "alice");
    assert.equal(typeof notFound.session, "number");
    assert.equal(typeof notFound.message, "string");
    assert.ok(Math.abs(Date.now() - notFound.time) < 60_000);
    // Never a password.
    assert.doesNotMatch(JSON.stringify(o), /Guess-7f3a/);
  });
});

Deno.test("admin: groups with member and online counts, paged; members with online status", async () => {
  await withServer(async (server) => {
    const alice = await loggedInTcp(server, "alice");
    const bob = await loggedInWs(server, "bob");
    const carol = await loggedInTcp(server, "carol");
    await join(alice, "g1", "alice");
    await join(bob, "g1", "bob");
    await join(carol, "g1", "carol");
    await join(alice, "g2", "alice");
    carol.close();
    await waitOffline(server, "carol");

    let r = await get(server, "/api/admin/groups");
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.json.groups.map((g: Record<string, unknown>) => [g.groupId, g.name, g.memberCount, g.onlineCount]),
      [["g1", "g1", 3, 2], ["g2", "g2", 1, 1]],
    );
    assert.equal(r.json.next, undefined);

    r = await get(server, "/api/admin/groups?limit=1");
    assert.deepEqual(r.json.groups.map((g: { groupId: string }) => g.groupId), ["g1"]);
    assert.equal(r.json.next, "g1");
    r = await get(server, "/api/admin/groups?limit=1&after=g1");
    assert.deepEqual(r.json.groups.map((g: { groupId: string }) => g.groupId), ["g2"]);
    r = await get(server, "/api/admin/groups?after=g2");
    assert.deepEqual(r.json.groups, []);
    for (const bad of ["0", "-1", "1.5", "x", "1001"]) {
      r = await get(server, `/api/admin/groups?limit=${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(typeof r.json.error, "string");
    }

    r = await get(server, "/api/admin/groups/members?groupId=g1");
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      groupId: "g1",
      name: "g1",
      onlineCount: 2,
      members: [
        { userId: "alice", online: true },
        { userId: "bob", online: true },
        { userId: "carol", online: false },
      ],
      truncated: false,
    });
    assert.equal((await get(server, "/api/admin/groups/members?groupId=nope")).status, 404);
    assert.equal((await get(server, "/api/admin/groups/members")).status, 400);
  });
});

Deno.test("admin: kick closes every TCP and WebSocket session of the user", async () => {
  await withServer(async (server) => {
    const aliceTcp = await loggedInTcp(server, "alice");
    const aliceWs = await loggedInWs(server, "alice");
    const bob = await loggedInTcp(server, "bob");
    const r = await post(server, "/api/admin/kick", { userId: "alice" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { closed: 2 });
    await aliceTcp.waitClosed();
    await aliceWs.waitClosed();
    // KICKED_CLOSE_CODE: clients do not reconnect on their own after an operator's kick.
    assert.equal(aliceWs.closeCode, 4001);
    await waitOffline(server, "alice");
    assert.equal(server.app.services.registry.isOnline("bob"), true);
    assert.equal(bob.closed, false);

    assert.deepEqual((await post(server, "/api/admin/kick", { userId: "nobody" })).json, { closed: 0 });
    for (const body of [{}, { userId: "" }, { userId: ["a"] }, "not json"]) {
      const bad = await post(server, "/api/admin/kick", body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(typeof bad.json.error, "string");
    }
  });
});

Deno.test("admin: a system message reaches a user and a group", async () => {
  await withServer(async (server) => {
    const alice = await loggedInTcp(server, "alice");
    const bob = await loggedInWs(server, "bob");
    await join(alice, "g1", "alice");
    await join(bob, "g1", "bob");

    let r = await post(server, "/api/admin/message", { to: "bob", content: "maintenance at 5" });
    assert.equal(r.status, 200);
    assert.equal(r.text, BODY.sent);
    let chat = await nextChat(bob);
    assert.equal(chat.from, "system");
    assert.equal(chat.to, "bob");
    assert.equal(chat.content, "maintenance at 5");
    assert.equal(chat.chatType, 2);

    r = await post(server, "/api/admin/message", { groupId: "g1", content: "hello group", from: "ops" });
    assert.equal(r.text, BODY.sent);
    for (const c of [alice, bob]) {
      chat = await nextChat(c);
      assert.equal(chat.from, "ops");
      assert.equal(chat.groupId, "g1");
      assert.equal(chat.content, "hello group");
    }

    // An offline user gets it stored (10001); unknown targets are 404.
    alice.close();
    await waitOffline(server, "alice");
    r = await post(server, "/api/admin/message", { to: "alice", content: "later" });
    assert.equal(r.status, 200);
    assert.equal(r.text, BODY.offline);
    r = await post(server, "/api/admin/message", { to: "ghost", content: "x" });
    assert.equal(r.status, 404);
    assert.equal(r.text, BODY.userNotFound);
    r = await post(server, "/api/admin/message", { groupId: "nope", content: "x" });
    assert.equal(r.status, 404);

    const o = (await get(server, "/api/admin/overview")).json;
    assert.equal(o.totals.messagesStored, 3);

    for (
      const body of [
        { content: "x" },
        { to: "bob", groupId: "g1", content: "x" },
        { to: "bob" },
        { to: "bob", content: "" },
        { to: "bob", content: "x", from: "bad\u0001" },
        "{",
      ]
    ) {
      r = await post(server, "/api/admin/message", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(typeof r.json.error, "string");
    }
  });
});

Deno.test("admin: unknown paths are 404, wrong methods 405", async () => {
  await withServer(async (server) => {
    assert.equal((await get(server, "/api/admin/nope")).status, 404);
    assert.equal((await get(server, "/api/admin/")).status, 404);
    const wrong = await get(server, "/api/admin/kick");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "POST");
    assert.equal((await post(server, "/api/admin/overview", {})).status, 405);
    assert.equal((await post(server, "/admin", {})).status, 405);
  });
});

Deno.test("admin: with --api-token the API needs it (401 without); the page does not", async () => {
  await withServer(async (server) => {
    for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
      const r = await get(server, "/api/admin/overview", headers);
      assert.equal(r.status, 401);
      assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="jim"');
    }
    assert.equal((await post(server, "/api/admin/kick", { userId: "a" })).status, 401);
    const ok = await get(server, "/api/admin/overview", { authorization: "Bearer s3cret" });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.onlineUsers, 0);
    assert.equal((await get(server, "/admin")).status, 200);
    assert.equal((await get(server, "/admin.js")).status, 200);
  }, { apiToken: "s3cret" });
});

Deno.test("admin: GET /admin is the page, /admin.js its script, under a strict CSP", async () => {
  await withServer(async (server) => {
    const page = await get(server, "/admin");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /default-src 'none'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.match(page.text, /<script src="\/admin.js" defer><\/script>/);
    // No inline script; the one stylesheet is allowed by its hash.
    assert.equal(page.text.match(/<script/g)?.length, 1);
    const style = page.text.match(/<style>([\s\S]*?)<\/style>/)![1];
    const hash = createHash("sha256").update(style).digest("base64");
    assert.ok(csp.includes(`style-src 'sha256-${hash}'`), csp);
    for (
      const id of [
        "admin-token",
        "admin-login",
        "admin-error",
        "admin-protocols",
        "admin-online",
        "admin-groups",
        "admin-rates",
        "admin-errors",
        "sys-target-type",
        "sys-target",
        "sys-content",
        "sys-send",
        "sys-result",
      ]
    ) {
      assert.match(page.text, new RegExp(`id="${id}"`), id);
    }
    for (const p of ["tcp", "ws", "http"]) assert.match(page.text, new RegExp(`data-protocol="${p}"`));

    const script = await get(server, "/admin.js");
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(script.text, /\/api\/admin\/overview/);
    assert.match(script.text, /sessionStorage/);
    // Everything from the server goes in as text.
    assert.doesNotMatch(script.text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    // It parses.
    new Function(script.text);

    const head = await call(server, "HEAD", "/admin");
    assert.equal(head.status, 200);
    assert.equal(head.text, "");
  });
});
