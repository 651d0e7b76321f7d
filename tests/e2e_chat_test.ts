/** End-to-end over real sockets: cmd 11 chat (private and group) and cross-protocol delivery. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { databasePath } from "../src/app.ts";
import { encodeTcpFrame } from "../src/protocol/frame.ts";
import { loggedInTcp, loggedInWs, startServer } from "./_server.ts";
import {
  assertQuiet,
  BODY,
  bodyOf,
  chatBody,
  chatDelivery,
  expectBody,
  expectNext,
  MSG,
  registerOffline,
  waitOffline,
  withServer,
} from "./_e2e.ts";

const enc = new TextEncoder();

// ---- private chat ----

Deno.test("cmd 11: private chat to an online user answers 10000 and delivers the exact ChatBody", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    await u1.send(11, {
      chatType: 2,
      content: "hi",
      createTime: 1588600000000,
      id: "0f8fad5bd9cb469fa16570867728950e",
      msgType: 0,
      to: "u2",
    });
    await expectNext(u1, 12, BODY.sent);
    await expectNext(
      u2,
      11,
      `{"command":11,"data":{"chatType":2,"cmd":11,"content":"hi","createTime":1588600000000,"from":"u1","id":"0f8fad5bd9cb469fa16570867728950e","msgType":0,"to":"u2"}}`,
    );
    // The sender gets no copy of a private message.
    await assertQuiet(u1);
  });
});

Deno.test("cmd 11: the server fills a 32-hex id and its own createTime when absent", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    const before = Date.now();
    await u1.send(11, { chatType: 2, content: "x", to: "u2" });
    await expectBody(u1, 12, BODY.sent);
    const p = await u2.next(11);
    const after = Date.now();
    const data = p.body.data as { id: string; createTime: number };
    assert.match(data.id, /^[0-9a-f]{32}$/);
    assert.ok(data.createTime >= before && data.createTime <= after, `createTime ${data.createTime}`);
    assert.equal(bodyOf(p), chatDelivery({ chatType: 2, content: "x", from: "u1", to: "u2", ...data }));
  });
});

Deno.test("cmd 11: a spoofed from is replaced by the sender's userId", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    await u1.send(11, {
      chatType: 2,
      content: "trust me",
      from: "admin",
      id: "sp1",
      createTime: 10,
      to: "u2",
    });
    await expectBody(u1, 12, BODY.sent);
    await expectBody(
      u2,
      11,
      chatDelivery({ chatType: 2, content: "trust me", createTime: 10, from: "u1", id: "sp1", to: "u2" }),
    );
  });
});

Deno.test("cmd 11: numeric strings are accepted for chatType, msgType and createTime (web demo)", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInWs(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    // Exactly what the J-IM web demo sends.
    await u1.sendText(
      `{"from":"u1","to":"u2","cmd":11,"createTime":"1588600000000","chatType":"2","msgType":"0","content":"demo","id":"d1"}`,
    );
    await expectBody(u1, 12, BODY.sent);
    await expectBody(
      u2,
      11,
      chatDelivery({
        chatType: 2,
        content: "demo",
        createTime: 1588600000000,
        from: "u1",
        id: "d1",
        msgType: 0,
        to: "u2",
      }),
    );
  });
});

Deno.test("cmd 11: extras are passed through to the receiver", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    await u1.send(11, {
      chatType: 2,
      content: "x",
      createTime: 3,
      extras: { a: 1 },
      id: "e1",
      msgType: 1,
      to: "u2",
    });
    await expectBody(u1, 12, BODY.sent);
    await expectBody(
      u2,
      11,
      `{"command":11,"data":{"chatType":2,"cmd":11,"content":"x","createTime":3,"extras":{"a":1},"from":"u1","id":"e1","msgType":1,"to":"u2"}}`,
    );
  });
});

Deno.test("cmd 11: a private message reaches every connection of the receiver, TCP and WS alike", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u1b = await loggedInWs(server, "u1");
    const r1 = await loggedInTcp(server, "u2");
    const r2 = await loggedInWs(server, "u2");
    const r3 = await loggedInWs(server, "u2");
    await u1.send(11, { chatType: 2, content: "多端", createTime: 7, id: "m7", msgType: 0, to: "u2" });
    await expectBody(u1, 12, BODY.sent);
    const expected = chatDelivery({
      chatType: 2,
      content: "多端",
      createTime: 7,
      from: "u1",
      id: "m7",
      msgType: 0,
      to: "u2",
    });
    for (const r of [r1, r2, r3]) await expectNext(r, 11, expected);
    // The sender's other devices are not echoed.
    await assertQuiet(u1b);
  });
});

Deno.test("cmd 11: private chat to an offline user answers 10001 and stores it for cmd 19", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u2");
    const u1 = await loggedInTcp(server, "u1");
    await u1.send(11, { chatType: 2, content: "later", createTime: 100, id: "off1", msgType: 0, to: "u2" });
    await expectNext(u1, 12, BODY.offline);
    const u2 = await loggedInTcp(server, "u2");
    // Nothing is pushed at login (pull-only, spec §5.10).
    await assertQuiet(u2);
    await u2.send(19, { type: 0, userId: "u2" });
    const stored = chatBody({
      chatType: 2,
      content: "later",
      createTime: 100,
      from: "u1",
      id: "off1",
      msgType: 0,
      to: "u2",
    });
    await expectNext(
      u2,
      20,
      `{"code":10016,"command":20,"data":{"friends":{"u1":[${stored}]},"groups":{},"userId":"u2"},"msg":"${MSG.offlineOk}"}`,
    );
  });
});

Deno.test("cmd 11: the ack is sent only after the message is committed to disk", async () => {
  const first = await startServer();
  const dataDir = first.dataDir;
  /** Reads the message through a second, independent SQLite connection: only committed rows show. */
  const committed = (id: string) => {
    const db = new DatabaseSync(databasePath({ dataDir }), { readOnly: true });
    try {
      return db.prepare("SELECT content FROM messages WHERE msg_id = ?").get(id)?.content;
    } finally {
      db.close();
    }
  };
  try {
    await registerOffline(first, "u2");
    const u1 = await loggedInTcp(first, "u1");
    const u3 = await loggedInWs(first, "u3");
    await u1.send(7, { groupId: "g" });
    await u1.next(9);
    for (let i = 0; i < 20; i++) {
      await u1.send(11, { chatType: 2, content: `off ${i}`, createTime: i, id: `off${i}`, to: "u2" });
      await expectNext(u1, 12, BODY.offline);
      assert.equal(committed(`off${i}`), `off ${i}`);
      await u1.send(11, { chatType: 2, content: `on ${i}`, createTime: i, id: `on${i}`, to: "u3" });
      await expectNext(u1, 12, BODY.sent);
      assert.equal(committed(`on${i}`), `on ${i}`);
      assert.equal((await u3.next(11)).body.command, 11);
      await u1.send(11, { chatType: 1, content: `grp ${i}`, createTime: i, groupId: "g", id: `grp${i}` });
      await expectBody(u1, 12, BODY.sent);
      assert.equal(committed(`grp${i}`), `grp ${i}`);
      await u1.next(11);
    }
  } finally {
    await first.stop(false);
  }
  // And it survives a restart.
  const second = await startServer({ dataDir });
  try {
    const u2 = await loggedInTcp(second, "u2");
    await u2.send(19, { type: 0, userId: "u2", fromUserId: "u1", offset: 0, count: 2 });
    const list = [
      chatBody({ chatType: 2, content: "off 0", createTime: 0, from: "u1", id: "off0", to: "u2" }),
      chatBody({ chatType: 2, content: "off 1", createTime: 1, from: "u1", id: "off1", to: "u2" }),
    ];
    await expectNext(
      u2,
      20,
      `{"code":10016,"command":20,"data":{"friends":{"u1":[${
        list.join(",")
      }]},"groups":{},"userId":"u2"},"msg":"${MSG.offlineOk}"}`,
    );
  } finally {
    await second.stop();
  }
});

