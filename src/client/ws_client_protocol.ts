/**
 * The wire side of ws_client.ts: command codes, the shapes of jim's replies and notices as the
 * client hands them out, conversation keys, and the small converters between JSON and them.
 * Standard APIs only (browsers and Deno).
 */

/** The command codes (docs/protocol.md §6, §9): the server's own table, so they cannot drift. */
export { CMD } from "../protocol/commands.ts";
import { CMD } from "../protocol/commands.ts";

/** A conversation: a group, or the private conversation with `peer`. */
export type ConvRef = { groupId: string; peer?: undefined } | { peer: string; groupId?: undefined };

/** A message as jim delivers it (J-IM's ChatBody plus `seq`; recalled messages have no content). */
export interface ChatMessage {
  id: string;
  chatType: 1 | 2;
  from: string;
  to?: string;
  groupId?: string;
  content?: string;
  msgType?: number;
  createTime: number;
  seq?: number;
  recalled?: boolean;
  extras?: Record<string, unknown>;
}

export interface ChatAck {
  id: string;
  seq: number;
  createTime: number;
  /** false: the (private) receiver was offline; the message is stored for them. */
  online: boolean;
  /** The server already had this id: the original ack. */
  duplicate: boolean;
}

export interface SyncPage {
  chatType: 1 | 2;
  peer?: string;
  groupId?: string;
  hasMore: boolean;
  lastSeq: number;
  messages: ChatMessage[];
}

export interface ConversationInfo {
  chatType: 1 | 2;
  peer?: string;
  groupId?: string;
  lastSeq: number;
  readSeq: number;
  unread: number;
  lastMessage?: ChatMessage;
}

export interface RecallNotice {
  chatType: 1 | 2;
  from: string;
  to?: string;
  groupId?: string;
  id: string;
  recalled: true;
  seq: number;
}

/** cmd 29: `from` has read the conversation up to `readSeq`. */
export interface ReadNotice {
  chatType: 1 | 2;
  from: string;
  to?: string;
  groupId?: string;
  readSeq: number;
}

export interface TypingNotice {
  chatType: 1 | 2;
  from: string;
  to?: string;
  groupId?: string;
  typing: boolean;
}

export interface GroupUser {
  userId: string;
  nick?: string;
  status?: string;
  terminal?: string;
  avatar?: string;
}

/** cmd 9 (joined / came online) and cmd 10 (last session left). */
export interface GroupNotice {
  group: string;
  user: GroupUser;
}

export interface UserInfo extends GroupUser {
  groups?: { groupId: string; name?: string; users: GroupUser[] }[];
}

export interface TokenInfo {
  token: string;
  expiresAt: number;
  userId: string;
}

/** A refusal from the server (`code` and `msg` of the reply) or a connection problem (no code). */
export class JimError extends Error {
  readonly code: number | undefined;
  readonly command: number | undefined;
  constructor(message: string, code?: number, command?: number) {
    super(message);
    this.name = "JimError";
    this.code = code;
    this.command = command;
  }
}

/** How a client logs in: a password or a token (cmd 5 or the WebSocket URL's query). */
export type Credentials = { userId: string; password: string } | { token: string; userId?: string };

/** `ws://host/?username=…&password=…&extensions=1` (or `?token=…`) from a base URL. */
export function loginUrl(base: string, credentials: Credentials): string {
  const url = new URL(base);
  if ("password" in credentials) {
    url.searchParams.set("username", credentials.userId);
    url.searchParams.set("password", credentials.password);
  } else {
    url.searchParams.set("token", credentials.token);
  }
  url.searchParams.set("extensions", "1");
  return url.toString();
}

/** `"p:<peer>"` or `"g:<groupId>"`. */
export function convKey(ref: ConvRef): string {
  return ref.groupId !== undefined ? `g:${ref.groupId}` : `p:${ref.peer}`;
}

export function refOfKey(key: string): ConvRef {
  const id = key.slice(2);
  return key.startsWith("g:") ? { groupId: id } : { peer: id };
}

/** The conversation a message belongs to, seen by `me`. */
export function messageConvKey(
  me: string,
  m: { chatType: number; from: string; to?: string; groupId?: string },
) {
  if (m.chatType === 1) return `g:${m.groupId ?? ""}`;
  return `p:${m.from === me ? (m.to ?? me) : m.from}`;
}

/** A message id as J-IM servers generate them: 32 lowercase hex characters. */
export function newMessageId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Success codes of each reply command; any other code rejects. */
export const OK_CODES: Record<number, readonly number[]> = {
  [CMD.CANCEL_MSG_RESP]: [10030],
  [CMD.GET_USER_RESP]: [10003, 10005, 10006],
  [CMD.TOKEN_RESP]: [10029],
  [CMD.SYNC_RESP]: [10033],
  [CMD.CONVERSATIONS_RESP]: [10034],
  [CMD.READ_RESP]: [10035],
  [CMD.READ_COUNT_RESP]: [10035],
  [CMD.SEARCH_RESP]: [10036],
};

export type Json = Record<string, unknown>;

export function withExtensions(url: string): string {
  const u = new URL(url);
  const q = u.searchParams;
  if ((q.has("username") || q.has("userId") || q.has("token")) && !q.has("extensions")) {
    q.set("extensions", "1");
  }
  return u.toString();
}

export function refBody(ref: ConvRef): Json {
  return ref.groupId !== undefined ? { groupId: ref.groupId } : { peer: ref.peer };
}

export function replyError(body: Json): JimError {
  const code = body.code === undefined ? undefined : Number(body.code);
  return new JimError(String(body.msg ?? `refused (${code})`), code, Number(body.command));
}

export function toMessage(b: Json): ChatMessage {
  return {
    id: String(b.id ?? ""),
    chatType: Number(b.chatType) === 1 ? 1 : 2,
    from: String(b.from ?? ""),
    to: b.to === undefined ? undefined : String(b.to),
    groupId: b.groupId === undefined ? undefined : String(b.groupId),
    content: typeof b.content === "string" ? b.content : undefined,
    msgType: b.msgType === undefined ? undefined : Number(b.msgType),
    createTime: Number(b.createTime ?? 0),
    seq: b.seq === undefined ? undefined : Number(b.seq),
    recalled: b.recalled === true ? true : undefined,
    extras: b.extras as Record<string, unknown> | undefined,
  };
}
