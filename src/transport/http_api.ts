/**
 * The HTTP side of the shared port: J-IM's API routes (working, as 2.x intended, behind the API
 * token or loopback-only) and the web pages. Returns plain responses; http_conn.ts writes them.
 */
import type { Logger } from "../log.ts";
import { parseChatRequest } from "../protocol/chat_body.ts";
import { CMD } from "../protocol/commands.ts";
import { JsonBodyError, parseJsonObject, readString, stringifySorted } from "../protocol/json.ts";
import { type HttpRequest, parseFormBody } from "../protocol/http_request.ts";
import { STATUS, type Status } from "../protocol/status.ts";
import { ReplyError } from "../services/errors.ts";
import { isValidId } from "../services/ids.ts";
import type { Delivery } from "../services/delivery.ts";
import type { MessageService } from "../services/messages.ts";
import type { SessionRegistry } from "../services/session_registry.ts";
import { constantTimeEqual } from "../services/password.ts";
import { APP_JS } from "../web/generated/app_bundle.ts";
import { INDEX_CSP, INDEX_HTML } from "../web/index_page.ts";
import { AdminApi } from "./admin_api.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface HttpApiDeps {
  apiToken: string;
  messages: MessageService;
  registry: SessionRegistry;
  /** Closes a user's sessions on every node (/api/user/close). */
  delivery: Delivery;
  log: Logger;
  /** The admin page and `/api/admin/*` (admin_api.ts); absent = not served. */
  admin?: AdminApi;
  /** `/metrics` body (metrics.ts); absent = not served. */
  metrics?: () => Promise<string>;
  /** `/readyz`: true when the listeners accept and the store answers. Absent = always ready. */
  ready?: () => Promise<boolean>;
  /**
   * Which routes this instance answers besides /healthz and /readyz (default: all). With
   * --admin-port the main port serves `app` and the admin port `ops`.
   * - app: the web client (/, /app.js) and J-IM's API (/api/message/send, /api/user/*);
   * - ops: /metrics, the admin page and /api/admin/*.
   */
  routes?: { app: boolean; ops: boolean };
}

const JSON_TYPE = "application/json; charset=utf-8";
const encoder = new TextEncoder();

function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { "content-type": JSON_TYPE, ...headers }, body: stringifySorted(value) };
}

/** J-IM's HttpResps.json bodies carry code and msg (no command). */
function statusJson(httpStatus: number, status: Status, command?: number): HttpReply {
  return json(httpStatus, { code: status.code, command, msg: status.msg });
}

function httpStatusOf(status: Status): number {
  switch (status.code) {
    case STATUS.SEND_FAILED.code:
    case STATUS.BAD_REQUEST.code:
    case STATUS.INVALID_VERIFY.code:
      return 400;
    case STATUS.FORBIDDEN.code:
      return 403;
    case STATUS.USER_NOT_FOUND.code:
      return 404;
    case STATUS.LIMIT_EXCEEDED.code:
      return 429;
    case STATUS.BUSY.code:
      return 503;
    case STATUS.INTERNAL_ERROR.code:
      return 500;
    default:
      return 200;
  }
}

function isLoopback(remote: string): boolean {
  const host = remote.startsWith("[") ? remote.slice(1, remote.indexOf("]")) : remote.replace(/:\d+$/, "");
  return host.startsWith("127.") || host === "::1" || host === "localhost" || host.startsWith("::ffff:127.");
}

export class HttpApi {
  readonly #deps: HttpApiDeps;
  readonly #token: Uint8Array;
  readonly #app: boolean;
  readonly #ops: boolean;

  constructor(deps: HttpApiDeps) {
    this.#deps = deps;
    this.#token = encoder.encode(deps.apiToken);
    this.#app = deps.routes?.app ?? true;
    this.#ops = deps.routes?.ops ?? true;
  }

  async handle(req: HttpRequest, remote: string): Promise<HttpReply> {
    try {
      return await this.#route(req, remote);
    } catch (err) {
      this.#deps.log.error("http.internal_error", { path: req.path, status: 500, error: err });
      return statusJson(500, STATUS.INTERNAL_ERROR);
    }
  }

