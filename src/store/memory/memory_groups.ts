/**
 * The memory store's group memberships and permissions, as functions over MemoryState: roles,
 * mutes, bans, pending invites and disbanding, with SqliteStore's semantics and orderings. They
 * return copies.
 */
import type {
  GroupBan,
  GroupInvite,
  GroupKind,
  GroupRecord,
  GroupRole,
  GroupSettings,
  MemberRecord,
} from "../store.ts";
import { byJoin, clampCount, type Membership, type MemoryState, sentKey } from "./memory_state.ts";

const NO_SETTINGS: GroupSettings = { kind: "open", ownerId: "" };

function requireGroup(st: MemoryState, groupId: string): void {
  // Rejects like SQLite's foreign key.
  if (!st.groups.has(groupId)) throw new Error(`unknown group ${groupId}`);
}

/** Resolves true when the user was not a member before. */
export function addMembership(
  st: MemoryState,
  groupId: string,
  userId: string,
  joinedAt: number,
  role: GroupRole,
): boolean {
  requireGroup(st, groupId);
  let members = st.members.get(groupId);
  if (!members) st.members.set(groupId, members = new Map());
  if (members.has(userId)) return false;
  const m: Membership = { joinedAt, ord: ++st.ord, role, mutedUntil: 0 };
  members.set(userId, m);
  let groups = st.userGroups.get(userId);
  if (!groups) st.userGroups.set(userId, groups = new Map());
  groups.set(groupId, m);
  return true;
}

/** Also clears the owner and drops the user's queued offline messages of the group. */
export function removeMember(st: MemoryState, groupId: string, userId: string): boolean {
  st.userGroups.get(userId)?.delete(groupId);
  if (!st.members.get(groupId)?.delete(userId)) return false;
  const settings = st.groupSettings.get(groupId);
  if (settings?.ownerId === userId) settings.ownerId = "";
  const queue = st.offline.get(userId);
  if (queue) {
    const key = "g:" + groupId;
    for (const [ord, e] of queue) if (e.convKey === key) queue.delete(ord);
    if (queue.size === 0) st.offline.delete(userId);
  }
  return true;
}

export function createGroup(st: MemoryState, group: GroupRecord, settings: GroupSettings): boolean {
  if (st.groups.has(group.groupId)) return false;
  const kind: GroupKind = settings.kind === "invite" ? "invite" : "open";
  st.groups.set(group.groupId, { ...group });
  st.groupSettings.set(group.groupId, { kind, ownerId: settings.ownerId });
  if (settings.ownerId !== "") addMembership(st, group.groupId, settings.ownerId, group.createdAt, "owner");
  return true;
}

export function getSettings(st: MemoryState, groupId: string): GroupSettings | undefined {
  if (!st.groups.has(groupId)) return undefined;
  return { ...(st.groupSettings.get(groupId) ?? NO_SETTINGS) };
}

function memberRecord(userId: string, m: Membership): MemberRecord {
  return { userId, role: m.role, joinedAt: m.joinedAt, mutedUntil: m.mutedUntil };
}

export function getMember(st: MemoryState, groupId: string, userId: string): MemberRecord | undefined {
  const m = st.members.get(groupId)?.get(userId);
  return m && memberRecord(userId, m);
}

export function listMembers(st: MemoryState, groupId: string, limit: number): MemberRecord[] {
  return [...(st.members.get(groupId) ?? [])]
    .sort((a, b) => byJoin(a[1], b[1]))
    .slice(0, clampCount(limit))
    .map(([userId, m]) => memberRecord(userId, m));
}

export function setRole(st: MemoryState, groupId: string, userId: string, role: "admin" | "member"): boolean {
  if (role !== "admin" && role !== "member") throw new TypeError(`role must be admin or member, not ${role}`);
  const m = st.members.get(groupId)?.get(userId);
  if (!m || m.role === "owner") return false;
  m.role = role;
  return true;
}

