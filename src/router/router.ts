/**
 * Routes a decoded request to its handler: parses the body, enforces the login guard and turns
 * every failure into a reply in one place (spec §4: unknown commands get 10017 with command 0).
 */
import type { Logger } from "../log.ts";
import { CMD, replyCommandOf } from "../protocol/commands.ts";
import { JsonBodyError, type JsonObject, parseJsonObject } from "../protocol/json.ts";
import { type OutPacket, statusPacket } from "../protocol/packet.ts";
import { STATUS } from "../protocol/status.ts";
import { DisconnectError, ReplyError } from "../services/errors.ts";
import { LIMIT_CLOSE_CODE, STRIKE_WINDOW_MS } from "../services/limits.ts";
import type { Session } from "../services/session.ts";
import type { RequestContext, Route, Services } from "./context.ts";
import { ROUTES } from "./routes.ts";

const EMPTY_BODY: JsonObject = Object.freeze({}) as JsonObject;

/** True at most once per window for a session. */
class OncePerSessionWindow {
  readonly #windowMs: number;
  readonly #last = new WeakMap<Session, number>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  check(session: Session): boolean {
    const now = Date.now();
    const last = this.#last.get(session);
    if (last !== undefined && now - last < this.#windowMs) return false;
    this.#last.set(session, now);
    return true;
  }
}

/**
 * Deferred requests one connection may have in flight. Past it the router waits for the oldest
 * before taking the next request, which stops reading from that client (backpressure).
 */
export const MAX_DEFERRED_PER_SESSION = 256;

export const UNKNOWN_CMD_PACKET = statusPacket(CMD.UNKNOWN, STATUS.UNKNOWN_CMD);

export class Router {
  readonly #services: Services;
  readonly #log: Logger;
  readonly #routes: ReadonlyMap<number, Route>;
  readonly #deferred = new WeakMap<Session, Promise<void>[]>();
  /** One rate-limit log line per connection per window. */
  readonly #limitLog = new OncePerSessionWindow(STRIKE_WINDOW_MS);
  /** Set by drain(): requests are no longer handled (the server is stopping). */
  #draining = false;
  /** Requests being handled plus deferred work not yet answered, over every session. */
  #active = 0;
  #onIdle: (() => void)[] = [];

  constructor(services: Services, routes: ReadonlyMap<number, Route> = ROUTES) {
    this.#services = services;
    this.#log = services.log;
    this.#routes = routes;
  }

  /**
   * Graceful shutdown: requests read from now on are dropped unanswered (a chat sent now is not
   * stored and not acked; the client resends it to the next server). Requests already taken
   * finish: see idle().
   */
  drain(): void {
    this.#draining = true;
  }

