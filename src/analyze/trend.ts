/**
 * Robust trends of one series: Theil–Sen slope with a rank-based confidence interval widened for
 * autocorrelation, daily/weekly seasonality from the autocorrelation of hourly means, sudden jumps,
 * and change points of a piecewise-linear model. Everything works on aggregates (hourly means for
 * long histories), so a month of 10 s samples costs a few milliseconds. Pure functions.
 */
import {
  dropMissing,
  lowerBound,
  mad,
  MAD_TO_SIGMA,
  median,
  nthSmallest,
  quantile,
  resample,
  type Series,
} from "./series.ts";

import { DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS } from "../core/duration.ts";
export { DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS };

/**
 * fitTrend runs Theil–Sen on at most this many points, merging consecutive ones into their means
 * beyond it: all pairs of 256 points are 32 640 slopes, a few milliseconds even unoptimised, and a
 * linear trend's slope survives the averaging.
 */
const MAX_FIT_POINTS = 256;

/** A Theil–Sen line y = pivotY + slope·(x − pivotX), with a confidence interval for the slope. */
export interface SlopeEstimate {
  slope: number;
  /** Bounds of the slope's confidence interval (NaN with fewer than 3 points). */
  low: number;
  high: number;
  /** The line passes through (pivotX, pivotY): the median x and the median of y − slope·(x − pivotX). */
  pivotX: number;
  pivotY: number;
  /** Pairs whose slopes were used: all pairs with distinct x. */
  pairs: number;
}

/**
 * Theil–Sen: the slope is the median of the slopes of all pairs of points, which tolerates up to
 * 29 % of wild points. The confidence interval is Sen's (1968): with N pairs and Kendall's
 * Var(S) = n(n−1)(2n+5)/18, the bounds are the pair slopes of rank (N ∓ z·√Var(S))/2.
 * `varianceInflation` > 1 widens it for autocorrelated data (Var(S) grows by that factor).
 * O(n²) time and memory: beyond a few hundred points, use fitTrend, which merges points first.
 */
export function theilSen(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { confidence?: number; varianceInflation?: number } = {},
): SlopeEstimate {
  const slopes = pairSlopes(x, y);
  const pairs = slopes.length;
  if (pairs === 0) return { slope: NaN, low: NaN, high: NaN, pivotX: NaN, pivotY: NaN, pairs };
  const slope = medianInPlace(slopes);
  const [low, high] = senBounds(slopes, x.length, opts.confidence ?? 0.95, opts.varianceInflation);
  const { pivotX, pivotY } = pivot(x, y, slope);
  return { slope, low, high, pivotX, pivotY, pairs };
}

/** A robust linear trend of a (usually aggregated) series, with the quality of the fit. */
export interface TrendFit {
  /** Growth per day, and the bounds of its confidence interval. */
  slopePerDay: number;
  slopeLowPerDay: number;
  slopeHighPerDay: number;
  confidence: number;
  /** The line passes through (pivotTime, pivotLevel), near the middle of the window. */
  pivotTime: number;
  pivotLevel: number;
  /** 1 − SS(residual)/SS(total) of the robust line, at least 0. */
  r2: number;
  /** Robust standard deviation of the residuals (1.4826·MAD). */
  residualSigma: number;
  /** 95th percentile of the residuals: how far above the line the series regularly goes. */
  residualHigh: number;
  /** Lag-1 autocorrelation of the residuals, which widened the interval. */
  lag1: number;
  /** Points used, and how many independent points they are worth given `lag1`. */
  n: number;
  nEffective: number;
  start: number;
  end: number;
}

/**
 * Theil–Sen trend of a series (NaN values skipped). Beyond MAX_FIT_POINTS points, consecutive ones
 * are merged into their means (time and value) first, and the slope, its interval and the
 * autocorrelation come from the merged points; the level, R² and residual figures from all points.
 * The interval accounts for autocorrelated residuals, usual in metrics, by the AR(1) variance
 * factor (1 + ρ)/(1 − ρ), ρ being the residuals' lag-1 autocorrelation: each point is then worth
 * (1 − ρ)/(1 + ρ) independent ones. Null below 3 points.
 */
