/**
 * End-to-end over real sockets: group permissions (docs/protocol.md §10) — open and invite-only
 * groups, owner and admins, invite, kick, leave, ban, mute, roles, info, disband — and that only
 * members ever read a group.
 */
import assert from "node:assert/strict";
import type { JimClient, ReceivedPacket } from "../src/client/jim_client.ts";
import { stringifySorted } from "../src/protocol/json.ts";
import { loggedInTcp, loggedInWs, startServer, type TestServer } from "./_server.ts";
import {
  assertQuiet,
  BODY,
  bodyOf,
  chatDelivery,
  expectBody,
  expectNext,
  MSG,
  registerOffline,
  waitOffline,
  withServer,
} from "./_e2e.ts";

const OK_MSG = "ok group updated 群组操作成功";
const ok = (cmd: number, data: Record<string, unknown>) =>
  `{"code":10037,"command":${cmd},"data":${stringifySorted(data)},"msg":"${OK_MSG}"}`;
const notify = (cmd: number, data: Record<string, unknown>) =>
  `{"command":${cmd},"data":${stringifySorted(data)}}`;
const status = (cmd: number, code: number, msg: string) => `{"code":${code},"command":${cmd},"msg":"${msg}"}`;
const forbidden = (cmd: number) => status(cmd, 10024, "forbidden 没有权限");
const notFound = (cmd: number) => status(cmd, 10039, "group not found 群组不存在");
const notMember = (cmd: number) => status(cmd, 10043, "not a group member 该用户不是群成员");
const badRequest = (cmd: number) => status(cmd, 10023, "bad request 请求格式不正确");
const joinRefused = (result: number) =>
  `{"code":10012,"command":8,"msg":"join group failed! 加入群组失败!","result":${result}}`;
const offlineEmpty = (userId: string) =>
  `{"code":10016,"command":20,"data":{"friends":{},"groups":{},"userId":"${userId}"},"msg":"${MSG.offlineOk}"}`;

/** Reads everything already sent to the connection (a heartbeat round trip), returns it. */
async function drain(c: JimClient): Promise<ReceivedPacket[]> {
  await c.send(13, {});
  const got: ReceivedPacket[] = [];
  for (;;) {
    const p = await c.next(() => true);
    if (p.command === 13) return got;
    got.push(p);
  }
}

async function drainAll(...cs: JimClient[]): Promise<void> {
  for (const c of cs) await drain(c);
}

/** `owner` creates the group; the members join (invited first when the group is invite-only). */
async function makeGroup(
  owner: JimClient,
  groupId: string,
  kind: "open" | "invite",
  members: [string, JimClient][] = [],
): Promise<void> {
  await owner.send(7, { groupId, kind });
  await owner.next(9);
  for (const [userId, c] of members) {
    if (kind === "invite") {
      await owner.send(36, { groupId, userId });
      await owner.next(37);
    }
    await c.send(7, { groupId });
    await c.next((p) => p.command === 9 && (p.body.user as { userId: string }).userId === userId);
  }
  await drainAll(owner, ...members.map(([, c]) => c));
}

async function groupChat(c: JimClient, groupId: string, content: string, id: string): Promise<void> {
  await c.send(11, { chatType: 1, content, createTime: 1000, groupId, id });
}

/** The info reply's members as "userId:role". */
async function roles(c: JimClient, groupId: string): Promise<string[]> {
  await c.send(46, { groupId });
  const p = await expectNext(c, 47);
  assert.equal(p.body.code, 10038, bodyOf(p));
  return (p.body.data as { members: { userId: string; role: string }[] }).members.map((m) =>
    `${m.userId}:${m.role}`
  );
}

// ---- joining ----

