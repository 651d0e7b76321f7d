/** End-to-end over real sockets: cmd 19 → 20, offline messages (type 0) and history (type 1). */
import type { JimClient } from "../src/client/jim_client.ts";
import { loggedInTcp, loggedInWs, type TestServer } from "./_server.ts";
import {
  assertQuiet,
  BODY,
  chatBody,
  expectBody,
  expectNext,
  MSG,
  registerOffline,
  waitOffline,
  withServer,
} from "./_e2e.ts";

type Lists = Record<string, string[]>;

const mapOf = (lists: Lists) =>
  "{" + Object.keys(lists).sort().map((k) => `${JSON.stringify(k)}:[${lists[k].join(",")}]`).join(",") + "}";

const offlineReply = (userId: string, friends: Lists, groups: Lists = {}) =>
  `{"code":10016,"command":20,"data":{"friends":${mapOf(friends)},"groups":${
    mapOf(groups)
  },"userId":"${userId}"},"msg":"${MSG.offlineOk}"}`;

const historyReply = (userId: string, friends: Lists, groups: Lists = {}) =>
  `{"code":10018,"command":20,"data":{"friends":${mapOf(friends)},"groups":${
    mapOf(groups)
  },"userId":"${userId}"},"msg":"${MSG.historyOk}"}`;

const priv = (from: string, to: string, id: string, createTime: number, content = id) =>
  chatBody({ chatType: 2, content, createTime, from, id, msgType: 0, to });
const grp = (from: string, groupId: string, id: string, createTime: number, content = id) =>
  chatBody({ chatType: 1, content, createTime, from, groupId, id, msgType: 0 });

async function sendPrivate(c: JimClient, to: string, id: string, createTime: number, ack: string) {
  await c.send(11, { chatType: 2, content: id, createTime, id, msgType: 0, to });
  await expectBody(c, 12, ack);
}

async function sendGroup(c: JimClient, groupId: string, id: string, createTime: number) {
  await c.send(11, { chatType: 1, content: id, createTime, groupId, id, msgType: 0 });
  await expectBody(c, 12, BODY.sent);
  await c.next(11); // the sender's own copy
}

async function join(c: JimClient, groupId: string) {
  await c.send(7, { groupId });
  await c.next(9);
}

/** u1 and u2 online (TCP and WS), both members of g1, with a private and a group history. */
async function conversation(server: TestServer) {
  const u1 = await loggedInTcp(server, "u1");
  const u2 = await loggedInWs(server, "u2");
  await join(u1, "g1");
  await join(u2, "g1");
  await u1.next(9);
  // Sent out of time order on purpose: lists are in ascending createTime.
  await sendPrivate(u1, "u2", "p3", 3000, BODY.sent);
  await sendPrivate(u2, "u1", "p1", 1000, BODY.sent);
  await sendPrivate(u1, "u2", "p2", 2000, BODY.sent);
  await sendPrivate(u2, "u1", "p4", 4000, BODY.sent);
  await sendGroup(u1, "g1", "g2", 2000);
  await sendGroup(u2, "g1", "g1", 1000);
  for (let i = 0; i < 3; i++) await u1.next(11);
  for (let i = 0; i < 3; i++) await u2.next(11);
  for (const c of [u1, u2]) await assertQuiet(c);
  return { u1, u2 };
}

const P = {
  p1: priv("u2", "u1", "p1", 1000),
  p2: priv("u1", "u2", "p2", 2000),
  p3: priv("u1", "u2", "p3", 3000),
  p4: priv("u2", "u1", "p4", 4000),
  g1: grp("u2", "g1", "g1", 1000),
  g2: grp("u1", "g1", "g2", 2000),
};

// ---- errors ----

