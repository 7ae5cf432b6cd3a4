/**
 * The alert engine: on each sample it observes every rule's series, turns forecast and anomaly
 * rules' readings into their judged value (analysis.ts), steps each series' state machine and turns
 * transitions into notifications with rendered texts. It keeps the states of all
 * series, exports them as JSON for a restart (no re-notification, nothing forgotten) and lists the
 * active alerts. Pure apart from the clock it is given; channels and persistence live elsewhere.
 */
import { catalog } from "../core/catalog.ts";
import type { MetricDef, Sample } from "../core/model.ts";
import { formatDuration } from "../core/duration.ts";
import {
  type AnalysisState,
  type RecordedMinutes,
  type SeriesTracker,
  trackerFor,
} from "./analysis.ts";
import { observe } from "./rules.ts";
import { step } from "./state.ts";
import { type CompiledTemplate, formatValue, parseTemplate, renderTemplate } from "./template.ts";
import {
  type AlertNotification,
  NEVER_SECONDS,
  type Observation,
  type Rule,
  type SeriesState,
  type Severity,
  type Transition,
} from "./types.ts";

export const ENGINE_STATE_VERSION = 1;

interface Series {
  rule: string;
  entity?: string;
  labels: Record<string, string>;
  state: SeriesState;
  /** Epoch ms the series was last present in a sample. */
  seenAt: number;
  /** The metric's own latest reading (forecast and anomaly rules judge a value derived from it). */
  current?: number | null;
}

/** A forecast or anomaly rule's analysis of one series, for the sysmon_forecast_/anomaly_ gauges. */
export interface SeriesAnalysis {
  rule: string;
  metric: string;
  key: string;
  entity?: string;
  /** The rule's labels and the entity's identifying labels. */
  labels: Record<string, string>;
  analysis: AnalysisState;
}

interface Tracked {
  tracker: SeriesTracker;
  rule: string;
  metric: string;
  entity?: string;
  labels: Record<string, string>;
  seenAt: number;
}

/** The engine's persisted form (state/alert.state.json). */
export interface EngineState {
  version: number;
  series: Record<string, Series>;
}

/** An alert that is pending or firing, for `alert list`, the API and /metrics. */
export interface ActiveAlert {
  key: string;
  rule: string;
  entity?: string;
  phase: "pending" | "firing";
  severity: Severity;
  labels: Record<string, string>;
  value: number | null;
  valueText: string;
  /** ISO 8601: firing since, or pending since. */
  since: string;
  summary: string;
  description: string;
  /** The raise threshold of `severity`, for people. */
  thresholdText: string;
}

interface CompiledRule {
  rule: Rule;
  unit: string;
  summary: CompiledTemplate;
  description: CompiledTemplate;
}

export interface EngineOptions {
  rules: readonly Rule[];
  host: string;
  defs?: readonly MetricDef[];
}

/** Recorded history is offered to series that appear within this long of the first sample. */
const HISTORY_KEPT_MS = 10 * 60_000;
/** A tracker whose series has left the samples this long is forgotten. */
const TRACKER_IDLE_MS = 3_600_000;

export class AlertEngine {
  private readonly rules: CompiledRule[];
  private readonly series = new Map<string, Series>();
  private readonly trackers = new Map<string, Tracked>();
  /** Recorded history of a series (metric, entity), handed to its tracker when it first appears. */
  private history?: (metric: string, entity: string | undefined) => RecordedMinutes | undefined;
  private historyFrom?: number;

  constructor(private readonly opts: EngineOptions) {
    const units = new Map((opts.defs ?? catalog()).map((d) => [d.name, d.unit as string]));
    this.rules = opts.rules.map((rule) => ({
      rule,
      unit: units.get(rule.metric) ?? "count",
      summary: parseTemplate(rule.summary),
      description: parseTemplate(rule.description),
    }));
  }

  /** The history forecast and anomaly rules want: their metrics and how far back (none: empty). */
  needsHistory(): { metric: string; seconds: number }[] {
    return this.rules.flatMap(({ rule }) =>
      rule.type === "forecast"
        ? [{ metric: rule.metric, seconds: rule.window }]
        : rule.type === "anomaly"
        ? [{ metric: rule.metric, seconds: ANOMALY_HISTORY_SECONDS }]
        : []
    );
  }

  /**
   * Recorded minutes per series for trackers not created yet: each takes its series' history when
   * the series first appears in a sample, so a restart does not start the learning over.
   */
  seedHistory(
    lookup: (metric: string, entity: string | undefined) => RecordedMinutes | undefined,
  ): void {
    this.history = lookup;
  }

