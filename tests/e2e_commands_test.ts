/**
 * End-to-end over real sockets: cmd 1, 3, 5, 13, 14, 21, unknown commands, the login guard and
 * TCP synSeq. Chat, groups and messages are in e2e_chat_test.ts, e2e_groups_test.ts and
 * e2e_messages_test.ts.
 */
import assert from "node:assert/strict";
import { ROUTES } from "../src/router/routes.ts";
import { encodeTcpFrame } from "../src/protocol/frame.ts";
import { loggedInTcp, loggedInWs } from "./_server.ts";
import {
  assertQuiet,
  BODY,
  bodyOf,
  expectBody,
  expectNext,
  hex,
  rawTcpExchange,
  registerOffline,
  waitUntil,
  withServer,
} from "./_e2e.ts";

const enc = new TextEncoder();

// ---- cmd 1 handshake ----

Deno.test("cmd 1: handshake over TCP answers cmd 2 with hbyte -127 and needs no login", async () => {
  await withServer(async (server) => {
    const c = await server.tcp();
    await c.send(1, { hbyte: -127 });
    await expectNext(c, 2, BODY.handshake);
    // An empty body works as well; the connection stays usable.
    await c.sendRaw(encodeTcpFrame(1, new Uint8Array(0)));
    await expectNext(c, 2, BODY.handshake);
    await assertQuiet(c);
  });
});

Deno.test("cmd 1: a TCP handshake whose body is the raw byte 0x81 (not JSON) is answered all the same", async () => {
  await withServer(async (server) => {
    const c = await server.tcp();
    await c.sendRaw(encodeTcpFrame(1, new Uint8Array([0x81])));
    await expectNext(c, 2, BODY.handshake);
    await assertQuiet(c);
  });
});

Deno.test("cmd 1: handshake message over WebSocket answers cmd 2 and keeps the connection", async () => {
  await withServer(async (server) => {
    const c = await server.ws();
    await c.send(1, {});
    await expectNext(c, 2, BODY.handshake);
    await assertQuiet(c);
    assert.equal(c.closed, false);
  });
});

// ---- cmd 3 auth ----

Deno.test("cmd 3: auth echoes the request minus cmd with token + authKey (TCP and WS)", async () => {
  await withServer(async (server) => {
    const t = await server.tcp();
    await t.send(3, { token: "校验码" });
    await expectNext(
      t,
      4,
      `{"code":10009,"command":4,"data":{"token":"校验码authKey"},"msg":"ok 鉴权成功!"}`,
    );
    const w = await server.ws();
    await w.send(3, { token: "t1", extra: 5 });
    await expectNext(
      w,
      4,
      `{"code":10009,"command":4,"data":{"extra":5,"token":"t1authKey"},"msg":"ok 鉴权成功!"}`,
    );
    // No state change: a command that needs login is still refused.
    await w.send(17, { type: 0, userId: "x" });
    await expectNext(w, 18, BODY.notLoggedIn(18));
  });
});

// ---- cmd 5 login ----

Deno.test("cmd 5: first login registers the user and sends the cmd 9 notifies before 10007", async () => {
  await withServer(async (server) => {
    const a = await server.tcp();
    await a.send(5, { password: "123", userId: "hello_client" });
    await expectNext(a, 9, BODY.joinNotify("100", "hello_client"));
    await expectNext(a, 6, BODY.loginOk);
    await assertQuiet(a);
    // A second user: the first one, already in group 100, is told as well.
    const b = await server.ws();
    await b.send(5, { password: "pw", userId: "u2" });
    await expectNext(b, 9, BODY.joinNotify("100", "u2"));
    await expectNext(b, 6, BODY.loginOk);
    await expectNext(a, 9, BODY.joinNotify("100", "u2"));
  }, { defaultGroups: ["100"] });
});

Deno.test("cmd 5: without groups the login reply is the bare 10007", async () => {
  await withServer(async (server) => {
    const c = await server.tcp();
    await c.send(5, { password: "pw", userId: "solo" });
    await expectNext(c, 6, BODY.loginOk);
    await assertQuiet(c);
  });
});

Deno.test("cmd 5: a wrong password answers 10008 and closes the connection", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u1", "right");
    const c = await server.tcp();
    await c.send(5, { password: "wrong", userId: "u1" });
    await expectNext(c, 6, BODY.loginFailed);
    await c.waitClosed();
    // The right password still works.
    const ok = await server.tcp();
    assert.equal(bodyOf(await ok.login("u1", "right")), BODY.loginOk);
  });
});

