/**
 * cmd 34 → 35 (jim): full-text search of the caller's own conversations (optionally one of
 * them), newest first: `{"cmd":34,"text":"words","peer"|"groupId"?,"offset"?,"limit"?}`.
 */
import { chatBodyOf } from "../../protocol/chat_body.ts";
import { CMD } from "../../protocol/commands.ts";
import { parseConversationRef } from "../../protocol/conversation_ref.ts";
import { JsonBodyError, readInt, readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { DEFAULT_PAGE } from "../../services/conversations.ts";
import type { RequestContext } from "../context.ts";

/** Longest search text accepted. */
export const MAX_SEARCH_TEXT = 256;

export async function handleSearch(ctx: RequestContext): Promise<void> {
  const text = readString(ctx.body, "text")?.trim();
  if (!text || text.length > MAX_SEARCH_TEXT) {
    throw new JsonBodyError(`text must be 1–${MAX_SEARCH_TEXT} characters`);
  }
  const scoped = ctx.body.groupId !== undefined || ctx.body.peer !== undefined;
  const ref = scoped ? parseConversationRef(ctx.body) : undefined;
  const offset = readInt(ctx.body, "offset") ?? 0;
  const limit = readInt(ctx.body, "limit") ?? DEFAULT_PAGE;
  if (offset < 0 || limit < 1) throw new JsonBodyError("offset must be ≥ 0 and limit ≥ 1");
  const found = await ctx.services.conversations.search(ctx.session.userId!, text, ref, offset, limit);
  ctx.reply(statusPacket(CMD.SEARCH_RESP, STATUS.SEARCH_OK, {
    data: { limit, messages: found.map((m) => chatBodyOf(m, true)), offset, text },
  }));
}
