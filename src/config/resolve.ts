/**
 * Resolves jim's configuration from four layers, highest precedence first:
 * command-line flags > environment (JIM_*) > JSON config file > schema defaults.
 *
 * Pure: the caller passes args, the environment and a file reader, so nothing here touches
 * Deno APIs and tests need no permissions. Every problem in every layer is collected and thrown
 * at once as a ConfigError.
 */
import { CONFIG_SCHEMA, type ConfigKey, type JimConfig, type OptionSpec } from "./schema.ts";

export type ConfigSource = "default" | "file" | "env" | "flag";
export type ConfigSources = Record<ConfigKey, ConfigSource>;

export interface ConfigProblem {
  /** Where the bad value came from: "--port", "JIM_PORT" or `config file key "port"`. */
  key: string;
  /** What is wrong, e.g. `must be an integer between 0 and 65535, got "abc"`. */
  message: string;
  /** The schema key concerned, when the problem is about one option. */
  option?: string;
}

/** Thrown with every problem found, so a user can fix them all in one go. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.key}: ${p.message}`);
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${
        lines.join("\n")
      }`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface ResolvedOptions<C = Record<string, unknown>> {
  config: C;
  sources: Record<keyof C, ConfigSource>;
  /** Non-fatal findings, e.g. unknown config file keys. */
  warnings: string[];
  /** --help or -h was given; the caller prints renderHelp() and exits. */
  help: boolean;
  /** Non-option arguments in order (subcommands and their operands). */
  positionals: string[];
}

export type ResolvedConfig = ResolvedOptions<JimConfig>;

export type Env = Record<string, string | undefined>;
export type ReadFile = (path: string) => string;

/**
 * Resolves jim's configuration. Throws ConfigError listing every problem, unless help was
 * requested: then problems are dropped (invalid values fall back to the layer below) so that
 * `--help` always works.
 */
export function resolveConfig(args: string[], env: Env, readFile: ReadFile): ResolvedConfig {
  const result = resolveOptions(CONFIG_SCHEMA, args, env, readFile, crossCheck);
  return result as unknown as ResolvedConfig;
}

/** Problems spanning several options, each reported under the name of the layer that set the option. */
function crossCheck(
  config: Record<string, unknown>,
  nameOf: (key: string) => string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const port = config.port as number;
  const tcpPort = config.tcpPort as number;
  const httpPort = config.httpPort as number;
  if (tcpPort > 0 && tcpPort === port) {
    problems.push({ key: nameOf("tcpPort"), message: `must differ from port (${port})`, option: "tcpPort" });
  }
  if (httpPort > 0 && httpPort === port) {
    problems.push({
      key: nameOf("httpPort"),
      message: `must differ from port (${port})`,
      option: "httpPort",
    });
  }
  if (httpPort > 0 && httpPort === tcpPort) {
    problems.push({
      key: nameOf("httpPort"),
      message: `must differ from tcpPort (${tcpPort})`,
      option: "httpPort",
    });
  }
  const adminPort = config.adminPort as number;
  if (adminPort > 0) {
    for (const other of ["port", "tcpPort", "httpPort", "plainPort"]) {
      if (adminPort === config[other]) {
        problems.push({
          key: nameOf("adminPort"),
          message: `must differ from ${other} (${adminPort})`,
          option: "adminPort",
        });
      }
    }
  }
  problems.push(...authProblems(config, nameOf));
  problems.push(...tlsProblems(config, nameOf));
  return problems;
}

/** TLS needs both a certificate and a key; --plain-port only makes sense beside a TLS port. */
function tlsProblems(config: Record<string, unknown>, nameOf: (key: string) => string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const cert = config.tlsCert as string;
  const key = config.tlsKey as string;
  if (cert && !key) {
    problems.push({
      key: nameOf("tlsKey"),
      message: "required with --tls-cert (both or neither)",
      option: "tlsKey",
    });
  }
  if (key && !cert) {
    problems.push({
      key: nameOf("tlsCert"),
      message: "required with --tls-key (both or neither)",
      option: "tlsCert",
    });
  }
  const plainPort = config.plainPort as number;
  if (plainPort >= 0 && !(cert && key)) {
    problems.push({
      key: nameOf("plainPort"),
      message: "needs --tls-cert and --tls-key (without TLS every port is plain text)",
      option: "plainPort",
    });
  }
  if (plainPort > 0) {
    for (const other of ["port", "tcpPort", "httpPort"]) {
      if (plainPort === config[other]) {
        problems.push({
          key: nameOf("plainPort"),
          message: `must differ from ${other} (${plainPort})`,
          option: "plainPort",
        });
      }
    }
  }
  return problems;
}

