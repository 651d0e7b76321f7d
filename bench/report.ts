/**
 * Turns benchmark rows into the results: medians per (scenario, variant, server), the targets of
 * issue #6 with "met / missed by X%", readable markdown tables, a hand-written SVG plot of latency
 * against offered load, and the README's Benchmarks section.
 */
import type { Row, ServerKind } from "./scenarios.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memTotalMiB: number;
  kernel: string;
  os: string;
  arch: string;
  deno: string;
  pinned: boolean;
  loadAverageAtStart: string;
  date: string;
}

export interface Summary {
  scenario: string;
  variant: string;
  server: ServerKind;
  runs: number;
  [metric: string]: string | number;
}

export interface TargetCheck {
  label: string;
  scenario: string;
  variant: string;
  metric: string;
  op: "<=" | ">=";
  target: number;
  unit: string;
  jim: number;
  relay: number;
  /** jim / relay. */
  ratio: number;
  verdict: string;
}

export interface Report {
  machine: Machine;
  settings: Record<string, unknown>;
  scenarios: Record<
    string,
    { title: string; date: string; rows: Row[]; summary: Summary[]; notes: string[] }
  >;
  targets: TargetCheck[];
}

export async function machineInfo(pinned: boolean): Promise<Machine> {
  const read = (p: string) => Deno.readTextFile(p).catch(() => "");
  const cpuinfo = await read("/proc/cpuinfo");
  const meminfo = await read("/proc/meminfo");
  return {
    cpu: cpuinfo.match(/model name\s*:\s*(.+)/)?.[1]?.trim() ?? "unknown",
    cores: navigator.hardwareConcurrency,
    memTotalMiB: Math.round(Number(meminfo.match(/MemTotal:\s+(\d+)/)?.[1] ?? 0) / 1024),
    kernel: (await read("/proc/sys/kernel/osrelease")).trim(),
    os: Deno.build.os,
    arch: Deno.build.arch,
    deno: Deno.version.deno,
    pinned,
    loadAverageAtStart: (await read("/proc/loadavg")).split(" ").slice(0, 3).join(" "),
    date: new Date().toISOString(),
  };
}

function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Medians of every numeric metric per (variant, server), in first-seen order. */
export function summarize(rows: Row[]): Summary[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.variant}\u0000${r.server}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  return [...groups.values()].map((g) => {
    const s: Summary = {
      scenario: g[0].scenario,
      variant: g[0].variant,
      server: g[0].server,
      runs: g.length,
    };
    for (const key of Object.keys(g[0])) {
      if (key === "run" || typeof g[0][key] !== "number") continue;
      s[key] = median(g.map((r) => Number(r[key])));
    }
    return s;
  });
}

interface TargetDef {
  label: string;
  scenario: string;
  /** Exact variant, or a prefix; with `best`, the best matching variant. */
  variant: string;
  best?: boolean;
  metric: string;
  op: "<=" | ">=";
  target: number;
  unit: string;
}

export const TARGETS: TargetDef[] = [
  {
    label: "idle RSS per TCP connection (after a full GC)",
    scenario: "idle",
    variant: "tcp",
    metric: "kbPerConn",
    op: "<=",
    target: 10,
    unit: "kB",
  },
  {
    label: "idle RSS per WebSocket connection (after a full GC)",
    scenario: "idle",
    variant: "ws",
    metric: "kbPerConn",
    op: "<=",
    target: 10,
    unit: "kB",
  },
  {
    label: "1:1 chat at saturation (TCP, ack after commit)",
    scenario: "saturation",
    variant: "tcp",
    metric: "delivered",
    op: ">=",
    target: 60_000,
    unit: "msg/s",
  },
  {
    label: "1:1 chat p99 at 25k msg/s offered",
    scenario: "chat",
    variant: "25000",
    metric: "p99",
    op: "<=",
    target: 5,
    unit: "ms",
  },
  {
    label: "1:1 chat p99.9 at 25k msg/s offered",
    scenario: "chat",
    variant: "25000",
    metric: "p999",
    op: "<=",
    target: 25,
    unit: "ms",
  },
  {
    label: "group fan-out (1000 members), best rate",
    scenario: "fanout",
    variant: "",
    best: true,
    metric: "deliveries",
    op: ">=",
    target: 250_000,
    unit: "deliveries/s",
  },
  {
    label: "token logins (TCP)",
    scenario: "login",
    variant: "token, tcp",
    metric: "logins",
    op: ">=",
    target: 10_000,
    unit: "logins/s",
  },
  {
    label: "history page p99, 1M messages (cmd 19 offset page)",
    scenario: "history",
    variant: "cmd 19",
    metric: "p99",
    op: "<=",
    target: 1,
    unit: "ms",
  },
  {
    label: "history page p99, 1M messages (cmd 23 seq page)",
    scenario: "history",
    variant: "cmd 23",
    metric: "p99",
    op: "<=",
    target: 1,
    unit: "ms",
  },
];

