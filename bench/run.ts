/**
 * Benchmark runner. Starts jim and the relay baseline pinned to core 0 and load generator
 * processes (bench/load.ts) pinned to core 1, runs the scenarios of bench/scenarios.ts with
 * repeats, and writes bench/results/latest.json (machine, every run, medians, targets),
 * latest.md (tables) and latency.svg (latency against offered load).
 *
 *   deno task bench                          every default scenario (capacity is opt-in)
 *   deno task bench --scenario chat,login    some of them
 *   deno task bench --smoke                  the short CI variant (writes smoke.*)
 *   deno task bench --update-readme          rewrite README's Benchmarks section from latest.json
 *   options: --repeat 3 --seconds 2 --gens 2 --out bench/results
 */
import { parseArgs } from "node:util";
import { pinning, ROOT } from "./procs.ts";
import { type Row, SCENARIOS } from "./scenarios.ts";
import {
  checkTargets,
  latencySvg,
  machineInfo,
  markdown,
  readmeSection,
  replaceReadmeSection,
  type Report,
  summarize,
} from "./report.ts";

const { values } = parseArgs({
  args: Deno.args.filter((a) => a !== "--"),
  options: {
    scenario: { type: "string", multiple: true },
    repeat: { type: "string" },
    seconds: { type: "string" },
    gens: { type: "string", default: "2" },
    smoke: { type: "boolean", default: false },
    out: { type: "string", default: `${ROOT}bench/results` },
    "update-readme": { type: "boolean", default: false },
  },
});

const out = values.out!;
const analysisPath = `${ROOT}bench/results/analysis.md`;

async function updateReadme(report: Report): Promise<void> {
  const analysis = await Deno.readTextFile(analysisPath).catch(() => "");
  const path = `${ROOT}README.md`;
  const readme = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, replaceReadmeSection(readme, readmeSection(report, analysis)));
  await formatMarkdown(path);
  console.error(`README.md: Benchmarks section rewritten from ${out}/latest.json`);
}

/** `deno fmt` on written markdown and SVG, so `deno task check` stays green after a run. */
async function formatMarkdown(...paths: string[]): Promise<void> {
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", ...paths],
    stdout: "null",
    stderr: "null",
  })
    .output();
}

/** Writes NAME.json, NAME.md and the SVG; scenarios in SCENARIOS order. */
async function write(report: Report, name: string): Promise<string> {
  const ordered: Report["scenarios"] = {};
  for (const s of SCENARIOS) if (report.scenarios[s.name]) ordered[s.name] = report.scenarios[s.name];
  report.scenarios = ordered;
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(`${out}/${name}.json`, JSON.stringify(report, null, 2) + "\n");
  const md = markdown(report);
  await Deno.writeTextFile(`${out}/${name}.md`, md);
  const svg = latencySvg(Object.values(report.scenarios).flatMap((s) => s.summary), report.machine);
  const svgPath = `${out}/${name === "smoke" ? "smoke-latency" : "latency"}.svg`;
  await Deno.writeTextFile(svgPath, svg);
  if (name !== "smoke") await formatMarkdown(`${out}/${name}.md`, svgPath);
  return md;
}

const requested = (values.scenario ?? []).flatMap((s) => s.split(",")).filter(Boolean);
if (values["update-readme"] && requested.length === 0 && !values.smoke) {
  // Re-render latest.md and the SVG from latest.json, then the README section.
  const report: Report = JSON.parse(await Deno.readTextFile(`${out}/latest.json`));
  report.targets = checkTargets(Object.values(report.scenarios).flatMap((s) => s.summary));
  await write(report, "latest");
  await updateReadme(report);
  Deno.exit(0);
}
const unknown = requested.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length) {
  console.error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  Deno.exit(2);
}
const chosen = requested.length
  ? SCENARIOS.filter((s) => requested.includes(s.name))
  : SCENARIOS.filter((s) => !s.optIn);

const settings = {
  smoke: values.smoke,
  repeat: Number(values.repeat ?? (values.smoke ? 1 : 3)),
  seconds: Number(values.seconds ?? (values.smoke ? 0.7 : 2)),
  gens: Number(values.gens),
  log: (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`),
};

const machine = await machineInfo(pinning);
const started = performance.now();
const report: Report = {
  machine,
  settings: {
    repeat: settings.repeat,
    seconds: settings.seconds,
    generatorProcesses: settings.gens,
    smoke: settings.smoke,
    scenarios: chosen.map((s) => s.name),
  },
  scenarios: {},
  targets: [],
};

// A partial run (some scenarios) keeps the other scenarios of the previous latest.json, and a
// default run keeps the opt-in ones (each scenario carries the date it ran).
const name = values.smoke ? "smoke" : "latest";
if (!values.smoke) {
  try {
    const previous: Report = JSON.parse(await Deno.readTextFile(`${out}/latest.json`));
    for (const [k, v] of Object.entries(previous.scenarios ?? {})) {
      const optIn = SCENARIOS.find((s) => s.name === k)?.optIn;
      if (!chosen.some((s) => s.name === k) && (requested.length || optIn)) report.scenarios[k] = v;
    }
  } catch {
    // no previous results
  }
}

for (const scenario of chosen) {
  settings.log(`scenario ${scenario.name}: ${scenario.title}`);
  let rows: Row[];
  const notes: string[] = [];
  try {
    rows = await scenario.run(settings);
  } catch (err) {
    settings.log(`scenario ${scenario.name} failed: ${err instanceof Error ? err.stack : err}`);
    rows = [];
    notes.push(`failed: ${err instanceof Error ? err.message : err}`);
    if (values.smoke) throw err;
  }
  const date = new Date().toISOString();
  report.scenarios[scenario.name] = { title: scenario.title, date, rows, summary: summarize(rows), notes };
}
report.targets = checkTargets(Object.values(report.scenarios).flatMap((s) => s.summary));
settings.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);

console.log(await write(report, name));
if (values["update-readme"] && !values.smoke) await updateReadme(report);
