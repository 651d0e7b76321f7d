/**
 * cmd 15 → 16 (J-IM defined, never implemented): the sender recalls their own message by `id`
 * within `--recall-window`. Everyone else who could see it gets a cmd 16 notify without a code.
 */
import { CMD } from "../../protocol/commands.ts";
import { JsonBodyError, readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { recallNotice } from "../../services/messages.ts";
import type { RequestContext } from "../context.ts";

export async function handleRecall(ctx: RequestContext): Promise<void> {
  const id = readString(ctx.body, "id") ?? readString(ctx.body, "msgId");
  if (!id) throw new JsonBodyError("recall needs the message id");
  const recalled = await ctx.services.messages.recall(ctx.session.userId!, id, ctx.session);
  ctx.reply(statusPacket(CMD.CANCEL_MSG_RESP, STATUS.RECALL_OK, { data: recallNotice(recalled) }));
}
