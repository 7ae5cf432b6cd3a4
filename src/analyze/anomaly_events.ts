/**
 * Anomaly windows of several series → events: windows of one host that overlap in time (or come
 * within `gapMs` of each other) are one event, listing the metrics involved. A CPU spike, the load
 * that follows it and the disk that stalls meanwhile are then read as one incident, not three.
 * Pure.
 */
import type { AnomalyWindow, DetectorName, Signal } from "./anomaly.ts";

export interface SeriesWindows {
  metric: string;
  /** The entity of a per-entity metric (a core, a disk, an interface, a mount point). */
  entity?: string;
  /** Windows of different hosts never merge; omitted = one host. */
  host?: string;
  windows: AnomalyWindow[];
}

/** One series' part in an event (its windows inside the event taken together). */
export interface EventMetric {
  metric: string;
  entity?: string;
  start: number;
  end: number;
  /** The highest window score of this series in the event. */
  score: number;
  peakAt: number;
  peak: number;
  expected: number;
  signal: Signal;
  detectors: DetectorName[];
}

export interface AnomalyEvent {
  host?: string;
  /** Epoch ms: the earliest window start and the latest window end. */
  start: number;
  end: number;
  /**
   * Combined score: the root sum of squares of the metrics' scores. It equals the score of a
   * lone metric and grows with each further metric that is anomalous at the same time (two at
   * 2.0 give 2.83), so broad incidents rank above narrow ones of the same strength.
   */
  score: number;
  /** Metrics involved, highest score first. */
  metrics: EventMetric[];
}

/**
 * Merges the windows of all series into events, per host, in time order (events of different
 * hosts are interleaved by start time). Windows whose gap is at most `gapMs` join (0 = only
 * overlapping or touching windows).
 */
export function mergeEvents(perSeries: SeriesWindows[], gapMs: number): AnomalyEvent[] {
  if (!(gapMs >= 0)) throw new Error(`event gap must be ≥ 0, got ${gapMs}`);
  const byHost = new Map<string, { series: SeriesWindows; window: AnomalyWindow }[]>();
  for (const series of perSeries) {
    const host = series.host ?? "";
    let list = byHost.get(host);
    if (!list) byHost.set(host, list = []);
    for (const window of series.windows) list.push({ series, window });
  }
  const events: AnomalyEvent[] = [];
  for (const [host, list] of byHost) {
    list.sort((a, b) =>
      a.window.start - b.window.start || a.window.end - b.window.end ||
      seriesName(a.series).localeCompare(seriesName(b.series))
    );
    let group: typeof list = [];
    let groupEnd = -Infinity;
    for (const item of list) {
      if (group.length > 0 && item.window.start > groupEnd + gapMs) {
        events.push(buildEvent(host, group));
        group = [];
      }
      group.push(item);
      groupEnd = Math.max(groupEnd, item.window.end);
    }
    if (group.length > 0) events.push(buildEvent(host, group));
  }
  return events.sort((a, b) => a.start - b.start || (a.host ?? "").localeCompare(b.host ?? ""));
}

function buildEvent(
  host: string,
  group: { series: SeriesWindows; window: AnomalyWindow }[],
): AnomalyEvent {
  const bySeries = new Map<string, EventMetric>();
  for (const { series, window } of group) {
    const key = seriesName(series);
    const known = bySeries.get(key);
    if (!known) {
      bySeries.set(key, {
        metric: series.metric,
        ...(series.entity !== undefined ? { entity: series.entity } : {}),
        start: window.start,
        end: window.end,
        score: window.score,
        peakAt: window.peakAt,
        peak: window.peak,
        expected: window.expected,
        signal: window.signal,
        detectors: [...window.detectors],
      });
      continue;
    }
    known.start = Math.min(known.start, window.start);
    known.end = Math.max(known.end, window.end);
    for (const d of window.detectors) if (!known.detectors.includes(d)) known.detectors.push(d);
    if (window.score > known.score) {
      known.score = window.score;
      known.peakAt = window.peakAt;
      known.peak = window.peak;
      known.expected = window.expected;
      known.signal = window.signal;
    }
  }
  const order: DetectorName[] = ["zscore", "level", "kmeans"];
  const metrics = [...bySeries.values()];
  for (const m of metrics) m.detectors.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  metrics.sort((a, b) => b.score - a.score || seriesName(a).localeCompare(seriesName(b)));
  let sumSq = 0;
  for (const m of metrics) sumSq += m.score * m.score;
  return {
    ...(host !== "" ? { host } : {}),
    start: Math.min(...metrics.map((m) => m.start)),
    end: Math.max(...metrics.map((m) => m.end)),
    score: Math.sqrt(sumSq),
    metrics,
  };
}

function seriesName(s: { metric: string; entity?: string }): string {
  return s.entity === undefined ? s.metric : `${s.metric}[${s.entity}]`;
}