Deno.test("cmd 19: missing userId, missing or bad type, type 1 without peer or group answer 10015", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const bodies = [
      { type: 0 },
      { type: 1, userId: "" },
      { userId: "u1" },
      { type: 2, userId: "u1" },
      { type: -1, userId: "u1" },
      { type: "x", userId: "u1" },
      { type: 1, userId: "u1" },
    ];
    for (const body of bodies) {
      await u1.send(19, body);
      await expectNext(u1, 20, BODY.getMessageFailed);
    }
    await assertQuiet(u1);
  });
});

Deno.test("cmd 19: another user's userId, or a group the caller is not in, answer 10024 on cmd 20", async () => {
  await withServer(async (server) => {
    const { u1 } = await conversation(server);
    const u3 = await loggedInWs(server, "u3");
    for (const type of [0, 1]) {
      await u3.send(19, { type, userId: "u1", fromUserId: "u2" });
      await expectNext(u3, 20, BODY.getMessageForbidden);
      await u3.send(19, { type, userId: "u3", groupId: "g1" });
      await expectNext(u3, 20, BODY.getMessageForbidden);
    }
    await assertQuiet(u3);
    // Nothing of u1's was consumed or leaked.
    await u1.send(19, { type: 1, userId: "u1", groupId: "g1" });
    await expectNext(u1, 20, historyReply("u1", {}, { g1: [P.g1, P.g2] }));
  });
});

// ---- history ----

Deno.test("cmd 19: private history is shared by both users, ascending createTime", async () => {
  await withServer(async (server) => {
    const { u1, u2 } = await conversation(server);
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2" });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p1, P.p2, P.p3, P.p4] }));
    await u2.send(19, { type: "1", userId: "u2", fromUserId: "u1" });
    await expectNext(u2, 20, historyReply("u2", { u1: [P.p1, P.p2, P.p3, P.p4] }));
    // History is not consumed.
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2" });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p1, P.p2, P.p3, P.p4] }));
  });
});

Deno.test("cmd 19: group history for members; groupId wins over fromUserId", async () => {
  await withServer(async (server) => {
    const { u2 } = await conversation(server);
    await u2.send(19, { type: 1, userId: "u2", groupId: "g1" });
    await expectNext(u2, 20, historyReply("u2", {}, { g1: [P.g1, P.g2] }));
    await u2.send(19, { type: 1, userId: "u2", groupId: "g1", fromUserId: "u1" });
    await expectNext(u2, 20, historyReply("u2", {}, { g1: [P.g1, P.g2] }));
  });
});

Deno.test("cmd 19: the requested peer or group key is present even when empty", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u2");
    const u1 = await loggedInTcp(server, "u1");
    await join(u1, "empty");
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2" });
    await expectNext(u1, 20, historyReply("u1", { u2: [] }));
    await u1.send(19, { type: 1, userId: "u1", groupId: "empty" });
    await expectNext(u1, 20, historyReply("u1", {}, { empty: [] }));
    await u1.send(19, { type: 0, userId: "u1", fromUserId: "u2" });
    await expectNext(u1, 20, offlineReply("u1", { u2: [] }));
    await u1.send(19, { type: 0, userId: "u1", groupId: "empty" });
    await expectNext(u1, 20, offlineReply("u1", {}, { empty: [] }));
    await u1.send(19, { type: 0, userId: "u1" });
    await expectNext(u1, 20, offlineReply("u1", {}));
  });
});

Deno.test("cmd 19: history time range applies only with both beginTime and endTime, inclusive", async () => {
  await withServer(async (server) => {
    const { u1 } = await conversation(server);
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", beginTime: 2000, endTime: 3000 });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p2, P.p3] }));
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", beginTime: "1500", endTime: "4000" });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p2, P.p3, P.p4] }));
    await u1.send(19, { type: 1, userId: "u1", groupId: "g1", beginTime: 1001, endTime: 5000 });
    await expectNext(u1, 20, historyReply("u1", {}, { g1: [P.g2] }));
    // Only one bound: no filter.
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", beginTime: 3000 });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p1, P.p2, P.p3, P.p4] }));
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", endTime: 1000 });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p1, P.p2, P.p3, P.p4] }));
  });
});

