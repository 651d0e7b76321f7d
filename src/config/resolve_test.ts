import assert from "node:assert/strict";
import {
  ConfigError,
  type ConfigProblem,
  parseJsonc,
  resolveConfig,
  resolveOptions,
  stripJsonc,
} from "./resolve.ts";
import type { OptionSpec } from "./schema.ts";

const noFile = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};
const files = (map: Record<string, string>) => (path: string): string => {
  if (!(path in map)) throw new Deno.errors.NotFound(`No such file: ${path}`);
  return map[path];
};

/** Runs fn, expecting a ConfigError, and returns its problems. */
function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("resolve: no input gives every default from source default", () => {
  const r = resolveConfig([], {}, noFile);
  assert.equal(r.config.port, 8888);
  assert.deepEqual(r.config.protocols, ["tcp", "ws", "http"]);
  assert.equal(r.help, false);
  assert.deepEqual(r.positionals, []);
  assert.deepEqual(r.warnings, []);
  assert.ok(Object.values(r.sources).every((s) => s === "default"));
  assert.equal(Object.keys(r.sources).length, Object.keys(r.config).length);
});

Deno.test("resolve: precedence flag > env > file > default, layer by layer", () => {
  const read = files({ "/etc/jim.json": '{"port": 7000, "host": "127.0.0.1", "logLevel": "warn"}' });
  const env = { JIM_CONFIG: "/etc/jim.json", JIM_PORT: "7001", JIM_LOG_LEVEL: "debug" };

  const fileOnly = resolveConfig(["--config", "/etc/jim.json"], {}, read);
  assert.equal(fileOnly.config.port, 7000);
  assert.equal(fileOnly.sources.port, "file");
  assert.equal(fileOnly.config.logLevel, "warn");

  const withEnv = resolveConfig([], env, read);
  assert.equal(withEnv.config.port, 7001);
  assert.equal(withEnv.sources.port, "env");
  assert.equal(withEnv.config.host, "127.0.0.1");
  assert.equal(withEnv.sources.host, "file");
  assert.equal(withEnv.config.logLevel, "debug");
  assert.equal(withEnv.sources.config, "env");
  assert.equal(withEnv.sources.dataDir, "default");

  const withFlag = resolveConfig(["--port", "7002"], env, read);
  assert.equal(withFlag.config.port, 7002);
  assert.equal(withFlag.sources.port, "flag");
  assert.equal(withFlag.config.logLevel, "debug");
  assert.equal(withFlag.config.host, "127.0.0.1");
});

Deno.test("resolve: --config flag beats JIM_CONFIG for the file path", () => {
  const read = files({ "a.json": '{"port": 1}', "b.json": '{"port": 2}' });
  const r = resolveConfig(["--config=b.json"], { JIM_CONFIG: "a.json" }, read);
  assert.equal(r.config.port, 2);
  assert.equal(r.config.config, "b.json");
  assert.equal(r.sources.config, "flag");
  // An explicitly empty --config disables the file named in the environment.
  const none = resolveConfig(["--config="], { JIM_CONFIG: "a.json" }, noFile);
  assert.equal(none.config.port, 8888);
});

Deno.test("resolve: both flag forms, and the deno task style leading --", () => {
  const a = resolveConfig(["--port", "9000", "--data-dir", "/tmp/x"], {}, noFile);
  const b = resolveConfig(["--port=9000", "--data-dir=/tmp/x"], {}, noFile);
  const c = resolveConfig(["--", "--port", "9000", "--data-dir", "/tmp/x"], {}, noFile);
  for (const r of [a, b, c]) {
    assert.equal(r.config.port, 9000);
    assert.equal(r.config.dataDir, "/tmp/x");
    assert.deepEqual(r.positionals, []);
  }
  // `=` inside the value is kept; the last repetition wins.
  const d = resolveConfig(["--api-token=a=b", "--port", "1", "--port", "2"], {}, noFile);
  assert.equal(d.config.apiToken, "a=b");
  assert.equal(d.config.port, 2);
  // Negative numbers are values, not flags.
  assert.equal(resolveConfig(["--tcp-port", "-1"], { JIM_TCP_PORT: "5000" }, noFile).config.tcpPort, -1);
});

