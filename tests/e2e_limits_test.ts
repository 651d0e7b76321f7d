/**
 * End to end over real sockets: every abuse limit of docs/protocol.md §8, each with small values
 * in the test config, and what the client sees. Timing is only asserted as "closed within a
 * generous window" (the machines running this are small and noisy).
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { CMD } from "../src/protocol/commands.ts";
import { STRIKES_TO_DISCONNECT } from "../src/services/limits.ts";
import { BODY, bodyOf } from "./_e2e.ts";
import { loggedInTcp, loggedInWs, sleep, startServer, type TestServer } from "./_server.ts";
import { openRawWs, parseTcpFrame, parseWsFrame, RawConn, str, tcpFrame, wsFrame } from "./_raw.ts";

/** Generous: a close expected "soon" must happen within this. */
const CLOSE_WINDOW_MS = 5000;

const LIMIT_BODY = (command: number) => `{"code":10026,"command":${command},"msg":"limit exceeded 超出限制"}`;
const TOO_MANY_SESSIONS = `{"code":10050,"command":6,"msg":"too many sessions 登录连接数超出限制"}`;
const HEARTBEAT = tcpFrame(CMD.HEARTBEAT_REQ, new Uint8Array([0x80]));

/** Starts a server with these limits, runs the body, stops it. */
async function withLimits(
  overrides: Parameters<typeof startServer>[0],
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** True if a fresh TCP connection gets its heartbeat answered (i.e. was admitted). */
async function admitted(port: number): Promise<{ ok: boolean; conn: RawConn }> {
  const conn = await RawConn.open(port);
  await conn.write(HEARTBEAT);
  try {
    await conn.take(parseTcpFrame, 3000);
    return { ok: true, conn };
  } catch {
    return { ok: false, conn };
  }
}

// ---- sizes ----------------------------------------------------------------------------------

Deno.test("limits: --max-body: a larger TCP frame is closed without a reply; WebSocket closes 1009", async () => {
  await withLimits({ maxBody: 1000 }, async (server) => {
    const tcp = await RawConn.open(server.port);
    await tcp.write(tcpFrame(CMD.CHAT_REQ, "", { length: 1001 }));
    assert.equal((await tcp.waitClosed(CLOSE_WINDOW_MS)).length, 0);
    await tcp.close();

    const ws = await openRawWs(server.port);
    await ws.write(wsFrame(1, "x".repeat(1001)));
    const close = await ws.take(parseWsFrame, CLOSE_WINDOW_MS);
    assert.equal(close.opcode, 8);
    assert.equal((close.payload[0] << 8) | close.payload[1], 1009);
    await ws.close();
  });
});

// ---- request rates --------------------------------------------------------------------------

Deno.test("limits: --rate-per-connection: over the burst → 10026, the connection stays", async () => {
  await withLimits({ ratePerConnection: 5 }, async (server) => {
    const c = await loggedInTcp(server, "u1"); // the login took one of the 10 tokens
    await server.tcp().then((c2) => c2.login("u2", "pw"));
    // 12 chats at once: 9 tokens left, so 9 acks and 3 refusals, in request order.
    for (let i = 0; i < 12; i++) await c.send(CMD.CHAT_REQ, { chatType: 2, to: "u2", content: `m${i}` });
    const replies: string[] = [];
    for (let i = 0; i < 12; i++) replies.push(bodyOf(await c.next(CMD.CHAT_RESP)));
    assert.deepEqual(replies.slice(0, 9), Array(9).fill(BODY.sent));
    assert.deepEqual(replies.slice(9), Array(3).fill(LIMIT_BODY(12)));
    // Tokens come back at 5/s: after a pause the connection works as before.
    await sleep(500);
    await c.send(CMD.CHAT_REQ, { chatType: 2, to: "u2", content: "later" });
    assert.equal(bodyOf(await c.next(CMD.CHAT_RESP)), BODY.sent);
    assert.equal(c.closed, false);
  });
});

Deno.test("limits: the rate reply of an extension session carries retryAfter and the chat's id", async () => {
  await withLimits({ ratePerConnection: 1 }, async (server) => {
    const c = await server.tcp();
    await c.send(CMD.LOGIN_REQ, { userId: "u1", password: "pw", extensions: true });
    await c.next(CMD.LOGIN_RESP);
    await c.send(CMD.CHAT_REQ, { chatType: 2, to: "u1", content: "a", id: "m1" });
    await c.send(CMD.CHAT_REQ, { chatType: 2, to: "u1", content: "b", id: "m2" });
    await c.next(CMD.CHAT_RESP);
    const refused = (await c.next(CMD.CHAT_RESP)).body;
    assert.equal(refused.code, 10026);
    const data = refused.data as { id: string; retryAfter: number };
    assert.equal(data.id, "m2");
    assert.ok(data.retryAfter > 0 && data.retryAfter <= 1000, `retryAfter ${data.retryAfter}`);
  });
});

Deno.test("limits: unknown commands and unparsable messages count against the rate too", async () => {
  await withLimits({ ratePerConnection: 1 }, async (server) => {
    const tcp = await server.tcp();
    for (let i = 0; i < 4; i++) await tcp.sendRaw(tcpFrame(99, "{}"));
    const tcpBodies = [];
    for (let i = 0; i < 4; i++) tcpBodies.push(bodyOf(await tcp.next(0)));
    assert.deepEqual(tcpBodies, [BODY.unknownCmd, BODY.unknownCmd, LIMIT_BODY(0), LIMIT_BODY(0)]);
    const ws = await server.ws();
    for (let i = 0; i < 4; i++) await ws.sendText("not json");
    const wsBodies = [];
    for (let i = 0; i < 4; i++) wsBodies.push(bodyOf(await ws.next(0)));
    assert.deepEqual(wsBodies, [BODY.unknownCmd, BODY.unknownCmd, LIMIT_BODY(0), LIMIT_BODY(0)]);
  });
});

Deno.test("limits: --rate-per-user counts all connections of the user together", async () => {
  await withLimits({ ratePerConnection: 0, ratePerUser: 3 }, async (server) => {
    // Burst 6 (logins come before the user is known and do not count): 6 of 8 heartbeats pass.
    const a = await loggedInTcp(server, "u1");
    const b = await loggedInTcp(server, "u1");
    for (let i = 0; i < 4; i++) {
      await a.send(CMD.HEARTBEAT_REQ);
      await b.send(CMD.HEARTBEAT_REQ);
    }
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push(bodyOf(await a.next(13)), bodyOf(await b.next(13)));
    assert.equal(bodies.filter((b) => b === BODY.heartbeat).length, 6, bodies.join("\n"));
    assert.equal(bodies.filter((b) => b === LIMIT_BODY(13)).length, 2, bodies.join("\n"));
    // Another user is not affected.
    const other = await loggedInTcp(server, "u2");
    await other.send(CMD.HEARTBEAT_REQ);
    assert.equal(bodyOf(await other.next(13)), BODY.heartbeat);
  });
});

Deno.test("limits: a client that keeps hammering after refusals is disconnected", async () => {
  await withLimits({ ratePerConnection: 1 }, async (server) => {
    for (const kind of ["tcp", "ws"] as const) {
      const c = kind === "tcp" ? await server.tcp() : await server.ws();
      let limited = 0;
      c.onPacket((p) => {
        if (p.body.code === 10026) limited++;
      });
      // 2 allowed (the burst), then STRIKES_TO_DISCONNECT refusals and the close.
      for (let i = 0; i < STRIKES_TO_DISCONNECT + 10; i++) {
        await c.send(CMD.HEARTBEAT_REQ).catch(() => {});
      }
      await c.waitClosed(CLOSE_WINDOW_MS);
      assert.equal(limited, STRIKES_TO_DISCONNECT, kind);
      if (kind === "ws") assert.equal(c.closeCode, 1008);
    }
  });
});

// ---- connections ----------------------------------------------------------------------------

Deno.test("limits: --max-connections (all listeners, all IPs) closes extra connections at accept", async () => {
  await withLimits({ maxConnections: 2, connectRatePerIp: 0 }, async (server) => {
    const a = await admitted(server.port);
    const b = await admitted(server.port);
    const c = await admitted(server.port);
    assert.deepEqual([a.ok, b.ok, c.ok], [true, true, false]);
    await c.conn.close();
    await a.conn.close();
    let d = await admitted(server.port);
    // The server may not have counted a's close yet: retry briefly.
    for (let i = 0; i < 50 && !d.ok; i++) {
      await d.conn.close();
      await sleep(50);
      d = await admitted(server.port);
    }
    assert.equal(d.ok, true);
    await b.conn.close();
    await d.conn.close();
  });
});

Deno.test("limits: --max-connections-per-ip closes a further connection from the same IP", async () => {
  await withLimits({ maxConnectionsPerIp: 3, connectRatePerIp: 0 }, async (server) => {
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await admitted(server.port));
    assert.ok(open.every((o) => o.ok));
    const extra = await admitted(server.port);
    assert.equal(extra.ok, false);
    assert.equal(await extra.conn.closesWithin(CLOSE_WINDOW_MS), true);
    await extra.conn.close();
    // A WebSocket counts the same way.
    await assert.rejects(() => JimClient.connectWs({ port: server.port }));
    await open[0].conn.close();
    let again = await admitted(server.port);
    for (let i = 0; i < 50 && !again.ok; i++) {
      await again.conn.close();
      await sleep(50);
      again = await admitted(server.port);
    }
    assert.equal(again.ok, true);
    for (const o of [...open.slice(1), again]) await o.conn.close();
  });
});

