/**
 * Global options (DESIGN.md §4) are valid before or after the command. The CLI library knows flags per
 * command, so every command declares them (globalFlags) and `hoistGlobalFlags` moves the ones written
 * before the command to after it.
 */
import { parseDuration } from "../core/duration.ts";
import { LOG_LEVELS, type LogLevel } from "../log.ts";
import { UsageError } from "./errors.ts";

const VALUE_FLAGS = new Set(["--config", "--procfs", "--sysfs", "--rootfs", "--log-level"]);
const BOOLEAN_FLAGS = new Set(["--color", "--no-color"]);

/** Moves global options found before the first command word to the end (before any `--`). */
export function hoistGlobalFlags(argv: readonly string[]): string[] {
  const hoisted: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i];
    const name = arg.split("=", 1)[0];
    if (BOOLEAN_FLAGS.has(arg) || (VALUE_FLAGS.has(name) && arg.includes("="))) {
      hoisted.push(arg);
      i += 1;
    } else if (VALUE_FLAGS.has(arg) && i + 1 < argv.length) {
      hoisted.push(arg, argv[i + 1]);
      i += 2;
    } else {
      break;
    }
  }
  if (hoisted.length === 0) return [...argv];
  const rest = argv.slice(i);
  const dashdash = rest.indexOf("--");
  return dashdash === -1
    ? [...rest, ...hoisted]
    : [...rest.slice(0, dashdash), ...hoisted, ...rest.slice(dashdash)];
}

/** A duration flag value: parsed to seconds, or a clear usage error. */
export function durationFlag(input: string): number {
  const s = parseDuration(input);
  if (s === undefined || s <= 0) {
    throw new UsageError(`"${input}" is not a duration (use e.g. 500ms, 10s, 5m, 1h, 7d)`);
  }
  return s;
}

export interface GlobalFlags {
  readonly config?: string;
  readonly procfs?: string;
  readonly sysfs?: string;
  readonly rootfs?: string;
  readonly logLevel?: LogLevel;
  readonly color?: boolean;
}

/** Flag definitions shared by every command (spread into each command's `flags`). */
export const globalFlags = {
  config: {
    kind: "parsed",
    parse: String,
    brief: "Configuration file (overrides /etc/sysmon and ~/.config/sysmon)",
    optional: true,
    placeholder: "FILE",
  },
  procfs: {
    kind: "parsed",
    parse: String,
    brief: "Mount point of procfs",
    optional: true,
    placeholder: "DIR",
  },
  sysfs: {
    kind: "parsed",
    parse: String,
    brief: "Mount point of sysfs",
    optional: true,
    placeholder: "DIR",
  },
  rootfs: {
    kind: "parsed",
    parse: String,
    brief: "Host root for filesystem paths (e.g. /host in a container)",
    optional: true,
    placeholder: "DIR",
  },
  logLevel: {
    kind: "enum",
    values: LOG_LEVELS as LogLevel[],
    brief: "Log level on stderr",
    optional: true,
  },
  color: {
    kind: "boolean",
    brief: "Colour output on a terminal (--no-color or NO_COLOR turns it off)",
    optional: true,
  },
} as const;
