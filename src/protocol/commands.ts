/** J-IM command codes (spec §4) plus jim's own commands (codes above 20). */
export const CMD = {
  UNKNOWN: 0,
  HANDSHAKE_REQ: 1,
  HANDSHAKE_RESP: 2,
  AUTH_REQ: 3,
  AUTH_RESP: 4,
  LOGIN_REQ: 5,
  LOGIN_RESP: 6,
  JOIN_GROUP_REQ: 7,
  JOIN_GROUP_RESP: 8,
  JOIN_GROUP_NOTIFY: 9,
  EXIT_GROUP_NOTIFY: 10,
  CHAT_REQ: 11,
  CHAT_RESP: 12,
  HEARTBEAT_REQ: 13,
  CLOSE_REQ: 14,
  CANCEL_MSG_REQ: 15,
  CANCEL_MSG_RESP: 16,
  GET_USER_REQ: 17,
  GET_USER_RESP: 18,
  GET_MESSAGE_REQ: 19,
  GET_MESSAGE_RESP: 20,
  // jim extensions (docs/protocol.md §9)
  TOKEN_REQ: 21,
  TOKEN_RESP: 22,
  SYNC_REQ: 23,
  SYNC_RESP: 24,
  CONVERSATIONS_REQ: 25,
  CONVERSATIONS_RESP: 26,
  READ_REQ: 27,
  READ_RESP: 28,
  READ_NOTIFY: 29,
  READ_COUNT_REQ: 30,
  READ_COUNT_RESP: 31,
  TYPING_REQ: 32,
  TYPING_NOTIFY: 33,
  SEARCH_REQ: 34,
  SEARCH_RESP: 35,
} as const;

export type CommandCode = typeof CMD[keyof typeof CMD];

/** Request command → the command of its reply (J-IM's pairs; heartbeat and close answer in kind). */
const REPLY_COMMAND: ReadonlyMap<number, number> = new Map([
  [CMD.HANDSHAKE_REQ, CMD.HANDSHAKE_RESP],
  [CMD.AUTH_REQ, CMD.AUTH_RESP],
  [CMD.LOGIN_REQ, CMD.LOGIN_RESP],
  [CMD.JOIN_GROUP_REQ, CMD.JOIN_GROUP_RESP],
  [CMD.CHAT_REQ, CMD.CHAT_RESP],
  [CMD.HEARTBEAT_REQ, CMD.HEARTBEAT_REQ],
  [CMD.CLOSE_REQ, CMD.CLOSE_REQ],
  [CMD.CANCEL_MSG_REQ, CMD.CANCEL_MSG_RESP],
  [CMD.GET_USER_REQ, CMD.GET_USER_RESP],
  [CMD.GET_MESSAGE_REQ, CMD.GET_MESSAGE_RESP],
  [CMD.TOKEN_REQ, CMD.TOKEN_RESP],
  [CMD.SYNC_REQ, CMD.SYNC_RESP],
  [CMD.CONVERSATIONS_REQ, CMD.CONVERSATIONS_RESP],
  [CMD.READ_REQ, CMD.READ_RESP],
  [CMD.READ_COUNT_REQ, CMD.READ_COUNT_RESP],
  [CMD.TYPING_REQ, CMD.TYPING_NOTIFY],
  [CMD.SEARCH_REQ, CMD.SEARCH_RESP],
]);

/** The reply command for a request command; used for error replies. 0 when there is none. */
export function replyCommandOf(cmd: number): number {
  return REPLY_COMMAND.get(cmd) ?? CMD.UNKNOWN;
}
