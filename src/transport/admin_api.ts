/**
 * The admin side of the HTTP port: the page (`/admin`, `/admin.js`) and its JSON API under
 * `/api/admin/`, behind the same authorization as `/api/*` (http_api.ts mounts this and hands
 * in its check). The page itself is public: it holds no data and asks for the API token.
 *
 *   GET  /api/admin/overview                        connections, online users, rates, errors
 *   GET  /api/admin/groups?limit=100&after=g        groups with member and online counts
 *   GET  /api/admin/groups/members?groupId=g        a group's first 1000 members, online or not
 *   POST /api/admin/kick     {"userId":"u"}         closes every session of u → {"closed": n}
 *   POST /api/admin/message  {"to":"u"|"groupId":"g","content":"…","from"?:"system"}
 *                                                   a system message → J-IM cmd 12 body
 */
import type { Logger } from "../log.ts";
import { countConnections } from "./metrics.ts";
import type { ChatRequest } from "../protocol/chat_body.ts";
import { CMD } from "../protocol/commands.ts";
import type { HttpRequest } from "../protocol/http_request.ts";
import {
  JsonBodyError,
  type JsonObject,
  parseJsonObject,
  readString,
  stringifySorted,
} from "../protocol/json.ts";
import { STATUS, type Status } from "../protocol/status.ts";
import { ReplyError } from "../services/errors.ts";
import type { Delivery } from "../services/delivery.ts";
import type { GroupService } from "../services/groups.ts";
import { isValidId } from "../services/ids.ts";
import type { MessageService } from "../services/messages.ts";
import type { Session } from "../services/session.ts";
import type { SessionRegistry } from "../services/session_registry.ts";
import type { Stats } from "../services/stats.ts";
import { ADMIN_CSP, ADMIN_HTML, ADMIN_JS } from "../web/admin_page.ts";
import type { HttpReply } from "./http_api.ts";

export interface AdminApiDeps {
  registry: SessionRegistry;
  /** Kicks reach a user's sessions on every node. */
  delivery: Delivery;
  groups: GroupService;
  messages: MessageService;
  stats: Stats;
  log: Logger;
  version: string;
  /** Open client sockets of every protocol (the listeners' shared counter). */
  connections: () => number;
}

/** Online users listed by the overview (the count covers all of them). */
export const MAX_OVERVIEW_USERS = 500;
/** Members listed for one group. */
export const MAX_GROUP_MEMBERS_LISTED = 1000;
export const DEFAULT_GROUPS_PAGE = 100;
export const MAX_GROUPS_PAGE = 1000;

const JSON_TYPE = "application/json; charset=utf-8";

/** Headers of every admin response: nothing cached, nothing sniffed, never framed. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpReply {
  return {
    status,
    headers: { "content-type": JSON_TYPE, "cache-control": "no-store", ...COMMON_HEADERS, ...headers },
    body: stringifySorted(value),
  };
}

function error(status: number, message: string, headers: Record<string, string> = {}): HttpReply {
  return json(status, { error: message }, headers);
}

function methodNotAllowed(allow: string): HttpReply {
  return error(405, "method not allowed", { allow });
}

/** HTTP status of a send's J-IM status; any other refusal is 400. */
const CHAT_HTTP_STATUS: ReadonlyMap<number, number> = new Map([
  [STATUS.OK_SEND.code, 200],
  [STATUS.OFFLINE.code, 200],
  [STATUS.FORBIDDEN.code, 403],
  [STATUS.USER_NOT_FOUND.code, 404],
  [STATUS.INTERNAL_ERROR.code, 500],
  [STATUS.BUSY.code, 503],
]);

/** A send's answer: J-IM's cmd 12 body. */
function chatStatus(status: Status): HttpReply {
  const http = CHAT_HTTP_STATUS.get(status.code) ?? 400;
  return json(http, { code: status.code, command: CMD.CHAT_RESP, msg: status.msg });
}

