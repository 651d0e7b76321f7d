/**
 * The benchmark scenarios. Each starts its servers (jim, and the relay baseline where it means
 * something), drives them with load generator processes (bench/load.ts) and returns one row per
 * server, variant and repeat; bench/report.ts turns the rows into medians, tables and a plot.
 */
import type { LoadSpec } from "./load.ts";
import {
  fullGc,
  Generator,
  jimHasFlag,
  measure,
  type Measured,
  memAvailableMiB,
  ROOT,
  rssKiB,
  type Server,
  sleep,
  startServer,
} from "./procs.ts";
import { Histogram } from "./wire.ts";

export type ServerKind = "jim" | "relay";

export interface Row {
  scenario: string;
  variant: string;
  server: ServerKind;
  run: number;
  [metric: string]: string | number;
}

export interface Settings {
  smoke: boolean;
  repeat: number;
  /** Measured seconds per phase. */
  seconds: number;
  /** Load generator processes per scenario (all on core 1). */
  gens: number;
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  title: string;
  /** Not part of the default `deno task bench` (slow). */
  optIn?: boolean;
  run(s: Settings): Promise<Row[]>;
}

// ---- helpers ----

interface PhaseTotals {
  sent: number;
  delivered: number;
  acked: number;
  errors: number;
  completed: number;
  replyBytes: number;
  emptyReplies: number;
  latency: Histogram;
  ack: Histogram;
}

function phase(m: Measured, i: number): PhaseTotals {
  const t: PhaseTotals = {
    sent: 0,
    delivered: 0,
    acked: 0,
    errors: 0,
    completed: 0,
    replyBytes: 0,
    emptyReplies: 0,
    latency: new Histogram(),
    ack: new Histogram(),
  };
  for (const r of m.results) {
    // deno-lint-ignore no-explicit-any
    const p = (r.phases as any[])[i];
    t.sent += p.sent;
    t.delivered += p.delivered;
    t.acked += p.acked;
    t.errors += p.errors;
    t.completed += p.completed;
    t.replyBytes += p.replyBytes;
    t.emptyReplies += p.emptyReplies;
    t.latency.merge(Histogram.fromSparse(p.latency, p.latencyMax));
    t.ack.merge(Histogram.fromSparse(p.ackLatency, p.ackLatencyMax));
  }
  return t;
}

const round = (n: number, d = 2) => Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : NaN;

function latencies(h: Histogram, prefix = ""): Record<string, number> {
  return {
    [`${prefix}p50`]: round(h.percentile(0.5), 3),
    [`${prefix}p99`]: round(h.percentile(0.99), 3),
    [`${prefix}p999`]: round(h.percentile(0.999), 3),
  };
}

/** Splits n into `parts` nearly equal integers (the first ones larger). */
function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

