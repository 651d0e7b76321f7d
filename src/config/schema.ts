/**
 * The single source of truth for jim's configuration. Every option is declared once here; the
 * flag parser, the environment reader, the config file reader, `--help` and the README table are
 * all derived from this table (see resolve.ts and help.ts).
 *
 * Naming rule (checked by schema_test.ts): `key` is camelCase, `flag` is `--` + kebab-case key,
 * `env` is `JIM_` + SCREAMING_SNAKE key.
 */

export type OptionType = "string" | "int" | "bool" | "enum" | "list";

/** One configuration option. */
export interface OptionSpec {
  /** camelCase name used in code and in the config file. */
  readonly key: string;
  /** Command-line flag, `--kebab-case`. Bools also accept `--no-<name>`. */
  readonly flag: string;
  /** Environment variable, `JIM_SCREAMING_SNAKE`. */
  readonly env: string;
  readonly type: OptionType;
  /** Typed default: number for int, boolean for bool, string[] for list, string otherwise. */
  readonly default: string | number | boolean | readonly string[];
  /** One-line description. */
  readonly doc: string;
  /** enum: the allowed values. list: the allowed items (any string when absent). */
  readonly values?: readonly string[];
  /** int: inclusive bounds (values must also be safe integers). */
  readonly min?: number;
  readonly max?: number;
  /** list: fewest items after splitting, trimming and dropping empty items. */
  readonly minItems?: number;
  /** Masked when the effective configuration is printed. */
  readonly secret?: boolean;
  /** Placeholder shown in --help (`--data-dir <dir>`); derived from the type when absent. */
  readonly arg?: string;
  /** SIGHUP applies a new value to the running server; any other option needs a restart. */
  readonly reload?: boolean;
}

/** Longest delay setTimeout accepts without firing immediately. */
const MAX_TIMER_MS = 2_147_483_647;