Deno.test("limits: --connect-rate-per-ip: a burst of new connections beyond twice the rate is closed", async () => {
  await withLimits({ connectRatePerIp: 2 }, async (server) => {
    // Burst 4: the first 4 (made at once) pass, the 5th is closed at accept.
    const conns = [];
    for (let i = 0; i < 5; i++) conns.push(await admitted(server.port));
    assert.deepEqual(conns.map((c) => c.ok), [true, true, true, true, false]);
    for (const c of conns) await c.conn.close();
    await sleep(600); // one token back
    const later = await admitted(server.port);
    assert.equal(later.ok, true);
    await later.conn.close();
  });
});

Deno.test("limits: --max-sessions-per-user: a further login gets 10050 and is closed", async () => {
  await withLimits({ maxSessionsPerUser: 2 }, async (server) => {
    const a = await loggedInTcp(server, "u1");
    const b = await loggedInWs(server, "u1");
    const c = await server.tcp();
    assert.equal(bodyOf(await c.login("u1", "pw")), TOO_MANY_SESSIONS);
    await c.waitClosed(CLOSE_WINDOW_MS);
    // WebSocket query login: the same reply, then a close.
    const d = await server.ws("/?username=u1&password=pw");
    assert.equal(bodyOf(await d.next(6)), TOO_MANY_SESSIONS);
    await d.waitClosed(CLOSE_WINDOW_MS);
    // Other users are not affected; a slot frees up when a session ends.
    await loggedInTcp(server, "u2");
    a.close();
    await a.waitClosed();
    let e: JimClient | undefined;
    for (let i = 0; i < 50 && !e; i++) {
      const t = await server.tcp();
      if ((await t.login("u1", "pw")).body.code === 10007) e = t;
      else await sleep(50);
    }
    assert.ok(e, "a login after one session closed");
    assert.equal(b.closed, false);
  });
});

