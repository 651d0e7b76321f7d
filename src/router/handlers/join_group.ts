/**
 * cmd 7: join a group. Success sends no cmd 8, only the cmd 9 notify to the group (the joiner
 * included, spec §5.4). A missing or invalid groupId or `kind`, an invite-only group without an
 * invite (result 0) or a ban (result 4) is answered with cmd 8 / 10012 and J-IM's `result`.
 * A new group is created with the joiner as owner: open, or invite-only with `"kind":"invite"`.
 */
import { CMD } from "../../protocol/commands.ts";
import { readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { JOIN_RESULT } from "../../services/group_admin.ts";
import { isValidId } from "../../services/ids.ts";
import type { RequestContext } from "../context.ts";

const REJECTED = statusPacket(CMD.JOIN_GROUP_RESP, STATUS.JOIN_GROUP_FAILED, { result: JOIN_RESULT.UNKNOWN });

export async function handleJoinGroup(ctx: RequestContext): Promise<void> {
  const groupId = readString(ctx.body, "groupId");
  const kind = ctx.body.kind ?? "open";
  if (!isValidId(groupId) || (kind !== "open" && kind !== "invite")) {
    ctx.reply(REJECTED);
    return;
  }
  const name = readString(ctx.body, "name");
  const notify = await ctx.services.groupAdmin.join(ctx.session, groupId, {
    name: name?.slice(0, 256),
    kind,
  });
  ctx.reply(notify);
}
