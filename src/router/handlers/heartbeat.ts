/** cmd 13 → 13: heartbeat reply; the body (JSON or J-IM's raw 0x80 byte) is not parsed. */
import { CMD } from "../../protocol/commands.ts";
import { dataPacket } from "../../protocol/packet.ts";
import type { RequestContext } from "../context.ts";

/** −128 = J-IM's HEARTBEAT_BYTE (0x80). */
const HEARTBEAT_REPLY = dataPacket(CMD.HEARTBEAT_REQ, { hbbyte: -128 });

export function handleHeartbeat(ctx: RequestContext): void {
  ctx.reply(HEARTBEAT_REPLY);
}
