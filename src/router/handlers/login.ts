/**
 * cmd 5 → 6: login with userId + password (registering on first login when open) or a token.
 * The cmd 9 notifies for the user's groups go out before the cmd 6 reply (spec §5.3); a failed
 * login is answered with 10008 and the connection is closed, as in J-IM.
 */
import { CMD } from "../../protocol/commands.ts";
import { readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import type { Credentials } from "../../services/auth.ts";
import type { RequestContext } from "../context.ts";

export const LOGIN_OK_PACKET = statusPacket(CMD.LOGIN_RESP, STATUS.LOGIN_OK);
export const LOGIN_FAILED_PACKET = statusPacket(CMD.LOGIN_RESP, STATUS.LOGIN_FAILED);

export async function handleLogin(ctx: RequestContext): Promise<void> {
  const credentials: Credentials = {
    userId: readString(ctx.body, "userId"),
    password: readString(ctx.body, "password"),
    token: readString(ctx.body, "token"),
  };
  const result = await ctx.services.sessions.login(ctx.session, credentials);
  if (!result.ok) return ctx.replyAndClose(LOGIN_FAILED_PACKET, "login failed");
  for (const notify of result.notifies) ctx.session.send(notify);
  ctx.reply(LOGIN_OK_PACKET);
}
