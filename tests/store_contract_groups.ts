/**
 * Store contract, group permissions part: group kind and owner, member roles and mutes, bans,
 * pending invites, removal side effects and disbanding (deleteGroup).
 * Registered through runStoreContract (tests/store_contract.ts).
 */
import assert from "node:assert/strict";
import type { GroupBan, GroupInvite, Store } from "../src/store/store.ts";
import {
  all,
  type ContractOptions,
  G,
  grp,
  ids,
  makeGroup,
  type MakeStore,
  P,
  priv,
  put,
  storeTest,
} from "./_store_fixtures.ts";

const record = (groupId: string, createdAt = 10) => ({
  groupId,
  name: "name-" + groupId,
  avatar: "",
  createdAt,
});
const roles = async (s: Store, groupId: string) =>
  (await s.listMemberRecords(groupId, 100)).map((m) => `${m.userId}:${m.role}`);
const ban = (groupId: string, userId: string, bannedAt: number, by = "boss"): GroupBan => ({
  groupId,
  userId,
  bannedAt,
  by,
});
const invite = (groupId: string, userId: string, invitedAt: number, by = "boss"): GroupInvite => ({
  groupId,
  userId,
  invitedAt,
  by,
});

export function runGroupPermissionsContract(
  name: string,
  makeStore: MakeStore,
  options: ContractOptions = {},
): void {
  const test = storeTest(name, makeStore);

  test("group permissions: createGroup with kind and owner; ensureGroup groups are open without owner", async (s) => {
    assert.equal(await s.getGroupSettings("g"), undefined);
    assert.equal(await s.createGroup(record("g"), { kind: "invite", ownerId: "boss" }), true);
    assert.deepEqual(await s.getGroupSettings("g"), { kind: "invite", ownerId: "boss" });
    // The group record keeps its four fields; the owner is its first member.
    assert.deepEqual(await s.getGroup("g"), record("g"));
    assert.deepEqual(await s.getMember("g", "boss"), {
      userId: "boss",
      role: "owner",
      joinedAt: 10,
      mutedUntil: 0,
    });
    assert.deepEqual(await s.listMembers("g", 10), ["boss"]);
    assert.deepEqual(await s.listUserGroups("boss"), [record("g")]);

    // An existing group is left as it is.
    assert.equal(
      await s.createGroup({ ...record("g"), name: "other" }, { kind: "open", ownerId: "x" }),
      false,
    );
    assert.equal(await s.createGroup(record("g"), { kind: "open", ownerId: "" }), false);
    assert.deepEqual(await s.getGroupSettings("g"), { kind: "invite", ownerId: "boss" });
    assert.deepEqual(await s.getGroup("g"), record("g"));
    assert.equal(await s.getMember("g", "x"), undefined);

    // No owner: no member.
    assert.equal(await s.createGroup(record("sys"), { kind: "open", ownerId: "" }), true);
    assert.deepEqual(await s.listMembers("sys", 10), []);
    assert.deepEqual(await s.getGroupSettings("sys"), { kind: "open", ownerId: "" });

    await s.ensureGroup(record("legacy"));
    assert.deepEqual(await s.getGroupSettings("legacy"), { kind: "open", ownerId: "" });
    assert.equal(await s.createGroup(record("legacy"), { kind: "invite", ownerId: "boss" }), false);

    // addMember adds plain members, in join order with their records.
    await s.addMember("g", "m2", 30);
    await s.addMember("g", "m1", 20);
    assert.deepEqual(await s.listMemberRecords("g", 10), [
      { userId: "boss", role: "owner", joinedAt: 10, mutedUntil: 0 },
      { userId: "m1", role: "member", joinedAt: 20, mutedUntil: 0 },
      { userId: "m2", role: "member", joinedAt: 30, mutedUntil: 0 },
    ]);
    assert.deepEqual((await s.listMemberRecords("g", 2)).map((m) => m.userId), ["boss", "m1"]);
    assert.deepEqual(await s.listMemberRecords("g", 0), []);
    assert.deepEqual(await s.listMemberRecords("nope", 10), []);
    assert.equal(await s.getMember("nope", "boss"), undefined);

    // Returned records are copies.
    const m = (await s.getMember("g", "m1"))!;
    m.role = "owner";
    const settings = (await s.getGroupSettings("g"))!;
    settings.ownerId = "m1";
    assert.equal((await s.getMember("g", "m1"))!.role, "member");
    assert.equal((await s.getGroupSettings("g"))!.ownerId, "boss");
  });

  test("group permissions: roles, ownership transfer and mutes", async (s) => {
    await s.createGroup(record("g"), { kind: "open", ownerId: "boss" });
    await s.addMember("g", "a", 20);
    await s.addMember("g", "b", 30);

    assert.equal(await s.setMemberRole("g", "a", "admin"), true);
    assert.equal(await s.setMemberRole("g", "a", "admin"), true);
    assert.deepEqual(await roles(s, "g"), ["boss:owner", "a:admin", "b:member"]);
    assert.equal(await s.setMemberRole("g", "a", "member"), true);
    assert.equal(await s.setMemberRole("g", "a", "admin"), true);
    // The owner's role moves only with setGroupOwner; non-members have none.
    assert.equal(await s.setMemberRole("g", "boss", "member"), false);
    assert.equal(await s.setMemberRole("g", "nobody", "admin"), false);
    assert.equal(await s.setMemberRole("nope", "a", "admin"), false);
    await assert.rejects(s.setMemberRole("g", "b", "owner" as "admin"));
    assert.deepEqual(await roles(s, "g"), ["boss:owner", "a:admin", "b:member"]);

    assert.equal(await s.setGroupOwner("g", "nobody"), false);
    assert.deepEqual(await s.getGroupSettings("g"), { kind: "open", ownerId: "boss" });
    assert.equal(await s.setGroupOwner("g", "b"), true);
    assert.deepEqual(await s.getGroupSettings("g"), { kind: "open", ownerId: "b" });
    assert.deepEqual(await roles(s, "g"), ["boss:admin", "a:admin", "b:owner"]);
    assert.equal(await s.setGroupOwner("g", "b"), true);
    assert.deepEqual(await roles(s, "g"), ["boss:admin", "a:admin", "b:owner"]);

    // A group without owner gets one.
    await makeGroup(s, "sys", ["x", "y"]);
    assert.equal(await s.setGroupOwner("sys", "y"), true);
    assert.deepEqual(await s.getGroupSettings("sys"), { kind: "open", ownerId: "y" });
    assert.deepEqual(await roles(s, "sys"), ["x:member", "y:owner"]);

    assert.equal(await s.setMutedUntil("g", "a", 5000), true);
    assert.equal((await s.getMember("g", "a"))!.mutedUntil, 5000);
    assert.equal((await s.getMember("g", "b"))!.mutedUntil, 0);
    assert.equal(await s.setMutedUntil("g", "a", 0), true);
    assert.equal((await s.getMember("g", "a"))!.mutedUntil, 0);
    assert.equal(await s.setMutedUntil("g", "nobody", 5000), false);
    assert.equal(await s.setMutedUntil("nope", "a", 5000), false);
    // Membership ends with the mute; a new membership starts unmuted.
    await s.setMutedUntil("g", "a", 9000);
    await s.removeMember("g", "a");
    await s.addMember("g", "a", 40);
    assert.deepEqual(await s.getMember("g", "a"), {
      userId: "a",
      role: "member",
      joinedAt: 40,
      mutedUntil: 0,
    });
  });

  test("group permissions: removeMember clears the owner and drops that group's queued messages", async (s) => {
    await s.createGroup(record("g"), { kind: "open", ownerId: "boss" });
    await makeGroup(s, "h", ["u"]);
    await s.addMember("g", "u", 20);
    await put(s, grp("boss", "g", 1, "g1"), ["u"]);
    await put(s, grp("x", "h", 2, "h1"), ["u"]);
    await put(s, priv("x", "u", 3, "p1"), ["u"]);
    await put(s, grp("u", "g", 4, "g2"), ["boss"]);
    assert.equal(await s.countOffline("u"), 3);

    assert.equal(await s.removeMember("g", "u"), true);
    assert.equal(await s.removeMember("g", "u"), false);
    assert.deepEqual(ids(await s.takeOffline("u", {}, 10)), ["h1", "p1"]);
    // History is the group's; the owner's queue is theirs.
    assert.deepEqual(ids(await s.history(G("g"), all)), ["g1", "g2"]);
    assert.equal(await s.countOffline("boss"), 1);

    assert.equal(await s.removeMember("g", "boss"), true);
    assert.deepEqual(await s.getGroupSettings("g"), { kind: "open", ownerId: "" });
    assert.equal(await s.countOffline("boss"), 0);
  });

  test("group permissions: bans remove membership and invites and survive re-bans", async (s) => {
    await s.createGroup(record("g"), { kind: "invite", ownerId: "boss" });
    await makeGroup(s, "h", ["u"]);
    await s.addMember("g", "u", 20);
    await s.addInvite(invite("g", "v", 5));
    await s.addInvite(invite("h", "v", 6));
    await put(s, grp("boss", "g", 1, "g1"), ["u"]);
    await put(s, grp("x", "h", 2, "h1"), ["u"]);

    assert.equal(await s.getBan("g", "u"), undefined);
    assert.equal(await s.banUser(ban("g", "u", 100)), true);
    assert.equal(await s.isMember("g", "u"), false);
    assert.equal(await s.isMember("h", "u"), true);
    assert.deepEqual(ids(await s.takeOffline("u", {}, 10)), ["h1"]);
    assert.deepEqual(await s.getBan("g", "u"), ban("g", "u", 100));
    // A second ban keeps the first record.
    assert.equal(await s.banUser(ban("g", "u", 200, "other")), false);
    assert.deepEqual(await s.getBan("g", "u"), ban("g", "u", 100));

    // A user who is not a member can be banned; their pending invite goes.
    assert.equal(await s.banUser(ban("g", "v", 50)), false);
    assert.deepEqual(await s.listInvites({ groupId: "g" }, 10), []);
    assert.deepEqual(await s.listInvites({ userId: "v" }, 10), [invite("h", "v", 6)]);
    assert.equal(await s.banUser(ban("g", "w", 100)), false);
    assert.deepEqual(await s.listBans("g", 10), [ban("g", "v", 50), ban("g", "u", 100), ban("g", "w", 100)]);
    assert.deepEqual(await s.listBans("g", 1), [ban("g", "v", 50)]);
    assert.deepEqual(await s.listBans("h", 10), []);
    assert.equal(await s.getBan("h", "u"), undefined);

    assert.equal(await s.unbanUser("g", "u"), true);
    assert.equal(await s.unbanUser("g", "u"), false);
    assert.equal(await s.getBan("g", "u"), undefined);
    assert.equal(await s.unbanUser("nope", "u"), false);
    assert.deepEqual((await s.listBans("g", 10)).map((b) => b.userId), ["v", "w"]);
    // Unbanning does not restore the membership.
    assert.equal(await s.isMember("g", "u"), false);

    await assert.rejects(s.banUser(ban("no-such-group", "u", 1)));
    // Returned records are copies.
    const [b] = await s.listBans("g", 1);
    b.by = "mutated";
    assert.equal((await s.getBan("g", "v"))!.by, "boss");
  });

  test("group permissions: pending invites by group and by user", async (s) => {
    await s.createGroup(record("g"), { kind: "invite", ownerId: "boss" });
    await s.createGroup(record("h"), { kind: "invite", ownerId: "boss" });
    assert.equal(await s.addInvite(invite("g", "b", 20)), true);
    assert.equal(await s.addInvite(invite("g", "a", 20)), true);
    assert.equal(await s.addInvite(invite("g", "c", 10)), true);
    assert.equal(await s.addInvite(invite("h", "a", 5, "other")), true);
    // A pending invite is kept as it was.
    assert.equal(await s.addInvite(invite("g", "b", 99, "other")), false);
    assert.deepEqual(await s.listInvites({ groupId: "g" }, 10), [
      invite("g", "c", 10),
      invite("g", "b", 20),
      invite("g", "a", 20),
    ]);
    assert.deepEqual(await s.listInvites({ groupId: "g" }, 1), [invite("g", "c", 10)]);
    assert.deepEqual(await s.listInvites({ userId: "a" }, 10), [
      invite("h", "a", 5, "other"),
      invite("g", "a", 20),
    ]);
    assert.deepEqual(await s.listInvites({ userId: "nobody" }, 10), []);
    assert.deepEqual(await s.listInvites({ groupId: "nope" }, 10), []);

    assert.equal(await s.removeInvite("g", "a"), true);
    assert.equal(await s.removeInvite("g", "a"), false);
    assert.deepEqual(await s.listInvites({ userId: "a" }, 10), [invite("h", "a", 5, "other")]);
    // An invite does not make a member.
    assert.equal(await s.isMember("g", "b"), false);
    await assert.rejects(s.addInvite(invite("no-such-group", "a", 1)));
  });

  test("group permissions: deleteGroup removes the group and its messages, keeps the seq counter", async (s) => {
    await s.createGroup(record("g"), { kind: "invite", ownerId: "boss" });
    await s.addMember("g", "u", 20);
    await s.setMemberRole("g", "u", "admin");
    await s.banUser(ban("g", "bad", 30));
    await s.addInvite(invite("g", "v", 40));
    await makeGroup(s, "h", ["u"]);
    for (let i = 1; i <= 5; i++) {
      await put(s, { ...grp("boss", "g", i, "g" + i), content: "secret words" }, ["u"]);
    }
    await put(s, { ...grp("u", "h", 6, "h1"), content: "secret words" }, []);
    await put(s, { ...priv("boss", "u", 7, "p1"), content: "secret words" }, ["u"]);
    await s.markRead("u", G("g"), 3);
    assert.equal(await s.countOffline("u"), 6);

    assert.equal(await s.deleteGroup("g"), true);
    assert.equal(await s.deleteGroup("g"), false);
    assert.equal(await s.deleteGroup("nope"), false);
    assert.equal(await s.getGroup("g"), undefined);
    assert.equal(await s.getGroupSettings("g"), undefined);
    assert.deepEqual(await s.listMembers("g", 10), []);
    assert.equal(await s.isMember("g", "boss"), false);
    assert.equal(await s.getMember("g", "u"), undefined);
    assert.deepEqual(await s.listUserGroups("u"), [{ groupId: "h", name: "h", avatar: "", createdAt: 1 }]);
    assert.deepEqual(await s.listUserGroups("boss"), []);
    assert.equal(await s.getBan("g", "bad"), undefined);
    assert.deepEqual(await s.listBans("g", 10), []);
    assert.deepEqual(await s.listInvites({ userId: "v" }, 10), []);
    assert.deepEqual(await s.history(G("g"), all), []);
    assert.deepEqual(await s.messagesBySeq(G("g"), { limit: 10 }), []);
    assert.equal(await s.findSentMessage("boss", "g1"), undefined);
    assert.equal(await s.getReadSeq("u", G("g")), 0);
    assert.deepEqual(ids(await s.takeOffline("u", {}, 10)), ["p1"]);
    assert.deepEqual(ids(await s.search("boss", { text: "secret", offset: 0, limit: 10 })), ["p1"]);
    assert.deepEqual(ids(await s.search("u", { text: "secret", offset: 0, limit: 10 })), ["p1", "h1"]);
    assert.deepEqual(
      (await s.listConversations("boss", 10)).map((c) => c.conversation),
      [P("boss", "u")],
    );
    // Other conversations are untouched; the group's seq counter stays.
    assert.deepEqual(ids(await s.history(G("h"), all)), ["h1"]);
    assert.equal(await s.lastSeq(G("g")), 5);

    // The id can be used again: a new, empty group whose seqs continue.
    assert.equal(await s.createGroup(record("g", 50), { kind: "open", ownerId: "new" }), true);
    assert.deepEqual(await roles(s, "g"), ["new:owner"]);
    assert.equal(await s.getBan("g", "bad"), undefined);
    const again = await put(s, grp("new", "g", 60, "g1"), []);
    assert.equal(again.seq, 6);
    assert.deepEqual(ids(await s.history(G("g"), all)), ["g1"]);
    const [conv] = await s.listConversations("new", 10);
    assert.equal(conv.lastSeq, 6);
    assert.equal(conv.lastMessage?.id, "g1");
  });

  test("group permissions: kept by backups", async (s) => {
    if (!options.openBackup) return;
    await s.createGroup(record("g"), { kind: "invite", ownerId: "boss" });
    await s.addMember("g", "a", 20);
    await s.addMember("g", "b", 30);
    await s.setMemberRole("g", "a", "admin");
    await s.setMutedUntil("g", "b", 7000);
    await s.banUser(ban("g", "bad", 40));
    await s.addInvite(invite("g", "v", 50));
    await s.ensureGroup(record("plain"));
    const dir = await Deno.makeTempDir({ prefix: "jim_group_backup_test_" });
    try {
      await s.backup(`${dir}/backup.db`);
      const copy = await options.openBackup(`${dir}/backup.db`);
      try {
        assert.deepEqual(await copy.getGroupSettings("g"), { kind: "invite", ownerId: "boss" });
        assert.deepEqual(await copy.getGroupSettings("plain"), { kind: "open", ownerId: "" });
        assert.deepEqual(await copy.listMemberRecords("g", 10), await s.listMemberRecords("g", 10));
        assert.deepEqual(await copy.listBans("g", 10), [ban("g", "bad", 40)]);
        assert.deepEqual(await copy.listInvites({ userId: "v" }, 10), [invite("g", "v", 50)]);
      } finally {
        await copy.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