async function withJim<T>(
  fn: (server: Server) => Promise<T>,
  options: { flags?: string[]; dataDir?: string; cores?: string; inspectPort?: number } = {},
): Promise<T> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "jim-bench-" });
  const server = await startServer("jim", {
    dataDir,
    flags: options.flags,
    cores: options.cores,
    inspectPort: options.inspectPort,
  });
  try {
    return await fn(server);
  } finally {
    await server.stop();
    if (!options.dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

async function withServer<T>(
  kind: ServerKind,
  fn: (server: Server) => Promise<T>,
  options: { replyBytes?: number; flags?: string[]; dataDir?: string; cores?: string; inspectPort?: number } =
    {},
): Promise<T> {
  if (kind === "jim") return await withJim(fn, options);
  const server = await startServer("relay", {
    replyBytes: options.replyBytes,
    inspectPort: options.inspectPort,
  });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

let runCounter = 0;
const runId = () => `b${Date.now().toString(36)}${(runCounter++).toString(36)}`;

function base(server: Server, mode: LoadSpec["mode"], s: Settings, extra: Partial<LoadSpec>): LoadSpec {
  return {
    mode,
    server: server.kind,
    proto: "tcp",
    port: server.port,
    runId: "",
    gen: 0,
    warmupMs: s.smoke ? 300 : 500,
    seconds: s.seconds,
    size: 100,
    gapMs: s.smoke ? 300 : 1000,
    ...extra,
  };
}

/** CPU and bottleneck columns of a measured window, and server CPU per unit of work. */
function cpu(m: Measured, i: number, units: number): Record<string, number> {
  const w = m.windows[i];
  return {
    serverCpuPct: round(w.serverCpuPct, 0),
    genCpuPct: round(w.genCpuPct, 0),
    core0BusyPct: round(w.core0BusyPct, 0),
    core1BusyPct: round(w.core1BusyPct, 0),
    cpuUsPerUnit: units > 0 ? round((w.serverCpuS * 1e6) / units, 1) : NaN,
    // The same split by thread (see threadCpuSeconds): event loop, store worker, the rest.
    loopUsPerUnit: units > 0 ? round((w.serverThreads.main * 1e6) / units, 1) : NaN,
    storeUsPerUnit: units > 0 ? round((w.serverThreads.workers * 1e6) / units, 1) : NaN,
    otherUsPerUnit: units > 0 ? round((w.serverThreads.other * 1e6) / units, 1) : NaN,
  };
}

// ---- 1. idle capacity ----

const idle: Scenario = {
  name: "idle",
  title: "Idle connections: server RSS per logged-in connection",
  async run(s) {
    const rows: Row[] = [];
    const n = s.smoke ? 200 : 4000;
    for (let run = 1; run <= s.repeat; run++) {
      for (const proto of ["tcp", "ws"] as const) {
        for (const kind of ["relay", "jim"] as const) {
          // RSS is read twice: as it is, and after a full GC through the inspector, which is the
          // figure compared with the target (what connections keep, not uncollected garbage).
          const inspectPort = 9300 + Math.floor(Math.random() * 600);
          rows.push(
            await withServer(kind, async (server) => {
              await sleep(s.smoke ? 300 : 1000);
              const rawBefore = await rssKiB(server.pid);
              await fullGc(inspectPort);
              const before = await rssKiB(server.pid);
              const id = runId();
              const gens = split(n, s.gens).map((conns, gen) =>
                new Generator({ ...base(server, "idle", s, { proto, conns, gen }), runId: id })
              );
              try {
                const held = await Promise.all(gens.map((g) => g.next("held")));
                await sleep(s.smoke ? 300 : 2000);
                const rawAfter = await rssKiB(server.pid);
                await fullGc(inspectPort);
                const after = await rssKiB(server.pid);
                const total = held.reduce((a, h) => a + Number(h.held), 0);
                const failed = held.reduce((a, h) => a + Number(h.failed), 0);
                await Promise.all(gens.map((g) => g.send({ stop: true })));
                await Promise.all(gens.map((g) => g.next("result")));
                const row: Row = {
                  scenario: "idle",
                  variant: proto,
                  server: kind,
                  run,
                  conns: total,
                  failed,
                  rssBeforeMiB: round(before / 1024, 1),
                  rssAfterMiB: round(after / 1024, 1),
                  // kB = 1000 bytes, as in the target.
                  kbPerConn: round(((after - before) * 1.024) / Math.max(1, total), 2),
                  kbPerConnBeforeGc: round(((rawAfter - rawBefore) * 1.024) / Math.max(1, total), 2),
                };
                s.log(`idle ${proto} ${kind} run ${run}: ${total} conns, ${row.kbPerConn} kB/conn`);
                return row;
              } finally {
                await Promise.all(gens.map((g) => g.close()));
              }
            }, { inspectPort }),
          );
        }
      }
    }
    return rows;
  },
};

// ---- 2. 1:1 chat at fixed offered rates ----

export const CHAT_PAIRS = 100;

const chat: Scenario = {
  name: "chat",
  title: "1:1 chat at fixed offered rates (open loop), J-IM TCP, ack after commit",
  async run(s) {
    const rows: Row[] = [];
    const pairs = s.smoke ? 10 : CHAT_PAIRS;
    const rates: Record<ServerKind, number[]> = s.smoke
      ? { jim: [500, 2000], relay: [500, 2000] }
      : { jim: [5000, 10_000, 25_000, 50_000], relay: [5000, 10_000, 25_000, 50_000, 100_000] };
    for (let run = 1; run <= s.repeat; run++) {
      for (const kind of ["relay", "jim"] as const) {
        const m = await withServer(kind, (server) => {
          const id = runId();
          const parts = split(pairs, s.gens);
          return measure(
            server.pid,
            parts.map((p, gen) => ({
              ...base(server, "chat", s, { pairs: p, gen }),
              firstPair: parts.slice(0, gen).reduce((a, b) => a + b, 0),
              rates: rates[kind].map((r) => r * p / pairs),
              runId: id,
            })),
          );
        });
        rates[kind].forEach((rate, i) => {
          const t = phase(m, i);
          const delivered = t.delivered / m.windows[i].seconds;
          const row: Row = {
            scenario: "chat",
            variant: String(rate),
            server: kind,
            run,
            offered: rate,
            delivered: round(delivered, 0),
            ...latencies(t.latency),
            ...(kind === "jim" ? latencies(t.ack, "ack") : {}),
            ...cpu(m, i, t.delivered),
            errors: t.errors,
          };
          s.log(
            `chat ${kind} ${rate}/s run ${run}: ${row.delivered} msg/s, p99 ${row.p99} ms, p99.9 ${row.p999} ms`,
          );
          rows.push(row);
        });
      }
    }
    return rows;
  },
};

// ---- 3. saturation ----

async function saturationRun(
  s: Settings,
  kind: ServerKind,
  proto: "tcp" | "ws",
  run: number,
  variant: string,
  options: { flags?: string[]; cores?: string } = {},
): Promise<Row> {
  const pairs = s.smoke ? 10 : CHAT_PAIRS;
  const m = await withServer(kind, (server) => {
    const id = runId();
    const parts = split(pairs, s.gens);
    return measure(
      server.pid,
      parts.map((p, gen) => ({
        ...base(server, "chat", s, { pairs: p, gen, proto, window: 8 }),
        firstPair: parts.slice(0, gen).reduce((a, b) => a + b, 0),
        runId: id,
      })),
    );
  }, options);
  const t = phase(m, 0);
  const row: Row = {
    scenario: "saturation",
    variant,
    server: kind,
    run,
    delivered: round(t.delivered / m.windows[0].seconds, 0),
    ...latencies(t.latency),
    ...(kind === "jim" ? latencies(t.ack, "ack") : {}),
    ...cpu(m, 0, t.delivered),
    errors: t.errors,
  };
  s.log(`saturation ${variant} ${kind} run ${run}: ${row.delivered} msg/s, server CPU ${row.serverCpuPct}%`);
  return row;
}

const saturation: Scenario = {
  name: "saturation",
  title: `Saturation throughput: 1:1 chat, closed loop (${CHAT_PAIRS} pairs, 8 in flight each)`,
  async run(s) {
    const rows: Row[] = [];
    for (let run = 1; run <= s.repeat; run++) {
      for (const proto of ["tcp", "ws"] as const) {
        for (const kind of ["relay", "jim"] as const) {
          rows.push(await saturationRun(s, kind, proto, run, proto));
        }
      }
    }
    return rows;
  },
};

// ---- 4. group fan-out ----

const fanout: Scenario = {
  name: "fanout",
  title: "Group fan-out: one group, one sender at fixed rates, every other member receives",
  async run(s) {
    const rows: Row[] = [];
    const members = s.smoke ? 20 : 1000;
    const rates = s.smoke ? [20] : [100, 400];
    for (let run = 1; run <= s.repeat; run++) {
      for (const kind of ["relay", "jim"] as const) {
        const m = await withServer(kind, (server) => {
          const id = runId();
          const parts = split(members, s.gens);
          return measure(
            server.pid,
            parts.map((p, gen) => ({
              ...base(server, "fanout", s, { members: p, gen, rates }),
              firstMember: parts.slice(0, gen).reduce((a, b) => a + b, 0),
              groupId: `${id}-g`,
              runId: id,
            })),
          );
        });
        rates.forEach((rate, i) => {
          const t = phase(m, i);
          const row: Row = {
            scenario: "fanout",
            variant: `${members} members, ${rate} msg/s`,
            server: kind,
            run,
            members,
            sendRate: rate,
            offeredDeliveries: rate * (members - 1),
            deliveries: round(t.delivered / m.windows[i].seconds, 0),
            ...latencies(t.latency),
            ...cpu(m, i, t.delivered),
            errors: t.errors,
          };
          s.log(`fanout ${kind} ${rate}/s run ${run}: ${row.deliveries} deliveries/s, p99 ${row.p99} ms`);
          rows.push(row);
        });
      }
    }
    return rows;
  },
};

// ---- 5. login storm ----

interface LoginVariant {
  variant: string;
  login: "token" | "password";
  proto: "tcp" | "ws";
  servers: ServerKind[];
  flags?: string[];
  users: number;
  concurrency: number;
  gens: number;
}

const login: Scenario = {
  name: "login",
  title: "Login storm: a fresh connection per login, logins/s",
  async run(s) {
    const rows: Row[] = [];
    const users = s.smoke ? 20 : 500;
    const variants: LoginVariant[] = [
      {
        variant: "token, tcp",
        login: "token",
        proto: "tcp",
        servers: ["relay", "jim"],
        users,
        concurrency: 32,
        gens: s.gens,
      },
      {
        variant: "token, ws",
        login: "token",
        proto: "ws",
        servers: ["relay", "jim"],
        users,
        concurrency: 32,
        gens: s.gens,
      },
      {
        variant: "password (1000 iterations), tcp",
        login: "password",
        proto: "tcp",
        servers: ["jim"],
        users,
        concurrency: 32,
        gens: s.gens,
      },
      {
        variant: "password (600000 iterations, the default), tcp",
        login: "password",
        proto: "tcp",
        servers: ["jim"],
        flags: ["--password-iterations", "600000"],
        users: s.smoke ? 1 : 4,
        concurrency: 2,
        gens: 1,
      },
    ];
    for (let run = 1; run <= s.repeat; run++) {
      for (const v of variants) {
        for (const kind of v.servers) {
          const m = await withServer(kind, (server) => {
            const id = runId();
            return measure(
              server.pid,
              Array.from({ length: v.gens }, (_, gen) => ({
                ...base(server, "login", s, {
                  gen,
                  proto: v.proto,
                  login: v.login,
                  users: v.users,
                  concurrency: v.concurrency,
                }),
                runId: id,
              })),
            );
          }, { flags: v.flags });
          const t = phase(m, 0);
          const row: Row = {
            scenario: "login",
            variant: v.variant,
            server: kind,
            run,
            logins: round(t.completed / m.windows[0].seconds, 0),
            ...latencies(t.latency),
            ...cpu(m, 0, t.completed),
            errors: t.errors,
          };
          s.log(
            `login ${v.variant} ${kind} run ${run}: ${row.logins}/s, p99 ${row.p99} ms, errors ${row.errors}`,
          );
          rows.push(row);
        }
      }
    }
    return rows;
  },
};

// ---- 6. history ----

/** Builds (or reuses) a data dir holding `total` messages in conversations of `length`. */
async function historyData(total: number, length: number, log: (l: string) => void): Promise<string> {
  const schema = await Deno.readTextFile(`${ROOT}src/store/sqlite/sqlite_schema.ts`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(schema)));
  const tag = Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/jim-bench-history-${total}-${length}-${tag}`;
  try {
    if ((await Deno.stat(`${dir}/complete`)).isFile) {
      log(`history: reusing ${dir}`);
      return dir;
    }
  } catch {
    // not built yet
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  log(`history: writing ${total} messages into ${dir} …`);
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}bench/history_setup.ts`, `${dir}/jim.db`, String(total), String(length)],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("history setup failed");
  await Deno.writeTextFile(`${dir}/complete`, new Date().toISOString());
  log(`history: ${total} messages written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}

const history: Scenario = {
  name: "history",
  title: "History pages with 1M+ stored messages (20 messages a page)",
  async run(s) {
    const rows: Row[] = [];
    const total = s.smoke ? 20_000 : 1_000_000;
    const length = s.smoke ? 1000 : 10_000;
    const conversations = s.smoke ? 4 : 50;
    const rate = s.smoke ? 200 : 2000;
    const dataDir = await historyData(total, length, s.log);
    for (let run = 1; run <= s.repeat; run++) {
      for (const query of ["history", "sync"] as const) {
        let jimReplyBytes = 4096;
        for (const kind of ["jim", "relay"] as const) {
          const m = await withServer(kind, (server) => {
            const id = runId();
            const parts = split(conversations, s.gens);
            return measure(
              server.pid,
              parts.map((c, gen) => ({
                ...base(server, "history", s, { gen, query, rates: [rate / s.gens] }),
                conversations: c,
                firstConversation: parts.slice(0, gen).reduce((a, b) => a + b, 0),
                conversationLength: length,
                page: 20,
                runId: id,
              })),
            );
          }, { dataDir, replyBytes: jimReplyBytes });
          const t = phase(m, 0);
          const replyBytes = t.completed ? Math.round(t.replyBytes / t.completed) : 0;
          if (kind === "jim" && replyBytes) jimReplyBytes = replyBytes;
          const row: Row = {
            scenario: "history",
            variant: query === "history"
              ? "cmd 19 history page (offset/count), random offset"
              : "cmd 23 sync page (beforeSeq), random position",
            server: kind,
            run,
            messages: total,
            offered: rate,
            queries: round(t.completed / m.windows[0].seconds, 0),
            replyBytes,
            ...latencies(t.latency),
            ...cpu(m, 0, t.completed),
            emptyReplies: t.emptyReplies,
            errors: t.errors,
          };
          s.log(`history ${query} ${kind} run ${run}: ${row.queries} q/s, p99 ${row.p99} ms`);
          rows.push(row);
        }
      }
    }
    return rows;
  },
};

// ---- workers scaling (lights up once jim has --workers) ----

const workers: Scenario = {
  name: "workers",
  title: "Workers scaling: the TCP saturation run with --workers 1 and --workers 2",
  async run(s) {
    if (!await jimHasFlag("--workers")) {
      s.log("workers: jim --help does not list --workers: not available");
      return [{ scenario: "workers", variant: "not available", server: "jim", run: 1, available: 0 }];
    }
    const rows: Row[] = [];
    for (let run = 1; run <= s.repeat; run++) {
      rows.push(await saturationRun(s, "relay", "tcp", run, "relay"));
      // One worker on core 0 as usual; two workers may use both cores (shared with the generators).
      rows.push(await saturationRun(s, "jim", "tcp", run, "--workers 1", { flags: ["--workers", "1"] }));
      rows.push(
        await saturationRun(s, "jim", "tcp", run, "--workers 2", { flags: ["--workers", "2"], cores: "0,1" }),
      );
    }
    for (const r of rows) r.scenario = "workers";
    return rows;
  },
};

// ---- 7. connection capacity (opt-in) ----

const capacity: Scenario = {
  name: "capacity",
  title: "Connection capacity: one process up to its open-file limit, then 100k over several processes",
  optIn: true,
  async run(s) {
    const rows: Row[] = [];
    const limit = Number(
      new TextDecoder().decode(
        (await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" }).output()).stdout,
      ).trim(),
    );
    // --auth open: a login costs no password hashing (100k PBKDF2 logins would take minutes).
    const flags = ["--auth", "open", "--max-connections", "1000000"];
    // Part 1: one jim process, two generators asking for more than its file limit, in steps.
    const perGen = s.smoke ? 150 : Math.ceil(limit / 2) + 500;
    const steps = s.smoke ? [50, 100, 150] : [2500, 5000, 7500, perGen];
    await withJim(async (server) => {
      await sleep(1000);
      const before = await rssKiB(server.pid);
      const id = runId();
      const gens = [0, 1].map((gen) =>
        new Generator({
          ...base(server, "idle", s, { conns: perGen, steps, gen, loginTimeoutMs: 5000 }),
          runId: id,
        })
      );
      const points: [number, number][] = [];
      try {
        for (let i = 0; i < steps.length; i++) {
          const held = await Promise.all(gens.map((g) => g.next("held", 900_000)));
          await sleep(1000);
          const total = held.reduce((a, h) => a + Number(h.held), 0);
          const failed = held.reduce((a, h) => a + Number(h.failed), 0);
          const rss = await rssKiB(server.pid);
          points.push([total, rss]);
          rows.push({
            scenario: "capacity",
            variant: `one process, step ${i + 1}`,
            server: "jim",
            run: 1,
            asked: 2 * Math.min(steps[i], perGen),
            held: total,
            failed,
            rssMiB: round(rss / 1024, 1),
            kbPerConn: round(((rss - before) * 1.024) / Math.max(1, total), 2),
          });
          s.log(`capacity: one process holds ${total} (failed ${failed}), RSS ${round(rss / 1024, 1)} MiB`);
          await Promise.all(gens.map((g) => g.send(i + 1 < steps.length ? { next: true } : { stop: true })));
        }
        await Promise.all(gens.map((g) => g.next("result")));
      } finally {
        await Promise.all(gens.map((g) => g.close()));
      }
      // Memory slope: least squares of RSS over connections held.
      const n = points.length;
      const mx = points.reduce((a, p) => a + p[0], 0) / n;
      const my = points.reduce((a, p) => a + p[1], 0) / n;
      const slope = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) /
        Math.max(1, points.reduce((a, p) => a + (p[0] - mx) ** 2, 0));
      rows.push({
        scenario: "capacity",
        variant: "one process, slope",
        server: "jim",
        run: 1,
        fileLimit: limit,
        held: points[n - 1][0],
        kbPerConnSlope: round(slope * 1.024, 2),
        rssMiB: round(points[n - 1][1] / 1024, 1),
      });
    }, { flags });
    // Part 2: several processes (each its own port and data dir), one generator each.
    const procs = s.smoke ? 2 : 6;
    const each = s.smoke ? 100 : 17_000;
    const servers: { server: Server; dir: string }[] = [];
    const memBefore = await memAvailableMiB();
    try {
      for (let i = 0; i < procs; i++) {
        const dir = await Deno.makeTempDir({ prefix: "jim-bench-cap-" });
        servers.push({ server: await startServer("jim", { dataDir: dir, flags }), dir });
      }
      const id = runId();
      const gens = servers.map(({ server }, gen) =>
        new Generator({ ...base(server, "idle", s, { conns: each, gen, loginTimeoutMs: 10_000 }), runId: id })
      );
      try {
        const held = await Promise.all(gens.map((g) => g.next("held", 900_000)));
        await sleep(2000);
        const rss = await Promise.all(servers.map(({ server }) => rssKiB(server.pid)));
        const total = held.reduce((a, h) => a + Number(h.held), 0);
        servers.forEach((_, i) =>
          rows.push({
            scenario: "capacity",
            variant: `${procs} processes: process ${i + 1}`,
            server: "jim",
            run: 1,
            asked: each,
            held: Number(held[i].held),
            failed: Number(held[i].failed),
            rssMiB: round(rss[i] / 1024, 1),
          })
        );
        rows.push({
          scenario: "capacity",
          variant: `${procs} processes: total`,
          server: "jim",
          run: 1,
          asked: each * procs,
          held: total,
          failed: held.reduce((a, h) => a + Number(h.failed), 0),
          rssMiB: round(rss.reduce((a, b) => a + b, 0) / 1024, 1),
          machineMemUsedMiB: round(memBefore - await memAvailableMiB(), 0),
        });
        s.log(`capacity: ${procs} processes hold ${total} connections`);
        await Promise.all(gens.map((g) => g.send({ stop: true })));
        await Promise.all(gens.map((g) => g.next("result")));
      } finally {
        await Promise.all(gens.map((g) => g.close()));
      }
    } finally {
      for (const { server, dir } of servers) {
        await server.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
    return rows;
  },
};

export const SCENARIOS: Scenario[] = [idle, chat, saturation, fanout, login, history, workers, capacity];
