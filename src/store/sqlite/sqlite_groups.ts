/**
 * The SQLite store's group permissions (schema v3): kind and owner, member roles and mutes,
 * bans, pending invites and disbanding. Plain functions over prepared statements, called by
 * SqliteStore, which owns the transactions (functions marked "in a transaction" write several
 * rows) and the closed check.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type {
  GroupBan,
  GroupInvite,
  GroupKind,
  GroupRecord,
  GroupRole,
  GroupSettings,
  MemberRecord,
} from "../store.ts";
import { clampCount, groupKey, selectText, toText } from "./sqlite_rows.ts";

export type GroupStatements = ReturnType<typeof prepareGroupStatements>;

const MEMBER_COLUMNS = selectText("gm.user_id") + ", gm.role, gm.joined_at, gm.muted_until";
const BAN_COLUMNS = selectText("b.group_id", "b.user_id", "b.banned_by") + ", b.banned_at";
const INVITE_COLUMNS = selectText("i.group_id", "i.user_id", "i.invited_by") + ", i.invited_at";

export function prepareGroupStatements(db: DatabaseSync) {
  const p = (sql: string) => db.prepare(sql);
  return {
    createGroup: p(
      `INSERT INTO chat_groups (group_id, name, avatar, created_at, kind, owner_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id) DO NOTHING`,
    ),
    insertMember: p("INSERT INTO group_members (group_id, user_id, joined_at, role) VALUES (?, ?, ?, ?)"),
    settings: p(`SELECT g.kind, ${selectText("g.owner_id")} FROM chat_groups g WHERE g.group_id = ? LIMIT 1`),
    getMember: p(
      `SELECT ${MEMBER_COLUMNS} FROM group_members gm WHERE gm.group_id = ? AND gm.user_id = ? LIMIT 1`,
    ),
    listMembers: p(
      `SELECT ${MEMBER_COLUMNS} FROM group_members gm WHERE gm.group_id = ?
       ORDER BY gm.joined_at, gm.rowid LIMIT ?`,
    ),
    setRole: p("UPDATE group_members SET role = ? WHERE group_id = ? AND user_id = ? AND role <> 'owner'"),
    setAnyRole: p("UPDATE group_members SET role = ? WHERE group_id = ? AND user_id = ?"),
    setOwnerId: p("UPDATE chat_groups SET owner_id = ? WHERE group_id = ?"),
    setMuted: p("UPDATE group_members SET muted_until = ? WHERE group_id = ? AND user_id = ?"),
    removeMember: p("DELETE FROM group_members WHERE group_id = ? AND user_id = ?"),
    clearOwner: p("UPDATE chat_groups SET owner_id = '' WHERE group_id = ? AND owner_id = ?"),
    // Walks the user's queue (its primary key), not the group's messages.
    dropOffline: p(
      `DELETE FROM offline WHERE user_id = :user AND message_row IN (
         SELECT o.message_row FROM offline o JOIN messages m ON m.row_id = o.message_row
         WHERE o.user_id = :user AND m.conv_key = :conv)`,
    ),
    insertBan: p(
      `INSERT INTO group_bans (group_id, user_id, banned_at, banned_by) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id, user_id) DO NOTHING`,
    ),
    deleteBan: p("DELETE FROM group_bans WHERE group_id = ? AND user_id = ?"),
    getBan: p(`SELECT ${BAN_COLUMNS} FROM group_bans b WHERE b.group_id = ? AND b.user_id = ? LIMIT 1`),
    listBans: p(
      `SELECT ${BAN_COLUMNS} FROM group_bans b WHERE b.group_id = ? ORDER BY b.banned_at, b.rowid LIMIT ?`,
    ),
    insertInvite: p(
      `INSERT INTO group_invites (group_id, user_id, invited_at, invited_by) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id, user_id) DO NOTHING`,
    ),
    deleteInvite: p("DELETE FROM group_invites WHERE group_id = ? AND user_id = ?"),
    groupInvites: p(
      `SELECT ${INVITE_COLUMNS} FROM group_invites i WHERE i.group_id = ?
       ORDER BY i.invited_at, i.rowid LIMIT ?`,
    ),
    userInvites: p(
      `SELECT ${INVITE_COLUMNS} FROM group_invites i WHERE i.user_id = ?
       ORDER BY i.invited_at, i.rowid LIMIT ?`,
    ),
    indexedRows: p("SELECT row_id FROM messages WHERE conv_key = ? AND content IS NOT NULL"),
    deleteFts: p("DELETE FROM messages_fts WHERE rowid = ?"),
    // Offline entries go by ON DELETE CASCADE.
    deleteMessages: p("DELETE FROM messages WHERE conv_key = ?"),
    deleteReads: p("DELETE FROM read_state WHERE conv_key = ?"),
    // Members, bans and invites go by ON DELETE CASCADE.
    deleteGroup: p("DELETE FROM chat_groups WHERE group_id = ?"),
  } satisfies Record<string, StatementSync>;
}

type Row = Record<string, unknown>;

function toMember(r: Row): MemberRecord {
  return {
    userId: toText(r.user_id),
    role: r.role as GroupRole,
    joinedAt: r.joined_at as number,
    mutedUntil: r.muted_until as number,
  };
}

function toBan(r: Row): GroupBan {
  return {
    groupId: toText(r.group_id),
    userId: toText(r.user_id),
    bannedAt: r.banned_at as number,
    by: toText(r.banned_by),
  };
}

function toInvite(r: Row): GroupInvite {
  return {
    groupId: toText(r.group_id),
    userId: toText(r.user_id),
    invitedAt: r.invited_at as number,
    by: toText(r.invited_by),
  };
}

/** In a transaction. */
export function createGroup(g: GroupStatements, group: GroupRecord, settings: GroupSettings): boolean {
  const kind: GroupKind = settings.kind === "invite" ? "invite" : "open";
  const created = g.createGroup.run(
    group.groupId,
    group.name,
    group.avatar,
    group.createdAt,
    kind,
    settings.ownerId,
  ).changes === 1;
  if (created && settings.ownerId !== "") {
    g.insertMember.run(group.groupId, settings.ownerId, group.createdAt, "owner");
  }
  return created;
}

