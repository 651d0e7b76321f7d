/**
 * cmd 14: close. Without `userId` (or with the caller's own) J-IM's 10021 is sent and the
 * connection (or all of the caller's connections) closed. Closing another user's sessions is
 * refused with 10024: only the HTTP API, behind its token, may kick users.
 */
import { CMD } from "../../protocol/commands.ts";
import { readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { ReplyError } from "../../services/errors.ts";
import type { RequestContext } from "../context.ts";

const CLOSE_OK = statusPacket(CMD.CLOSE_REQ, STATUS.CLOSE_OK);

export function handleClose(ctx: RequestContext): void {
  const userId = readString(ctx.body, "userId");
  const self = ctx.session.userId;
  if (userId !== undefined && userId !== self) {
    throw new ReplyError(STATUS.FORBIDDEN, { detail: "a client may close only its own sessions" });
  }
  ctx.replyAndClose(CLOSE_OK, "closed by client (cmd 14)");
  if (userId !== undefined) {
    ctx.services.delivery.closeUser(userId, "closed by the user's cmd 14 on another connection", {
      kick: false,
      packet: CLOSE_OK,
      skip: ctx.session,
    });
  }
}