Deno.test("resolve: positionals are returned, a later -- ends options", () => {
  const r = resolveConfig(["backup", "--data-dir", "/d", "out.db"], {}, noFile);
  assert.deepEqual(r.positionals, ["backup", "out.db"]);
  assert.equal(r.config.dataDir, "/d");
  const v = resolveConfig(["--", "version"], {}, noFile);
  assert.deepEqual(v.positionals, ["version"]);
  const t = resolveConfig(["run", "--", "--port", "-"], {}, noFile);
  assert.deepEqual(t.positionals, ["run", "--port", "-"]);
  assert.equal(t.config.port, 8888);
});

Deno.test("resolve: --help and -h set help instead of printing or throwing", () => {
  assert.equal(resolveConfig(["--help"], {}, noFile).help, true);
  assert.equal(resolveConfig(["--", "-h"], {}, noFile).help, true);
  const r = resolveConfig(["--port", "abc", "--bogus", "-h"], { JIM_LOG_LEVEL: "loud" }, noFile);
  assert.equal(r.help, true);
  assert.equal(r.config.port, 8888);
  assert.equal(r.config.logLevel, "info");
});

Deno.test("resolve: unknown flags are errors, with a suggestion when close", () => {
  const problems = problemsOf(() => resolveConfig(["--prot", "1", "-x", "--no-port"], {}, noFile));
  assert.deepEqual(problems.map((p) => p.key), ["--prot", "-x", "--no-port"]);
  assert.match(problems[0].message, /unknown option \(did you mean --port\?\)/);
  assert.match(problems[1].message, /^unknown option/);
});

Deno.test("resolve: a flag without its value is an error", () => {
  const problems = problemsOf(() => resolveConfig(["--host", "--port", "1", "--data-dir"], {}, noFile));
  assert.deepEqual(problems.map((p) => [p.key, p.message]), [
    ["--host", "requires a value"],
    ["--data-dir", "requires a value"],
  ]);
});

Deno.test("resolve: ints are validated with range and source in the message", () => {
  let problems = problemsOf(() => resolveConfig(["--port", "abc"], {}, noFile));
  assert.equal(problems.length, 1);
  assert.equal(problems[0].key, "--port");
  assert.equal(problems[0].message, 'must be an integer between 0 and 65535, got "abc"');
  assert.equal(problems[0].option, "port");

  problems = problemsOf(() => resolveConfig([], { JIM_PORT: "65536" }, noFile));
  assert.equal(
    `${problems[0].key}: ${problems[0].message}`,
    'JIM_PORT: must be an integer between 0 and 65535, got "65536"',
  );

  for (const bad of ["1.5", "1e3", "0x10", "99999999999999999999", " "]) {
    assert.equal(problemsOf(() => resolveConfig([`--max-body=${bad}`], {}, noFile)).length, 1, bad);
  }
  problems = problemsOf(() => resolveConfig(["--password-iterations", "999", "--token-ttl=59"], {}, noFile));
  assert.deepEqual(problems.map((p) => p.message), [
    'must be an integer >= 1000, got "999"',
    'must be an integer >= 60, got "59"',
  ]);
  problems = problemsOf(() => resolveConfig(["--tcp-port", "-2", "--handshake-timeout", "99"], {}, noFile));
  assert.deepEqual(problems.map((p) => p.key), ["--tcp-port", "--handshake-timeout"]);

  const ok = resolveConfig(
    ["--port", "0", "--heartbeat-timeout", "+30000", "--outbox-max-bytes", "1024"],
    {},
    noFile,
  );
  assert.equal(ok.config.port, 0);
  assert.equal(ok.config.heartbeatTimeout, 30000);
  assert.equal(ok.config.outboxMaxBytes, 1024);
});

