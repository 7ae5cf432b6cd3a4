/**
 * Colours for `watch` from the alert rules: a value is graded warning or critical when it is past
 * that level's raise threshold of a rule on its metric (and, for per-entity rules, when the rule's
 * entity regex and matchers take the entity), so the screen turns yellow and red exactly where an
 * alert would start. Hysteresis and `for` are the alert engine's business, not the colours'.
 */
import type { EntityFamily, Sample } from "../../core/model.ts";
import { levelOf } from "../../alert/state.ts";
import { matchesFields } from "../../alert/rules.ts";
import type { ThresholdRule } from "../../alert/types.ts";
import type { Grade, Grader } from "./state.ts";

/** A grader over `rules`; `sample` supplies the entity fields (fstype, device, …) matchers test. */
export function createGrader(rules: readonly ThresholdRule[], sample: Sample | null): Grader {
  const byMetric = new Map<string, ThresholdRule[]>();
  for (const rule of rules) {
    const list = byMetric.get(rule.metric) ?? [];
    list.push(rule);
    byMetric.set(rule.metric, list);
  }
  return (metric, value, entity) => {
    if (value === null || !Number.isFinite(value)) return "ok";
    let grade: Grade = "ok";
    for (const rule of byMetric.get(metric) ?? []) {
      if (!takes(rule, entity, sample)) continue;
      const level = levelOf(rule, value, null);
      if (level === "critical") return "critical";
      if (level === "warning") grade = "warning";
    }
    return grade;
  };
}

function takes(rule: ThresholdRule, entity: string | undefined, sample: Sample | null): boolean {
  if (rule.scope === "metrics") return true;
  if (entity === undefined) return false;
  if (rule.entity && !rule.entity.test(entity)) return false;
  if (Object.keys(rule.match).length === 0) return true;
  const part = sample?.[rule.scope as EntityFamily]?.[entity];
  return part !== undefined && matchesFields(rule.match, part);
}
