/**
 * The composition root: builds the store, services, router and listeners from a config.
 * Importing this module has no side effects; main.ts and the tests call createApp().
 */
import { join } from "node:path";
import type { JimConfig } from "./config/schema.ts";
import { createLogger, type Logger } from "./log.ts";
import { type ListenerOptions, type ProtocolName, SniffingListener } from "./listener/listener.ts";
import type { Services } from "./router/context.ts";
import { Router } from "./router/router.ts";
import { AuthService, loadAuthBackends } from "./services/auth/auth.ts";
import { OPEN_MODE_WARNING } from "./services/auth/open.ts";
import { Delivery } from "./services/delivery.ts";
import { GroupService } from "./services/groups.ts";
import { GroupAdminService } from "./services/group_admin.ts";
import { MessageService } from "./services/messages.ts";
import { ConversationService } from "./services/conversations.ts";
import { SessionRegistry } from "./services/session_registry.ts";
import { SessionService } from "./services/sessions.ts";
import { RetentionJob } from "./services/retention.ts";
import { Stats } from "./services/stats.ts";
import { WorkerStore } from "./store/worker/worker_store.ts";
import { acquireDataDirLock, type DataDirLock } from "./store/data_dir_lock.ts";
import type { Store } from "./store/store.ts";
import type { ConnContext } from "./transport/conn_context.ts";
import { HttpApi } from "./transport/http_api.ts";
import { AdminApi } from "./transport/admin_api.ts";
import { VERSION } from "./version.ts";

export interface App {
  readonly config: JimConfig;
  readonly log: Logger;
  readonly services: Services;
  readonly store: Store;
  readonly retention: RetentionJob;
  /** Bound addresses, available after start(). */
  readonly addrs: { main: Deno.NetAddr; tcp?: Deno.NetAddr; http?: Deno.NetAddr };
  start(): void;
  stop(): Promise<void>;
}

export const DB_FILE_NAME = "jim.db";

export function databasePath(config: Pick<JimConfig, "dataDir">): string {
  return join(config.dataDir, DB_FILE_NAME);
}

export interface AppOptions {
  log?: Logger;
  /** A store to use instead of opening the SQLite database of the data dir (tests). */
  store?: Store;
  /** Called if the store's worker dies: the process cannot serve anymore and should exit. */
  onFatal?: (error: Error) => void;
}