Deno.test("cmd 19: history offset/count pages from the oldest, only with both present", async () => {
  await withServer(async (server) => {
    const { u1, u2 } = await conversation(server);
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", offset: 0, count: 2 });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p1, P.p2] }));
    await u2.send(19, { type: 1, userId: "u2", fromUserId: "u1", offset: "2", count: "2" });
    await expectNext(u2, 20, historyReply("u2", { u1: [P.p3, P.p4] }));
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", offset: 3, count: 10 });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p4] }));
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", offset: 9, count: 10 });
    await expectNext(u1, 20, historyReply("u1", { u2: [] }));
    // Range and paging together: paging within the range.
    await u1.send(19, {
      type: 1,
      userId: "u1",
      fromUserId: "u2",
      beginTime: 2000,
      endTime: 4000,
      offset: 1,
      count: 1,
    });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p3] }));
    // Only one of them: no paging.
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", count: 1 });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p1, P.p2, P.p3, P.p4] }));
    await u1.send(19, { type: 1, userId: "u1", fromUserId: "u2", offset: 2 });
    await expectNext(u1, 20, historyReply("u1", { u2: [P.p1, P.p2, P.p3, P.p4] }));
  });
});

// ---- offline ----

Deno.test("cmd 19: offline messages from one peer, ascending; the read removes them", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u2");
    const u1 = await loggedInTcp(server, "u1");
    const u3 = await loggedInWs(server, "u3");
    await sendPrivate(u1, "u2", "a2", 2000, BODY.offline);
    await sendPrivate(u3, "u2", "c1", 1500, BODY.offline);
    await sendPrivate(u1, "u2", "a1", 1000, BODY.offline);
    const u2 = await loggedInTcp(server, "u2");
    await u2.send(19, { type: 0, userId: "u2", fromUserId: "u1" });
    await expectNext(
      u2,
      20,
      offlineReply("u2", { u1: [priv("u1", "u2", "a1", 1000), priv("u1", "u2", "a2", 2000)] }),
    );
    await u2.send(19, { type: 0, userId: "u2", fromUserId: "u1" });
    await expectNext(u2, 20, offlineReply("u2", { u1: [] }));
    // u3's message is still queued.
    await u2.send(19, { type: "0", userId: "u2" });
    await expectNext(u2, 20, offlineReply("u2", { u3: [priv("u3", "u2", "c1", 1500)] }));
    // History still has everything.
    await u2.send(19, { type: 1, userId: "u2", fromUserId: "u1" });
    await expectNext(
      u2,
      20,
      historyReply("u2", { u1: [priv("u1", "u2", "a1", 1000), priv("u1", "u2", "a2", 2000)] }),
    );
  });
});

Deno.test("cmd 19: offline 'all' keys friends by from and groups by groupId, then is empty", async () => {
  await withServer(async (server) => {
    const u2 = await loggedInTcp(server, "u2");
    await join(u2, "g1");
    await join(u2, "g2");
    u2.close();
    await waitOffline(server, "u2");
    const u1 = await loggedInTcp(server, "u1");
    const u3 = await loggedInWs(server, "u3");
    await join(u1, "g1");
    await join(u3, "g2");
    await sendPrivate(u1, "u2", "x1", 10, BODY.offline);
    await sendPrivate(u3, "u2", "y1", 20, BODY.offline);
    await sendPrivate(u1, "u2", "x2", 30, BODY.offline);
    await sendGroup(u1, "g1", "gm1", 15);
    await sendGroup(u3, "g2", "gm2", 25);
    const back = await loggedInWs(server, "u2");
    await back.next(9);
    await back.next(9);
    await back.send(19, { type: 0, userId: "u2" });
    await expectNext(
      back,
      20,
      offlineReply(
        "u2",
        { u1: [priv("u1", "u2", "x1", 10), priv("u1", "u2", "x2", 30)], u3: [priv("u3", "u2", "y1", 20)] },
        { g1: [grp("u1", "g1", "gm1", 15)], g2: [grp("u3", "g2", "gm2", 25)] },
      ),
    );
    await back.send(19, { type: 0, userId: "u2" });
    await expectNext(back, 20, offlineReply("u2", {}));
  });
});

