/**
 * Rollup series are stored in groups, one directory each, so that a query for one metric reads a
 * fraction of the data: the scalars of each collector family (cpu, loadavg, meminfo, pressure) and
 * each entity section (cores, disks, interfaces, filesystems), split by kind (rate, gauge,
 * cumulative), e.g. cpu-rate, meminfo-gauge, disks-cumulative. Unknown metrics go to "other".
 */
import { ALL_FAMILIES } from "../collect/index.ts";
import { joinedDefs } from "../core/join.ts";
import type { MetricDef } from "../core/model.ts";
import { parseSeriesKey } from "./series.ts";
import type { SeriesKey } from "./types.ts";

let groups: Map<string, string> | undefined;

function table(): Map<string, string> {
  if (groups) return groups;
  groups = new Map();
  const name = (d: MetricDef, family: string) =>
    `${d.scope === "metrics" ? family : d.scope}-${d.kind}`;
  for (const family of ALL_FAMILIES) {
    for (const d of family.defs) groups.set(d.name, name(d, family.name));
  }
  for (const d of joinedDefs) groups.set(d.name, name(d, "other"));
  return groups;
}

export function groupOfMetric(metric: string): string {
  return table().get(metric) ?? "other-gauge";
}

export function groupOfKey(key: SeriesKey): string {
  return groupOfMetric(parseSeriesKey(key).metric);
}

/** A group name is a plain directory name. */
export const GROUP_NAME = /^[a-z][a-z0-9_-]*$/;
