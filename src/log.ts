/** Structured logger: JSON lines by default, a readable line format for terminals. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  enabled(level: LogLevel): boolean;
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  setLevel(level: LogLevel): void;
}

export type LogSink = (line: string, level: LogLevel) => void;

const stderrSink: LogSink = (line) => {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
  } catch {
    // stderr closed: nowhere left to report, keep serving.
  }
};

export function createLogger(
  options: { level: LogLevel; format: "json" | "text"; sink?: LogSink },
): Logger {
  let min = RANK[options.level];
  const sink = options.sink ?? stderrSink;
  const json = options.format === "json";
  const emit = (level: LogLevel, event: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (json) {
      sink(JSON.stringify({ time, level, event, ...fields }, errorReplacer), level);
    } else {
      let line = `${time} ${level.toUpperCase().padEnd(5)} ${event}`;
      if (fields) {
        for (const [k, v] of Object.entries(fields)) {
          line += ` ${k}=${typeof v === "string" ? v : JSON.stringify(v, errorReplacer)}`;
        }
      }
      sink(line, level);
    }
  };
  return {
    enabled: (level) => RANK[level] >= min,
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
    setLevel: (level) => {
      min = RANK[level];
    },
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** A logger that drops everything (unit tests). */
export const silentLogger: Logger = createLogger({ level: "error", format: "json", sink: () => {} });
