/**
 * cmd 11 → 12: chat. `from` is always the session's user. The reply comes after the message is
 * durably stored: 10000 sent, 10001 receiver offline (stored for later), 10002 bad body.
 * Validation happens in order; the commit is deferred so a client may pipeline messages, and
 * the replies still come in request order (commits complete in the order they were made).
 * Sessions with extensions get `data: {createTime, duplicate?, id, seq}` in the reply.
 */
import { parseChatRequest } from "../../protocol/chat_body.ts";
import { CMD } from "../../protocol/commands.ts";
import { JsonBodyError } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { ReplyError } from "../../services/errors.ts";
import type { SendResult } from "../../services/messages.ts";
import type { RequestContext } from "../context.ts";

const SENT = statusPacket(CMD.CHAT_RESP, STATUS.OK_SEND);
const OFFLINE = statusPacket(CMD.CHAT_RESP, STATUS.OFFLINE);

export async function handleChat(ctx: RequestContext): Promise<void> {
  let req;
  try {
    req = parseChatRequest(ctx.body);
  } catch (err) {
    if (err instanceof JsonBodyError) throw new ReplyError(STATUS.SEND_FAILED, { detail: err.message });
    throw err;
  }
  const { messages } = ctx.services;
  const { extensions } = ctx.session;
  let prepared;
  try {
    prepared = await messages.prepare(ctx.session.userId!, req, { sender: ctx.session });
  } catch (err) {
    // A refusal names the message it refuses, so a pipelining client can match it.
    if (err instanceof ReplyError && extensions && req.id) {
      throw new ReplyError(err.status, { detail: err.message, extra: { data: { id: req.id } } });
    }
    throw err;
  }
  // Storing waits for the group commit; the connection's next requests need not wait for it.
  ctx.defer(messages.commit(prepared).then((result) => ackPacket(result, extensions)));
}

export function ackPacket(result: SendResult, extensions: boolean) {
  if (!extensions) return result.online ? SENT : OFFLINE;
  const { message } = result;
  return statusPacket(CMD.CHAT_RESP, result.online ? STATUS.OK_SEND : STATUS.OFFLINE, {
    data: {
      createTime: message.createTime,
      duplicate: result.duplicate || undefined,
      id: message.id,
      seq: message.seq,
    },
  });
}