  /** Evaluates every rule on one sample taken at `now` (epoch ms); returns what to notify. */
  evaluate(sample: Sample, now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    // Series present at the start take their recorded history; one that shows up late (a mount
    // whose statfs was stuck) still can for a while; after that the recording is let go.
    this.historyFrom ??= now;
    if (now - this.historyFrom >= HISTORY_KEPT_MS) this.history = undefined;
    for (const c of this.rules) {
      const seen = new Set<string>();
      for (const obs of observe(c.rule, sample)) {
        seen.add(obs.key);
        const value = c.rule.type === "threshold"
          ? obs.value
          : this.tracked(c.rule, obs, now).tracker.update(now, obs.value);
        out.push(...this.stepSeries(c, obs, value, now, obs.value));
      }
      out.push(...this.ageOut(c, seen, now));
    }
    for (const [key, t] of this.trackers) {
      if (now - t.seenAt >= TRACKER_IDLE_MS) this.trackers.delete(key);
    }
    return out;
  }

  /** The series' tracker, created (and seeded from recorded history) on first sight. */
  private tracked(rule: Rule & { type: "forecast" | "anomaly" }, obs: Observation, now: number) {
    let t = this.trackers.get(obs.key);
    if (!t) {
      const tracker = trackerFor(rule);
      const recorded = this.history?.(rule.metric, obs.entity);
      if (recorded) tracker.seed(recorded, now);
      t = { tracker, rule: rule.name, metric: rule.metric, labels: obs.labels, seenAt: now };
      if (obs.entity !== undefined) t.entity = obs.entity;
      this.trackers.set(obs.key, t);
    }
    t.seenAt = now;
    t.labels = obs.labels;
    return t;
  }

