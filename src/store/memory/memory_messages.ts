/**
 * The memory store's message operations, as functions over MemoryState. They return the stored
 * objects themselves; MemoryStore copies on the way out.
 */
import type {
  AppendResult,
  Conversation,
  ConversationSummary,
  NewMessage,
  RetentionPolicy,
  SearchQuery,
  SeqQuery,
  StoredMessage,
} from "../store.ts";
import { matchesTerms, searchTerms, textWords } from "../search_text.ts";
import {
  byJoin,
  clampCount,
  conversationKey,
  type ConvState,
  copyMessage,
  type Entry,
  findSeq,
  firstAfter,
  type MemoryState,
  sentKey,
  seqBound,
} from "./memory_state.ts";

/** Validates like SqliteStore's toParams; returns the conversation. */
function conversationOf(m: NewMessage): Conversation {
  let c: Conversation;
  if (m.chatType === 2) {
    if (typeof m.to !== "string") throw new TypeError("private message needs `to`");
    c = m.from < m.to
      ? { kind: "private", userA: m.from, userB: m.to }
      : { kind: "private", userA: m.to, userB: m.from };
  } else if (m.chatType === 1) {
    if (typeof m.groupId !== "string") throw new TypeError("group message needs `groupId`");
    c = { kind: "group", groupId: m.groupId };
  } else {
    throw new TypeError(`unknown chatType ${String(m.chatType)}`);
  }
  if (!Number.isFinite(m.createTime)) throw new TypeError("createTime must be a finite number");
  // Fails this call alone, like SQLite serialising extras before queueing.
  if (m.extras !== undefined) JSON.stringify(m.extras);
  return c;
}

function raise(read: Map<string, number>, userId: string, seq: number): number {
  const now = Math.max(read.get(userId) ?? 0, seq);
  read.set(userId, now);
  return now;
}

export function append(st: MemoryState, m: NewMessage, recipients: readonly string[]): AppendResult {
  const conversation = conversationOf(m);
  const original = st.sent.get(sentKey(m.from, m.id));
  if (original) return { message: original.msg, duplicate: true };
  const key = conversationKey(conversation);
  let c = st.conversations.get(key);
  if (!c) {
    c = { conversation, entries: [], lastSeq: 0, lastStoredAt: 0, lastOrd: 0, read: new Map() };
    st.conversations.set(key, c);
  }
  const storedAt = Date.now();
  const entry: Entry = { msg: copyMessage(m, c.lastSeq + 1, storedAt), ord: ++st.ord, convKey: key };
  c.entries.push(entry);
  c.lastSeq = entry.msg.seq;
  c.lastStoredAt = storedAt;
  c.lastOrd = entry.ord;
  st.sent.set(sentKey(m.from, m.id), entry);
  for (const user of recipients) {
    let queue = st.offline.get(user);
    if (!queue) st.offline.set(user, queue = new Map());
    queue.set(entry.ord, entry);
  }
  raise(c.read, m.from, entry.msg.seq);
  if (m.chatType === 2) {
    for (const [user, peer] of [[m.from, m.to!], [m.to!, m.from]]) {
      let mine = st.userPrivate.get(user);
      if (!mine) st.userPrivate.set(user, mine = new Map());
      mine.set(key, peer);
    }
  }
  return { message: entry.msg, duplicate: false };
}

export function messagesBySeq(st: MemoryState, conversation: Conversation, q: SeqQuery): StoredMessage[] {
  const entries = st.conversations.get(conversationKey(conversation))?.entries ?? [];
  const limit = clampCount(q.limit);
  const start = firstAfter(entries, seqBound(q.afterSeq, 0));
  if (limit === 0) return [];
  if (q.beforeSeq === undefined) return entries.slice(start, start + limit).map((e) => e.msg);
  const end = Math.max(start, firstAfter(entries, seqBound(q.beforeSeq, 0) - 1));
  return entries.slice(Math.max(start, end - limit), end).map((e) => e.msg);
}