Deno.test("group permissions: cmd 7 creates an open group owned by the joiner; J-IM's join is unchanged", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    await u1.send(7, { groupId: "g", name: "G" });
    await expectNext(u1, 9, BODY.joinNotify("g", "u1"));
    await u2.send(7, { groupId: "g" });
    await expectNext(u2, 9, BODY.joinNotify("g", "u2"));
    await expectNext(u1, 9, BODY.joinNotify("g", "u2"));
    // Joining again is still accepted and notified (J-IM).
    await u2.send(7, { groupId: "g", kind: "invite" });
    await expectNext(u2, 9, BODY.joinNotify("g", "u2"));
    await expectNext(u1, 9, BODY.joinNotify("g", "u2"));

    await u2.send(46, { groupId: "g" });
    const info = await expectNext(u2, 47);
    const data = info.body.data as Record<string, unknown> & { members: { joinedAt: number }[] };
    assert.equal(info.body.msg, "ok group info 获取群组信息成功");
    assert.deepEqual(data, {
      createdAt: data.createdAt,
      groupId: "g",
      hasMore: false,
      kind: "open",
      members: [
        { joinedAt: data.members[0].joinedAt, mutedUntil: 0, role: "owner", userId: "u1" },
        { joinedAt: data.members[1].joinedAt, mutedUntil: 0, role: "member", userId: "u2" },
      ],
      name: "G",
      ownerId: "u1",
    });
    // Owner and admins also see bans and invites.
    await u1.send(46, { groupId: "g" });
    const own = (await expectNext(u1, 47)).body.data as Record<string, unknown>;
    assert.deepEqual([own.bans, own.invites], [[], []]);
    // A kind other than open/invite is refused like a bad groupId.
    await u2.send(7, { groupId: "h", kind: "secret" });
    await expectNext(u2, 8, joinRefused(0));
    for (const c of [u1, u2]) await assertQuiet(c);
  });
});

Deno.test("group permissions: invite-only join is refused, then allowed after an invite, which it uses up", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    const u2b = await loggedInTcp(server, "u2");
    await u1.send(7, { groupId: "g", kind: "invite", name: "Secret" });
    await expectNext(u1, 9, BODY.joinNotify("g", "u1"));
    await u2.send(7, { groupId: "g" });
    await expectNext(u2, 8, joinRefused(0));
    // Not a member: no info.
    await u2.send(46, { groupId: "g" });
    await expectNext(u2, 47, forbidden(47));

    await u1.send(36, { groupId: "g", userId: "u2" });
    const data = { by: "u1", groupId: "g", invited: true, kind: "invite", userId: "u2" };
    await expectNext(u1, 37, ok(37, data));
    await expectNext(u2, 37, notify(37, data));
    await expectNext(u2b, 37, notify(37, data));
    // The invitee sees the invite and the group.
    await u2.send(46, {});
    const list = await expectNext(u2, 47);
    const invites = (list.body.data as { invites: { invitedAt: number }[] }).invites;
    assert.deepEqual(list.body.data, {
      invites: [{ by: "u1", groupId: "g", invitedAt: invites[0].invitedAt, kind: "invite", name: "Secret" }],
      userId: "u2",
    });
    await u2.send(46, { groupId: "g" });
    const seen = (await expectNext(u2, 47)).body.data as Record<string, unknown>;
    assert.equal(seen.name, "Secret");
    assert.equal(seen.bans, undefined);

    await u2b.send(7, { groupId: "g" });
    for (const c of [u1, u2, u2b]) await expectNext(c, 9, BODY.joinNotify("g", "u2"));
    assert.deepEqual(await roles(u1, "g"), ["u1:owner", "u2:member"]);
    await u2.send(46, {});
    assert.deepEqual((await expectNext(u2, 47)).body.data, { invites: [], userId: "u2" });

    // Leaving gives the invite up: joining again needs a new one.
    await u2.send(38, { groupId: "g" });
    await expectNext(u2, 39, ok(39, { by: "u2", groupId: "g", userId: "u2" }));
    await expectNext(u2b, 39, notify(39, { by: "u2", groupId: "g", userId: "u2" }));
    await expectNext(u1, 39, notify(39, { by: "u2", groupId: "g", userId: "u2" }));
    await expectNext(u1, 10, BODY.exitNotify("g", "u2"));
    await u2.send(7, { groupId: "g" });
    await expectNext(u2, 8, joinRefused(0));
    for (const c of [u1, u2, u2b]) await assertQuiet(c);
  });
});