// ---- groups ---------------------------------------------------------------------------------

Deno.test("limits: --max-group-members: joins and invites beyond it get result 3 (GROUP_FULL)", async () => {
  await withLimits({ maxGroupMembers: 2 }, async (server) => {
    const owner = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    const u3 = await loggedInTcp(server, "u3");
    await owner.send(CMD.JOIN_GROUP_REQ, { groupId: "g" });
    await owner.next(9);
    await u2.send(CMD.JOIN_GROUP_REQ, { groupId: "g" });
    await u2.next(9);
    await u3.send(CMD.JOIN_GROUP_REQ, { groupId: "g" });
    assert.equal(
      bodyOf(await u3.next(8)),
      `{"code":10012,"command":8,"msg":"join group failed! 加入群组失败!","result":3}`,
    );
    await owner.send(CMD.GROUP_INVITE_REQ, { groupId: "g", userId: "u3" });
    assert.equal(
      bodyOf(await owner.next(37)),
      `{"code":10012,"command":37,"msg":"join group failed! 加入群组失败!","result":3}`,
    );
    // A member joining again is not a new member.
    await u2.send(CMD.JOIN_GROUP_REQ, { groupId: "g" });
    assert.equal((await u2.next(9)).body.code, 10011);
    // Room again after someone leaves.
    await u2.send(CMD.GROUP_REMOVE_REQ, { groupId: "g" });
    await u2.next(39);
    await u3.send(CMD.JOIN_GROUP_REQ, { groupId: "g" });
    assert.equal((await u3.next(9)).body.code, 10011);
  });
});

