/** The command table: which handler serves each command, and whether it needs a login. */
import { CMD } from "../protocol/commands.ts";
import type { Route } from "./context.ts";
import { handleAuth } from "./handlers/auth.ts";
import { handleChat } from "./handlers/chat.ts";
import { handleClose } from "./handlers/close.ts";
import { handleGetMessage } from "./handlers/get_message.ts";
import { handleGetUser } from "./handlers/get_user.ts";
import { handleHandshake } from "./handlers/handshake.ts";
import { handleHeartbeat } from "./handlers/heartbeat.ts";
import { handleJoinGroup } from "./handlers/join_group.ts";
import { handleLogin } from "./handlers/login.ts";
import { handleToken } from "./handlers/token.ts";
import { handleRecall } from "./handlers/recall.ts";
import { handleSync } from "./handlers/sync.ts";
import { handleConversations } from "./handlers/conversations.ts";
import { handleRead, handleReadCount } from "./handlers/read.ts";
import { handleTyping } from "./handlers/typing.ts";
import { handleSearch } from "./handlers/search.ts";
import {
  handleGroupBan,
  handleGroupDisband,
  handleGroupInfo,
  handleGroupInvite,
  handleGroupMute,
  handleGroupRemove,
  handleGroupRole,
} from "./handlers/group_admin.ts";

export const ROUTES: ReadonlyMap<number, Route> = new Map<number, Route>([
  [CMD.HANDSHAKE_REQ, { handler: handleHandshake, requiresLogin: false, rawBody: true }],
  [CMD.AUTH_REQ, { handler: handleAuth, requiresLogin: false }],
  [CMD.LOGIN_REQ, { handler: handleLogin, requiresLogin: false }],
  [CMD.JOIN_GROUP_REQ, { handler: handleJoinGroup, requiresLogin: true }],
  [CMD.CHAT_REQ, { handler: handleChat, requiresLogin: true }],
  [CMD.HEARTBEAT_REQ, { handler: handleHeartbeat, requiresLogin: false, rawBody: true }],
  [CMD.CLOSE_REQ, { handler: handleClose, requiresLogin: false }],
  [CMD.GET_USER_REQ, { handler: handleGetUser, requiresLogin: true }],
  [CMD.GET_MESSAGE_REQ, { handler: handleGetMessage, requiresLogin: true }],
  [CMD.CANCEL_MSG_REQ, { handler: handleRecall, requiresLogin: true }],
  [CMD.TOKEN_REQ, { handler: handleToken, requiresLogin: true }],
  [CMD.SYNC_REQ, { handler: handleSync, requiresLogin: true }],
  [CMD.CONVERSATIONS_REQ, { handler: handleConversations, requiresLogin: true }],
  [CMD.READ_REQ, { handler: handleRead, requiresLogin: true }],
  [CMD.READ_COUNT_REQ, { handler: handleReadCount, requiresLogin: true }],
  [CMD.TYPING_REQ, { handler: handleTyping, requiresLogin: true }],
  [CMD.SEARCH_REQ, { handler: handleSearch, requiresLogin: true }],
  [CMD.GROUP_INVITE_REQ, { handler: handleGroupInvite, requiresLogin: true }],
  [CMD.GROUP_REMOVE_REQ, { handler: handleGroupRemove, requiresLogin: true }],
  [CMD.GROUP_BAN_REQ, { handler: handleGroupBan, requiresLogin: true }],
  [CMD.GROUP_MUTE_REQ, { handler: handleGroupMute, requiresLogin: true }],
  [CMD.GROUP_ROLE_REQ, { handler: handleGroupRole, requiresLogin: true }],
  [CMD.GROUP_INFO_REQ, { handler: handleGroupInfo, requiresLogin: true }],
  [CMD.GROUP_DISBAND_REQ, { handler: handleGroupDisband, requiresLogin: true }],
]);