Deno.test("group permissions: invites can be declined and revoked; invalid invites are refused", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u9");
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    const u3 = await loggedInTcp(server, "u3");
    await makeGroup(u1, "g", "invite", [["u2", u2]]);

    // Declining: removing oneself while only invited.
    await u1.send(36, { groupId: "g", userId: "u3" });
    await u1.next(37);
    await u2.next(37);
    await u3.next(37);
    await u3.send(38, { groupId: "g", userId: "u3" });
    await expectNext(u3, 39, ok(39, { by: "u3", groupId: "g", userId: "u3" }));
    await u3.send(7, { groupId: "g" });
    await expectNext(u3, 8, joinRefused(0));
    // Nothing pending any more: removing oneself is "not a member".
    await u3.send(38, { groupId: "g" });
    await expectNext(u3, 39, notMember(39));

    // Revoking.
    await u1.send(36, { groupId: "g", userId: "u3" });
    await u1.next(37);
    await drainAll(u2, u3);
    await u1.send(36, { cancel: true, groupId: "g", userId: "u3" });
    const revoked = { by: "u1", groupId: "g", invited: false, kind: "invite", userId: "u3" };
    await expectNext(u1, 37, ok(37, revoked));
    await expectNext(u3, 37, notify(37, revoked));
    await expectNext(u2, 37, notify(37, revoked));
    await u3.send(7, { groupId: "g" });
    await expectNext(u3, 8, joinRefused(0));

    // An offline user is invited too and finds the invite after login.
    await u1.send(36, { groupId: "g", userId: "u9" });
    await u1.next(37);
    await u2.next(37);
    const u9 = await loggedInTcp(server, "u9");
    await u9.send(46, {});
    assert.deepEqual(
      ((await expectNext(u9, 47)).body.data as { invites: { groupId: string }[] }).invites.map((i) =>
        i.groupId
      ),
      ["g"],
    );

    // Unknown user, already a member, bad ids.
    await u1.send(36, { groupId: "g", userId: "nobody" });
    await expectNext(u1, 37, status(37, 10025, "user not found 用户不存在"));
    await u1.send(36, { groupId: "g", userId: "u2" });
    await expectNext(u1, 37, status(37, 10044, "already a group member 已是群成员"));
    await u1.send(36, { groupId: "g" });
    await expectNext(u1, 37, badRequest(37));
    await u1.send(36, { groupId: "", userId: "u3" });
    await expectNext(u1, 37, badRequest(37));
    await u1.send(36, { groupId: "nope", userId: "u3" });
    await expectNext(u1, 37, notFound(37));
    for (const c of [u1, u2, u3, u9]) await assertQuiet(c);
  });
});

// ---- who may do what ----

