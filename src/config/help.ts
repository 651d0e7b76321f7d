/**
 * `--help` text and the README configuration table, both derived from CONFIG_SCHEMA so they can
 * never drift from what the resolver accepts.
 */
import { CONFIG_SCHEMA, describeConstraint, formatValue, type OptionSpec } from "./schema.ts";

/** `--port <n>`, `--registration <open|closed>`, `--[no-]verbose`. */
export function flagUsage(option: OptionSpec): string {
  switch (option.type) {
    case "bool":
      return `--[no-]${option.flag.slice(2)}`;
    case "enum":
      return `${option.flag} <${(option.values ?? []).join("|")}>`;
    case "list":
      return `${option.flag} <${option.arg ?? (option.values ? option.values.join(",") : "a,b,...")}>`;
    case "int":
      return `${option.flag} <${option.arg ?? "n"}>`;
    default:
      return `${option.flag} <${option.arg ?? "value"}>`;
  }
}

/** The default as a user would type it; `""` for an empty string or list. */
export function formatDefault(option: OptionSpec): string {
  const text = formatValue(option.default);
  return text === "" ? '""' : text;
}

/** Doc line plus the accepted values where the flag placeholder does not already show them. */
function describe(option: OptionSpec): string {
  const doc = option.reload ? `${option.doc} (SIGHUP reloads it)` : option.doc;
  if (option.type === "int" || (option.type === "list" && option.values)) {
    return `${doc} [${describeConstraint(option)}]`;
  }
  return doc;
}

/**
 * Usage text: two lines per option, the first with the flag, the environment variable and the
 * default in aligned columns, the second with the description and accepted range.
 */
export function renderHelp(): string {
  const rows = CONFIG_SCHEMA.map((option: OptionSpec) => ({
    flag: flagUsage(option),
    env: option.env,
    def: `default: ${formatDefault(option)}`,
    doc: describe(option),
  }));
  const flagWidth = Math.max(...rows.map((r) => r.flag.length));
  const envWidth = Math.max(...rows.map((r) => r.env.length));
  const lines = [
    "Usage: jim [command] [options]",
    "",
    "Commands:",
    "",
    "  serve                      Run the server (the default).",
    "  version                    Print jim's and Deno's versions.",
    '  check-config               Validate the configuration: every problem, exit 2; else "config ok".',
    "  print-config               Print each option's effective value and source (secrets masked).",
    "  backup FILE                Write a consistent copy of the database to the new file FILE, also",
    "                             while the server runs.",
    "  restore FILE [--no-keep]   Replace the database with FILE (a backup) while the server is stopped;",
    "                             the previous one stays as jim.db.before-restore-<time> unless --no-keep.",
    "  user add USER [--password-stdin | --no-password]",
    "                             Create an account (password prompted, or the first line of stdin).",
    "  user passwd USER [--password-stdin]",
    "                             Change an account's password.",
    "  user disable USER | user enable USER",
    "                             Refuse (or allow again) the account's logins; live sessions stay.",
    "  user list [--after ID] [--limit N]",
    "                             List accounts (userId, enabled, password, created), by userId.",
    "",
    "Options (precedence: flag > environment variable > config file > default):",
    "",
  ];
  for (const row of rows) {
    lines.push(`  ${row.flag.padEnd(flagWidth)}  ${row.env.padEnd(envWidth)}  ${row.def}`);
    lines.push(`      ${row.doc}`);
  }
  lines.push(
    `  ${"-h, --help".padEnd(flagWidth)}  ${"".padEnd(envWidth)}`.trimEnd(),
    "      Show this help and exit.",
    "",
    "Flags take `--name value` or `--name=value`; lists are comma-separated. The config file uses the",
    'camelCase keys (e.g. {"port": 9000, "dataDir": "/var/lib/jim"}).',
  );
  return lines.join("\n") + "\n";
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function codeCell(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** A Markdown table (key | flag | env | default | description) for the README. */
export function renderConfigTable(): string {
  const lines = [
    "| key | flag | env | default | description |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const option of CONFIG_SCHEMA as readonly OptionSpec[]) {
    let doc = option.doc;
    if (option.type === "enum") doc += ` One of ${(option.values ?? []).map(codeCell).join(", ")}.`;
    if (option.type === "list" && option.values) doc += ` Items: ${option.values.map(codeCell).join(", ")}.`;
    if (option.type === "int") doc += ` Range: ${describeConstraint(option)}.`;
    if (option.secret) doc += " Secret: masked when printed.";
    if (option.reload) doc += " SIGHUP reloads it.";
    const cells = [
      codeCell(option.key),
      codeCell(option.flag),
      codeCell(option.env),
      codeCell(formatDefault(option)),
      doc,
    ];
    lines.push(`| ${cells.map(escapeCell).join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}
