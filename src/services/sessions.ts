/**
 * Session lifecycle: open, login (bind to a user and the user's groups), close (unbind and
 * notify the groups). Shared by every transport, so TCP and WebSocket logins behave the same.
 */
import type { Logger } from "../log.ts";
import type { OutPacket } from "../protocol/packet.ts";
import { STATUS, type Status } from "../protocol/status.ts";
import type { AuthService, Credentials } from "./auth/auth.ts";
import { isValidId } from "./ids.ts";
import { ipOf } from "./limits.ts";
import type { LoginGuard } from "./login_guard.ts";
import type { GroupService } from "./groups.ts";
import type { Session } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";
import type { Stats } from "./stats.ts";

export type SessionLogin =
  | { ok: true; notifies: OutPacket[] }
  | {
    ok: false;
    reason: string;
    /** Answer with this status instead of 10008 (too many sessions). */
    status?: Status;
    /** Locked out (too many failures): milliseconds until a login is checked again. */
    retryAfter?: number;
  };

export interface SessionOptions {
  defaultGroups: readonly string[];
  /** Most logged-in sessions per user; 0 or absent = no limit. */
  maxSessionsPerUser?: number;
  /** Login-failure lockout; absent = none. */
  loginGuard?: LoginGuard;
}

export class SessionService {
  readonly #registry: SessionRegistry;
  readonly #auth: AuthService;
  readonly #groups: GroupService;
  readonly #log: Logger;
  readonly #stats: Stats;

  readonly #defaultGroups: readonly string[];
  #maxSessionsPerUser: number;
  readonly #guard: LoginGuard | undefined;

  constructor(
    registry: SessionRegistry,
    auth: AuthService,
    groups: GroupService,
    log: Logger,
    options: SessionOptions,
    stats: Stats,
  ) {
    this.#registry = registry;
    this.#auth = auth;
    this.#groups = groups;
    this.#log = log;
    this.#defaultGroups = options.defaultGroups;
    this.#maxSessionsPerUser = options.maxSessionsPerUser ?? 0;
    this.#guard = options.loginGuard;
    this.#stats = stats;
  }

  /** Changes the per-user session limit (SIGHUP); sessions above a lowered limit stay. */
  setMaxSessionsPerUser(max: number): void {
    this.#maxSessionsPerUser = max;
  }

  opened(session: Session): void {
    this.#registry.add(session);
  }

  /**
   * Authenticates and binds the session. A session that was logged in as someone else is first
   * unbound from that user (J-IM kept both bindings, spec §10.2). Returns the cmd 9 notifies for
   * the session itself, to be sent before the cmd 6 reply.
   */
  async login(
    session: Session,
    credentials: Credentials,
    options: { countFailure?: boolean } = {},
  ): Promise<SessionLogin> {
    const remote = session.transport.remoteAddr;
    const ip = ipOf(remote);
    // Failures count against the claimed userId whether or not it exists (no user enumeration).
    const claimed = isValidId(credentials.userId) ? credentials.userId : undefined;
    const locked = this.#guard?.lockedFor(claimed, ip) ?? 0;
    if (locked > 0) {
      // Refused without checking the credentials: guessing costs the attacker nothing but time.
      this.#stats.login(false);
      this.#log.info("login.locked", { session: session.id, userId: claimed, remote, retryAfter: locked });
      return { ok: false, reason: "locked out", retryAfter: locked };
    }
    const result = await this.#auth.login({ ...credentials, remote });
    this.#stats.login(result.ok);
    if (!result.ok) {
      this.#log.info("login.failed", {
        session: session.id,
        userId: credentials.userId,
        reason: result.reason,
        remote,
      });
      const locks = options.countFailure === false ? undefined : this.#guard?.failed(claimed, ip);
      if (locks?.userLock) this.#log.warn("login.lockout", { userId: claimed, lockMs: locks.userLock });
      if (locks?.ipLock) this.#log.warn("login.lockout", { ip, lockMs: locks.ipLock });
      return result;
    }
    const { user } = result;
    this.#guard?.succeeded(user.userId);
    // New accounts join the default groups (J-IM's demo puts everyone in group 100), even if
    // this connection is already gone.
    if (result.registered) {
      for (const groupId of this.#defaultGroups) {
        if (await this.#groups.isFull(groupId)) {
          this.#log.warn("group.full", { groupId, userId: user.userId, at: "registration" });
          continue;
        }
        await this.#groups.addMember(groupId, user.userId);
      }
    }
    if (session.closed) return { ok: false, reason: "connection closed during login" };
    const max = this.#maxSessionsPerUser;
    if (
      max > 0 && session.user?.userId !== user.userId && this.#registry.sessionCount(user.userId) >= max
    ) {
      this.#log.info("login.too_many_sessions", { session: session.id, userId: user.userId, remote, max });
      return { ok: false, reason: "too many sessions", status: STATUS.TOO_MANY_SESSIONS };
    }
    if (session.user && session.user.userId !== user.userId) this.#unbind(session);
    session.user = { userId: user.userId, nick: user.nick, avatar: user.avatar };
    this.#registry.bindUser(session, user.userId);
    const notifies = await this.#groups.bindAtLogin(session);
    this.#log.info("login", {
      session: session.id,
      userId: user.userId,
      protocol: session.protocol,
      registered: result.registered,
      remote: session.transport.remoteAddr,
    });
    return { ok: true, notifies };
  }

  /** Called exactly once by the transport when the connection is gone. */
  closed(session: Session): void {
    if (session.closed) return;
    session.closed = true;
    this.#unbind(session);
    this.#registry.remove(session);
  }

  #unbind(session: Session): void {
    const groups = [...session.groups];
    for (const groupId of groups) this.#registry.unbindGroup(session, groupId);
    this.#registry.unbindUser(session);
    this.#groups.sessionClosed(session, groups);
  }
}
