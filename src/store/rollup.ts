/**
 * Rollups: per-series aggregates of the raw samples over fixed UTC-aligned buckets (60 s for the 1m
 * tier, 3600 s for 1h), and their one-line JSON encoding.
 *
 * Each bucket keeps min, max, sum, count, last and a LogHistogram (histogram.ts) per series, so a
 * reader can merge buckets into any coarser step and still answer min/max/avg/last exactly (avg up to
 * stored precision) and p95 / time-above-threshold within the histogram's 1 %. p95 is the nearest-rank
 * value (histogram.ts explains the definition).
 *
 * Records of the same bucket written by two runs (a recorder restarted mid-bucket, or one that
 * drained a partial bucket at shutdown) are not rewritten: readers merge them (`mergeRecords`), which
 * is associative and gives the aggregate of the union of the samples.
 */
import { bucketKey, type HistogramSum, LogHistogram, walkTokens } from "./histogram.ts";
import { quantize } from "./series.ts";
import type { SeriesKey } from "./types.ts";

/** Aggregate of one series' values inside one bucket (or a merge of buckets). */
export class SeriesAgg {
  min = Infinity;
  max = -Infinity;
  sum = 0;
  count = 0;
  /** The latest value (NaN while empty). */
  last = NaN;
  hist: LogHistogram;

  /** `hist` may be shared (decodeRecord's held histograms: an empty one no one adds to). */
  constructor(hist = new LogHistogram()) {
    this.hist = hist;
  }

  /** Adds the next value in time order. */
  add(v: number): this {
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
    this.count++;
    this.last = v;
    this.hist.add(v);
    return this;
  }

  /** Adds the samples of `o`, which come after this aggregate's (its `last` wins). In place. */
  merge(o: SeriesAgg): this {
    if (o.count === 0) return this;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.sum += o.sum;
    this.count += o.count;
    this.last = o.last;
    if (o.hist.count > 0) this.hist.merge(o.hist);
    return this;
  }

  /** A new aggregate of the samples of `a` followed by those of `b`; neither is changed. */
  static merged(a: SeriesAgg, b: SeriesAgg): SeriesAgg {
    return a.clone().merge(b);
  }

  clone(): SeriesAgg {
    return new SeriesAgg().merge(this);
  }

  get avg(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  /** Nearest-rank 95th percentile, within 1 % of the exact one and inside [min, max]. */
  get p95(): number | null {
    return this.quantile(0.95);
  }

  quantile(q: number): number | null {
    return this.hist.quantile(q, this.min, this.max);
  }

  /**
   * Share of the samples greater than `x` (0…1), null when empty. Exact when no sample lies within
   * 1 % of `x` (LogHistogram.countAbove); exact at and beyond the extremes.
   */
  timeAboveFraction(x: number): number | null {
    if (this.count === 0) return null;
    if (x < this.min) return 1;
    if (x >= this.max) return 0;
    return this.hist.countAbove(x) / this.count;
  }
}

export interface RollupRecord {
  /** Bucket start, epoch ms (a multiple of the resolution). */
  t: number;
  /** Resolution in seconds. */
  res: number;
  /** Time of the first and the last sample included, epoch ms. */
  from: number;
  to: number;
  /** Samples included (a series' count is lower where its value was null). */
  n: number;
  series: Map<SeriesKey, SeriesAgg>;
}

/**
 * Merges two records of the same bucket into a new one (inputs unchanged). The record whose samples
 * end later supplies each series' `last`.
 */
export function mergeRecords(a: RollupRecord, b: RollupRecord): RollupRecord {
  if (a.t !== b.t || a.res !== b.res) {
    throw new Error(`rollup: cannot merge bucket ${a.t}/${a.res}s with ${b.t}/${b.res}s`);
  }
  const [early, late] = a.to <= b.to ? [a, b] : [b, a];
  const series = new Map<SeriesKey, SeriesAgg>();
  for (const [key, agg] of early.series) series.set(key, agg.clone());
  for (const [key, agg] of late.series) {
    const e = series.get(key);
    series.set(key, e ? e.merge(agg) : agg.clone());
  }
  return {
    t: a.t,
    res: a.res,
    from: Math.min(a.from, b.from),
    to: late.to,
    n: a.n + b.n,
    series,
  };
}

/**
 * Builds rollup records from samples arriving in time order. A bucket is handed out once a sample
 * of a later bucket arrives (`add`) or the clock has passed its end (`completedBy`); `drain` hands out
 * the open, partial one at shutdown. A sample in a bucket already handed out (but still newer than
 * every included sample) opens a second record for that bucket, which readers merge.
 */
export class RollupAggregator {
  readonly resolutionMs: number;
  /** Samples ignored because they were not newer than the last included one. */
  skippedOutOfOrder = 0;
  private open: RollupRecord | undefined;
  private lastTime: number | undefined;

