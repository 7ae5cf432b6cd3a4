/**
 * Where `watch` gets what it shows: live samples from the shared sampler (plus the process table
 * and the alert engine), or recorded ones through ReplaySource. Both give the same WatchState parts.
 */
import { AlertEngine, type EngineState } from "../../alert/engine.ts";
import type { ThresholdRule } from "../../alert/types.ts";
import { enabledFamilies } from "../../collect/index.ts";
import { ProcessReader } from "../../collect/processes.ts";
import { emptySample, type Sample } from "../../core/model.ts";
import { Sampler } from "../../core/sampler.ts";
import { collectorContext, type Runtime } from "../../cli/runtime.ts";
import type { ReplaySource } from "./replay_source.ts";
import type { FiringAlert, ProcessRow, WatchState } from "./state.ts";

/** Samples kept for the charts: one per column of the widest terminal likely to run watch. */
export const HISTORY_MAX = 500;

/** The metrics the history charts draw; history keeps only these (a whole sample is ~10 KB). */
const CHART_METRICS = ["cpu_usage_percent", "memory_usage_percent", "swap_usage_percent"];

/** `sample` reduced to what a chart needs from the past. */
export function chartPoint(sample: Sample): Sample {
  const metrics: Record<string, number | null> = {};
  for (const name of CHART_METRICS) {
    if (name in sample.metrics) metrics[name] = sample.metrics[name];
  }
  return { ...emptySample(sample.timestamp, sample.host, sample.interval), metrics };
}

/** The history to draw: reduced past samples, then the current one whole. */
function withCurrent(past: Sample[], current: Sample): Sample[] {
  return [...past.slice(0, -1), current];
}

export type FeedUpdate = Pick<
  WatchState,
  "sample" | "history" | "firingAlerts" | "uptimeSeconds" | "replay"
>;

/** Firing alerts of an engine, for the header (pending ones are not alerts yet). */
function firingOf(engine: AlertEngine): FiringAlert[] {
  return engine.active()
    .filter((a) => a.phase === "firing")
    .map((a) => ({
      rule: a.rule,
      severity: a.severity,
      ...(a.entity ? { entity: a.entity } : {}),
    }));
}

function uptimeAt(sample: Sample, nowMs: number): number | null {
  const boot = sample.metrics.boot_time;
  return typeof boot === "number" && Number.isFinite(boot)
    ? Math.max(0, nowMs / 1000 - boot)
    : null;
}

/**
 * The firing alerts of rules watch does not evaluate itself (forecast, anomaly: they need hours of
 * history), from the state file of the alert daemon running beside it.
 */
export function daemonFiring(state: EngineState, rules: ReadonlySet<string>): FiringAlert[] {
  const out: FiringAlert[] = [];
  for (const s of Object.values(state?.series ?? {})) {
    if (!rules.has(s.rule) || s.state?.phase !== "firing" || !s.state.severity) continue;
    out.push({
      rule: s.rule,
      severity: s.state.severity,
      ...(s.entity !== undefined ? { entity: s.entity } : {}),
    });
  }
  return out;
}

/** Where the alert daemon keeps its state, and the rules of it watch shows from there. */
export interface DaemonAlerts {
  statePath: string;
  rules: ReadonlySet<string>;
}

/** The daemon writes its state after every sample; re-reading it this often is plenty. */
const DAEMON_READ_MS = 10_000;

export class LiveFeed {
  private readonly sampler: Sampler;
  private readonly processes: ProcessReader;
  private readonly engine: AlertEngine;
  private readonly history: Sample[] = [];
  private daemonAlerts: FiringAlert[] = [];
  private daemonReadAt = -Infinity;

