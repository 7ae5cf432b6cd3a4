/**
 * Reads what a report needs from the rollup tiers of a data directory, in one streamed pass per
 * series group: each series' aggregate over the whole range (exact min/max/mean, p95 and time past
 * a threshold within the histogram's 1 %), the per-bucket means of the series that charts and
 * analyses need, and per bucket the first/last sample time and count (coverage and gaps).
 * Memory holds one Float64Array per kept series, never the samples.
 */
import { listGroups, type ReadOptions, readRollups } from "../store/reader.ts";
import { HistogramSum } from "../store/histogram.ts";
import { SeriesAgg } from "../store/rollup.ts";
import { flattenValues } from "../store/series.ts";
import type { SeriesKey, Storage } from "../store/types.ts";

export type RollupTier = "1m" | "1h";

export interface BucketInfo {
  /** Epoch ms of the first and the last sample in the bucket, and how many there were. */
  from: number;
  to: number;
  n: number;
}

export interface RangeData {
  tier: RollupTier;
  /** Seconds per bucket. */
  resolution: number;
  /** Epoch ms: the first bucket's start (aligned), and the end of the range (exclusive). */
  from: number;
  to: number;
  /** Buckets from `from` on; index i starts at from + i × resolution. */
  bucketCount: number;
  aggs: Map<SeriesKey, SeriesAgg>;
  /** Mean per bucket (NaN where the bucket has no value) of the series `keep` selected. */
  series: Map<SeriesKey, Float64Array>;
  /**
   * Min, max and readings per bucket of the kept series `extremes` selected (anomaly detection
   * sees within buckets).
   */
  extremes: Map<SeriesKey, { min: Float64Array; max: Float64Array; count: Uint32Array }>;
  /** Readings per bucket of every kept series, while reading (emptied at the end). */
  counts: Map<SeriesKey, Uint32Array>;
  /** Buckets that hold samples, by bucket start. */
  buckets: Map<number, BucketInfo>;
}

export const TIER_SECONDS: Record<RollupTier, number> = { "1m": 60, "1h": 3600 };

/**
 * Groups a report reads: cumulative counters (cpu seconds, bytes since boot) are summarised by
 * their rates, so their groups are skipped.
 */
function wanted(group: string): boolean {
  return !group.endsWith("-cumulative");
}

export async function readRange(
  dataDir: string,
  store: Storage,
  tier: RollupTier,
  range: { from: number; to: number },
  keep: (key: SeriesKey) => boolean,
  opts: ReadOptions & {
    groups?: (group: string) => boolean;
    /** Kept series whose per-bucket min/max/count are wanted too (default: all kept ones). */
    extremes?: (key: SeriesKey) => boolean;
  } = {},
): Promise<RangeData> {
  // Asked for every series of every record (a year of hourly records: millions of calls): once
  // per key is enough.
  keep = memoize(keep);
  const wantsExtremes = memoize(opts.extremes ?? (() => true));
  const resolution = TIER_SECONDS[tier];
  const step = resolution * 1000;
  const from = Math.floor(range.from / step) * step;
  const bucketCount = Math.max(0, Math.ceil((range.to - from) / step));
  const data: RangeData = {
    tier,
    resolution,
    from,
    to: range.to,
    bucketCount,
    aggs: new Map(),
    series: new Map(),
    extremes: new Map(),
    counts: new Map(),
    buckets: new Map(),
  };
  const groups = (await listGroups(dataDir, tier)).filter((g) =>
    wanted(g) && (opts.groups?.(g) ?? true)
  );
  // Only the kept series are decoded when a group filter says the caller wants just those.
  const select = opts.groups ? keep : undefined;
  // Each series' histograms are summed densely as they are decoded, not built per record.
  const sums = new Map<SeriesKey, HistogramSum>();
  const histograms = (key: SeriesKey) => {
    let sum = sums.get(key);
    if (!sum) sums.set(key, sum = new HistogramSum());
    return sum;
  };
  for (const group of groups) {
    for await (
      const rec of readRollups(dataDir, tier, group, from, range.to, {
        ...opts,
        select,
        histograms,
      })
    ) {
      const index = Math.floor((rec.t - from) / step);
      if (index < 0 || index >= bucketCount) continue;
      const seen = data.buckets.get(rec.t);
      if (!seen) data.buckets.set(rec.t, { from: rec.from, to: rec.to, n: rec.n });
      else {
        seen.from = Math.min(seen.from, rec.from);
        seen.to = Math.max(seen.to, rec.to);
        seen.n = Math.max(seen.n, rec.n);
      }
      // forEach, not for…of: no [key, agg] array per series and record in the interpreter.
      rec.series.forEach((agg, key) => {
        const total = data.aggs.get(key);
        if (total) total.merge(agg);
        else data.aggs.set(key, agg.clone());
        if (!keep(key) || agg.count === 0) return;
        let values = data.series.get(key);
        if (!values) {
          values = new Float64Array(bucketCount).fill(NaN);
          data.series.set(key, values);
        }
        // Two records of one bucket (a restart mid-bucket) combine by their counts.
        const counts = countsOf(data, key);
        const before = counts[index];
        const prev = values[index];
        values[index] = Number.isNaN(prev)
          ? agg.sum / agg.count
          : (prev * before + agg.sum) / (before + agg.count);
        counts[index] = before + agg.count;
        if (!wantsExtremes(key)) return;
        const ext = extremesOf(data, key);
        ext.min[index] = before ? Math.min(ext.min[index], agg.min) : agg.min;
        ext.max[index] = before ? Math.max(ext.max[index], agg.max) : agg.max;
      });
    }
  }
  for (const [key, sum] of sums) {
    const total = data.aggs.get(key);
    if (total) sum.addTo(total.hist);
  }
  await addRawTail(data, store, keep, wantsExtremes);
  data.counts = new Map();
  return data;
}