export function getSettings(g: GroupStatements, groupId: string): GroupSettings | undefined {
  const r = g.settings.get(groupId);
  return r ? { kind: r.kind as GroupKind, ownerId: toText(r.owner_id) } : undefined;
}

export function getMember(g: GroupStatements, groupId: string, userId: string): MemberRecord | undefined {
  const r = g.getMember.get(groupId, userId);
  return r ? toMember(r) : undefined;
}

export function listMembers(g: GroupStatements, groupId: string, limit: number): MemberRecord[] {
  return g.listMembers.all(groupId, clampCount(limit)).map(toMember);
}

export function setRole(
  g: GroupStatements,
  groupId: string,
  userId: string,
  role: "admin" | "member",
): boolean {
  if (role !== "admin" && role !== "member") throw new TypeError(`role must be admin or member, not ${role}`);
  return g.setRole.run(role, groupId, userId).changes > 0;
}

/** In a transaction. */
export function setOwner(g: GroupStatements, groupId: string, userId: string): boolean {
  if (!g.getMember.get(groupId, userId)) return false;
  const previous = getSettings(g, groupId)?.ownerId ?? "";
  if (previous !== "" && previous !== userId) g.setAnyRole.run("admin", groupId, previous);
  g.setAnyRole.run("owner", groupId, userId);
  g.setOwnerId.run(userId, groupId);
  return true;
}

export function setMuted(g: GroupStatements, groupId: string, userId: string, until: number): boolean {
  return g.setMuted.run(clampCount(until), groupId, userId).changes > 0;
}

/** In a transaction. */
export function removeMember(g: GroupStatements, groupId: string, userId: string): boolean {
  if (g.removeMember.run(groupId, userId).changes === 0) return false;
  g.clearOwner.run(groupId, userId);
  g.dropOffline.run({ user: userId, conv: groupKey(groupId) });
  return true;
}

/** In a transaction. Throws (foreign key) when the group does not exist. */
export function ban(g: GroupStatements, b: GroupBan): boolean {
  g.insertBan.run(b.groupId, b.userId, b.bannedAt, b.by);
  g.deleteInvite.run(b.groupId, b.userId);
  return removeMember(g, b.groupId, b.userId);
}

export function unban(g: GroupStatements, groupId: string, userId: string): boolean {
  return g.deleteBan.run(groupId, userId).changes > 0;
}

export function getBan(g: GroupStatements, groupId: string, userId: string): GroupBan | undefined {
  const r = g.getBan.get(groupId, userId);
  return r ? toBan(r) : undefined;
}

export function listBans(g: GroupStatements, groupId: string, limit: number): GroupBan[] {
  return g.listBans.all(groupId, clampCount(limit)).map(toBan);
}

/** Throws (foreign key) when the group does not exist. */
export function addInvite(g: GroupStatements, i: GroupInvite): boolean {
  return g.insertInvite.run(i.groupId, i.userId, i.invitedAt, i.by).changes === 1;
}

export function removeInvite(g: GroupStatements, groupId: string, userId: string): boolean {
  return g.deleteInvite.run(groupId, userId).changes > 0;
}

export function listInvites(
  g: GroupStatements,
  of: { groupId: string } | { userId: string },
  limit: number,
): GroupInvite[] {
  const n = clampCount(limit);
  const rows = "groupId" in of ? g.groupInvites.all(of.groupId, n) : g.userInvites.all(of.userId, n);
  return rows.map(toInvite);
}

/** In a transaction. The conversations row (last seq) stays. */
export function deleteGroup(g: GroupStatements, groupId: string): boolean {
  if (!g.settings.get(groupId)) return false;
  const key = groupKey(groupId);
  for (const r of g.indexedRows.all(key)) g.deleteFts.run(r.row_id as number);
  g.deleteMessages.run(key);
  g.deleteReads.run(key);
  g.deleteGroup.run(groupId);
  return true;
}