Deno.test("cmd 5: missing userId or password answers 10008 and closes", async () => {
  await withServer(async (server) => {
    for (const body of [{ userId: "u1" }, { password: "pw" }, {}]) {
      const c = await server.tcp();
      await c.send(5, body);
      await expectNext(c, 6, BODY.loginFailed);
      await c.waitClosed();
    }
    for (const query of ["?username=u1", "?password=pw"]) {
      const w = await server.ws(`/${query}`);
      await expectNext(w, 6, BODY.loginFailed);
      await w.waitClosed();
    }
  });
});

Deno.test("cmd 5: with registration closed an unknown userId answers 10008 and closes", async () => {
  await withServer(async (server) => {
    const c = await server.tcp();
    await c.send(5, { password: "pw", userId: "stranger" });
    await expectNext(c, 6, BODY.loginFailed);
    await c.waitClosed();
    const w = await server.ws("/?username=stranger&password=pw");
    await expectNext(w, 6, BODY.loginFailed);
    await w.waitClosed();
  }, { registration: "closed" });
});

Deno.test("cmd 5: WebSocket query login with a wrong password answers 10008 and closes", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u1", "right");
    const w = await server.ws("/?username=u1&password=wrong");
    await expectNext(w, 6, BODY.loginFailed);
    await w.waitClosed();
    const ok = await server.ws("/?username=u1&password=right");
    await expectNext(ok, 6, BODY.loginOk);
  });
});

Deno.test("cmd 5: a user may log in from several connections at once", async () => {
  await withServer(async (server) => {
    const a = await loggedInTcp(server, "u1");
    const b = await loggedInWs(server, "u1");
    await waitUntil(() => server.app.services.registry.sessionsOf("u1").size === 2, "u1 has two sessions");
    await assertQuiet(a);
    await assertQuiet(b);
  });
});

// ---- cmd 21 / 22 token and token login ----

Deno.test("cmd 21: before login answers 10022 with command 22", async () => {
  await withServer(async (server) => {
    const c = await server.tcp();
    await c.send(21, {});
    await expectNext(c, 22, BODY.notLoggedIn(22));
    await assertQuiet(c);
  });
});

Deno.test("cmd 21: issues a token that logs in with cmd 5 and with ?token=", async () => {
  await withServer(async (server) => {
    const a = await loggedInTcp(server, "u1");
    await a.next(9);
    const before = Date.now();
    await a.send(21, {});
    const p = await expectNext(a, 22);
    const data = p.body.data as { expiresAt: number; token: string; userId: string };
    assert.match(data.token, /^[A-Za-z0-9_-]{20,}$/);
    assert.ok(data.expiresAt > before);
    assert.equal(
      bodyOf(p),
      `{"code":10029,"command":22,"data":{"expiresAt":${data.expiresAt},"token":"${data.token}","userId":"u1"},"msg":"ok token issued"}`,
    );
    // cmd 5 with only the token.
    const b = await server.tcp();
    await b.send(5, { token: data.token });
    await expectNext(b, 9, BODY.joinNotify("100", "u1"));
    await expectNext(b, 6, BODY.loginOk);
    // cmd 5 with the token and the matching userId.
    const c = await server.ws();
    await c.send(5, { token: data.token, userId: "u1" });
    await expectNext(c, 9, BODY.joinNotify("100", "u1"));
    await expectNext(c, 6, BODY.loginOk);
    // J-IM web demo style: the token in the WebSocket URL.
    const d = await server.ws(`/?token=${encodeURIComponent(data.token)}`);
    await expectNext(d, 9, BODY.joinNotify("100", "u1"));
    await expectNext(d, 6, BODY.loginOk);
    // The token's sessions are u1's: a private message to u1 reaches them.
    const u2 = await loggedInTcp(server, "u2");
    await u2.send(11, { chatType: 2, to: "u1", content: "x", id: "m1", createTime: 1 });
    await expectBody(u2, 12, BODY.sent);
    for (const s of [a, b, c, d]) assert.equal((await s.next(11)).body.command, 11);
  }, { defaultGroups: ["100"] });
});