export const CONFIG_SCHEMA = [
  {
    key: "host",
    flag: "--host",
    env: "JIM_HOST",
    type: "string",
    default: "0.0.0.0",
    arg: "addr",
    doc: "Listen address of every listener.",
  },
  {
    key: "port",
    flag: "--port",
    env: "JIM_PORT",
    type: "int",
    default: 8888,
    min: 0,
    max: 65535,
    doc: "Main port, serving the protocols in --protocols; 0 = pick a free port (useful for tests).",
  },
  {
    key: "dataDir",
    flag: "--data-dir",
    env: "JIM_DATA_DIR",
    type: "string",
    default: "./jim-data",
    arg: "dir",
    doc: "Directory where the SQLite database lives.",
  },
  {
    key: "workers",
    flag: "--workers",
    env: "JIM_WORKERS",
    type: "int",
    default: 0,
    min: 0,
    max: 256,
    arg: "n",
    doc:
      "Event loops (threads) sharing the ports, users chatting across them; 0 = one per CPU core. Above 1 needs --unstable-net.",
  },
  {
    key: "apiToken",
    flag: "--api-token",
    env: "JIM_API_TOKEN",
    type: "string",
    default: "",
    secret: true,
    arg: "token",
    doc: "Token for the HTTP API and admin; when empty the API only answers loopback clients.",
  },
  {
    key: "registration",
    flag: "--registration",
    env: "JIM_REGISTRATION",
    type: "enum",
    values: ["open", "closed"],
    default: "open",
    doc: "Whether an unknown userId registers on first login (open) or is refused (closed).",
  },
  {
    key: "heartbeatTimeout",
    flag: "--heartbeat-timeout",
    env: "JIM_HEARTBEAT_TIMEOUT",
    type: "int",
    default: 0,
    min: 0,
    max: MAX_TIMER_MS,
    arg: "ms",
    doc:
      "Milliseconds without traffic in either direction before a TCP/WebSocket connection is closed (the idle timeout); 0 = off.",
  },
  {
    key: "maxBody",
    reload: true,
    flag: "--max-body",
    env: "JIM_MAX_BODY",
    type: "int",
    default: 2202009,
    min: 1,
    arg: "bytes",
    doc: "Largest J-IM TCP body, WebSocket message or HTTP body, in bytes.",
  },
  {
    key: "logLevel",
    reload: true,
    flag: "--log-level",
    env: "JIM_LOG_LEVEL",
    type: "enum",
    values: ["debug", "info", "warn", "error"],
    default: "info",
    doc: "Least severe log level written.",
  },
  {
    key: "logFormat",
    flag: "--log-format",
    env: "JIM_LOG_FORMAT",
    type: "enum",
    values: ["json", "text", "auto"],
    default: "auto",
    doc: "Log line format; auto = text on a terminal, json otherwise.",
  },
  {
    key: "protocols",
    flag: "--protocols",
    env: "JIM_PROTOCOLS",
    type: "list",
    values: ["tcp", "ws", "http"],
    minItems: 1,
    default: ["tcp", "ws", "http"],
    doc: "What the main port serves (comma-separated).",
  },
  {
    key: "tcpPort",
    flag: "--tcp-port",
    env: "JIM_TCP_PORT",
    type: "int",
    default: -1,
    min: -1,
    max: 65535,
    doc: "Extra listener serving only J-IM TCP; -1 = off, 0 = pick a free port.",
  },
  {
    key: "httpPort",
    flag: "--http-port",
    env: "JIM_HTTP_PORT",
    type: "int",
    default: -1,
    min: -1,
    max: 65535,
    doc: "Extra listener serving only HTTP and WebSocket; -1 = off, 0 = pick a free port.",
  },
  {
    key: "tlsCert",
    reload: true,
    flag: "--tls-cert",
    env: "JIM_TLS_CERT",
    type: "string",
    default: "",
    arg: "path",
    doc:
      "PEM certificate chain; with --tls-key every port except --plain-port serves TLS (J-IM TCP, wss, https); the files are read again on every SIGHUP.",
  },
  {
    key: "tlsKey",
    reload: true,
    flag: "--tls-key",
    env: "JIM_TLS_KEY",
    type: "string",
    default: "",
    arg: "path",
    doc: "PEM private key of --tls-cert (give both or neither).",
  },
  {
    key: "plainPort",
    flag: "--plain-port",
    env: "JIM_PLAIN_PORT",
    type: "int",
    default: -1,
    min: -1,
    max: 65535,
    doc:
      "With TLS: extra plain-text listener serving the same protocols as --port; -1 = off, 0 = pick a free port.",
  },
  {
    key: "defaultGroups",
    flag: "--default-groups",
    env: "JIM_DEFAULT_GROUPS",
    type: "list",
    default: [],
    arg: "ids",
    doc: "Groups every new user joins at registration (comma-separated; 100 reproduces the J-IM demo).",
  },
  {
    key: "allowedOrigins",
    reload: true,
    flag: "--allowed-origins",
    env: "JIM_ALLOWED_ORIGINS",
    type: "list",
    default: [],
    arg: "origins",
    doc: "Origins accepted for WebSocket upgrades (comma-separated); empty = any Origin.",
  },
  {
    key: "passwordIterations",
    flag: "--password-iterations",
    env: "JIM_PASSWORD_ITERATIONS",
    type: "int",
    default: 600000,
    min: 1000,
    doc: "PBKDF2-SHA256 iterations for new password hashes.",
  },
  {
    key: "tokenTtl",
    flag: "--token-ttl",
    env: "JIM_TOKEN_TTL",
    type: "int",
    default: 2592000,
    min: 60,
    arg: "seconds",
    doc: "Lifetime of login tokens, in seconds.",
  },
  {
    key: "auth",
    flag: "--auth",
    env: "JIM_AUTH",
    type: "enum",
    values: ["password", "jwt", "webhook", "open"],
    default: "password",
    doc:
      "How logins are checked: password hashes, a signed JWT, the application's webhook, or open (development only).",
  },
  {
    key: "jwtSecret",
    flag: "--jwt-secret",
    env: "JIM_JWT_SECRET",
    type: "string",
    default: "",
    secret: true,
    arg: "secret",
    doc: "--auth jwt: HS256 shared secret (at least 32 bytes).",
  },
  {
    key: "jwtPublicKey",
    flag: "--jwt-public-key",
    env: "JIM_JWT_PUBLIC_KEY",
    type: "string",
    default: "",
    arg: "path",
    doc: "--auth jwt: PEM file of an SPKI public key (RSA for RS256, P-256 EC for ES256), read at start.",
  },
  {
    key: "jwtJwks",
    flag: "--jwt-jwks",
    env: "JIM_JWT_JWKS",
    type: "string",
    default: "",
    arg: "path",
    doc: "--auth jwt: JWKS JSON file (RSA, EC P-256 or oct keys, chosen by the token's kid), read at start.",
  },
  {
    key: "jwtAudience",
    flag: "--jwt-audience",
    env: "JIM_JWT_AUDIENCE",
    type: "string",
    default: "",
    arg: "aud",
    doc: "--auth jwt: required aud claim (string or array member); empty = aud not checked.",
  },
  {
    key: "jwtIssuer",
    flag: "--jwt-issuer",
    env: "JIM_JWT_ISSUER",
    type: "string",
    default: "",
    arg: "iss",
    doc: "--auth jwt: required iss claim; empty = iss not checked.",
  },
  {
    key: "jwtLeeway",
    flag: "--jwt-leeway",
    env: "JIM_JWT_LEEWAY",
    type: "int",
    default: 30,
    min: 0,
    max: 86400,
    arg: "seconds",
    doc: "--auth jwt: clock skew tolerated on exp and nbf, in seconds.",
  },
  {
    key: "authWebhookUrl",
    flag: "--auth-webhook-url",
    env: "JIM_AUTH_WEBHOOK_URL",
    type: "string",
    default: "",
    arg: "url",
    doc: "--auth webhook: http(s) URL that each login's credentials are POSTed to as JSON.",
  },
  {
    key: "authWebhookTimeout",
    flag: "--auth-webhook-timeout",
    env: "JIM_AUTH_WEBHOOK_TIMEOUT",
    type: "int",
    default: 3000,
    min: 1,
    max: MAX_TIMER_MS,
    arg: "ms",
    doc: "--auth webhook: milliseconds to wait for the webhook before the login is denied.",
  },
  {
    key: "authWebhookCache",
    flag: "--auth-webhook-cache",
    env: "JIM_AUTH_WEBHOOK_CACHE",
    type: "int",
    default: 30,
    min: 0,
    max: 86400,
    arg: "seconds",
    doc: "--auth webhook: seconds a webhook decision (allow or deny) is reused; 0 = no cache.",
  },
  {
    key: "maxConnections",
    reload: true,
    flag: "--max-connections",
    env: "JIM_MAX_CONNECTIONS",
    type: "int",
    default: 100000,
    min: 1,
    doc: "Most simultaneous client connections.",
  },
  {
    key: "outboxMaxBytes",
    reload: true,
    flag: "--outbox-max-bytes",
    env: "JIM_OUTBOX_MAX_BYTES",
    type: "int",
    default: 1048576,
    min: 1024,
    arg: "bytes",
    doc:
      "Bytes queued for one connection (not yet written to its socket) before it is disconnected as a slow consumer.",
  },
  {
    key: "handshakeTimeout",
    reload: true,
    flag: "--handshake-timeout",
    env: "JIM_HANDSHAKE_TIMEOUT",
    type: "int",
    default: 10000,
    min: 100,
    max: MAX_TIMER_MS,
    arg: "ms",
    doc: "Milliseconds a new connection has to send its first bytes / complete an HTTP head.",
  },
  {
    key: "loginTimeout",
    reload: true,
    flag: "--login-timeout",
    env: "JIM_LOGIN_TIMEOUT",
    type: "int",
    default: 30000,
    min: 0,
    max: MAX_TIMER_MS,
    arg: "ms",
    doc: "Milliseconds a TCP or WebSocket connection may stay without logging in; 0 = off.",
  },
  {
    key: "maxConnectionsPerIp",
    reload: true,
    flag: "--max-connections-per-ip",
    env: "JIM_MAX_CONNECTIONS_PER_IP",
    type: "int",
    default: 1000,
    min: 0,
    doc: "Most simultaneous connections from one IP address; more are closed at accept; 0 = no limit.",
  },
  {
    key: "connectRatePerIp",
    reload: true,
    flag: "--connect-rate-per-ip",
    env: "JIM_CONNECT_RATE_PER_IP",
    type: "int",
    default: 100,
    min: 0,
    arg: "n",
    doc:
      "New connections per second from one IP (bursts of twice that); more are closed at accept; 0 = no limit.",
  },
  {
    key: "maxSessionsPerUser",
    reload: true,
    flag: "--max-sessions-per-user",
    env: "JIM_MAX_SESSIONS_PER_USER",
    type: "int",
    default: 50,
    min: 0,
    doc:
      "Most simultaneous logged-in connections of one user; a further login is refused (10050); 0 = no limit.",
  },
  {
    key: "ratePerConnection",
    reload: true,
    flag: "--rate-per-connection",
    env: "JIM_RATE_PER_CONNECTION",
    type: "int",
    default: 200,
    min: 0,
    arg: "n",
    doc:
      "Requests per second one connection may send (bursts of twice that); more are refused (10026); 0 = no limit.",
  },
  {
    key: "ratePerUser",
    reload: true,
    flag: "--rate-per-user",
    env: "JIM_RATE_PER_USER",
    type: "int",
    default: 500,
    min: 0,
    arg: "n",
    doc:
      "Requests per second of one user over all connections (bursts of twice that); more get 10026; 0 = no limit.",
  },
  {
    key: "maxGroupMembers",
    flag: "--max-group-members",
    env: "JIM_MAX_GROUP_MEMBERS",
    type: "int",
    default: 10000,
    min: 1,
    max: 100000,
    arg: "n",
    doc: "Most members of one group; joins and invites beyond it get cmd 8 / 37 with result 3 (GROUP_FULL).",
  },
  {
    key: "loginFailuresPerUser",
    reload: true,
    flag: "--login-failures-per-user",
    env: "JIM_LOGIN_FAILURES_PER_USER",
    type: "int",
    default: 5,
    min: 0,
    arg: "n",
    doc: "Failed logins of one userId within 10 minutes that lock it out (see --login-lockout); 0 = off.",
  },
  {
    key: "loginFailuresPerIp",
    reload: true,
    flag: "--login-failures-per-ip",
    env: "JIM_LOGIN_FAILURES_PER_IP",
    type: "int",
    default: 20,
    min: 0,
    arg: "n",
    doc: "Failed logins from one IP within 10 minutes that lock it out (see --login-lockout); 0 = off.",
  },
  {
    key: "loginLockout",
    reload: true,
    flag: "--login-lockout",
    env: "JIM_LOGIN_LOCKOUT",
    type: "int",
    default: 60,
    min: 1,
    max: 900,
    arg: "seconds",
    doc: "First login lockout; each further lockout in a row doubles it, up to 15 minutes.",
  },
  {
    key: "maxOfflineBatch",
    flag: "--max-offline-batch",
    env: "JIM_MAX_OFFLINE_BATCH",
    type: "int",
    default: 1000,
    min: 1,
    doc: "Most offline messages returned by one cmd 19 reply (the rest stay queued).",
  },
  {
    key: "pushOffline",
    flag: "--push-offline",
    env: "JIM_PUSH_OFFLINE",
    type: "bool",
    default: false,
    doc: "Push queued offline messages (as cmd 11) right after login; off keeps J-IM's pull (cmd 19).",
  },
  {
    key: "deliverOwn",
    flag: "--deliver-own",
    env: "JIM_DELIVER_OWN",
    type: "bool",
    default: false,
    doc: "Also deliver a user's private messages to the sender's other connections (multi-device).",
  },
  {
    key: "recallWindow",
    flag: "--recall-window",
    env: "JIM_RECALL_WINDOW",
    type: "int",
    default: 120,
    min: 0,
    arg: "seconds",
    doc: "How long after sending a sender may recall a message (cmd 15); 0 = recall disabled.",
  },
  {
    key: "retentionDays",
    flag: "--retention-days",
    env: "JIM_RETENTION_DAYS",
    type: "int",
    default: 0,
    min: 0,
    arg: "days",
    doc: "Delete messages older than this many days (background job); 0 = keep forever.",
  },
  {
    key: "retentionMaxMessages",
    flag: "--retention-max-messages",
    env: "JIM_RETENTION_MAX_MESSAGES",
    type: "int",
    default: 0,
    min: 0,
    arg: "n",
    doc: "Keep at most this many newest messages per conversation (background job); 0 = no limit.",
  },
  {
    key: "shutdownTimeout",
    flag: "--shutdown-timeout",
    env: "JIM_SHUTDOWN_TIMEOUT",
    type: "int",
    default: 10,
    min: 0,
    max: 3600,
    arg: "seconds",
    doc:
      "On SIGTERM/SIGINT: how long clients get to finish (in-flight requests, acks, outboxes) before the rest are dropped and jim exits.",
  },
  {
    key: "adminPort",
    flag: "--admin-port",
    env: "JIM_ADMIN_PORT",
    type: "int",
    default: -1,
    min: -1,
    max: 65535,
    doc:
      "Separate HTTP port for /metrics, /healthz, /readyz, /admin and /api/admin/* (which then leave the main port); -1 = off, 0 = pick a free port.",
  },
  {
    key: "adminHost",
    flag: "--admin-host",
    env: "JIM_ADMIN_HOST",
    type: "string",
    default: "127.0.0.1",
    arg: "addr",
    doc: "Listen address of --admin-port (loopback by default: expose it deliberately).",
  },
  {
    key: "config",
    flag: "--config",
    env: "JIM_CONFIG",
    type: "string",
    default: "",
    arg: "path",
    doc: "Path of a JSON config file with camelCase keys (// and /* */ comments, trailing commas allowed).",
  },
] as const satisfies readonly OptionSpec[];

