/**
 * Group permissions (docs/protocol.md §10): who may join a group — open groups (J-IM's
 * behaviour), invite-only groups, bans — and what owners and admins may do: invite, kick, ban,
 * mute, change roles, disband. Members may leave (the owner transfers ownership first).
 *
 * Roles rank owner > admin > member; an admin acts only on members ranked below them, and only
 * the owner changes roles or disbands. Groups without owner (created by the system, e.g.
 * `--default-groups`, or from before schema v3) have nobody who can administer them here.
 *
 * Every change to one group runs under that group's lock, so the checks and the writes of two
 * requests never interleave. Notifies: an action's reply command, without `code`, goes to the
 * group's sessions and the target's sessions (the caller's requesting session gets the reply
 * instead); losing a member also sends J-IM's cmd 10 to the group's remaining sessions.
 */
import type { Logger } from "../log.ts";
import { CMD } from "../protocol/commands.ts";
import type { JsonObject } from "../protocol/json.ts";
import { dataPacket, type OutPacket } from "../protocol/packet.ts";
import { STATUS } from "../protocol/status.ts";
import type { GroupKind, GroupRole, GroupSettings, MemberRecord, Store } from "../store/store.ts";
import type { Delivery } from "./delivery.ts";
import { ReplyError } from "./errors.ts";
import { exitNotify, type GroupService } from "./groups.ts";
import type { Session } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";

/** J-IM's JoinGroupResult, the `result` of a cmd 8 refusal. */
export const JOIN_RESULT = {
  UNKNOWN: 0,
  OK: 1,
  NOT_EXIST: 2,
  GROUP_FULL: 3,
  IN_BACKLIST: 4,
  KICKED: 5,
} as const;

/** Most members, bans and invites listed by one info reply. */
export const MAX_INFO_LIST = 1000;

const RANK: Record<GroupRole, number> = { member: 1, admin: 2, owner: 3 };

function refused(result: number, detail: string): ReplyError {
  return new ReplyError(STATUS.JOIN_GROUP_FAILED, {
    command: CMD.JOIN_GROUP_RESP,
    extra: { result },
    detail,
  });
}

const forbidden = (detail: string) => new ReplyError(STATUS.FORBIDDEN, { detail });

