/**
 * Builds the single `jim` binary with `deno compile`, using exactly the permission flags of the
 * `start` task in deno.json (defined once, there; no -A). Offline machines: point DENORT_BIN at a
 * denort runtime binary; `deno compile` then uses it instead of downloading one.
 *
 *   deno task compile                                  # host platform → dist/jim
 *   deno task compile --target x86_64-unknown-linux-gnu # → dist/jim-x86_64-unknown-linux-gnu
 *   deno task compile --target                         # every release target
 *   deno task compile --output /tmp/jim                # host platform, another path
 *
 * The release workflow (.github/workflows/release.yml) runs this once per target.
 */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

const ROOT = new URL("..", import.meta.url);

/**
 * The permission and unstable-API flags of the start task (`--unstable-net`: SO_REUSEPORT for
 * --workers), so `deno run`, the tests that spawn the server and the binary never drift apart.
 */
export function startTaskPermissions(denoJson: string): string[] {
  const start: string = JSON.parse(denoJson).tasks.start;
  return start.split(/\s+/).filter((arg) =>
    arg.startsWith("--allow-") || arg.startsWith("--deny-") || arg.startsWith("--unstable-")
  );
}

/** Where a build goes: dist/jim for the host, dist/jim-<target>[.exe] for a named target. */
export function defaultOutput(target: string | undefined): string {
  return target ? `dist/jim-${target}${target.includes("windows") ? ".exe" : ""}` : "dist/jim";
}

/** The `deno compile` arguments (run from the repository root). */
export async function compileArgs(options: { target?: string; output?: string } = {}): Promise<string[]> {
  const flags = startTaskPermissions(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const output = options.output ?? defaultOutput(options.target);
  // The store and IO workers are loaded with `new Worker(new URL(...))`; include them explicitly
  // so the binary carries them whatever the static analysis finds. The web pages are embedded modules.
  const args = [
    "compile",
    ...flags,
    "--include",
    "src/store/worker/store_worker.ts",
    "--include",
    "src/workers/io_worker.ts",
    "--output",
    output,
  ];
  if (options.target) args.push("--target", options.target);
  args.push("main.ts");
  return args;
}

/** Runs `deno compile`; resolves with its exit code (output goes to `stdio`). */
export async function compile(
  options: { target?: string; output?: string; stdio?: "inherit" | "null" } = {},
): Promise<number> {
  const args = await compileArgs(options);
  const stdio = options.stdio ?? "inherit";
  if (stdio === "inherit") console.log(`deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: stdio,
    stderr: stdio,
  }).output();
  return code;
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => a !== "--");
  let output: string | undefined;
  const o = args.indexOf("--output");
  if (o >= 0) {
    output = args[o + 1];
    if (!output) {
      console.error("--output needs a path");
      Deno.exit(2);
    }
    args.splice(o, 2);
  }
  let targets: (string | undefined)[] = [undefined];
  if (args[0] === "--target") {
    targets = args.slice(1).length > 0 ? args.slice(1) : TARGETS;
    for (const t of targets) {
      if (!TARGETS.includes(t!)) {
        console.error(`unknown target ${t}; known: ${TARGETS.join(", ")}`);
        Deno.exit(2);
      }
    }
    if (output && targets.length > 1) {
      console.error("--output takes one target");
      Deno.exit(2);
    }
  } else if (args.length > 0) {
    console.error(
      `unknown arguments: ${args.join(" ")}\nusage: compile.ts [--target [T...]] [--output PATH]`,
    );
    Deno.exit(2);
  }
  for (const target of targets) {
    const code = await compile({ target, output });
    if (code !== 0) {
      console.error(
        `deno compile failed (exit ${code}). Offline? Set DENORT_BIN to a denort binary for the target.`,
      );
      Deno.exit(code);
    }
  }
}