export function setOwner(st: MemoryState, groupId: string, userId: string): boolean {
  const members = st.members.get(groupId);
  const m = members?.get(userId);
  if (!m) return false;
  const settings = st.groupSettings.get(groupId) ?? { ...NO_SETTINGS };
  const previous = settings.ownerId !== "" && settings.ownerId !== userId
    ? members!.get(settings.ownerId)
    : undefined;
  if (previous) previous.role = "admin";
  m.role = "owner";
  settings.ownerId = userId;
  st.groupSettings.set(groupId, settings);
  return true;
}

export function setMuted(st: MemoryState, groupId: string, userId: string, until: number): boolean {
  const m = st.members.get(groupId)?.get(userId);
  if (!m) return false;
  m.mutedUntil = clampCount(until);
  return true;
}

export function ban(st: MemoryState, b: GroupBan): boolean {
  requireGroup(st, b.groupId);
  let bans = st.bans.get(b.groupId);
  if (!bans) st.bans.set(b.groupId, bans = new Map());
  if (!bans.has(b.userId)) bans.set(b.userId, { ban: { ...b }, ord: ++st.ord });
  removeInvite(st, b.groupId, b.userId);
  return removeMember(st, b.groupId, b.userId);
}

export function unban(st: MemoryState, groupId: string, userId: string): boolean {
  const bans = st.bans.get(groupId);
  const had = bans?.delete(userId) ?? false;
  if (bans?.size === 0) st.bans.delete(groupId);
  return had;
}

export function getBan(st: MemoryState, groupId: string, userId: string): GroupBan | undefined {
  const b = st.bans.get(groupId)?.get(userId);
  return b && { ...b.ban };
}

export function listBans(st: MemoryState, groupId: string, limit: number): GroupBan[] {
  return [...(st.bans.get(groupId)?.values() ?? [])]
    .sort((a, b) => a.ban.bannedAt - b.ban.bannedAt || a.ord - b.ord)
    .slice(0, clampCount(limit))
    .map((b) => ({ ...b.ban }));
}

export function addInvite(st: MemoryState, i: GroupInvite): boolean {
  requireGroup(st, i.groupId);
  let invites = st.invites.get(i.groupId);
  if (!invites) st.invites.set(i.groupId, invites = new Map());
  if (invites.has(i.userId)) return false;
  invites.set(i.userId, { invite: { ...i }, ord: ++st.ord });
  return true;
}

export function removeInvite(st: MemoryState, groupId: string, userId: string): boolean {
  const invites = st.invites.get(groupId);
  const had = invites?.delete(userId) ?? false;
  if (invites?.size === 0) st.invites.delete(groupId);
  return had;
}

export function listInvites(
  st: MemoryState,
  of: { groupId: string } | { userId: string },
  limit: number,
): GroupInvite[] {
  const found: { invite: GroupInvite; ord: number }[] = [];
  if ("groupId" in of) {
    found.push(...(st.invites.get(of.groupId)?.values() ?? []));
  } else {
    for (const invites of st.invites.values()) {
      const i = invites.get(of.userId);
      if (i) found.push(i);
    }
  }
  return found
    .sort((a, b) => a.invite.invitedAt - b.invite.invitedAt || a.ord - b.ord)
    .slice(0, clampCount(limit))
    .map((i) => ({ ...i.invite }));
}

/** Keeps the conversation's lastSeq (and last activity), like SQLite's conversations row. */
export function deleteGroup(st: MemoryState, groupId: string): boolean {
  if (!st.groups.has(groupId)) return false;
  for (const userId of st.members.get(groupId)?.keys() ?? []) st.userGroups.get(userId)?.delete(groupId);
  st.members.delete(groupId);
  st.groups.delete(groupId);
  st.groupSettings.delete(groupId);
  st.bans.delete(groupId);
  st.invites.delete(groupId);
  const key = "g:" + groupId;
  const c = st.conversations.get(key);
  if (c) {
    for (const e of c.entries) {
      const k = sentKey(e.msg.from, e.msg.id);
      if (st.sent.get(k) === e) st.sent.delete(k);
    }
    for (const [user, queue] of st.offline) {
      for (const [ord, e] of queue) if (e.convKey === key) queue.delete(ord);
      if (queue.size === 0) st.offline.delete(user);
    }
    c.entries = [];
    c.read.clear();
  }
  return true;
}