// ---- login failures -------------------------------------------------------------------------

async function loginOnce(server: TestServer, userId: string, password: string, extensions = false) {
  const c = await server.tcp();
  await c.send(CMD.LOGIN_REQ, { userId, password, ...(extensions ? { extensions: true } : {}) });
  const reply = await c.next(CMD.LOGIN_RESP);
  if (reply.body.code !== 10007) await c.waitClosed(CLOSE_WINDOW_MS);
  c.close();
  return reply;
}

Deno.test("limits: --login-failures-per-user locks the userId out (10008 even with the right password)", async () => {
  await withLimits(
    { loginFailuresPerUser: 3, loginFailuresPerIp: 0, loginLockout: 1, registration: "closed" },
    async (server) => {
      await server.app.services.auth.register("alice", "right");
      await server.app.services.auth.register("bob", "pw");
      for (let i = 0; i < 3; i++) assert.equal((await loginOnce(server, "alice", "wrong")).body.code, 10008);
      const locked = await loginOnce(server, "alice", "right");
      assert.equal(bodyOf(locked), BODY.loginFailed, "a J-IM client sees an ordinary failure");
      const ext = await loginOnce(server, "alice", "right", true);
      const retryAfter = (ext.body.data as { retryAfter: number }).retryAfter;
      assert.ok(retryAfter > 0 && retryAfter <= 1000, `retryAfter ${retryAfter}`);
      // A userId that does not exist locks the same way (nothing tells the two apart).
      for (let i = 0; i < 3; i++) await loginOnce(server, "nobody", "x");
      assert.equal(bodyOf(await loginOnce(server, "nobody", "x")), BODY.loginFailed);
      // Other users log in meanwhile; alice again after the lockout.
      assert.equal((await loginOnce(server, "bob", "pw")).body.code, 10007);
      await sleep(1100);
      assert.equal((await loginOnce(server, "alice", "right")).body.code, 10007);
      // The success reset her count: two more failures do not lock her again.
      for (let i = 0; i < 2; i++) await loginOnce(server, "alice", "wrong");
      assert.equal((await loginOnce(server, "alice", "right")).body.code, 10007);
    },
  );
});

Deno.test("limits: --login-failures-per-ip locks the IP out for every userId", async () => {
  await withLimits(
    { loginFailuresPerUser: 0, loginFailuresPerIp: 4, loginLockout: 1 },
    async (server) => {
      assert.equal((await loginOnce(server, "carol", "pw")).body.code, 10007);
      // J-IM clients send arbitrary strings as cmd 3 tokens: in password mode that is no failure.
      const jim = await server.tcp();
      for (let i = 0; i < 6; i++) {
        await jim.send(CMD.AUTH_REQ, { token: `校验码${i}` });
        assert.equal((await jim.next(CMD.AUTH_RESP)).body.code, 10009);
      }
      assert.equal((await loginOnce(server, "carol", "pw")).body.code, 10007);
      for (let i = 0; i < 4; i++) await loginOnce(server, `guess${i}`, "", false);
      assert.equal((await loginOnce(server, "carol", "pw")).body.code, 10008);
      await sleep(1100);
      assert.equal((await loginOnce(server, "carol", "pw")).body.code, 10007);
    },
  );
});

