/**
 * The release workflow stays true to the repository: read as text (no YAML parser), everything it
 * names (deno tasks, files, compile targets, actions, the Deno version) exists.
 */
import assert from "node:assert/strict";
import { TARGETS } from "../scripts/compile.ts";

const root = new URL("..", import.meta.url);
const workflow = await Deno.readTextFile(new URL(".github/workflows/release.yml", root));
const tasks: Record<string, string> = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;

Deno.test("release.yml runs on v* tags, tests first, with only checkout and setup-deno", () => {
  assert.match(workflow, /^on:\n {2}push:\n {4}tags: \["v\*"\]$/m);
  const uses = [...workflow.matchAll(/uses: ([^@\s]+)@/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(uses)].sort(), ["actions/checkout", "denoland/setup-deno"]);
  assert.match(workflow, /^ {4}needs: test$/m, "the release waits for the tests");
  const readme = Deno.readTextFileSync(new URL("README.md", root));
  const version = readme.match(/npx -y deno@([\d.]+) task test/)![1];
  assert.match(workflow, new RegExp(`DENO_VERSION: "${version.replace(/\./g, "\\.")}"`));
});

Deno.test("every deno task and file release.yml names exists", async () => {
  const named = [...workflow.matchAll(/deno task ([\w-]+)/g)].map((m) => m[1]);
  assert.ok(named.includes("test") && named.includes("compile"));
  for (const task of named) assert.ok(task in tasks, `deno task ${task} is not in deno.json`);
  const files = [...workflow.matchAll(/\b((?:scripts|tests|src)\/[\w./-]+|README\.md)/g)].map((m) => m[1]);
  assert.ok(files.includes("scripts/jim.service") && files.includes("scripts/install.sh"));
  for (const file of files) assert.ok((await Deno.stat(new URL(file, root))).isFile, `${file} is missing`);
});

Deno.test("release.yml builds every target of scripts/compile.ts, with its output names", () => {
  const matrix = workflow.match(/target:\n((?: {10}- [\w-]+\n)+)/)![1];
  const targets = [...matrix.matchAll(/- ([\w-]+)/g)].map((m) => m[1]);
  assert.deepEqual(targets, TARGETS);
  // compile.ts writes dist/jim-<target>[.exe]; the archive step reads exactly that.
  assert.match(workflow, /cp "dist\/jim-\$TARGET\.exe"/);
  assert.match(workflow, /cp "dist\/jim-\$TARGET" /);
  assert.match(workflow, /sha256sum jim-\* > SHA256SUMS/);
  assert.match(workflow, /gh release upload "\$GITHUB_REF_NAME" assets\/SHA256SUMS/);
});
