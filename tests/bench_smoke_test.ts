/**
 * The benchmarks run end to end: `deno task bench --smoke` runs a short version of every scenario
 * (and of the opt-in capacity scenario) against jim and the relay baseline. Only the shape of the
 * results and that load got through are asserted, never a timing or a rate.
 */
import assert from "node:assert/strict";

const RUN = new URL("../bench/run.ts", import.meta.url).pathname;

async function smoke(out: string, ...args: string[]) {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", RUN, "--smoke", "--out", out, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
  return JSON.parse(await Deno.readTextFile(`${out}/smoke.json`));
}

// deno-lint-ignore no-explicit-any
type Summary = Record<string, any>;

function rows(report: Summary, scenario: string, server: string): Summary[] {
  const list = report.scenarios[scenario]?.summary?.filter((s: Summary) => s.server === server) ?? [];
  assert.ok(list.length > 0, `${scenario}: no ${server} results`);
  return list;
}

Deno.test("deno task bench --smoke: every scenario against jim and the relay, JSON + markdown + SVG", async () => {
  const out = await Deno.makeTempDir({ prefix: "jim-bench-smoke-" });
  try {
    const report = await smoke(out);
    assert.ok(report.machine.cores > 0 && report.machine.deno);
    for (const server of ["jim", "relay"]) {
      for (const s of rows(report, "idle", server)) {
        assert.ok(s.conns > 0, `idle ${server} ${s.variant} held no connection`);
        assert.ok(Number.isFinite(s.kbPerConn));
      }
      const chat = rows(report, "chat", server);
      assert.ok(chat.length >= 2, "one row per offered rate");
      for (const s of chat) {
        assert.ok(s.delivered > 0 && Number.isFinite(s.p99), `chat ${server} ${s.variant}`);
      }
      for (const s of rows(report, "saturation", server)) {
        assert.ok(s.delivered > 0, `saturation ${s.variant}`);
      }
      for (const s of rows(report, "fanout", server)) assert.ok(s.deliveries > 0, `fanout ${server}`);
      for (const s of rows(report, "login", server)) assert.ok(s.logins > 0, `login ${server} ${s.variant}`);
      for (const s of rows(report, "history", server)) {
        assert.ok(s.queries > 0, `history ${server} ${s.variant}`);
      }
    }
    // jim's own checks: acks after commit came back, nothing was refused, pages held messages.
    for (const scenario of ["chat", "saturation", "fanout", "login", "history"]) {
      for (const s of rows(report, scenario, "jim")) assert.equal(s.errors, 0, `${scenario} ${s.variant}`);
    }
    for (const s of rows(report, "chat", "jim")) assert.ok(Number.isFinite(s.ackp99));
    for (const s of rows(report, "history", "jim")) assert.equal(s.emptyReplies, 0);
    assert.ok(report.scenarios.workers, "the workers scenario reports, available or not");
    assert.ok(report.targets.length >= 7);
    for (const t of report.targets) assert.match(t.verdict, /^(met|missed by .+%|no data)$/);
    const md = await Deno.readTextFile(`${out}/smoke.md`);
    assert.match(md, /## Targets/);
    assert.match(md, /\| relay \(baseline\) \|/);
    assert.match(
      await Deno.readTextFile(`${out}/smoke-latency.svg`),
      /^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("deno task bench --smoke --scenario capacity: one process in steps, then several processes", async () => {
  const out = await Deno.makeTempDir({ prefix: "jim-bench-smoke-" });
  try {
    const report = await smoke(out, "--scenario", "capacity");
    const list: Summary[] = report.scenarios.capacity.summary;
    const slope = list.find((s) => s.variant === "one process, slope");
    assert.ok(slope && Number.isFinite(slope.kbPerConnSlope) && slope.fileLimit > 0);
    const total = list.find((s) => String(s.variant).endsWith("processes: total"));
    assert.ok(total && total.held === total.asked && total.held > 0, JSON.stringify(total));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
