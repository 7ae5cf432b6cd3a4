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
import { collectOnce } from "../core/gc_pacer.ts";
import { Sampler } from "../core/sampler.ts";
import { resolveRecordDir } from "../record/data_dir.ts";
import { writeJsonAtomic } from "../store/fsutil.ts";
import { AlertLog } from "./channels/alert_log.ts";
import { Dispatcher } from "./dispatch.ts";
import { alertPaths } from "./paths.ts";
import { isSilenced, type Silence, silencesPath, SilenceStore } from "./silences.ts";
import { type ActiveAlert, AlertEngine, type EngineState } from "./engine.ts";
import { compileRules } from "./rules.ts";
import type { AlertNotification } from "./types.ts";
import type { Sample } from "../core/model.ts";
import { keepExecutablePagesReleased, releaseLoadingPages } from "../core/page_release.ts";

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

/**
 * The always-firing Watchdog (alert.watchdog): only Alertmanager channels get it, through their
 * periodic resend, so a receiver that expects it every few minutes notices when it stops.
 */
export function watchdogAlert(host: string, since: number): ActiveAlert {
  return {
    key: "Watchdog",
    rule: "Watchdog",
    phase: "firing",
    severity: "warning",
    // severity "none", as the convention has it; the engine's own severities are warning/critical.
    labels: { alertname: "Watchdog", severity: "none", host },
    value: null,
    valueText: "n/a",
    since: new Date(since).toISOString(),
    summary: `sysmon on ${host} is alive and evaluating its rules`,
    description: "Always firing while sysmon runs; route it to a dead man's switch.",
    thresholdText: "n/a",
  };
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

/**
 * The engine with its channels and state, fed by whoever owns the sampler: `alert run`,
 * `serve --alert` or `record --alert`. Channels fail alone; nothing here stops the sampler.
 */
export class AlertRunner {
  private stateError = "";
  private logError = "";
  private readonly startedAt = Date.now();
  private silenceError = "";
  private readonly silenceStore: SilenceStore;
  /** Recorded history was handed to the engine and the first sample has not taken it yet. */
  private seeded = false;

  private constructor(
    private readonly rt: Runtime,
    readonly engine: AlertEngine,
    private readonly paths: ReturnType<typeof alertPaths>,
    private readonly log: AlertLog,
    private readonly dispatcher: Dispatcher,
    private readonly stdout: boolean,
    dir: string,
  ) {
    this.silenceStore = new SilenceStore(silencesPath(dir));
  }

  static async open(rt: Runtime, dir: string, opts: { stdout: boolean }): Promise<AlertRunner> {
    const paths = alertPaths(dir);
    const engine = buildEngine(rt);
    await loadState(paths.state, engine, rt);
    const needsHistory = engine.needsHistory().length > 0;
    if (needsHistory) {
      // Loaded only for forecast and anomaly rules: threshold rules need no history.
      const { seedFromRecording } = await import("./history.ts");
      await seedFromRecording(engine, rt, dir);
    }
    const log = new AlertLog({ dir: paths.logDir, maxBytes: 10 * 1048576, keep: 5 });
    let dispatcher: Dispatcher;
    try {
      dispatcher = await Dispatcher.open(rt.config.alert.channels, paths.outbox, rt.log);
    } catch (err) {
      // Queued deliveries must not vanish: refuse to start rather than overwrite the file.
      throw new RuntimeFailure(`alert: ${(err as Error).message}`);
    }
    const runner = new AlertRunner(rt, engine, paths, log, dispatcher, opts.stdout, dir);
    runner.seeded = needsHistory;
    return runner;
  }

  describe(): string {
    const channels = this.dispatcher.channelNames();
    return `log ${this.paths.logDir}/alerts.jsonl, state ${this.paths.state}` +
      (channels.length ? `, channels ${channels.join(", ")}` : "");
  }

  async onSample(sample: Sample): Promise<void> {
    const now = Date.parse(sample.timestamp);
    const notifications = this.engine.evaluate(sample, now);
    if (this.seeded) {
      // The trackers have taken the recorded history: what reading it left behind can go.
      this.seeded = false;
      collectOnce();
    }
    const silences = notifications.length ? await this.silences() : [];
    for (const n of notifications) {
      const silence = isSilenced(n.labels, silences, now);
      await this.deliver(n, silence?.id);
      this.dispatcher.route(n, now, { silenced: silence !== undefined });
    }
    // Queued deliveries reach the disk before the state that says they were sent.
    await this.dispatcher.persist();
    await this.save();
    const active = this.engine.active();
    if (this.rt.config.alert.watchdog) active.push(watchdogAlert(Deno.hostname(), this.startedAt));
    await this.dispatcher.flush(Date.now(), active);
  }

  /** Saves the state; throws RuntimeFailure when it could not be saved (the exit status says so). */
  async close(): Promise<void> {
    await this.save();
    if (this.stateError) throw new RuntimeFailure(`alert: state not saved: ${this.stateError}`);
  }

  /** Active silences; an unreadable file is reported (once) and silences nothing. */
  private async silences(): Promise<Silence[]> {
    try {
      const list = await this.silenceStore.list();
      this.silenceError = "";
      return list;
    } catch (err) {
      const why = (err as Error).message;
      if (why !== this.silenceError) this.rt.log.error(`alert: ${why}; no alert is silenced`);
      this.silenceError = why;
      return [];
    }
  }

  private async deliver(n: AlertNotification, silencedBy?: string) {
    // A silenced notification is only logged: the alert log keeps the whole history.
    if (!silencedBy) {
      const line = notificationLine(n);
      if (this.stdout) writeStdout(line + "\n");
      else this.rt.log.warn(`alert: ${line}`);
    }
    try {
      await this.log.append(silencedBy ? { ...n, silenced: silencedBy } : { ...n });
      this.logError = "";
    } catch (err) {
      // The alert log fails alone: stdout or the journal still has the notification.
      const why = (err as Error).message;
      if (why !== this.logError) this.rt.log.error(why);
      this.logError = why;
    }
  }

  /** The state as last written; an idle engine (nothing pending or firing) writes nothing. */
  private savedState = "";

  private async save() {
    const path = this.paths.state;
    const state = this.engine.exportState();
    const text = JSON.stringify(state);
    if (text === this.savedState && !this.stateError) return;
    try {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await writeJsonAtomic(path, state);
      this.savedState = text;
      if (this.stateError) this.rt.log.info(`alert: ${path} is writable again`);
      this.stateError = "";
    } catch (err) {
      const why = (err as Error).message;
      if (why !== this.stateError) this.rt.log.error(`alert: cannot save ${path}: ${why}`);
      this.stateError = why;
    }
  }
}

export async function runAlerts(
  flags: AlertRunFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  const rt = await setupRuntime(flags, env, { interval: flags.interval });
  releaseLoadingPages(rt.log);
  const dir = resolveRecordDir(flags.data, rt);
  const families = enabledFamilies(rt.config.collectors);
  if (families.length === 0) {
    throw new UsageError("every collector is disabled in the configuration");
  }
  const runner = await AlertRunner.open(rt, dir, { stdout: !flags.quiet });
  const sampler = new Sampler({ families, ctx: collectorContext(rt), host: Deno.hostname() });
  rt.log.info(
    `alert: every ${formatDuration(rt.config.collectors.interval)}, ${runner.describe()}`,
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
  sampler.start((sample) => runner.onSample(sample));
  const stopReleasing = keepExecutablePagesReleased(rt.log);
  const why = await stopped;
  stopReleasing();
  sampler.stop();
  if (timer !== undefined) clearTimeout(timer);
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  rt.log.info(
    `alert: stopped (${why}); ${runner.engine.active().length} alert(s) pending or firing`,
  );
  await runner.close();
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

export interface AlertTestFlags extends GlobalFlags {
  readonly channel?: string;
}

/** A notification that says what it is, for `alert test`. */
export function testNotification(host: string, now: number): AlertNotification {
  const at = new Date(now).toISOString();
  return {
    kind: "firing",
    rule: "sysmon_test",
    key: "sysmon_test",
    severity: "warning",
    labels: { alertname: "sysmon_test", severity: "warning", host },
    summary: `Test notification from sysmon on ${host}: this channel works`,
    description: "Sent by `sysmon alert test`; no rule fired.",
    value: null,
    valueText: "n/a",
    threshold: null,
    thresholdText: "n/a",
    unit: "count",
    host,
    startsAt: at,
    at,
  };
}

/** Sends a test notification to every channel, or one; exit 1 when one failed, 2 for a bad name. */
export async function testChannels(
  flags: AlertTestFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  const rt = await setupRuntime(flags, env);
  const names = Object.keys(rt.config.alert.channels);
  if (flags.channel !== undefined && !names.includes(flags.channel)) {
    throw new UsageError(
      `no channel ${JSON.stringify(flags.channel)} in alert.channels; configured: ${
        names.join(", ") || "none"
      }`,
    );
  }
  if (names.length === 0) {
    writeStdout("no channel configured (alert.channels); stdout and the alert log always work\n");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "sysmon-alert-test-" });
  try {
    // A throwaway outbox: a test must not leave deliveries queued for the real engine.
    const dispatcher = await Dispatcher.open(
      rt.config.alert.channels,
      `${dir}/outbox.json`,
      rt.log,
    );
    const results = await dispatcher.test(
      testNotification(Deno.hostname(), Date.now()),
      flags.channel,
    );
    for (const r of results) writeStdout(`${r.channel}: ${r.ok ? "ok" : `FAILED: ${r.error}`}\n`);
    const failed = results.filter((r) => !r.ok).length;
    const skipped = (flags.channel ? 1 : names.length) - results.length;
    if (skipped > 0) {
      throw new RuntimeFailure(`${skipped} channel(s) could not be set up (see above)`);
    }
    if (failed > 0) throw new RuntimeFailure(`${failed} of ${results.length} channel(s) failed`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
