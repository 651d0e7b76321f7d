/**
 * The composition root: builds the store, services, router and listeners from a config.
 * Importing this module has no side effects; main.ts and the tests call createApp().
 */
import { join } from "node:path";
import type { ConfigKey, JimConfig } from "./config/schema.ts";
import { applyLive, diffConfig } from "./config/reload.ts";
import { createLogger, type Logger } from "./log.ts";
import { type ListenerOptions, type ProtocolName, SniffingListener } from "./listener/listener.ts";
import { certFingerprint, loadTlsKeyPair, type TlsKeyPair } from "./listener/tls.ts";
import type { Services } from "./router/context.ts";
import { Router } from "./router/router.ts";
import { AuthService, loadAuthBackends } from "./services/auth/auth.ts";
import { OPEN_MODE_WARNING } from "./services/auth/open.ts";
import { Delivery } from "./services/delivery.ts";
import { ConnectionGate, RequestLimiter } from "./services/limits.ts";
import { LoginGuard } from "./services/login_guard.ts";
import { GroupService } from "./services/groups.ts";
import { GroupAdminService } from "./services/group_admin.ts";
import { MessageService } from "./services/messages.ts";
import { ConversationService } from "./services/conversations.ts";
import { SessionRegistry } from "./services/session_registry.ts";
import { SessionService } from "./services/sessions.ts";
import { RetentionJob, serverRetentionOptions } from "./services/retention.ts";
import { Stats } from "./services/stats.ts";
import { WorkerStore } from "./store/worker/worker_store.ts";
import type { ClusterBus } from "./cluster/bus.ts";
import { ClusterNode } from "./cluster/cluster_node.ts";
import { acquireDataDirLock, type DataDirLock } from "./store/data_dir_lock.ts";
import type { Store } from "./store/store.ts";
import { type ConnContext, ConnDrain, type TransportLimits } from "./transport/conn_context.ts";
import { type AdminServer, serveAdmin } from "./transport/admin_server.ts";
import { HttpApi } from "./transport/http_api.ts";
import { AdminApi } from "./transport/admin_api.ts";
import { VERSION } from "./version.ts";
import { drainConnections, ShutdownDeadline } from "./app_shutdown.ts";
import { applyLiveOptions } from "./app_reload.ts";
import { createMetricsEndpoint, withTimeout } from "./app_metrics.ts";

export interface App {
  /** The running configuration (reload() updates its live options). */
  readonly config: JimConfig;
  readonly log: Logger;
  readonly services: Services;
  readonly store: Store;
  readonly retention: RetentionJob;
  /** Bound addresses, available after start(). */
  readonly addrs: {
    main: Deno.NetAddr;
    tcp?: Deno.NetAddr;
    http?: Deno.NetAddr;
    plain?: Deno.NetAddr;
    admin?: Deno.NetAddr;
  };
  start(): void;
  /**
   * Re-reads --tls-cert/--tls-key (SIGHUP) and serves new connections with them; open
   * connections are kept. False (logged; the previous certificate stays) when TLS is off or the
   * files do not make a usable certificate and key.
   */
  reloadTls(): Promise<boolean>;
  /**
   * SIGHUP: takes over the options of `next` marked `reload` in the schema (log level, limits,
   * TLS files, which are read again whenever TLS is on); every other changed option is logged as
   * needing a restart. Returns what changed.
   */
  reload(next: JimConfig): Promise<{ live: ConfigKey[]; restart: ConfigKey[] }>;
  /**
   * Graceful stop (SIGTERM/SIGINT): stops accepting, stops taking requests, lets the requests in
   * progress finish (chat acks included), tells every client (WebSocket close 1001, TCP: outbox
   * flushed then closed, HTTP: `Connection: close`), waits for them to go, then closes the store.
   * After `timeoutMs` (default --shutdown-timeout) the connections left are dropped.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** During stop(): drop the remaining connections now instead of waiting (a second signal). */
  hurry(): void;
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
  /**
   * Run as one node of several (`--workers`, src/workers/): users elsewhere are reached over
   * `bus`, the ports are shared (SO_REUSEPORT), and background jobs are left to the supervisor.
   */
  cluster?: {
    bus: ClusterBus;
    /** Share the ports with the other nodes (default true); off in tests giving each node its own port. */
    reusePort?: boolean;
    /**
     * Bind --admin-port on this node (default true). With --workers only the first worker does;
     * the others still leave /metrics and the admin routes off the main port.
     */
    adminPort?: boolean;
  };
}

