/**
 * cmd 17 → 18: a user and their groups' members filtered by status (type 0 online, 1 offline,
 * 2 all; default 0 when absent). The caller's own record lists their groups with members, which
 * the J-IM web demo renders as its online list; another user's record is the public profile only.
 */
import { CMD } from "../../protocol/commands.ts";
import { type JsonObject, readInt, readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS, type Status } from "../../protocol/status.ts";
import { ReplyError } from "../../services/errors.ts";
import type { Session } from "../../services/session.ts";
import type { RequestContext, Services } from "../context.ts";

/** Most members listed per group in one reply. */
export const MAX_LISTED_MEMBERS = 1000;

const TYPE_STATUS: Record<number, Status> = {
  0: STATUS.GET_ONLINE_USERS_OK,
  1: STATUS.GET_OFFLINE_USERS_OK,
  2: STATUS.GET_USER_OK,
};

export async function handleGetUser(ctx: RequestContext): Promise<void> {
  const userId = readString(ctx.body, "userId");
  let type: number | undefined;
  try {
    type = readInt(ctx.body, "type") ?? 0;
  } catch {
    type = undefined;
  }
  if (!userId || type === undefined || !(type in TYPE_STATUS)) {
    throw new ReplyError(STATUS.GET_USER_FAILED, { detail: "userId and a type of 0, 1 or 2 are required" });
  }
  const data = userId === ctx.session.userId
    ? await ownUser(ctx.services, ctx.session, type)
    : await publicUser(ctx.services, userId, type);
  ctx.reply(statusPacket(CMD.GET_USER_RESP, TYPE_STATUS[type], { data }));
}

function wanted(type: number, online: boolean): boolean {
  return type === 2 || (type === 0) === online;
}

/** Online on any node (`--workers`): the profile of one of the user's sessions. */
function onlineEntry(services: Services, userId: string): JsonObject | undefined {
  const profile = services.registry.onlineProfile(userId);
  if (!profile) return undefined;
  return {
    avatar: profile.avatar || undefined,
    nick: profile.nick,
    status: "online",
    terminal: profile.protocol,
    userId,
  };
}

async function ownUser(services: Services, session: Session, type: number): Promise<JsonObject> {
  const me = session.user!;
  const groups: JsonObject[] = [];
  for (const group of await services.groups.userGroups(me.userId)) {
    const users: JsonObject[] = [];
    for (const memberId of await services.groups.members(group.groupId)) {
      if (users.length >= MAX_LISTED_MEMBERS) break;
      const entry = await memberEntry(services, memberId);
      if (entry && wanted(type, entry.status === "online")) users.push(entry);
    }
    groups.push({ avatar: group.avatar || undefined, groupId: group.groupId, name: group.name, users });
  }
  return {
    avatar: me.avatar || undefined,
    friends: [],
    groups,
    nick: me.nick,
    status: "online",
    terminal: session.protocol,
    userId: me.userId,
  };
}

async function memberEntry(services: Services, userId: string): Promise<JsonObject | undefined> {
  const online = onlineEntry(services, userId);
  if (online) return online;
  const user = await services.auth.getUser(userId);
  if (!user) return undefined;
  return { avatar: user.avatar || undefined, nick: user.nick, status: "offline", userId };
}

async function publicUser(services: Services, userId: string, type: number): Promise<JsonObject | undefined> {
  const entry = await memberEntry(services, userId);
  if (!entry) throw new ReplyError(STATUS.GET_USER_FAILED, { detail: "no such user" });
  return wanted(type, entry.status === "online") ? entry : undefined;
}
