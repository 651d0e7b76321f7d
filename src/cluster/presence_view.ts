/**
 * What this node knows about the users on the other nodes: per node, each user's session count
 * and profile, and which groups the user's sessions there are bound to. Fed by the presence
 * messages of cluster_node.ts; read by the registry (through RemoteNodes) and for routing.
 */
import type { RemoteUser } from "../services/remote_nodes.ts";
import type { NodeId } from "./bus.ts";

export interface UserState {
  sessions: number;
  nick: string;
  avatar: string;
  protocol: string;
}

interface MergedUser extends RemoteUser {
  readonly nodes: Map<NodeId, number>;
}

export class PresenceView {
  /** node → userId → the user's state there. */
  readonly #users = new Map<NodeId, Map<string, UserState>>();
  /** node → groupId → users bound there. */
  readonly #groups = new Map<NodeId, Map<string, Set<string>>>();
  /** userId → everything known across nodes (the registry's question, asked per message). */
  readonly #merged = new Map<string, MergedUser>();

  user(userId: string): RemoteUser | undefined {
    return this.#merged.get(userId);
  }

  userIds(): Iterable<string> {
    return this.#merged.keys();
  }

  setUser(node: NodeId, userId: string, state: UserState): void {
    let users = this.#users.get(node);
    if (!users) this.#users.set(node, users = new Map());
    if (state.sessions <= 0) {
      users.delete(userId);
      this.#unmerge(node, userId);
      return;
    }
    users.set(userId, state);
    const merged = this.#merged.get(userId);
    if (merged) merged.nodes.set(node, state.sessions);
    else {
      this.#merged.set(userId, {
        nick: state.nick,
        avatar: state.avatar,
        protocol: state.protocol,
        nodes: new Map([[node, state.sessions]]),
      });
    }
  }

  setBinding(node: NodeId, userId: string, groupId: string, bound: boolean): void {
    let groups = this.#groups.get(node);
    if (!groups) this.#groups.set(node, groups = new Map());
    let users = groups.get(groupId);
    if (bound) {
      if (!users) groups.set(groupId, users = new Set());
      users.add(userId);
    } else if (users) {
      users.delete(userId);
      if (users.size === 0) groups.delete(groupId);
    }
  }

  /** The node left (or restarted): everything it said is void. */
  dropNode(node: NodeId): void {
    for (const userId of this.#users.get(node)?.keys() ?? []) this.#unmerge(node, userId);
    this.#users.delete(node);
    this.#groups.delete(node);
  }

  /** Logged-in sessions per other node. */
  sessionsByNode(): Map<NodeId, number> {
    const out = new Map<NodeId, number>();
    for (const [node, users] of this.#users) {
      let n = 0;
      for (const state of users.values()) n += state.sessions;
      out.set(node, n);
    }
    return out;
  }

  /** Nodes where the user has sessions. */
  nodesOfUser(userId: string): ReadonlyMap<NodeId, number> | undefined {
    return this.#merged.get(userId)?.nodes;
  }

  /** Nodes where some session is bound to the group, with how many users are bound there. */
  *nodesOfGroup(groupId: string): Iterable<[NodeId, number]> {
    for (const [node, groups] of this.#groups) {
      const users = groups.get(groupId);
      if (users) yield [node, users.size];
    }
  }

  userInGroup(userId: string, groupId: string): boolean {
    for (const groups of this.#groups.values()) if (groups.get(groupId)?.has(userId)) return true;
    return false;
  }

  *usersInGroup(groupId: string): Iterable<string> {
    for (const groups of this.#groups.values()) yield* groups.get(groupId) ?? [];
  }

  #unmerge(node: NodeId, userId: string): void {
    const merged = this.#merged.get(userId);
    if (!merged) return;
    merged.nodes.delete(node);
    if (merged.nodes.size === 0) this.#merged.delete(userId);
  }
}
