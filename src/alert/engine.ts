/**
 * The alert engine: on each sample it observes every rule's series, steps each series' state
 * machine and turns transitions into notifications with rendered texts. It keeps the states of all
 * series, exports them as JSON for a restart (no re-notification, nothing forgotten) and lists the
 * active alerts. Pure apart from the clock it is given; channels and persistence live elsewhere.
 */
import { catalog } from "../core/catalog.ts";
import type { MetricDef, Sample } from "../core/model.ts";
import { observe } from "./rules.ts";
import { step } from "./state.ts";
import { type CompiledTemplate, formatValue, parseTemplate, renderTemplate } from "./template.ts";
import type {
  AlertNotification,
  Observation,
  SeriesState,
  Severity,
  ThresholdRule,
  Transition,
} from "./types.ts";

export const ENGINE_STATE_VERSION = 1;

interface Series {
  rule: string;
  entity?: string;
  labels: Record<string, string>;
  state: SeriesState;
  /** Epoch ms the series was last present in a sample. */
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
  rule: ThresholdRule;
  unit: string;
  summary: CompiledTemplate;
  description: CompiledTemplate;
}

export interface EngineOptions {
  rules: readonly ThresholdRule[];
  host: string;
  defs?: readonly MetricDef[];
}

export class AlertEngine {
  private readonly rules: CompiledRule[];
  private readonly series = new Map<string, Series>();

  constructor(private readonly opts: EngineOptions) {
    const units = new Map((opts.defs ?? catalog()).map((d) => [d.name, d.unit as string]));
    this.rules = opts.rules.map((rule) => ({
      rule,
      unit: units.get(rule.metric) ?? "count",
      summary: parseTemplate(rule.summary),
      description: parseTemplate(rule.description),
    }));
  }

  /** Evaluates every rule on one sample taken at `now` (epoch ms); returns what to notify. */
  evaluate(sample: Sample, now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    for (const c of this.rules) {
      const seen = new Set<string>();
      for (const obs of observe(c.rule, sample)) {
        seen.add(obs.key);
        out.push(...this.stepSeries(c, obs, obs.value, now));
      }
      out.push(...this.ageOut(c, seen, now));
    }
    return out;
  }

  private stepSeries(
    c: CompiledRule,
    obs: Pick<Observation, "key" | "entity" | "labels">,
    value: number | null,
    now: number,
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
      });
    }
    return transitions.map((t) => this.notification(c, obs, t));
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
      }));
    }
    return out;
  }

  private notification(
    c: CompiledRule,
    obs: Pick<Observation, "key" | "entity" | "labels">,
    t: Transition,
  ): AlertNotification {
    const rule = c.rule;
    const threshold = rule[t.severity]?.raise ?? null;
    const valueText = formatValue(t.value, c.unit);
    const thresholdText = formatValue(threshold, c.unit);
    // The engine's own labels last: nothing may override them (rules.ts refuses it too).
    const labels = {
      ...obs.labels,
      alertname: rule.name,
      severity: t.severity,
      host: this.opts.host,
    };
    const vars = {
      rule: rule.name,
      metric: rule.metric,
      entity: obs.entity ?? "",
      value: valueText,
      threshold: thresholdText,
      severity: t.severity,
      host: this.opts.host,
      unit: c.unit,
    };
    const at = new Date(t.at).toISOString();
    return {
      kind: t.kind,
      rule: rule.name,
      key: obs.key,
      ...(obs.entity !== undefined ? { entity: obs.entity } : {}),
      severity: t.severity,
      ...(t.previous ? { previous: t.previous } : {}),
      labels,
      summary: renderTemplate(c.summary, vars, labels),
      description: renderTemplate(c.description, vars, labels),
      value: t.value,
      valueText,
      threshold,
      thresholdText,
      unit: c.unit,
      host: this.opts.host,
      startsAt: new Date(t.firingSince).toISOString(),
      at,
      ...(t.kind === "resolved" ? { endsAt: at } : {}),
    };
  }

  /** Pending and firing series, firing first, then by rule and key. */
  active(): ActiveAlert[] {
    const list: ActiveAlert[] = [];
    for (const [key, s] of this.series) {
      if (s.state.phase === "inactive" || !s.state.severity) continue;
      const c = this.rules.find((r) => r.rule.name === s.rule);
      const unit = c?.unit ?? "count";
      const labels = {
        ...s.labels,
        alertname: s.rule,
        severity: s.state.severity,
        host: this.opts.host,
      };
      const valueText = formatValue(s.state.lastValue, unit);
      const thresholdText = formatValue(c?.rule[s.state.severity]?.raise ?? null, unit);
      const vars = {
        rule: s.rule,
        metric: c?.rule.metric ?? "",
        entity: s.entity ?? "",
        value: valueText,
        threshold: thresholdText,
        severity: s.state.severity,
        host: this.opts.host,
        unit,
      };
      const since = s.state.phase === "firing" ? s.state.firingSince : s.state.since;
      list.push({
        key,
        rule: s.rule,
        ...(s.entity !== undefined ? { entity: s.entity } : {}),
        phase: s.state.phase,
        severity: s.state.severity,
        labels,
        value: s.state.lastValue,
        valueText,
        since: new Date(since ?? s.state.evaluatedAt).toISOString(),
        summary: c ? renderTemplate(c.summary, vars, labels) : "",
        description: c ? renderTemplate(c.description, vars, labels) : "",
        thresholdText,
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
