/** cmd 32 (jim): typing indicator, forwarded as cmd 33 to the peer or group; no reply, not stored. */
import { parseConversationRef } from "../../protocol/conversation_ref.ts";
import type { RequestContext } from "../context.ts";

export async function handleTyping(ctx: RequestContext): Promise<void> {
  const ref = parseConversationRef(ctx.body);
  const typing = ctx.body.typing !== false && ctx.body.typing !== "false" && ctx.body.typing !== 0;
  await ctx.services.conversations.typing(ctx.session.userId!, ref, typing, ctx.session);
}
