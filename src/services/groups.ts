/**
 * Groups: persistent membership (store) plus which live sessions receive a group's messages
 * (registry). Join and exit notifies follow J-IM: cmd 9 to every bound session including the
 * joiner, cmd 10 to the remaining sessions when a member's last session in the group goes away.
 * Who may join, and the admin commands, are in group_admin.ts; this file keeps the caches
 * (members, mutes) and the bindings in step with what it tells it — and, with several nodes
 * (`--workers`), tells the other nodes, which apply the same change (applyRemote).
 */
import type { Logger } from "../log.ts";
import { CMD } from "../protocol/commands.ts";
import { dataPacket, type OutPacket, statusPacket } from "../protocol/packet.ts";
import { STATUS } from "../protocol/status.ts";
import type { GroupRecord, Store } from "../store/store.ts";
import type { Delivery } from "./delivery.ts";
import type { GroupChange } from "./remote_nodes.ts";
import type { Session, SessionUser } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";

/** Upper bound on members loaded for one group, and so on --max-group-members (J-IM has none). */
export const MAX_GROUP_MEMBERS = 100_000;

export class GroupService {
  readonly #store: Store;
  readonly #registry: SessionRegistry;
  readonly #delivery: Delivery;
  readonly #log: Logger;
  /** Member sets of groups seen since start, loaded lazily and kept in step with joins. */
  readonly #members = new Map<string, Set<string>>();
  /** groupId → userId → mutedUntil of senders seen since start, loaded lazily, kept in step with mutes. */
  readonly #mutes = new Map<string, Map<string, number>>();

  /** --max-group-members. */
  readonly maxMembers: number;

  constructor(
    store: Store,
    registry: SessionRegistry,
    delivery: Delivery,
    log: Logger,
    options: { maxMembers?: number } = {},
  ) {
    this.#store = store;
    this.#registry = registry;
    this.#delivery = delivery;
    this.#log = log;
    this.maxMembers = Math.min(options.maxMembers ?? MAX_GROUP_MEMBERS, MAX_GROUP_MEMBERS);
  }

  /** True when the group has --max-group-members members: nobody else may join (GROUP_FULL). */
  async isFull(groupId: string): Promise<boolean> {
    return (await this.members(groupId)).size >= this.maxMembers;
  }

  /**
   * The session's user is a member now (group_admin.ts decided): binds all of the user's
   * sessions and broadcasts the cmd 9 notify. Returns the notify, which the caller sends to the
   * requesting session itself (as the reply, so a synchronous client gets its synSeq back).
   */
  bindJoined(session: Session, groupId: string): OutPacket {
    const user = session.user!;
    this.#joined(groupId, user.userId);
    this.#registry.remote?.groupChanged({ kind: "joined", groupId, userId: user.userId });
    return this.#broadcastJoin(groupId, user, session);
  }

  /** The store gained a member another way than addMember (a new group's owner). */
  memberAdded(groupId: string, userId: string): void {
    this.#members.get(groupId)?.add(userId);
    this.#registry.remote?.groupChanged({ kind: "member", groupId, userId });
  }

  /** After the store removed the member: forgets them and unbinds their sessions from the group. */
  memberRemoved(groupId: string, userId: string): void {
    this.#memberRemoved(groupId, userId);
    this.#registry.remote?.groupChanged({ kind: "removed", groupId, userId });
  }

  /** After the store deleted the group: unbinds every session and forgets the group. */
  groupRemoved(groupId: string): void {
    this.#groupRemoved(groupId);
    this.#registry.remote?.groupChanged({ kind: "disbanded", groupId });
  }

  /**
   * Another node changed a group (`--workers`): the same effect on this node's caches and
   * sessions, without telling the others again.
   */
  applyRemote(change: GroupChange): void {
    switch (change.kind) {
      case "member":
        this.#members.get(change.groupId)?.add(change.userId);
        break;
      case "joined":
        this.#joined(change.groupId, change.userId);
        break;
      case "removed":
        this.#memberRemoved(change.groupId, change.userId);
        break;
      case "disbanded":
        this.#groupRemoved(change.groupId);
        break;
      case "muted":
        this.#muteChanged(change.groupId, change.userId, change.mutedUntil);
        break;
    }
  }

  #joined(groupId: string, userId: string): void {
    this.#members.get(groupId)?.add(userId);
    for (const s of this.#registry.sessionsOf(userId)) this.#registry.bindGroup(s, groupId);
  }

  #memberRemoved(groupId: string, userId: string): void {
    this.#members.get(groupId)?.delete(userId);
    this.#mutes.get(groupId)?.delete(userId);
    for (const s of this.#registry.sessionsOf(userId)) this.#registry.unbindGroup(s, groupId);
  }