Deno.test("group permissions: only the owner and admins invite, kick, mute and ban; only the owner sets roles and disbands", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    const u3 = await loggedInTcp(server, "u3");
    const u4 = await loggedInTcp(server, "u4");
    const out = await loggedInTcp(server, "out");
    await makeGroup(u1, "g", "open", [["u2", u2], ["u3", u3], ["u4", u4]]);

    const attempts: [number, Record<string, unknown>][] = [
      [36, { groupId: "g", userId: "out" }],
      [38, { groupId: "g", userId: "u3" }],
      [40, { groupId: "g", userId: "u3" }],
      [40, { ban: false, groupId: "g", userId: "u3" }],
      [42, { groupId: "g", seconds: 60, userId: "u3" }],
      [44, { groupId: "g", role: "admin", userId: "u3" }],
      [48, { groupId: "g" }],
    ];
    // A member and an outsider may do none of it.
    for (const c of [u2, out]) {
      for (const [cmd, body] of attempts) {
        await c.send(cmd, body);
        await expectNext(c, cmd + 1, forbidden(cmd + 1));
      }
    }
    // Unknown group.
    for (const [cmd, body] of attempts) {
      await u1.send(cmd, { ...body, groupId: "nope" });
      await expectNext(u1, cmd + 1, notFound(cmd + 1));
    }

    // The owner makes u2 an admin; everyone else in the group is told.
    await u1.send(44, { groupId: "g", role: "admin", userId: "u2" });
    const promoted = { by: "u1", groupId: "g", role: "admin", userId: "u2" };
    await expectNext(u1, 45, ok(45, promoted));
    for (const c of [u2, u3, u4]) await expectNext(c, 45, notify(45, promoted));
    await u1.send(44, { groupId: "g", role: "admin", userId: "u3" });
    await u1.next(45);
    await drainAll(u2, u3, u4);
    assert.deepEqual(await roles(u4, "g"), ["u1:owner", "u2:admin", "u3:admin", "u4:member"]);

    // An admin acts on members, but not on the owner or another admin, and not on roles or the group.
    await u2.send(42, { groupId: "g", seconds: 60, userId: "u4" });
    assert.equal((await expectNext(u2, 43)).body.code, 10037);
    await drainAll(u1, u3, u4);
    for (
      const [cmd, userId] of [[38, "u1"], [38, "u3"], [40, "u1"], [40, "u3"], [42, "u1"], [42, "u3"]] as const
    ) {
      await u2.send(cmd, { groupId: "g", seconds: 5, userId });
      await expectNext(u2, cmd + 1, forbidden(cmd + 1));
    }
    await u2.send(44, { groupId: "g", role: "member", userId: "u4" });
    await expectNext(u2, 45, forbidden(45));
    await u2.send(48, { groupId: "g" });
    await expectNext(u2, 49, forbidden(49));
    await u2.send(40, { groupId: "g", userId: "u2" });
    await expectNext(u2, 41, forbidden(41));
    // Targets must be members (bans excepted).
    await u2.send(38, { groupId: "g", userId: "out" });
    await expectNext(u2, 39, notMember(39));
    await u2.send(42, { groupId: "g", seconds: 5, userId: "out" });
    await expectNext(u2, 43, notMember(43));
    await u1.send(44, { groupId: "g", role: "admin", userId: "out" });
    await expectNext(u1, 45, notMember(45));
    // Bad bodies.
    await u1.send(44, { groupId: "g", role: "king", userId: "u4" });
    await expectNext(u1, 45, badRequest(45));
    await u1.send(42, { groupId: "g", seconds: -1, userId: "u4" });
    await expectNext(u1, 43, badRequest(43));
    await u1.send(42, { groupId: "g", userId: "u4" });
    await expectNext(u1, 43, badRequest(43));
    await u1.send(40, { ban: "maybe", groupId: "g", userId: "u4" });
    await expectNext(u1, 41, badRequest(41));

    // The owner acts on admins; demoting one makes it a member again.
    await u1.send(44, { groupId: "g", role: "member", userId: "u3" });
    assert.equal((await expectNext(u1, 45)).body.code, 10037);
    await u1.send(38, { groupId: "g", userId: "u2" });
    await expectNext(u1, 10, BODY.exitNotify("g", "u2"));
    await expectNext(u1, 39, ok(39, { by: "u1", groupId: "g", userId: "u2" }));
    assert.deepEqual(await roles(u1, "g"), ["u1:owner", "u3:member", "u4:member"]);
    // The owner cannot demote itself or leave.
    await u1.send(44, { groupId: "g", role: "admin", userId: "u1" });
    await expectNext(u1, 45, forbidden(45));
    await u1.send(38, { groupId: "g" });
    await expectNext(u1, 39, status(39, 10042, "owner cannot leave 群主需先转让或解散群组"));
  });
});

Deno.test("group permissions: transferring ownership makes the old owner an admin, who may then leave", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    const u3 = await loggedInWs(server, "u3");
    await makeGroup(u1, "g", "invite", [["u2", u2], ["u3", u3]]);
    await u1.send(44, { groupId: "g", role: "owner", userId: "u2" });
    const toU2 = { by: "u1", groupId: "g", role: "owner", userId: "u2" };
    const toU1 = { by: "u1", groupId: "g", role: "admin", userId: "u1" };
    await expectNext(u1, 45, ok(45, toU2));
    for (const c of [u2, u3]) {
      await expectNext(c, 45, notify(45, toU2));
      await expectNext(c, 45, notify(45, toU1));
    }
    assert.deepEqual(await roles(u3, "g"), ["u1:admin", "u2:owner", "u3:member"]);
    await u3.send(46, { groupId: "g" });
    assert.equal(((await expectNext(u3, 47)).body.data as { ownerId: string }).ownerId, "u2");
    // The old owner has no owner powers left.
    await u1.send(48, { groupId: "g" });
    await expectNext(u1, 49, forbidden(49));
    await u1.send(38, { groupId: "g" });
    await expectNext(u1, 39, ok(39, { by: "u1", groupId: "g", userId: "u1" }));
    for (const c of [u2, u3]) {
      await expectNext(c, 39, notify(39, { by: "u1", groupId: "g", userId: "u1" }));
      await expectNext(c, 10, BODY.exitNotify("g", "u1"));
    }
    assert.deepEqual(await roles(u2, "g"), ["u2:owner", "u3:member"]);
    for (const c of [u1, u2, u3]) await assertQuiet(c);
  });
});

