/** The command tree and the process entry: argument hoisting, exit codes, error formatting. */
import {
  buildApplication,
  buildRouteMap,
  ExitCode,
  formatMessageForArgumentScannerError,
  run,
  text_en,
} from "@stricli/core";
import { snapshotCommand } from "../../commands/snapshot.ts";
import { configRoutes } from "../../commands/config.ts";
import { completionCommand } from "../../commands/completion.ts";
import { recordCommand } from "../../commands/record.ts";
import { serveCommand } from "../../commands/serve.ts";
import { watchCommand } from "../../commands/watch.ts";
import { reportCommand } from "../../commands/report.ts";
import { tokenCommand } from "../../commands/token.ts";
import { alertRoutes } from "../../commands/alert.ts";
import { VERSION } from "../version.ts";
import type { SysmonContext } from "./context.ts";
import { RuntimeFailure, UsageError } from "./errors.ts";
import { hoistGlobalFlags } from "./globals.ts";
import { ClosedPipe, writeStderr, writeStdout } from "./io.ts";

export const root = buildRouteMap({
  routes: {
    snapshot: snapshotCommand,
    watch: watchCommand,
    record: recordCommand,
    serve: serveCommand,
    report: reportCommand,
    token: tokenCommand,
    alert: alertRoutes,
    config: configRoutes,
    completion: completionCommand,
  },
  docs: {
    brief: "sysmon — Linux host metrics: snapshot, watch, record, serve, alert, report",
    fullDescription: [
      "One collector core reads /proc and /sys directly and feeds every command.",
      "Global options (--config, --procfs, --sysfs, --rootfs, --log-level, --no-color) are accepted",
      "before or after the command. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.",
    ].join("\n"),
  },
});

/** Exit code for an exception thrown by a command: 2 for the user's mistakes, 1 otherwise. */
function exitCodeFor(exc: unknown): number {
  if (exc instanceof UsageError) return 2;
  if (exc instanceof RuntimeFailure) return exc.exitCode;
  if (exc instanceof ClosedPipe) return 0;
  const lines = (exc as { lines?: unknown })?.lines;
  if ((exc as Error)?.name === "ConfigError" && Array.isArray(lines)) return 2;
  return 1;
}

function describe(exc: unknown): string {
  if (exc instanceof ClosedPipe) return "";
  const e = exc as Error & { lines?: string[] };
  if (Array.isArray(e?.lines)) return e.lines.join("\n");
  if (exc instanceof UsageError || exc instanceof RuntimeFailure) return e.message;
  if (Deno.env.get("SYSMON_DEBUG")) return e?.stack ?? String(exc);
  return `internal error: ${e?.message ?? String(exc)} (set SYSMON_DEBUG=1 for details)`;
}

const text = {
  ...text_en,
  exceptionWhileParsingArguments: (exc: unknown) => {
    if (exc instanceof UsageError) return exc.message;
    if (exc instanceof Error && exc.name.endsWith("Error") && "input" in exc) {
      return formatMessageForArgumentScannerError(exc as never, {});
    }
    const e = exc as Error & { cause?: unknown };
    // Parse functions throw UsageError; stricli wraps them with "Failed to parse ... for <flag>:".
    return e.cause instanceof UsageError ? e.cause.message : (e?.message ?? String(exc));
  },
  exceptionWhileRunningCommand: (exc: unknown) => describe(exc),
  commandErrorResult: (err: Error) => describe(err),
};

export const app = buildApplication<SysmonContext>(root, {
  name: "sysmon",
  versionInfo: { currentVersion: VERSION },
  scanner: { caseStyle: "allow-kebab-for-camel" },
  documentation: { caseStyle: "convert-camel-to-kebab", useAliasInUsageLine: false },
  localization: { loadText: () => text },
  determineExitCode: exitCodeFor,
});

/** Runs the CLI with `argv` and returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const proc = {
    stdout: {
      write: (s: string) => {
        try {
          writeStdout(s);
        } catch (err) {
          if (!(err instanceof ClosedPipe)) throw err;
        }
      },
    },
    stderr: {
      write: (s: string) => {
        // stricli writes errors without the program name; prefix each line like other Unix tools.
        writeStderr(s.replace(/^(?!sysmon|\s*$)/gm, "sysmon: "));
      },
    },
    env: Deno.env.toObject(),
    exitCode: undefined as number | string | null | undefined,
  };
  const ctx: SysmonContext = { process: proc, env: proc.env };
  await run(app, hoistGlobalFlags(argv), ctx as never);
  const code = Number(proc.exitCode ?? 0);
  if (code === ExitCode.InvalidArgument || code === ExitCode.UnknownCommand) return 2;
  if (code < 0) return 1;
  return code;
}
