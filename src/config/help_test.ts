import assert from "node:assert/strict";
import { flagUsage, formatDefault, renderConfigTable, renderHelp } from "./help.ts";
import { CONFIG_SCHEMA, type OptionSpec } from "./schema.ts";

const OPTIONS = CONFIG_SCHEMA as readonly OptionSpec[];

Deno.test("help: lists every flag, env name, default and enum value", () => {
  const help = renderHelp();
  for (const o of OPTIONS) {
    // Booleans are listed as --[no-]name.
    const shown = o.type === "bool" ? o.flag.replace(/^--/, "--[no-]") : o.flag;
    const line = help.split("\n").find((l) => l.trimStart().startsWith(shown + " "));
    assert.ok(line, `no line for ${o.flag}`);
    assert.ok(line.includes(o.env), `${o.env} missing`);
    assert.ok(line.includes(`default: ${formatDefault(o)}`), `${o.key} default missing`);
    for (const v of o.values ?? []) assert.ok(help.includes(v), `${o.key} value ${v} missing`);
    assert.ok(help.includes(o.doc), `${o.key} doc missing`);
  }
  assert.match(help, /--port <n>\s+JIM_PORT\s+default: 8888/);
  assert.match(help, /--registration <open\|closed>\s+JIM_REGISTRATION\s+default: open/);
  assert.match(help, /--protocols <tcp,ws,http>\s+JIM_PROTOCOLS\s+default: tcp,ws,http/);
  assert.match(help, /--default-groups <ids>\s+JIM_DEFAULT_GROUPS\s+default: ""/);
  assert.match(help, /-h, --help/);
  assert.match(help, /\[0\.\.65535\]/);
});

Deno.test("help: env and default columns are aligned", () => {
  const lines = renderHelp().split("\n").filter((l) => l.includes(" JIM_"));
  assert.equal(lines.length, OPTIONS.length);
  const envColumn = new Set(lines.map((l) => l.indexOf(" JIM_")));
  const defaultColumn = new Set(lines.map((l) => l.indexOf("default: ")));
  assert.equal(envColumn.size, 1);
  assert.equal(defaultColumn.size, 1);
});

Deno.test("help: flag usage per type", () => {
  assert.equal(
    flagUsage({ key: "v", flag: "--verbose", env: "JIM_V", type: "bool", default: false, doc: "" }),
    "--[no-]verbose",
  );
  assert.equal(flagUsage(OPTIONS.find((o) => o.key === "logLevel")!), "--log-level <debug|info|warn|error>");
  assert.equal(flagUsage(OPTIONS.find((o) => o.key === "dataDir")!), "--data-dir <dir>");
  assert.equal(
    flagUsage({ key: "x", flag: "--x", env: "JIM_X", type: "list", default: [], doc: "" }),
    "--x <a,b,...>",
  );
});

Deno.test("config table: one Markdown row per option with every column", () => {
  const table = renderConfigTable().trimEnd().split("\n");
  assert.equal(table[0], "| key | flag | env | default | description |");
  assert.equal(table[1], "| --- | --- | --- | --- | --- |");
  assert.equal(table.length, OPTIONS.length + 2);
  OPTIONS.forEach((o, i) => {
    const row = table[i + 2];
    assert.ok(
      row.startsWith(`| \`${o.key}\` | \`${o.flag}\` | \`${o.env}\` | \`${formatDefault(o)}\` | `),
      row,
    );
    assert.ok(row.includes(o.doc), row);
    // Five cells: no unescaped pipe inside a cell.
    assert.equal(row.replace(/\\\|/g, "").split("|").length, 7, row);
  });
  const registration = table.find((r) => r.startsWith("| `registration`"))!;
  assert.match(registration, /One of `open`, `closed`\./);
  assert.match(table.find((r) => r.startsWith("| `apiToken`"))!, /Secret/);
  assert.match(table.find((r) => r.startsWith("| `port`"))!, /Range: 0\.\.65535\./);
});
