/**
 * A log-bucket histogram (DDSketch-like) with relative accuracy ALPHA = 1 %: what the rollups keep so
 * p95 and "time above x" can be answered from a bucket of thousands of samples in a few bytes.
 *
 * Buckets: with GAMMA = (1 + ALPHA) / (1 − ALPHA), a value v > 0 falls in bucket i = ceil(log_GAMMA v),
 * which covers (GAMMA^(i−1), GAMMA^i]. The bucket's representative 2·GAMMA^i / (GAMMA + 1) is within
 * ALPHA relative error of every value in it. Values with |v| < 1e-9 are counted as zero; negative
 * values are mirrored into buckets of their own (by |v|).
 *
 * Quantiles use the nearest-rank definition: the q-quantile of n values is the value at rank
 * ceil(q·n) (1-based) of the sorted values, so p95 of 20 values is the 19th smallest and p95 of up to
 * 19 values is the maximum. Because bucket order follows value order, the bucket holding that rank
 * holds the exact nearest-rank value, and the answer (the representative, optionally clamped into the
 * caller's exact [min, max]) is within 1 % relative error of it.
 *
 * Buckets are identified by one integer "key" that sorts like the values: 0 for zero, KEY_OFFSET + i
 * for positive values, −(KEY_OFFSET + i) for negative ones. The smallest bucket index (|v| = 1e-9) is
 * −1036, so positive keys are ≥ 1 and negative keys ≤ −1.
 */

export const ALPHA = 0.01;
export const GAMMA = (1 + ALPHA) / (1 - ALPHA);
/** Below this magnitude a value counts as zero (a log bucket index would be meaningless). */
export const ZERO_THRESHOLD = 1e-9;

const LN_GAMMA = Math.log(GAMMA);
const KEY_OFFSET = 1100;

/** The bucket key of a finite value (see the module comment). */
export function bucketKey(v: number): number {
  const a = Math.abs(v);
  if (a < ZERO_THRESHOLD) return 0;
  const k = KEY_OFFSET + Math.ceil(Math.log(a) / LN_GAMMA);
  return v > 0 ? k : -k;
}

/** The representative value of a bucket: within ALPHA relative error of all values in it. */
export function bucketValue(key: number): number {
  if (key === 0) return 0;
  const i = Math.abs(key) - KEY_OFFSET;
  const rep = 2 * Math.exp(i * LN_GAMMA) / (GAMMA + 1);
  return key > 0 ? rep : -rep;
}

export class LogHistogram {
  /** Sample count by bucket key. */
  private readonly buckets = new Map<number, number>();
  private total = 0;

  /** Number of samples added. */
  get count(): number {
    return this.total;
  }

  /** Adds `n` samples of value `v`; throws on a non-finite value (a caller bug, never data). */
  add(v: number, n = 1): this {
    if (!Number.isFinite(v)) throw new RangeError(`histogram: not a finite value: ${v}`);
    return this.addKey(bucketKey(v), n);
  }

  /** Adds `n` samples to the bucket with this key. */
  addKey(key: number, n = 1): this {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`histogram: bad count ${n}`);
    this.bump(key, n);
    return this;
  }

  /** addKey for counts already known to be whole and positive (reports merge millions). */
  private bump(key: number, n: number): void {
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + n);
    this.total += n;
  }

  /** Adds every sample of `o` (in place). */
  merge(o: LogHistogram): this {
    // forEach, not for…of: no [key, n] array per bucket in the interpreter sysmon runs in.
    o.buckets.forEach((n, key) => this.bump(key, n));
    return this;
  }

  clone(): LogHistogram {
    return new LogHistogram().merge(this);
  }

  /** [key, count] pairs in value order. */
  entries(): [number, number][] {
    return [...this.buckets].sort((a, b) => a[0] - b[0]);
  }

  /**
   * The nearest-rank q-quantile (see the module comment), or null when empty. Pass the exact `min`
   * and `max` of the samples when known: the lowest and the top rank then return them exactly (so
   * p95 of up to 19 samples is exact), and other ranks are clamped into them, which can only bring
   * the estimate closer.
   */
  quantile(q: number, min?: number, max?: number): number | null {
    if (this.total === 0) return null;
    // q·n can carry float noise (0.07 × 100 = 7.000000000000001); ranks are whole numbers.
    const rank = Math.min(this.total, Math.max(1, Math.ceil(q * this.total - 1e-9)));
    if (rank === 1 && min !== undefined) return min;
    if (rank === this.total && max !== undefined) return max;
    let seen = 0;
    let value = 0;
    for (const [key, n] of this.entries()) {
      seen += n;
      if (seen >= rank) {
        value = bucketValue(key);
        break;
      }
    }
    if (min !== undefined && value < min) value = min;
    if (max !== undefined && value > max) value = max;
    return value;
  }

  /**
   * Samples greater than `x`, decided per bucket: a bucket counts wholly when its representative is
   * above `x`. Exact except for the one bucket that contains `x` itself (values within 1 % of `x`),
   * whose samples may lie on either side of `x`: they are all counted or all not.
   */
  countAbove(x: number): number {
    let above = 0;
    for (const [key, n] of this.buckets) if (bucketValue(key) > x) above += n;
    return above;
  }

  /** Removes `n` samples from the bucket with this key; throws when it holds fewer. */
  removeKey(key: number, n = 1): this {
    const have = this.buckets.get(key) ?? 0;
    if (!Number.isInteger(n) || n < 1 || n > have) {
      throw new RangeError(`histogram: cannot remove ${n} from bucket ${key} holding ${have}`);
    }
    if (have === n) this.buckets.delete(key);
    else this.buckets.set(key, have - n);
    this.total -= n;
    return this;
  }

  /** Compact form: [] when empty, else [smallest key, largest key, ...encodeWithin(them)]. */
  encode(): number[] {
    const entries = this.entries();
    if (entries.length === 0) return [];
    const lo = entries[0][0];
    const hi = entries[entries.length - 1][0];
    return [lo, hi, ...this.encodeWithin(lo, hi)];
  }

  static decode(a: readonly number[]): LogHistogram {
    if (a.length === 0) return new LogHistogram();
    const [lo, hi] = a;
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) {
      throw new Error(`histogram: bad key range ${lo}…${hi}`);
    }
    return LogHistogram.decodeWithin(a.slice(2), lo, hi);
  }

  /**
   * The buckets as integer tokens, given keys `lo` ≤ every bucket's ≤ `hi` (the rollups know both
   * from the exact min and max, so they cost nothing). The count of bucket `lo`, if any, comes first
   * as a negative token; then the other buckets from the top down, each as its key's distance below
   * the previous one (below `hi` for the first, so 0 when it is `hi`), followed by minus its count
   * when that is above 1. Gaps stay small and the long jump from zero to the first positive bucket
   * never appears when the minimum is zero. With lo 0, hi 503: {0: 2, 500: 1, 503: 7} → [-2, 0, -7, 3].
   */
  encodeWithin(lo: number, hi: number): number[] {
    const entries = this.entries();
    const out: number[] = [];
    if (entries.length > 0 && (entries[0][0] < lo || entries[entries.length - 1][0] > hi)) {
      throw new RangeError(`histogram: buckets outside ${lo}…${hi}`);
    }
    if (entries.length > 0 && entries[0][0] === lo) out.push(-entries.shift()![1]);
    let prev = hi;
    for (let j = entries.length - 1; j >= 0; j--) {
      const [key, n] = entries[j];
      out.push(prev - key);
      prev = key;
      if (n > 1) out.push(-n);
    }
    return out;
  }

  /** Inverse of `encodeWithin`; throws on tokens no encoder writes. */
  static decodeWithin(tokens: readonly number[], lo: number, hi: number): LogHistogram {
    const h = new LogHistogram();
    walkTokens(tokens, lo, hi, (key, n) => h.bump(key, n));
    return h;
  }
}

