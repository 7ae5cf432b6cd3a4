/**
 * Alert rules (threshold, forecast, anomaly): compiled from `alert.rules` in the configuration
 * (checked against the metric catalogue) and observed in a sample as one series per scalar or
 * matching entity. Pure: no I/O.
 */
import type { AlertRuleConfig } from "../config/sysmon_schema.ts";
import { catalog } from "../core/catalog.ts";
import type { EntityFamily, EntityPart, MetricDef, Sample } from "../core/model.ts";
import { parseTemplate, templateLabels } from "./template.ts";
import type { Direction, Level, Observation, Rule, RuleBase, Trigger } from "./types.ts";

/** One rule as configured (alert.rules.NAME; durations already in seconds). */
export type RuleConfig = AlertRuleConfig;

export interface CompiledRules {
  rules: Rule[];
  /** One line per problem, each starting "alert.rules.NAME: "; a rule with problems is left out. */
  errors: string[];
}

/**
 * Compiles the enabled rules. A broken rule is reported and left out so that the others still run.
 * `defs` defaults to the model catalogue.
 */
/** Prometheus's label-name rule: Alertmanager and /metrics refuse anything else. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels the engine sets itself; a rule may not override them (escalation relies on severity). */
const RESERVED_LABELS = ["alertname", "severity", "host", "alertstate"];

export function compileRules(
  config: Record<string, RuleConfig>,
  defs: MetricDef[] = catalog(),
): CompiledRules {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const rules: Rule[] = [];
  const errors: string[] = [];
  for (const [name, rc] of Object.entries(config)) {
    if (!rc.enabled) continue;
    const problems: string[] = [];
    const rule = compileRule(name, rc, byName, defs, problems);
    if (problems.length > 0 || rule === undefined) {
      errors.push(...problems.map((p) => `alert.rules.${name}: ${p}`));
    } else rules.push(rule);
  }
  return { rules, errors };
}

function compileRule(
  name: string,
  rc: RuleConfig,
  byName: Map<string, MetricDef>,
  defs: MetricDef[],
  problems: string[],
): Rule | undefined {
  if (!RULE_TYPES.includes(rc.type)) {
    problems.push(`type "${rc.type}" is not supported (use ${RULE_TYPES.join(", ")})`);
  }
  const def = metricDef(rc.metric, byName, defs, problems);
  const scope = def?.scope;

  let entity: RegExp | undefined;
  const match: Record<string, RegExp> = {};
  if (scope === "metrics") {
    if (rc.entity !== "" || Object.keys(rc.match).length > 0) {
      problems.push(
        `entity and match apply to per-entity metrics only; ${rc.metric} is a single value`,
      );
    }
  } else if (scope !== undefined) {
    if (rc.entity !== "") entity = regex("entity", rc.entity, problems);
    const fields = labelFields(scope, defs);
    for (const [field, source] of Object.entries(rc.match)) {
      if (!fields.includes(field)) {
        problems.push(
          `match.${field}: ${scope} have no string field "${field}" (` +
            (fields.length > 0 ? `fields: ${fields.join(", ")}` : `use entity to select by name`) +
            ")",
        );
      }
      const re = regex(`match.${field}`, source, problems);
      if (re) match[field] = re;
    }
  }

  foreignSettings(rc, problems);
  const levels = rc.type === "forecast"
    ? forecastLevels(rc, problems)
    : rc.type === "anomaly"
    ? anomalyLevels(rc, problems)
    : thresholdLevels(rc, problems);
  for (const key of ["for", "keep_firing_for"] as const) {
    if (!Number.isFinite(rc[key]) || rc[key] < 0) {
      problems.push(`${key} must be a duration of 0s or more, not ${rc[key]}`);
    }
  }

  const identifying = scope && scope !== "metrics" ? IDENTIFYING_LABELS[scope] : [];
  for (const label of Object.keys(rc.labels)) {
    if (!LABEL_NAME.test(label)) {
      problems.push(
        `labels.${label}: not a valid label name (letters, digits and _, not first a digit)`,
      );
    } else if (RESERVED_LABELS.includes(label)) {
      problems.push(`labels.${label}: "${label}" is set by sysmon on every alert`);
    } else if (identifying.includes(label)) {
      problems.push(
        `labels.${label}: "${label}" is set from each entity (${scope}); choose another name`,
      );
    }
  }
  const known = [...Object.keys(rc.labels), ...identifying];
  const forecast = rc.type === "forecast" && def ? forecastSettings(rc, def, problems) : undefined;
  for (const key of ["summary", "description"] as const) {
    const compiled = parseTemplate(rc[key]);
    if (compiled.error) {
      problems.push(`${key}: ${compiled.error}`);
      continue;
    }
    for (const label of templateLabels(compiled)) {
      if (!known.includes(label)) {
        problems.push(
          `${key}: {{labels.${label}}} names no label of this rule (labels: ${
            known.length > 0 ? known.join(", ") : "none"
          })`,
        );
      }
    }
  }

  if (problems.length > 0 || def === undefined || levels === undefined) return undefined;
  const base: RuleBase = {
    name,
    metric: def.name,
    scope: def.scope,
    match,
    labels: { ...rc.labels },
    summary: rc.summary,
    description: rc.description,
    ...levels,
    for: rc.for,
    keepFiringFor: rc.keep_firing_for,
  };
  if (entity) base.entity = entity;
  switch (rc.type) {
    case "forecast":
      return forecast ? { ...base, type: "forecast", ...forecast } : undefined;
    case "anomaly":
      return {
        ...base,
        type: "anomaly",
        window: rc.window ?? DEFAULT_ANOMALY_WINDOW,
        sensitivity: rc.sensitivity,
      };
    default:
      return { ...base, type: "threshold" };
  }
}