export function fitTrend(series: Series, opts: { confidence?: number } = {}): TrendFit | null {
  const clean = dropMissing(series);
  const n = clean.t.length;
  if (n < 3) return null;
  const confidence = opts.confidence ?? 0.95;
  const origin = clean.t[0];
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (clean.t[i] - origin) / DAY_MS;
  const merged = mergeConsecutive(x, clean.v, Math.ceil(n / MAX_FIT_POINTS));
  const slopes = pairSlopes(merged.x, merged.y);
  if (slopes.length === 0) return null;
  const slope = medianInPlace(slopes);
  const { pivotX, pivotY } = pivot(x, clean.v, slope);
  const line = (xi: number) => pivotY + slope * (xi - pivotX);
  const m = merged.x.length;
  const mergedResiduals = merged.y.map((y, i) => y - line(merged.x[i]));
  const rho = Math.max(0, lagCorrelation(mergedResiduals, 1));
  // Cap the factor so at least 3 effective points remain.
  const inflation = Math.min((1 + rho) / Math.max(1e-9, 1 - rho), m / 3);
  const [low, high] = senBounds(slopes, m, confidence, inflation);
  const residuals = clean.v.map((v, i) => v - line(x[i]));
  return {
    slopePerDay: slope,
    slopeLowPerDay: low,
    slopeHighPerDay: high,
    confidence,
    pivotTime: origin + pivotX * DAY_MS,
    pivotLevel: pivotY,
    r2: rSquared(clean.v, residuals),
    residualSigma: MAD_TO_SIGMA * mad(residuals),
    residualHigh: quantile(residuals, 0.95),
    lag1: rho,
    n,
    nEffective: m / inflation,
    start: clean.t[0],
    end: clean.t[n - 1],
  };
}

/** Means of consecutive groups of `size` points (the last group may be smaller). */
function mergeConsecutive(x: Float64Array, y: Float64Array, size: number) {
  if (size <= 1) return { x, y };
  const m = Math.ceil(x.length / size);
  const mx = new Float64Array(m);
  const my = new Float64Array(m);
  for (let g = 0; g < m; g++) {
    const from = g * size;
    const to = Math.min(x.length, from + size);
    let sx = 0;
    let sy = 0;
    for (let i = from; i < to; i++) {
      sx += x[i];
      sy += y[i];
    }
    mx[g] = sx / (to - from);
    my[g] = sy / (to - from);
  }
  return { x: mx, y: my };
}

/** The fitted line's value at `t` (epoch ms), optionally with another slope through the same pivot. */
export function trendAt(fit: TrendFit, t: number, slopePerDay = fit.slopePerDay): number {
  return fit.pivotLevel + (slopePerDay * (t - fit.pivotTime)) / DAY_MS;
}

/** A repeating pattern: the median deviation from the trend per slot of the period. */
export interface Seasonality {
  periodMs: number;
  slotMs: number;
  /** Per slot (slot 0 starts at 00:00 UTC, Thursday for the week as the epoch did), mean 0. */
  profile: Float64Array;
  /** Autocorrelation of the detrended hourly means at one period. */
  acf: number;
  /** Half the profile's range: the swing around the trend. */
  amplitude: number;
}

/**
 * A pattern repeating every `periodMs` (a whole number of hours) in detrended hourly values
 * (`residuals` on a 1 h grid, NaN where missing): needs 3 periods, an autocorrelation at one period
 * of at least 0.3, and at least 0.3 above the one at half a period — which a sine or a nightly job
 * passes, while slow wander (high autocorrelation at every lag) and leftover trends do not.
 */
function seasonFrom(
  t: Float64Array,
  residuals: Float64Array,
  periodMs: number,
): Seasonality | null {
  const lag = Math.round(periodMs / HOUR_MS);
  const n = t.length;
  if (n < 3 * lag) return null;
  const acf = lagCorrelation(residuals, lag);
  const half = lagCorrelation(residuals, Math.round(lag / 2));
  if (!(acf >= 0.3 && acf - half >= 0.3)) return null;
  return withProfile(t, residuals, periodMs, acf);
}

function withProfile(
  t: Float64Array,
  residuals: Float64Array,
  periodMs: number,
  acf: number,
): Seasonality {
  const profile = slotMedians(t, residuals, periodMs, HOUR_MS);
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of profile) {
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  return { periodMs, slotMs: HOUR_MS, profile, acf, amplitude: (hi - lo) / 2 };
}