Deno.test("cmd 5: a bad token, or a token with another userId, answers 10008 and closes", async () => {
  await withServer(async (server) => {
    const a = await loggedInTcp(server, "u1");
    await a.send(21, {});
    const token = ((await a.next(22)).body.data as { token: string }).token;
    await registerOffline(server, "u2");
    for (const body of [{ token: "not-a-token" }, { token, userId: "u2" }]) {
      const c = await server.tcp();
      await c.send(5, body);
      await expectNext(c, 6, BODY.loginFailed);
      await c.waitClosed();
    }
    const w = await server.ws("/?token=nope");
    await expectNext(w, 6, BODY.loginFailed);
    await w.waitClosed();
  });
});

// ---- login guard ----

Deno.test("login guard: cmd 7, 11, 17, 19, 21 before login answer 10022 and keep the connection (TCP)", async () => {
  await withServer(async (server) => {
    const c = await server.tcp();
    const cases: [number, number, Record<string, unknown>][] = [
      [7, 8, { groupId: "g1" }],
      [11, 12, { chatType: 2, to: "u2", content: "hi" }],
      [17, 18, { type: 0, userId: "u1" }],
      [19, 20, { type: 0, userId: "u1" }],
      [21, 22, {}],
    ];
    for (const [cmd, reply, body] of cases) {
      await c.send(cmd, body);
      await expectNext(c, reply, BODY.notLoggedIn(reply));
    }
    await assertQuiet(c);
    // The same connection can still log in and then use them.
    assert.equal(bodyOf(await c.login("u1", "pw")), BODY.loginOk);
    await c.send(7, { groupId: "g1" });
    await expectNext(c, 9, BODY.joinNotify("g1", "u1"));
  });
});

Deno.test("login guard: cmd 7, 11, 17, 19, 21 before login answer 10022 over WebSocket", async () => {
  await withServer(async (server) => {
    const c = await server.ws();
    for (const [cmd, reply] of [[7, 8], [11, 12], [17, 18], [19, 20], [21, 22]]) {
      await c.send(cmd, { groupId: "g", chatType: 1, type: 0, userId: "u1" });
      await expectNext(c, reply, BODY.notLoggedIn(reply));
    }
    await assertQuiet(c);
  });
});

Deno.test("bad request: a TCP body that is not JSON answers 10023 with the reply command, connection kept", async () => {
  await withServer(async (server) => {
    const c = await loggedInTcp(server, "u1");
    for (const [cmd, reply] of [[3, 4], [7, 8], [17, 18], [19, 20], [21, 22]]) {
      await c.sendRaw(encodeTcpFrame(cmd, enc.encode("{oops")));
      await expectNext(c, reply, `{"code":10023,"command":${reply},"msg":"bad request 请求格式不正确"}`);
    }
    await assertQuiet(c);
  });
});

// ---- cmd 13 heartbeat ----

Deno.test("cmd 13: heartbeat answers hbbyte -128 for JSON, the raw 0x80 byte and an empty body", async () => {
  await withServer(async (server) => {
    const t = await server.tcp();
    await t.send(13, { hbbyte: "-127" });
    await expectNext(t, 13, BODY.heartbeat);
    // The Java client's heartbeat: one raw byte 0x80, not JSON (spec §6.6).
    await t.sendRaw(encodeTcpFrame(13, new Uint8Array([0x80])));
    await expectNext(t, 13, BODY.heartbeat);
    await t.sendRaw(encodeTcpFrame(13, new Uint8Array(0)));
    await expectNext(t, 13, BODY.heartbeat);
    const w = await server.ws();
    await w.send(13, { hbbyte: "-127" });
    await expectNext(w, 13, BODY.heartbeat);
    assert.equal(t.closed || w.closed, false);
  });
});

Deno.test("cmd 13: TCP heartbeat reply frame is byte-exact (header 01 51 0d 00 00 00 25)", async () => {
  await withServer(async (server) => {
    const reply = await rawTcpExchange(server.port, encodeTcpFrame(13, new Uint8Array([0x80])), 7 + 37);
    assert.equal(hex(reply.subarray(0, 7)), "01 51 0d 00 00 00 25");
    assert.equal(new TextDecoder().decode(reply.subarray(7)), BODY.heartbeat);
  });
});

// ---- cmd 14 close ----

