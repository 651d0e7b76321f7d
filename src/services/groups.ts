/**
 * Groups: persistent membership (store) plus which live sessions receive a group's messages
 * (registry). Join and exit notifies follow J-IM: cmd 9 to every bound session including the
 * joiner, cmd 10 to the remaining sessions when a member's last session in the group goes away.
 */
import type { Logger } from "../log.ts";
import { CMD } from "../protocol/commands.ts";
import { dataPacket, type OutPacket, statusPacket } from "../protocol/packet.ts";
import { STATUS } from "../protocol/status.ts";
import type { GroupRecord, Store } from "../store/store.ts";
import type { Delivery } from "./delivery.ts";
import type { Session, SessionUser } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";

/** Upper bound on members loaded for one group (J-IM has none; groups limits come later). */
export const MAX_GROUP_MEMBERS = 100_000;

export class GroupService {
  readonly #store: Store;
  readonly #registry: SessionRegistry;
  readonly #delivery: Delivery;
  readonly #log: Logger;
  /** Member sets of groups seen since start, loaded lazily and kept in step with joins. */
  readonly #members = new Map<string, Set<string>>();

  constructor(store: Store, registry: SessionRegistry, delivery: Delivery, log: Logger) {
    this.#store = store;
    this.#registry = registry;
    this.#delivery = delivery;
    this.#log = log;
  }

  /**
   * Makes the session's user a member (creating the group when new), binds all of the user's
   * sessions and broadcasts the cmd 9 notify. Returns the notify, which the caller sends to the
   * requesting session itself (as the reply, so a synchronous client gets its synSeq back).
   */
  async join(session: Session, groupId: string, name: string | undefined): Promise<OutPacket> {
    const user = session.user!;
    await this.addMember(groupId, user.userId, name);
    for (const s of this.#registry.sessionsOf(user.userId)) this.#registry.bindGroup(s, groupId);
    return this.#broadcastJoin(groupId, user, session);
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
      const notify = dataPacket(CMD.EXIT_GROUP_NOTIFY, {
        group: groupId,
        user: { nick: user.nick, status: "offline", userId: user.userId },
      });
      this.#delivery.toGroup(groupId, notify);
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

  #broadcastJoin(groupId: string, user: SessionUser, self: Session): OutPacket {
    const notify = statusPacket(CMD.JOIN_GROUP_NOTIFY, STATUS.JOIN_GROUP_OK, {
      group: groupId,
      user: { nick: user.nick, status: "online", userId: user.userId },
    });
    this.#delivery.toGroup(groupId, notify, self);
    return notify;
  }
}
