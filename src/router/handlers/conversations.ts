/**
 * cmd 25 → 26 (jim): the user's conversations, most recent first, each with lastSeq, readSeq,
 * unread count and last message.
 */
import { CMD } from "../../protocol/commands.ts";
import { JsonBodyError, readInt } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { DEFAULT_PAGE } from "../../services/conversations.ts";
import type { RequestContext } from "../context.ts";

export async function handleConversations(ctx: RequestContext): Promise<void> {
  const limit = readInt(ctx.body, "limit") ?? DEFAULT_PAGE;
  if (limit < 1) throw new JsonBodyError("limit must be ≥ 1");
  const conversations = await ctx.services.conversations.list(ctx.session.userId!, limit);
  ctx.reply(statusPacket(CMD.CONVERSATIONS_RESP, STATUS.CONVERSATIONS_OK, { data: { conversations } }));
}