Deno.test("cmd 14: without userId answers 10021 and closes, also before login (TCP and WS)", async () => {
  await withServer(async (server) => {
    const t = await server.tcp();
    await t.send(14, {});
    await expectNext(t, 14, BODY.closeOk);
    await t.waitClosed();
    const empty = await server.tcp();
    await empty.sendRaw(encodeTcpFrame(14, new Uint8Array(0)));
    await expectNext(empty, 14, BODY.closeOk);
    await empty.waitClosed();
    const w = await loggedInWs(server, "u1");
    await w.send(14, {});
    await expectNext(w, 14, BODY.closeOk);
    await w.waitClosed();
    await waitUntil(() => !server.app.services.registry.isOnline("u1"), "u1 is offline");
  });
});

Deno.test("cmd 14: with the caller's own userId answers 10021 and closes all of the user's connections", async () => {
  await withServer(async (server) => {
    const a = await loggedInTcp(server, "u1");
    const b = await loggedInWs(server, "u1");
    const c = await loggedInTcp(server, "u1");
    const other = await loggedInTcp(server, "u2");
    await a.send(14, { userId: "u1" });
    await expectNext(a, 14, BODY.closeOk);
    await a.waitClosed();
    await b.waitClosed();
    await c.waitClosed();
    await waitUntil(() => !server.app.services.registry.isOnline("u1"), "u1 is offline");
    // Other users are untouched.
    await assertQuiet(other);
  });
});

Deno.test("cmd 14: another user's userId answers 10024 and closes nothing", async () => {
  await withServer(async (server) => {
    const victim = await loggedInWs(server, "victim");
    const a = await loggedInTcp(server, "u1");
    await a.send(14, { userId: "victim" });
    await expectNext(a, 14, BODY.closeForbidden);
    await assertQuiet(a);
    await assertQuiet(victim);
    // Not logged in: any userId is someone else's.
    const anon = await server.tcp();
    await anon.send(14, { userId: "victim" });
    await expectNext(anon, 14, BODY.closeForbidden);
    await assertQuiet(anon);
    assert.equal(server.app.services.registry.sessionsOf("victim").size, 1);
  });
});

Deno.test("cmd 14: a TCP body that is not JSON answers 10020 and keeps the connection", async () => {
  await withServer(async (server) => {
    const c = await server.tcp();
    await c.sendRaw(encodeTcpFrame(14, enc.encode("not json")));
    await expectNext(c, 14, BODY.closeInvalid);
    await assertQuiet(c);
    assert.equal(c.closed, false);
  });
});

// ---- unknown / unhandled commands ----

Deno.test("unknown cmd: every unhandled TCP cmd byte (0..255) answers 10017 in a cmd 0 frame, connection kept", async () => {
  await withServer(async (server) => {
    const c = await loggedInTcp(server, "u1");
    const unhandled = [...Array(256).keys()].filter((n) => !ROUTES.has(n));
    for (const n of [0, 2, 4, 6, 8, 9, 10, 12, 16, 18, 20, 22, 24, 255]) assert.ok(unhandled.includes(n));
    for (const cmd of unhandled) {
      await c.sendRaw(encodeTcpFrame(cmd, enc.encode(`{"cmd":${cmd}}`)));
    }
    for (const cmd of unhandled) {
      const p = await c.next(() => true);
      assert.equal(p.command, 0, `cmd ${cmd}`);
      assert.equal(bodyOf(p), BODY.unknownCmd, `cmd ${cmd}`);
    }
    await assertQuiet(c);
  });
});

Deno.test("unknown cmd: TCP unknown-cmd reply frame is byte-exact (header 01 51 00 00 00 00 42)", async () => {
  await withServer(async (server) => {
    const reply = await rawTcpExchange(server.port, encodeTcpFrame(16, enc.encode("{}")), 7 + 66);
    assert.equal(hex(reply.subarray(0, 7)), "01 51 00 00 00 00 42");
    assert.equal(new TextDecoder().decode(reply.subarray(7)), BODY.unknownCmd);
  });
});