/** The TypeScript type of one option's value. */
export type OptionValue<O> = O extends { type: "int" } ? number
  : O extends { type: "bool" } ? boolean
  : O extends { type: "enum"; values: readonly (infer V)[] } ? V
  : O extends { type: "list"; values: readonly (infer V)[] } ? V[]
  : O extends { type: "list" } ? string[]
  : string;

/** The configuration object described by a schema table. */
export type ConfigOf<S extends readonly OptionSpec[]> = {
  [O in S[number] as O["key"]]: OptionValue<O>;
};

/** jim's resolved configuration: `config.port` is a number, `config.registration` is "open" | "closed". */
export type JimConfig = ConfigOf<typeof CONFIG_SCHEMA>;
export type ConfigKey = keyof JimConfig;

/** Looks an option up by its camelCase key. */
export function findOption(
  key: string,
  schema: readonly OptionSpec[] = CONFIG_SCHEMA,
): OptionSpec | undefined {
  return schema.find((o) => o.key === key);
}

/** Copies a default so callers may mutate lists freely. */
export function cloneDefault(option: OptionSpec): string | number | boolean | string[] {
  const d = option.default;
  return Array.isArray(d) ? [...d] : d as string | number | boolean;
}

/** A fresh configuration holding every default. */
export function defaultConfig(): JimConfig {
  const out: Record<string, unknown> = {};
  for (const option of CONFIG_SCHEMA) out[option.key] = cloneDefault(option);
  return out as JimConfig;
}