/** --auth jwt needs a key, --auth webhook a URL; a secret must be long enough for HS256. */
function authProblems(config: Record<string, unknown>, nameOf: (key: string) => string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const auth = config.auth as string;
  if (auth === "jwt" && !config.jwtSecret && !config.jwtPublicKey && !config.jwtJwks) {
    problems.push({
      key: nameOf("auth"),
      message: "jwt needs --jwt-secret, --jwt-public-key or --jwt-jwks",
      option: "auth",
    });
  }
  const secret = config.jwtSecret as string;
  if (secret && new TextEncoder().encode(secret).length < 32) {
    problems.push({
      key: nameOf("jwtSecret"),
      message: "must be at least 32 bytes (HS256 key)",
      option: "jwtSecret",
    });
  }
  const url = config.authWebhookUrl as string;
  if (auth === "webhook" && !url) {
    problems.push({ key: nameOf("auth"), message: "webhook needs --auth-webhook-url", option: "auth" });
  }
  if (url && !/^https?:$/.test(URL.parse(url)?.protocol ?? "")) {
    problems.push({
      key: nameOf("authWebhookUrl"),
      message: `must be an http:// or https:// URL, got "${url}"`,
      option: "authWebhookUrl",
    });
  }
  return problems;
}

type Value = string | number | boolean | string[];
type Check<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * The schema-generic resolver behind resolveConfig (exported for tests with custom schemas).
 * `extraChecks` runs on the merged configuration; `nameOf` gives the source-specific name of a key.
 */
export function resolveOptions(
  schema: readonly OptionSpec[],
  args: string[],
  env: Env,
  readFile: ReadFile,
  extraChecks?: (config: Record<string, unknown>, nameOf: (key: string) => string) => ConfigProblem[],
): ResolvedOptions {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];

  const parsed = parseArgs(schema, args, problems);

  const config: Record<string, unknown> = {};
  const sources: Record<string, ConfigSource> = {};
  for (const option of schema) {
    config[option.key] = cloneValue(option.default);
    sources[option.key] = "default";
  }

  const apply = (option: OptionSpec, raw: unknown, source: ConfigSource, name: string) => {
    const checked = convert(option, raw, source);
    if (checked.ok) {
      config[option.key] = checked.value;
      sources[option.key] = source;
    } else {
      problems.push({ key: name, message: checked.message, option: option.key });
    }
  };

  // The config file's path itself comes from the higher layers only.
  const configOption = schema.find((o) => o.key === "config");
  let filePath = "";
  let filePathName = "";
  if (configOption) {
    const fromEnv = env[configOption.env];
    if (fromEnv !== undefined && fromEnv !== "") [filePath, filePathName] = [fromEnv, configOption.env];
    const fromFlag = parsed.flags.get(configOption.key);
    if (fromFlag !== undefined && typeof fromFlag.raw === "string") {
      [filePath, filePathName] = [fromFlag.raw, fromFlag.name];
    }
  }

  // Layer: config file.
  if (filePath !== "") {
    const file = loadFile(filePath, filePathName, readFile, problems);
    if (file) {
      for (const [key, raw] of Object.entries(file)) {
        const option = schema.find((o) => o.key === key);
        if (!option) {
          const hint = suggest(key, schema.map((o) => o.key));
          warnings.push(
            `config file "${filePath}": unknown key "${key}" ignored${
              hint ? ` (did you mean "${hint}"?)` : ""
            }`,
          );
        } else if (option.key === "config") {
          warnings.push(`config file "${filePath}": key "config" ignored (use --config or ${option.env})`);
        } else {
          apply(option, raw, "file", `config file key "${key}"`);
        }
      }
    }
  }

  // Layer: environment. An empty variable counts as unset for int, bool and enum options, and as
  // an explicit empty value for string and list options (so JIM_DEFAULT_GROUPS= clears the list).
  for (const option of schema) {
    const raw = env[option.env];
    if (raw === undefined) continue;
    if (raw.trim() === "" && (option.type === "int" || option.type === "bool" || option.type === "enum")) {
      continue;
    }
    apply(option, raw, "env", option.env);
  }

  // Layer: flags.
  for (const option of schema) {
    const given = parsed.flags.get(option.key);
    if (given) apply(option, given.raw, "flag", given.name);
  }

  if (extraChecks && problems.length === 0) {
    const nameOf = (key: string): string => {
      const option = schema.find((o) => o.key === key);
      if (!option) return key;
      switch (sources[key]) {
        case "flag":
          return parsed.flags.get(key)?.name ?? option.flag;
        case "env":
          return option.env;
        case "file":
          return `config file key "${key}"`;
        default:
          return option.flag;
      }
    };
    problems.push(...extraChecks(config, nameOf));
  }

  if (problems.length > 0 && !parsed.help) throw new ConfigError(problems);
  return { config, sources, warnings, help: parsed.help, positionals: parsed.positionals };
}

