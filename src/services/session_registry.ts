/**
 * Who is connected: every live session, by user and by group. In-memory; the source of truth for
 * "online" (a user with at least one session).
 *
 * With several nodes (`--workers`), `remote` is the view of the others: the user-level questions
 * (isOnline, sessionCount, onlineUserIds, onlineUserCount, userInGroup, onlineUsersInGroup,
 * onlineProfile) answer for the whole cluster, while Session objects (sessionsOf, sessionsInGroup,
 * all, size) are this node's only. Binding changes are reported to `remote` as they happen.
 */
import type { RemoteNodes } from "./remote_nodes.ts";
import type { Session } from "./session.ts";

export class SessionRegistry {
  /** The other nodes of the cluster; undefined when this is the only event loop. */
  remote: RemoteNodes | undefined;
  readonly #all = new Set<Session>();
  readonly #byUser = new Map<string, Set<Session>>();
  readonly #byGroup = new Map<string, Set<Session>>();

  get size(): number {
    return this.#all.size;
  }

  /** Users online on any node. */
  get onlineUserCount(): number {
    if (!this.remote) return this.#byUser.size;
    let n = this.#byUser.size;
    for (const userId of this.remote.userIds()) if (!this.#byUser.has(userId)) n++;
    return n;
  }

  add(session: Session): void {
    this.#all.add(session);
  }

  /** Forgets the session everywhere; returns the groups it was bound to. */
  remove(session: Session): string[] {
    this.#all.delete(session);
    const groups = [...session.groups];
    for (const groupId of groups) this.unbindGroup(session, groupId);
    if (session.userId) this.unbindUser(session);
    return groups;
  }

  bindUser(session: Session, userId: string): void {
    let set = this.#byUser.get(userId);
    if (!set) this.#byUser.set(userId, set = new Set());
    set.add(session);
    this.remote?.localUserChanged(userId, set);
  }

  unbindUser(session: Session): void {
    const userId = session.userId;
    if (!userId) return;
    const set = this.#byUser.get(userId);
    if (!set) return;
    if (!set.delete(session)) return;
    if (set.size === 0) this.#byUser.delete(userId);
    this.remote?.localUserChanged(userId, set);
  }

  bindGroup(session: Session, groupId: string): void {
    const userId = session.userId;
    const first = this.remote !== undefined && userId !== undefined &&
      !this.#localUserInGroup(userId, groupId);
    let set = this.#byGroup.get(groupId);
    if (!set) this.#byGroup.set(groupId, set = new Set());
    set.add(session);
    session.addGroup(groupId);
    if (first) this.remote!.localGroupBinding(userId, groupId, true);
  }

  unbindGroup(session: Session, groupId: string): void {
    if (!session.removeGroup(groupId)) return;
    const set = this.#byGroup.get(groupId);
    if (set) {
      set.delete(session);
      if (set.size === 0) this.#byGroup.delete(groupId);
    }
    const userId = session.userId;
    if (this.remote && userId !== undefined && !this.#localUserInGroup(userId, groupId)) {
      this.remote.localGroupBinding(userId, groupId, false);
    }
  }

  /** Online on this node or another. */
  isOnline(userId: string): boolean {
    return this.#byUser.has(userId) || this.remote?.user(userId) !== undefined;
  }

  /** Sessions of the user on every node. */
  sessionCount(userId: string): number {
    let n = this.#byUser.get(userId)?.size ?? 0;
    const remote = this.remote?.user(userId);
    if (remote) { for (const count of remote.nodes.values()) n += count; }
    return n;
  }

  /** Nick, avatar and protocol of an online user (a local session first), for cmd 17. */
  onlineProfile(userId: string): { nick: string; avatar: string; protocol: string } | undefined {
    for (const s of this.sessionsOf(userId)) {
      if (s.user) return { nick: s.user.nick, avatar: s.user.avatar, protocol: s.protocol };
    }
    return this.remote?.user(userId);
  }

  sessionsOf(userId: string): ReadonlySet<Session> {
    return this.#byUser.get(userId) ?? EMPTY;
  }

  sessionsInGroup(groupId: string): ReadonlySet<Session> {
    return this.#byGroup.get(groupId) ?? EMPTY;
  }

  /** True when some session of the user, on any node, is bound to the group. */
  userInGroup(userId: string, groupId: string): boolean {
    return this.#localUserInGroup(userId, groupId) || (this.remote?.userInGroup(userId, groupId) ?? false);
  }

  #localUserInGroup(userId: string, groupId: string): boolean {
    for (const s of this.sessionsOf(userId)) if (s.groups.has(groupId)) return true;
    return false;
  }

  /** Users with a session bound to the group, on any node. */
  onlineUsersInGroup(groupId: string): Set<string> {
    const users = new Set<string>();
    for (const s of this.sessionsInGroup(groupId)) if (s.userId) users.add(s.userId);
    if (this.remote) { for (const userId of this.remote.usersInGroup(groupId)) users.add(userId); }
    return users;
  }

  all(): IterableIterator<Session> {
    return this.#all.values();
  }

  /** The userIds with at least one session on any node, in no particular order. */
  *onlineUserIds(): IterableIterator<string> {
    yield* this.#byUser.keys();
    if (!this.remote) return;
    for (const userId of this.remote.userIds()) if (!this.#byUser.has(userId)) yield userId;
  }
}

const EMPTY: ReadonlySet<Session> = new Set();