Deno.test("group permissions: groups without an owner (--default-groups) keep J-IM's open join and have no admins", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    await drainAll(u1, u2);
    await u1.send(46, { groupId: "100" });
    const data = (await expectNext(u1, 47)).body.data as { ownerId: string; kind: string };
    assert.deepEqual([data.ownerId, data.kind], ["", "open"]);
    await u1.send(38, { groupId: "100", userId: "u2" });
    await expectNext(u1, 39, forbidden(39));
    await u1.send(44, { groupId: "100", role: "owner", userId: "u1" });
    await expectNext(u1, 45, forbidden(45));
    // Members may still leave and rejoin.
    await u2.send(38, { groupId: "100" });
    await expectNext(u2, 39, ok(39, { by: "u2", groupId: "100", userId: "u2" }));
    await u2.send(7, { groupId: "100" });
    await expectNext(u2, 9, BODY.joinNotify("100", "u2"));
  }, { defaultGroups: ["100"] });
});

// ---- mute ----

Deno.test("group permissions: a muted member's group chats are refused until the mute expires", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    const u3 = await loggedInTcp(server, "u3");
    await makeGroup(u1, "g", "open", [["u2", u2], ["u3", u3]]);

    await u1.send(42, { groupId: "g", seconds: 1, userId: "u2" });
    const reply = await expectNext(u1, 43);
    const mutedUntil = (reply.body.data as { mutedUntil: number }).mutedUntil;
    assert.ok(mutedUntil > Date.now() && mutedUntil <= Date.now() + 1000);
    const data = { by: "u1", groupId: "g", mutedUntil, userId: "u2" };
    assert.equal(bodyOf(reply), ok(43, data));
    await expectNext(u2, 43, notify(43, data));
    await expectNext(u3, 43, notify(43, data));

    await groupChat(u2, "g", "let me talk", "m1");
    await expectNext(
      u2,
      12,
      `{"code":10040,"command":12,"data":{"groupId":"g","mutedUntil":${mutedUntil}},"msg":"muted in group 你已被禁言"}`,
    );
    // Nothing was stored or delivered; private chats and reading still work.
    await assertQuiet(u3);
    await u2.send(11, { chatType: 2, content: "psst", createTime: 1, id: "p1", to: "u3" });
    await expectBody(u2, 12, BODY.sent);
    await u3.next(11);
    await u2.send(19, { groupId: "g", type: 1, userId: "u2" });
    assert.equal((await expectNext(u2, 20)).body.code, 10018);

    while (Date.now() <= mutedUntil) await new Promise((r) => setTimeout(r, 20));
    await groupChat(u2, "g", "free again", "m2");
    await expectBody(
      u2,
      11,
      chatDelivery({
        chatType: 1,
        content: "free again",
        createTime: 1000,
        from: "u2",
        groupId: "g",
        id: "m2",
      }),
    );
    await expectBody(u2, 12, BODY.sent);
    await u3.next(11);

    // seconds 0 lifts a mute at once.
    await drain(u1);
    await u1.send(42, { groupId: "g", seconds: 3600, userId: "u3" });
    await u1.next(43);
    await groupChat(u3, "g", "hm", "m3");
    assert.equal((await u3.next(12)).body.code, 10040);
    await u1.send(42, { groupId: "g", seconds: 0, userId: "u3" });
    await expectNext(u1, 43, ok(43, { by: "u1", groupId: "g", mutedUntil: 0, userId: "u3" }));
    await drain(u3);
    await groupChat(u3, "g", "thanks", "m4");
    await u3.next(11);
    await expectBody(u3, 12, BODY.sent);
  });
});

// ---- kick and ban ----