/** Renders a value the way a user would type it: lists comma-joined, strings bare. */
export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

/** Human description of the accepted values: "0..65535", ">= 1000", "open|closed", "any of tcp,ws,http". */
export function describeConstraint(option: OptionSpec): string {
  switch (option.type) {
    case "int":
      if (option.min !== undefined && option.max !== undefined) return `${option.min}..${option.max}`;
      if (option.min !== undefined) return `>= ${option.min}`;
      if (option.max !== undefined) return `<= ${option.max}`;
      return "integer";
    case "enum":
      return (option.values ?? []).join("|");
    case "list":
      return option.values ? `any of ${option.values.join(",")}` : "comma-separated";
    case "bool":
      return "true|false";
    default:
      return "";
  }
}

/**
 * A copy of the configuration safe to print or log: secret options that are set become "***".
 * Lists are copied so the result can be serialised or mutated independently.
 */
export function redactConfig(config: JimConfig): Record<ConfigKey, unknown> {
  const out: Record<string, unknown> = {};
  for (const option of CONFIG_SCHEMA) {
    const value: unknown = config[option.key];
    if ("secret" in option && option.secret && value !== "" && value !== undefined) out[option.key] = "***";
    else out[option.key] = Array.isArray(value) ? [...value] : value;
  }
  return out as Record<ConfigKey, unknown>;
}
