/**
 * The memory store's backup: the whole state as one JSON document (format "jim-memory-store",
 * version 1), taken synchronously so it is a consistent snapshot. MemoryStore.openBackup reads it
 * back into a new store.
 */
import type { Conversation, GroupRecord, StoredMessage, UserRecord } from "../store.ts";
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
  members: [string, string, number, number][];
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
      ): [string, string, number, number] => [groupId, userId, m.joinedAt, m.ord])
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
  for (const [groupId, userId, joinedAt, ord] of s.members) {
    const m = { joinedAt, ord };
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
