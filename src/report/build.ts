/**
 * Builds the ReportModel of a time range of a data directory: reads the rollups once (collect.ts),
 * then summary, coverage, busiest entities and charts; capacity forecasts and anomaly events when
 * asked (analyses.ts). Everything it cannot compute is left null with a note, never invented.
 */
import type { ThresholdRule } from "../alert/types.ts";
import type { EntityFamily, EntityPart } from "../core/model.ts";
import type { Storage, StoreInfo } from "../store/types.ts";
import { type RangeData, readRange, tierFor } from "./collect.ts";
import { coverageOf } from "./coverage.ts";
import { REPORT_VERSION, type ReportModel } from "./model.ts";
import { busiest, chartKeys, chartOf, summarised, summaryRows } from "./summary.ts";
import type { ReadOptions } from "../store/reader.ts";
import { parseSeriesKey } from "../store/series.ts";
import { analyse, ANALYSED_METRICS, ANOMALY_DAYS, anomalyMetric } from "./analyses.ts";
import { groupOfMetric } from "../store/groups.ts";

export interface BuildOptions {
  dataDir: string;
  store: Storage;
  /** The store's info(), read once by the caller (it lists every file of the store). */
  info: StoreInfo;
  rules: readonly ThresholdRule[];
  from: number;
  to: number;
  capacity: boolean;
  anomalies: boolean;
  online: boolean;
  now: number;
  onProblem?: ReadOptions["onProblem"];
}

export async function buildReport(
  o: BuildOptions,
): Promise<{ model: ReportModel; data: RangeData }> {
  const tier = tierFor(o.to - o.from);
  const keep = (key: string) => {
    const { metric } = parseSeriesKey(key);
    return metric === "boot_time" || ANALYSED_METRICS.has(metric) || chartMetric(metric);
  };
  // Per-bucket min/max only where the anomaly detector reads them: minutes of its metrics.
  const extremes = (key: string) =>
    o.anomalies && tier === "1m" && anomalyMetric(parseSeriesKey(key).metric);
  const data = await readRange(o.dataDir, o.store, tier, { from: o.from, to: o.to }, keep, {
    onProblem: o.onProblem,
    extremes,
  });
  const stepMs = data.resolution * 1000;
  const boot = data.series.get("boot_time");
  const coverage = coverageOf(data.buckets, { from: o.from, to: o.to }, (t) => {
    const v = boot?.[Math.floor((t - data.from) / stepMs)];
    return v === undefined || Number.isNaN(v) ? undefined : v;
  });
  const fields = await entityFields(o.store, o.info, o.to);
  const summary = summaryRows(data.aggs, o.rules, fields, coverage.coveredSeconds);
  const info = o.info;
  const notes: string[] = [];
  if (data.buckets.size === 0) notes.push("no recorded samples in this range");
  const model: ReportModel = {
    version: REPORT_VERSION,
    hosts: info.hosts,
    generatedAt: new Date(o.now).toISOString(),
    range: {
      from: new Date(o.from).toISOString(),
      to: new Date(o.to).toISOString(),
      resolutionSeconds: data.resolution,
      source: o.dataDir,
    },
    coverage,
    summary,
    busiest: {
      cores: busiest(summary, "core_usage_percent"),
      disks: busiest(summary, "disk_util_percent"),
      interfaces: busiest(summary, "net_rx_bytes_per_second"),
    },
    charts: chartKeys(summary).flatMap(({ key, title }) => {
      const values = data.series.get(key);
      if (!values) return [];
      const row = summary.find((r) =>
        r.metric === parseSeriesKey(key).metric && r.entity === parseSeriesKey(key).entity
      );
      return [
        chartOf(key, title, values, data.from, stepMs, row?.unit ?? "", row?.thresholds ?? []),
      ];
    }),
    notes,
  };
  if (o.capacity || o.anomalies) {
    let minutes: RangeData | undefined;
    if (o.anomalies) {
      if (data.tier === "1m") minutes = data;
      else {
        const from = Math.max(o.from, o.to - ANOMALY_DAYS * 86400_000);
        const wanted = (key: string) => anomalyMetric(parseSeriesKey(key).metric);
        const groups = new Set([...ANALYSED_METRICS].filter(anomalyMetric).map(groupOfMetric));
        minutes = await readRange(o.dataDir, o.store, "1m", { from, to: o.to }, wanted, {
          onProblem: o.onProblem,
          groups: (g) => groups.has(g),
          extremes: wanted,
        });
        model.notes.push(
          `anomalies are looked for in the last ${ANOMALY_DAYS} days of the range, at 1-minute ` +
            "resolution (the detector is built for minutes, not hours)",
        );
      }
    }
    analyse(model, data, minutes, {
      capacity: o.capacity,
      anomalies: o.anomalies,
      online: o.online,
      now: Math.min(o.now, o.to),
    });
  }
  return { model, data };
}

function chartMetric(metric: string): boolean {
  return [
    "cpu_usage_percent",
    "memory_usage_percent",
    "swap_usage_percent",
    "filesystem_usage_percent",
    "disk_util_percent",
    "net_rx_bytes_per_second",
  ].includes(metric) && summarised(metric);
}

/** Entity fields (fstype, device, …) from the newest stored sample, for rule matchers. */
async function entityFields(
  store: Storage,
  info: StoreInfo,
  to: number,
): Promise<(family: string, entity: string) => EntityPart | undefined> {
  const raw = info.tiers.find((t) => t.name === "raw");
  let latest: Record<string, Record<string, EntityPart>> = {};
  if (raw?.to !== undefined) {
    const at = Math.min(raw.to, to);
    for await (const s of store.samples(at - 120_000, at + 1)) {
      latest = {
        cores: s.cores,
        disks: s.disks,
        interfaces: s.interfaces,
        filesystems: s.filesystems,
      };
    }
  }
  return (family, entity) => latest[family as EntityFamily]?.[entity];
}