/**
 * Walks `encodeWithin`'s tokens (from `offset` on), calling `bucket(key, n)` per bucket (or only
 * checking them when it is omitted); returns the samples counted. Throws on tokens no encoder
 * writes.
 */
export function walkTokens(
  tokens: readonly number[],
  lo: number,
  hi: number,
  bucket?: (key: number, n: number) => void,
  offset = 0,
): number {
  let total = 0;
  let key = hi;
  let n = 0; // samples of the current bucket; 0 before the first one above lo
  let counted = false; // the current bucket already had its count token
  for (let j = offset; j < tokens.length; j++) {
    const t = tokens[j];
    if (!Number.isSafeInteger(t)) throw new Error(`histogram: bad token ${t}`);
    if (t < 0) {
      if (j === offset) {
        bucket?.(lo, -t);
        total -= t;
        continue;
      }
      if (n === 0 || counted || t === -1) throw new Error(`histogram: misplaced count ${t}`);
      n = -t;
      counted = true;
      continue;
    }
    if (n > 0) {
      if (t === 0) throw new Error("histogram: zero gap between buckets");
      bucket?.(key, n);
      total += n;
    }
    key -= t;
    if (key <= lo) throw new Error(`histogram: bucket ${key} not above ${lo}`);
    n = 1;
    counted = false;
  }
  if (n > 0) {
    bucket?.(key, n);
    total += n;
  }
  return total;
}

/**
 * The sum of many histograms in dense counts over the keys seen (a series' keys cluster within a
 * few hundred): adding is an array increment, where a LogHistogram's Map costs a lookup and a
 * store. What a report merges hundreds of thousands of rollup histograms into.
 */
export class HistogramSum {
  private base = 0;
  private counts = new Float64Array(0);

  addKey(key: number, n: number): void {
    let i = key - this.base;
    if (i < 0 || i >= this.counts.length) {
      this.cover(key);
      i = key - this.base;
    }
    this.counts[i] += n;
  }

  /** Adds the buckets of `encodeWithin` tokens (checked: throws on tokens no encoder writes). */
  addTokens(tokens: readonly number[], lo: number, hi: number, offset = 0): void {
    walkTokens(tokens, lo, hi, (key, n) => this.addKey(key, n), offset);
  }

  /** Adds every bucket into `h`. */
  addTo(h: LogHistogram): void {
    for (let i = 0; i < this.counts.length; i++) {
      if (this.counts[i] > 0) h.addKey(this.base + i, this.counts[i]);
    }
  }

  /** Widens the window to include `key`, with room on both sides for its neighbours. */
  private cover(key: number): void {
    const old = this.counts;
    const lo = old.length === 0 ? key - 64 : Math.min(this.base, key - 64);
    const hi = old.length === 0 ? key + 64 : Math.max(this.base + old.length - 1, key + 64);
    const counts = new Float64Array(hi - lo + 1);
    if (old.length > 0) counts.set(old, this.base - lo);
    this.base = lo;
    this.counts = counts;
  }
}