Deno.test("group permissions: a kicked user is told, stops receiving the group and cannot read it", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    const u2ws = await loggedInWs(server, "u2");
    const u3 = await loggedInTcp(server, "u3");
    await makeGroup(u1, "g", "open", [["u2", u2], ["u3", u3]]);
    await drain(u2ws);
    await groupChat(u1, "g", "before the kick zebra", "k1");
    await u1.next(12);
    await drainAll(u1, u2, u2ws, u3);

    await u1.send(38, { groupId: "g", userId: "u2" });
    const data = { by: "u1", groupId: "g", userId: "u2" };
    await expectNext(u1, 10, BODY.exitNotify("g", "u2"));
    await expectNext(u1, 39, ok(39, data));
    await expectNext(u2, 39, notify(39, data));
    await expectNext(u2ws, 39, notify(39, data));
    await expectNext(u3, 39, notify(39, data));
    await expectNext(u3, 10, BODY.exitNotify("g", "u2"));
    for (const c of [u1, u2, u2ws, u3]) await assertQuiet(c);

    // No more deliveries.
    await groupChat(u1, "g", "after the kick zebra", "k2");
    await u1.next(12);
    await u3.next(11);
    for (const c of [u2, u2ws]) await assertQuiet(c);
    // Sending, reading and syncing are refused; search finds nothing of the group.
    await groupChat(u2, "g", "let me back", "k3");
    await expectNext(u2, 12, BODY.chatForbidden);
    await u2.send(19, { groupId: "g", type: 1, userId: "u2" });
    await expectNext(u2, 20, BODY.getMessageForbidden);
    await u2.send(23, { groupId: "g" });
    await expectNext(u2, 24, forbidden(24));
    await u2.send(34, { groupId: "g", text: "zebra" });
    await expectNext(u2, 35, forbidden(35));
    await u2.send(34, { text: "zebra" });
    assert.deepEqual(((await expectNext(u2, 35)).body.data as { messages: unknown[] }).messages, []);
    await u2.send(27, { groupId: "g", seq: 1 });
    await expectNext(u2, 28, forbidden(28));
    await u2.send(25, {});
    assert.deepEqual(
      ((await expectNext(u2, 26)).body.data as { conversations: unknown[] }).conversations,
      [],
    );
    await u2.send(46, { groupId: "g" });
    await expectNext(u2, 47, forbidden(47));
    // An open group can be joined again after a kick (a ban prevents that).
    await u2.send(7, { groupId: "g" });
    await expectNext(u2, 9, BODY.joinNotify("g", "u2"));
  });
});

Deno.test("group permissions: a kicked offline member loses the group's queued messages", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    await makeGroup(u1, "g", "open", [["u2", u2]]);
    u2.close();
    await waitOffline(server, "u2");
    await drain(u1);
    await groupChat(u1, "g", "queued for u2", "q1");
    await u1.next(12);
    await u1.send(11, { chatType: 2, content: "private", createTime: 5, id: "p1", to: "u2" });
    await u1.next(12);
    await u1.send(38, { groupId: "g", userId: "u2" });
    await u1.next(39);
    const again = await server.tcp();
    await again.send(5, { password: "pw", userId: "u2" });
    // No cmd 9 for the group any more.
    await expectNext(again, 6, BODY.loginOk);
    await again.send(19, { type: 0, userId: "u2" });
    const p = await expectNext(again, 20);
    assert.deepEqual(p.body.data, {
      friends: {
        u1: [{ chatType: 2, cmd: 11, content: "private", createTime: 5, from: "u1", id: "p1", to: "u2" }],
      },
      groups: {},
      userId: "u2",
    });
  });
});

