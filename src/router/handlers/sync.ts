/**
 * cmd 23 → 24 (jim): a conversation's messages by seq, so a reconnecting client fetches exactly
 * what it missed: `{"cmd":23,"peer":"u2"|"groupId":"g","afterSeq":n|"beforeSeq":n,"limit":n}`.
 */
import { chatBodyOf } from "../../protocol/chat_body.ts";
import { CMD } from "../../protocol/commands.ts";
import { parseConversationRef, refFields } from "../../protocol/conversation_ref.ts";
import { JsonBodyError, readInt } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { DEFAULT_PAGE } from "../../services/conversations.ts";
import type { RequestContext } from "../context.ts";

export async function handleSync(ctx: RequestContext): Promise<void> {
  const ref = parseConversationRef(ctx.body);
  const afterSeq = readInt(ctx.body, "afterSeq");
  const beforeSeq = readInt(ctx.body, "beforeSeq");
  const limit = readInt(ctx.body, "limit") ?? DEFAULT_PAGE;
  if ((afterSeq ?? 0) < 0 || (beforeSeq !== undefined && beforeSeq < 1) || limit < 1) {
    throw new JsonBodyError("afterSeq must be ≥ 0, beforeSeq ≥ 1, limit ≥ 1");
  }
  if (afterSeq !== undefined && beforeSeq !== undefined) {
    throw new JsonBodyError("give afterSeq or beforeSeq");
  }
  const page = await ctx.services.conversations.sync(ctx.session.userId!, ref, {
    afterSeq,
    beforeSeq,
    limit,
  });
  ctx.reply(statusPacket(CMD.SYNC_RESP, STATUS.SYNC_OK, {
    data: {
      ...refFields(ref),
      hasMore: page.hasMore,
      lastSeq: page.lastSeq,
      messages: page.messages.map((m) => chatBodyOf(m, true)),
    },
  }));
}
