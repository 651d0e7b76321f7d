/**
 * Builds the single `jim` binary with `deno compile`, using exactly the permission flags of the
 * `start` task in deno.json (defined once, there). Offline machines: point DENORT_BIN at a
 * denort runtime binary; `deno compile` then uses it instead of downloading one.
 *
 *   deno task compile                      # host platform → dist/jim
 *   deno task compile --target x86_64-unknown-linux-gnu aarch64-apple-darwin …
 */
const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

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

async function compile(target: string | undefined): Promise<void> {
  const flags = startTaskPermissions(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const output = target ? `dist/jim-${target}${target.includes("windows") ? ".exe" : ""}` : "dist/jim";
  // The store and IO workers are loaded with `new Worker(new URL(...))`; include them explicitly so the
  // binary carries it whatever the static analysis finds.
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
  if (target) args.push("--target", target);
  args.push("main.ts");
  console.log(`deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" })
    .output();
  if (code !== 0) {
    console.error(
      `deno compile failed (exit ${code}). Offline? Set DENORT_BIN to a denort binary for the target.`,
    );
    Deno.exit(code);
  }
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => a !== "--");
  if (args[0] === "--target") {
    const targets = args.slice(1).length > 0 ? args.slice(1) : TARGETS;
    for (const t of targets) {
      if (!TARGETS.includes(t)) {
        console.error(`unknown target ${t}; known: ${TARGETS.join(", ")}`);
        Deno.exit(2);
      }
      await compile(t);
    }
  } else {
    await compile(undefined);
  }
}
