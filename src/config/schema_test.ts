import assert from "node:assert/strict";
import {
  CONFIG_SCHEMA,
  type ConfigKey,
  defaultConfig,
  describeConstraint,
  findOption,
  formatValue,
  type JimConfig,
  type OptionSpec,
  redactConfig,
} from "./schema.ts";

const EXPECTED: [string, string, string][] = [
  ["host", "--host", "JIM_HOST"],
  ["port", "--port", "JIM_PORT"],
  ["dataDir", "--data-dir", "JIM_DATA_DIR"],
  ["workers", "--workers", "JIM_WORKERS"],
  ["apiToken", "--api-token", "JIM_API_TOKEN"],
  ["registration", "--registration", "JIM_REGISTRATION"],
  ["heartbeatTimeout", "--heartbeat-timeout", "JIM_HEARTBEAT_TIMEOUT"],
  ["maxBody", "--max-body", "JIM_MAX_BODY"],
  ["logLevel", "--log-level", "JIM_LOG_LEVEL"],
  ["logFormat", "--log-format", "JIM_LOG_FORMAT"],
  ["protocols", "--protocols", "JIM_PROTOCOLS"],
  ["tcpPort", "--tcp-port", "JIM_TCP_PORT"],
  ["httpPort", "--http-port", "JIM_HTTP_PORT"],
  ["tlsCert", "--tls-cert", "JIM_TLS_CERT"],
  ["tlsKey", "--tls-key", "JIM_TLS_KEY"],
  ["plainPort", "--plain-port", "JIM_PLAIN_PORT"],
  ["defaultGroups", "--default-groups", "JIM_DEFAULT_GROUPS"],
  ["allowedOrigins", "--allowed-origins", "JIM_ALLOWED_ORIGINS"],
  ["passwordIterations", "--password-iterations", "JIM_PASSWORD_ITERATIONS"],
  ["tokenTtl", "--token-ttl", "JIM_TOKEN_TTL"],
  ["auth", "--auth", "JIM_AUTH"],
  ["jwtSecret", "--jwt-secret", "JIM_JWT_SECRET"],
  ["jwtPublicKey", "--jwt-public-key", "JIM_JWT_PUBLIC_KEY"],
  ["jwtJwks", "--jwt-jwks", "JIM_JWT_JWKS"],
  ["jwtAudience", "--jwt-audience", "JIM_JWT_AUDIENCE"],
  ["jwtIssuer", "--jwt-issuer", "JIM_JWT_ISSUER"],
  ["jwtLeeway", "--jwt-leeway", "JIM_JWT_LEEWAY"],
  ["authWebhookUrl", "--auth-webhook-url", "JIM_AUTH_WEBHOOK_URL"],
  ["authWebhookTimeout", "--auth-webhook-timeout", "JIM_AUTH_WEBHOOK_TIMEOUT"],
  ["authWebhookCache", "--auth-webhook-cache", "JIM_AUTH_WEBHOOK_CACHE"],
  ["maxConnections", "--max-connections", "JIM_MAX_CONNECTIONS"],
  ["outboxMaxBytes", "--outbox-max-bytes", "JIM_OUTBOX_MAX_BYTES"],
  ["handshakeTimeout", "--handshake-timeout", "JIM_HANDSHAKE_TIMEOUT"],
  ["loginTimeout", "--login-timeout", "JIM_LOGIN_TIMEOUT"],
  ["maxConnectionsPerIp", "--max-connections-per-ip", "JIM_MAX_CONNECTIONS_PER_IP"],
  ["connectRatePerIp", "--connect-rate-per-ip", "JIM_CONNECT_RATE_PER_IP"],
  ["maxSessionsPerUser", "--max-sessions-per-user", "JIM_MAX_SESSIONS_PER_USER"],
  ["ratePerConnection", "--rate-per-connection", "JIM_RATE_PER_CONNECTION"],
  ["ratePerUser", "--rate-per-user", "JIM_RATE_PER_USER"],
  ["maxGroupMembers", "--max-group-members", "JIM_MAX_GROUP_MEMBERS"],
  ["loginFailuresPerUser", "--login-failures-per-user", "JIM_LOGIN_FAILURES_PER_USER"],
  ["loginFailuresPerIp", "--login-failures-per-ip", "JIM_LOGIN_FAILURES_PER_IP"],
  ["loginLockout", "--login-lockout", "JIM_LOGIN_LOCKOUT"],
  ["maxOfflineBatch", "--max-offline-batch", "JIM_MAX_OFFLINE_BATCH"],
  ["pushOffline", "--push-offline", "JIM_PUSH_OFFLINE"],
  ["deliverOwn", "--deliver-own", "JIM_DELIVER_OWN"],
  ["recallWindow", "--recall-window", "JIM_RECALL_WINDOW"],
  ["retentionDays", "--retention-days", "JIM_RETENTION_DAYS"],
  ["retentionMaxMessages", "--retention-max-messages", "JIM_RETENTION_MAX_MESSAGES"],
  ["shutdownTimeout", "--shutdown-timeout", "JIM_SHUTDOWN_TIMEOUT"],
  ["adminPort", "--admin-port", "JIM_ADMIN_PORT"],
  ["adminHost", "--admin-host", "JIM_ADMIN_HOST"],
  ["config", "--config", "JIM_CONFIG"],
];

Deno.test("schema: every documented option exists with its exact names", () => {
  assert.deepEqual(CONFIG_SCHEMA.map((o) => [o.key, o.flag, o.env]), EXPECTED);
});

