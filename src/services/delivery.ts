/**
 * Pushes packets to live sessions: this node's directly, and, with several nodes (`--workers`),
 * through the registry's `remote` to the nodes where some receiver is (only those: a message
 * whose receivers are all here never leaves this node).
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
    const remote = this.#registry.remote;
    return remote ? n + remote.toUser(userId, packet) : n;
  }

  /** To every session bound to the group (except `skip`). */
  toGroup(groupId: string, packet: OutPacket | PacketChoice, skip?: Session): number {
    let n = 0;
    for (const s of this.#registry.sessionsInGroup(groupId)) {
      if (s !== skip && s.send(packet)) n++;
    }
    const remote = this.#registry.remote;
    return remote ? n + remote.toGroup(groupId, packet) : n;
  }

  /** To the sessions bound to the group and the sessions of `userId`, each once, except `skip`. */
  toGroupAndUser(groupId: string, userId: string | undefined, packet: OutPacket, skip?: Session): void {
    const to = new Set(this.#registry.sessionsInGroup(groupId));
    if (userId !== undefined) { for (const s of this.#registry.sessionsOf(userId)) to.add(s); }
    to.delete(skip!);
    for (const s of to) s.send(packet);
    this.#registry.remote?.toGroupAndUser(groupId, userId, packet);
  }

  /**
   * Ends every session of the user on every node (`kick`: an operator did it, WebSocket clients
   * get KICKED_CLOSE_CODE), after sending them `packet` when given; `skip` is left alone.
   * Returns how many sessions were asked to close.
   */
  closeUser(
    userId: string,
    reason: string,
    options: { kick: boolean; packet?: OutPacket; skip?: Session },
  ): number {
    let n = 0;
    for (const s of [...this.#registry.sessionsOf(userId)]) {
      if (s === options.skip) continue;
      if (options.packet) s.send(options.packet);
      if (options.kick) s.kick(reason);
      else s.close(reason);
      n++;
    }
    const remote = this.#registry.remote;
    return remote ? n + remote.closeUser(userId, reason, options) : n;
  }
}