/** What each rule type's thresholds compile to. */
type Levels = Pick<Trigger, "direction" | "warning" | "critical">;

const RULE_TYPES: readonly string[] = ["threshold", "forecast", "anomaly"];
const DEFAULT_FORECAST_WINDOW = 7 * 86400;
const DEFAULT_ANOMALY_WINDOW = 15 * 60;
/** A forecast alert clears once the date is this much further away than where it raised. */
export const FORECAST_CLEAR_FACTOR = 1.5;

/** Settings that belong to other rule types: naming them is a mistake worth reporting. */
function foreignSettings(rc: RuleConfig, problems: string[]): void {
  const only: [keyof RuleConfig, string, boolean][] = [
    ["target", "forecast", rc.target !== null],
    ["warning_within", "forecast", rc.warning_within !== null],
    ["critical_within", "forecast", rc.critical_within !== null],
    ["window", "forecast and anomaly", rc.window !== null],
    ["sensitivity", "anomaly", rc.sensitivity !== 1],
  ];
  for (const [key, types, set] of only) {
    if (set && !types.split(" and ").includes(rc.type)) {
      problems.push(`${key} applies to ${types} rules only, not to ${rc.type} rules`);
    }
  }
}

function thresholdLevels(
  rc: RuleConfig,
  problems: string[],
): Levels | undefined {
  const levels = thresholds(rc, problems);
  return levels && { direction: rc.direction, ...levels };
}

/**
 * A forecast rule judges the seconds left until the target: it raises when they drop to
 * warning_within / critical_within and clears at FORECAST_CLEAR_FACTOR times that.
 */
function forecastLevels(
  rc: RuleConfig,
  problems: string[],
): Levels | undefined {
  const before = problems.length;
  for (const key of ["warning", "critical", "clear_warning", "clear_critical"] as const) {
    if (rc[key] !== null) {
      problems.push(
        `${key} does not apply to forecast rules: set warning_within / critical_within ` +
          "(how soon the target may be reached) and target",
      );
    }
  }
  if (rc.direction !== "above") {
    problems.push(
      "direction below is not supported for forecast rules: they forecast growth towards target " +
        "(forecast the used share instead of the free one)",
    );
  }
  if (rc.warning_within === null && rc.critical_within === null) {
    problems.push("neither warning_within nor critical_within is set: set at least one");
  }
  for (const key of ["warning_within", "critical_within"] as const) {
    const v = rc[key];
    if (v !== null && !(v > 0)) problems.push(`${key} must be a duration above 0s`);
  }
  if (
    rc.warning_within !== null && rc.critical_within !== null &&
    !(rc.critical_within < rc.warning_within)
  ) {
    problems.push(
      `critical_within (${rc.critical_within}s) must be shorter than warning_within ` +
        `(${rc.warning_within}s): critical is the nearer date`,
    );
  }
  if (problems.length > before) return undefined;
  const level = (within: number | null): Level | undefined =>
    within === null ? undefined : { raise: within, clear: within * FORECAST_CLEAR_FACTOR };
  const warning = level(rc.warning_within);
  const critical = level(rc.critical_within);
  return {
    direction: "below",
    ...(warning ? { warning } : {}),
    ...(critical ? { critical } : {}),
  };
}

