/**
 * Who is connected: every live session, by user and by group. In-memory, per process; the
 * source of truth for "online" (a user with at least one session).
 */
import type { Session } from "./session.ts";

export class SessionRegistry {
  readonly #all = new Set<Session>();
  readonly #byUser = new Map<string, Set<Session>>();
  readonly #byGroup = new Map<string, Set<Session>>();

  get size(): number {
    return this.#all.size;
  }

  get onlineUserCount(): number {
    return this.#byUser.size;
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
  }

  unbindUser(session: Session): void {
    const userId = session.userId;
    if (!userId) return;
    const set = this.#byUser.get(userId);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.#byUser.delete(userId);
  }

  bindGroup(session: Session, groupId: string): void {
    let set = this.#byGroup.get(groupId);
    if (!set) this.#byGroup.set(groupId, set = new Set());
    set.add(session);
    session.groups.add(groupId);
  }

  unbindGroup(session: Session, groupId: string): void {
    session.groups.delete(groupId);
    const set = this.#byGroup.get(groupId);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.#byGroup.delete(groupId);
  }

  isOnline(userId: string): boolean {
    return this.#byUser.has(userId);
  }

  sessionsOf(userId: string): ReadonlySet<Session> {
    return this.#byUser.get(userId) ?? EMPTY;
  }

  sessionsInGroup(groupId: string): ReadonlySet<Session> {
    return this.#byGroup.get(groupId) ?? EMPTY;
  }

  /** True when some session of the user is bound to the group. */
  userInGroup(userId: string, groupId: string): boolean {
    for (const s of this.sessionsOf(userId)) if (s.groups.has(groupId)) return true;
    return false;
  }

  all(): IterableIterator<Session> {
    return this.#all.values();
  }

  /** The userIds with at least one session, in no particular order. */
  onlineUserIds(): IterableIterator<string> {
    return this.#byUser.keys();
  }
}

const EMPTY: ReadonlySet<Session> = new Set();