/** The seasonal deviation at time `t` (0 without a pattern), interpolated between slots. */
export function seasonalOffset(season: Seasonality | null, t: number): number {
  if (!season) return 0;
  // Each slot's value belongs to its middle; in between, interpolate linearly (wrapping around).
  const { profile, periodMs, slotMs } = season;
  const phase = (((t % periodMs) + periodMs) % periodMs) / slotMs - 0.5;
  const below = Math.floor(phase);
  const frac = phase - below;
  const slots = profile.length;
  const a = profile[(below + slots) % slots];
  const b = profile[(below + 1) % slots];
  return a + frac * (b - a);
}

/** The series minus its seasonal pattern. */
export function deseasonalise(series: Series, season: Seasonality | null): Series {
  if (!season) return series;
  const v = new Float64Array(series.v.length);
  for (let i = 0; i < v.length; i++) v[i] = series.v[i] - seasonalOffset(season, series.t[i]);
  return { t: series.t, v };
}

/**
 * The strongest repeating pattern of a series, from its hourly means: weekly when three weeks show
 * one beyond the daily one (its profile then includes the daily shape), else daily when three days
 * show one, else null. The trend is fitted, the pattern measured on what it leaves, and the trend
 * fitted again without the pattern (one round of backfitting): a strong pattern — a sawtooth above
 * all — tilts the first Theil–Sen line, and a tilted line would leak into the profile.
 */
export function detectPattern(series: Series): Seasonality | null {
  const grid = resample(series, HOUR_MS);
  const n = grid.t.length;
  if (n < 3 * 24) return null;
  // Hourly means belong to the middle of their hour (the profile is interpolated between middles).
  const hourly = { t: grid.t.map((t) => t + HOUR_MS / 2), v: grid.v };
  const residuals = detrended(hourly, null);
  const daily = seasonFrom(hourly.t, residuals, DAY_MS);
  if (n < 3 * 24 * 7) return daily && refined(hourly, daily);
  const withoutDaily = residuals.map((r, i) => r - seasonalOffset(daily, hourly.t[i]));
  const weekly = seasonFrom(hourly.t, withoutDaily, WEEK_MS);
  if (!weekly) return daily && refined(hourly, daily);
  return refined(hourly, withProfile(hourly.t, residuals, WEEK_MS, weekly.acf));
}

/** The values minus a Theil–Sen line fitted to them once `season` is taken out. */
function detrended(hourly: Series, season: Seasonality | null): Float64Array {
  const fit = fitTrend(deseasonalise(hourly, season));
  const out = new Float64Array(hourly.t.length).fill(NaN);
  if (!fit) return out;
  for (let i = 0; i < out.length; i++) out[i] = hourly.v[i] - trendAt(fit, hourly.t[i]);
  return out;
}

/** The pattern measured again around the trend fitted without it. */
function refined(hourly: Series, season: Seasonality): Seasonality {
  return withProfile(hourly.t, detrended(hourly, season), season.periodMs, season.acf);
}

/** A sudden change: the values moved by `size` between two consecutive points (or within 3). */
export interface Jump {
  /** Index (in the series given) of the first point after the change, and its time. */
  index: number;
  time: number;
  /** Signed: negative for a drop (log rotation, cleanup). */
  size: number;
}

/**
 * Sudden jumps: runs of L ≤ 3 consecutive differences of one sign, each beyond 2σ, together
 * beyond max(5σ·√L, minSize), σ being the robust (1.4826·MAD) spread of the differences around their
 * median. A steady rise has near-constant differences, so the spread stays small and a reset
 * stands out. Three guards keep noise and wander out: one difference carries at least half the
 * run (a jump split over two buckets passes, a smooth wander does not); the new level holds —
 * the median of the (up to) 6 points after the run differs from that of the 6 before by at least
 * half the jump, so a spike (an outlier, a burst) is no jump; and at least 3 points follow, so the
 * newest points, which nothing confirms yet, make none. NaN values are skipped.
 */
