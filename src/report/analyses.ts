/**
 * The analysis parts of a report: capacity forecasts (src/analyze/capacity.ts) for filesystems
 * (space and inodes), memory, swap, CPU and network links, and anomaly windows
 * (src/analyze/anomaly.ts) on the main series, merged across series into events. Also the
 * `--input FILE.csv` report of one series. Forecasts and anomaly windows are drawn on the charts.
 */
import {
  type AnomalyWindow,
  type Buckets,
  coarsenBuckets,
  detectAnomalies,
  detectAnomaliesInBuckets,
} from "../analyze/anomaly.ts";
import { mergeEvents as mergeSeriesWindows } from "../analyze/anomaly_events.ts";
import { type CapacityForecast, forecastCapacity, type ResourceKind } from "../analyze/capacity.ts";
import { median, type Series, seriesOf } from "../analyze/series.ts";
import { parseSeriesKey } from "../store/series.ts";
import type { RangeData } from "./collect.ts";
import type { CsvSeries } from "./csv_input.ts";
import type {
  AnomalyEvent,
  CapacityRow,
  ChartSeries,
  Gap,
  ReportModel,
  SummaryRow,
} from "./model.ts";
import { REPORT_VERSION } from "./model.ts";

/** Percent series forecast by --capacity, with the resource each stands for. */
const CAPACITY: Record<string, { resource: CapacityRow["resource"]; kind: ResourceKind }> = {
  filesystem_usage_percent: { resource: "filesystem space", kind: "filesystem" },
  filesystem_inodes_usage_percent: { resource: "filesystem inodes", kind: "inodes" },
  memory_usage_percent: { resource: "memory", kind: "memory" },
  swap_usage_percent: { resource: "swap", kind: "swap" },
  cpu_usage_percent: { resource: "cpu", kind: "cpu" },
  net_rx_utilization_percent: { resource: "network", kind: "network" },
  net_tx_utilization_percent: { resource: "network", kind: "network" },
};

/** Series --anomalies looks at: where an anomaly means something to look into. */
const ANOMALY = new Set([
  "cpu_usage_percent",
  "memory_usage_percent",
  "swap_usage_percent",
  "load_average_1m",
  "disk_util_percent",
  "net_rx_bytes_per_second",
  "net_tx_bytes_per_second",
]);

/** The levels capacity forecasts, in percent. */
export const LEVELS = [80, 90, 100];

/** Metrics whose per-bucket means the analyses need. */
export const ANALYSED_METRICS: ReadonlySet<string> = new Set([
  ...Object.keys(CAPACITY),
  ...ANOMALY,
]);

export interface AnalyseOptions {
  capacity: boolean;
  anomalies: boolean;
  online: boolean;
  now: number;
}

/** The detector's bucket: it is built for minutes, not hours (docs/analysis.md). */
const ANOMALY_STEP_MS = 5 * 60_000;
/** Anomalies are looked for in the last days of a longer range, at 1-minute rollups. */
export const ANOMALY_DAYS = 3;

export function anomalyMetric(metric: string): boolean {
  return ANOMALY.has(metric);
}

/**
 * Adds capacity rows and anomaly events (and their marks on the charts) to `model`. `minutes` is
 * the 1-minute data the anomaly detector reads (the same as `data` for ranges of up to 3 days).
 */
export function analyse(
  model: ReportModel,
  data: RangeData,
  minutes: RangeData | undefined,
  o: AnalyseOptions,
): void {
  const stepMs = data.resolution * 1000;
  const times = Float64Array.from({ length: data.bucketCount }, (_, i) => data.from + i * stepMs);
  const seriesOfKey = (key: string): Series => seriesOf(times, data.series.get(key)!);
  const unitOf = (metric: string) => model.summary.find((r) => r.metric === metric)?.unit ?? "";
  if (o.capacity) {
    model.capacity = [];
    for (const key of [...data.series.keys()].sort()) {
      const { metric, entity } = parseSeriesKey(key);
      const what = CAPACITY[metric];
      if (!what) continue;
      const forecast = forecastCapacity(seriesOfKey(key), {
        capacity: 100,
        thresholds: LEVELS,
        now: o.now,
        kind: what.kind,
      });
      model.capacity.push(capacityRow(what.resource, metric, entity, "percent", forecast));
      addForecast(model.charts, key, forecast, o.now);
    }
  }
  if (o.anomalies && minutes) {
    const found: { key: string; windows: AnomalyWindow[] }[] = [];
    for (const key of [...minutes.series.keys()].sort()) {
      if (!ANOMALY.has(parseSeriesKey(key).metric)) continue;
      const buckets = coarsenBuckets(bucketsOf(minutes, key), ANOMALY_STEP_MS);
      const typical = median(minutes.series.get(key)!);
      const windows = detectAnomaliesInBuckets(buckets, { online: o.online })
        .map((w) => ({ ...w, peak: extremeWithin(minutes, key, w, typical) }));
      if (windows.length) found.push({ key, windows });
    }
    model.anomalies = mergeEvents(found, 2 * stepMs, unitOf);
    for (const { key, windows } of found) {
      const chart = model.charts.find((c) => c.id === key);
      if (chart) chart.anomalies = windows.map((w) => [w.start, w.end]);
    }
  }
}

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

