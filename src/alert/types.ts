/**
 * The alert engine's shared vocabulary: compiled rules, what a rule observes in a sample, and the
 * per-series state machine's states and transitions. Every rule type feeds the same state machine:
 * a threshold rule the metric itself, a forecast rule the time left until the metric reaches its
 * target, an anomaly rule the share of recent minutes the anomaly detector flagged.
 */
import type { EntityFamily } from "../core/model.ts";

export type Severity = "warning" | "critical";
export const SEVERITIES: readonly Severity[] = ["warning", "critical"];

/** "above": the value going up is bad (usage); "below": going down is bad (free space, carrier). */
export type Direction = "above" | "below";

/** Raise and clear thresholds of one severity; clear lies on the safe side of raise (hysteresis). */
export interface Level {
  raise: number;
  clear: number;
}

/** The part of a rule the state machine needs (pure numbers and durations). */
export interface Trigger {
  direction: Direction;
  /** At least one of the two is set. */
  warning?: Level;
  critical?: Level;
  /** Seconds the raise condition must hold before the alert fires (pending meanwhile). */
  for: number;
  /** Seconds the alert keeps firing after its clear condition is met (anti-flap). */
  keepFiringFor: number;
}

/** What every rule type has: the series it watches and the texts of its alerts. */
export interface RuleBase extends Trigger {
  /** The rule's name in the configuration (alert.rules.<name>). */
  name: string;
  /** A model metric (docs/metrics.md). */
  metric: string;
  /** "metrics" for a scalar metric, else the entity family whose records carry it. */
  scope: "metrics" | EntityFamily;
  /** Entity names to watch (per-entity rules only); undefined watches all. */
  entity?: RegExp;
  /** Matchers on the entity's string fields (fstype, device, …), all must match. */
  match: Record<string, RegExp>;
  labels: Record<string, string>;
  /** Templates: {{rule}}, {{metric}}, {{entity}}, {{value}}, {{threshold}}, {{severity}}, {{host}}, {{unit}} and the labels. */
  summary: string;
  description: string;
}

export interface ThresholdRule extends RuleBase {
  type: "threshold";
}

/**
 * "Will reach `target` within N": the state machine sees the seconds left until the metric's
 * forecast (report --capacity's robust fit over `window` of history) reaches `target`; direction
 * "below", levels in seconds. Not growing gives NEVER_SECONDS, too little history no value.
 */
export interface ForecastRule extends RuleBase {
  type: "forecast";
  /** The level the forecast is about, in the metric's unit (e.g. 90 for 90 %). */
  target: number;
  /** Seconds of history the forecast is fitted on. */
  window: number;
  /** Least history (seconds) before any forecast is made. */
  minHistory: number;
  /** The metric's value at 100 % (100 for percentages). */
  capacity: number;
}

/**
 * "Anomaly rate above X % over `window`": the state machine sees the percentage of the window's
 * minutes that the causal anomaly detector (report --anomalies --online) flagged.
 */
export interface AnomalyRule extends RuleBase {
  type: "anomaly";
  /** Seconds over which the rate is taken. */
  window: number;
  /** Multiplies the detector's scores: 2 flags at half the deviation. */
  sensitivity: number;
}

export type Rule = ThresholdRule | ForecastRule | AnomalyRule;

/** The value a forecast rule sees while the metric is not heading for its target. */
export const NEVER_SECONDS = 1e12;

/** One series a rule watches in one sample: the whole scalar, or one entity. */
export interface Observation {
  rule: string;
  /** Stable identity of the series: the rule name, plus "/" and the entity for per-entity rules. */
  key: string;
  entity?: string;
  /** The rule's labels plus the entity's identifying labels (device, mountpoint, fstype, …). */
  labels: Record<string, string>;
  /** null when the sample has no value for it (first reading, a device that failed to read). */
  value: number | null;
}

export type Phase = "inactive" | "pending" | "firing";

/** What the state machine remembers per series; plain JSON, persisted across restarts. */
export interface SeriesState {
  phase: Phase;
  /** The severity firing (or pending), null when inactive. */
  severity: Severity | null;
  /** Epoch ms the current raise condition began (pending → firing after `for`). */
  since?: number;
  /** Epoch ms the alert started firing. */
  firingSince?: number;
  /** Epoch ms the clear condition began while firing (resolves after `keepFiringFor`). */
  clearingSince?: number;
  /** Epoch ms a higher severity's raise condition began while firing at a lower one. */
  escalatingSince?: number;
  lastValue: number | null;
  /** Epoch ms of the last evaluation. */
  evaluatedAt: number;
}

export type TransitionKind = "firing" | "escalated" | "deescalated" | "resolved";

/** A change worth notifying: the state machine emits these and nothing else. */
export interface Transition {
  kind: TransitionKind;
  severity: Severity;
  /** The severity before, for escalated/deescalated/resolved. */
  previous?: Severity;
  /** Epoch ms. */
  at: number;
  value: number | null;
  /** Epoch ms the alert started firing (startsAt for Alertmanager). */
  firingSince: number;
}

/** What channels deliver: one transition of one series, with its texts rendered. */
export interface AlertNotification {
  kind: TransitionKind;
  rule: string;
  /** The series' identity (rule, or rule/entity). */
  key: string;
  entity?: string;
  severity: Severity;
  previous?: Severity;
  /** alertname (the rule), severity, host, the rule's labels and the entity's identifying labels. */
  labels: Record<string, string>;
  summary: string;
  description: string;
  value: number | null;
  /** The value for people ("93.4%", "1.5 GiB"). */
  valueText: string;
  /** The raise threshold of `severity`. */
  threshold: number | null;
  thresholdText: string;
  unit: string;
  host: string;
  /** ISO 8601: when the alert began firing, when this transition happened, when it ended. */
  startsAt: string;
  at: string;
  endsAt?: string;
}
