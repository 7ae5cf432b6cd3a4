/**
 * The summary part of a report from the range's aggregates: min / mean / p95 / max per series, the
 * time each spent past its alert rules' thresholds, the busiest cores, disks and interfaces, and the
 * series worth a chart. Pure: the aggregates come from collect.ts, the rules from the configuration.
 */
import { matchesFields } from "../alert/rules.ts";
import type { ThresholdRule } from "../alert/types.ts";
import { catalog } from "../core/catalog.ts";
import type { EntityPart, MetricDef } from "../core/model.ts";
import type { SeriesAgg } from "../store/rollup.ts";
import { parseSeriesKey } from "../store/series.ts";
import type { SeriesKey } from "../store/types.ts";
import type { ChartSeries, Ranked, SummaryRow, Threshold } from "./model.ts";

/** Metrics that say nothing summarised over time (identities, constants, clocks). */
const NOT_SUMMARISED = new Set([
  "boot_time",
  "cpu_cores_online",
  "memory_total",
  "swap_total",
  "filesystem_size",
  "filesystem_inodes_total",
  "filesystem_readonly",
  "net_speed_bytes_per_second",
  "net_up",
  "net_carrier",
  "net_mtu",
]);

let defs: Map<string, MetricDef> | undefined;
function defOf(metric: string): MetricDef | undefined {
  defs ??= new Map(catalog().map((d) => [d.name, d]));
  return defs.get(metric);
}

/** Whether a series belongs in the summary: rates and gauges, not counters, labels or constants. */
export function summarised(key: SeriesKey): boolean {
  const { metric } = parseSeriesKey(key);
  const def = defOf(metric);
  return def !== undefined && (def.kind === "rate" || def.kind === "gauge") &&
    !NOT_SUMMARISED.has(metric);
}

const finite = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;

export function summaryRows(
  aggs: Map<SeriesKey, SeriesAgg>,
  rules: readonly ThresholdRule[],
  /** Entity fields (fstype, device, …) for rule matchers; from the newest stored sample. */
  entityFields: (family: string, entity: string) => EntityPart | undefined,
  coveredSeconds: number,
): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const [key, agg] of aggs) {
    if (!summarised(key) || agg.count === 0) continue;
    const { metric, entity } = parseSeriesKey(key);
    const def = defOf(metric)!;
    rows.push({
      metric,
      ...(entity !== undefined ? { entity } : {}),
      unit: def.unit,
      min: finite(agg.min),
      mean: finite(agg.avg),
      p95: finite(agg.p95),
      max: finite(agg.max),
      count: agg.count,
      thresholds: thresholdsOf(def, entity, agg, rules, entityFields, coveredSeconds),
    });
  }
  return rows.sort((a, b) =>
    order(a.metric) - order(b.metric) || cmp(a.metric, b.metric) ||
    cmp(a.entity ?? "", b.entity ?? "")
  );
}

function thresholdsOf(
  def: MetricDef,
  entity: string | undefined,
  agg: SeriesAgg,
  rules: readonly ThresholdRule[],
  entityFields: (family: string, entity: string) => EntityPart | undefined,
  coveredSeconds: number,
): Threshold[] {
  const out: Threshold[] = [];
  for (const rule of rules) {
    if (rule.metric !== def.name) continue;
    if (rule.scope !== "metrics") {
      if (entity === undefined) continue;
      if (rule.entity && !rule.entity.test(entity)) continue;
      if (Object.keys(rule.match).length > 0) {
        const fields = entityFields(rule.scope, entity);
        if (!fields || !matchesFields(rule.match, fields)) continue;
      }
    }
    for (const severity of ["warning", "critical"] as const) {
      const level = rule[severity];
      if (!level) continue;
      const above = agg.timeAboveFraction(level.raise);
      if (above === null) continue;
      // A "below" rule (free space) is past its threshold when the value is at or under it.
      const fraction = rule.direction === "above" ? above : Math.max(0, 1 - above);
      out.push({
        severity,
        value: level.raise,
        rule: rule.name,
        seconds: Math.round(fraction * coveredSeconds),
        fraction,
      });
    }
  }
  return out;
}

/** The summary's order: CPU, memory, swap, pressure, load, disks, network, filesystems, the rest. */
const ORDER = [
  "cpu_",
  "core_",
  "memory_",
  "swap_",
  "pressure_",
  "load_",
  "processes_",
  "disk_",
  "net_",
  "filesystem_",
];
function order(metric: string): number {
  const i = ORDER.findIndex((p) => metric.startsWith(p));
  return i < 0 ? ORDER.length : i;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The entities with the highest mean of `metric`, busiest first. */
export function busiest(rows: readonly SummaryRow[], metric: string, n = 5): Ranked[] {
  return rows
    .filter((r) => r.metric === metric && r.entity !== undefined && r.mean !== null)
    .sort((a, b) => (b.mean ?? 0) - (a.mean ?? 0))
    .slice(0, n)
    .map((r) => ({
      entity: r.entity!,
      metric,
      unit: r.unit,
      mean: r.mean,
      p95: r.p95,
      max: r.max,
    }));
}

/** Charts of a report: CPU, memory, swap when used, every filesystem, the busiest disk and link. */
export function chartKeys(rows: readonly SummaryRow[]): { key: SeriesKey; title: string }[] {
  const out: { key: SeriesKey; title: string }[] = [
    { key: "cpu_usage_percent", title: "CPU usage" },
    { key: "memory_usage_percent", title: "Memory used" },
  ];
  const swap = rows.find((r) => r.metric === "swap_usage_percent");
  if (swap && (swap.max ?? 0) > 0) out.push({ key: "swap_usage_percent", title: "Swap used" });
  for (const r of rows.filter((r) => r.metric === "filesystem_usage_percent" && r.entity)) {
    out.push({ key: `filesystem_usage_percent[${r.entity}]`, title: `Filesystem ${r.entity}` });
  }
  const disk = busiest(rows, "disk_util_percent", 1)[0];
  if (disk) {
    out.push({ key: `disk_util_percent[${disk.entity}]`, title: `Disk ${disk.entity} busy` });
  }
  const net = busiest(rows, "net_rx_bytes_per_second", 1)[0];
  if (net) {
    out.push({ key: `net_rx_bytes_per_second[${net.entity}]`, title: `${net.entity} received` });
  }
  return out;
}

/** A chart of one series' bucket means, with its rule thresholds as lines. */
export function chartOf(
  id: SeriesKey,
  title: string,
  values: Float64Array,
  from: number,
  stepMs: number,
  unit: string,
  thresholds: Threshold[],
): ChartSeries {
  const points: [number, number | null][] = [];
  for (let i = 0; i < values.length; i++) {
    points.push([from + i * stepMs, Number.isNaN(values[i]) ? null : values[i]]);
  }
  return {
    id,
    title,
    unit,
    points,
    ...(thresholds.length
      ? {
        thresholds: thresholds.map((t) => ({
          value: t.value,
          label: `${t.rule} ${t.severity}`,
          severity: t.severity,
        })),
      }
      : {}),
  };
}