export function capacityRow(
  resource: CapacityRow["resource"],
  metric: string,
  entity: string | undefined,
  unit: string,
  f: CapacityForecast,
): CapacityRow {
  return {
    resource,
    metric,
    ...(entity !== undefined ? { entity } : {}),
    unit,
    current: f.level,
    verdict: f.verdict,
    growthPerDay: f.growth?.perDay ?? null,
    growthCi: f.growth ? [f.growth.lowPerDay, f.growth.highPerDay] : null,
    etas: f.thresholds.map((t) => ({
      threshold: t.percent,
      at: iso(t.eta),
      earliest: iso(t.earliest),
      latest: iso(t.latest),
      ...(t.eta === null || t.reason ? { reason: t.reason } : {}),
    })),
    window: f.window
      ? { from: iso(f.window.start)!, to: iso(f.window.end)!, points: f.window.points }
      : { from: "", to: "", points: 0 },
    fit: { r2: f.fit?.r2 ?? null, residualMad: f.fit?.residualSigma ?? null },
    recommendation: f.recommendation,
  };
}

/** The forecast line and band drawn past now, up to the last date given or a quarter of the past. */
function addForecast(
  charts: ChartSeries[],
  key: string,
  f: CapacityForecast,
  now: number,
  full = 100,
): void {
  const chart = charts.find((c) => c.id === key);
  if (!chart || !f.growth || f.level === null || chart.points.length < 2) return;
  const past = chart.points[chart.points.length - 1][0] - chart.points[0][0];
  const dates = f.thresholds.map((t) => t.eta).filter((t): t is number => t !== null);
  const until = Math.max(now + past / 4, ...dates.map((d) => Math.min(d, now + past)));
  const out: [number, number, number, number][] = [];
  const steps = 20;
  for (let i = 0; i <= steps; i++) {
    const t = now + ((until - now) * i) / steps;
    const days = (t - now) / 86400_000;
    const at = (perDay: number) => Math.min(full, Math.max(0, f.level! + perDay * days));
    out.push([t, at(f.growth.perDay), at(f.growth.lowPerDay), at(f.growth.highPerDay)]);
  }
  chart.forecast = out;
}

/** Windows of several series that overlap (within `gapMs`) become one event naming them all. */
export function mergeEvents(
  found: { key: string; windows: AnomalyWindow[] }[],
  gapMs: number,
  unitOf: (metric: string) => string,
): AnomalyEvent[] {
  const perSeries = found.map(({ key, windows }) => ({ ...parseSeriesKey(key), windows }));
  return mergeSeriesWindows(perSeries, gapMs).map((e) => ({
    from: new Date(e.start).toISOString(),
    to: new Date(e.end).toISOString(),
    score: e.score,
    detectors: [...new Set(e.metrics.flatMap((m) => m.detectors))].sort(),
    series: e.metrics.map((m) => ({
      metric: m.metric,
      ...(m.entity !== undefined ? { entity: m.entity } : {}),
      peak: m.peak,
      unit: unitOf(m.metric),
    })),
  }));
}

export interface InputOptions extends AnalyseOptions {
  source: string;
  /** The value meaning full (100 for a percentage). */
  max: number;
}

