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
  // jim extensions
  TOKEN_REQ: 21,
  TOKEN_RESP: 22,
} as const;

export type CommandCode = typeof CMD[keyof typeof CMD];

/** The reply command for a request command; used for error replies. 0 when there is none. */
export function replyCommandOf(cmd: number): number {
  switch (cmd) {
    case CMD.HANDSHAKE_REQ:
      return CMD.HANDSHAKE_RESP;
    case CMD.AUTH_REQ:
      return CMD.AUTH_RESP;
    case CMD.LOGIN_REQ:
      return CMD.LOGIN_RESP;
    case CMD.JOIN_GROUP_REQ:
      return CMD.JOIN_GROUP_RESP;
    case CMD.CHAT_REQ:
      return CMD.CHAT_RESP;
    case CMD.HEARTBEAT_REQ:
      return CMD.HEARTBEAT_REQ;
    case CMD.CLOSE_REQ:
      return CMD.CLOSE_REQ;
    case CMD.CANCEL_MSG_REQ:
      return CMD.CANCEL_MSG_RESP;
    case CMD.GET_USER_REQ:
      return CMD.GET_USER_RESP;
    case CMD.GET_MESSAGE_REQ:
      return CMD.GET_MESSAGE_RESP;
    case CMD.TOKEN_REQ:
      return CMD.TOKEN_RESP;
    default:
      return CMD.UNKNOWN;
  }
}
