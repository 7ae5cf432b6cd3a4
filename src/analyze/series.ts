/**
 * The input of every analysis: one metric over time, as two parallel typed arrays. Also the few
 * helpers every analysis needs — resampling to a fixed step and robust statistics that ignore
 * missing values. Pure functions, no I/O.
 */

/** One series: `t` in epoch ms, ascending; `v` the values, NaN where the sample is missing. */
export interface Series {
  t: Float64Array;
  v: Float64Array;
}

/** Multiply a MAD by this to estimate a normal distribution's standard deviation. */
export const MAD_TO_SIGMA = 1.4826;

/** How the samples inside one resampling bucket are reduced to one value. */
export type BucketReducer = "mean" | "max" | "min";

/** A series from plain arrays (handy in tests and adapters); `null` becomes NaN. */
export function seriesOf(t: ArrayLike<number>, v: ArrayLike<number | null>): Series {
  if (t.length !== v.length) throw new Error(`t and v differ in length (${t.length}, ${v.length})`);
  const values = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) values[i] = v[i] ?? NaN;
  return { t: Float64Array.from(t), v: values };
}

/**
 * The series on a fixed grid of `stepMs`: bucket k covers [start + k·step, start + (k+1)·step) and is
 * stamped with its start. Buckets are aligned to multiples of `stepMs` since the epoch (so hourly
 * buckets start on the hour, daily ones at 00:00 UTC). Each bucket holds the mean (or max, min) of
 * its non-missing samples, NaN when it has none. Empty input gives an empty series. O(n).
 */
export function resample(series: Series, stepMs: number, reducer: BucketReducer = "mean"): Series {
  if (!(stepMs > 0)) throw new Error(`resample step must be positive, got ${stepMs}`);
  const n = series.t.length;
  if (n === 0) return { t: new Float64Array(0), v: new Float64Array(0) };
  const first = Math.floor(series.t[0] / stepMs) * stepMs;
  const buckets = Math.floor((series.t[n - 1] - first) / stepMs) + 1;
  const t = new Float64Array(buckets);
  for (let k = 0; k < buckets; k++) t[k] = first + k * stepMs;
  const acc = new Float64Array(buckets).fill(NaN);
  // Times ascend, so walk the bucket boundaries instead of dividing for every sample.
  let k = 0;
  let end = first + stepMs;
  let sum = 0;
  let count = 0;
  let best = NaN;
  const isMean = reducer === "mean";
  const isMax = reducer === "max";
  for (let i = 0; i < n; i++) {
    const time = series.t[i];
    if (time >= end) {
      if (count > 0) acc[k] = isMean ? sum / count : best;
      k = Math.floor((time - first) / stepMs);
      end = first + (k + 1) * stepMs;
      sum = 0;
      count = 0;
    }
    const x = series.v[i];
    if (x !== x) continue; // NaN: missing
    if (isMean) sum += x;
    else if (count === 0 || (isMax ? x > best : x < best)) best = x;
    count++;
  }
  if (count > 0) acc[k] = isMean ? sum / count : best;
  return { t, v: acc };
}

/** The samples with `from <= t < to`, sharing no memory with the input. */
export function sliceTime(series: Series, from: number, to: number): Series {
  const lo = lowerBound(series.t, from);
  const hi = lowerBound(series.t, to);
  return { t: series.t.slice(lo, hi), v: series.v.slice(lo, hi) };
}

/** The series without its missing samples. */
export function dropMissing(series: Series): Series {
  let n = 0;
  for (let i = 0; i < series.v.length; i++) if (!Number.isNaN(series.v[i])) n++;
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0, j = 0; i < series.v.length; i++) {
    if (Number.isNaN(series.v[i])) continue;
    t[j] = series.t[i];
    v[j++] = series.v[i];
  }
  return { t, v };
}

/** The non-missing values as a fresh array (safe to reorder). */
export function finiteValues(values: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) n++;
  const out = new Float64Array(n);
  for (let i = 0, j = 0; i < values.length; i++) if (!Number.isNaN(values[i])) out[j++] = values[i];
  return out;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of the non-missing values, interpolating linearly between order
 * statistics (the "type 7" definition of R and NumPy). NaN when there is no value. O(n) on average
 * (selection, not a full sort).
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile must be within [0, 1], got ${q}`);
  const a = finiteValues(values);
  if (a.length === 0) return NaN;
  const pos = q * (a.length - 1);
  const lo = Math.floor(pos);
  const low = nthSmallest(a, lo);
  if (pos === lo) return low;
  // After selecting `lo`, everything right of it is >= a[lo]: the next order statistic is their min.
  let high = Infinity;
  for (let i = lo + 1; i < a.length; i++) if (a[i] < high) high = a[i];
  return low + (pos - lo) * (high - low);
}

/** The median of the non-missing values; NaN when there is none. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/**
 * Median absolute deviation from `center` (the median by default), unscaled: multiply by
 * MAD_TO_SIGMA for a standard-deviation estimate that a few outliers cannot move.
 */
export function mad(values: ArrayLike<number>, center = median(values)): number {
  const a = finiteValues(values);
  for (let i = 0; i < a.length; i++) a[i] = Math.abs(a[i] - center);
  return median(a);
}

/** First index with `sorted[i] >= x` (sorted.length when none). */
export function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The k-th smallest (0-based) of a[from..to] (inclusive; no NaN), found in place by Hoare's
 * selection: afterwards a[k] holds it, with smaller-or-equal values left of it and greater-or-equal
 * ones right of it, so further order statistics can be selected within either side. Median-of-three
 * pivots keep sorted input linear. O(to − from) on average.
 */
export function nthSmallest(a: Float64Array, k: number, from = 0, to = a.length - 1): number {
  if (!(k >= from && k <= to)) throw new Error(`order statistic ${k} outside [${from}, ${to}]`);
  let lo = from;
  let hi = to;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const x = a[i];
  a[i] = a[j];
  a[j] = x;
}