Deno.test("unknown cmd: WebSocket messages without a handled cmd, or not JSON, answer 10017", async () => {
  await withServer(async (server) => {
    const c = await loggedInWs(server, "u1");
    const messages = [
      `{"cmd":16}`,
      `{"cmd":0}`,
      `{"cmd":2}`,
      `{"cmd":12}`,
      `{"cmd":20}`,
      `{"cmd":99}`,
      `{"cmd":"abc"}`,
      `{"content":"no cmd"}`,
      `not json`,
      `[1,2]`,
      ``,
    ];
    for (const m of messages) {
      await c.sendText(m);
      await expectNext(c, 0, BODY.unknownCmd);
    }
    await assertQuiet(c);
    // A numeric-string cmd routes (fastjson leniency).
    await c.sendText(`{"cmd":"13"}`);
    await expectNext(c, 13, BODY.heartbeat);
  });
});

// ---- TCP synSeq ----

Deno.test("synSeq: a heartbeat with synSeq 1200 is answered with header 01 f1 00 00 04 b0 0d", async () => {
  await withServer(async (server) => {
    const frame = encodeTcpFrame(13, enc.encode(`{"cmd":13}`), 1200);
    assert.equal(hex(frame.subarray(0, 7)), "01 f1 00 00 04 b0 0d");
    const reply = await rawTcpExchange(server.port, frame, 11 + 37);
    assert.equal(hex(reply.subarray(0, 11)), "01 f1 00 00 04 b0 0d 00 00 00 25");
    assert.equal(new TextDecoder().decode(reply.subarray(11)), BODY.heartbeat);
  });
});

Deno.test("synSeq: direct replies carry the request's synSeq, pushes carry none", async () => {
  await withServer(async (server) => {
    const b = await loggedInTcp(server, "u2");
    await b.next(9);
    const a = await server.tcp();
    // Login: the cmd 9 notify is a push, the cmd 6 reply carries the synSeq.
    await a.sendRaw(encodeTcpFrame(5, enc.encode(`{"password":"pw","userId":"u1"}`), 7));
    const notify = await expectNext(a, 9, BODY.joinNotify("100", "u1"));
    assert.equal(notify.synSeq, 0);
    assert.equal((await expectNext(a, 6, BODY.loginOk)).synSeq, 7);
    await b.next(9);
    // Chat: the ack carries it; the receiver's delivery does not.
    await a.sendRaw(
      encodeTcpFrame(11, enc.encode(`{"chatType":2,"content":"hi","id":"s1","createTime":5,"to":"u2"}`), 8),
    );
    assert.equal((await expectNext(a, 12, BODY.sent)).synSeq, 8);
    assert.equal((await b.next(11)).synSeq, 0);
    // Group chat: the sender's own copy is a push.
    await a.sendRaw(encodeTcpFrame(11, enc.encode(`{"chatType":1,"content":"all","groupId":"100"}`), 9));
    const own = await a.next(11);
    assert.equal(own.synSeq, 0);
    assert.equal((await a.next(12)).synSeq, 9);
    // Join: the joiner's cmd 9 is its direct reply.
    await a.sendRaw(encodeTcpFrame(7, enc.encode(`{"groupId":"g2"}`), 10));
    assert.equal((await expectNext(a, 9, BODY.joinNotify("g2", "u1"))).synSeq, 10);
    // Errors and unknown commands too.
    await a.sendRaw(encodeTcpFrame(19, enc.encode(`{"type":5,"userId":"u1"}`), 11));
    assert.equal((await expectNext(a, 20, BODY.getMessageFailed)).synSeq, 11);
    await a.sendRaw(encodeTcpFrame(16, enc.encode(`{}`), 12));
    assert.equal((await expectNext(a, 0, BODY.unknownCmd)).synSeq, 12);
    await a.sendRaw(encodeTcpFrame(11, enc.encode(`{bad`), 13));
    assert.equal((await expectNext(a, 12, BODY.chatBadRequest)).synSeq, 13);
    // Without synSeq the reply has none (mask 0x51).
    await a.send(13, {});
    assert.equal((await expectNext(a, 13, BODY.heartbeat)).synSeq, 0);
  }, { defaultGroups: ["100"] });
});

Deno.test("synSeq: a frame with mask bit 0x20 and synSeq 0 is processed and answered without synSeq", async () => {
  await withServer(async (server) => {
    const body = enc.encode(`{"cmd":13}`);
    const frame = new Uint8Array([0x01, 0x71, 0, 0, 0, 0, 13, 0, 0, 0, body.length, ...body]);
    const reply = await rawTcpExchange(server.port, frame, 7 + 37);
    assert.equal(hex(reply.subarray(0, 7)), "01 51 0d 00 00 00 25");
  });
});