export function checkTargets(summaries: Summary[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const t of TARGETS) {
    const match = (s: Summary) => s.scenario === t.scenario && String(s.variant).startsWith(t.variant);
    const jims = summaries.filter((s) => match(s) && s.server === "jim");
    if (jims.length === 0) continue;
    const pick = (list: Summary[]) =>
      t.best
        ? list.reduce((a, b) => (Number(b[t.metric]) > Number(a[t.metric]) ? b : a))
        : list.find((s) => s.variant === t.variant) ?? list[0];
    const jim = pick(jims);
    const relay = summaries.find((s) =>
      s.scenario === t.scenario && s.variant === jim.variant && s.server === "relay"
    );
    const relayBest = t.best ? summaries.filter((s) => match(s) && s.server === "relay") : [];
    const relayValue = relayBest.length
      ? Math.max(...relayBest.map((s) => Number(s[t.metric])))
      : Number(relay?.[t.metric] ?? NaN);
    const v = Number(jim[t.metric]);
    const met = t.op === ">=" ? v >= t.target : v <= t.target;
    const by = t.op === ">=" ? (t.target - v) / t.target : (v - t.target) / t.target;
    out.push({
      label: t.label,
      scenario: t.scenario,
      variant: String(jim.variant),
      metric: t.metric,
      op: t.op,
      target: t.target,
      unit: t.unit,
      jim: v,
      relay: relayValue,
      ratio: v / relayValue,
      verdict: !Number.isFinite(v) ? "no data" : met ? "met" : `missed by ${fmtNum(by * 100, 0)}%`,
    });
  }
  return out;
}

// ---- markdown ----

function fmtNum(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return "–";
  const fixed = n.toFixed(digits);
  return digits === 0 ? Number(fixed).toLocaleString("en-US").replaceAll(",", " ") : fixed;
}

type Column = [header: string, key: string, digits: number];

const COLUMNS: Record<string, Column[]> = {
  idle: [
    ["conns held", "conns", 0],
    ["RSS before MiB", "rssBeforeMiB", 1],
    ["RSS after MiB", "rssAfterMiB", 1],
    ["kB / conn (after full GC)", "kbPerConn", 2],
    ["kB / conn (no GC)", "kbPerConnBeforeGc", 2],
  ],
  chat: [
    ["offered msg/s", "offered", 0],
    ["delivered msg/s", "delivered", 0],
    ["p50 ms", "p50", 2],
    ["p99 ms", "p99", 2],
    ["p99.9 ms", "p999", 2],
    ["ack p50 ms", "ackp50", 2],
    ["ack p99 ms", "ackp99", 2],
    ["ack p99.9 ms", "ackp999", 2],
    ["server CPU %", "serverCpuPct", 0],
    ["server µs/msg", "cpuUsPerUnit", 1],
    ["generator CPU %", "genCpuPct", 0],
    ["errors", "errors", 0],
  ],
  saturation: [
    ["delivered msg/s", "delivered", 0],
    ["p50 ms", "p50", 2],
    ["p99 ms", "p99", 2],
    ["p99.9 ms", "p999", 2],
    ["ack p99 ms", "ackp99", 2],
    ["server CPU %", "serverCpuPct", 0],
    ["server µs/msg", "cpuUsPerUnit", 1],
    ["of which event loop", "loopUsPerUnit", 1],
    ["worker threads (store)", "storeUsPerUnit", 1],
    ["other threads (GC, I/O)", "otherUsPerUnit", 1],
    ["generator CPU %", "genCpuPct", 0],
    ["errors", "errors", 0],
  ],
  fanout: [
    ["offered deliveries/s", "offeredDeliveries", 0],
    ["deliveries/s", "deliveries", 0],
    ["p50 ms", "p50", 2],
    ["p99 ms", "p99", 2],
    ["p99.9 ms", "p999", 2],
    ["server CPU %", "serverCpuPct", 0],
    ["server µs/delivery", "cpuUsPerUnit", 2],
    ["generator CPU %", "genCpuPct", 0],
    ["errors", "errors", 0],
  ],
  login: [
    ["logins/s", "logins", 0],
    ["p50 ms", "p50", 2],
    ["p99 ms", "p99", 2],
    ["server CPU %", "serverCpuPct", 0],
    ["server µs/login", "cpuUsPerUnit", 0],
    ["generator CPU %", "genCpuPct", 0],
    ["errors", "errors", 0],
  ],
  history: [
    ["queries/s", "queries", 0],
    ["reply bytes", "replyBytes", 0],
    ["p50 ms", "p50", 3],
    ["p99 ms", "p99", 3],
    ["p99.9 ms", "p999", 3],
    ["server CPU %", "serverCpuPct", 0],
    ["server µs/query", "cpuUsPerUnit", 0],
    ["generator CPU %", "genCpuPct", 0],
    ["empty pages", "emptyReplies", 0],
    ["errors", "errors", 0],
  ],
  workers: [
    ["delivered msg/s", "delivered", 0],
    ["p99 ms", "p99", 2],
    ["server CPU %", "serverCpuPct", 0],
    ["generator CPU %", "genCpuPct", 0],
    ["errors", "errors", 0],
  ],
  capacity: [
    ["asked", "asked", 0],
    ["held", "held", 0],
    ["failed", "failed", 0],
    ["RSS MiB", "rssMiB", 1],
    ["kB / conn", "kbPerConn", 2],
    ["slope kB / conn", "kbPerConnSlope", 2],
    ["open-file limit", "fileLimit", 0],
    ["machine memory used MiB", "machineMemUsedMiB", 0],
  ],
};

