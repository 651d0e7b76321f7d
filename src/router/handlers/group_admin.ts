/**
 * cmd 36–48 (jim): group permissions (docs/protocol.md §10). Each command is answered with its
 * reply command, 10037 (cmd 47: 10038) and the action's `data`; the others concerned get the
 * same `data` in the reply command without `code` (see GroupAdminService).
 */
import { CMD } from "../../protocol/commands.ts";
import { JsonBodyError, type JsonObject, readInt, readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { isValidId } from "../../services/ids.ts";
import type { GroupRole } from "../../store/store.ts";
import type { RequestContext } from "../context.ts";

/** Longest mute: ten years (a ban is the permanent tool). */
export const MAX_MUTE_SECONDS = 10 * 365 * 24 * 3600;

function id(body: JsonObject, key: string): string {
  const v = readString(body, key);
  if (!isValidId(v)) throw new JsonBodyError(`${key} must be a valid id`);
  return v;
}

/** true/false, "true"/"false" or 1/0; `fallback` when absent. */
function flag(body: JsonObject, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (v === true || v === "true" || v === 1) return true;
  if (v === false || v === "false" || v === 0) return false;
  throw new JsonBodyError(`${key} must be true or false`);
}

const ok = (ctx: RequestContext, command: number, data: JsonObject) =>
  ctx.reply(statusPacket(command, STATUS.GROUP_OK, { data }));

/** `{"groupId","userId","cancel"?}`: invite (owner/admin), or revoke the pending invite. */
export async function handleGroupInvite(ctx: RequestContext): Promise<void> {
  const groupId = id(ctx.body, "groupId");
  const userId = id(ctx.body, "userId");
  const cancel = flag(ctx.body, "cancel", false);
  ok(ctx, CMD.GROUP_INVITE_RESP, await ctx.services.groupAdmin.invite(ctx.session, groupId, userId, cancel));
}

/** `{"groupId","userId"?}`: kick (owner/admin); without userId or with one's own: leave / decline. */
export async function handleGroupRemove(ctx: RequestContext): Promise<void> {
  const groupId = id(ctx.body, "groupId");
  const userId = ctx.body.userId === undefined ? ctx.session.userId! : id(ctx.body, "userId");
  ok(ctx, CMD.GROUP_REMOVE_RESP, await ctx.services.groupAdmin.remove(ctx.session, groupId, userId));
}

/** `{"groupId","userId","ban"?}`: ban (default) or unban (`"ban":false`); owner/admin. */
export async function handleGroupBan(ctx: RequestContext): Promise<void> {
  const groupId = id(ctx.body, "groupId");
  const userId = id(ctx.body, "userId");
  const ban = flag(ctx.body, "ban", true);
  ok(ctx, CMD.GROUP_BAN_RESP, await ctx.services.groupAdmin.ban(ctx.session, groupId, userId, ban));
}

/** `{"groupId","userId","seconds"}`: mute for that long, 0 unmutes; owner/admin. */
export async function handleGroupMute(ctx: RequestContext): Promise<void> {
  const groupId = id(ctx.body, "groupId");
  const userId = id(ctx.body, "userId");
  const seconds = readInt(ctx.body, "seconds");
  if (seconds === undefined || seconds < 0 || seconds > MAX_MUTE_SECONDS) {
    throw new JsonBodyError(`seconds must be 0–${MAX_MUTE_SECONDS}`);
  }
  ok(ctx, CMD.GROUP_MUTE_RESP, await ctx.services.groupAdmin.mute(ctx.session, groupId, userId, seconds));
}

const ROLES: readonly string[] = ["owner", "admin", "member"];

/** `{"groupId","userId","role"}`: the owner sets admin/member, or transfers ownership ("owner"). */
export async function handleGroupRole(ctx: RequestContext): Promise<void> {
  const groupId = id(ctx.body, "groupId");
  const userId = id(ctx.body, "userId");
  const role = readString(ctx.body, "role");
  if (role === undefined || !ROLES.includes(role)) {
    throw new JsonBodyError("role must be owner, admin or member");
  }
  ok(
    ctx,
    CMD.GROUP_ROLE_RESP,
    await ctx.services.groupAdmin.setRole(ctx.session, groupId, userId, role as GroupRole),
  );
}

/** `{"groupId"}`: the group's info; `{}`: the caller's pending invites. */
export async function handleGroupInfo(ctx: RequestContext): Promise<void> {
  const admin = ctx.services.groupAdmin;
  const me = ctx.session.userId!;
  const data = ctx.body.groupId === undefined
    ? await admin.pendingInvites(me)
    : await admin.info(me, id(ctx.body, "groupId"));
  ctx.reply(statusPacket(CMD.GROUP_INFO_RESP, STATUS.GROUP_INFO_OK, { data }));
}

/** `{"groupId"}`: the owner disbands the group. */
export async function handleGroupDisband(ctx: RequestContext): Promise<void> {
  const groupId = id(ctx.body, "groupId");
  ok(ctx, CMD.GROUP_DISBAND_RESP, await ctx.services.groupAdmin.disband(ctx.session, groupId));
}
