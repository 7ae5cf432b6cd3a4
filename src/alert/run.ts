/**
 * What `sysmon alert run` and `alert list` do (their flags and help are in commands/alert.ts): the
 * engine on the shared sampler, the alert log and stdout as channels, state kept across restarts.
 */
import { enabledFamilies } from "../collect/index.ts";
import { RuntimeFailure, UsageError } from "../cli/errors.ts";
import type { GlobalFlags } from "../cli/globals.ts";
import { writeStdout } from "../cli/io.ts";
import { collectorContext, type Runtime, setupRuntime } from "../cli/runtime.ts";
import { formatDuration } from "../core/duration.ts";
import { Sampler } from "../core/sampler.ts";
import { resolveRecordDir } from "../record/data_dir.ts";
import { writeJsonAtomic } from "../store/fsutil.ts";
import { AlertLog } from "./channels/alert_log.ts";
import { AlertEngine, type EngineState } from "./engine.ts";
import { compileRules } from "./rules.ts";
import type { AlertNotification } from "./types.ts";

export interface AlertRunFlags extends GlobalFlags {
  readonly data?: string;
  readonly interval?: number;
  readonly duration?: number;
  readonly quiet?: boolean;
}

export interface AlertListFlags extends GlobalFlags {
  readonly data?: string;
  readonly json?: boolean;
}

/** Where the engine keeps its state and its log, inside the data directory. */
export function alertPaths(dir: string) {
  return { state: `${dir}/state/alert.state.json`, logDir: `${dir}/alerts` };
}

/** Compiles the configured rules; problems are logged per rule and the rest run. */
function buildEngine(rt: Runtime): AlertEngine {
  const { rules, errors } = compileRules(rt.config.alert.rules);
  for (const e of errors) rt.log.error(e);
  if (rules.length === 0) {
    throw new UsageError(
      errors.length
        ? `no usable alert rule (${errors.length} with errors, listed above)`
        : "no alert rule is enabled (alert.rules)",
    );
  }
  return new AlertEngine({ rules, host: Deno.hostname() });
}

async function loadState(path: string, engine: AlertEngine, rt: Runtime): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      rt.log.warn(`alert: cannot read ${path}: ${(err as Error).message}; starting afresh`);
    }
    return;
  }
  try {
    const kept = engine.importState(JSON.parse(text) as EngineState);
    if (kept > 0) rt.log.info(`alert: ${kept} pending or firing alert(s) restored from ${path}`);
  } catch {
    rt.log.warn(`alert: ${path} is not valid JSON; starting afresh`);
  }
}

/** One readable line per notification, for people watching stdout or the journal. */
export function notificationLine(n: AlertNotification): string {
  const what = n.kind === "resolved"
    ? "RESOLVED"
    : n.kind === "firing"
    ? `FIRING ${n.severity}`
    : `${n.kind.toUpperCase()} ${n.previous} -> ${n.severity}`;
  return `${n.at} ${what} ${n.key}: ${n.summary}`;
}

export async function runAlerts(
  flags: AlertRunFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  const rt = await setupRuntime(flags, env, { interval: flags.interval });
  const dir = resolveRecordDir(flags.data, rt);
  const paths = alertPaths(dir);
  const engine = buildEngine(rt);
  await loadState(paths.state, engine, rt);
  const families = enabledFamilies(rt.config.collectors);
  if (families.length === 0) {
    throw new UsageError("every collector is disabled in the configuration");
  }
  const sampler = new Sampler({ families, ctx: collectorContext(rt), host: Deno.hostname() });
  const log = new AlertLog({ dir: paths.logDir, maxBytes: 10 * 1048576, keep: 5 });

  let stateError = "";
  const save = async () => {
    try {
      await Deno.mkdir(`${dir}/state`, { recursive: true });
      await writeJsonAtomic(paths.state, engine.exportState());
      if (stateError) rt.log.info(`alert: ${paths.state} is writable again`);
      stateError = "";
    } catch (err) {
      const why = (err as Error).message;
      if (why !== stateError) rt.log.error(`alert: cannot save ${paths.state}: ${why}`);
      stateError = why;
    }
  };
  let logError = "";
  const deliver = async (n: AlertNotification) => {
    if (!flags.quiet) writeStdout(notificationLine(n) + "\n");
    try {
      await log.append({ ...n });
      logError = "";
    } catch (err) {
      // The alert log fails alone: stdout (the journal) still has the notification.
      const why = (err as Error).message;
      if (why !== logError) rt.log.error(why);
      logError = why;
    }
  };

  rt.log.info(
    `alert: ${
      rt.config.collectors.interval ? `every ${formatDuration(rt.config.collectors.interval)}` : ""
    }` +
      `, log ${paths.logDir}/alerts.jsonl, state ${paths.state}`,
  );
  let finish: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => finish = resolve);
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGTERM", () => finish("SIGTERM")],
    ["SIGINT", () => finish("SIGINT")],
  ];
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const timer = flags.duration
    ? setTimeout(() => finish("duration reached"), flags.duration * 1000)
    : undefined;
  sampler.start(async (sample) => {
    const notifications = engine.evaluate(sample, Date.parse(sample.timestamp));
    for (const n of notifications) await deliver(n);
    await save();
  });
  const why = await stopped;
  sampler.stop();
  if (timer !== undefined) clearTimeout(timer);
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  await save();
  rt.log.info(`alert: stopped (${why}); ${engine.active().length} alert(s) pending or firing`);
  if (stateError) throw new RuntimeFailure(`alert: state not saved: ${stateError}`);
}

export async function listAlerts(
  flags: AlertListFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  const rt = await setupRuntime(flags, env);
  const dir = resolveRecordDir(flags.data, rt);
  const engine = buildEngine(rt);
  await loadState(alertPaths(dir).state, engine, rt);
  const active = engine.active();
  if (flags.json) {
    writeStdout(JSON.stringify(active, null, 2) + "\n");
    return;
  }
  if (active.length === 0) {
    writeStdout("no alert pending or firing\n");
    return;
  }
  for (const a of active) {
    writeStdout(
      `${a.phase.padEnd(7)} ${a.severity.padEnd(8)} ${a.key}  ${a.valueText}  since ${a.since}\n` +
        `        ${a.summary}\n`,
    );
  }
}
