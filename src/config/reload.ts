/**
 * What a SIGHUP may change: options marked `reload` in the schema are applied to the running
 * server; a change to any other option is only reported (it needs a restart). Pure.
 */
import { CONFIG_SCHEMA, type ConfigKey, type JimConfig } from "./schema.ts";

export interface ConfigChanges {
  /** Changed options the running server takes over. */
  live: ConfigKey[];
  /** Changed options that only a restart applies. */
  restart: ConfigKey[];
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/**
 * The options that differ between the running configuration and a newly resolved one. Turning
 * TLS on or off changes the listeners, so a tlsCert/tlsKey change is live only while TLS stays on.
 */
export function diffConfig(current: JimConfig, next: JimConfig): ConfigChanges {
  const changes: ConfigChanges = { live: [], restart: [] };
  const tlsStays = current.tlsCert !== "" && next.tlsCert !== "";
  for (const option of CONFIG_SCHEMA) {
    const key = option.key as ConfigKey;
    if (same(current[key], next[key])) continue;
    const live = "reload" in option && option.reload && (key !== "tlsCert" && key !== "tlsKey" || tlsStays);
    (live ? changes.live : changes.restart).push(key);
  }
  return changes;
}

/** The running configuration with the live options of `next` applied. */
export function applyLive(current: JimConfig, next: JimConfig, live: readonly ConfigKey[]): JimConfig {
  const out: Record<string, unknown> = { ...current };
  for (const key of live) out[key] = next[key];
  return out as JimConfig;
}