Deno.test("resolve: enums", () => {
  const r = resolveConfig(["--registration", "closed"], { JIM_LOG_FORMAT: "json" }, noFile);
  assert.equal(r.config.registration, "closed");
  assert.equal(r.config.logFormat, "json");
  const problems = problemsOf(() =>
    resolveConfig(["--registration=Open"], { JIM_LOG_LEVEL: "trace" }, noFile)
  );
  assert.deepEqual(problems.map((p) => `${p.key}: ${p.message}`), [
    'JIM_LOG_LEVEL: must be one of debug, info, warn, error, got "trace"',
    '--registration: must be one of open, closed, got "Open"',
  ]);
});

Deno.test("resolve: lists are split, trimmed, de-duplicated and validated", () => {
  const r = resolveConfig(
    ["--protocols", " tcp, ws ,tcp,", "--allowed-origins=https://a.example,https://b.example"],
    { JIM_DEFAULT_GROUPS: "100,200" },
    noFile,
  );
  assert.deepEqual(r.config.protocols, ["tcp", "ws"]);
  assert.deepEqual(r.config.allowedOrigins, ["https://a.example", "https://b.example"]);
  assert.deepEqual(r.config.defaultGroups, ["100", "200"]);

  // An empty env list is an explicit empty value overriding the file.
  const read = files({ "c.json": '{"defaultGroups": ["100"]}' });
  assert.deepEqual(resolveConfig(["--config", "c.json"], {}, read).config.defaultGroups, ["100"]);
  const cleared = resolveConfig(["--config", "c.json"], { JIM_DEFAULT_GROUPS: "" }, read);
  assert.deepEqual(cleared.config.defaultGroups, []);
  assert.equal(cleared.sources.defaultGroups, "env");

  const problems = problemsOf(() =>
    resolveConfig(["--protocols", "tcp,udp,quic"], { JIM_PROTOCOLS: "," }, noFile)
  );
  assert.deepEqual(problems.map((p) => `${p.key}: ${p.message}`), [
    "JIM_PROTOCOLS: must list at least 1 item of tcp, ws, http",
    '--protocols: unknown items "udp", "quic"; allowed: tcp, ws, http',
  ]);
});

Deno.test("resolve: empty env vars count as unset for int and enum options", () => {
  const r = resolveConfig([], { JIM_PORT: "", JIM_REGISTRATION: " ", JIM_HOST: "" }, noFile);
  assert.equal(r.config.port, 8888);
  assert.equal(r.sources.port, "default");
  assert.equal(r.config.registration, "open");
  assert.equal(r.config.host, "");
  assert.equal(r.sources.host, "env");
});

Deno.test("resolve: config file with comments, trailing commas and typed values", () => {
  const text = `// jim configuration
{
  /* listener */
  "host": "127.0.0.1", // loopback only
  "port": 9001,
  "apiToken": "a//b/*not a comment*/\\"c",
  "protocols": ["tcp", "ws",],
  "defaultGroups": [100, "200"],
  "allowedOrigins": "https://x.example, https://y.example",
  "maxBody": "4096",
  "registration": "closed",
}
`;
  const r = resolveConfig(["--config", "jim.jsonc"], {}, files({ "jim.jsonc": text }));
  assert.equal(r.config.host, "127.0.0.1");
  assert.equal(r.config.port, 9001);
  assert.equal(r.config.apiToken, 'a//b/*not a comment*/"c');
  assert.deepEqual(r.config.protocols, ["tcp", "ws"]);
  assert.deepEqual(r.config.defaultGroups, ["100", "200"]);
  assert.deepEqual(r.config.allowedOrigins, ["https://x.example", "https://y.example"]);
  assert.equal(r.config.maxBody, 4096);
  assert.equal(r.config.registration, "closed");
  assert.equal(r.sources.port, "file");
  assert.deepEqual(r.warnings, []);
});