  constructor(readonly resolutionSec: number) {
    if (!Number.isInteger(resolutionSec) || resolutionSec <= 0) {
      throw new RangeError(`rollup: resolution must be a positive whole number of seconds`);
    }
    this.resolutionMs = resolutionSec * 1000;
  }

  /**
   * Adds one sample (epoch ms, values by series; null and non-finite values are skipped) and returns
   * the record this sample's time has moved past, if any. Values are quantized like the raw tier
   * stores them, so rollups agree with the raw data. A sample not newer than the last included one
   * (out of order, or a duplicate) is ignored and counted in `skippedOutOfOrder`.
   */
  add(time: number, values: ReadonlyMap<SeriesKey, number | null>): RollupRecord[] {
    if (!Number.isFinite(time)) throw new RangeError(`rollup: bad sample time ${time}`);
    if (this.lastTime !== undefined && time <= this.lastTime) {
      this.skippedOutOfOrder++;
      return [];
    }
    const t = Math.floor(time / this.resolutionMs) * this.resolutionMs;
    const done: RollupRecord[] = [];
    if (this.open && this.open.t !== t) {
      done.push(this.open);
      this.open = undefined;
    }
    const rec = this.open ??= {
      t,
      res: this.resolutionSec,
      from: time,
      to: time,
      n: 0,
      series: new Map(),
    };
    rec.to = time;
    rec.n++;
    this.lastTime = time;
    for (const [key, v] of values) {
      if (v === null || !Number.isFinite(v)) continue;
      let agg = rec.series.get(key);
      if (!agg) rec.series.set(key, agg = new SeriesAgg());
      agg.add(quantize(v));
    }
    return done;
  }

  /** The open record when its bucket ends at or before `now` (epoch ms). */
  completedBy(now: number): RollupRecord[] {
    if (!this.open || this.open.t + this.resolutionMs > now) return [];
    return this.drain();
  }

  /** The open, possibly partial record (at shutdown). */
  drain(): RollupRecord[] {
    const rec = this.open;
    this.open = undefined;
    return rec ? [rec] : [];
  }

