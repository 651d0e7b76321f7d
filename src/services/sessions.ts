/**
 * Session lifecycle: open, login (bind to a user and the user's groups), close (unbind and
 * notify the groups). Shared by every transport, so TCP and WebSocket logins behave the same.
 */
import type { Logger } from "../log.ts";
import type { OutPacket } from "../protocol/packet.ts";
import type { AuthService, Credentials } from "./auth/auth.ts";
import type { GroupService } from "./groups.ts";
import type { Session } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";
import type { Stats } from "./stats.ts";

export type SessionLogin =
  | { ok: true; notifies: OutPacket[] }
  | { ok: false; reason: string };

export class SessionService {
  readonly #registry: SessionRegistry;
  readonly #auth: AuthService;
  readonly #groups: GroupService;
  readonly #log: Logger;
  readonly #stats: Stats;

  readonly #defaultGroups: readonly string[];

  constructor(
    registry: SessionRegistry,
    auth: AuthService,
    groups: GroupService,
    log: Logger,
    options: { defaultGroups: readonly string[] },
    stats: Stats,
  ) {
    this.#registry = registry;
    this.#auth = auth;
    this.#groups = groups;
    this.#log = log;
    this.#defaultGroups = options.defaultGroups;
    this.#stats = stats;
  }

  opened(session: Session): void {
    this.#registry.add(session);
  }

  /**
   * Authenticates and binds the session. A session that was logged in as someone else is first
   * unbound from that user (J-IM kept both bindings, spec §10.2). Returns the cmd 9 notifies for
   * the session itself, to be sent before the cmd 6 reply.
   */
  async login(session: Session, credentials: Credentials): Promise<SessionLogin> {
    const result = await this.#auth.login({ ...credentials, remote: session.transport.remoteAddr });
    this.#stats.login(result.ok);
    if (!result.ok) {
      this.#log.info("login.failed", {
        session: session.id,
        userId: credentials.userId,
        reason: result.reason,
        remote: session.transport.remoteAddr,
      });
      return result;
    }
    const { user } = result;
    // New accounts join the default groups (J-IM's demo puts everyone in group 100), even if
    // this connection is already gone.
    if (result.registered) {
      for (const groupId of this.#defaultGroups) await this.#groups.addMember(groupId, user.userId);
    }
    if (session.closed) return { ok: false, reason: "connection closed during login" };
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
