/**
 * cmd 3 → 4: J-IM's auth. J-IM checks nothing and changes no state: it returns the request (minus
 * `cmd`) with `token` + "authKey". jim keeps that reply shape and makes the token mean something:
 *
 * - A session that is not logged in and sends a token that verifies (a cmd 21 token in every
 *   mode, a JWT in jwt mode, what the webhook allows in webhook mode) is logged in as its user,
 *   exactly like cmd 5 (cmd 9 notifies first), and gets J-IM's 10009 echo.
 * - A token that does not verify: 10010 in jwt/webhook/open modes (the connection stays open);
 *   in password mode J-IM's plain echo, as J-IM clients send arbitrary "校验码" strings here.
 * - No token, or a session already logged in: J-IM's echo, no state change.
 */
import { CMD } from "../../protocol/commands.ts";
import { readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import type { RequestContext } from "../context.ts";

export const AUTH_FAILED_PACKET = statusPacket(CMD.AUTH_RESP, STATUS.AUTH_FAILED);

export async function handleAuth(ctx: RequestContext): Promise<void> {
  const data: Record<string, unknown> = { ...ctx.body };
  delete data.cmd;
  const token = readString(ctx.body, "token");
  if (token !== undefined) data.token = token + "authKey";
  const echo = () => ctx.reply(statusPacket(CMD.AUTH_RESP, STATUS.AUTH_OK, { data }));
  if (!token || ctx.session.user) return echo();

  // In password mode J-IM clients send arbitrary strings here: a token that does not verify is
  // not a failed login attempt (and does not count towards the lockout, docs/protocol.md §8).
  const result = await ctx.services.sessions.login(ctx.session, {
    token,
    userId: readString(ctx.body, "userId"),
  }, { countFailure: ctx.services.auth.mode !== "password" });
  if (!result.ok) {
    if (ctx.session.closed) return;
    // Too many sessions (10050): said as such; the connection stays, as for any cmd 3 failure.
    if (result.status) return ctx.reply(statusPacket(CMD.AUTH_RESP, result.status));
    return ctx.services.auth.mode === "password" ? echo() : ctx.reply(AUTH_FAILED_PACKET);
  }
  const extensions = ctx.body.extensions;
  ctx.session.extensions = extensions === true || extensions === 1 || extensions === "1" ||
    extensions === "true";
  for (const notify of result.notifies) ctx.session.send(notify);
  echo();
}
