/** The benchmark runs end to end (a short smoke run; figures are never asserted here). */
import assert from "node:assert/strict";

Deno.test("deno task bench --smoke runs the relay baseline and jim and writes JSON + markdown", async () => {
  const out = await Deno.makeTempDir({ prefix: "jim-bench-smoke-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../bench/run.ts", import.meta.url).pathname, "--smoke", "--out", out],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const report = JSON.parse(await Deno.readTextFile(`${out}/smoke.json`));
    assert.equal(report.jim.errors, 0);
    assert.ok(report.jim.rate > 0 && report.relay.rate > 0);
    assert.ok(Number.isFinite(report.ratio));
    assert.match(await Deno.readTextFile(`${out}/smoke.md`), /\| jim \|/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