export function findJumps(series: Series, opts: { minSize?: number } = {}): Jump[] {
  const index: number[] = [];
  for (let i = 0; i < series.v.length; i++) if (!Number.isNaN(series.v[i])) index.push(i);
  const m = index.length;
  if (m < 4) return [];
  const y = new Float64Array(m);
  for (let k = 0; k < m; k++) y[k] = series.v[index[k]];
  const diffs = new Float64Array(m - 1);
  for (let k = 1; k < m; k++) diffs[k - 1] = y[k] - y[k - 1];
  const center = median(diffs);
  const sigma = Math.max(MAD_TO_SIGMA * mad(diffs, center), 1e-12 * Math.abs(center), 1e-300);
  const minSize = opts.minSize ?? 0;
  const out: Jump[] = [];
  let k = 0;
  while (k < diffs.length) {
    const d = diffs[k] - center;
    if (Math.abs(d) <= 2 * sigma) {
      k++;
      continue;
    }
    const sign = Math.sign(d);
    let end = k;
    let total = 0;
    let largest = 0;
    while (end < diffs.length && end - k < 3) {
      const e = diffs[end] - center;
      if (Math.sign(e) !== sign || Math.abs(e) <= 2 * sigma) break;
      total += diffs[end];
      largest = Math.max(largest, Math.abs(diffs[end]));
      end++;
    }
    // Points k..end are the run: k is the last before it, end the first after it.
    const holds = m - end >= 3 &&
      sign * (median(y.subarray(end, end + 6)) - median(y.subarray(Math.max(0, k - 5), k + 1))) >=
        0.5 * Math.abs(total);
    const sudden = largest >= Math.abs(total) / 2;
    // A sum of L noise differences spreads √L times wider than one.
    const large = Math.abs(total) >= Math.max(minSize, 5 * sigma * Math.sqrt(end - k));
    if (holds && sudden && large && Math.sign(total) === sign) {
      out.push({ index: index[end], time: series.t[index[end]], size: total });
    }
    k = end;
  }
  return out;
}

/** A change in a piecewise-linear model: a jump in level, a change of slope, or both. */
export interface ChangePoint {
  /** Index (in the series given) of the first point of the new segment, and its time. */
  index: number;
  time: number;
  /** "level" when the jump at the change is larger than the divergence the slope change makes. */
  kind: "level" | "slope";
  /** Each side's line evaluated at the change time. */
  levelBefore: number;
  levelAfter: number;
  slopeBeforePerDay: number;
  slopeAfterPerDay: number;
}

/**
 * Change points of a piecewise-linear model, by binary segmentation on least-squares costs kept in
 * prefix sums (each candidate split costs O(1)). A split of a segment is kept when
 *   (RSS(one line) − RSS(two lines)) / σ² · (1 − ρ)/(1 + ρ)  >  3·ln n
 * (BIC for 3 new parameters; σ² and ρ, the lag-1 autocorrelation, from the two-line residuals, so
 * correlated noise must show more evidence), and the change is material: the level jump or the
 * slope change accumulated over the shorter side is at least 3σ. At most `maxChanges` (5), each
 * segment at least `minSegment` points (max(6, n/20)). Expects aggregates (hourly means), NaN
 * skipped; de-seasonalise first, or a strong daily pattern is absorbed into ρ and hides changes.
 */
export function detectChangePoints(
  series: Series,
  opts: { minSegment?: number; maxChanges?: number } = {},
): ChangePoint[] {
  const index: number[] = [];
  for (let i = 0; i < series.v.length; i++) if (!Number.isNaN(series.v[i])) index.push(i);
  const n = index.length;
  const minSegment = Math.max(3, opts.minSegment ?? Math.max(6, Math.floor(n / 20)));
  const maxChanges = opts.maxChanges ?? 5;
  if (n < 2 * minSegment) return [];
  const origin = series.t[index[0]];
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    x[k] = (series.t[index[k]] - origin) / DAY_MS;
    y[k] = series.v[index[k]];
  }
  const sums = new LineSums(x, y);
  const penalty = 3 * Math.log(n);
  const accepted: { split: number; score: number; change: ChangePoint }[] = [];
  const pending: [number, number][] = [[0, n]];
  while (pending.length > 0 && accepted.length < maxChanges) {
    // Test every pending segment, keep the strongest split, and queue its two halves.
    let best: { split: number; score: number; change: ChangePoint; at: number } | null = null;
    for (let p = 0; p < pending.length; p++) {
      const [a, b] = pending[p];
      const found = bestSplit(sums, x, y, a, b, minSegment, penalty);
      if (found && (!best || found.score > best.score)) best = { ...found, at: p };
      if (!found) pending.splice(p--, 1);
    }
    if (!best) break;
    const [a, b] = pending.splice(best.at, 1)[0];
    pending.push([a, best.split], [best.split, b]);
    best.change.index = index[best.split];
    best.change.time = series.t[index[best.split]];
    accepted.push(best);
  }
  return accepted.map((c) => c.change).sort((p, q) => p.index - q.index);
}

