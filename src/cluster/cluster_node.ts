/**
 * One node of a cluster: implements the services' RemoteNodes over a ClusterBus. It tells the
 * other nodes what changes here (presence, group changes) and hands them packets to push, only
 * to the nodes where a receiver is; it applies what they tell it to this node's registry,
 * groups and sessions. Messages are plain JSON (bus.ts): packets travel as their encoded JSON
 * text, both forms of a PacketChoice, and are rebuilt here without being encoded again.
 *
 *   hello                                   a node starts: the others drop what they knew of it
 *                                           and answer with their current presence and a here
 *   here                                    answers a hello: the newcomer learns of this node
 *   bye                                     a node stops
 *   user {userId, sessions, nick, …}        the user's session count there (0 = none)
 *   bind {userId, groupId, bound}           the user's sessions there joined / left a group
 *   group {change}                          a membership or mute change (GroupService.applyRemote)
 *   toUser / toGroup / toGroupAndUser       packets to push to the sessions there
 *   close {userId, reason, kick, packet?}   end the user's sessions there
 *   metricsAsk / metricsText                /metrics of every node (metrics_gather.ts answers)
 */
import type { Logger } from "../log.ts";
import { OutPacket, type PacketChoice } from "../protocol/packet.ts";
import type { GroupService } from "../services/groups.ts";
import type { GroupChange, RemoteNodes, RemoteUser } from "../services/remote_nodes.ts";
import type { Session } from "../services/session.ts";
import type { SessionRegistry } from "../services/session_registry.ts";
import type { BusPayload, ClusterBus, NodeId } from "./bus.ts";
import { PresenceView } from "./presence_view.ts";

/** A packet on the bus: its command and JSON text; `x` is the extended form of a PacketChoice. */
interface WirePacket {
  c: number;
  p: string;
  xc?: number;
  x?: string;
}

const decoder = new TextDecoder();

function toWire(packet: OutPacket | PacketChoice): WirePacket {
  if (packet instanceof OutPacket) return { c: packet.command, p: decoder.decode(packet.bytes) };
  return {
    c: packet.plain.command,
    p: decoder.decode(packet.plain.bytes),
    xc: packet.extended.command,
    x: decoder.decode(packet.extended.bytes),
  };
}

function fromWire(w: WirePacket): OutPacket | PacketChoice {
  const plain = OutPacket.fromJson(w.c, w.p);
  return w.x === undefined ? plain : { plain, extended: OutPacket.fromJson(w.xc ?? w.c, w.x) };
}

export class ClusterNode implements RemoteNodes {
  readonly #bus: ClusterBus;
  readonly #registry: SessionRegistry;
  readonly #groups: GroupService;
  readonly #log: Logger;
  readonly #view = new PresenceView();
  /** The other nodes running now: heard from (hello, here or anything else) and not gone (bye). */
  readonly #peers = new Set<NodeId>();
  #unsubscribe: (() => void) | undefined;

  constructor(bus: ClusterBus, registry: SessionRegistry, groups: GroupService, log: Logger) {
    this.#bus = bus;
    this.#registry = registry;
    this.#groups = groups;
    this.#log = log;
  }

  get node(): NodeId {
    return this.#bus.node;
  }

  /** Starts listening and announces this node (the others answer with their presence). */
  start(): void {
    this.#unsubscribe ??= this.#bus.subscribe((m, from) => this.#receive(m, from));
    this.#bus.broadcast({ type: "hello" });
  }

  /** Says goodbye (the others forget this node's users) and stops listening. */
  async stop(): Promise<void> {
    this.#bus.broadcast({ type: "bye" });
    this.#unsubscribe?.();
    await this.#bus.close();
  }

  // ---- RemoteNodes: presence elsewhere ----

  user(userId: string): RemoteUser | undefined {
    return this.#view.user(userId);
  }

  userIds(): Iterable<string> {
    return this.#view.userIds();
  }

  userInGroup(userId: string, groupId: string): boolean {
    return this.#view.userInGroup(userId, groupId);
  }

  usersInGroup(groupId: string): Iterable<string> {
    return this.#view.usersInGroup(groupId);
  }

  sessionsByNode(): ReadonlyMap<string, number> {
    return this.#view.sessionsByNode();
  }

  /** The other nodes known to be running (those a request to every node waits for). */
  peers(): ReadonlySet<NodeId> {
    return this.#peers;
  }

  // ---- RemoteNodes: changes here, told to the others ----

  localUserChanged(userId: string, sessions: ReadonlySet<Session>): void {
    this.#bus.broadcast(userMessage(userId, sessions));
  }

  localGroupBinding(userId: string, groupId: string, bound: boolean): void {
    this.#bus.broadcast({ type: "bind", userId, groupId, bound });
  }

  groupChanged(change: GroupChange): void {
    this.#bus.broadcast({ type: "group", change });
  }

  // ---- RemoteNodes: pushes ----

