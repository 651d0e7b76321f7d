/**
 * SIGHUP's side of the composition root: puts the live options (those marked `reload` in the
 * schema) into the running objects. Which options changed is config/reload.ts's business.
 */
import type { JimConfig } from "./config/schema.ts";
import type { SniffingListener } from "./listener/listener.ts";
import type { Logger } from "./log.ts";
import type { ConnectionGate, RequestLimiter } from "./services/limits.ts";
import type { LoginGuard } from "./services/login_guard.ts";
import type { SessionService } from "./services/sessions.ts";
import type { TransportLimits } from "./transport/conn_context.ts";

export interface LiveParts {
  log: Logger;
  /** Read by the transports for each new connection (and WebSocket upgrade). */
  limits: TransportLimits;
  listeners: readonly SniffingListener[];
  gate: ConnectionGate;
  sessions: SessionService;
  requestLimiter: RequestLimiter;
  loginGuard: LoginGuard;
}

/**
 * Applies the live options of `c`. Limits act from the next check on: request rates for open
 * connections too; connection and session counts above a lowered limit are not cut; transport
 * limits (body size, outbox, timeouts, origins) apply to connections opened from now on.
 */
export function applyLiveOptions(parts: LiveParts, c: JimConfig): void {
  const { limits } = parts;
  parts.log.setLevel(c.logLevel);
  limits.maxBody = c.maxBody;
  limits.outboxMaxBytes = c.outboxMaxBytes;
  limits.handshakeTimeout = c.handshakeTimeout;
  limits.loginTimeout = c.loginTimeout;
  limits.allowedOrigins = c.allowedOrigins;
  for (const l of parts.listeners) l.setMaxConnections(c.maxConnections);
  parts.gate.configure({ maxPerIp: c.maxConnectionsPerIp, connectRatePerIp: c.connectRatePerIp });
  parts.sessions.setMaxSessionsPerUser(c.maxSessionsPerUser);
  parts.requestLimiter.configure({ perConnection: c.ratePerConnection, perUser: c.ratePerUser });
  parts.loginGuard.configure({
    failuresPerUser: c.loginFailuresPerUser,
    failuresPerIp: c.loginFailuresPerIp,
    lockoutMs: c.loginLockout * 1000,
  });
}