// ---------------------------------------------------------------------------------------------
// Command line

interface GivenFlag {
  /** The flag as the user spelled it (`--port`, `--no-verbose`), for messages. */
  name: string;
  /** String for `--x v` / `--x=v`; boolean for bare `--x` / `--no-x`. */
  raw: string | boolean;
}

interface ParsedArgs {
  flags: Map<string, GivenFlag>;
  positionals: string[];
  help: boolean;
}

/**
 * Accepts `--name value`, `--name=value`, bare `--bool`, `--no-bool`, `--help`/`-h`, positionals
 * anywhere, a leading "--" (passed through by some `deno task` versions) which is skipped, and a
 * later "--" after which everything is positional. A repeated flag: the last one wins.
 */
function parseArgs(schema: readonly OptionSpec[], args: string[], problems: ConfigProblem[]): ParsedArgs {
  const flags = new Map<string, GivenFlag>();
  const positionals: string[] = [];
  let help = false;
  let i = args[0] === "--" ? 1 : 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;

    let option = schema.find((o) => o.flag === name);
    let negated = false;
    if (!option && name.startsWith("--no-")) {
      const positive = "--" + name.slice(5);
      const candidate = schema.find((o) => o.flag === positive);
      if (candidate?.type === "bool") [option, negated] = [candidate, true];
    }
    if (!option) {
      const hint = suggest(name, schema.map((o) => o.flag));
      problems.push({ key: name, message: `unknown option${hint ? ` (did you mean ${hint}?)` : ""}` });
      continue;
    }

    if (option.type === "bool") {
      if (negated) {
        if (inline !== undefined) {
          problems.push({ key: name, message: "takes no value", option: option.key });
          continue;
        }
        flags.set(option.key, { name, raw: false });
      } else {
        flags.set(option.key, { name, raw: inline ?? true });
      }
      continue;
    }

    if (inline !== undefined) {
      flags.set(option.key, { name, raw: inline });
      continue;
    }
    const next = args[i + 1];
    if (next === undefined || next.startsWith("--")) {
      problems.push({ key: name, message: "requires a value", option: option.key });
      continue;
    }
    flags.set(option.key, { name, raw: next });
    i++;
  }
  return { flags, positionals, help };
}

// ---------------------------------------------------------------------------------------------
// Config file

function loadFile(
  path: string,
  pathName: string,
  readFile: ReadFile,
  problems: ConfigProblem[],
): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    problems.push({
      key: pathName,
      message: `cannot read config file "${path}": ${errorText(err)}`,
      option: "config",
    });
    return undefined;
  }
  let data: unknown;
  try {
    data = parseJsonc(text);
  } catch (err) {
    problems.push({
      key: pathName,
      message: `config file "${path}" is not valid JSON: ${errorText(err)}`,
      option: "config",
    });
    return undefined;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    problems.push({
      key: pathName,
      message: `config file "${path}" must contain a JSON object`,
      option: "config",
    });
    return undefined;
  }
  return data as Record<string, unknown>;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Parses JSON with comments: `//` and `/* *\/` comments outside strings are removed, as are
 * trailing commas before `}` or `]`. Removed characters become spaces (newlines are kept), so
 * positions in JSON.parse errors still point at the original text. Throws SyntaxError.
 */
export function parseJsonc(text: string): unknown {
  return JSON.parse(stripJsonc(text));
}

/** The comment- and trailing-comma-free JSON text behind parseJsonc. */
export function stripJsonc(text: string): string {
  if (text.charCodeAt(0) === 0xfeff) text = " " + text.slice(1);
  const out: string[] = [];
  // Index in `out` of the last comma outside strings that may yet turn out to be trailing.
  let pendingComma = -1;
  // Last character outside strings and comments that is not whitespace ('"' for a string).
  let last = "";
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"' && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      out.push(text.slice(i, Math.min(j + 1, n)));
      pendingComma = -1;
      last = '"';
      i = j + 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      let j = i;
      while (j < n && text[j] !== "\n" && text[j] !== "\r") j++;
      out.push(" ".repeat(j - i));
      i = j;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new SyntaxError(`unterminated /* comment at position ${i}`);
      out.push(text.slice(i, end + 2).replace(/[^\r\n]/g, " "));
      i = end + 2;
      continue;
    }
    const blank = c === " " || c === "\t" || c === "\n" || c === "\r";
    if (c === ",") {
      // Only a comma after a value can be trailing; `[,]` and `{,}` stay invalid.
      pendingComma = last !== "" && !"{[,:".includes(last) ? out.length : -1;
    } else if (c === "}" || c === "]") {
      if (pendingComma >= 0) out[pendingComma] = " ";
      pendingComma = -1;
    } else if (!blank) {
      pendingComma = -1;
    }
    if (!blank) last = c;
    out.push(c);
    i++;
  }
  return out.join("");
}

