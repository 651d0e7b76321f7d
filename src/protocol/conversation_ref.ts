/**
 * How jim's own commands name a conversation: `{"groupId":"g"}` for a group, `{"peer":"u2"}`
 * (or J-IM's `to` / `fromUserId`) for the private conversation with another user.
 */
import { JsonBodyError, type JsonObject, readString } from "./json.ts";

export type ConversationRef =
  | { chatType: 1; groupId: string }
  | { chatType: 2; peer: string };

export function parseConversationRef(body: JsonObject): ConversationRef {
  const groupId = readString(body, "groupId");
  const peer = readString(body, "peer") ?? readString(body, "to") ?? readString(body, "fromUserId");
  if (groupId && peer) throw new JsonBodyError("give either groupId or peer, not both");
  if (groupId) return { chatType: 1, groupId };
  if (peer) return { chatType: 2, peer };
  throw new JsonBodyError("a conversation needs groupId or peer");
}

/** The ref's fields as they appear in replies and notifies. */
export function refFields(ref: ConversationRef): JsonObject {
  return ref.chatType === 1 ? { chatType: 1, groupId: ref.groupId } : { chatType: 2, peer: ref.peer };
}
