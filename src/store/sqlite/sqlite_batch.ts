/**
 * One group-commit batch of appendMessage calls, written inside the caller's transaction.
 *
 * Items are handled in call order. An item whose (from, id) the sender already used — in an
 * earlier batch or earlier in this one, since the lookup sees this transaction's own rows — is a
 * duplicate: it gets the original message and writes nothing (no seq, offline entry or read
 * state). Any other item gets the next seq of its conversation, its full-text row, its offline
 * entries, the sender's read seq raised to it and, for a private chat, both users' entries in
 * the private-conversation index.
 */
import type { AppendResult } from "../store.ts";
import { indexText } from "../search_text.ts";
import { type MessageParams, paramsToMessage, toMessage } from "./sqlite_rows.ts";
import type { Statements } from "./sqlite_statements.ts";

export interface BatchItem {
  params: MessageParams;
  /** De-duplicated offline recipients. */
  recipients: readonly string[];
}

export interface WrittenBatch {
  /** One result per item, in item order. */
  results: AppendResult[];
  /** The new last seq of every conversation the batch appended to. */
  lastSeqs: Map<string, number>;
}

/**
 * Writes the items; `cachedLastSeq` gives committed last seqs known without a query. Throws on
 * any failure, leaving the transaction for the caller to roll back.
 */
export function writeBatch(
  s: Statements,
  items: readonly BatchItem[],
  storedAt: number,
  cachedLastSeq: (convKey: string) => number | undefined,
): WrittenBatch {
  const lastSeqs = new Map<string, number>();
  const lastRows = new Map<string, number>();
  // Sender read seqs to raise, once per (sender, conversation) at the end of the batch.
  const reads = new Map<string, [from: string, convKey: string, seq: number]>();
  const results = items.map(({ params: p, recipients }): AppendResult => {
    const original = s.findSent.get(p.from, p.msgId);
    if (original) return { message: toMessage(original), duplicate: true };

    let last = lastSeqs.get(p.convKey) ?? cachedLastSeq(p.convKey);
    if (last === undefined) last = (s.lastSeq.get(p.convKey)?.last_seq as number | undefined) ?? 0;
    if (last === 0) s.newConversation.run(p.convKey);
    const seq = last + 1;
    const row = s.insertMessage.run(
      p.convKey,
      seq,
      p.msgId,
      p.chatType,
      p.from,
      p.to,
      p.groupId,
      p.msgType,
      p.content,
      p.createTime,
      p.extras,
      storedAt,
    ).lastInsertRowid as number;
    lastSeqs.set(p.convKey, seq);
    lastRows.set(p.convKey, row);
    if (p.content !== null) s.insertFts.run(row, indexText(p.content));
    for (const user of recipients) s.insertOffline.run(user, row);
    reads.set(JSON.stringify([p.from, p.convKey]), [p.from, p.convKey, seq]);
    // A new conversation (its first seq ever; the v2 migration indexed the older ones).
    if (seq === 1 && p.to !== null && p.chatType === 2) {
      s.addUserConversation.run(p.from, p.convKey, p.to);
      s.addUserConversation.run(p.to, p.convKey, p.from);
    }
    return { message: paramsToMessage(p, seq, storedAt), duplicate: false };
  });
  for (const [convKey, seq] of lastSeqs) s.setLast.run(seq, storedAt, lastRows.get(convKey)!, convKey);
  for (const [from, convKey, seq] of reads.values()) s.raiseReadQuiet.run(from, convKey, seq);
  return { results, lastSeqs };
}