/** The metric a row's "vs relay" ratio is about. */
const HEADLINE: Record<string, string> = {
  idle: "kbPerConn",
  chat: "p99",
  saturation: "delivered",
  fanout: "deliveries",
  login: "logins",
  history: "p99",
  workers: "delivered",
};

/**
 * Which side ran out of CPU: the server or the generators when their own processes used ≥ 85%
 * of their core; otherwise, a core ≥ 90% busy means other work on this shared machine took it.
 */
function bound(s: Summary): string {
  const server = Number(s.serverCpuPct), gen = Number(s.genCpuPct);
  if (!Number.isFinite(server)) return "";
  if (server >= 85 && gen >= 85) return "both";
  if (server >= 85) return "server";
  if (gen >= 85) return "generator";
  if (Number(s.core0BusyPct) >= 90 || Number(s.core1BusyPct) >= 90) {
    return "neither (cores shared with other work)";
  }
  return "neither (latency-bound)";
}

function table(scenario: string, summaries: Summary[]): string {
  const cols = (COLUMNS[scenario] ?? []).filter(([, key]) => summaries.some((s) => s[key] !== undefined));
  const headline = HEADLINE[scenario];
  const withRatio = headline && summaries.some((s) => s.server === "relay");
  const withBound = summaries.some((s) => s.serverCpuPct !== undefined);
  const head = ["variant", "server", ...cols.map((c) => c[0])];
  if (withRatio) head.push(`${headline} vs relay`);
  if (withBound) head.push("core 0 / core 1 busy %", "CPU-bound side");
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const s of summaries) {
    const cells = [String(s.variant), s.server === "relay" ? "relay (baseline)" : "jim"];
    for (const [, key, digits] of cols) {
      cells.push(s[key] === undefined ? "" : fmtNum(Number(s[key]), digits));
    }
    if (withRatio) {
      const relay = summaries.find((r) => r.server === "relay" && r.variant === s.variant);
      cells.push(
        s.server === "jim" && relay ? `${fmtNum(Number(s[headline]) / Number(relay[headline]), 2)}×` : "",
      );
    }
    if (withBound) {
      cells.push(`${fmtNum(Number(s.core0BusyPct))} / ${fmtNum(Number(s.core1BusyPct))}`, bound(s));
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

export function targetsTable(targets: TargetCheck[]): string {
  const lines = [
    "| target | jim | relay (same run) | jim / relay | verdict |",
    "|---|---|---|---|---|",
  ];
  for (const t of targets) {
    const digits = t.unit === "ms" || t.unit === "kB" ? 2 : 0;
    lines.push(
      `| ${t.label}: ${t.op === "<=" ? "≤" : "≥"} ${fmtNum(t.target, 0)} ${t.unit} | ${
        fmtNum(t.jim, digits)
      } | ${fmtNum(t.relay, digits)} | ${fmtNum(t.ratio, 2)} | ${t.verdict} |`,
    );
  }
  return lines.join("\n");
}

export function machineLine(m: Machine): string {
  return `${m.cores} × ${m.cpu}, ${
    fmtNum(m.memTotalMiB / 1024, 1)
  } GiB RAM, Linux ${m.kernel}, Deno ${m.deno}; ` +
    `server pinned to core 0 and load generators to core 1: ${
      m.pinned ? "yes" : "no"
    }; load average at start ` +
    `${m.loadAverageAtStart} (a machine shared with other engineers' test runs)`;
}

export function markdown(report: Report): string {
  const { machine, settings } = report;
  const parts = [
    `# jim benchmark results (${machine.date})`,
    "",
    `Machine: ${machineLine(machine)}.`,
    "",
    `Settings: ${
      Object.entries(settings).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(", ")
    }. Every figure is the median of the repeats; each jim figure is also given as a ratio to the ` +
    "relay baseline measured in the same run. Server CPU is utime + stime from /proc/PID/stat over the " +
    "measured window, summed over all of the process's threads (jim's SQLite worker thread included; the " +
    "taskset pin covers them all); 100% = one core. Generator CPU is all generator processes together on " +
    "core 1. Core busy % is the whole core over the window (/proc/stat), whoever used it: the machine is " +
    'shared, so a process may get less than its core while the core is full. "CPU-bound side": the server ' +
    "or the generators when their own processes used ≥ 85% of their core.",
    "",
  ];
  if (report.targets.length) {
    parts.push("## Targets (issue #6, one server process on one core)", "", targetsTable(report.targets), "");
  }
  for (const [name, sc] of Object.entries(report.scenarios)) {
    parts.push(`## ${name}: ${sc.title}`, "");
    if (sc.date < machine.date) parts.push(`(Kept from an earlier run: ${sc.date}.)`, "");
    if (sc.summary.length === 1 && sc.summary[0].variant === "not available") {
      parts.push("Not available: `main.ts --help` does not list `--workers` yet.", "");
      continue;
    }
    parts.push(table(name, sc.summary), "");
    for (const note of sc.notes) parts.push(`- ${note}`);
    if (sc.notes.length) parts.push("");
  }
  if (report.scenarios.chat) parts.push("![latency against offered load](latency.svg)", "");
  return parts.join("\n");
}

// ---- SVG: latency against offered load ----

export function latencySvg(summaries: Summary[], machine: Machine): string {
  const W = 760, H = 460, L = 70, R = 200, T = 40, B = 60;
  const chat = summaries.filter((s) => s.scenario === "chat");
  const xs = chat.map((s) => Number(s.offered)).filter((x) => x > 0);
  const ys = chat.flatMap((s) => [s.p50, s.p99, s.p999].map(Number)).filter((y) =>
    y > 0 && Number.isFinite(y)
  );
  if (xs.length === 0 || ys.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="80"><text x="10" y="40">no data</text></svg>\n`;
  }
  const x0 = Math.log10(Math.min(...xs) / 1.3), x1 = Math.log10(Math.max(...xs) * 1.3);
  const y0 = Math.floor(Math.log10(Math.min(...ys))), y1 = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (x: number) => L + ((Math.log10(x) - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (Math.log10(y) - y0) / Math.max(1, y1 - y0)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="22" font-size="14" font-weight="bold">1:1 chat latency (send → receipt at the peer) ` +
    `against offered load</text>`,
  ];
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#ddd"/>`);
    out.push(
      `<text x="${L - 8}" y="${y + 4}" text-anchor="end">${
        10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)
      }</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${px(x)}" y1="${T}" x2="${px(x)}" y2="${H - B}" stroke="#eee"/>`);
    out.push(
      `<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${x >= 1000 ? `${x / 1000}k` : x}</text>`,
    );
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  out.push(
    `<text x="${(L + W - R) / 2}" y="${H - 22}" text-anchor="middle">offered load, msg/s (log)</text>`,
  );
  out.push(
    `<text x="18" y="${(T + H - B) / 2}" transform="rotate(-90 18 ${
      (T + H - B) / 2
    })" text-anchor="middle">` +
      `latency, ms (log)</text>`,
  );
  const series: [ServerKind, string, string, string, string][] = [
    ["jim", "p50", "#d62728", "", "jim p50"],
    ["jim", "p99", "#d62728", "6 3", "jim p99"],
    ["jim", "p999", "#d62728", "2 3", "jim p99.9"],
    ["relay", "p50", "#1f77b4", "", "relay p50"],
    ["relay", "p99", "#1f77b4", "6 3", "relay p99"],
    ["relay", "p999", "#1f77b4", "2 3", "relay p99.9"],
  ];
  series.forEach(([server, key, color, dash, label], i) => {
    const pts = chat.filter((s) => s.server === server && Number(s[key]) > 0)
      .sort((a, b) => Number(a.offered) - Number(b.offered))
      .map((s) => [px(Number(s.offered)), py(Number(s[key]))]);
    if (pts.length) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${
          dash ? ` stroke-dasharray="${dash}"` : ""
        } ` +
          `points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`,
      );
      for (const [x, y] of pts) {
        out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`);
      }
    }
    const ly = T + 10 + i * 20;
    out.push(
      `<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 45}" y2="${ly}" stroke="${color}" stroke-width="2"` +
        `${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
    );
    out.push(`<text x="${W - R + 52}" y="${ly + 4}">${label}</text>`);
  });
  // Where jim delivered less than offered (saturated), say so under the axis point.
  for (const s of chat.filter((s) => s.server === "jim")) {
    if (Number(s.delivered) < 0.95 * Number(s.offered)) {
      out.push(
        `<text x="${px(Number(s.offered))}" y="${
          T + 14
        }" text-anchor="middle" fill="#d62728" font-size="10">` +
          `jim: ${fmtNum(Number(s.delivered) / 1000, 1)}k delivered</text>`,
      );
    }
  }
  out.push(
    `<text x="${W - R + 15}" y="${
      T + 140
    }" font-size="10">${machine.cores} cores, Deno ${machine.deno}</text>`,
    `<text x="${W - R + 15}" y="${T + 154}" font-size="10">${
      machine.date.slice(0, 10)
    }; server core 0,</text>`,
    `<text x="${W - R + 15}" y="${T + 168}" font-size="10">generators core 1; medians</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}

// ---- README section ----

export const README_START = "<!-- bench:start -->";
export const README_END = "<!-- bench:end -->";

export function readmeSection(report: Report, analysis: string): string {
  return [
    README_START,
    "",
    "## Benchmarks",
    "",
    "`deno task bench` runs every scenario (about 10 minutes: idle connections, 1:1 chat at fixed rates, " +
    "saturation, group fan-out, login storm, history with 1M messages, workers scaling) against jim and, in " +
    "the same run, against a minimal Deno relay with no IM semantics (`bench/relay.ts`), so every figure " +
    "also reads as a ratio to what the runtime does on that machine at that moment. `deno task bench " +
    "--scenario chat` runs one (`--scenario capacity`, opt-in, holds 100k connections over several processes); " +
    "`--repeat N`, `--seconds S`; `--smoke` is the short CI variant; `--update-readme` rewrites this " +
    "section from the results. The server runs pinned to core 0 and the load generators (separate " +
    "processes speaking J-IM TCP and WebSocket) to core 1. Results: " +
    "[bench/results/latest.md](bench/results/latest.md) (every table), `latest.json` (every run), " +
    "[latency.svg](bench/results/latency.svg).",
    "",
    `Latest run (${report.machine.date.slice(0, 10)}), machine: ${machineLine(report.machine)}.`,
    "",
    targetsTable(report.targets),
    "",
    "![1:1 chat latency against offered load, jim and the relay](bench/results/latency.svg)",
    "",
    analysis.trim(),
    "",
    README_END,
  ].join("\n");
}

/** Replaces the section between the markers (or adds it before "## Development"). */
export function replaceReadmeSection(readme: string, section: string): string {
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a >= 0 && b > a) return readme.slice(0, a) + section + readme.slice(b + README_END.length);
  const dev = readme.indexOf("\n## Development");
  if (dev >= 0) return readme.slice(0, dev + 1) + section + "\n\n" + readme.slice(dev + 1);
  return readme.trimEnd() + "\n\n" + section + "\n";
}
