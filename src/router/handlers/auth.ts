/**
 * cmd 3 → 4: J-IM's auth echo. J-IM checks nothing and changes no state: it returns the request
 * (minus `cmd`) with `token` + "authKey". Kept byte-compatible; real authentication is login.
 */
import { CMD } from "../../protocol/commands.ts";
import { readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import type { RequestContext } from "../context.ts";

export function handleAuth(ctx: RequestContext): void {
  const data: Record<string, unknown> = { ...ctx.body };
  delete data.cmd;
  const token = readString(ctx.body, "token");
  if (token !== undefined) data.token = token + "authKey";
  ctx.reply(statusPacket(CMD.AUTH_RESP, STATUS.AUTH_OK, { data }));
}