  /** The analyses behind forecast and anomaly rules, one per series, by rule and key. */
  analyses(): SeriesAnalysis[] {
    const out: SeriesAnalysis[] = [];
    for (const [key, t] of this.trackers) {
      out.push({
        rule: t.rule,
        metric: t.metric,
        key,
        ...(t.entity !== undefined ? { entity: t.entity } : {}),
        labels: t.labels,
        analysis: t.tracker.state(),
      });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private stepSeries(
    c: CompiledRule,
    obs: Pick<Observation, "key" | "entity" | "labels">,
    value: number | null,
    now: number,
    current: number | null,
  ): AlertNotification[] {
    const prev = this.series.get(obs.key);
    const { state, transitions } = step(c.rule, prev?.state, value, now);
    // Inactive series are not kept: the state machine starts them afresh from undefined.
    if (state.phase === "inactive") this.series.delete(obs.key);
    else {
      this.series.set(obs.key, {
        rule: c.rule.name,
        ...(obs.entity !== undefined ? { entity: obs.entity } : {}),
        labels: obs.labels,
        state,
        seenAt: now,
        ...(c.rule.type !== "threshold" ? { current } : {}),
      });
    }
    return transitions.map((t) => this.notification(c, obs, t, current));
  }

  /**
   * A series that left the sample (an unmounted filesystem, a removed NIC) cannot clear by its
   * value: a firing one resolves once it has been gone for keep_firing_for (at least one minute, so
   * a family read less often than the sampler ticks does not flap); a pending one is dropped.
   */
  private ageOut(c: CompiledRule, seen: Set<string>, now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    const grace = Math.max(c.rule.keepFiringFor, 60) * 1000;
    for (const [key, s] of this.series) {
      if (s.rule !== c.rule.name || seen.has(key)) continue;
      if (s.state.phase !== "firing") {
        if (now - s.seenAt >= grace) this.series.delete(key);
        continue;
      }
      if (now - s.seenAt < grace) continue;
      this.series.delete(key);
      out.push(this.notification(c, { key, entity: s.entity, labels: s.labels }, {
        kind: "resolved",
        severity: s.state.severity!,
        previous: s.state.severity!,
        at: now,
        value: null,
        firingSince: s.state.firingSince ?? now,
      }, null));
    }
    return out;
  }

  private notification(
    c: CompiledRule,
    obs: Pick<Observation, "key" | "entity" | "labels">,
    t: Transition,
    current: number | null,
  ): AlertNotification {
    const shown = this.shown(c, obs, t.severity, t.value, current);
    const at = new Date(t.at).toISOString();
    return {
      kind: t.kind,
      rule: c.rule.name,
      key: obs.key,
      ...(obs.entity !== undefined ? { entity: obs.entity } : {}),
      severity: t.severity,
      ...(t.previous ? { previous: t.previous } : {}),
      labels: shown.labels,
      summary: shown.summary,
      description: shown.description,
      value: shown.judged.number,
      valueText: shown.judged.value,
      threshold: shown.threshold,
      thresholdText: shown.judged.threshold,
      unit: shown.judged.unit,
      host: this.opts.host,
      startsAt: new Date(t.firingSince).toISOString(),
      at,
      ...(t.kind === "resolved" ? { endsAt: at } : {}),
    };
  }

  /** Labels and texts of one series at one severity: what notifications and `active` show. */
  private shown(
    c: CompiledRule,
    series: Pick<Observation, "entity" | "labels">,
    severity: Severity,
    value: number | null,
    current: number | null,
  ) {
    const rule = c.rule;
    const threshold = rule[severity]?.raise ?? null;
    const judged = judgedTexts(c, value, threshold);
    // The engine's own labels last: nothing may override them (rules.ts refuses it too).
    const labels = { ...series.labels, alertname: rule.name, severity, host: this.opts.host };
    const vars = {
      rule: rule.name,
      metric: rule.metric,
      entity: series.entity ?? "",
      value: judged.value,
      threshold: judged.threshold,
      severity,
      host: this.opts.host,
      unit: c.unit,
      current: formatValue(current, c.unit),
      target: rule.type === "forecast" ? formatValue(rule.target, c.unit) : "",
    };
    return {
      labels,
      threshold,
      judged,
      summary: renderTemplate(c.summary, vars, labels),
      description: renderTemplate(c.description, vars, labels),
    };
  }

  /** Pending and firing series, firing first, then by rule and key. */
  active(): ActiveAlert[] {
    const list: ActiveAlert[] = [];
    for (const [key, s] of this.series) {
      if (s.state.phase === "inactive" || !s.state.severity) continue;
      // Always found: importState drops the series of rules this engine does not have.
      const c = this.rules.find((r) => r.rule.name === s.rule);
      if (!c) continue;
      const shown = this.shown(c, s, s.state.severity, s.state.lastValue, s.current ?? null);
      const since = s.state.phase === "firing" ? s.state.firingSince : s.state.since;
      list.push({
        key,
        rule: s.rule,
        ...(s.entity !== undefined ? { entity: s.entity } : {}),
        phase: s.state.phase,
        severity: s.state.severity,
        labels: shown.labels,
        value: shown.judged.number,
        valueText: shown.judged.value,
        since: new Date(since ?? s.state.evaluatedAt).toISOString(),
        summary: shown.summary,
        description: shown.description,
        thresholdText: shown.judged.threshold,
      });
    }
    const phaseRank = (a: ActiveAlert) => (a.phase === "firing" ? 0 : 1);
    return list.sort((a, b) =>
      phaseRank(a) - phaseRank(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    );
  }

  exportState(): EngineState {
    return { version: ENGINE_STATE_VERSION, series: Object.fromEntries(this.series) };
  }

  /**
   * Restores states saved by a previous run. Series of rules that no longer exist are dropped (a
   * firing one cannot resolve any more; its channels learn nothing new). Returns how many were kept.
   */
  importState(saved: EngineState): number {
    if (saved?.version !== ENGINE_STATE_VERSION || typeof saved.series !== "object") return 0;
    const names = new Set(this.rules.map((r) => r.rule.name));
    let kept = 0;
    for (const [key, s] of Object.entries(saved.series)) {
      if (!names.has(s.rule)) continue;
      this.series.set(key, s);
      kept++;
    }
    return kept;
  }
}

/** Anomaly rules learn from this much recorded history: three days give a daily profile. */
const ANOMALY_HISTORY_SECONDS = 3 * 86400;

/**
 * The judged value and a raise threshold for people, and the value's number and unit as channels
 * carry them: a forecast's time left ("about 7h"), an anomaly rule's share of flagged minutes.
 */
function judgedTexts(
  c: CompiledRule,
  value: number | null,
  threshold: number | null,
): { value: string; threshold: string; number: number | null; unit: string } {
  switch (c.rule.type) {
    case "forecast": {
      const never = value !== null && value >= NEVER_SECONDS;
      return {
        value: value === null ? "n/a" : never ? "never (not heading there)" : timeLeft(value),
        threshold: threshold === null ? "n/a" : formatDuration(threshold),
        number: never ? null : value,
        unit: "seconds",
      };
    }
    case "anomaly":
      return {
        value: formatValue(value, "percent"),
        threshold: formatValue(threshold, "percent"),
        number: value,
        unit: "percent",
      };
    default:
      return {
        value: formatValue(value, c.unit),
        threshold: formatValue(threshold, c.unit),
        number: value,
        unit: c.unit,
      };
  }
}

/** Time left, rounded as a forecast deserves: minutes within a day, hours beyond. */
function timeLeft(seconds: number): string {
  if (seconds <= 0) return "now (reached)";
  const unit = seconds < 86400 ? 60 : 3600;
  return formatDuration(Math.max(unit, Math.round(seconds / unit) * unit));
}