export class AdminApi {
  readonly #deps: AdminApiDeps;

  constructor(deps: AdminApiDeps) {
    this.#deps = deps;
  }

  /** The paths this serves (http_api.ts routes them here). */
  static handles(path: string): boolean {
    return path === "/admin" || path === "/admin.js" || path.startsWith("/api/admin/");
  }

  /** `authorize` is the `/api/*` check: a reply refusing the request, or undefined to go on. */
  async handle(req: HttpRequest, authorize: () => HttpReply | undefined): Promise<HttpReply> {
    const { path, method } = req;
    if (path === "/admin" || path === "/admin.js") {
      if (method !== "GET" && method !== "HEAD") return methodNotAllowed("GET, HEAD");
      const page = path === "/admin";
      return {
        status: 200,
        headers: {
          "content-type": page ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8",
          "cache-control": "no-cache",
          "content-security-policy": ADMIN_CSP,
          ...COMMON_HEADERS,
        },
        body: page ? ADMIN_HTML : ADMIN_JS,
      };
    }
    const denied = authorize();
    if (denied) return denied;
    const route = ROUTES[path.slice("/api/admin/".length)];
    if (!route) return error(404, "not found");
    if (method !== route.method) return methodNotAllowed(route.method);
    try {
      return await route.run(this, req);
    } catch (err) {
      if (err instanceof JsonBodyError) return error(400, err.message);
      throw err;
    }
  }

  overview(): HttpReply {
    const { registry, stats } = this.#deps;
    const connections = countConnections(registry, this.#deps.connections());
    const remote = registry.remote;
    const users = firstSorted(registry.onlineUserIds(), MAX_OVERVIEW_USERS).map((userId) => {
      const sessions = [...registry.sessionsOf(userId)].sort((a, b) => a.id - b.id);
      const elsewhere = remote?.user(userId);
      const user: JsonObject = {
        userId,
        nick: sessions[0]?.user?.nick ?? elsewhere?.nick ?? userId,
        sessions: sessions.map(sessionInfo),
      };
      // --workers: sessions per worker (`sessions` lists the answering worker's only).
      if (remote) {
        const nodes: Record<string, number> = Object.fromEntries(elsewhere?.nodes ?? []);
        if (sessions.length > 0) nodes[remote.node] = sessions.length;
        user.nodes = nodes;
      }
      return user;
    });
    const snapshot = stats.snapshot();
    return json(200, {
      node: remote?.node,
      // --workers: logged-in sessions on each worker (this one counted from its registry).
      nodes: remote ? nodeSessions(registry, remote.node, remote.sessionsByNode()) : undefined,
      connections,
      onlineUsers: registry.onlineUserCount,
      users,
      rates: { messagesPerSecond: snapshot.messagesPerSecond, loginsPerSecond: snapshot.loginsPerSecond },
      totals: snapshot.totals,
      recentErrors: snapshot.recentErrors,
      uptimeSeconds: stats.uptimeSeconds,
      version: this.#deps.version,
    });
  }

  async groups(req: HttpRequest): Promise<HttpReply> {
    const limitText = req.query.get("limit");
    const limit = limitText === null || limitText === "" ? DEFAULT_GROUPS_PAGE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GROUPS_PAGE) {
      return error(400, `limit must be an integer from 1 to ${MAX_GROUPS_PAGE}`);
    }
    const after = req.query.get("after") ?? "";
    const { groups } = this.#deps;
    const page = await groups.list(after, limit);
    const out = page.map((g) => ({
      groupId: g.groupId,
      name: g.name,
      avatar: g.avatar,
      createdAt: g.createdAt,
      memberCount: g.memberCount,
      onlineCount: groups.onlineMemberCount(g.groupId),
    }));
    return json(200, {
      groups: out,
      next: page.length === limit ? page[page.length - 1].groupId : undefined,
    });
  }

