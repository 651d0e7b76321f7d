/**
 * The memory store's backup: the whole state as one JSON document (format "jim-memory-store",
 * version 1), taken synchronously so it is a consistent snapshot. MemoryStore.openBackup reads it
 * back into a new store.
 */
import type {
  Conversation,
  GroupBan,
  GroupInvite,
  GroupKind,
  GroupRecord,
  GroupRole,
  StoredMessage,
  UserRecord,
} from "../store.ts";
import { type ConvState, emptyState, type Entry, type MemoryState, sentKey } from "./memory_state.ts";

const FORMAT = "jim-memory-store";
const VERSION = 1;

interface Snapshot {
  format: typeof FORMAT;
  version: typeof VERSION;
  ord: number;
  users: UserRecord[];
  tokens: [string, string, number][];
  groups: GroupRecord[];
  /** [groupId, userId, joinedAt, ord, role, mutedUntil]; role and mutedUntil absent in older snapshots. */
  members: [string, string, number, number, GroupRole?, number?][];
  /** Group permissions; absent in older snapshots (open groups without owner, no bans or invites). */
  groupSettings?: [string, GroupKind, string][];
  bans?: [GroupBan, number][];
  invites?: [GroupInvite, number][];
  conversations: {
    key: string;
    conversation: Conversation;
    lastSeq: number;
    lastStoredAt: number;
    lastOrd: number;
    read: [string, number][];
    entries: { ord: number; msg: StoredMessage }[];
  }[];
  userPrivate: [string, string, string][];
  offline: [string, number[]][];
}

export function serializeState(st: MemoryState): string {
  const snapshot: Snapshot = {
    format: FORMAT,
    version: VERSION,
    ord: st.ord,
    users: [...st.users.values()],
    tokens: [...st.tokens].map(([hash, t]) => [hash, t.userId, t.expiresAt]),
    groups: [...st.groups.values()],
    members: [...st.members].flatMap(([groupId, members]) =>
      [...members].map((
        [userId, m],
      ): Snapshot["members"][number] => [groupId, userId, m.joinedAt, m.ord, m.role, m.mutedUntil])
    ),
    groupSettings: [...st.groupSettings].map(([groupId, g]): [string, GroupKind, string] => [
      groupId,
      g.kind,
      g.ownerId,
    ]),
    bans: [...st.bans.values()].flatMap((m) =>
      [...m.values()].map((b): [GroupBan, number] => [b.ban, b.ord])
    ),
    invites: [...st.invites.values()].flatMap((m) =>
      [...m.values()].map((i): [GroupInvite, number] => [i.invite, i.ord])
    ),
    conversations: [...st.conversations].map(([key, c]) => ({
      key,
      conversation: c.conversation,
      lastSeq: c.lastSeq,
      lastStoredAt: c.lastStoredAt,
      lastOrd: c.lastOrd,
      read: [...c.read],
      entries: c.entries.map((e) => ({ ord: e.ord, msg: e.msg })),
    })),
    userPrivate: [...st.userPrivate].flatMap(([userId, convs]) =>
      [...convs].map(([key, peer]): [string, string, string] => [userId, key, peer])
    ),
    offline: [...st.offline].map(([userId, queue]) => [userId, [...queue.keys()]]),
  };
  return JSON.stringify(snapshot);
}

export function parseState(text: string): MemoryState {
  const s = JSON.parse(text) as Snapshot;
  if (s?.format !== FORMAT || s.version !== VERSION) {
    throw new Error(`not a ${FORMAT} v${VERSION} backup`);
  }
  const st = emptyState();
  st.ord = s.ord;
  for (const u of s.users) st.users.set(u.userId, u);
  for (const [hash, userId, expiresAt] of s.tokens) st.tokens.set(hash, { userId, expiresAt });
  for (const g of s.groups) st.groups.set(g.groupId, g);
  for (const [groupId, kind, ownerId] of s.groupSettings ?? []) {
    st.groupSettings.set(groupId, { kind, ownerId });
  }
  for (const [ban, ord] of s.bans ?? []) {
    let bans = st.bans.get(ban.groupId);
    if (!bans) st.bans.set(ban.groupId, bans = new Map());
    bans.set(ban.userId, { ban, ord });
  }
  for (const [invite, ord] of s.invites ?? []) {
    let invites = st.invites.get(invite.groupId);
    if (!invites) st.invites.set(invite.groupId, invites = new Map());
    invites.set(invite.userId, { invite, ord });
  }
  for (const [groupId, userId, joinedAt, ord, role = "member", mutedUntil = 0] of s.members) {
    const m = { joinedAt, ord, role, mutedUntil };
    let members = st.members.get(groupId);
    if (!members) st.members.set(groupId, members = new Map());
    members.set(userId, m);
    let groups = st.userGroups.get(userId);
    if (!groups) st.userGroups.set(userId, groups = new Map());
    groups.set(groupId, m);
  }
  const byOrd = new Map<number, Entry>();
  for (const c of s.conversations) {
    const entries = c.entries.map(({ ord, msg }): Entry => ({ ord, msg, convKey: c.key }));
    const conv: ConvState = {
      conversation: c.conversation,
      entries,
      lastSeq: c.lastSeq,
      lastStoredAt: c.lastStoredAt,
      lastOrd: c.lastOrd,
      read: new Map(c.read),
    };
    st.conversations.set(c.key, conv);
    for (const e of entries) {
      byOrd.set(e.ord, e);
      st.sent.set(sentKey(e.msg.from, e.msg.id), e);
    }
  }
  for (const [userId, key, peer] of s.userPrivate) {
    let convs = st.userPrivate.get(userId);
    if (!convs) st.userPrivate.set(userId, convs = new Map());
    convs.set(key, peer);
  }
  for (const [userId, ords] of s.offline) {
    st.offline.set(userId, new Map(ords.map((ord) => [ord, byOrd.get(ord)!])));
  }
  return st;
}
