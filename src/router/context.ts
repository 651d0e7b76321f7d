/** What a command handler gets: the session, the parsed body, the services and a reply channel. */
import type { Logger } from "../log.ts";
import type { JsonObject } from "../protocol/json.ts";
import type { OutPacket } from "../protocol/packet.ts";
import type { AuthService } from "../services/auth/auth.ts";
import type { ConversationService } from "../services/conversations.ts";
import type { Delivery } from "../services/delivery.ts";
import type { GroupAdminService } from "../services/group_admin.ts";
import type { GroupService } from "../services/groups.ts";
import type { RequestLimiter } from "../services/limits.ts";
import type { MessageService } from "../services/messages.ts";
import type { Session } from "../services/session.ts";
import type { SessionRegistry } from "../services/session_registry.ts";
import type { SessionService } from "../services/sessions.ts";
import type { Stats } from "../services/stats.ts";

export interface Services {
  readonly sessions: SessionService;
  readonly auth: AuthService;
  readonly groups: GroupService;
  /** Group permissions: joins, invites, kicks, bans, mutes, roles, disband. */
  readonly groupAdmin: GroupAdminService;
  readonly messages: MessageService;
  readonly registry: SessionRegistry;
  readonly delivery: Delivery;
  readonly log: Logger;
  readonly conversations: ConversationService;
  /** Counters, rates and recent errors for the admin page. */
  readonly stats: Stats;
  /** Request rates per connection and per user (--rate-per-connection, --rate-per-user). */
  readonly limits: RequestLimiter;
  readonly options: {
    /** Most offline messages in one cmd 20 reply or push batch. */
    readonly maxOfflineBatch: number;
    /** Push queued offline messages after login (`--push-offline`). */
    readonly pushOffline: boolean;
  };
}

export interface RequestContext {
  readonly session: Session;
  readonly cmd: number;
  /** The JSON body; empty for commands whose body is not parsed (heartbeat). */
  readonly body: JsonObject;
  readonly services: Services;
  /** Sends to the requesting session, carrying the request's synSeq (TCP). */
  reply(packet: OutPacket): void;
  /**
   * The rest of this request finishes later (e.g. waiting for a commit): the connection may go
   * on with its next request meanwhile. The packet `work` resolves with is the reply; its
   * failure is answered like a handler error. Replies still leave in request order.
   */
  defer(work: Promise<OutPacket | void>): void;
  /** Sends the packet, then closes the connection. */
  replyAndClose(packet: OutPacket, reason: string): void;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  readonly handler: Handler;
  /** Refused with 10022 before login. */
  readonly requiresLogin: boolean;
  /** The body is not parsed (J-IM's TCP heartbeat carries one raw byte; the handshake body is ignored). */
  readonly rawBody?: boolean;
}
