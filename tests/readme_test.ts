/** README stays true: its config table is the schema's, its commands are the ones CI runs. */
import assert from "node:assert/strict";
import { renderConfigTable } from "../src/config/help.ts";

const root = new URL("..", import.meta.url);
const readme = await Deno.readTextFile(new URL("README.md", root));

/** Cells of a Markdown table, trimmed, so `deno fmt`'s column alignment does not matter. */
function cells(table: string): string[][] {
  return table.trim().split("\n").map((line) =>
    line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim().replace(/^-+$/, "---"))
  );
}

Deno.test("README's configuration table is generated from the config schema", () => {
  const m = readme.match(/<!-- config-table:start[^>]*-->\n([\s\S]*?)\n<!-- config-table:end -->/);
  assert.ok(m, "config table markers missing");
  assert.deepEqual(cells(m[1]), cells(renderConfigTable()), "regenerate the table with renderConfigTable()");
});

Deno.test("README's start and test commands are the deno tasks .ci/run uses", async () => {
  assert.match(readme, /^npx -y deno@2\.9\.6 task start$/m);
  assert.match(readme, /^npx -y deno@2\.9\.6 task test$/m);
  const ci = await Deno.readTextFile(new URL(".ci/run", root));
  assert.match(ci, /task test\$" README\.md/);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  assert.ok(tasks.start.includes("main.ts"));
  assert.ok(tasks.test.includes("deno test"));
});
