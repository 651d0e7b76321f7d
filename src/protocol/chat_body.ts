/**
 * J-IM ChatBody (spec §5.5): parsing a cmd 11 request and rendering a stored message the way
 * J-IM delivers it (cmd 11 wrapper, cmd 20 lists).
 */
import type { NewMessage, StoredMessage } from "../store/store.ts";
import { CMD } from "./commands.ts";
import { JsonBodyError, type JsonObject, readInt, readObject, readString } from "./json.ts";
import { dataPacket, type PacketChoice } from "./packet.ts";

export const CHAT_TYPE = { UNKNOWN: 0, GROUP: 1, PRIVATE: 2 } as const;

/** A validated chat request; `from` is not part of it: the server decides who sends. */
export interface ChatRequest {
  chatType: 1 | 2;
  to?: string;
  groupId?: string;
  msgType?: number;
  content?: string;
  id?: string;
  createTime?: number;
  extras?: JsonObject;
}

/** Longest client-supplied message id kept (longer ids are rejected). */
export const MAX_MESSAGE_ID_LENGTH = 128;

/**
 * Parses a ChatBody. Throws JsonBodyError when a field has the wrong type or the body does not
 * say where the message goes; the caller answers with 10002 (J-IM's "send failed").
 */
export function parseChatRequest(body: JsonObject): ChatRequest {
  const chatType = readInt(body, "chatType");
  if (chatType !== CHAT_TYPE.GROUP && chatType !== CHAT_TYPE.PRIVATE) {
    throw new JsonBodyError("chatType must be 1 (group) or 2 (private)");
  }
  const req: ChatRequest = { chatType };
  if (chatType === CHAT_TYPE.PRIVATE) {
    req.to = readString(body, "to");
    if (!req.to) throw new JsonBodyError('a private chat needs "to"');
  } else {
    req.groupId = readString(body, "groupId");
    if (!req.groupId) throw new JsonBodyError('a group chat needs "groupId"');
  }
  req.msgType = readInt(body, "msgType");
  const content = body.content;
  if (content !== undefined && content !== null) {
    // fastjson turns non-string values of a String field into their JSON text.
    req.content = typeof content === "string" ? content : JSON.stringify(content);
  }
  const id = readString(body, "id");
  if (id !== undefined) {
    if (id.length > MAX_MESSAGE_ID_LENGTH) throw new JsonBodyError("id is too long");
    req.id = id;
  }
  req.createTime = readInt(body, "createTime");
  req.extras = readObject(body, "extras");
  if (req.extras && nestingDepth(req.extras, MAX_EXTRAS_DEPTH) > MAX_EXTRAS_DEPTH) {
    throw new JsonBodyError(`extras nest deeper than ${MAX_EXTRAS_DEPTH} levels`);
  }
  return req;
}

/** Deepest nesting accepted in `extras`: every later encode of the message must stay cheap. */
export const MAX_EXTRAS_DEPTH = 32;

/** Nesting depth of a JSON value, counting no further than `limit + 1`. */
function nestingDepth(value: unknown, limit: number): number {
  if (value === null || typeof value !== "object") return 0;
  if (limit < 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value as object)) {
    deepest = Math.max(deepest, nestingDepth(child, limit - 1));
    if (deepest > limit) break;
  }
  return deepest + 1;
}

/**
 * The ChatBody J-IM puts in a cmd 11 delivery and in cmd 20 lists (keys sorted on output).
 * `withSeq` adds jim's `seq` (sessions that asked for extensions); a recalled message carries
 * `recalled: true` and no content.
 */
export function chatBodyOf(message: StoredMessage | NewMessage, withSeq = false): JsonObject {
  const stored = message as Partial<StoredMessage>;
  return {
    chatType: message.chatType,
    cmd: 11,
    content: message.content,
    createTime: message.createTime,
    extras: message.extras,
    from: message.from,
    groupId: message.groupId,
    id: message.id,
    msgType: message.msgType,
    recalled: stored.recalled || undefined,
    seq: withSeq ? stored.seq : undefined,
    to: message.to,
  };
}

/** The cmd 11 delivery of a stored message, as J-IM sends it and with jim's `seq`. */
export function chatPackets(message: StoredMessage): PacketChoice {
  return {
    plain: dataPacket(CMD.CHAT_REQ, chatBodyOf(message)),
    extended: dataPacket(CMD.CHAT_REQ, chatBodyOf(message, true)),
  };
}
