/**
 * Status codes with their exact wire texts. J-IM's (10000–10021, spec §3.2) are byte-exact;
 * jim's own start at 10022 and are documented in docs/protocol.md.
 * Wire `msg` = description + " " + text.
 */
const SEND_FAILED_TEXT =
  "消息发送失败,数据格式不正确,请参考:{'from':来源ID,'to':目标ID,'cmd':'消息命令码','createTime':消息创建时间(Long型),'msgType':Integer消息类型,'content':内容}";

export const STATUS = {
  OK_SEND: { code: 10000, msg: "ok 发送成功" },
  OFFLINE: { code: 10001, msg: "offline 用户不在线" },
  SEND_FAILED: { code: 10002, msg: "send failed " + SEND_FAILED_TEXT },
  GET_USER_OK: { code: 10003, msg: "ok 获取用户信息成功!" },
  GET_USER_FAILED: { code: 10004, msg: "get user failed ! 获取用户信息失败!" },
  GET_ONLINE_USERS_OK: { code: 10005, msg: "ok 获取所有在线用户信息成功!" },
  GET_OFFLINE_USERS_OK: { code: 10006, msg: "ok 获取所有离线用户信息成功!" },
  LOGIN_OK: { code: 10007, msg: "ok 登录成功!" },
  LOGIN_FAILED: { code: 10008, msg: "login failed ! 登录失败!" },
  AUTH_OK: { code: 10009, msg: "ok 鉴权成功!" },
  AUTH_FAILED: { code: 10010, msg: "auth failed! 鉴权失败!" },
  JOIN_GROUP_OK: { code: 10011, msg: "join group ok! 加入群组成功!" },
  JOIN_GROUP_FAILED: { code: 10012, msg: "join group failed! 加入群组失败!" },
  PROTOCOL_VERSION_ERROR: { code: 10013, msg: "Protocol version number does not match 协议版本号不匹配!" },
  UNSUPPORTED_CMD: { code: 10014, msg: "unsupported cmd command 不支持的cmd命令!" },
  GET_MESSAGE_FAILED: { code: 10015, msg: "get user message failed! 获取用户消息失败!" },
  GET_OFFLINE_MESSAGE_OK: { code: 10016, msg: "get user message ok! 获取离线消息成功!" },
  UNKNOWN_CMD: { code: 10017, msg: "cmd failed! 未知的cmd命令!" },
  GET_HISTORY_MESSAGE_OK: { code: 10018, msg: "get user message ok! 获取历史消息成功!" },
  ONLINE: { code: 10019, msg: "online 用户在线" },
  INVALID_VERIFY: { code: 10020, msg: "Invalid verification! 不合法校验" },
  CLOSE_OK: { code: 10021, msg: "close ok! 关闭成功" },

  // ---- jim's own statuses (above 10021) ----
  /** The command needs a logged-in session; the connection stays open. */
  NOT_LOGGED_IN: { code: 10022, msg: "not logged in 请先登录" },
  /** The body is not valid JSON or a field has the wrong type. */
  BAD_REQUEST: { code: 10023, msg: "bad request 请求格式不正确" },
  /** The session may not do this (another user's sessions, a group it is not a member of). */
  FORBIDDEN: { code: 10024, msg: "forbidden 没有权限" },
  /** The target user does not exist. */
  USER_NOT_FOUND: { code: 10025, msg: "user not found 用户不存在" },
  /** A request rate limit was hit (docs/protocol.md §8); the connection stays. */
  LIMIT_EXCEEDED: { code: 10026, msg: "limit exceeded 超出限制" },
  /** The server failed unexpectedly; the details are in the server log. */
  INTERNAL_ERROR: { code: 10027, msg: "internal error 服务器内部错误" },
  /** The server is busy (a bounded queue is full); retry later. */
  BUSY: { code: 10028, msg: "server busy 服务器繁忙" },
  /** A token was issued (cmd 22). */
  TOKEN_OK: { code: 10029, msg: "ok token issued" },
  /** The message was recalled (cmd 16). */
  RECALL_OK: { code: 10030, msg: "ok recalled 消息已撤回" },
  /** The recall window has passed (cmd 16). */
  RECALL_EXPIRED: { code: 10031, msg: "recall window expired 超过撤回时限" },
  /** No such message of the caller's (cmd 16). */
  MESSAGE_NOT_FOUND: { code: 10032, msg: "message not found 消息不存在" },
  /** Sync page (cmd 24). */
  SYNC_OK: { code: 10033, msg: "ok sync" },
  /** Conversation list (cmd 26). */
  CONVERSATIONS_OK: { code: 10034, msg: "ok conversations" },
  /** Read position saved (cmd 28) or read counts (cmd 31). */
  READ_OK: { code: 10035, msg: "ok read" },
  /** Search results (cmd 35). */
  SEARCH_OK: { code: 10036, msg: "ok search" },

  // ---- group permissions (cmd 36–49, docs/protocol.md §10) ----
  /** A group change was made (invite, remove, ban, mute, role, disband replies). */
  GROUP_OK: { code: 10037, msg: "ok group updated 群组操作成功" },
  /** Group info or the caller's pending invites (cmd 47). */
  GROUP_INFO_OK: { code: 10038, msg: "ok group info 获取群组信息成功" },
  /** No group with this id. */
  GROUP_NOT_FOUND: { code: 10039, msg: "group not found 群组不存在" },
  /** The sender is muted in the group until `data.mutedUntil` (cmd 12). */
  GROUP_MUTED: { code: 10040, msg: "muted in group 你已被禁言" },
  /** The user is banned from the group (cannot be invited). */
  GROUP_BANNED: { code: 10041, msg: "banned from group 已被该群封禁" },
  /** The owner cannot leave: transfer ownership (cmd 44) or disband (cmd 48) first. */
  GROUP_OWNER_CANNOT_LEAVE: { code: 10042, msg: "owner cannot leave 群主需先转让或解散群组" },
  /** The target user is not a member of the group. */
  NOT_GROUP_MEMBER: { code: 10043, msg: "not a group member 该用户不是群成员" },
  /** The invited user is already a member. */
  ALREADY_GROUP_MEMBER: { code: 10044, msg: "already a group member 已是群成员" },

  // ---- limits (docs/protocol.md §8) ----
  /** cmd 6: the user already has --max-sessions-per-user connections logged in; the connection closes. */
  TOO_MANY_SESSIONS: { code: 10050, msg: "too many sessions 登录连接数超出限制" },
} as const;

export type Status = typeof STATUS[keyof typeof STATUS];
