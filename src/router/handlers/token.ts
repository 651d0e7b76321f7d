/** cmd 21 → 22 (jim): issues a login token for the logged-in user, usable as cmd 5 or ?token=. */
import { CMD } from "../../protocol/commands.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import type { RequestContext } from "../context.ts";

export async function handleToken(ctx: RequestContext): Promise<void> {
  const { token, expiresAt } = await ctx.services.auth.issueToken(ctx.session.userId!);
  ctx.reply(
    statusPacket(CMD.TOKEN_RESP, STATUS.TOKEN_OK, { data: { expiresAt, token, userId: ctx.session.userId } }),
  );
}