Deno.test("group permissions: a banned user is kicked, cannot rejoin or be invited until unbanned", async () => {
  await withServer(async (server) => {
    await registerOffline(server, "u4");
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    const u3 = await loggedInTcp(server, "u3");
    await makeGroup(u1, "g", "open", [["u2", u2], ["u3", u3]]);

    await u1.send(40, { groupId: "g", userId: "u2" });
    const data = { banned: true, by: "u1", groupId: "g", userId: "u2" };
    await expectNext(u1, 10, BODY.exitNotify("g", "u2"));
    await expectNext(u1, 41, ok(41, data));
    await expectNext(u2, 41, notify(41, data));
    await expectNext(u3, 41, notify(41, data));
    await expectNext(u3, 10, BODY.exitNotify("g", "u2"));

    await u2.send(7, { groupId: "g" });
    await expectNext(u2, 8, joinRefused(4));
    await u1.send(36, { groupId: "g", userId: "u2" });
    await expectNext(u1, 37, status(37, 10041, "banned from group 已被该群封禁"));
    await groupChat(u2, "g", "hello?", "b1");
    await expectNext(u2, 12, BODY.chatForbidden);

    // A user who is not a member can be banned ahead of time; bans are listed for admins.
    await u1.send(40, { groupId: "g", userId: "u4" });
    await expectNext(u1, 41, ok(41, { banned: true, by: "u1", groupId: "g", userId: "u4" }));
    await u3.next(41);
    await u1.send(46, { groupId: "g" });
    const bans = ((await expectNext(u1, 47)).body.data as { bans: { userId: string; by: string }[] }).bans;
    assert.deepEqual(bans.map((b) => [b.userId, b.by]), [["u2", "u1"], ["u4", "u1"]]);
    await u1.send(40, { groupId: "g", userId: "nobody" });
    await expectNext(u1, 41, status(41, 10025, "user not found 用户不存在"));

    // Unbanned: an open group can be joined again.
    await u1.send(40, { ban: false, groupId: "g", userId: "u2" });
    const lifted = { banned: false, by: "u1", groupId: "g", userId: "u2" };
    await expectNext(u1, 41, ok(41, lifted));
    await expectNext(u2, 41, notify(41, lifted));
    await expectNext(u3, 41, notify(41, lifted));
    await u2.send(7, { groupId: "g" });
    await expectNext(u2, 9, BODY.joinNotify("g", "u2"));
    for (const c of [u1, u3]) await expectNext(c, 9, BODY.joinNotify("g", "u2"));
    for (const c of [u1, u2, u3]) await assertQuiet(c);
  });
});

// ---- disband ----

Deno.test("group permissions: disbanding notifies the members and removes the group and its messages", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInWs(server, "u2");
    const u3 = await loggedInTcp(server, "u3");
    await makeGroup(u1, "g", "invite", [["u2", u2], ["u3", u3]]);
    await groupChat(u1, "g", "old secret", "d1");
    await u1.next(12);
    u3.close();
    await waitOffline(server, "u3");
    await groupChat(u1, "g", "queued secret", "d2");
    await u1.next(12);
    await drainAll(u1, u2);

    await u1.send(48, { groupId: "g" });
    await expectNext(u1, 49, ok(49, { by: "u1", groupId: "g" }));
    await expectNext(u2, 49, notify(49, { by: "u1", groupId: "g" }));
    for (const c of [u1, u2]) await assertQuiet(c);

    for (const c of [u1, u2]) {
      await groupChat(c, "g", "anyone?", "x");
      await expectNext(c, 12, BODY.chatForbidden);
      await c.send(19, { groupId: "g", type: 1, userId: c === u1 ? "u1" : "u2" });
      await expectNext(c, 20, BODY.getMessageForbidden);
      await c.send(46, { groupId: "g" });
      await expectNext(c, 47, notFound(47));
    }
    // The offline member finds neither the group nor its queued message.
    const back = await server.tcp();
    await back.send(5, { password: "pw", userId: "u3" });
    await expectNext(back, 6, BODY.loginOk);
    await back.send(19, { type: 0, userId: "u3" });
    await expectNext(back, 20, offlineEmpty("u3"));

    // The id is free again: a new group, with none of the old messages.
    await u2.send(7, { groupId: "g" });
    await expectNext(u2, 9, BODY.joinNotify("g", "u2"));
    assert.deepEqual(await roles(u2, "g"), ["u2:owner"]);
    await u2.send(19, { groupId: "g", type: 1, userId: "u2" });
    await expectNext(
      u2,
      20,
      `{"code":10018,"command":20,"data":{"friends":{},"groups":{"g":[]},"userId":"u2"},"msg":"${MSG.historyOk}"}`,
    );
    await u2.send(34, { text: "secret" });
    assert.deepEqual(((await expectNext(u2, 35)).body.data as { messages: unknown[] }).messages, []);
    // The former owner is not a member of the new group.
    await u1.send(19, { groupId: "g", type: 1, userId: "u1" });
    await expectNext(u1, 20, BODY.getMessageForbidden);
  });
});

