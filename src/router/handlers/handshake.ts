/** cmd 1 → 2: J-IM's handshake reply (the body is ignored). */
import { CMD } from "../../protocol/commands.ts";
import { dataPacket } from "../../protocol/packet.ts";
import type { RequestContext } from "../context.ts";

/** −127 = J-IM's HANDSHAKE_BYTE (0x81). */
const HANDSHAKE_REPLY = dataPacket(CMD.HANDSHAKE_RESP, { hbyte: -127 });

export function handleHandshake(ctx: RequestContext): void {
  ctx.reply(HANDSHAKE_REPLY);
}