  constructor(
    rt: Runtime,
    rules: readonly ThresholdRule[],
    alertState?: EngineState,
    private readonly daemon?: DaemonAlerts,
  ) {
    this.sampler = new Sampler({
      families: enabledFamilies(rt.config.collectors),
      ctx: collectorContext(rt),
      host: Deno.hostname(),
    });
    this.processes = new ProcessReader({
      procRoot: rt.roots.procfs,
      passwdPath: `${rt.roots.rootfs.replace(/\/$/, "")}/etc/passwd`,
    });
    this.engine = new AlertEngine({ rules, host: Deno.hostname() });
    // What a running `alert run` (or serve/record --alert) has firing shows at once.
    if (alertState) this.engine.importState(alertState);
    if (alertState && daemon) {
      this.daemonAlerts = daemonFiring(alertState, daemon.rules);
      this.daemonReadAt = performance.now();
    }
  }

  async next(): Promise<FeedUpdate> {
    const sample = await this.sampler.collect();
    const now = Date.parse(sample.timestamp);
    this.engine.evaluate(sample, now);
    this.history.push(chartPoint(sample));
    if (this.history.length > HISTORY_MAX) this.history.shift();
    await this.readDaemon();
    return {
      sample,
      history: withCurrent(this.history, sample),
      firingAlerts: [...firingOf(this.engine), ...this.daemonAlerts],
      uptimeSeconds: uptimeAt(sample, now),
    };
  }

  /** The process table's top rows (null when it cannot be read: the panel says so). */
  async topProcesses(limit: number, sort: "cpu" | "memory"): Promise<ProcessRow[] | null> {
    try {
      return await this.processes.top(limit, sort);
    } catch {
      return null;
    }
  }

  /** The daemon's forecast and anomaly alerts, re-read every DAEMON_READ_MS. */
  private async readDaemon(): Promise<void> {
    if (!this.daemon || performance.now() - this.daemonReadAt < DAEMON_READ_MS) return;
    this.daemonReadAt = performance.now();
    try {
      const text = await Deno.readTextFile(this.daemon.statePath);
      this.daemonAlerts = daemonFiring(JSON.parse(text) as EngineState, this.daemon.rules);
    } catch {
      // No daemon (any more), or a state being replaced: nothing of it is shown as firing.
      this.daemonAlerts = [];
    }
  }

  /** Processes seen by the last read. */
  processCount(): number {
    return this.processes.lastScan.processes;
  }
}

export class ReplayFeed {
  private engine: AlertEngine;
  private lastTime: number | undefined;
  /** Epoch ms of the playback position (between samples while playing slowly). */
  cursor: number;

  constructor(
    private readonly source: ReplaySource,
    private readonly rules: readonly ThresholdRule[],
  ) {
    this.engine = new AlertEngine({ rules, host: source.current().host });
    this.cursor = source.time();
  }

  /** The state parts for the sample at the cursor. */
  update(speed: number): FeedUpdate {
    const sample = this.source.current();
    const at = this.source.time();
    // The engine sees samples in order; a step back or a jump starts it afresh from there.
    if (this.lastTime !== undefined && at < this.lastTime) {
      this.engine = new AlertEngine({ rules: this.rules, host: sample.host });
    }
    if (at !== this.lastTime) this.engine.evaluate(sample, at);
    this.lastTime = at;
    return {
      sample,
      history: this.source.history(HISTORY_MAX),
      firingAlerts: firingOf(this.engine),
      uptimeSeconds: uptimeAt(sample, at),
      replay: { time: sample.timestamp, speed, atEnd: this.source.atEnd() },
    };
  }

  /** Playback: `ms` of recorded time further. */
  async play(ms: number): Promise<void> {
    this.cursor += ms;
    await this.source.advanceTo(this.cursor);
    if (this.source.atEnd()) this.cursor = this.source.time();
  }

  async step(by: 1 | -1): Promise<boolean> {
    const moved = await this.source.step(by);
    this.cursor = this.source.time();
    return moved;
  }

  /** Jumps by `ms`; false when the recording ends before (the cursor then sits at its edge). */
  async jump(ms: number): Promise<boolean> {
    const target = this.cursor + ms;
    await this.source.refreshRange();
    const { first, last } = this.source.getRange();
    await this.source.seek(target);
    this.cursor = this.source.time();
    return target >= first && target <= last;
  }

  atEnd(): boolean {
    return this.source.atEnd();
  }
}
