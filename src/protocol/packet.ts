/**
 * Outgoing packets: a command code and a JSON body, encoded once (alphabetical keys, no nulls)
 * and shared by every receiver, whatever its transport. The framed bytes are shared too: a group
 * fan-out allocates one TCP frame and one WebSocket frame, not one per receiver, and the outboxes
 * of slow receivers hold references to them rather than copies.
 */
import { encodeTcpFrame } from "./frame.ts";
import { encodeJson, type JsonObject } from "./json.ts";
import { encodeWsText } from "./ws_frame.ts";
import type { Status } from "./status.ts";

export class OutPacket {
  readonly command: number;
  #body: JsonObject | undefined;
  #bytes: Uint8Array | undefined;
  #tcpFrame: Uint8Array | undefined;
  #wsFrame: Uint8Array | undefined;

  constructor(command: number, body: JsonObject) {
    this.command = command;
    this.#body = body;
  }

  /**
   * A packet whose body is already encoded (`json` is what `bytes` holds, e.g. a packet another
   * worker built and shipped over the cluster bus): it is not encoded again.
   */
  static fromJson(command: number, json: string): OutPacket {
    const packet = new OutPacket(command, undefined as unknown as JsonObject);
    packet.#bytes = new TextEncoder().encode(json);
    return packet;
  }

  get body(): JsonObject {
    return this.#body ??= JSON.parse(new TextDecoder().decode(this.#bytes));
  }

  /** The UTF-8 JSON body, encoded on first use and cached. */
  get bytes(): Uint8Array {
    return this.#bytes ??= encodeJson(this.body);
  }

  /** The J-IM TCP frame without synSeq, encoded on first use and cached (never modify it). */
  get tcpFrame(): Uint8Array {
    return this.#tcpFrame ??= encodeTcpFrame(this.command, this.bytes);
  }

  /** The (unmasked) WebSocket text frame, encoded on first use and cached (never modify it). */
  get wsFrame(): Uint8Array {
    return this.#wsFrame ??= encodeWsText(this.bytes);
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
