/**
 * Pushes packets to live sessions. Single-process today; the cluster bus (a later issue) plugs
 * in here so that users on other nodes are reached the same way.
 */
import type { OutPacket, PacketChoice } from "../protocol/packet.ts";
import type { Session } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";

export class Delivery {
  readonly #registry: SessionRegistry;

  constructor(registry: SessionRegistry) {
    this.#registry = registry;
  }

  /** To every session of the user (except `skip`); returns how many sessions got it. */
  toUser(userId: string, packet: OutPacket | PacketChoice, skip?: Session): number {
    let n = 0;
    for (const s of this.#registry.sessionsOf(userId)) {
      if (s !== skip && s.send(packet)) n++;
    }
    return n;
  }

  /** To every session bound to the group (except `skip`). */
  toGroup(groupId: string, packet: OutPacket | PacketChoice, skip?: Session): number {
    let n = 0;
    for (const s of this.#registry.sessionsInGroup(groupId)) {
      if (s !== skip && s.send(packet)) n++;
    }
    return n;
  }
}
