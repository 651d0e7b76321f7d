/**
 * cmd 7: join a group. Success sends no cmd 8, only the cmd 9 notify to the group (the joiner
 * included, spec §5.4). A missing or invalid groupId is answered with cmd 8 / 10012.
 */
import { CMD } from "../../protocol/commands.ts";
import { readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { isValidId } from "../../services/ids.ts";
import type { RequestContext } from "../context.ts";

/** JoinGroupResult.UNKNOWN: rejected. */
const RESULT_REJECTED = 0;

export async function handleJoinGroup(ctx: RequestContext): Promise<void> {
  const groupId = readString(ctx.body, "groupId");
  if (!isValidId(groupId)) {
    ctx.reply(statusPacket(CMD.JOIN_GROUP_RESP, STATUS.JOIN_GROUP_FAILED, { result: RESULT_REJECTED }));
    return;
  }
  const name = readString(ctx.body, "name");
  const notify = await ctx.services.groups.join(ctx.session, groupId, name?.slice(0, 256));
  ctx.reply(notify);
}