  /** Resolves once no request is being handled and every deferred reply (chat acks) went out. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onIdle.push(resolve));
  }

  #done(): void {
    if (--this.#active > 0 || this.#onIdle.length === 0) return;
    const waiters = this.#onIdle;
    this.#onIdle = [];
    for (const resolve of waiters) resolve();
  }

  /** A J-IM TCP frame: the header's cmd routes, the body is JSON (the body's `cmd` is ignored). */
  async dispatchFrame(session: Session, cmd: number, body: Uint8Array, synSeq: number): Promise<void> {
    if (this.#draining) return;
    const route = this.#routes.get(cmd);
    // Unknown commands and bad bodies count against the request rate too.
    if (!route) {
      if (this.#admit(session, cmd, EMPTY_BODY, synSeq)) this.#reply(session, UNKNOWN_CMD_PACKET, synSeq);
      return;
    }
    let parsed = EMPTY_BODY;
    if (!route.rawBody) {
      try {
        parsed = body.length === 0 ? EMPTY_BODY : parseJsonObject(body);
      } catch (err) {
        if (this.#admit(session, cmd, EMPTY_BODY, synSeq)) this.#badBody(session, cmd, err, synSeq);
        return;
      }
    }
    await this.#run(session, route, cmd, parsed, synSeq);
  }

  /** A WebSocket message: JSON routed by its `cmd` field (required, spec §2). */
  async dispatchMessage(session: Session, message: string | Uint8Array): Promise<void> {
    if (this.#draining) return;
    let parsed: JsonObject;
    try {
      parsed = parseJsonObject(message);
    } catch {
      if (this.#admit(session, CMD.UNKNOWN, EMPTY_BODY, 0)) this.#reply(session, UNKNOWN_CMD_PACKET, 0);
      return;
    }
    let cmd: number | undefined;
    try {
      const v = parsed.cmd;
      cmd = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;
    } catch {
      cmd = undefined;
    }
    const route = cmd === undefined ? undefined : this.#routes.get(cmd);
    if (!route || cmd === undefined) {
      if (this.#admit(session, CMD.UNKNOWN, EMPTY_BODY, 0)) this.#reply(session, UNKNOWN_CMD_PACKET, 0);
      return;
    }
    await this.#run(session, route, cmd, parsed, 0);
  }

  /** A request built by the server itself, e.g. the login J-IM performs at WebSocket upgrade. */
  async dispatchObject(session: Session, cmd: number, body: JsonObject): Promise<void> {
    if (this.#draining) return;
    const route = this.#routes.get(cmd);
    if (!route) return this.#reply(session, UNKNOWN_CMD_PACKET, 0);
    await this.#run(session, route, cmd, body, 0, false);
  }

  async #run(
    session: Session,
    route: Route,
    cmd: number,
    body: JsonObject,
    synSeq: number,
    fromClient = true,
  ): Promise<void> {
    this.#active++;
    try {
      await this.#handle(session, route, cmd, body, synSeq, fromClient);
    } finally {
      this.#done();
    }
  }

  async #handle(
    session: Session,
    route: Route,
    cmd: number,
    body: JsonObject,
    synSeq: number,
    fromClient: boolean,
  ): Promise<void> {
    if (fromClient && !this.#admit(session, cmd, body, synSeq)) return;
    if (route.requiresLogin && !session.user) {
      return this.#reply(session, statusPacket(replyCommandOf(cmd), STATUS.NOT_LOGGED_IN), synSeq);
    }
    const ctx: RequestContext = {
      session,
      cmd,
      body,
      services: this.#services,
      reply: (packet) => this.#replyInOrder(session, cmd, packet, synSeq),
      defer: (work) => this.#defer(session, cmd, work, synSeq),
      replyAndClose: (packet, reason) => {
        const closeNow = () => {
          this.#reply(session, packet, synSeq);
          session.close(reason);
        };
        // Acks of earlier chats still committing go out first.
        const pending = this.#lastDeferred(session);
        if (pending) this.#defer(session, cmd, pending.then(closeNow), synSeq);
        else closeNow();
      },
    };
    try {
      await route.handler(ctx);
    } catch (err) {
      const pending = this.#lastDeferred(session);
      // Behind chats still waiting for their commit, a refusal waits its turn too.
      if (pending) this.#defer(session, cmd, pending.then(() => Promise.reject(err)), synSeq);
      else this.#fail(session, cmd, err, synSeq);
    }
    const queue = this.#deferred.get(session);
    if (queue && queue.length >= MAX_DEFERRED_PER_SESSION) await queue[0];
  }

  /**
   * Deferred work completes in request order (commits finish in the order they were made), and
   * its outcome — the packet it resolves with, or its error — is the reply.
   */
  #defer(session: Session, cmd: number, work: Promise<OutPacket | void>, synSeq: number): void {
    let queue = this.#deferred.get(session);
    if (!queue) this.#deferred.set(session, queue = []);
    this.#active++;
    const tracked: Promise<void> = work.then(
      (packet) => {
        if (packet) this.#reply(session, packet, synSeq);
      },
      (err) => this.#fail(session, cmd, err, synSeq),
    ).finally(() => {
      const i = queue.indexOf(tracked);
      if (i >= 0) queue.splice(i, 1);
      this.#done();
    });
    queue.push(tracked);
  }

  #lastDeferred(session: Session): Promise<void> | undefined {
    const queue = this.#deferred.get(session);
    return queue && queue.length > 0 ? queue[queue.length - 1] : undefined;
  }

  /**
   * Request rates (--rate-per-connection, --rate-per-user): every request a client sends takes a
   * token. Without one it is answered 10026 (the connection stays; extension sessions get
   * `data.retryAfter` in ms, and for a chat its `id`); after STRIKES_TO_DISCONNECT refusals
   * within STRIKE_WINDOW_MS the connection is closed after that reply.
   */
  #admit(session: Session, cmd: number, body: JsonObject, synSeq: number): boolean {
    const limits = this.#services.limits;
    const wait = limits.admit(session);
    if (wait === 0) return true;
    const disconnect = limits.strike(session);
    let extra: JsonObject | undefined;
    if (session.extensions) {
      const id = cmd === CMD.CHAT_REQ ? body.id : undefined;
      extra = { data: typeof id === "string" ? { id, retryAfter: wait } : { retryAfter: wait } };
    }
    const packet = statusPacket(replyCommandOf(cmd), STATUS.LIMIT_EXCEEDED, extra);
    if (!disconnect) {
      if (this.#limitLog.check(session)) {
        this.#log.info("request.rate_limited", {
          session: session.id,
          userId: session.userId,
          cmd,
          code: STATUS.LIMIT_EXCEEDED.code,
        });
        this.#recordError(session, cmd, "request.rate_limited", STATUS.LIMIT_EXCEEDED.code, "rate limited");
      }
      this.#replyInOrder(session, cmd, packet, synSeq);
      return false;
    }
    this.#log.info("request.rate_disconnect", {
      session: session.id,
      code: STATUS.LIMIT_EXCEEDED.code,
      userId: session.userId,
      remote: session.transport.remoteAddr,
    });
    this.#recordError(session, cmd, "request.rate_disconnect", STATUS.LIMIT_EXCEEDED.code, "rate limited");
    const closeNow = () => {
      this.#reply(session, packet, synSeq);
      session.close("rate limit", LIMIT_CLOSE_CODE);
    };
    const pending = this.#lastDeferred(session);
    if (pending) this.#defer(session, cmd, pending.then(closeNow), synSeq);
    else closeNow();
    return false;
  }

  /** A handler's reply leaves after the replies of earlier requests that are still deferred. */
  #replyInOrder(session: Session, cmd: number, packet: OutPacket, synSeq: number): void {
    const pending = this.#lastDeferred(session);
    if (pending) this.#defer(session, cmd, pending.then(() => packet), synSeq);
    else this.#reply(session, packet, synSeq);
  }

  #badBody(session: Session, cmd: number, err: unknown, synSeq: number): void {
    // cmd 14 keeps J-IM's answer to an unparsable body (spec §5.7).
    const status = cmd === CMD.CLOSE_REQ ? STATUS.INVALID_VERIFY : STATUS.BAD_REQUEST;
    this.#log.info("request.bad_body", { session: session.id, cmd, code: status.code, error: String(err) });
    this.#recordError(session, cmd, "request.bad_body", status.code, err);
    this.#reply(session, statusPacket(replyCommandOf(cmd), status), synSeq);
  }

  #fail(session: Session, cmd: number, err: unknown, synSeq: number): void {
    if (err instanceof ReplyError) {
      this.#log.info("request.refused", {
        session: session.id,
        cmd,
        code: err.status.code,
        detail: err.message,
      });
      this.#recordError(session, cmd, "request.refused", err.status.code, err);
      this.#reply(session, statusPacket(err.command ?? replyCommandOf(cmd), err.status, err.extra), synSeq);
    } else if (err instanceof JsonBodyError) {
      this.#badBody(session, cmd, err, synSeq);
    } else if (err instanceof DisconnectError) {
      this.#log.info("request.disconnect", {
        session: session.id,
        cmd,
        code: err.status?.code,
        reason: err.message,
      });
      this.#recordError(session, cmd, "request.disconnect", err.status?.code, err);
      if (err.status) {
        this.#reply(session, statusPacket(err.command ?? replyCommandOf(cmd), err.status), synSeq);
      }
      session.close(err.message);
    } else {
      this.#log.error("request.internal_error", {
        session: session.id,
        cmd,
        code: STATUS.INTERNAL_ERROR.code,
        error: err,
      });
      this.#recordError(session, cmd, "request.internal_error", STATUS.INTERNAL_ERROR.code, err);
      this.#reply(session, statusPacket(replyCommandOf(cmd), STATUS.INTERNAL_ERROR), synSeq);
    }
  }

  /** For the admin page: what failed, for whom (never the request body). */
  #recordError(session: Session, cmd: number, event: string, code: number | undefined, err: unknown): void {
    const name = err instanceof Error ? err.name : typeof err;
    this.#services.stats.error({
      event,
      code,
      // The error's name says more than the code only for unexpected errors.
      error: code === undefined || code === STATUS.INTERNAL_ERROR.code ? name : undefined,
      message: err instanceof Error ? err.message : String(err),
      cmd,
      userId: session.userId,
      session: session.id,
    });
  }

  #reply(session: Session, packet: OutPacket, synSeq: number): void {
    if (!session.closed) session.transport.send(packet, synSeq);
  }
}