  async members(req: HttpRequest): Promise<HttpReply> {
    const groupId = req.query.get("groupId") ?? "";
    if (!isValidId(groupId)) return error(400, "groupId is required");
    const { groups, registry } = this.#deps;
    const group = await groups.get(groupId);
    if (!group) return error(404, "no such group");
    const ids = await groups.memberPage(groupId, MAX_GROUP_MEMBERS_LISTED + 1);
    const truncated = ids.length > MAX_GROUP_MEMBERS_LISTED;
    if (truncated) ids.length = MAX_GROUP_MEMBERS_LISTED;
    return json(200, {
      groupId,
      name: group.name,
      onlineCount: groups.onlineMemberCount(groupId),
      members: ids.map((userId) => ({ userId, online: registry.isOnline(userId) })),
      truncated,
    });
  }

  kick(req: HttpRequest): HttpReply {
    const userId = readString(parseJsonObject(req.body), "userId");
    if (!isValidId(userId)) return error(400, "userId is required");
    const closed = this.#deps.delivery.closeUser(userId, "closed by admin", { kick: true });
    this.#deps.log.info("admin.kick", { userId, sessions: closed });
    return json(200, { closed });
  }

  async message(req: HttpRequest): Promise<HttpReply> {
    const body = parseJsonObject(req.body);
    const to = readString(body, "to");
    const groupId = readString(body, "groupId");
    const content = readString(body, "content");
    const from = readString(body, "from") ?? "system";
    if ((to === undefined) === (groupId === undefined)) return error(400, 'give either "to" or "groupId"');
    if (!isValidId(to ?? groupId)) return error(400, to !== undefined ? "invalid to" : "invalid groupId");
    if (!content) return error(400, "content is required");
    if (!isValidId(from)) return error(400, "invalid from");
    if (groupId !== undefined && !await this.#deps.groups.get(groupId)) return error(404, "no such group");
    const chat: ChatRequest = to !== undefined
      ? { chatType: 2, to, msgType: 0, content }
      : { chatType: 1, groupId, msgType: 0, content };
    try {
      const result = await this.#deps.messages.send(from, chat, { asSystem: true });
      this.#deps.log.info("admin.message", { from, to, groupId, id: result.message.id });
      return chatStatus(result.online ? STATUS.OK_SEND : STATUS.OFFLINE);
    } catch (err) {
      if (err instanceof ReplyError) return chatStatus(err.status);
      throw err;
    }
  }
}

interface AdminRoute {
  method: "GET" | "POST";
  run(api: AdminApi, req: HttpRequest): HttpReply | Promise<HttpReply>;
}

const ROUTES: Readonly<Record<string, AdminRoute>> = Object.assign(
  Object.create(null),
  {
    "overview": { method: "GET", run: (api) => api.overview() },
    "groups": { method: "GET", run: (api, req) => api.groups(req) },
    "groups/members": { method: "GET", run: (api, req) => api.members(req) },
    "kick": { method: "POST", run: (api, req) => api.kick(req) },
    "message": { method: "POST", run: (api, req) => api.message(req) },
  } satisfies Record<string, AdminRoute>,
);

function nodeSessions(
  registry: SessionRegistry,
  self: string,
  others: ReadonlyMap<string, number>,
): Record<string, number> {
  let own = 0;
  for (const s of registry.all()) if (s.userId !== undefined && !s.closed) own++;
  return { ...Object.fromEntries(others), [self]: own };
}

function sessionInfo(s: Session): JsonObject {
  return { id: s.id, protocol: s.protocol, remote: s.transport.remoteAddr, connectedAt: s.connectedAt };
}

/** The `k` smallest ids in ascending order, without sorting all of them. */
export function firstSorted(ids: Iterable<string>, k: number): string[] {
  const out: string[] = [];
  for (const id of ids) {
    if (out.length === k && !(id < out[k - 1])) continue;
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (out[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    out.splice(lo, 0, id);
    if (out.length > k) out.pop();
  }
  return out;
}
