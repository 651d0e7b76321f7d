/**
 * The embedded web app: generated/app_bundle.ts must be what scripts/build_web.ts produces from
 * the current sources (run `deno task build-web` after changing src/web/app/ or the client).
 */
import assert from "node:assert/strict";
import { bundleApp, GENERATED, generatedModule } from "../../scripts/build_web.ts";
import { APP_JS } from "./generated/app_bundle.ts";

Deno.test("web app: the generated bundle is up to date (deno task build-web)", async () => {
  const expected = await generatedModule(await bundleApp());
  const actual = await Deno.readTextFile(new URL(`../../${GENERATED}`, import.meta.url));
  assert.ok(actual === expected, `${GENERATED} is stale: run \`deno task build-web\``);
});

Deno.test("web app: the bundle never parses HTML and carries no imports", () => {
  for (
    const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"]
  ) {
    assert.ok(!APP_JS.includes(sink), `the bundle uses ${sink}`);
  }
  assert.ok(!/^\s*import\s/m.test(APP_JS), "the bundle must be self-contained");
  assert.ok(!APP_JS.includes("Deno."), "the bundle must not use Deno APIs");
});
