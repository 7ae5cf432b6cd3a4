/**
 * Range queries over the file store: picks the coarsest tier whose resolution divides the step,
 * streams its records, and reduces each series per step. Memory holds one step's accumulators.
 */
import { listGroups, type ReadOptions, readRawValues, readRollups } from "./reader.ts";
import { groupOfMetric } from "./groups.ts";
import type { TierName } from "./layout.ts";
import type { RollupRecord, SeriesAgg } from "./rollup.ts";
import { parseSeriesKey } from "./series.ts";
import type { Aggregation, Point, RangeQuery, SeriesKey } from "./types.ts";

/** The tier a query reads: 1h or 1m when the step is a whole multiple of it, else raw. */
export function tierForStep(step: number): TierName {
  if (step >= 3600 && step % 3600 === 0) return "1h";
  if (step >= 60 && step % 60 === 0) return "1m";
  return "raw";
}

/** Accumulates raw values of one series within one step (exact p95: the values are kept). */
class RawAcc {
  min = Infinity;
  max = -Infinity;
  sum = 0;
  count = 0;
  last: number | null = null;
  values: number[] | undefined;

  constructor(keepValues: boolean) {
    if (keepValues) this.values = [];
  }

  add(v: number) {
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
    this.count++;
    this.last = v;
    this.values?.push(v);
  }

  get avg(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  get p95(): number | null {
    return nearestRank(this.values ?? [], 0.95);
  }
}

/** The nearest-rank quantile: the value at rank ceil(q·n) of the sorted values. */
export function nearestRank(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/** What both accumulators (raw values, rollup aggregates) answer. */
interface Reduced {
  count: number;
  min: number;
  max: number;
  last: number | null;
  avg: number | null;
  p95: number | null;
}

function aggResult(a: Reduced, agg: Aggregation): number | null {
  if (a.count === 0) return null;
  switch (agg) {
    case "min":
      return a.min;
    case "max":
      return a.max;
    case "avg":
      return a.avg;
    case "last":
      return a.last;
    case "p95":
      return a.p95;
  }
}

function selector(q: RangeQuery): (key: SeriesKey) => boolean {
  const metrics = q.metrics ? new Set(q.metrics) : undefined;
  return (key) => {
    const { metric, entity } = parseSeriesKey(key);
    if (metrics && !metrics.has(metric)) return false;
    return entity === undefined || !q.entity || q.entity.test(entity);
  };
}

export async function* runQuery(
  dir: string,
  q: RangeQuery,
  opts: ReadOptions = {},
): AsyncGenerator<Point> {
  const wanted = selector(q);
  const keep = new Map<SeriesKey, boolean>();
  const selected = (key: SeriesKey) => {
    let k = keep.get(key);
    if (k === undefined) keep.set(key, k = wanted(key));
    return k;
  };

  if (q.step <= 0) {
    for await (const { time, values } of readRawValues(dir, q.from, q.to, q, opts)) {
      yield { time, values: Object.fromEntries(values) };
    }
    return;
  }

  const stepMs = q.step * 1000;
  const bucketOf = (t: number) => Math.floor(t / stepMs) * stepMs;
  const tier = tierForStep(q.step);

  if (tier === "raw") {
    let bucket: number | undefined;
    let accs = new Map<SeriesKey, RawAcc>();
    const emit = (): Point => {
      const values: Record<SeriesKey, number | null> = {};
      for (const [key, acc] of accs) values[key] = aggResult(acc, q.aggregation);
      return { time: bucket!, values };
    };
    for await (const { time, values } of readRawValues(dir, q.from, q.to, q, opts)) {
      const b = bucketOf(time);
      if (bucket !== undefined && b !== bucket) {
        yield emit();
        accs = new Map();
      }
      bucket = b;
      for (const [key, v] of values) {
        if (v === null) continue;
        let acc = accs.get(key);
        if (!acc) accs.set(key, acc = new RawAcc(q.aggregation === "p95"));
        acc.add(v);
      }
    }
    if (bucket !== undefined) yield emit();
    return;
  }

  const res = tier === "1h" ? 3600_000 : 60_000;
  let bucket: number | undefined;
  let accs = new Map<SeriesKey, SeriesAgg>();
  const emit = (): Point => {
    const values: Record<SeriesKey, number | null> = {};
    for (const [key, acc] of accs) values[key] = aggResult(acc, q.aggregation);
    return { time: bucket!, values };
  };
  const from = Math.floor(q.from / res) * res;
  const present = await listGroups(dir, tier);
  const groups = q.metrics
    ? [...new Set(q.metrics.map(groupOfMetric))].filter((g) => present.includes(g))
    : present;
  const streams = groups.map((g) =>
    readRollups(dir, tier, g, from, q.to, { ...opts, select: selected })
  );
  for await (const rec of mergeByTime(streams)) {
    const b = bucketOf(rec.t);
    if (bucket !== undefined && b !== bucket) {
      yield emit();
      accs = new Map();
    }
    bucket = b;
    for (const [key, agg] of rec.series) {
      const acc = accs.get(key);
      if (acc) acc.merge(agg);
      else accs.set(key, agg);
    }
  }
  if (bucket !== undefined) yield emit();
}

/** Interleaves time-ordered record streams (one per group) into one time-ordered stream. */
async function* mergeByTime(
  streams: AsyncGenerator<RollupRecord>[],
): AsyncGenerator<RollupRecord> {
  const heads: { it: AsyncGenerator<RollupRecord>; rec: RollupRecord }[] = [];
  for (const it of streams) {
    const r = await it.next();
    if (!r.done) heads.push({ it, rec: r.value });
  }
  while (heads.length > 0) {
    let min = 0;
    for (let i = 1; i < heads.length; i++) if (heads[i].rec.t < heads[min].rec.t) min = i;
    const head = heads[min];
    yield head.rec;
    const r = await head.it.next();
    if (r.done) heads.splice(min, 1);
    else head.rec = r.value;
  }
}
