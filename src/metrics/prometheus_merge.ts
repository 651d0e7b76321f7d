/**
 * Merges the Prometheus text (exposition format 0.0.4) of several workers into one answer:
 * every sample gets a `worker="w0"` label, and each metric family stays together (its `# HELP`
 * and `# TYPE` once, then its samples from every worker, in the order the workers are given).
 * A histogram's or summary's `_bucket`, `_sum` and `_count` lines belong to their family.
 * Label values, HELP texts and sample values are copied as they are (escapes untouched).
 * Families come out in the order they first appear. Pure text in, text out.
 */

export interface WorkerMetrics {
  /** The value of the `worker` label added to every sample of `text`. */
  worker: string;
  text: string;
}

interface Family {
  help?: string;
  type?: string;
  kind?: string;
  /** Samples, already relabelled, in worker order. */
  samples: string[];
}

/** Suffixes of the series a histogram or summary family is made of. */
const PART_SUFFIXES = ["_bucket", "_sum", "_count"];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Label values escaped as the exposition format requires (backslash, quote, newline). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function mergeByWorker(parts: readonly WorkerMetrics[]): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, f = { samples: [] });
    return f;
  };
  for (const { worker, text } of parts) {
    const extra = `worker="${escapeLabelValue(worker)}"`;
    /** The family named by this text's latest HELP or TYPE line. */
    let current: string | undefined;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      if (line.startsWith("#")) {
        const m = line.match(/^#\s*(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/);
        if (!m) continue; // other comments carry nothing to keep
        current = m[2];
        const f = family(current);
        if (m[1] === "HELP") f.help ??= line;
        else if (f.type === undefined) {
          f.type = line;
          f.kind = (m[3] ?? "").trim();
        }
        continue;
      }
      const name = line.match(NAME)?.[0];
      if (!name) continue; // not a sample line
      family(familyOf(name, current, families)).samples.push(withLabel(line, name.length, extra));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    if (f.help) out.push(f.help);
    if (f.type) out.push(f.type);
    out.push(...f.samples);
  }
  return out.length > 0 ? out.join("\n") + "\n" : "";
}

/** The family a sample named `name` belongs to. */
function familyOf(name: string, current: string | undefined, families: Map<string, Family>): string {
  if (current !== undefined && isPartOf(name, current, families.get(current)?.kind)) return current;
  if (families.has(name)) return name;
  for (const suffix of PART_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    if (isPartOf(name, base, families.get(base)?.kind)) return base;
  }
  return name;
}

function isPartOf(name: string, family: string, kind: string | undefined): boolean {
  if (name === family) return true;
  if (kind !== "histogram" && kind !== "summary") return false;
  return PART_SUFFIXES.some((suffix) => name === family + suffix);
}

/** The sample line with `extra` (`worker="w0"`) added as its last label. */
function withLabel(line: string, nameEnd: number, extra: string): string {
  if (line[nameEnd] !== "{") return `${line.slice(0, nameEnd)}{${extra}}${line.slice(nameEnd)}`;
  const close = closingBrace(line, nameEnd + 1);
  if (close < 0) return line; // malformed: passed on as it is
  const inner = line.slice(nameEnd + 1, close);
  const sep = inner.trim() === "" || inner.trimEnd().endsWith(",") ? "" : ",";
  return `${line.slice(0, close)}${sep}${extra}${line.slice(close)}`;
}

/** Index of the `}` ending the label set that starts at `from`, skipping quoted values. */
function closingBrace(line: string, from: number): number {
  let quoted = false;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "}") return i;
  }
  return -1;
}
