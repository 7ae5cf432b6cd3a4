/** Levelled logging to stderr, as text or JSON lines. */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stderr by default. Tests pass a collector. */
  sink?: (line: string) => void;
  now?: () => Date;
}

const encoder = new TextEncoder();
const stderrSink = (line: string) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nowhere left to report, and logging must never crash the process.
  }
};

function textValue(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

export function createLogger(opts: LoggerOptions): Logger & { setLevel(l: LogLevel): void } {
  let min = RANK[opts.level];
  const sink = opts.sink ?? stderrSink;
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    if (opts.format === "json") {
      sink(JSON.stringify({ time: now().toISOString(), level, msg, ...fields }));
    } else {
      const extra = fields
        ? Object.entries(fields).map(([k, v]) => ` ${k}=${textValue(v)}`).join("")
        : "";
      sink(`${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${extra}`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    setLevel: (l) => {
      min = RANK[l];
    },
  };
}

/** A logger that records lines, for tests. */
export function memoryLogger(level: LogLevel = "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level, format: "text", sink: (l) => lines.push(l) });
  return Object.assign(log, { lines });
}