export class GroupAdminService {
  readonly #store: Store;
  readonly #groups: GroupService;
  readonly #registry: SessionRegistry;
  readonly #delivery: Delivery;
  readonly #log: Logger;
  /** groupId → the tail of that group's queue of changes. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    store: Store,
    groups: GroupService,
    registry: SessionRegistry,
    delivery: Delivery,
    log: Logger,
  ) {
    this.#store = store;
    this.#groups = groups;
    this.#registry = registry;
    this.#delivery = delivery;
    this.#log = log;
  }

  /**
   * cmd 7. A new group is created with the joiner as owner ("open" unless `kind` says "invite").
   * Joining an existing group needs: no ban (else cmd 8, result 4) and, for an invite-only
   * group, a pending invite (else cmd 8, result 0), which joining uses up. Returns the cmd 9
   * notify for the requesting session (already sent to the group's other sessions).
   */
  async join(
    session: Session,
    groupId: string,
    options: { name?: string; kind?: GroupKind },
  ): Promise<OutPacket> {
    const userId = session.userId!;
    // Bound inside the lock: a kick queued behind this join unbinds what it bound.
    return await this.#locked(groupId, async () => {
      // Joining again (J-IM allows it): a member is never banned, nothing to check.
      if (await this.#groups.isMember(groupId, userId)) return this.#groups.bindJoined(session, groupId);
      let settings = await this.#store.getGroupSettings(groupId);
      if (!settings) {
        const now = Date.now();
        const group = { groupId, name: options.name ?? groupId, avatar: "", createdAt: now };
        const kind = options.kind ?? "open";
        if (await this.#store.createGroup(group, { kind, ownerId: userId })) {
          this.#groups.memberAdded(groupId, userId);
          this.#log.info("group.created", { groupId, userId, kind });
          return this.#groups.bindJoined(session, groupId);
        }
        // Created meanwhile outside the lock (a default group at someone's registration).
        settings = await this.#store.getGroupSettings(groupId);
        if (!settings) throw refused(JOIN_RESULT.UNKNOWN, `group ${groupId} vanished`);
      }
      if (await this.#store.getBan(groupId, userId)) throw refused(JOIN_RESULT.IN_BACKLIST, "banned");
      // --max-group-members; checked before the invite is used up, so it stays for a later try.
      if (await this.#groups.isFull(groupId)) throw refused(JOIN_RESULT.GROUP_FULL, "group full");
      const invited = await this.#store.removeInvite(groupId, userId);
      if (settings.kind === "invite" && !invited) throw refused(JOIN_RESULT.UNKNOWN, "invite-only group");
      await this.#groups.addMember(groupId, userId);
      return this.#groups.bindJoined(session, groupId);
    });
  }

  /** cmd 36: owner/admin invites a user (or revokes the pending invite, `cancel`). */
  async invite(caller: Session, groupId: string, userId: string, cancel: boolean): Promise<JsonObject> {
    const by = caller.userId!;
    return await this.#locked(groupId, async () => {
      const { settings } = await this.#acting(groupId, by, "admin");
      const data = { by, groupId, invited: !cancel, kind: settings.kind, userId };
      if (cancel) {
        if (await this.#store.removeInvite(groupId, userId)) {
          this.#notify(CMD.GROUP_INVITE_RESP, data, groupId, userId, caller);
          this.#log.info("group.invite_revoked", { groupId, userId, by });
        }
        return data;
      }
      if (!await this.#store.getUser(userId)) throw new ReplyError(STATUS.USER_NOT_FOUND);
      if (await this.#store.isMember(groupId, userId)) throw new ReplyError(STATUS.ALREADY_GROUP_MEMBER);
      if (await this.#store.getBan(groupId, userId)) throw new ReplyError(STATUS.GROUP_BANNED);
      if (await this.#groups.isFull(groupId)) {
        // --max-group-members: J-IM's GROUP_FULL, in the invite's reply command (cmd 37).
        throw new ReplyError(STATUS.JOIN_GROUP_FAILED, {
          extra: { result: JOIN_RESULT.GROUP_FULL },
          detail: "group full",
        });
      }
      if (await this.#store.addInvite({ groupId, userId, invitedAt: Date.now(), by })) {
        this.#notify(CMD.GROUP_INVITE_RESP, data, groupId, userId, caller);
        this.#log.info("group.invited", { groupId, userId, by });
      }
      return data;
    });
  }

  /**
   * cmd 38: an owner/admin kicks a member ranked below them, or a user removes themselves:
   * leaves (not the owner) or declines a pending invite.
   */
  async remove(caller: Session, groupId: string, userId: string): Promise<JsonObject> {
    const by = caller.userId!;
    const data = { by, groupId, userId };
    return await this.#locked(groupId, async () => {
      if (userId === by) {
        const me = await this.#member(groupId, by);
        if (!me) {
          if (await this.#store.removeInvite(groupId, by)) {
            this.#log.info("group.invite_declined", { groupId, userId: by });
            return data;
          }
          throw new ReplyError(STATUS.NOT_GROUP_MEMBER);
        }
        if (me.role === "owner") throw new ReplyError(STATUS.GROUP_OWNER_CANNOT_LEAVE);
      } else {
        const { actor } = await this.#acting(groupId, by, "admin");
        await this.#target(groupId, actor, userId);
      }
      await this.#store.removeMember(groupId, userId);
      await this.#removed(groupId, userId, CMD.GROUP_REMOVE_RESP, data, caller);
      this.#log.info(userId === by ? "group.left" : "group.kicked", { groupId, userId, by });
      return data;
    });
  }