function forecastSettings(
  rc: RuleConfig,
  def: MetricDef,
  problems: string[],
): { target: number; capacity: number; window: number; minHistory: number } | undefined {
  const before = problems.length;
  if (def.kind === "cumulative") {
    problems.push(
      `metric "${def.name}" counts up since boot; forecast a usage metric (e.g. a _percent one)`,
    );
  }
  const percent = def.unit === "percent";
  const target = rc.target ?? (percent ? 100 : null);
  if (target === null) {
    problems.push(`target is not set: the level of ${def.name} (in ${def.unit}) to forecast`);
  } else if (!(Number.isFinite(target) && target > 0) || (percent && target > 100)) {
    problems.push(
      `target must be ${percent ? "a percentage above 0 and at most 100" : "a number above 0"}, ` +
        `not ${target}`,
    );
  }
  const window = rc.window ?? DEFAULT_FORECAST_WINDOW;
  if (rc.min_history > window) {
    problems.push(
      `min_history (${rc.min_history}s) is longer than window (${window}s): no forecast could ` +
        "ever be made",
    );
  }
  if (problems.length > before || target === null) return undefined;
  return { target, capacity: percent ? 100 : target, window, minHistory: rc.min_history };
}

/** An anomaly rule judges the percentage of flagged minutes: thresholds in percent, above. */
function anomalyLevels(
  rc: RuleConfig,
  problems: string[],
): Levels | undefined {
  const before = problems.length;
  if (rc.direction !== "above") {
    problems.push(
      "direction below is not supported for anomaly rules: they alert when the share of " +
        "flagged minutes is high (the detector itself sees both directions)",
    );
  }
  for (const key of ["warning", "critical", "clear_warning", "clear_critical"] as const) {
    const v = rc[key];
    if (v !== null && !(v > 0 && v <= 100) && !(key.startsWith("clear") && v === 0)) {
      problems.push(`${key} is a percentage of the window's minutes: above 0 and at most 100`);
    }
  }
  const levels = thresholds(rc, problems);
  if (problems.length > before || levels === undefined) return undefined;
  return { direction: "above", ...levels };
}

function metricDef(
  metric: string,
  byName: Map<string, MetricDef>,
  defs: MetricDef[],
  problems: string[],
): MetricDef | undefined {
  if (metric === "") {
    problems.push("metric is not set (a model metric, see docs/metrics.md)");
    return undefined;
  }
  const def = byName.get(metric);
  if (def === undefined) {
    const near = closest(metric, defs.filter((d) => d.kind !== "label").map((d) => d.name));
    problems.push(
      `metric "${metric}" is not a model metric` +
        (near ? ` (did you mean "${near}"?)` : " (see docs/metrics.md)"),
    );
    return undefined;
  }
  if (def.kind === "label") {
    problems.push(
      `metric "${metric}" is a text label, not a number: select on it with match.${metric} ` +
        "and alert on a numeric metric",
    );
    return undefined;
  }
  return def;
}

function regex(key: string, source: string, problems: string[]): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch (err) {
    // V8: "Invalid regular expression: /(/: Unterminated group" → keep the reason only.
    const msg = (err as Error).message;
    problems.push(`${key}: "${source}" is not a valid regular expression: ${reasonOf(msg)}`);
    return undefined;
  }
}

const reasonOf = (msg: string) => msg.slice(msg.lastIndexOf(": ") + 2) || msg;

/** The entity family's string fields (label-kind metrics), which `match` can test. */
function labelFields(scope: EntityFamily, defs: MetricDef[]): string[] {
  return defs.filter((d) => d.scope === scope && d.kind === "label").map((d) => d.name);
}