Deno.test("resolve: unknown config file keys are warnings naming the key", () => {
  const read = files({
    "j.json": '{"port": 1, "prot": 2, "data-dir": "/x", "zzzzzz": true, "config": "other.json"}',
  });
  const r = resolveConfig([], { JIM_CONFIG: "j.json" }, read);
  assert.equal(r.config.port, 1);
  assert.equal(r.config.dataDir, "./jim-data");
  assert.equal(r.warnings.length, 4);
  assert.match(r.warnings[0], /unknown key "prot".*did you mean "port"/);
  assert.match(r.warnings[1], /unknown key "data-dir".*did you mean "dataDir"/);
  assert.match(r.warnings[2], /unknown key "zzzzzz" ignored$/);
  assert.match(r.warnings[3], /key "config" ignored/);
});

Deno.test("resolve: config file problems", () => {
  let problems = problemsOf(() => resolveConfig(["--config", "missing.json"], {}, files({})));
  assert.equal(problems[0].key, "--config");
  assert.match(problems[0].message, /cannot read config file "missing.json"/);

  problems = problemsOf(() =>
    resolveConfig([], { JIM_CONFIG: "bad.json" }, files({ "bad.json": "{port: 1}" }))
  );
  assert.equal(problems[0].key, "JIM_CONFIG");
  assert.match(problems[0].message, /not valid JSON/);

  problems = problemsOf(() => resolveConfig([], { JIM_CONFIG: "arr.json" }, files({ "arr.json": "[1]" })));
  assert.match(problems[0].message, /must contain a JSON object/);

  const read = files({ "t.json": '{"port": 1.5, "host": 1, "protocols": [true], "registration": null}' });
  problems = problemsOf(() => resolveConfig(["--config", "t.json"], {}, read));
  assert.deepEqual(problems.map((p) => `${p.key}: ${p.message}`), [
    'config file key "port": must be an integer between 0 and 65535, got 1.5',
    'config file key "host": must be a string, got 1',
    'config file key "protocols": must be a comma-separated string or an array of strings, got [true]',
    'config file key "registration": must be one of open, closed, got null',
  ]);
});