/** Everything the report shows about one series' trend. */
export interface TrendAnalysis {
  /** Step of the aggregates the fits ran on (1 h for two days of history or more). */
  stepMs: number;
  /** Trend over the whole range, and over the segment after the last change point (or the whole). */
  overall: TrendFit | null;
  recent: TrendFit | null;
  seasonality: Seasonality | null;
  changePoints: ChangePoint[];
  jumps: Jump[];
}

/**
 * Trend analysis of a raw series (any step; NaN for missing): aggregated to `aggregateStep` means,
 * seasonality (daily, weekly) detected on hourly means and removed, change points found on what
 * remains, and Theil–Sen fits over the whole range and since the last change point.
 */
export function analyzeTrend(series: Series): TrendAnalysis {
  const span = timeSpan(series);
  const stepMs = aggregateStep(span);
  const agg = aggregate(series, stepMs);
  const seasonality = span >= 3 * DAY_MS ? detectPattern(stepMs === HOUR_MS ? agg : series) : null;
  const adjusted = deseasonalise(agg, seasonality);
  const changePoints = detectChangePoints(adjusted);
  const last = changePoints.at(-1);
  const overall = fitTrend(adjusted);
  let recent = overall;
  if (last) {
    const from = last.index;
    recent = fitTrend({ t: adjusted.t.subarray(from), v: adjusted.v.subarray(from) }) ?? overall;
  }
  return { stepMs, overall, recent, seasonality, changePoints, jumps: findJumps(adjusted) };
}

/**
 * Means per `stepMs` bucket, stamped at the middle of their bucket (the mean of a steady rise over
 * an hour is its value at half past, not on the hour), without empty buckets and without a last one
 * that is barely begun.
 */
export function aggregate(series: Series, stepMs: number): Series {
  const means = dropMissing(resample(completeBuckets(series, stepMs), stepMs));
  for (let i = 0; i < means.t.length; i++) means.t[i] += stepMs / 2;
  return means;
}

/**
 * The series without its last bucket of `stepMs` when the data covers less than half of it: a mean
 * of a few samples is far noisier than the others and would pass for a jump or a change.
 */
export function completeBuckets(series: Series, stepMs: number): Series {
  let last = series.v.length - 1;
  while (last >= 0 && Number.isNaN(series.v[last])) last--;
  if (last < 0) return series;
  const bucketStart = Math.floor(series.t[last] / stepMs) * stepMs;
  if (series.t[last] - bucketStart >= stepMs / 2) return series;
  const cut = lowerBound(series.t, bucketStart);
  return cut > 0 ? { t: series.t.subarray(0, cut), v: series.v.subarray(0, cut) } : series;
}

/** Time from the first to the last non-missing sample (0 with fewer than two). */
export function timeSpan(series: Series): number {
  let first = 0;
  while (first < series.v.length && Number.isNaN(series.v[first])) first++;
  let last = series.v.length - 1;
  while (last > first && Number.isNaN(series.v[last])) last--;
  return last > first ? series.t[last] - series.t[first] : 0;
}

/** Aggregation step for a history of `spanMs`: 1 h from two days on, 5 min from 6 h, else 1 min. */
export function aggregateStep(spanMs: number): number {
  if (spanMs >= 2 * DAY_MS) return HOUR_MS;
  if (spanMs >= 6 * HOUR_MS) return 5 * MINUTE_MS;
  return MINUTE_MS;
}