  /** Time of the newest sample included so far. */
  lastIncluded(): number | undefined {
    return this.lastTime;
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoding, one JSON line: {"t":…,"res":60,"from":…,"to":…,"n":6,"keys":["k1","k2",…],"aggs":[a1,a2,…]}.
// Keys and aggregates are two parallel lists rather than one object: the key list is the same line
// after line, which gzip then stores as a few long matches instead of one short match per series.
// Each aggregate is
//   v                  every one of the record's n samples had value v (the common case)
//   [v, count]         the series had value v in `count` (< n) samples
//   [min, dMax, dLast, dSum, …hist]
//                      otherwise, with numbers relative to min so shared leading digits are not
//                      repeated: max = snap(min + dMax), last = snap(min + dLast), where snap keeps 15
//                      significant digits (undoing the addition's float noise), and
//                      sum = count·min + dSum. Each d is the shortest decimal that gives max and
//                      last back exactly and sum within 5e-7 relative (7 significant digits' worth).
//                      min, max and last are samples themselves, so their buckets are left out of
//                      hist (last's only when min < last < max, else it may be the same sample as min
//                      or max); hist is LogHistogram.encodeWithin of the other samples between the
//                      buckets of min and max. count = what the histogram holds.
//   {"min":…,"max":…,"last":…,"sum":…,"hist":[…]}
//                      the same with absolute numbers (sum with quantizeSum), when no short delta
//                      gives a value back: values of more than 15 significant digits (integers from
//                      1e15 up, unquantized fractions) or of opposite signs and far apart magnitudes.
// The aggregator quantizes values on the way in (series.ts), so min, max and last are exactly the
// stored raw values, and avg is their mean within 5e-7 relative (of |sum| / count).
// Measured on a day of 150 synthetic host series at 10 s: the 1m tier takes ~1.25 gzip bytes per
// raw value, the 1h tier ~0.1 (tests/store_rollup_test.ts prints the figures).

/** Relative precision of stored sums. */
const SUM_PRECISION = 5e-7;

/** Absolute sums for the explicit form: 7 significant digits, relative error ≤ 5e-7. */
export function quantizeSum(v: number): number {
  return Number(v.toPrecision(7));
}

function snap(v: number): number {
  return Number(v.toPrecision(15));
}

/** The shortest decimal d with snap(base + d) === target, if there is one. */
function valueDelta(base: number, target: number): number | undefined {
  const exact = target - base;
  for (let p = 1; p <= 17; p++) {
    const d = Number(exact.toPrecision(p));
    if (snap(base + d) === target) return d;
  }
  return undefined;
}

/** The shortest decimal d with base + d within SUM_PRECISION of sum, if there is one. */
function sumDelta(base: number, sum: number): number | undefined {
  const tolerance = SUM_PRECISION * Math.abs(sum);
  const exact = sum - base;
  if (Math.abs(base - sum) <= tolerance) return 0;
  for (let p = 1; p <= 17; p++) {
    const d = Number(exact.toPrecision(p));
    if (Math.abs(base + d - sum) <= tolerance) return d;
  }
  return undefined;
}

type EncodedAgg = number | number[] | {
  min: number;
  max: number;
  last: number;
  sum: number;
  hist: number[];
};

function encodeAgg(a: SeriesAgg, n: number): EncodedAgg {
  if (a.min === a.max) return a.count === n ? a.min : [a.min, a.count];
  const rest = withoutExtremes(a.hist.clone(), a, (h, key) => h.removeKey(key));
  const hist = rest.encodeWithin(bucketKey(a.min), bucketKey(a.max));
  const dMax = valueDelta(a.min, a.max);
  const dLast = valueDelta(a.min, a.last);
  const dSum = sumDelta(a.count * a.min, a.sum);
  if (dMax === undefined || dLast === undefined || dSum === undefined) {
    return { min: a.min, max: a.max, last: a.last, sum: quantizeSum(a.sum), hist };
  }
  return [a.min, dMax, dLast, dSum, ...hist];
}

/** Takes the samples min, max and last (when distinct from both) out of or into `h`. */
function withoutExtremes(
  h: LogHistogram,
  a: { min: number; max: number; last: number },
  op: (h: LogHistogram, key: number) => void,
): LogHistogram {
  op(h, bucketKey(a.min));
  op(h, bucketKey(a.max));
  if (a.min < a.last && a.last < a.max) op(h, bucketKey(a.last));
  return h;
}

/**
 * Per-file state of the key list elision: a line whose series are those of the previous line in
 * the same file leaves out "keys" (they are over half of a line), except every KEYS_EVERY lines so
 * that one damaged line cannot hide the keys for long.
 */
export interface KeysContext {
  keys?: string;
  since?: number;
}

const KEYS_EVERY = 60;

/**
 * One line for a record. Without `ctx` the line is self-contained; with it, "keys" is left out when
 * equal to the previous line's (the writer passes one context per file and resets it with the file).
 */
export function encodeRecord(r: RollupRecord, ctx?: KeysContext): string {
  const keys: SeriesKey[] = [];
  const aggs: EncodedAgg[] = [];
  for (const [key, agg] of r.series) {
    if (agg.count === 0) continue;
    keys.push(key);
    aggs.push(encodeAgg(agg, r.n));
  }
  const keysJson = JSON.stringify(keys);
  let withKeys = true;
  if (ctx) {
    withKeys = ctx.keys !== keysJson || (ctx.since ?? 0) >= KEYS_EVERY;
    ctx.keys = keysJson;
    ctx.since = withKeys ? 1 : (ctx.since ?? 0) + 1;
  }
  return `{"t":${r.t},"res":${r.res},"from":${r.from},"to":${r.to},"n":${r.n}` +
    (withKeys ? `,"keys":${keysJson}` : "") + `,"aggs":${JSON.stringify(aggs)}}`;
}

/** Bucket start and last included sample of a line, without decoding its series. */
export function recordTimes(line: string): { t: number; to: number } {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch (err) {
    fail(`not JSON (${(err as Error).message})`);
  }
  if (typeof o !== "object" || o === null) fail("not a JSON object");
  return { t: num(o, "t"), to: num(o, "to") };
}

function fail(why: string): never {
  throw new Error(`rollup record: ${why}`);
}

function num(o: Record<string, unknown>, field: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isFinite(v)) fail(`"${field}" is not a number`);
  return v;
}

/** A series' histogram held back from its SeriesAgg, for a caller summing them (decodeRecord). */
interface HeldHistogram {
  key: SeriesKey;
  /** encodeWithin tokens from `offset` on, and their key range (absent for a constant series). */
  tokens?: readonly number[];
  offset?: number;
  lo: number;
  hi: number;
  /** Single samples at these bucket keys (the extremes the tokens leave out). */
  extra: number[];
  /** A constant series: `count` samples in bucket `lo`. */
  count: number;
}

/** The hist of every record series whose histogram went to the caller's sum: always empty. */
const HELD = new LogHistogram();

function constantAgg(v: number, count: number, held?: HeldHistogram[], key = ""): SeriesAgg {
  const a = new SeriesAgg(held ? HELD : undefined);
  a.min = a.max = a.last = v;
  a.sum = v * count;
  a.count = count;
  if (held) {
    const k = bucketKey(v);
    held.push({ key, lo: k, hi: k, extra: [], count });
  } else a.hist.add(v, count);
  return a;
}

const isNumber = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** True when every element from `from` on is a finite number (a loop: no callback per element). */
function allNumbers(a: readonly unknown[], from = 0): boolean {
  for (let i = from; i < a.length; i++) if (!isNumber(a[i])) return false;
  return true;
}

// Index access and no closures below: this runs for every series of every record a report reads,
// in an interpreter where destructuring and callbacks allocate.
function decodeAgg(key: string, e: unknown, n: number, held?: HeldHistogram[]): SeriesAgg {
  if (isNumber(e)) return constantAgg(e, n, held, key);
  let min: number, max: number, last: number, tokens: readonly number[];
  let offset = 0;
  let base = 0;
  let dSum = 0;
  let sum = NaN; // the explicit form's stored sum; NaN: count · base + dSum
  if (Array.isArray(e)) {
    if (!allNumbers(e)) fail(`series "${key}" holds something other than numbers`);
    if (e.length === 2) {
      const count = e[1];
      if (!Number.isInteger(count) || count < 1) fail(`series "${key}" has a bad count ${count}`);
      return constantAgg(e[0], count, held, key);
    }
    if (e.length < 4) {
      fail(`series "${key}" has ${e.length} numbers (1, 2, or 4 and more expected)`);
    }
    base = e[0];
    dSum = e[3];
    min = base;
    max = snap(base + e[1]);
    last = snap(base + e[2]);
    tokens = e;
    offset = 4;
  } else if (typeof e === "object" && e !== null) {
    const o = e as Record<string, unknown>;
    if (
      !isNumber(o.min) || !isNumber(o.max) || !isNumber(o.last) || !isNumber(o.sum) ||
      !Array.isArray(o.hist) || !allNumbers(o.hist)
    ) {
      fail(`series "${key}" lacks one of min, max, last, sum (numbers) and hist (a list)`);
    }
    min = o.min;
    max = o.max;
    last = o.last;
    sum = o.sum;
    tokens = o.hist as number[];
  } else {
    fail(`series "${key}" is neither a number, a list nor an object`);
  }
  if (!(min < max && min <= last && last <= max)) {
    fail(`series "${key}" has inconsistent min ${min}, max ${max}, last ${last}`);
  }
  const a = new SeriesAgg(held ? HELD : undefined);
  const lo = bucketKey(min);
  const hi = bucketKey(max);
  if (held) {
    // Checked now, summed by the caller once the whole line has proved good.
    let counted = 0;
    try {
      counted = walkTokens(tokens, lo, hi, undefined, offset);
    } catch (err) {
      fail(`series "${key}": ${(err as Error).message}`);
    }
    const extra = [lo, hi];
    if (min < last && last < max) extra.push(bucketKey(last));
    held.push({ key, tokens, offset, lo, hi, extra, count: 0 });
    a.count = counted + extra.length;
  } else {
    try {
      a.hist = LogHistogram.decodeWithin(offset > 0 ? tokens.slice(offset) : tokens, lo, hi);
    } catch (err) {
      fail(`series "${key}": ${(err as Error).message}`);
    }
    withoutExtremes(a.hist, { min, max, last }, (h, key) => h.addKey(key));
    a.count = a.hist.count;
  }
  a.min = min;
  a.max = max;
  a.last = last;
  a.sum = Number.isNaN(sum) ? a.count * base + dSum : sum;
  return a;
}

/**
 * Parses one line written by `encodeRecord`; throws an Error naming the problem otherwise. With
 * `select`, only the series it accepts are decoded (a query for one metric skips the rest). With
 * `histograms`, each series' histogram is added to the sum it returns for the key and the bucket
 * start (none: not summed) instead of being built in the record (whose `hist`s are then empty):
 * summing a year of records this way creates no histogram per record. Nothing is added from a
 * line that fails.
 */
export function decodeRecord(
  line: string,
  select?: (key: SeriesKey) => boolean,
  ctx?: DecodeContext,
  histograms?: (key: SeriesKey, t: number) => HistogramSum | undefined,
): RollupRecord {
  // Until this line proves good, a following line must not borrow keys from before it.
  const inherited = ctx?.keys;
  if (ctx) ctx.keys = undefined;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (err) {
    fail(`not JSON (${(err as Error).message})`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) fail("not a JSON object");
  const rec = o as Record<string, unknown>;
  const t = num(rec, "t");
  const res = num(rec, "res");
  const from = num(rec, "from");
  const to = num(rec, "to");
  const n = num(rec, "n");
  if (!Number.isInteger(n) || n < 1) fail(`"n" must be a positive whole number, not ${n}`);
  if (!(res > 0) || t % (res * 1000) !== 0) fail(`"t" ${t} is not aligned to ${res} s`);
  if (!(t <= from && from <= to && to < t + res * 1000)) {
    fail(`"from" ${from} / "to" ${to} outside the bucket starting at ${t}`);
  }
  const { aggs } = rec;
  let keys: SeriesKey[];
  if (rec.keys === undefined) {
    if (inherited === undefined) {
      fail(`no "keys", and no earlier line of this file to take them from`);
    }
    keys = inherited; // checked when it was read
  } else {
    const given = rec.keys;
    if (!Array.isArray(given) || !given.every((k) => typeof k === "string")) {
      fail(`"keys" is not a list of strings`);
    }
    if (new Set(given).size !== given.length) {
      const dup = given.find((k, i) => given.indexOf(k) !== i);
      fail(`series "${dup}" appears twice`);
    }
    keys = given;
  }
  if (!Array.isArray(aggs) || aggs.length !== keys.length) {
    fail(`"aggs" is not a list as long as "keys"`);
  }
  // Which positions to decode, worked out once per key list (lines share it while keys are left out).
  let picked = ctx?.picked;
  if (!picked || picked.keys !== keys || picked.select !== select) {
    const idx: number[] = [];
    for (let j = 0; j < keys.length; j++) if (!select || select(keys[j])) idx.push(j);
    picked = { keys, select, idx };
    if (ctx) ctx.picked = picked;
  }
  const series = new Map<SeriesKey, SeriesAgg>();
  const held: HeldHistogram[] | undefined = histograms ? [] : undefined;
  for (const j of picked.idx) {
    const key = keys[j];
    const agg = decodeAgg(key, aggs[j], n, held);
    if (agg.count > n) fail(`series "${key}" has ${agg.count} values in ${n} samples`);
    series.set(key, agg);
  }
  if (held) {
    for (const h of held) {
      const sum = histograms!(h.key, t);
      if (!sum) continue;
      if (h.tokens) sum.addTokens(h.tokens, h.lo, h.hi, h.offset);
      else sum.addKey(h.lo, h.count);
      for (const k of h.extra) sum.addKey(k, 1);
    }
  }
  if (ctx) ctx.keys = keys;
  return { t, res, from, to, n, series };
}

/** What a reader keeps between the lines of one file (see decodeRecord). */
export interface DecodeContext {
  keys?: SeriesKey[];
  picked?: { keys: SeriesKey[]; select?: (key: SeriesKey) => boolean; idx: number[] };
}