export function listConversations(st: MemoryState, userId: string, limit: number): ConversationSummary[] {
  const rows: { summary: ConversationSummary; c?: ConvState; join?: { joinedAt: number; ord: number } }[] =
    [];
  const summarize = (conversation: Conversation, c: ConvState | undefined): ConversationSummary => {
    const out: ConversationSummary = { conversation, lastSeq: c?.lastSeq ?? 0, readSeq: 0 };
    const last = c?.entries[c.entries.length - 1];
    if (last && last.msg.seq === c!.lastSeq) out.lastMessage = last.msg;
    out.readSeq = c?.read.get(userId) ?? 0;
    return out;
  };
  for (const [key, peer] of st.userPrivate.get(userId) ?? []) {
    const c = st.conversations.get(key);
    rows.push({ summary: summarize({ kind: "private", userA: userId, userB: peer }, c), c });
  }
  for (const [groupId, join] of st.userGroups.get(userId) ?? []) {
    const c = st.conversations.get("g:" + groupId);
    rows.push({ summary: summarize({ kind: "group", groupId }, c), c, join });
  }
  rows.sort((a, b) => {
    if (a.c && b.c) return b.c.lastStoredAt - a.c.lastStoredAt || b.c.lastOrd - a.c.lastOrd;
    if (a.c || b.c) return a.c ? -1 : 1;
    return byJoin(a.join!, b.join!);
  });
  return rows.slice(0, clampCount(limit)).map((r) => r.summary);
}

export function markRead(st: MemoryState, userId: string, conversation: Conversation, seq: number): number {
  const c = st.conversations.get(conversationKey(conversation));
  if (!c) return 0;
  const target = Math.min(seqBound(seq, 0), c.lastSeq);
  return target > 0 ? raise(c.read, userId, target) : c.read.get(userId) ?? 0;
}

export function readCounts(st: MemoryState, conversation: Conversation, seqs: readonly number[]) {
  const out = new Map<number, number>();
  const c = st.conversations.get(conversationKey(conversation));
  if (!c) return out;
  for (const seq of seqs) {
    const i = Number.isSafeInteger(seq) ? findSeq(c.entries, seq) : -1;
    if (i < 0) continue;
    const from = c.entries[i].msg.from;
    let n = 0;
    for (const [user, read] of c.read) if (user !== from && read >= seq) n++;
    out.set(seq, n);
  }
  return out;
}

export function recall(st: MemoryState, conversation: Conversation, seq: number): StoredMessage | undefined {
  const c = st.conversations.get(conversationKey(conversation));
  const i = c && Number.isSafeInteger(seq) ? findSeq(c.entries, seq) : -1;
  if (i < 0) return undefined;
  const msg = c!.entries[i].msg;
  delete msg.content;
  delete msg.extras;
  msg.recalled = true;
  return msg;
}

/** See search_text.ts for the word rules and how they differ from SQLite's FTS5. */
export function search(st: MemoryState, userId: string, q: SearchQuery): StoredMessage[] {
  const terms = searchTerms(q.text);
  const limit = clampCount(q.limit);
  if (terms.length === 0 || limit === 0) return [];
  const keys = [...(st.userPrivate.get(userId)?.keys() ?? [])];
  for (const groupId of st.userGroups.get(userId)?.keys() ?? []) keys.push("g:" + groupId);
  const only = q.conversation && conversationKey(q.conversation);
  const hits: Entry[] = [];
  for (const key of keys) {
    if (only !== undefined && key !== only) continue;
    for (const e of st.conversations.get(key)?.entries ?? []) {
      if (!e.msg.recalled && e.msg.content !== undefined && matchesTerms(textWords(e.msg.content), terms)) {
        hits.push(e);
      }
    }
  }
  const offset = clampCount(q.offset);
  return hits.sort((a, b) => b.ord - a.ord).slice(offset, offset + limit).map((e) => e.msg);
}

/** Same selection as SQLite: the `n` oldest (storedAt, then insertion) messages the policy drops. */
export function prune(st: MemoryState, policy: RetentionPolicy, n: number): number {
  const older = policy.olderThan;
  const keep = policy.maxPerConversation === undefined || Number.isNaN(policy.maxPerConversation)
    ? undefined
    : Math.max(0, Math.floor(policy.maxPerConversation));
  const doomed: Entry[] = [];
  for (const c of st.conversations.values()) {
    for (const e of c.entries) {
      if (
        (older !== undefined && e.msg.storedAt < older) ||
        (keep !== undefined && e.msg.seq <= c.lastSeq - keep)
      ) {
        doomed.push(e);
      }
    }
  }
  const chosen = doomed.sort((a, b) => a.msg.storedAt - b.msg.storedAt || a.ord - b.ord).slice(0, n);
  const gone = new Set(chosen);
  for (const key of new Set(chosen.map((e) => e.convKey))) {
    const c = st.conversations.get(key)!;
    c.entries = c.entries.filter((e) => !gone.has(e));
  }
  for (const e of chosen) {
    st.sent.delete(sentKey(e.msg.from, e.msg.id));
    for (const [user, queue] of st.offline) {
      queue.delete(e.ord);
      if (queue.size === 0) st.offline.delete(user);
    }
  }
  return chosen.length;
}