/**
 * The standard normal quantile (inverse CDF), by Acklam's rational approximation (relative error
 * below 1.2e-9).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269];
  const a4 = -30.66479806614716;
  const a5 = 2.506628277459239;
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972];
  const b4 = -13.28068155288572;
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734];
  const c4 = 4.374664141464968;
  const c5 = 2.938163982698783;
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c4) * q + c5) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a4) * r + a5) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b4) * r + 1);
}

/** Correlation between values `lag` apart (NaN pairs skipped); 0 when undefined. */
export function lagCorrelation(values: ArrayLike<number>, lag: number): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i])) {
      sum += values[i];
      count++;
    }
  }
  if (count < 3 || lag >= values.length) return 0;
  const mean = sum / count;
  let num = 0;
  let den = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - mean;
    if (!Number.isNaN(d)) den += d * d;
    if (i >= lag) {
      const e = values[i - lag] - mean;
      if (!Number.isNaN(d) && !Number.isNaN(e)) num += d * e;
    }
  }
  return den > 0 ? num / den : 0;
}

/** Slopes of all pairs with distinct x. */
function pairSlopes(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const n = x.length;
  const out = new Float64Array((n * (n - 1)) / 2);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    for (let j = i + 1; j < n; j++) {
      const dx = x[j] - xi;
      if (dx !== 0) out[m++] = (y[j] - yi) / dx;
    }
  }
  return out.subarray(0, m);
}

/** The median of the slopes, leaving them partitioned around it (for senBounds). */
function medianInPlace(slopes: Float64Array): number {
  const k = (slopes.length - 1) >> 1;
  const m = nthSmallest(slopes, k);
  if (slopes.length % 2 === 1) return m;
  let next = Infinity;
  for (let i = k + 1; i < slopes.length; i++) if (slopes[i] < next) next = slopes[i];
  return (m + next) / 2;
}

/**
 * Sen's interval as fractions of the pairs — (N ∓ z·√(f·Var S))/(2N) — so it also holds for a random
 * sample of them. Expects `slopes` partitioned around the median by medianInPlace: each bound is
 * then selected within one half. NaN bounds below 3 points.
 */
function senBounds(
  slopes: Float64Array,
  n: number,
  confidence: number,
  inflation = 1,
): [number, number] {
  if (n < 3) return [NaN, NaN];
  const all = (n * (n - 1)) / 2;
  const z = normalQuantile(0.5 + confidence / 2);
  const c = z * Math.sqrt((inflation * n * (n - 1) * (2 * n + 5)) / 18);
  const last = slopes.length - 1;
  const mid = last >> 1;
  const kLow = Math.min(mid, Math.floor((Math.max(0, all - c) / (2 * all)) * last));
  const kHigh = Math.max(mid, Math.ceil((Math.min(2 * all, all + c) / (2 * all)) * last));
  return [nthSmallest(slopes, kLow, 0, mid), nthSmallest(slopes, kHigh, mid, last)];
}

/** The point the line goes through: median x, and the median of y − slope·(x − pivotX). */
function pivot(x: ArrayLike<number>, y: ArrayLike<number>, slope: number) {
  const pivotX = median(x);
  const offsets = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) offsets[i] = y[i] - slope * (x[i] - pivotX);
  return { pivotX, pivotY: median(offsets) };
}

function rSquared(values: ArrayLike<number>, residuals: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i];
  mean /= values.length;
  let total = 0;
  let rest = 0;
  for (let i = 0; i < values.length; i++) {
    total += (values[i] - mean) ** 2;
    rest += residuals[i] ** 2;
  }
  return total > 0 ? Math.max(0, 1 - rest / total) : 0;
}

function slotOf(t: number, periodMs: number, slotMs: number): number {
  const phase = ((t % periodMs) + periodMs) % periodMs;
  return Math.floor(phase / slotMs);
}

/** Median of the values per slot of the period, then centred so the profile averages 0. */
function slotMedians(
  t: ArrayLike<number>,
  values: ArrayLike<number>,
  periodMs: number,
  slotMs: number,
): Float64Array {
  const slots = Math.round(periodMs / slotMs);
  const groups: number[][] = Array.from({ length: slots }, () => []);
  for (let i = 0; i < t.length; i++) {
    if (!Number.isNaN(values[i])) groups[slotOf(t[i], periodMs, slotMs)].push(values[i]);
  }
  const profile = new Float64Array(slots);
  let sum = 0;
  let filled = 0;
  for (let s = 0; s < slots; s++) {
    profile[s] = groups[s].length > 0 ? median(groups[s]) : 0;
    if (groups[s].length > 0) {
      sum += profile[s];
      filled++;
    }
  }
  const mean = filled > 0 ? sum / filled : 0;
  for (let s = 0; s < slots; s++) profile[s] = groups[s].length > 0 ? profile[s] - mean : 0;
  return profile;
}