export async function createApp(initial: JimConfig, options: AppOptions = {}): Promise<App> {
  /** The running configuration: its live options change on reload(). */
  let config = initial;
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
  const groups = new GroupService(store, registry, delivery, log, { maxMembers: config.maxGroupMembers });
  const messages = new MessageService(store, registry, groups, delivery, log, {
    deliverOwn: config.deliverOwn,
    recallWindow: config.recallWindow,
  }, stats);
  const conversations = new ConversationService(store, groups, delivery, log);
  const node = options.cluster ? new ClusterNode(options.cluster.bus, registry, groups, log) : undefined;
  registry.remote = node;
  const groupAdmin = new GroupAdminService(store, groups, registry, delivery, log);
  const loginGuard = new LoginGuard({
    failuresPerUser: config.loginFailuresPerUser,
    failuresPerIp: config.loginFailuresPerIp,
    lockoutMs: config.loginLockout * 1000,
  });
  const sessions = new SessionService(
    registry,
    auth,
    groups,
    log,
    {
      defaultGroups: config.defaultGroups,
      maxSessionsPerUser: config.maxSessionsPerUser,
      loginGuard,
    },
    stats,
  );
  const requestLimiter = new RequestLimiter({
    perConnection: config.ratePerConnection,
    perUser: config.ratePerUser,
  });
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
    limits: requestLimiter,
    options: { maxOfflineBatch: config.maxOfflineBatch, pushOffline: config.pushOffline },
  };
  // Shared by the app's listeners: the connection limit and the admin page count them together.
  const connections = { active: 0 };
  // Per-IP limits at accept, shared by the listeners like the global count.
  const gate = new ConnectionGate({
    maxPerIp: config.maxConnectionsPerIp,
    connectRatePerIp: config.connectRatePerIp,
  });
  const admin = new AdminApi({
    registry,
    delivery,
    groups,
    messages,
    stats,
    log,
    version: VERSION,
    connections: () => connections.active,
  });
  // /metrics: this node's figures, or with --workers every worker's (gathered over the bus).
  const scrape = createMetricsEndpoint({
    stats,
    registry,
    connections: () => connections.active,
    store,
    log,
    cluster: node && { node, bus: options.cluster!.bus },
  });
  const metrics = scrape.render;
  // /readyz: listeners started and not stopping; the store answers a trivial read within 1 s.
  let accepting = false;
  const ready = async (): Promise<boolean> =>
    accepting && await withTimeout(store!.getUser("readyz").then(() => true), 1000) === true;
  const router = new Router(services);
  const httpDeps = { apiToken: config.apiToken, messages, registry, delivery, log, admin, metrics, ready };
  // With --admin-port, /metrics and the admin page leave the main port (see HttpApiDeps.routes).
  const adminPortOn = config.adminPort >= 0;
  const limits: TransportLimits = {
    maxBody: config.maxBody,
    outboxMaxBytes: config.outboxMaxBytes,
    handshakeTimeout: config.handshakeTimeout,
    loginTimeout: config.loginTimeout,
    allowedOrigins: config.allowedOrigins,
  };
  const drain = new ConnDrain();
  const ctx: ConnContext = {
    router,
    sessions,
    http: new HttpApi({ ...httpDeps, routes: { app: true, ops: !adminPortOn } }),
    limits,
    log,
    stats,
    drain,
  };

  const retention = new RetentionJob(store, serverRetentionOptions(config), log);

  const listeners: SniffingListener[] = [];
  let adminServer: AdminServer | undefined;
  const addrs = {} as App["addrs"];
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let stopping: Promise<void> | undefined;
  const deadline = new ShutdownDeadline();
  const listen = (port: number, protocols: readonly ProtocolName[], tls?: TlsKeyPair) => {
    const opts: ListenerOptions = {
      hostname: config.host,
      port,
      protocols,
      maxConnections: config.maxConnections,
      counter: connections,
      gate,
      tls,
      reusePort: node !== undefined && options.cluster?.reusePort !== false,
    };
    const l = new SniffingListener(opts, ctx);
    listeners.push(l);
    return l;
  };

  const app: App = {
    get config() {
      return config;
    },
    log,
    services,
    store,
    retention,
    addrs,
    start() {
      // TLS (--tls-cert/--tls-key) covers the main port and the extra ones, not --plain-port.
      const tls = config.tlsCert || config.tlsKey
        ? loadTlsKeyPair(config.tlsCert, config.tlsKey, config.host)
        : undefined;
      addrs.main = listen(config.port, config.protocols, tls).addr;
      if (config.tcpPort >= 0) addrs.tcp = listen(config.tcpPort, ["tcp"], tls).addr;
      if (config.httpPort >= 0) addrs.http = listen(config.httpPort, ["http", "ws"], tls).addr;
      if (config.plainPort >= 0) addrs.plain = listen(config.plainPort, config.protocols).addr;
      if (adminPortOn && options.cluster?.adminPort !== false) {
        adminServer = serveAdmin({
          hostname: config.adminHost,
          port: config.adminPort,
          http: new HttpApi({ ...httpDeps, routes: { app: false, ops: true } }),
          maxBody: config.maxBody,
          log,
        });
        addrs.admin = adminServer.addr;
      }
      node?.start();
      scrape.start();
      for (const l of listeners) l.start();
      accepting = true;
      if (tls) void logCertificate(log, "tls.certificate", config.tlsCert, tls);
      // One retention job per store: with --workers the supervisor runs it.
      if (!node) retention.start();
      if (config.heartbeatTimeout > 0) {
        heartbeatTimer = setInterval(
          () => closeIdle(registry, config.heartbeatTimeout, log),
          config.heartbeatTimeout,
        );
      }
      log.info(node ? "worker.started" : "server.started", {
        main: `${addrs.main.hostname}:${addrs.main.port}`,
        protocols: config.protocols.join(","),
        tcp: addrs.tcp ? `${addrs.tcp.hostname}:${addrs.tcp.port}` : undefined,
        http: addrs.http ? `${addrs.http.hostname}:${addrs.http.port}` : undefined,
        tls: tls ? true : undefined,
        plain: addrs.plain ? `${addrs.plain.hostname}:${addrs.plain.port}` : undefined,
        admin: addrs.admin ? `${addrs.admin.hostname}:${addrs.admin.port}` : undefined,
        dataDir: config.dataDir,
        node: node?.node,
      });
    },
    async reloadTls() {
      const tlsListeners = listeners.filter((l) => l.tls);
      if (tlsListeners.length === 0) {
        log.warn("tls.reload_skipped", { reason: "TLS is not configured (--tls-cert, --tls-key)" });
        return false;
      }
      let pair: TlsKeyPair;
      try {
        pair = loadTlsKeyPair(config.tlsCert, config.tlsKey, config.host);
      } catch (err) {
        log.error("tls.reload_failed", { error: (err as Error).message, kept: "previous certificate" });
        return false;
      }
      const swapped = await Promise.allSettled(tlsListeners.map((l) => l.reloadTls(pair)));
      if (!swapped.every((r) => r.status === "fulfilled" && r.value)) {
        log.error("tls.reload_failed", { error: "a listener could not be bound again (see listener.*)" });
        return false;
      }
      await logCertificate(log, "tls.reloaded", config.tlsCert, pair);
      return true;
    },
    async reload(next) {
      const changes = diffConfig(config, next);
      for (const key of changes.restart) log.warn("config.needs_restart", { key });
      config = applyLive(config, next, changes.live);
      applyLiveOptions({ log, limits, listeners, gate, sessions, requestLimiter, loginGuard }, config);
      log.info("config.reloaded", { changed: changes.live });
      if (listeners.some((l) => l.tls)) await app.reloadTls();
      return changes;
    },
    hurry() {
      deadline.hurry();
    },
    stop(options = {}) {
      stopping ??= shutdown(options.timeoutMs ?? config.shutdownTimeout * 1000);
      return stopping;
    },
  };

  async function shutdown(timeoutMs: number): Promise<void> {
    const startedAt = Date.now();
    accepting = false;
    log.info("server.stopping", { connections: connections.active, timeoutMs });
    clearInterval(heartbeatTimer);
    deadline.start(timeoutMs);
    const drained = await drainConnections({ listeners, router, drain, registry, log }, deadline);
    deadline.clear();
    if (!drained) log.warn("server.shutdown_timeout", { dropped: connections.active, timeoutMs });
    // Whatever is left is dropped; then the store flushes its last batch and closes.
    await Promise.all(listeners.map((l) => l.stop()));
    await adminServer?.shutdown();
    await retention.stop();
    scrape.stop(); // the other nodes' scrapes were answered until now
    await node?.stop();
    try {
      await store!.close();
    } finally {
      lock?.release();
    }
    log.info("server.stopped", { durationMs: Date.now() - startedAt });
  }

  return app;
}

/** Names the certificate being served (its SHA-256) so a log shows which one is live. */
async function logCertificate(log: Logger, event: string, path: string, pair: TlsKeyPair): Promise<void> {
  log.info(event, { cert: path, fingerprint: await certFingerprint(pair.cert) });
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
