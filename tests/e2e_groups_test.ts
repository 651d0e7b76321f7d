/** End-to-end over real sockets: cmd 7 join, cmd 9 / 10 notifies and cmd 17 get user. */
import assert from "node:assert/strict";
import { loggedInTcp, loggedInWs } from "./_server.ts";
import {
  assertQuiet,
  BODY,
  chatBody,
  expectBody,
  expectNext,
  MSG,
  registerOffline,
  waitUntil,
  withServer,
} from "./_e2e.ts";

const getUser = (type: 0 | 1 | 2, data?: string) =>
  data === undefined
    ? `{"code":${[10005, 10006, 10003][type]},"command":18,"msg":"${MSG.getUser[type]}"}`
    : `{"code":${[10005, 10006, 10003][type]},"command":18,"data":${data},"msg":"${MSG.getUser[type]}"}`;

const online = (id: string, terminal: "tcp" | "ws") =>
  `{"nick":"${id}","status":"online","terminal":"${terminal}","userId":"${id}"}`;
const offline = (id: string) => `{"nick":"${id}","status":"offline","userId":"${id}"}`;

// ---- cmd 7 / 9 ----

Deno.test("cmd 7: join sends no cmd 8, only the cmd 9 notify to every bound session including the joiner", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u1b = await loggedInWs(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    const outsider = await loggedInTcp(server, "u3");
    await u1.send(7, { groupId: "g1", name: "J-IM朋友圈" });
    // Both of u1's connections are bound and told.
    await expectNext(u1, 9, BODY.joinNotify("g1", "u1"));
    await expectNext(u1b, 9, BODY.joinNotify("g1", "u1"));
    await u2.send(7, { cmd: 7, groupId: "g1" });
    for (const c of [u1, u1b, u2]) await expectNext(c, 9, BODY.joinNotify("g1", "u2"));
    for (const c of [u1, u1b, u2, outsider]) await assertQuiet(c);
    // The group keeps the name of its creator's join.
    await u2.send(17, { type: 2, userId: "u2" });
    const p = await expectNext(u2, 18);
    const groups = (p.body.data as { groups: { groupId: string; name: string }[] }).groups;
    assert.deepEqual(groups.map((g) => [g.groupId, g.name]), [["g1", "J-IM朋友圈"]]);
  });
});

Deno.test("cmd 7: joining again is accepted and notifies again", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    await u1.send(7, { groupId: "g1" });
    await expectNext(u1, 9, BODY.joinNotify("g1", "u1"));
    await u1.send(7, { groupId: "g1" });
    await expectNext(u1, 9, BODY.joinNotify("g1", "u1"));
    await assertQuiet(u1);
  });
});

Deno.test("cmd 7: a missing or blank groupId answers 10012 on cmd 8 and keeps the connection", async () => {
  await withServer(async (server) => {
    const t = await loggedInTcp(server, "u1");
    const w = await loggedInWs(server, "u2");
    for (const c of [t, w]) {
      for (const body of [{}, { groupId: "" }, { groupId: "   " }, { name: "no id" }]) {
        await c.send(7, body);
        await expectNext(c, 8, BODY.joinFailed);
      }
      await assertQuiet(c);
    }
  });
});