/** Prefix sums of x, y, x², xy, y² (y centred), so a segment's least-squares line costs O(1). */
class LineSums {
  private readonly sx: Float64Array;
  private readonly sy: Float64Array;
  private readonly sxx: Float64Array;
  private readonly sxy: Float64Array;
  private readonly syy: Float64Array;
  private readonly yMean: number;

  constructor(x: Float64Array, y: Float64Array) {
    const n = x.length;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i];
    this.yMean = mean / n;
    this.sx = new Float64Array(n + 1);
    this.sy = new Float64Array(n + 1);
    this.sxx = new Float64Array(n + 1);
    this.sxy = new Float64Array(n + 1);
    this.syy = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      const yc = y[i] - this.yMean;
      this.sx[i + 1] = this.sx[i] + x[i];
      this.sy[i + 1] = this.sy[i] + yc;
      this.sxx[i + 1] = this.sxx[i] + x[i] * x[i];
      this.sxy[i + 1] = this.sxy[i] + x[i] * yc;
      this.syy[i + 1] = this.syy[i] + yc * yc;
    }
  }

  /** The least-squares line on points [a, b): slope, value at x = 0 (uncentred), and its RSS. */
  line(a: number, b: number): { slope: number; intercept: number; rss: number } {
    const m = b - a;
    const sx = this.sx[b] - this.sx[a];
    const sy = this.sy[b] - this.sy[a];
    const vxx = this.sxx[b] - this.sxx[a] - (sx * sx) / m;
    const vxy = this.sxy[b] - this.sxy[a] - (sx * sy) / m;
    const vyy = this.syy[b] - this.syy[a] - (sy * sy) / m;
    const slope = vxx > 0 ? vxy / vxx : 0;
    const intercept = sy / m - slope * (sx / m) + this.yMean;
    return { slope, intercept, rss: Math.max(0, vyy - slope * vxy) };
  }
}

function bestSplit(
  sums: LineSums,
  x: Float64Array,
  y: Float64Array,
  a: number,
  b: number,
  minSegment: number,
  penalty: number,
): { split: number; score: number; change: ChangePoint } | null {
  if (b - a < 2 * minSegment) return null;
  const whole = sums.line(a, b).rss;
  let split = -1;
  let bestRss = Infinity;
  for (let s = a + minSegment; s <= b - minSegment; s++) {
    const rss = sums.line(a, s).rss + sums.line(s, b).rss;
    if (rss < bestRss) {
      bestRss = rss;
      split = s;
    }
  }
  if (split < 0) return null;
  const left = sums.line(a, split);
  const right = sums.line(split, b);
  const residuals = new Float64Array(b - a);
  for (let i = a; i < b; i++) {
    const side = i < split ? left : right;
    residuals[i - a] = y[i] - (side.intercept + side.slope * x[i]);
  }
  const sigma2 = bestRss / Math.max(1, b - a - 4);
  if (!(sigma2 > 0)) {
    // A noiseless segment: any real gain is a change.
    if (whole - bestRss <= 1e-12 * (whole + 1e-300)) return null;
  }
  const rho = Math.max(0, lagCorrelation(residuals, 1));
  const score = sigma2 > 0 ? ((whole - bestRss) / sigma2) * ((1 - rho) / (1 + rho)) : Infinity;
  if (!(score > penalty)) return null;
  // Materiality: the jump at the split, or the slope change over the shorter side, must exceed 3σ.
  const xs = (x[split - 1] + x[split]) / 2;
  const before = left.intercept + left.slope * xs;
  const after = right.intercept + right.slope * xs;
  const jump = Math.abs(after - before);
  const shorter = Math.min(x[split - 1] - x[a], x[b - 1] - x[split]);
  const divergence = Math.abs(right.slope - left.slope) * shorter;
  const sigma = Math.sqrt(sigma2);
  if (Math.max(jump, divergence) < 3 * sigma) return null;
  return {
    split,
    score,
    change: {
      index: split,
      time: NaN,
      kind: jump >= divergence ? "level" : "slope",
      levelBefore: before,
      levelAfter: after,
      slopeBeforePerDay: left.slope,
      slopeAfterPerDay: right.slope,
    },
  };
}
