/**
 * The SQLite store's multi-table queries: conversation list, full-text search and retention.
 * Plain functions over a connection's prepared statements, called by SqliteStore (which owns the
 * transactions and the closed check).
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type {
  Conversation,
  ConversationSummary,
  RetentionPolicy,
  SearchQuery,
  StoredMessage,
} from "../store.ts";
import { ftsQuery, searchTerms } from "../search_text.ts";
import {
  clampCount,
  conversationKey,
  MESSAGE_COLUMNS,
  selectText,
  toMessage,
  toText,
} from "./sqlite_rows.ts";

export type Queries = ReturnType<typeof prepareQueries>;

// Recency of a conversation: its last message's stored time, then its row (a later insert wins a
// tie); groups without any message last, in join order.
const RECENCY = "last_stored_at IS NULL, last_stored_at DESC, last_row DESC, join_at, join_ord";
const X_RECENCY = "x.last_stored_at IS NULL, x.last_stored_at DESC, x.last_row DESC, x.join_at, x.join_ord";

export function prepareQueries(db: DatabaseSync) {
  const p = (sql: string) => db.prepare(sql);
  return {
    // The LIMIT applies to the indexed list of the user's conversations before the joins.
    conversations: p(
      `SELECT x.kind, ${selectText("x.other")}, x.last_seq, COALESCE(r.read_seq, 0) AS read_seq,
         ${MESSAGE_COLUMNS}
       FROM (
         SELECT mine.*, c.last_seq, c.last_stored_at, c.last_row
         FROM (
           SELECT uc.conv_key AS conv_key, 2 AS kind, uc.peer_id AS other, 0 AS join_at, 0 AS join_ord
             FROM user_conversations uc WHERE uc.user_id = :user
           UNION ALL
           SELECT 'g:' || gm.group_id, 1, gm.group_id, gm.joined_at, gm.rowid
             FROM group_members gm WHERE gm.user_id = :user
         ) mine LEFT JOIN conversations c ON c.conv_key = mine.conv_key
         ORDER BY ${RECENCY} LIMIT :limit
       ) x
       LEFT JOIN messages m ON m.conv_key = x.conv_key AND m.seq = x.last_seq
       LEFT JOIN read_state r ON r.user_id = :user AND r.conv_key = x.conv_key
       ORDER BY ${X_RECENCY}`,
    ),
    // Walks the full-text matches newest first (FTS5 serves rowid order) and keeps those in the
    // user's scope: private conversations they are part of, groups they are a member of.
    search: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages_fts JOIN messages m ON m.row_id = messages_fts.rowid
       WHERE messages_fts MATCH :query AND m.recalled = 0
         AND (:conv IS NULL OR m.conv_key = :conv)
         AND ((m.chat_type = 2 AND (m.from_user = :user OR m.to_user = :user))
           OR (m.chat_type = 1 AND EXISTS (SELECT 1 FROM group_members gm
                 WHERE gm.group_id = m.group_id AND gm.user_id = :user)))
       ORDER BY messages_fts.rowid DESC LIMIT :limit OFFSET :offset`,
    ),
    pruneByAge: p(
      "SELECT row_id, stored_at FROM messages WHERE stored_at < ? ORDER BY stored_at, row_id LIMIT ?",
    ),
    // Per conversation, the lowest :n seqs at or below last_seq - :keep (a message is beyond the
    // newest :keep exactly when its seq is, since seqs are never reused); then the oldest :n overall.
    // Cost: one index probe per conversation with last_seq > :keep, plus the rows it reads (at most
    // :n per conversation). CROSS JOIN keeps that order: without statistics the planner would
    // rather walk all messages by stored_at.
    pruneByCount: p(
      `WITH over AS MATERIALIZED (
         SELECT c.conv_key AS conv_key, c.last_seq - :keep AS cut,
           (SELECT x.seq FROM messages x WHERE x.conv_key = c.conv_key AND x.seq <= c.last_seq - :keep
            ORDER BY x.seq LIMIT 1 OFFSET :n) AS stop
         FROM conversations c WHERE c.last_seq > :keep
       )
       SELECT m.row_id, m.stored_at FROM over CROSS JOIN messages m ON m.conv_key = over.conv_key
       WHERE m.seq <= over.cut AND (over.stop IS NULL OR m.seq < over.stop)
       ORDER BY m.stored_at, m.row_id LIMIT :n`,
    ),
    deleteFts: p("DELETE FROM messages_fts WHERE rowid = ?"),
    // Offline entries go by ON DELETE CASCADE.
    deleteMessage: p("DELETE FROM messages WHERE row_id = ?"),
    // :seqs is a JSON array; seqs without a message produce no row.
    readCounts: p(
      `SELECT m.seq, (SELECT COUNT(*) FROM read_state r
         WHERE r.conv_key = m.conv_key AND r.read_seq >= m.seq AND r.user_id <> m.from_user) AS n
       FROM messages m WHERE m.conv_key = :conv AND m.seq IN (SELECT value FROM json_each(:seqs))`,
    ),
  } satisfies Record<string, StatementSync>;
}

export function listConversations(q: Queries, userId: string, limit: number): ConversationSummary[] {
  const n = clampCount(limit);
  if (n === 0) return [];
  return q.conversations.all({ user: userId, limit: n }).map((r) => {
    const other = toText(r.other);
    const conversation: Conversation = r.kind === 2
      ? { kind: "private", userA: userId, userB: other }
      : { kind: "group", groupId: other };
    const out: ConversationSummary = {
      conversation,
      lastSeq: (r.last_seq as number | null) ?? 0,
      readSeq: 0,
    };
    if (r.row_id !== null) out.lastMessage = toMessage(r);
    out.readSeq = r.read_seq as number;
    return out;
  });
}

export function search(q: Queries, userId: string, query: SearchQuery): StoredMessage[] {
  const limit = clampCount(query.limit);
  const terms = searchTerms(query.text);
  if (limit === 0 || terms.length === 0) return [];
  return q.search.all({
    query: ftsQuery(terms),
    conv: query.conversation ? conversationKey(query.conversation) : null,
    user: userId,
    limit,
    offset: clampCount(query.offset),
  }).map(toMessage);
}

/** Per seq, how many users other than the sender have read up to it; missing seqs are absent. */
export function readCounts(q: Queries, convKey: string, seqs: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  const wanted = [...new Set(seqs)].filter((n) => Number.isSafeInteger(n) && n > 0);
  if (wanted.length === 0) return out;
  for (const r of q.readCounts.all({ conv: convKey, seqs: JSON.stringify(wanted) })) {
    out.set(r.seq as number, r.n as number);
  }
  return out;
}

