/**
 * cmd 19 → 20: offline messages (type 0, consumed) and history (type 1), as J-IM's
 * `{friends:{peer:[…]}, groups:{gid:[…]}, userId}` in ascending time order. A user reads only
 * their own conversations: `userId` must be the caller, group reads need membership.
 */
import { chatBodyOf } from "../../protocol/chat_body.ts";
import { CMD } from "../../protocol/commands.ts";
import { type JsonObject, readInt, readNumber, readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { ReplyError } from "../../services/errors.ts";
import type { StoredMessage, TimeRangeQuery } from "../../store/store.ts";
import type { RequestContext } from "../context.ts";

/** Most history messages in one reply (page with offset/count for more). */
export const MAX_HISTORY_PAGE = 1000;

const FAILED = () => new ReplyError(STATUS.GET_MESSAGE_FAILED);

export async function handleGetMessage(ctx: RequestContext): Promise<void> {
  const { body, services } = ctx;
  const me = ctx.session.userId!;
  const ext = ctx.session.extensions;
  let type, beginTime, endTime, offset, count;
  try {
    type = readInt(body, "type");
    beginTime = readNumber(body, "beginTime");
    endTime = readNumber(body, "endTime");
    offset = readInt(body, "offset");
    count = readInt(body, "count");
  } catch {
    throw FAILED();
  }
  const userId = readString(body, "userId");
  const groupId = readString(body, "groupId");
  const fromUserId = readString(body, "fromUserId");
  if (!userId || (type !== 0 && type !== 1)) throw FAILED();
  if (userId !== me) throw new ReplyError(STATUS.FORBIDDEN, { detail: "userId must be the logged-in user" });
  if (groupId && !await services.groups.isMember(groupId, me)) {
    throw new ReplyError(STATUS.FORBIDDEN, { detail: `not a member of group ${groupId}` });
  }
  const paged = offset !== undefined && count !== undefined;
  if (paged && (offset! < 0 || count! < 0)) throw FAILED();
  // Keyed by ids users choose: no prototype, so "constructor" or "__proto__" are plain keys.
  const friends: Record<string, JsonObject[]> = Object.create(null);
  const groups: Record<string, JsonObject[]> = Object.create(null);

  if (type === 0) {
    const limit = Math.min(paged ? count! : Infinity, services.options.maxOfflineBatch);
    const filter = groupId ? { groupId } : fromUserId ? { fromUserId } : {};
    const messages = await services.messages.takeOffline(me, filter, limit);
    if (groupId) groups[groupId] = [];
    else if (fromUserId) friends[fromUserId] = [];
    for (const m of messages) {
      if (m.chatType === 1) (groups[m.groupId!] ??= []).push(chatBodyOf(m, ext));
      else (friends[m.from] ??= []).push(chatBodyOf(m, ext));
    }
  } else {
    if (!groupId && !fromUserId) throw FAILED();
    const query: TimeRangeQuery = {
      offset: paged ? offset! : 0,
      limit: Math.min(paged ? count! : MAX_HISTORY_PAGE, MAX_HISTORY_PAGE),
    };
    if (beginTime !== undefined && endTime !== undefined) {
      query.beginTime = beginTime;
      query.endTime = endTime;
    }
    let messages: StoredMessage[];
    if (groupId) {
      messages = await services.messages.history({ kind: "group", groupId }, query);
      groups[groupId] = messages.map((m) => chatBodyOf(m, ext));
    } else {
      messages = await services.messages.history({ kind: "private", userA: me, userB: fromUserId! }, query);
      friends[fromUserId!] = messages.map((m) => chatBodyOf(m, ext));
    }
  }
  const status = type === 0 ? STATUS.GET_OFFLINE_MESSAGE_OK : STATUS.GET_HISTORY_MESSAGE_OK;
  ctx.reply(statusPacket(CMD.GET_MESSAGE_RESP, status, { data: { friends, groups, userId: me } }));
}