// ---- slowloris ------------------------------------------------------------------------------

Deno.test("limits: --login-timeout closes TCP and WebSocket connections that never log in", async () => {
  await withLimits({ loginTimeout: 400 }, async (server) => {
    const tcp = await RawConn.open(server.port);
    await tcp.write(HEARTBEAT); // talking is not enough
    assert.equal(await tcp.closesWithin(CLOSE_WINDOW_MS), true);
    await tcp.close();
    const ws = await openRawWs(server.port);
    const close = await ws.take(parseWsFrame, CLOSE_WINDOW_MS);
    assert.equal(close.opcode, 8);
    assert.equal((close.payload[0] << 8) | close.payload[1], 1008);
    await ws.close();
    // A session that logged in stays.
    const ok = await loggedInTcp(server, "u1");
    await sleep(800);
    await ok.send(CMD.HEARTBEAT_REQ);
    assert.equal(bodyOf(await ok.next(13)), BODY.heartbeat);
  });
});

Deno.test("limits: an incomplete TCP frame or WebSocket message is closed after --handshake-timeout", async () => {
  await withLimits({ handshakeTimeout: 500 }, async (server) => {
    // TCP: a header announcing 100 bytes, then 10 of them, then nothing.
    const tcp = await RawConn.open(server.port);
    await tcp.write(tcpFrame(CMD.LOGIN_REQ, "x".repeat(100)).slice(0, 17));
    assert.equal(await tcp.closesWithin(CLOSE_WINDOW_MS), true);
    await tcp.close();
    // Trickling does not extend the deadline.
    const trickle = await RawConn.open(server.port);
    const frame = tcpFrame(CMD.HEARTBEAT_REQ, "x".repeat(100));
    const started = Date.now();
    for (let i = 0; i < 40 && !trickle.closed; i++) {
      await trickle.write(frame.subarray(i, i + 1));
      await sleep(50);
    }
    assert.equal(await trickle.closesWithin(CLOSE_WINDOW_MS), true);
    assert.ok(Date.now() - started < 4000, "closed before the trickle ended");
    await trickle.close();
    // WebSocket: half a frame.
    const ws = await openRawWs(server.port);
    await ws.write(wsFrame(1, `{"cmd":13}`).slice(0, 5));
    const close = await ws.take(parseWsFrame, CLOSE_WINDOW_MS);
    assert.equal(close.opcode, 8);
    assert.equal((close.payload[0] << 8) | close.payload[1], 1008);
    await ws.close();
    // A connection that completes its frames is not affected, however long it lives.
    const ok = await RawConn.open(server.port);
    for (let i = 0; i < 8; i++) {
      await ok.write(HEARTBEAT.subarray(0, 3));
      await sleep(20);
      await ok.write(HEARTBEAT.subarray(3));
      assert.equal(str((await ok.take(parseTcpFrame)).body), BODY.heartbeat);
      await sleep(150);
    }
    assert.equal(ok.closed, false);
    await ok.close();
  });
});

Deno.test("limits: --heartbeat-timeout is the idle timeout: a silent session is closed", async () => {
  await withLimits({ heartbeatTimeout: 400 }, async (server) => {
    const quiet = await loggedInTcp(server, "u1");
    const chatty = await loggedInTcp(server, "u2");
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      await chatty.send(CMD.HEARTBEAT_REQ);
      await chatty.next(13);
      await sleep(100);
    }
    await quiet.waitClosed(CLOSE_WINDOW_MS);
    assert.equal(chatty.closed, false);
  });
});