  async #route(req: HttpRequest, remote: string): Promise<HttpReply> {
    const { path } = req;
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path === "/readyz") {
      const ready = this.#deps.ready ? await this.#deps.ready() : true;
      return ready ? json(200, { status: "ok" }) : json(503, { status: "unavailable" });
    }
    if (this.#ops) {
      if (path === "/metrics" && this.#deps.metrics) {
        const denied = this.#authorize(req, remote);
        if (denied) return denied;
        return {
          status: 200,
          headers: { "content-type": METRICS_CONTENT_TYPE },
          body: await this.#deps.metrics(),
        };
      }
      if (this.#deps.admin && AdminApi.handles(path)) {
        return await this.#deps.admin.handle(req, () => this.#authorize(req, remote));
      }
    }
    if (this.#app && !AdminApi.handles(path)) return await this.#appRoute(req, remote);
    return json(404, { code: 404, msg: "not found" });
  }

  /** The web client and J-IM's HTTP API. */
  async #appRoute(req: HttpRequest, remote: string): Promise<HttpReply> {
    const { path, method } = req;
    if (path === "/" || path === "/index.html") {
      if (method !== "GET" && method !== "HEAD") return methodNotAllowed("GET, HEAD");
      return {
        status: 200,
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-cache",
          "content-security-policy": INDEX_CSP,
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        },
        body: INDEX_HTML,
      };
    }
    if (path === "/app.js") {
      if (method !== "GET" && method !== "HEAD") return methodNotAllowed("GET, HEAD");
      return {
        status: 200,
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
        },
        body: APP_JS,
      };
    }
    if (path.startsWith("/api/")) {
      const denied = this.#authorize(req, remote);
      if (denied) return denied;
      switch (path) {
        case "/api/message/send":
          if (method !== "POST") return methodNotAllowed("POST");
          return await this.#send(req);
        case "/api/user/online":
          return this.#online(req);
        case "/api/user/close":
          return this.#close(req);
      }
    }
    return json(404, { code: 404, msg: "not found" });
  }

  /** API token (Authorization: Bearer, or ?token=); without a configured token, loopback only. */
  #authorize(req: HttpRequest, remote: string): HttpReply | undefined {
    if (this.#token.length === 0) {
      if (isLoopback(remote)) return undefined;
      return statusJson(403, STATUS.FORBIDDEN);
    }
    const auth = req.headers.get("authorization") ?? "";
    const given = auth.toLowerCase().startsWith("bearer ")
      ? auth.slice(7).trim()
      : req.query.get("token") ?? "";
    if (constantTimeEqual(encoder.encode(given), this.#token)) return undefined;
    const reply = statusJson(401, STATUS.FORBIDDEN);
    reply.headers["www-authenticate"] = 'Bearer realm="jim"';
    return reply;
  }

  /** Runs the chat command for any sender: the API is trusted (behind its token). */
  async #send(req: HttpRequest): Promise<HttpReply> {
    try {
      const body = parseJsonObject(req.body);
      const chat = parseChatRequest(body);
      const from = readString(body, "from") ?? "system";
      if (!isValidId(from)) throw new JsonBodyError("invalid from");
      const result = await this.#deps.messages.send(from, chat, { asSystem: true });
      return statusJson(200, result.online ? STATUS.OK_SEND : STATUS.OFFLINE, CMD.CHAT_RESP);
    } catch (err) {
      if (err instanceof JsonBodyError) return statusJson(400, STATUS.SEND_FAILED, CMD.CHAT_RESP);
      if (err instanceof ReplyError) return statusJson(httpStatusOf(err.status), err.status, CMD.CHAT_RESP);
      throw err;
    }
  }

  #online(req: HttpRequest): HttpReply {
    const userId = userIdParam(req);
    if (!userId) return statusJson(400, STATUS.INVALID_VERIFY);
    return statusJson(200, this.#deps.registry.isOnline(userId) ? STATUS.ONLINE : STATUS.OFFLINE);
  }

  #close(req: HttpRequest): HttpReply {
    const userId = userIdParam(req);
    if (!userId) return statusJson(400, STATUS.INVALID_VERIFY);
    const n = this.#deps.delivery.closeUser(userId, "closed by /api/user/close", { kick: true });
    this.#deps.log.info("api.user_close", { userId, sessions: n });
    return statusJson(200, STATUS.CLOSE_OK);
  }
}

function userIdParam(req: HttpRequest): string | undefined {
  const params = parseFormBody(req);
  return params.get("userid") || params.get("userId") || undefined;
}

function methodNotAllowed(allow: string): HttpReply {
  return json(405, { code: 405, msg: "method not allowed" }, { allow });
}