  #groupRemoved(groupId: string): void {
    this.#members.delete(groupId);
    this.#mutes.delete(groupId);
    for (const s of [...this.#registry.sessionsInGroup(groupId)]) this.#registry.unbindGroup(s, groupId);
  }

  /** Until when (ms) the member may not send to the group; 0 = not muted. */
  async mutedUntil(groupId: string, userId: string): Promise<number> {
    const known = this.#mutes.get(groupId)?.get(userId);
    if (known !== undefined) return known;
    const until = (await this.#store.getMember(groupId, userId))?.mutedUntil ?? 0;
    // A mute set meanwhile wins over what was read before it.
    let group = this.#mutes.get(groupId);
    if (!group) this.#mutes.set(groupId, group = new Map());
    if (!group.has(userId)) group.set(userId, until);
    return group.get(userId)!;
  }

  /** After the store saved a mute. */
  muteChanged(groupId: string, userId: string, mutedUntil: number): void {
    this.#muteChanged(groupId, userId, mutedUntil);
    this.#registry.remote?.groupChanged({ kind: "muted", groupId, userId, mutedUntil });
  }

  #muteChanged(groupId: string, userId: string, mutedUntil: number): void {
    let group = this.#mutes.get(groupId);
    if (!group) this.#mutes.set(groupId, group = new Map());
    group.set(userId, mutedUntil);
  }

  /**
   * Makes the user a member (creating the group when new) in the store and in the cached
   * member set. The one way memberships are added, so the cache never misses one.
   */
  async addMember(groupId: string, userId: string, name?: string): Promise<void> {
    const now = Date.now();
    await this.#store.ensureGroup({ groupId, name: name ?? groupId, avatar: "", createdAt: now });
    if (await this.#store.addMember(groupId, userId, now)) {
      this.#members.get(groupId)?.add(userId);
      this.#registry.remote?.groupChanged({ kind: "member", groupId, userId });
      this.#log.info("group.joined", { groupId, userId });
    }
  }

  /**
   * At login: binds the session to each of the user's groups and broadcasts a cmd 9 for each.
   * Returns the notifies meant for the session itself, in group order.
   */
  async bindAtLogin(session: Session): Promise<OutPacket[]> {
    const user = session.user!;
    const groups = await this.#store.listUserGroups(user.userId);
    const own: OutPacket[] = [];
    for (const group of groups) {
      this.#registry.bindGroup(session, group.groupId);
      own.push(this.#broadcastJoin(group.groupId, user, session));
    }
    return own;
  }

  /** After a session closed: cmd 10 for each group where the user has no session left. */
  sessionClosed(session: Session, groups: readonly string[]): void {
    const user = session.user;
    if (!user) return;
    for (const groupId of groups) {
      if (this.#registry.userInGroup(user.userId, groupId)) continue;
      this.#delivery.toGroup(groupId, exitNotify(groupId, user));
    }
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    if (this.#registry.userInGroup(userId, groupId)) return true;
    const cached = this.#members.get(groupId);
    if (cached) return cached.has(userId);
    return await this.#store.isMember(groupId, userId);
  }

  /** All member userIds (bounded by MAX_GROUP_MEMBERS). */
  async members(groupId: string): Promise<ReadonlySet<string>> {
    let set = this.#members.get(groupId);
    if (!set) {
      set = new Set(await this.#store.listMembers(groupId, MAX_GROUP_MEMBERS));
      // Another caller may have loaded it meanwhile; keep one set so joins update it.
      const raced = this.#members.get(groupId);
      if (raced) return raced;
      this.#members.set(groupId, set);
    }
    return set;
  }

  async userGroups(userId: string): Promise<GroupRecord[]> {
    return await this.#store.listUserGroups(userId);
  }

  // ---- for the admin page (straight from the store: the member cache is not filled) ----

  async get(groupId: string): Promise<GroupRecord | undefined> {
    return await this.#store.getGroup(groupId);
  }

  /** Groups by groupId after `afterGroupId`, with member counts. */
  async list(afterGroupId: string, limit: number): Promise<(GroupRecord & { memberCount: number })[]> {
    return await this.#store.listGroups(afterGroupId, limit);
  }

  /** The first `limit` members in join order. */
  async memberPage(groupId: string, limit: number): Promise<string[]> {
    return await this.#store.listMembers(groupId, limit);
  }

  /** Members with a live session bound to the group. */
  onlineMemberCount(groupId: string): number {
    return this.#registry.onlineUsersInGroup(groupId).size;
  }

  #broadcastJoin(groupId: string, user: SessionUser, self: Session): OutPacket {
    const notify = statusPacket(CMD.JOIN_GROUP_NOTIFY, STATUS.JOIN_GROUP_OK, {
      group: groupId,
      user: { nick: user.nick, status: "online", userId: user.userId },
    });
    this.#delivery.toGroup(groupId, notify, self);
    return notify;
  }
}

/** J-IM's cmd 10 (spec §5.4): `status` is always "offline", the builder's default. */
export function exitNotify(groupId: string, user: { nick: string; userId: string }): OutPacket {
  return dataPacket(CMD.EXIT_GROUP_NOTIFY, {
    group: groupId,
    user: { nick: user.nick, status: "offline", userId: user.userId },
  });
}