/**
 * Deletes the at most `n` oldest (stored time, then row) messages the policy no longer keeps,
 * with their full-text rows and (by cascade) offline entries. Conversations keep their last_seq,
 * so seqs are never reused; read state is untouched. Run inside a transaction.
 */
export function prune(q: Queries, policy: RetentionPolicy, n: number): number {
  const rows = pruneCandidates(q, policy, n);
  for (const row of rows) {
    q.deleteFts.run(row);
    q.deleteMessage.run(row);
  }
  return rows.length;
}

/** The row_ids of the at most `n` oldest messages the policy no longer keeps. */
function pruneCandidates(q: Queries, policy: RetentionPolicy, n: number): number[] {
  const rows: { row_id: number; stored_at: number }[] = [];
  const add = (list: Record<string, unknown>[]) => {
    for (const r of list) rows.push({ row_id: r.row_id as number, stored_at: r.stored_at as number });
  };
  if (policy.olderThan !== undefined && !Number.isNaN(policy.olderThan)) {
    add(q.pruneByAge.all(policy.olderThan, n));
  }
  if (policy.maxPerConversation !== undefined && !Number.isNaN(policy.maxPerConversation)) {
    const keep = Math.max(0, Math.floor(policy.maxPerConversation));
    if (Number.isFinite(keep)) add(q.pruneByCount.all({ keep, n }));
  }
  rows.sort((a, b) => a.stored_at - b.stored_at || a.row_id - b.row_id);
  const out: number[] = [];
  for (const r of rows) {
    if (out.length === n) break;
    if (out[out.length - 1] !== r.row_id) out.push(r.row_id);
  }
  return out;
}