  /** cmd 40: owner/admin bans a user (a member ranked below them, or a non-member), or unbans. */
  async ban(caller: Session, groupId: string, userId: string, banned: boolean): Promise<JsonObject> {
    const by = caller.userId!;
    const data = { banned, by, groupId, userId };
    return await this.#locked(groupId, async () => {
      const { actor } = await this.#acting(groupId, by, "admin");
      if (!banned) {
        if (await this.#store.unbanUser(groupId, userId)) {
          this.#notify(CMD.GROUP_BAN_RESP, data, groupId, userId, caller);
          this.#log.info("group.unbanned", { groupId, userId, by });
        }
        return data;
      }
      if (userId === by) throw forbidden("cannot ban oneself");
      const target = await this.#member(groupId, userId);
      if (target) this.#outranks(actor, target);
      else if (!await this.#store.getUser(userId)) throw new ReplyError(STATUS.USER_NOT_FOUND);
      const wasMember = await this.#store.banUser({ groupId, userId, bannedAt: Date.now(), by });
      if (wasMember) await this.#removed(groupId, userId, CMD.GROUP_BAN_RESP, data, caller);
      else this.#notify(CMD.GROUP_BAN_RESP, data, groupId, userId, caller);
      this.#log.info("group.banned", { groupId, userId, by, wasMember });
      return data;
    });
  }

  /** cmd 42: owner/admin mutes a member ranked below them for `seconds` (0 = unmute). */
  async mute(caller: Session, groupId: string, userId: string, seconds: number): Promise<JsonObject> {
    const by = caller.userId!;
    return await this.#locked(groupId, async () => {
      const { actor } = await this.#acting(groupId, by, "admin");
      await this.#target(groupId, actor, userId);
      const mutedUntil = seconds > 0 ? Date.now() + seconds * 1000 : 0;
      if (!await this.#store.setMutedUntil(groupId, userId, mutedUntil)) {
        throw new ReplyError(STATUS.NOT_GROUP_MEMBER);
      }
      this.#groups.muteChanged(groupId, userId, mutedUntil);
      const data = { by, groupId, mutedUntil, userId };
      this.#notify(CMD.GROUP_MUTE_RESP, data, groupId, userId, caller);
      this.#log.info("group.muted", { groupId, userId, by, mutedUntil });
      return data;
    });
  }

  /**
   * cmd 44: the owner makes a member "admin" or "member", or hands ownership over ("owner": the
   * previous owner becomes an admin).
   */
  async setRole(caller: Session, groupId: string, userId: string, role: GroupRole): Promise<JsonObject> {
    const by = caller.userId!;
    return await this.#locked(groupId, async () => {
      await this.#acting(groupId, by, "owner");
      if (!await this.#member(groupId, userId)) throw new ReplyError(STATUS.NOT_GROUP_MEMBER);
      const data = { by, groupId, role, userId };
      if (userId === by) {
        if (role === "owner") return data;
        throw forbidden("the owner transfers ownership instead");
      }
      if (role === "owner") {
        if (!await this.#store.setGroupOwner(groupId, userId)) throw new ReplyError(STATUS.NOT_GROUP_MEMBER);
        this.#notify(CMD.GROUP_ROLE_RESP, data, groupId, userId, caller);
        this.#notify(
          CMD.GROUP_ROLE_RESP,
          { by, groupId, role: "admin", userId: by },
          groupId,
          undefined,
          caller,
        );
      } else {
        if (!await this.#store.setMemberRole(groupId, userId, role)) {
          throw new ReplyError(STATUS.NOT_GROUP_MEMBER);
        }
        this.#notify(CMD.GROUP_ROLE_RESP, data, groupId, userId, caller);
      }
      this.#log.info("group.role", { groupId, userId, by, role });
      return data;
    });
  }

  /** cmd 48: the owner disbands the group (its messages are deleted). */
  async disband(caller: Session, groupId: string): Promise<JsonObject> {
    const by = caller.userId!;
    return await this.#locked(groupId, async () => {
      await this.#acting(groupId, by, "owner");
      await this.#store.deleteGroup(groupId);
      const data = { by, groupId };
      this.#notify(CMD.GROUP_DISBAND_RESP, data, groupId, undefined, caller);
      this.#groups.groupRemoved(groupId);
      this.#log.info("group.disbanded", { groupId, by });
      return data;
    });
  }

  /**
   * cmd 46 with a groupId: the group, its members with roles and mutes and, for owner and
   * admins, its bans and pending invites. Members and invited users may ask.
   */
  async info(userId: string, groupId: string): Promise<JsonObject> {
    const group = await this.#store.getGroup(groupId);
    const settings = await this.#store.getGroupSettings(groupId);
    if (!group || !settings) throw new ReplyError(STATUS.GROUP_NOT_FOUND);
    const me = await this.#member(groupId, userId);
    if (
      !me && !(await this.#store.listInvites({ userId }, MAX_INFO_LIST)).some((i) => i.groupId === groupId)
    ) {
      throw forbidden(`not a member of group ${groupId}`);
    }
    const members = await this.#store.listMemberRecords(groupId, MAX_INFO_LIST + 1);
    const data: JsonObject = {
      avatar: group.avatar || undefined,
      createdAt: group.createdAt,
      groupId,
      hasMore: members.length > MAX_INFO_LIST,
      kind: settings.kind,
      members: members.slice(0, MAX_INFO_LIST).map((m) => ({
        joinedAt: m.joinedAt,
        mutedUntil: m.mutedUntil,
        role: m.role,
        userId: m.userId,
      })),
      name: group.name,
      ownerId: settings.ownerId,
    };
    if (me && RANK[me.role] >= RANK.admin) {
      data.bans = (await this.#store.listBans(groupId, MAX_INFO_LIST)).map((b) => ({
        bannedAt: b.bannedAt,
        by: b.by,
        userId: b.userId,
      }));
      data.invites = (await this.#store.listInvites({ groupId }, MAX_INFO_LIST)).map((i) => ({
        by: i.by,
        invitedAt: i.invitedAt,
        userId: i.userId,
      }));
    }
    return data;
  }

  /** cmd 46 without a groupId: the caller's pending invites, oldest first. */
  async pendingInvites(userId: string): Promise<JsonObject> {
    const invites: JsonObject[] = [];
    for (const i of await this.#store.listInvites({ userId }, MAX_INFO_LIST)) {
      const group = await this.#store.getGroup(i.groupId);
      const settings = await this.#store.getGroupSettings(i.groupId);
      if (!group || !settings) continue;
      invites.push({
        by: i.by,
        groupId: i.groupId,
        invitedAt: i.invitedAt,
        kind: settings.kind,
        name: group.name,
      });
    }
    return { invites, userId };
  }

  // ---- checks ----

  /** The group and the caller's membership, which must rank at least `least`. */
  async #acting(
    groupId: string,
    userId: string,
    least: GroupRole,
  ): Promise<{ settings: GroupSettings; actor: MemberRecord }> {
    const settings = await this.#store.getGroupSettings(groupId);
    if (!settings) throw new ReplyError(STATUS.GROUP_NOT_FOUND);
    const actor = await this.#member(groupId, userId);
    if (!actor) throw forbidden(`not a member of group ${groupId}`);
    if (RANK[actor.role] < RANK[least]) throw forbidden(`needs role ${least} in group ${groupId}`);
    return { settings, actor };
  }

  /** The target must be a member ranked below the actor. */
  async #target(groupId: string, actor: MemberRecord, userId: string): Promise<MemberRecord> {
    const target = await this.#member(groupId, userId);
    if (!target) throw new ReplyError(STATUS.NOT_GROUP_MEMBER);
    this.#outranks(actor, target);
    return target;
  }

  #outranks(actor: MemberRecord, target: MemberRecord): void {
    if (RANK[actor.role] <= RANK[target.role]) {
      throw forbidden(`${actor.role} ${actor.userId} cannot act on ${target.role} ${target.userId}`);
    }
  }

  async #member(groupId: string, userId: string): Promise<MemberRecord | undefined> {
    return await this.#store.getMember(groupId, userId);
  }

  // ---- effects ----

  /**
   * After the store removed a member: the action's notify (group and target), then the target's
   * sessions are unbound and the remaining sessions get J-IM's cmd 10.
   */
  async #removed(groupId: string, userId: string, command: number, data: JsonObject, caller: Session) {
    this.#notify(command, data, groupId, userId, caller);
    this.#groups.memberRemoved(groupId, userId);
    this.#delivery.toGroup(groupId, exitNotify(groupId, { nick: await this.#nick(userId), userId }));
  }

  async #nick(userId: string): Promise<string> {
    for (const s of this.#registry.sessionsOf(userId)) if (s.user) return s.user.nick;
    return (await this.#store.getUser(userId))?.nick ?? userId;
  }

  /** `{command, data}` to the group's sessions and the target's, except the requesting session. */
  #notify(command: number, data: JsonObject, groupId: string, target: string | undefined, caller: Session) {
    this.#delivery.toGroupAndUser(groupId, target, dataPacket(command, data), caller);
  }

  /** Runs `fn` after every earlier change of the group finished. */
  async #locked<T>(groupId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(groupId) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.catch(() => {});
    this.#locks.set(groupId, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(groupId) === tail) this.#locks.delete(groupId);
    }
  }
}