// ---------------------------------------------------------------------------------------------
// Values

function cloneValue(value: OptionSpec["default"]): Value {
  return Array.isArray(value) ? [...value] : value as string | number | boolean;
}

function shown(option: OptionSpec, raw: unknown): string {
  if (option.secret) return "(hidden)";
  return JSON.stringify(raw) ?? String(raw);
}

/**
 * Converts and validates one raw value. Flags and environment give strings (bare bool flags give
 * booleans); the config file gives JSON values, where strings are also accepted for every type
 * (so `"port": "9000"` and `"protocols": "tcp,ws"` work) and arrays for lists.
 */
function convert(option: OptionSpec, raw: unknown, source: ConfigSource): Check<Value> {
  switch (option.type) {
    case "string":
      if (typeof raw === "string") return { ok: true, value: raw };
      return { ok: false, message: `must be a string, got ${shown(option, raw)}` };
    case "int":
      return convertInt(option, raw);
    case "bool": {
      if (typeof raw === "boolean") return { ok: true, value: raw };
      const text = typeof raw === "string" ? raw.trim().toLowerCase() : undefined;
      if (text === "true" || text === "1" || text === "yes") return { ok: true, value: true };
      if (text === "false" || text === "0" || text === "no") return { ok: true, value: false };
      return { ok: false, message: `must be true or false (or 1/0, yes/no), got ${shown(option, raw)}` };
    }
    case "enum": {
      const values = option.values ?? [];
      const text = typeof raw === "string" ? raw.trim() : undefined;
      if (text !== undefined && values.includes(text)) return { ok: true, value: text };
      return { ok: false, message: `must be one of ${values.join(", ")}, got ${shown(option, raw)}` };
    }
    case "list":
      return convertList(option, raw, source);
  }
}

function convertInt(option: OptionSpec, raw: unknown): Check<number> {
  let n: number | undefined;
  if (typeof raw === "number") n = raw;
  else if (typeof raw === "string" && /^[+-]?\d+$/.test(raw.trim())) n = Number(raw.trim());
  const { min, max } = option;
  const range = min !== undefined && max !== undefined
    ? `an integer between ${min} and ${max}`
    : min !== undefined
    ? `an integer >= ${min}`
    : max !== undefined
    ? `an integer <= ${max}`
    : "an integer";
  if (
    n === undefined || !Number.isSafeInteger(n) || (min !== undefined && n < min) ||
    (max !== undefined && n > max)
  ) {
    return { ok: false, message: `must be ${range}, got ${shown(option, raw)}` };
  }
  return { ok: true, value: n };
}

function convertList(option: OptionSpec, raw: unknown, source: ConfigSource): Check<string[]> {
  let items: string[];
  if (typeof raw === "string") {
    items = raw.split(",");
  } else if (
    source === "file" && Array.isArray(raw) &&
    raw.every((x) => typeof x === "string" || typeof x === "number")
  ) {
    items = raw.map(String); // numeric group ids written as numbers
  } else {
    return {
      ok: false,
      message: `must be a comma-separated string or an array of strings, got ${shown(option, raw)}`,
    };
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items.map((s) => s.trim())) {
    if (item === "" || seen.has(item)) continue;
    seen.add(item);
    out.push(item);
  }
  if (option.values) {
    const bad = out.filter((item) => !option.values!.includes(item));
    if (bad.length > 0) {
      const list = bad.map((b) => JSON.stringify(b)).join(", ");
      return {
        ok: false,
        message: `unknown item${bad.length > 1 ? "s" : ""} ${list}; allowed: ${option.values.join(", ")}`,
      };
    }
  }
  if (option.minItems !== undefined && out.length < option.minItems) {
    const allowed = option.values ? ` of ${option.values.join(", ")}` : "";
    return {
      ok: false,
      message: `must list at least ${option.minItems} item${option.minItems > 1 ? "s" : ""}${allowed}`,
    };
  }
  return { ok: true, value: out };
}

// ---------------------------------------------------------------------------------------------
// Suggestions

/** The closest candidate by a normalised spelling or a small edit distance, if any is close. */
function suggest(input: string, candidates: string[]): string | undefined {
  const norm = (s: string) => s.replace(/^-+/, "").replace(/[-_]/g, "").toLowerCase();
  const target = norm(input);
  const exact = candidates.find((c) => norm(c) === target);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(target, norm(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(target.length / 4)) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