Deno.test("cmd 11: private chat to a user that does not exist answers 10025", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    await u1.send(11, { chatType: 2, content: "hello?", to: "nobody" });
    await expectNext(u1, 12, BODY.userNotFound);
    await assertQuiet(u1);
  });
});

Deno.test("cmd 11: missing or invalid chatType, private without to, group without groupId answer 10002", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    await loggedInTcp(server, "u2");
    const bodies = [
      { content: "no type", to: "u2" },
      { chatType: 0, content: "x", to: "u2" },
      { chatType: 3, content: "x", to: "u2" },
      { chatType: "x", content: "x", to: "u2" },
      { chatType: 2, content: "no to" },
      { chatType: "2", content: "empty to", to: "" },
      { chatType: 1, content: "no group" },
      { chatType: 2, content: "bad to", to: { id: "u2" } },
    ];
    for (const body of bodies) {
      await u1.send(11, body);
      await expectNext(u1, 12, BODY.sendFailed);
    }
    await assertQuiet(u1);
  });
});

Deno.test("cmd 11: a body that is not JSON answers 10023 and keeps the connection", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    await u1.sendRaw(encodeTcpFrame(11, enc.encode(`{"chatType":2,"to":`)));
    await expectNext(u1, 12, BODY.chatBadRequest);
    await u1.sendRaw(encodeTcpFrame(11, enc.encode(`[1,2,3]`)));
    await expectNext(u1, 12, BODY.chatBadRequest);
    await u1.sendRaw(encodeTcpFrame(11, new Uint8Array([0xff, 0xfe])));
    await expectNext(u1, 12, BODY.chatBadRequest);
    await assertQuiet(u1);
    assert.equal(u1.closed, false);
  });
});