Deno.test("cmd 7: membership persists; re-login rebinds and sends cmd 9 before cmd 6", async () => {
  await withServer(async (server) => {
    const u2 = await loggedInWs(server, "u2");
    await u2.send(7, { groupId: "g1" });
    await u2.next(9);
    const u1 = await loggedInTcp(server, "u1");
    await u1.send(7, { groupId: "g1" });
    await expectNext(u1, 9, BODY.joinNotify("g1", "u1"));
    await expectNext(u2, 9, BODY.joinNotify("g1", "u1"));
    await u1.send(7, { groupId: "g2" });
    await expectNext(u1, 9, BODY.joinNotify("g2", "u1"));
    u1.close();
    await expectNext(u2, 10, BODY.exitNotify("g1", "u1"));
    const again = await server.tcp();
    await again.send(5, { password: "pw", userId: "u1" });
    await expectNext(again, 9, BODY.joinNotify("g1", "u1"));
    await expectNext(again, 9, BODY.joinNotify("g2", "u1"));
    await expectNext(again, 6, BODY.loginOk);
    await expectNext(u2, 9, BODY.joinNotify("g1", "u1"));
    // Rebound: group messages reach the new connection.
    await u2.send(11, { chatType: 1, content: "back?", createTime: 1, groupId: "g1", id: "b1" });
    await expectBody(u2, 12, BODY.sent);
    const m = await expectNext(again, 11);
    assert.equal((m.body.data as { id: string }).id, "b1");
  });
});

Deno.test("cmd 9: default groups are joined at registration and notified at every login", async () => {
  await withServer(async (server) => {
    const a = await server.ws("/?username=u1&password=pw");
    await expectNext(a, 9, BODY.joinNotify("100", "u1"));
    await expectNext(a, 9, BODY.joinNotify("200", "u1"));
    await expectNext(a, 6, BODY.loginOk);
    const b = await server.tcp();
    await b.send(5, { password: "pw", userId: "u2" });
    await expectNext(b, 9, BODY.joinNotify("100", "u2"));
    await expectNext(b, 9, BODY.joinNotify("200", "u2"));
    await expectNext(b, 6, BODY.loginOk);
    await expectNext(a, 9, BODY.joinNotify("100", "u2"));
    await expectNext(a, 9, BODY.joinNotify("200", "u2"));
  }, { defaultGroups: ["100", "200"] });
});

// ---- cmd 10 ----

Deno.test("cmd 10: when a member's last connection closes the remaining members get the exit notify", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    const u2b = await loggedInWs(server, "u2");
    for (const g of ["g1", "g2"]) {
      await u1.send(7, { groupId: g });
      await u1.next(9);
      await u2.send(7, { groupId: g });
      for (const c of [u1, u2, u2b]) await expectNext(c, 9, BODY.joinNotify(g, "u2"));
    }
    // u2 still has a connection: nobody is told anything.
    u2.close();
    await waitUntil(() => server.app.services.registry.sessionsOf("u2").size === 1, "one u2 session left");
    await assertQuiet(u1);
    await assertQuiet(u2b);
    // The last one goes: one cmd 10 per group, to the remaining members only.
    await u2b.send(14, {});
    await expectNext(u2b, 14, BODY.closeOk);
    await u2b.waitClosed();
    await expectNext(u1, 10, BODY.exitNotify("g1", "u2"));
    await expectNext(u1, 10, BODY.exitNotify("g2", "u2"));
    await assertQuiet(u1);
  });
});

// ---- cmd 17 ----

Deno.test("cmd 17: the caller's own record lists each group's members filtered by type", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u3");
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    await u1.send(7, { groupId: "g2", name: "第二组" });
    const self = (groupUsers: string, g2Users: string, terminal = "tcp") =>
      `{"friends":[],"groups":[{"groupId":"100","name":"100","users":[${groupUsers}]},{"groupId":"g2","name":"第二组","users":[${g2Users}]}],"nick":"u1","status":"online","terminal":"${terminal}","userId":"u1"}`;
    await u1.send(17, { type: 0, userId: "u1" });
    await expectBody(
      u1,
      18,
      getUser(0, self(`${online("u1", "tcp")},${online("u2", "ws")}`, online("u1", "tcp"))),
    );
    // type absent = 0; numeric strings accepted.
    await u1.send(17, { userId: "u1" });
    await expectBody(
      u1,
      18,
      getUser(0, self(`${online("u1", "tcp")},${online("u2", "ws")}`, online("u1", "tcp"))),
    );
    await u1.send(17, { type: "1", userId: "u1" });
    await expectBody(u1, 18, getUser(1, self(offline("u3"), "")));
    await u1.send(17, { type: 2, userId: "u1" });
    await expectBody(
      u1,
      18,
      getUser(2, self(`${offline("u3")},${online("u1", "tcp")},${online("u2", "ws")}`, online("u1", "tcp"))),
    );
    // Over WebSocket the caller's terminal is "ws".
    await u2.send(17, { type: 0, userId: "u2" });
    await expectBody(
      u2,
      18,
      getUser(
        0,
        `{"friends":[],"groups":[{"groupId":"100","name":"100","users":[${online("u1", "tcp")},${
          online("u2", "ws")
        }]}],"nick":"u2","status":"online","terminal":"ws","userId":"u2"}`,
      ),
    );
  }, { defaultGroups: ["100"] });
});

