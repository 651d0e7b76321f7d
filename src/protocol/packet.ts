/**
 * Outgoing packets: a command code and a JSON body, encoded once (alphabetical keys, no nulls)
 * and shared by every receiver, whatever its transport.
 */
import { encodeJson, type JsonObject } from "./json.ts";
import type { Status } from "./status.ts";

export class OutPacket {
  readonly command: number;
  readonly body: JsonObject;
  #bytes: Uint8Array | undefined;

  constructor(command: number, body: JsonObject) {
    this.command = command;
    this.body = body;
  }

  /** The UTF-8 JSON body, encoded on first use and cached. */
  get bytes(): Uint8Array {
    return this.#bytes ??= encodeJson(this.body);
  }
}

/** A J-IM RespBody: `{code, command, msg}` plus any extra top-level fields (`data`, `token`…). */
export function statusPacket(command: number, status: Status, extra?: JsonObject): OutPacket {
  return new OutPacket(command, { ...extra, code: status.code, command, msg: status.msg });
}

/** A RespBody without a status (deliveries, heartbeat, handshake, exit notify). */
export function dataPacket(command: number, data: unknown): OutPacket {
  return new OutPacket(command, { command, data });
}

/**
 * A packet in two forms: `plain` exactly as J-IM sends it, `extended` with jim's optional
 * fields (seq…) for sessions that asked for extensions at login. Both are encoded lazily.
 */
export interface PacketChoice {
  plain: OutPacket;
  extended: OutPacket;
}

export function pick(packet: OutPacket | PacketChoice, extensions: boolean): OutPacket {
  return packet instanceof OutPacket ? packet : extensions ? packet.extended : packet.plain;
}