/** The report of one `timestamp,value` series (--input). */
export function analyseInput(csv: CsvSeries, o: InputOptions): ReportModel {
  const name = csv.name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(csv.name) ? csv.name : "value";
  const series = seriesOf(csv.t, csv.v);
  const values = csv.v.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const first = csv.t[0];
  const last = csv.t[csv.t.length - 1];
  const summary: SummaryRow = {
    metric: name,
    unit: o.max === 100 ? "percent" : "count",
    min: values[0] ?? null,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
    p95: values.length ? values[Math.max(0, Math.ceil(0.95 * values.length) - 1)] : null,
    max: values[values.length - 1] ?? null,
    count: values.length,
    thresholds: [],
  };
  const gaps = inputGaps(csv.t);
  const points: [number, number | null][] = [];
  for (let i = 0; i < csv.t.length; i++) {
    // A silence in the file breaks the line rather than bridging it.
    if (i > 0 && gaps.some((g) => g.afterIndex === i - 1)) points.push([csv.t[i - 1] + 1, null]);
    points.push([csv.t[i], Number.isFinite(csv.v[i]) ? csv.v[i] : null]);
  }
  const chart: ChartSeries = { id: name, title: name, unit: summary.unit, points };
  const model: ReportModel = {
    version: REPORT_VERSION,
    hosts: [],
    generatedAt: new Date(o.now).toISOString(),
    range: {
      from: new Date(first).toISOString(),
      to: new Date(last).toISOString(),
      resolutionSeconds: 0,
      source: o.source,
    },
    coverage: {
      coveredSeconds: (last - first) / 1000 - gaps.reduce((s, g) => s + g.gap.seconds, 0),
      rangeSeconds: (last - first) / 1000,
      gaps: gaps.map((g) => g.gap),
    },
    summary: [summary],
    busiest: { cores: [], disks: [], interfaces: [] },
    charts: [chart],
    notes: csv.problems.map((p) => `${o.source}: ${p} (left out)`),
  };
  if (o.capacity) {
    // The forecast is "as of" the series' end: a CSV from elsewhere is rarely up to now.
    const f = forecastCapacity(series, { capacity: o.max, thresholds: LEVELS, now: last });
    model.capacity = [capacityRow("series", name, undefined, summary.unit, f)];
    addForecast(model.charts, name, f, last, o.max);
  }
  if (o.anomalies) {
    const windows = detectAnomalies(series, { online: o.online });
    model.anomalies = mergeEvents([{ key: name, windows }], 0, () => summary.unit);
    chart.anomalies = windows.map((w) => [w.start, w.end]);
  }
  return model;
}

/** Silences longer than three typical intervals between the rows of an --input series. */
function inputGaps(t: readonly number[]): { afterIndex: number; gap: Gap }[] {
  if (t.length < 3) return [];
  const spacing = t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b);
  const typical = spacing[Math.floor(spacing.length / 2)];
  const out: { afterIndex: number; gap: Gap }[] = [];
  for (let i = 1; i < t.length; i++) {
    if (t[i] - t[i - 1] <= 3 * typical) continue;
    out.push({
      afterIndex: i - 1,
      gap: {
        from: new Date(t[i - 1]).toISOString(),
        to: new Date(t[i]).toISOString(),
        seconds: Math.round((t[i] - t[i - 1]) / 1000),
        reason: "unknown",
      },
    });
  }
  return out;
}

/** A series' rollup buckets as the detector takes them: mean, min, max and readings per bucket. */
function bucketsOf(data: RangeData, key: string): Buckets {
  const n = data.bucketCount;
  const step = data.resolution * 1000;
  const mean = data.series.get(key)!;
  const ext = data.extremes.get(key)!;
  const index = Int32Array.from({ length: n }, (_, i) => (ext.count[i] > 0 ? i : -1));
  return {
    stepMs: step,
    start: Float64Array.from({ length: n }, (_, i) => data.from + i * step),
    mean,
    min: ext.min,
    max: ext.max,
    count: ext.count,
    first: index,
    last: index,
  };
}

/**
 * The reading in a window that lies furthest from the series' typical level (its median over the
 * range), from the minute rollups' min and max: what a person looks for ("CPU hit 99 %"), where
 * the detector's own peak is the observation at its most confident bucket (which may be a mean
 * after the spike).
 */
function extremeWithin(
  minutes: RangeData,
  key: string,
  w: AnomalyWindow,
  typical: number,
): number {
  const ext = minutes.extremes.get(key);
  if (!ext) return w.peak;
  const step = minutes.resolution * 1000;
  const first = Math.max(0, Math.floor((w.start - minutes.from) / step));
  const last = Math.min(minutes.bucketCount, Math.ceil((w.end - minutes.from) / step));
  let best = w.peak;
  if (!Number.isFinite(typical)) return w.peak;
  let distance = Math.abs(w.peak - typical);
  for (let i = first; i < last; i++) {
    if (ext.count[i] === 0) continue;
    for (const v of [ext.min[i], ext.max[i]]) {
      const d = Math.abs(v - typical);
      if (d > distance) {
        best = v;
        distance = d;
      }
    }
  }
  return best;
}