Deno.test("cmd 17: another user's public profile, omitted when the status does not match the type", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u3");
    const u1 = await loggedInTcp(server, "u1");
    await loggedInWs(server, "u2");
    const cases: [0 | 1 | 2, string, string | undefined][] = [
      [0, "u2", online("u2", "ws")],
      [1, "u2", undefined],
      [2, "u2", online("u2", "ws")],
      [0, "u3", undefined],
      [1, "u3", offline("u3")],
      [2, "u3", offline("u3")],
    ];
    for (const [type, userId, data] of cases) {
      await u1.send(17, { type, userId });
      await expectNext(u1, 18, getUser(type, data));
    }
  });
});

Deno.test("cmd 17: empty userId, unknown user or a type other than 0/1/2 answer 10004", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInWs(server, "u1");
    const bodies = [
      { type: 0 },
      { type: 0, userId: "" },
      { type: 0, userId: "nobody" },
      { type: 3, userId: "u1" },
      { type: -1, userId: "u1" },
      { type: "x", userId: "u1" },
    ];
    for (const body of bodies) {
      await u1.send(17, body);
      await expectNext(u1, 18, BODY.getUserFailed);
    }
    await assertQuiet(u1);
  });
});

Deno.test("cmd 17: a user registered after the group was listed still shows up as a member", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    await u1.send(17, { type: 2, userId: "u1" });
    await expectBody(
      u1,
      18,
      getUser(
        2,
        `{"friends":[],"groups":[{"groupId":"100","name":"100","users":[${
          online("u1", "tcp")
        }]}],"nick":"u1","status":"online","terminal":"tcp","userId":"u1"}`,
      ),
    );
    await registerOffline(server, "u2");
    await u1.send(17, { type: 2, userId: "u1" });
    await expectBody(
      u1,
      18,
      getUser(
        2,
        `{"friends":[],"groups":[{"groupId":"100","name":"100","users":[${online("u1", "tcp")},${
          offline("u2")
        }]}],"nick":"u1","status":"online","terminal":"tcp","userId":"u1"}`,
      ),
    );
  }, { defaultGroups: ["100"] });
});

Deno.test("cmd 11: a default-group member registered after the first group chat gets later ones offline", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    await u1.send(11, { chatType: 1, content: "first", createTime: 1, groupId: "100", id: "f1" });
    await expectBody(u1, 12, BODY.sent);
    await registerOffline(server, "u2");
    await u1.send(11, { chatType: 1, content: "second", createTime: 2, groupId: "100", id: "f2" });
    await expectBody(u1, 12, BODY.sent);
    const u2 = await loggedInTcp(server, "u2");
    await u2.send(19, { type: 0, userId: "u2" });
    const m = chatBody({
      chatType: 1,
      content: "second",
      createTime: 2,
      from: "u1",
      groupId: "100",
      id: "f2",
    });
    await expectBody(
      u2,
      20,
      `{"code":10016,"command":20,"data":{"friends":{},"groups":{"100":[${m}]},"userId":"u2"},"msg":"${MSG.offlineOk}"}`,
    );
  }, { defaultGroups: ["100"] });
});