Deno.test("cmd 19: offline messages of one group leave the others queued", async () => {
  await withServer(async (server) => {
    const u2 = await loggedInTcp(server, "u2");
    await join(u2, "g1");
    await join(u2, "g2");
    u2.close();
    await waitOffline(server, "u2");
    const u1 = await loggedInTcp(server, "u1");
    await join(u1, "g1");
    await join(u1, "g2");
    await sendGroup(u1, "g1", "m1", 1);
    await sendGroup(u1, "g2", "m2", 2);
    await sendPrivate(u1, "u2", "m3", 3, BODY.offline);
    const back = await loggedInTcp(server, "u2");
    await back.send(19, { type: 0, userId: "u2", groupId: "g1" });
    await expectBody(back, 20, offlineReply("u2", {}, { g1: [grp("u1", "g1", "m1", 1)] }));
    await back.send(19, { type: 0, userId: "u2", groupId: "g1" });
    await expectBody(back, 20, offlineReply("u2", {}, { g1: [] }));
    // fromUserId selects private messages only.
    await back.send(19, { type: 0, userId: "u2", fromUserId: "u1" });
    await expectBody(back, 20, offlineReply("u2", { u1: [priv("u1", "u2", "m3", 3)] }));
    await back.send(19, { type: 0, userId: "u2" });
    await expectBody(back, 20, offlineReply("u2", {}, { g2: [grp("u1", "g2", "m2", 2)] }));
  });
});

Deno.test("cmd 19: the sender gets no offline copy of its own group message", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    await join(u1, "g1");
    await sendGroup(u1, "g1", "mine", 1);
    await u1.send(19, { type: 0, userId: "u1" });
    await expectNext(u1, 20, offlineReply("u1", {}));
  });
});

Deno.test("cmd 19: peers and groups named like Object.prototype members are ordinary keys", async () => {
  // Found by tests/fuzz_test.ts: friends["constructor"] was Object's constructor (10027).
  await withServer(async (server) => {
    const names = ["constructor", "__proto__", "toString"];
    await registerOffline(server, "u1");
    for (const name of names) {
      const c = await loggedInTcp(server, name);
      await sendPrivate(c, "u1", `from-${name}`, 1000, BODY.offline);
      await join(c, name);
      await sendGroup(c, name, `in-${name}`, 2000);
      c.close();
    }
    const u1 = await loggedInTcp(server, "u1");
    const lists = (body: (name: string) => string) =>
      Object.fromEntries(names.map((name) => [name, [body(name)]])) as Lists;
    await u1.send(19, { type: 0, userId: "u1" });
    await expectNext(u1, 20, offlineReply("u1", lists((n) => priv(n, "u1", `from-${n}`, 1000))));
    for (const name of names) {
      await u1.send(19, { type: 1, userId: "u1", fromUserId: name });
      await expectNext(u1, 20, historyReply("u1", { [name]: [priv(name, "u1", `from-${name}`, 1000)] }));
    }
    // A member reads a group named "__proto__".
    const member = await loggedInTcp(server, "__proto__");
    await member.next(9); // its group's notify at login
    await member.send(19, { type: 1, userId: "__proto__", groupId: "__proto__" });
    await expectNext(
      member,
      20,
      historyReply(
        "__proto__",
        {},
        Object.fromEntries([["__proto__", [grp("__proto__", "__proto__", "in-__proto__", 2000)]]]),
      ),
    );
  });
});