Deno.test("schema: flag and env names are derived from the camelCase key", () => {
  for (const o of CONFIG_SCHEMA as readonly OptionSpec[]) {
    assert.match(o.key, /^[a-z][a-zA-Z0-9]*$/, o.key);
    const kebab = o.key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
    assert.equal(o.flag, "--" + kebab);
    assert.equal(o.env, "JIM_" + kebab.replace(/-/g, "_").toUpperCase());
    assert.ok(o.doc.length > 0 && !o.doc.includes("\n"), `${o.key} needs a one-line doc`);
  }
  assert.equal(new Set(CONFIG_SCHEMA.map((o) => o.key)).size, CONFIG_SCHEMA.length);
});

Deno.test("schema: defaults satisfy their own constraints", () => {
  for (const o of CONFIG_SCHEMA as readonly OptionSpec[]) {
    switch (o.type) {
      case "int":
        assert.ok(Number.isSafeInteger(o.default), o.key);
        if (o.min !== undefined) assert.ok((o.default as number) >= o.min, o.key);
        if (o.max !== undefined) assert.ok((o.default as number) <= o.max, o.key);
        break;
      case "enum":
        assert.ok(o.values?.includes(o.default as string), o.key);
        break;
      case "list":
        assert.ok(Array.isArray(o.default), o.key);
        for (const item of o.default as string[]) assert.ok(!o.values || o.values.includes(item), o.key);
        break;
      case "string":
        assert.equal(typeof o.default, "string", o.key);
        break;
      case "bool":
        assert.equal(typeof o.default, "boolean", o.key);
    }
  }
});

Deno.test("schema: documented defaults and ranges", () => {
  const c = defaultConfig();
  assert.equal(c.host, "0.0.0.0");
  assert.equal(c.port, 8888);
  assert.equal(c.dataDir, "./jim-data");
  assert.equal(c.apiToken, "");
  assert.equal(c.registration, "open");
  assert.equal(c.heartbeatTimeout, 0);
  assert.equal(c.maxBody, 2202009);
  assert.equal(c.logLevel, "info");
  assert.equal(c.logFormat, "auto");
  assert.deepEqual(c.protocols, ["tcp", "ws", "http"]);
  assert.equal(c.tcpPort, -1);
  assert.equal(c.httpPort, -1);
  assert.deepEqual(c.defaultGroups, []);
  assert.deepEqual(c.allowedOrigins, []);
  assert.equal(c.passwordIterations, 600000);
  assert.equal(c.tokenTtl, 2592000);
  assert.equal(c.auth, "password");
  assert.equal(c.jwtSecret, "");
  assert.equal(c.jwtLeeway, 30);
  assert.equal(c.authWebhookTimeout, 3000);
  assert.equal(c.authWebhookCache, 30);
  assert.equal(findOption("jwtSecret")?.secret, true);
  assert.equal(c.maxConnections, 100000);
  assert.equal(c.outboxMaxBytes, 1048576);
  assert.equal(c.handshakeTimeout, 10000);
  assert.equal(c.loginTimeout, 30000);
  assert.equal(c.maxConnectionsPerIp, 1000);
  assert.equal(c.connectRatePerIp, 100);
  assert.equal(c.maxSessionsPerUser, 50);
  assert.equal(c.ratePerConnection, 200);
  assert.equal(c.ratePerUser, 500);
  assert.equal(c.maxGroupMembers, 10000);
  assert.equal(c.loginFailuresPerUser, 5);
  assert.equal(c.loginFailuresPerIp, 20);
  assert.equal(c.loginLockout, 60);
  assert.equal(c.maxOfflineBatch, 1000);
  assert.equal(c.config, "");
  assert.equal(describeConstraint(findOption("port")!), "0..65535");
  assert.equal(describeConstraint(findOption("passwordIterations")!), ">= 1000");
  assert.equal(describeConstraint(findOption("tcpPort")!), "-1..65535");
  assert.equal(describeConstraint(findOption("registration")!), "open|closed");
  assert.equal(findOption("apiToken")?.secret, true);
  assert.equal(findOption("nope"), undefined);
});

Deno.test("schema: JimConfig field types are precise", () => {
  const c: JimConfig = defaultConfig();
  const port: number = c.port;
  const reg: "open" | "closed" = c.registration;
  const level: "debug" | "info" | "warn" | "error" = c.logLevel;
  const protocols: ("tcp" | "ws" | "http")[] = c.protocols;
  const groups: string[] = c.defaultGroups;
  const host: string = c.host;
  // @ts-expect-error registration is not an arbitrary string
  c.registration = "maybe";
  // @ts-expect-error port is a number
  c.port = "80";
  const key: ConfigKey = "maxOfflineBatch";
  assert.ok([port, reg, level, protocols, groups, host, key]);
});

Deno.test("schema: defaultConfig returns fresh lists", () => {
  const a = defaultConfig();
  a.protocols.push("tcp");
  assert.deepEqual(defaultConfig().protocols, ["tcp", "ws", "http"]);
});

Deno.test("schema: redactConfig masks set secrets only", () => {
  const c = defaultConfig();
  assert.equal(redactConfig(c).apiToken, "");
  c.apiToken = "s3cret";
  const shown = redactConfig(c);
  assert.equal(shown.apiToken, "***");
  assert.equal(shown.port, 8888);
  assert.ok(!JSON.stringify(shown).includes("s3cret"));
  assert.equal(formatValue(["a", "b"]), "a,b");
  assert.equal(formatValue(3), "3");
});
