/**
 * `jim check-config` and `jim print-config`. Both run on an already resolved configuration:
 * resolveConfig collects every problem at once, and main.ts prints them (each named by its flag,
 * variable or config file key) and exits 2 before either command runs.
 */
import type { ResolvedConfig } from "../config/resolve.ts";
import { CONFIG_SCHEMA, formatValue, redactConfig } from "../config/schema.ts";

/** `jim check-config`: the configuration resolved without problems. Warnings go to stderr. */
export function runCheckConfig(resolved: ResolvedConfig): number {
  for (const warning of resolved.warnings) console.error(`warning: ${warning}`);
  console.log("config ok");
  return 0;
}

/** The effective configuration, one `key value (source)` line per option; secrets are masked. */
export function renderEffectiveConfig(resolved: ResolvedConfig): string {
  const values = redactConfig(resolved.config);
  const rows = CONFIG_SCHEMA.map((option) => {
    const value = values[option.key];
    const shown = typeof value === "string" || Array.isArray(value)
      ? JSON.stringify(formatValue(value))
      : formatValue(value);
    return [option.key, shown, `(${resolved.sources[option.key]})`];
  });
  const keyWidth = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([k, v, s]) => `${k.padEnd(keyWidth)}  ${v.padEnd(valueWidth)}  ${s}`.trimEnd()).join("\n");
}

/** `jim print-config`. */
export function runPrintConfig(resolved: ResolvedConfig): number {
  for (const warning of resolved.warnings) console.error(`warning: ${warning}`);
  console.log(renderEffectiveConfig(resolved));
  return 0;
}