/**
 * The samples after the last rollup bucket, from the raw tier: the bucket still open while `record`
 * runs (at most a minute or an hour of samples) would otherwise be missing from a recent range.
 */
async function addRawTail(
  data: RangeData,
  store: Storage,
  keep: (key: SeriesKey) => boolean,
  extremes: (key: SeriesKey) => boolean,
): Promise<void> {
  const step = data.resolution * 1000;
  let tailFrom = data.from;
  for (const [t, b] of data.buckets) tailFrom = Math.max(tailFrom, t + step, b.to + 1);
  if (tailFrom >= data.to) return;
  const fresh = new Map<number, Map<SeriesKey, SeriesAgg>>();
  for await (const sample of store.samples(tailFrom, data.to)) {
    const at = Date.parse(sample.timestamp);
    const bucket = Math.floor((at - data.from) / step) * step + data.from;
    const info = data.buckets.get(bucket);
    if (info) {
      info.from = Math.min(info.from, at);
      info.to = Math.max(info.to, at);
      info.n++;
    } else data.buckets.set(bucket, { from: at, to: at, n: 1 });
    let aggs = fresh.get(bucket);
    if (!aggs) fresh.set(bucket, aggs = new Map());
    for (const [key, v] of flattenValues(sample)) {
      if (v === null || !Number.isFinite(v)) continue;
      let a = aggs.get(key);
      if (!a) aggs.set(key, a = new SeriesAgg());
      a.add(v);
    }
  }
  for (const [bucket, aggs] of fresh) {
    const index = Math.floor((bucket - data.from) / step);
    for (const [key, agg] of aggs) {
      const total = data.aggs.get(key);
      if (total) total.merge(agg);
      else data.aggs.set(key, agg.clone());
      if (!keep(key) || index < 0 || index >= data.bucketCount) continue;
      let values = data.series.get(key);
      if (!values) data.series.set(key, values = new Float64Array(data.bucketCount).fill(NaN));
      values[index] = agg.sum / agg.count;
      countsOf(data, key)[index] = agg.count;
      if (!extremes(key)) continue;
      const ext = extremesOf(data, key);
      ext.min[index] = agg.min;
      ext.max[index] = agg.max;
    }
  }
}

function memoize(test: (key: SeriesKey) => boolean): (key: SeriesKey) => boolean {
  const known = new Map<SeriesKey, boolean>();
  return (key) => {
    let answer = known.get(key);
    if (answer === undefined) known.set(key, answer = test(key));
    return answer;
  };
}

/** Readings per bucket of a kept series: they weigh a bucket read twice, extremes or not. */
function countsOf(data: RangeData, key: SeriesKey): Uint32Array {
  let counts = data.counts.get(key);
  if (!counts) data.counts.set(key, counts = new Uint32Array(data.bucketCount));
  return counts;
}

function extremesOf(data: RangeData, key: SeriesKey) {
  let ext = data.extremes.get(key);
  if (!ext) {
    const n = data.bucketCount;
    ext = {
      min: new Float64Array(n).fill(NaN),
      max: new Float64Array(n).fill(NaN),
      count: countsOf(data, key),
    };
    data.extremes.set(key, ext);
  }
  return ext;
}

/** The tier for a range: minutes up to three days (detail), hours beyond (speed, memory). */
export function tierFor(rangeMs: number): RollupTier {
  return rangeMs <= 3 * 86400_000 ? "1m" : "1h";
}
