/**
 * The other nodes of a cluster (the IO workers of `--workers N`; servers sharing a Redis later),
 * as the services of one node see them: who is online there, and how to push to them. Implemented
 * in src/cluster/ over the cluster bus; absent when the process runs a single event loop.
 *
 * Presence is a view fed by messages, so it lags the other node by a message's trip: a user who
 * logged in there a moment ago may still look offline here (the message is then queued for them,
 * as with a login racing a send on one node).
 */
import type { OutPacket, PacketChoice } from "../protocol/packet.ts";
import type { Session } from "./session.ts";

/** A user with sessions on other nodes. */
export interface RemoteUser {
  readonly nick: string;
  readonly avatar: string;
  /** The protocol of one of the sessions (cmd 17's `terminal`). */
  readonly protocol: string;
  /** Node id → sessions there (each at least 1). */
  readonly nodes: ReadonlyMap<string, number>;
}

/** A change to a group's membership or mutes made on one node, applied on every other. */
export type GroupChange =
  | { kind: "member"; groupId: string; userId: string }
  | { kind: "joined"; groupId: string; userId: string }
  | { kind: "removed"; groupId: string; userId: string }
  | { kind: "disbanded"; groupId: string }
  | { kind: "muted"; groupId: string; userId: string; mutedUntil: number };

export interface RemoteNodes {
  /** This node's id. */
  readonly node: string;

  // ---- presence elsewhere ----
  user(userId: string): RemoteUser | undefined;
  /** Users with a session on another node. */
  userIds(): Iterable<string>;
  /** Whether some session of the user on another node is bound to the group. */
  userInGroup(userId: string, groupId: string): boolean;
  /** Users with a session bound to the group on another node. */
  usersInGroup(groupId: string): Iterable<string>;
  /** Logged-in sessions on each other node (the admin overview). */
  sessionsByNode(): ReadonlyMap<string, number>;

  // ---- what this node tells the others (called by SessionRegistry and GroupService) ----
  /** The user's local sessions changed (`sessions` empty: none left here). */
  localUserChanged(userId: string, sessions: ReadonlySet<Session>): void;
  /** The user's first local session was bound to the group, or the last one unbound. */
  localGroupBinding(userId: string, groupId: string, bound: boolean): void;
  groupChanged(change: GroupChange): void;

  // ---- pushes to sessions on other nodes; each returns how many sessions it may reach ----
  toUser(userId: string, packet: OutPacket | PacketChoice): number;
  toGroup(groupId: string, packet: OutPacket | PacketChoice): number;
  /** To the sessions bound to the group and those of `userId`, each once. */
  toGroupAndUser(groupId: string, userId: string | undefined, packet: OutPacket): void;
  /** Closes the user's sessions elsewhere, after sending them `packet` when given. */
  closeUser(userId: string, reason: string, options: { kick: boolean; packet?: OutPacket }): number;
}
