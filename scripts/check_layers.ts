/**
 * Enforces the one-way layering described in ARCHITECTURE.md:
 *   listener → transport → router → services → store, with protocol (codecs), log, config,
 *   metrics and web as leaves. A layer may import itself and the layers below it, never above.
 * Run by `deno task check`. Exits 1 listing every violating import.
 */
const ALLOWED: Record<string, readonly string[]> = {
  // layer: layers it may import (besides itself)
  listener: ["transport", "router", "services", "store", "protocol", "log", "config", "metrics"],
  transport: ["router", "services", "store", "protocol", "log", "config", "web", "metrics"],
  router: ["services", "store", "protocol", "log", "metrics"],
  services: ["store", "protocol", "log", "metrics"],
  store: ["protocol", "log", "metrics"],
  protocol: ["store-types"],
  client: ["protocol"],
  config: [],
  web: ["client"],
  log: [],
  // Histograms shared by the store (commit latency), services (delivery latency) and /metrics.
  metrics: [],
  cluster: ["services", "store", "protocol", "log"],
  // --workers: the supervisor and the IO worker entry, beside the composition root they start.
  workers: ["app", "cluster", "config", "services", "store", "log"],
  // Subcommands other than serve (backup, restore, user): beside the composition root, on the store
  // (user also hashes passwords with services/password.ts).
  cli: ["app", "config", "services", "store", "log"],
};

function layerOf(path: string): string | undefined {
  const m = path.match(/^src\/([^/]+)(\/|\.ts$)/);
  if (!m) return undefined;
  return m[1].replace(/\.ts$/, "");
}

const problems: string[] = [];
async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield p;
  }
}

function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}

for await (const file of walk("src")) {
  const layer = layerOf(file);
  if (!layer || !(layer in ALLOWED)) continue; // app.ts, version.ts: the composition root and leaves
  const text = await Deno.readTextFile(file);
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
    const spec = m[3];
    const typeOnly = Boolean(m[2]);
    if (!spec.startsWith(".")) {
      if (!spec.startsWith("node:")) {
        problems.push(`${file}: external import "${spec}" (no third-party deps)`);
      }
      continue;
    }
    const target = resolve(file, spec);
    const targetLayer = layerOf(target);
    if (!targetLayer || targetLayer === layer) continue;
    const allowed = ALLOWED[layer];
    if (allowed.includes(targetLayer)) continue;
    // The protocol layer may name the stored message shapes, as types only.
    if (allowed.includes("store-types") && typeOnly && target === "src/store/store.ts") continue;
    problems.push(`${file}: ${layer} must not import ${targetLayer} (${spec})`);
  }
}

if (problems.length > 0) {
  console.error("Layering violations:\n" + problems.map((p) => "  " + p).join("\n"));
  Deno.exit(1);
}
console.log("layers ok");