/** Warning/critical levels with clear defaults, checked for order and hysteresis side. */
function thresholds(
  rc: RuleConfig,
  problems: string[],
): { warning?: Level; critical?: Level } | undefined {
  const before = problems.length;
  // The direction's own word names the bad side: "above" (higher is worse) or "below".
  const dir = rc.direction;
  for (const key of ["warning", "critical", "clear_warning", "clear_critical"] as const) {
    const v = rc[key];
    if (v !== null && !Number.isFinite(v)) problems.push(`${key} must be a number, not ${v}`);
  }
  if (rc.warning === null && rc.critical === null) {
    problems.push("neither warning nor critical is set: set at least one threshold");
  }
  if (rc.warning !== null && rc.critical !== null && !isWorse(dir, rc.critical, rc.warning)) {
    problems.push(
      `critical (${rc.critical}) must be ${dir} warning (${rc.warning}) for direction ${dir}`,
    );
  }
  const levels: { warning?: Level; critical?: Level } = {};
  for (const severity of ["warning", "critical"] as const) {
    const raise = rc[severity];
    const clear = rc[`clear_${severity}`];
    if (raise === null) {
      if (clear !== null) problems.push(`clear_${severity} is set but ${severity} is not`);
      continue;
    }
    if (clear !== null && isWorse(dir, clear, raise)) {
      problems.push(
        `clear_${severity} (${clear}) must not be ${dir} ${severity} (${raise}) ` +
          `for direction ${dir}: an alert clears on the safe side of where it raises`,
      );
    }
    levels[severity] = { raise, clear: clear ?? raise };
  }
  return problems.length > before ? undefined : levels;
}

/** True when `a` is strictly on the bad side of `b`. */
const isWorse = (dir: Direction, a: number, b: number) => dir === "above" ? a > b : a < b;

/** The likeliest meant name: a typo (small edit distance) or a forgotten suffix such as _percent. */
function closest(wanted: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Math.max(2, wanted.length / 3); // further away is no longer a plausible typo
  for (const name of names) {
    // Containing what was typed ranks after a one-letter typo, shortest name first.
    const score = wanted.length >= 3 && name.includes(wanted)
      ? 1.5 + (name.length - wanted.length) / 1000
      : editDistance(wanted, name);
    if (score < bestScore || (score === bestScore && best === undefined)) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}

/** Levenshtein distance (insert, delete, substitute). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j] + 1,
        row[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length];
}

/** Labels that identify an entity, named as node_exporter names them (dashboards join on them). */
const IDENTIFYING_LABELS: Record<EntityFamily, string[]> = {
  filesystems: ["mountpoint", "device", "fstype"],
  disks: ["device"],
  interfaces: ["device"],
  cores: ["cpu"],
};

function entityLabels(scope: EntityFamily, name: string, part: EntityPart): Record<string, string> {
  switch (scope) {
    case "filesystems": {
      const labels: Record<string, string> = { mountpoint: name };
      for (const field of ["device", "fstype"]) {
        const v = part[field];
        if (typeof v === "string") labels[field] = v;
      }
      return labels;
    }
    case "disks":
    case "interfaces":
      return { device: name };
    case "cores":
      // node_exporter's cpu="0" for the kernel's cpu0, as /metrics exposes it.
      return { cpu: name.replace(/^cpu/, "") };
  }
}

const finiteOrNull = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;

/** The series a rule watches in one sample: the scalar, or each matching entity. */
export function observe(rule: RuleBase, sample: Sample): Observation[] {
  if (rule.scope === "metrics") {
    return [{
      rule: rule.name,
      key: rule.name,
      labels: { ...rule.labels },
      value: finiteOrNull(sample.metrics[rule.metric]),
    }];
  }
  const out: Observation[] = [];
  for (const [name, part] of Object.entries(sample[rule.scope] ?? {})) {
    if (rule.entity && !rule.entity.test(name)) continue;
    if (!matchesFields(rule.match, part)) continue;
    out.push({
      rule: rule.name,
      key: `${rule.name}/${name}`,
      entity: name,
      labels: { ...rule.labels, ...entityLabels(rule.scope, name, part) },
      value: finiteOrNull(part[rule.metric]),
    });
  }
  return out;
}

/** Every matcher must match its field; a missing or non-text field fails. */
export function matchesFields(match: Record<string, RegExp>, part: EntityPart): boolean {
  for (const [field, re] of Object.entries(match)) {
    const v = part[field];
    if (typeof v !== "string" || !re.test(v)) return false;
  }
  return true;
}
