/**
 * cmd 27 → 28 (jim): "I have read up to seq N" in a conversation (reading a message implies the
 * ones before it). The peer / the group and the reader's other sessions get a cmd 29 notify.
 * cmd 30 → 31: per-message read counts (how many others have read each seq).
 */
import { CMD } from "../../protocol/commands.ts";
import { parseConversationRef, refFields } from "../../protocol/conversation_ref.ts";
import { JsonBodyError, readInt } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import type { RequestContext } from "../context.ts";

export async function handleRead(ctx: RequestContext): Promise<void> {
  const ref = parseConversationRef(ctx.body);
  const seq = readInt(ctx.body, "seq");
  if (seq === undefined || seq < 0) throw new JsonBodyError("read needs seq ≥ 0");
  const readSeq = await ctx.services.conversations.markRead(ctx.session.userId!, ref, seq, ctx.session);
  ctx.reply(statusPacket(CMD.READ_RESP, STATUS.READ_OK, { data: { ...refFields(ref), readSeq } }));
}

export async function handleReadCount(ctx: RequestContext): Promise<void> {
  const ref = parseConversationRef(ctx.body);
  const raw = ctx.body.seqs;
  if (!Array.isArray(raw) || raw.length === 0) throw new JsonBodyError("seqs must be a non-empty array");
  const seqs = raw.map((v, i) => {
    const n = readInt({ v }, "v");
    if (n === undefined || n < 1) throw new JsonBodyError(`seqs[${i}] must be a positive integer`);
    return n;
  });
  const counts = await ctx.services.conversations.readCounts(ctx.session.userId!, ref, seqs);
  ctx.reply(statusPacket(CMD.READ_COUNT_RESP, STATUS.READ_OK, { data: { ...refFields(ref), counts } }));
}