// ---- reading ----

Deno.test("group permissions: a non-member never reads a group's history, sync, search or read counts", async () => {
  await withServer(async (server) => {
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    const out = await loggedInWs(server, "out");
    await makeGroup(u1, "open", "open", [["u2", u2]]);
    await makeGroup(u1, "closed", "invite", [["u2", u2]]);
    for (const g of ["open", "closed"]) {
      await groupChat(u2, g, "platypus in " + g, g + "1");
      await u2.next(12);
    }
    await u1.send(11, { chatType: 2, content: "platypus private", createTime: 1, id: "pp", to: "u2" });
    await u1.next(12);

    for (const g of ["open", "closed"]) {
      await out.send(19, { groupId: g, type: 1, userId: "out" });
      await expectNext(out, 20, BODY.getMessageForbidden);
      await out.send(19, { groupId: g, type: 0, userId: "out" });
      await expectNext(out, 20, BODY.getMessageForbidden);
      await out.send(23, { groupId: g });
      await expectNext(out, 24, forbidden(24));
      await out.send(34, { groupId: g, text: "platypus" });
      await expectNext(out, 35, forbidden(35));
      await out.send(30, { groupId: g, seqs: [1] });
      await expectNext(out, 31, forbidden(31));
      await out.send(46, { groupId: g });
      await expectNext(out, 47, forbidden(47));
    }
    await out.send(34, { text: "platypus" });
    assert.deepEqual(((await expectNext(out, 35)).body.data as { messages: unknown[] }).messages, []);
    // Another user's conversations: their userId is refused, a peer names only one's own.
    await out.send(19, { fromUserId: "u2", type: 1, userId: "u1" });
    await expectNext(out, 20, BODY.getMessageForbidden);
    await out.send(19, { fromUserId: "u2", type: 1, userId: "out" });
    assert.deepEqual((await expectNext(out, 20)).body.data, {
      friends: { u2: [] },
      groups: {},
      userId: "out",
    });
    await out.send(23, { peer: "u2" });
    assert.deepEqual(((await expectNext(out, 24)).body.data as { messages: unknown[] }).messages, []);
    // Members do read.
    await drain(u1);
    await u1.send(34, { text: "platypus" });
    const found = ((await expectNext(u1, 35)).body.data as { messages: { id: string }[] }).messages;
    assert.deepEqual(found.map((m) => m.id).sort(), ["closed1", "open1", "pp"]);
  });
});

// ---- persistence ----

Deno.test("group permissions: kind, roles, mutes, bans and invites survive a restart", async () => {
  let server: TestServer = await startServer();
  const dataDir = server.dataDir;
  try {
    await registerOffline(server, "u3");
    await registerOffline(server, "u4");
    const u1 = await loggedInTcp(server, "u1");
    const u2 = await loggedInTcp(server, "u2");
    await makeGroup(u1, "g", "invite", [["u2", u2]]);
    await u1.send(44, { groupId: "g", role: "admin", userId: "u2" });
    await u1.next(45);
    await u1.send(40, { groupId: "g", userId: "u3" });
    await u1.next(41);
    await u1.send(36, { groupId: "g", userId: "u4" });
    await u1.next(37);
    await server.stop(false);

    server = await startServer({ dataDir });
    const c3 = await loggedInTcp(server, "u3");
    await c3.send(7, { groupId: "g" });
    await expectNext(c3, 8, joinRefused(4));
    const c5 = await loggedInTcp(server, "u5");
    await c5.send(7, { groupId: "g" });
    await expectNext(c5, 8, joinRefused(0));
    const c2 = await loggedInTcp(server, "u2");
    await c2.next(9);
    assert.deepEqual(await roles(c2, "g"), ["u1:owner", "u2:admin"]);
    // The admin kicks nobody above them, but may invite; the pending invite is still there.
    await c2.send(38, { groupId: "g", userId: "u1" });
    await expectNext(c2, 39, forbidden(39));
    const c4 = await loggedInTcp(server, "u4");
    await c4.send(7, { groupId: "g" });
    await expectNext(c4, 9, BODY.joinNotify("g", "u4"));
  } finally {
    await server.stop();
  }
});