  toUser(userId: string, packet: OutPacket | PacketChoice): number {
    const nodes = this.#view.nodesOfUser(userId);
    if (!nodes) return 0;
    const message = { type: "toUser", userId, packet: toWire(packet) };
    let n = 0;
    for (const [node, sessions] of nodes) {
      this.#bus.send(node, message);
      n += sessions;
    }
    return n;
  }

  toGroup(groupId: string, packet: OutPacket | PacketChoice): number {
    let message: BusPayload | undefined;
    let n = 0;
    for (const [node, users] of this.#view.nodesOfGroup(groupId)) {
      message ??= { type: "toGroup", groupId, packet: toWire(packet) };
      this.#bus.send(node, message);
      n += users;
    }
    return n;
  }

  toGroupAndUser(groupId: string, userId: string | undefined, packet: OutPacket): void {
    const nodes = new Set<NodeId>();
    for (const [node] of this.#view.nodesOfGroup(groupId)) nodes.add(node);
    if (userId !== undefined) {
      for (const node of this.#view.nodesOfUser(userId)?.keys() ?? []) nodes.add(node);
    }
    if (nodes.size === 0) return;
    const message = { type: "toGroupAndUser", groupId, userId, packet: toWire(packet) };
    for (const node of nodes) this.#bus.send(node, message);
  }

  closeUser(userId: string, reason: string, options: { kick: boolean; packet?: OutPacket }): number {
    const nodes = this.#view.nodesOfUser(userId);
    if (!nodes) return 0;
    const message = {
      type: "close",
      userId,
      reason,
      kick: options.kick,
      packet: options.packet ? toWire(options.packet) : undefined,
    };
    let n = 0;
    for (const [node, sessions] of nodes) {
      this.#bus.send(node, message);
      n += sessions;
    }
    return n;
  }

  // ---- from the others ----

  #receive(m: BusPayload, from: NodeId): void {
    try {
      this.#apply(m, from);
    } catch (err) {
      this.#log.error("cluster.bad_message", { from, type: m.type, error: err });
    }
  }

  #apply(m: BusPayload, from: NodeId): void {
    const registry = this.#registry;
    if (m.type !== "bye") this.#peers.add(from);
    switch (m.type) {
      case "toUser": {
        const packet = fromWire(m.packet as WirePacket);
        for (const s of registry.sessionsOf(m.userId as string)) s.send(packet);
        return;
      }
      case "toGroup": {
        const packet = fromWire(m.packet as WirePacket);
        for (const s of registry.sessionsInGroup(m.groupId as string)) s.send(packet);
        return;
      }
      case "toGroupAndUser": {
        const packet = fromWire(m.packet as WirePacket);
        const to = new Set(registry.sessionsInGroup(m.groupId as string));
        if (typeof m.userId === "string") { for (const s of registry.sessionsOf(m.userId)) to.add(s); }
        for (const s of to) s.send(packet);
        return;
      }
      case "user":
        this.#view.setUser(from, m.userId as string, {
          sessions: m.sessions as number,
          nick: m.nick as string,
          avatar: m.avatar as string,
          protocol: m.protocol as string,
        });
        return;
      case "bind":
        this.#view.setBinding(from, m.userId as string, m.groupId as string, m.bound as boolean);
        return;
      case "group":
        this.#groups.applyRemote(m.change as GroupChange);
        return;
      case "close": {
        const packet = m.packet ? fromWire(m.packet as WirePacket) : undefined;
        for (const s of [...registry.sessionsOf(m.userId as string)]) {
          if (packet) s.send(packet);
          if (m.kick) s.kick(m.reason as string);
          else s.close(m.reason as string);
        }
        return;
      }
      case "hello":
        this.#view.dropNode(from);
        this.#sendPresence(from);
        this.#bus.send(from, { type: "here" });
        return;
      case "here":
        return;
      case "bye":
        this.#view.dropNode(from);
        this.#peers.delete(from);
        return;
      case "metricsAsk":
      case "metricsText":
        return; // metrics_gather.ts

      default:
        this.#log.warn("cluster.unknown_message", { from, type: m.type });
    }
  }

  /** Everything the other node needs to know about this one's users (after its hello). */
  #sendPresence(to: NodeId): void {
    const users = new Map<string, Set<Session>>();
    for (const s of this.#registry.all()) {
      const userId = s.userId;
      if (userId === undefined || s.closed) continue;
      let set = users.get(userId);
      if (!set) users.set(userId, set = new Set());
      set.add(s);
    }
    for (const [userId, sessions] of users) {
      this.#bus.send(to, userMessage(userId, sessions));
      const groups = new Set<string>();
      for (const s of sessions) for (const g of s.groups) groups.add(g);
      for (const groupId of groups) this.#bus.send(to, { type: "bind", userId, groupId, bound: true });
    }
  }
}

function userMessage(userId: string, sessions: ReadonlySet<Session>): BusPayload {
  let first: Session | undefined;
  for (const s of sessions) {
    first = s;
    break;
  }
  return {
    type: "user",
    userId,
    sessions: sessions.size,
    nick: first?.user?.nick ?? userId,
    avatar: first?.user?.avatar ?? "",
    protocol: first?.protocol ?? "",
  };
}