Deno.test("resolve: every problem from every layer is reported at once", () => {
  const read = files({ "f.json": '{"maxConnections": 0}' });
  const err = (() => {
    try {
      resolveConfig(
        ["--port", "abc", "--log-format", "xml", "--nope"],
        { JIM_CONFIG: "f.json", JIM_TOKEN_TTL: "1", JIM_PROTOCOLS: "smtp" },
        read,
      );
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof ConfigError);
  assert.equal(err.name, "ConfigError");
  assert.deepEqual(err.problems.map((p) => p.key), [
    "--nope",
    'config file key "maxConnections"',
    "JIM_PROTOCOLS",
    "JIM_TOKEN_TTL",
    "--port",
    "--log-format",
  ]);
  assert.match(err.message, /6 problems/);
  assert.match(err.message, /--port: must be an integer between 0 and 65535, got "abc"/);
  assert.match(err.message, /JIM_TOKEN_TTL: must be an integer >= 60, got "1"/);
});

Deno.test("resolve: a valid higher layer does not hide an invalid lower one", () => {
  const problems = problemsOf(() => resolveConfig(["--port", "1"], { JIM_PORT: "x" }, noFile));
  assert.deepEqual(problems.map((p) => p.key), ["JIM_PORT"]);
});

Deno.test("resolve: extra listeners must not reuse the main port", () => {
  const problems = problemsOf(() =>
    resolveConfig(["--port", "9000", "--http-port", "9000"], { JIM_TCP_PORT: "9000" }, noFile)
  );
  assert.deepEqual(problems.map((p) => `${p.key}: ${p.message}`), [
    "JIM_TCP_PORT: must differ from port (9000)",
    "--http-port: must differ from port (9000)",
    "--http-port: must differ from tcpPort (9000)",
  ]);
  // 0 (random) and -1 (off) never clash.
  const r = resolveConfig(["--port", "0", "--tcp-port", "0", "--http-port", "0"], {}, noFile);
  assert.equal(r.config.tcpPort, 0);
});

Deno.test("resolve: secret values are not echoed in problems", () => {
  const read = files({ "s.json": '{"apiToken": 12345678}' });
  const problems = problemsOf(() => resolveConfig(["--config", "s.json"], {}, read));
  assert.equal(problems[0].message, "must be a string, got (hidden)");
});

const BOOL_SCHEMA: readonly OptionSpec[] = [
  { key: "verbose", flag: "--verbose", env: "JIM_VERBOSE", type: "bool", default: false, doc: "Verbose." },
  { key: "color", flag: "--color", env: "JIM_COLOR", type: "bool", default: true, doc: "Color." },
];

Deno.test("resolve: bool flags accept --flag, --flag=true/false and --no-flag", () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    resolveOptions(BOOL_SCHEMA, args, env, noFile).config;
  assert.deepEqual(run([]), { verbose: false, color: true });
  assert.deepEqual(run(["--verbose", "--no-color"]), { verbose: true, color: false });
  assert.deepEqual(run(["--verbose=false", "--color=true"]), { verbose: false, color: true });
  assert.deepEqual(run(["--verbose=yes", "--color=0"]), { verbose: true, color: false });
  // A bare bool flag does not consume the next argument.
  const r = resolveOptions(BOOL_SCHEMA, ["--verbose", "false"], {}, noFile);
  assert.equal(r.config.verbose, true);
  assert.deepEqual(r.positionals, ["false"]);
  // Flags beat env.
  assert.deepEqual(run(["--no-verbose"], { JIM_VERBOSE: "true" }), { verbose: false, color: true });

  const problems = problemsOf(() =>
    resolveOptions(BOOL_SCHEMA, ["--verbose=maybe", "--no-color=1"], {}, noFile)
  );
  assert.deepEqual(problems.map((p) => `${p.key}: ${p.message}`), [
    "--no-color: takes no value",
    '--verbose: must be true or false (or 1/0, yes/no), got "maybe"',
  ]);
});

Deno.test("resolve: env bools accept true/false/1/0/yes/no", () => {
  for (
    const [text, value] of [["true", true], ["1", true], ["YES", true], ["false", false], ["0", false], [
      "no",
      false,
    ]]
  ) {
    const r = resolveOptions(BOOL_SCHEMA, [], { JIM_VERBOSE: text as string, JIM_COLOR: "" }, noFile);
    assert.equal(r.config.verbose, value, text as string);
    assert.equal(r.config.color, true);
  }
  const problems = problemsOf(() => resolveOptions(BOOL_SCHEMA, [], { JIM_VERBOSE: "on" }, noFile));
  assert.equal(problems[0].key, "JIM_VERBOSE");
});

Deno.test("parseJsonc: comments and trailing commas outside strings only", () => {
  assert.deepEqual(parseJsonc('{"a": [1, 2,], "b": {"c": 3,},}'), { a: [1, 2], b: { c: 3 } });
  assert.deepEqual(parseJsonc('{"u": "http://x/*y*/", /* c */ "v": 1 // tail\n}'), {
    u: "http://x/*y*/",
    v: 1,
  });
  assert.deepEqual(parseJsonc('\ufeff{"a": "\\\\", "b": "\\"//"}'), { a: "\\", b: '"//' });
  assert.deepEqual(parseJsonc("[1, /* x */ ]"), [1]);
  assert.deepEqual(parseJsonc("[1, // x\n]"), [1]);
  assert.throws(() => parseJsonc("[,]"), SyntaxError);
  assert.throws(() => parseJsonc('{"a": 1,,}'), SyntaxError);
  assert.throws(() => parseJsonc("{} /* open"), SyntaxError);
  // Positions are preserved so JSON.parse errors point at the original text.
  const text = '{\n  // c\n  "a": 1,\n}';
  assert.equal(stripJsonc(text).length, text.length);
  assert.equal(stripJsonc(text).split("\n").length, 4);
});

Deno.test("resolve: --auth jwt needs a key, --auth webhook a URL, named in the error listing", () => {
  let problems = problemsOf(() => resolveConfig(["--auth", "jwt"], {}, noFile));
  assert.deepEqual(problems.map((p) => `${p.key}: ${p.message}`), [
    "--auth: jwt needs --jwt-secret, --jwt-public-key or --jwt-jwks",
  ]);
  problems = problemsOf(() => resolveConfig([], { JIM_AUTH: "webhook", JIM_JWT_SECRET: "short" }, noFile));
  assert.deepEqual(problems.map((p) => `${p.key}: ${p.message}`), [
    "JIM_JWT_SECRET: must be at least 32 bytes (HS256 key)",
    "JIM_AUTH: webhook needs --auth-webhook-url",
  ]);
  problems = problemsOf(() =>
    resolveConfig(["--auth=webhook", "--auth-webhook-url", "ftp://example.com/x"], {}, noFile)
  );
  assert.deepEqual(problems.map((p) => p.key), ["--auth-webhook-url"]);
  assert.match(problems[0].message, /http:\/\/ or https:\/\//);

  const jwt = resolveConfig(["--auth", "jwt", "--jwt-jwks", "keys.json", "--jwt-leeway", "5"], {}, noFile);
  assert.equal(jwt.config.auth, "jwt");
  assert.equal(jwt.config.jwtJwks, "keys.json");
  assert.equal(jwt.config.jwtLeeway, 5);
  const hook = resolveConfig([], {
    JIM_AUTH: "webhook",
    JIM_AUTH_WEBHOOK_URL: "http://127.0.0.1:9/auth",
    JIM_AUTH_WEBHOOK_CACHE: "0",
  }, noFile);
  assert.equal(hook.config.authWebhookCache, 0);
  assert.equal(hook.config.authWebhookTimeout, 3000);
  assert.equal(resolveConfig(["--auth", "open"], {}, noFile).config.auth, "open");
});

Deno.test("resolve: TLS needs both --tls-cert and --tls-key; --plain-port needs TLS and its own port", () => {
  const ok = resolveConfig(["--tls-cert", "c.pem", "--tls-key", "k.pem", "--plain-port", "9000"], {}, noFile);
  assert.equal(ok.config.tlsCert, "c.pem");
  assert.equal(ok.config.tlsKey, "k.pem");
  assert.equal(ok.config.plainPort, 9000);
  assert.equal(resolveConfig([], {}, noFile).config.plainPort, -1);

  let problems = problemsOf(() => resolveConfig(["--tls-cert", "c.pem"], {}, noFile));
  assert.deepEqual(problems.map((p) => [p.key, p.option]), [["--tls-key", "tlsKey"]]);
  problems = problemsOf(() => resolveConfig([], { JIM_TLS_KEY: "k.pem" }, noFile));
  assert.deepEqual(problems.map((p) => [p.key, p.option]), [["--tls-cert", "tlsCert"]]);
  problems = problemsOf(() => resolveConfig(["--plain-port", "0"], {}, noFile));
  assert.deepEqual(problems.map((p) => p.key), ["--plain-port"]);
  assert.match(problems[0].message, /--tls-cert/);
  problems = problemsOf(() =>
    resolveConfig(["--tls-cert", "c", "--tls-key", "k", "--port", "9000", "--plain-port", "9000"], {}, noFile)
  );
  assert.deepEqual(problems.map((p) => [p.key, p.message]), [[
    "--plain-port",
    "must differ from port (9000)",
  ]]);
});