// ---- group chat ----

Deno.test("cmd 11: group chat reaches every bound session including the sender's own, and answers 10000", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    const u2b = await loggedInTcp(server, "u2");
    const outsider = await loggedInTcp(server, "u3");
    await u1.send(7, { groupId: "100" });
    await expectNext(u1, 9, BODY.joinNotify("100", "u1"));
    // Joining binds all of u2's connections; everyone bound is told.
    await u2.send(7, { groupId: "100" });
    for (const c of [u1, u2, u2b]) await expectNext(c, 9, BODY.joinNotify("100", "u2"));
    // The J-IM web demo's group message (numeric strings, a from that is ignored).
    await u1.send(11, {
      chatType: "1",
      content: "hello all",
      createTime: 1588600000000,
      from: "someone",
      groupId: "100",
      id: "g1",
      msgType: "0",
    });
    const expected = chatDelivery({
      chatType: 1,
      content: "hello all",
      createTime: 1588600000000,
      from: "u1",
      groupId: "100",
      id: "g1",
      msgType: 0,
    });
    await expectBody(u1, 12, BODY.sent);
    await expectBody(u1, 11, expected);
    await expectNext(u2, 11, expected);
    await expectNext(u2b, 11, expected);
    for (const c of [u1, u2, u2b, outsider]) await assertQuiet(c);
  });
});

Deno.test("cmd 11: group chat by a non-member answers 10024 and delivers nothing", async () => {
  await withServer(async (server) => {
    const member = await loggedInTcp(server, "u1");
    await member.send(7, { groupId: "g1" });
    await member.next(9);
    const stranger = await loggedInTcp(server, "u2");
    await stranger.send(11, { chatType: 1, content: "let me in", groupId: "g1" });
    await expectNext(stranger, 12, BODY.chatForbidden);
    // A group that does not exist is refused the same way.
    await stranger.send(11, { chatType: 1, content: "?", groupId: "nope" });
    await expectNext(stranger, 12, BODY.chatForbidden);
    await assertQuiet(member);
    await assertQuiet(stranger);
  });
});