export async function createApp(config: JimConfig, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger({
    level: config.logLevel,
    format: config.logFormat === "auto" ? (Deno.stderr.isTerminal() ? "text" : "json") : config.logFormat,
  });
  // Key files first: a bad --jwt-public-key fails the start before the data dir is touched.
  const authBackends = await loadAuthBackends({
    mode: config.auth,
    jwtSecret: config.jwtSecret,
    jwtPublicKey: config.jwtPublicKey,
    jwtJwks: config.jwtJwks,
    jwtAudience: config.jwtAudience,
    jwtIssuer: config.jwtIssuer,
    jwtLeeway: config.jwtLeeway,
    webhookUrl: config.authWebhookUrl,
    webhookTimeout: config.authWebhookTimeout,
    webhookCache: config.authWebhookCache,
  }, (path) => Deno.readTextFile(path));
  if (config.auth === "open") log.warn("auth.open_mode", { warning: OPEN_MODE_WARNING });
  let store = options.store;
  let lock: DataDirLock | undefined;
  if (!store) {
    Deno.mkdirSync(config.dataDir, { recursive: true });
    // One server per data dir (a second one fails here); `jim restore` also refuses while it is held.
    lock = acquireDataDirLock(config.dataDir);
    try {
      // The database lives in a worker thread: fsyncs and checkpoints never stall the network loop.
      store = await WorkerStore.open({
        path: databasePath(config),
        onFatal: (error) => {
          log.error("store.fatal", { error });
          options.onFatal?.(error);
        },
      });
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  const stats = new Stats();
  const registry = new SessionRegistry();
  const delivery = new Delivery(registry);
  const auth = new AuthService(store, {
    ...authBackends,
    registration: config.registration,
    passwordIterations: config.passwordIterations,
    tokenTtl: config.tokenTtl,
  }, log);
  const groups = new GroupService(store, registry, delivery, log);
  const messages = new MessageService(store, registry, groups, delivery, log, {
    deliverOwn: config.deliverOwn,
    recallWindow: config.recallWindow,
  }, stats);
  const conversations = new ConversationService(store, groups, delivery, log);
  const groupAdmin = new GroupAdminService(store, groups, registry, delivery, log);
  const sessions = new SessionService(
    registry,
    auth,
    groups,
    log,
    { defaultGroups: config.defaultGroups },
    stats,
  );
  const services: Services = {
    sessions,
    auth,
    groups,
    groupAdmin,
    messages,
    registry,
    delivery,
    log,
    conversations,
    stats,
    options: { maxOfflineBatch: config.maxOfflineBatch, pushOffline: config.pushOffline },
  };
  // Shared by the app's listeners: the connection limit and the admin page count them together.
  const connections = { active: 0 };
  const admin = new AdminApi({
    registry,
    groups,
    messages,
    stats,
    log,
    version: VERSION,
    connections: () => connections.active,
  });
  const ctx: ConnContext = {
    router: new Router(services),
    sessions,
    http: new HttpApi({ apiToken: config.apiToken, messages, registry, log, admin }),
    limits: {
      maxBody: config.maxBody,
      outboxMaxBytes: config.outboxMaxBytes,
      handshakeTimeout: config.handshakeTimeout,
      allowedOrigins: config.allowedOrigins,
    },
    log,
  };

  const retention = new RetentionJob(store, {
    retentionDays: config.retentionDays,
    retentionMaxMessages: config.retentionMaxMessages,
    intervalMs: 60_000,
    batchLimit: 1000,
  }, log);

  const listeners: SniffingListener[] = [];
  const addrs = {} as App["addrs"];
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  const listen = (port: number, protocols: readonly ProtocolName[]) => {
    const opts: ListenerOptions = {
      hostname: config.host,
      port,
      protocols,
      maxConnections: config.maxConnections,
      counter: connections,
    };
    const l = new SniffingListener(opts, ctx);
    listeners.push(l);
    return l;
  };

  return {
    config,
    log,
    services,
    store,
    retention,
    addrs,
    start() {
      addrs.main = listen(config.port, config.protocols).addr;
      if (config.tcpPort >= 0) addrs.tcp = listen(config.tcpPort, ["tcp"]).addr;
      if (config.httpPort >= 0) addrs.http = listen(config.httpPort, ["http", "ws"]).addr;
      for (const l of listeners) l.start();
      retention.start();
      if (config.heartbeatTimeout > 0) {
        heartbeatTimer = setInterval(
          () => closeIdle(registry, config.heartbeatTimeout, log),
          config.heartbeatTimeout,
        );
      }
      log.info("server.started", {
        main: `${addrs.main.hostname}:${addrs.main.port}`,
        protocols: config.protocols.join(","),
        tcp: addrs.tcp ? `${addrs.tcp.hostname}:${addrs.tcp.port}` : undefined,
        http: addrs.http ? `${addrs.http.hostname}:${addrs.http.port}` : undefined,
        dataDir: config.dataDir,
      });
    },
    async stop() {
      clearInterval(heartbeatTimer);
      await retention.stop();
      await Promise.all(listeners.map((l) => l.stop()));
      try {
        await store!.close();
      } finally {
        lock?.release();
      }
      log.info("server.stopped");
    },
  };
}

/** J-IM §10.9: close connections silent in both directions for longer than the timeout. */
function closeIdle(registry: SessionRegistry, timeout: number, log: Logger): void {
  const cutoff = Date.now() - timeout;
  for (const session of registry.all()) {
    if (Math.max(session.lastReadAt, session.transport.lastWriteAt) < cutoff) {
      log.info("conn.heartbeat_timeout", { session: session.id, userId: session.userId });
      session.close("heartbeat timeout");
    }
  }
}