Deno.test("cmd 11: group chat queues the message for offline members (cmd 19 type 0)", async () => {
  await withServer(async (server) => {
    const u2 = await loggedInTcp(server, "u2");
    await u2.send(7, { groupId: "g1" });
    await u2.next(9);
    u2.close();
    const u1 = await loggedInTcp(server, "u1");
    await u1.send(7, { groupId: "g1" });
    await u1.next(9);
    await waitOffline(server, "u2");
    await u1.send(11, {
      chatType: 1,
      content: "while you were out",
      createTime: 42,
      groupId: "g1",
      id: "go1",
    });
    await expectBody(u1, 12, BODY.sent);
    await u1.next(11);
    const again = await loggedInTcp(server, "u2");
    await again.next(9);
    await again.send(19, { type: 0, userId: "u2", groupId: "g1" });
    const m = chatBody({
      chatType: 1,
      content: "while you were out",
      createTime: 42,
      from: "u1",
      groupId: "g1",
      id: "go1",
    });
    await expectNext(
      again,
      20,
      `{"code":10016,"command":20,"data":{"friends":{},"groups":{"g1":[${m}]},"userId":"u2"},"msg":"${MSG.offlineOk}"}`,
    );
  });
});

// ---- cross-protocol ----

Deno.test("cross-protocol: a TCP user and a WS user chat privately both ways", async () => {
  await withServer(async (server) => {
    const t = await loggedInTcp(server, "tcpUser");
    const w = await loggedInWs(server, "wsUser");
    await t.send(11, { chatType: 2, content: "from tcp", createTime: 1, id: "x1", msgType: 0, to: "wsUser" });
    await expectBody(t, 12, BODY.sent);
    await expectBody(
      w,
      11,
      chatDelivery({
        chatType: 2,
        content: "from tcp",
        createTime: 1,
        from: "tcpUser",
        id: "x1",
        msgType: 0,
        to: "wsUser",
      }),
    );
    await w.send(11, {
      chatType: 2,
      content: "from ws 你好",
      createTime: 2,
      id: "x2",
      msgType: 0,
      to: "tcpUser",
    });
    await expectBody(w, 12, BODY.sent);
    await expectBody(
      t,
      11,
      chatDelivery({
        chatType: 2,
        content: "from ws 你好",
        createTime: 2,
        from: "wsUser",
        id: "x2",
        msgType: 0,
        to: "tcpUser",
      }),
    );
  });
});

Deno.test("cross-protocol: a TCP user and a WS user chat in a group both ways", async () => {
  await withServer(async (server) => {
    const t = await loggedInTcp(server, "tcpUser");
    const w = await loggedInWs(server, "wsUser");
    await t.send(7, { groupId: "mixed" });
    await expectBody(t, 9, BODY.joinNotify("mixed", "tcpUser"));
    await w.send(7, { groupId: "mixed" });
    await expectBody(w, 9, BODY.joinNotify("mixed", "wsUser"));
    await expectBody(t, 9, BODY.joinNotify("mixed", "wsUser"));
    const fromTcp = chatDelivery({
      chatType: 1,
      content: "tcp→all",
      createTime: 1,
      from: "tcpUser",
      groupId: "mixed",
      id: "y1",
    });
    await t.send(11, { chatType: 1, content: "tcp→all", createTime: 1, groupId: "mixed", id: "y1" });
    await expectBody(t, 12, BODY.sent);
    await expectBody(t, 11, fromTcp);
    await expectBody(w, 11, fromTcp);
    const fromWs = chatDelivery({
      chatType: 1,
      content: "ws→all",
      createTime: 2,
      from: "wsUser",
      groupId: "mixed",
      id: "y2",
    });
    await w.send(11, { chatType: 1, content: "ws→all", createTime: 2, groupId: "mixed", id: "y2" });
    await expectBody(w, 12, BODY.sent);
    await expectBody(w, 11, fromWs);
    await expectBody(t, 11, fromWs);
    await assertQuiet(t);
    await assertQuiet(w);
  });
});
