/**
 * The daily profile the anomaly baseline subtracts: the typical shape of a day in 5-minute slots,
 * learned from the last ≤ 7 whole days (≥ 3 required).
 *
 * Robustness is the point: the history it learns from holds the very anomalies we look for. A
 * trailing-mean detrend (the textbook way) lets one level shift bias a whole day of deviations.
 * Here, in the spirit of STL (Cleveland et al. 1990) but with medians throughout:
 * 1. trend: a running median over 24 h of hourly means of the deseasonalised data. A median
 *    filter keeps a level shift as a step instead of smearing it, follows a drift or a weekly
 *    cycle, and over a whole day cancels what is left of the daily pattern;
 * 2. seasonal: the detrended data laid out as a table, one row per day and one column per slot
 *    (each cell the mean of its buckets), then Tukey's median polish: alternately take row
 *    medians (each day's level) and column medians (each slot's offset) out. A disturbed day is
 *    outvoted by the others in every column; a spike spoils one cell only.
 * Two rounds (the first with no profile to deseasonalise by) suffice. The column effects, centered
 * on 0 and passed through a running median of 3 slots (less noise, steps kept), are the profile.
 * Pure functions.
 */
import { nthSmallest } from "./series.ts";
import { DAY_MS, HOUR_MS } from "../core/duration.ts";

const POLISH_ROUNDS = 3;
const BACKFIT_ROUNDS = 2;
/** Half-width, in hours, of the trend's running median. */
const TREND_HALF_HOURS = 12;

export interface ProfileShape {
  stepMs: number;
  /** Slot width (a multiple of the step works best). */
  slotMs: number;
  /** Number of slots in a day: ceil(DAY / slotMs). */
  slots: number;
  /** Whole days required (≥ 3 keeps the column medians robust). */
  minDays: number;
  maxDays: number;
}

/**
 * The profile from bucket means `values` (oldest first; bucket 0 starts at `firstStart`), using
 * the last ≤ maxDays whole days. Null with fewer than minDays days or when most slots lack data.
 */
export function dailyProfile(
  values: Float64Array,
  firstStart: number,
  shape: ProfileShape,
): Float64Array | null {
  const { stepMs, slotMs, slots } = shape;
  const period = Math.round(DAY_MS / stepMs);
  const days = Math.min(shape.maxDays, Math.floor(values.length / period));
  if (days < shape.minDays || slots < 2) return null;
  const n = days * period;
  const x = values.subarray(values.length - n);
  const start = firstStart + (values.length - n) * stepMs;
  const slotOf = new Uint16Array(n);
  let timeOfDay = mod(start, DAY_MS);
  for (let j = 0; j < n; j++) {
    slotOf[j] = Math.min(slots - 1, Math.floor(timeOfDay / slotMs));
    timeOfDay += stepMs;
    if (timeOfDay >= DAY_MS) timeOfDay -= DAY_MS;
  }

  let profile: Float64Array | null = new Float64Array(slots);
  const detrended = new Float64Array(n);
  for (let round = 0; round < BACKFIT_ROUNDS; round++) {
    const trend = smoothTrend(x, profile, slotOf, stepMs);
    if (!trend) return null;
    for (let j = 0; j < n; j++) detrended[j] = x[j] - trend[j];
    profile = polish(detrended, slotOf, days, period, slots);
    if (!profile) return null;
  }
  return profile;
}

/**
 * The profile's value at `time`: its slot's, without interpolation. A daily job that starts on the
 * hour keeps its sharp edges (interpolating between slot centers would smear them over a slot and
 * report the job every day); with 5-minute slots a smooth daily curve loses almost nothing.
 */
export function profileAt(profile: Float64Array, time: number, slotMs: number): number {
  return profile[Math.min(profile.length - 1, Math.floor(mod(time, DAY_MS) / slotMs))];
}

/**
 * Per bucket: the running median over 24 h of the hourly means of x − profile, interpolated
 * linearly between hour boundaries. Null when too few hours have data.
 */
function smoothTrend(
  x: Float64Array,
  profile: Float64Array,
  slotOf: Uint16Array,
  stepMs: number,
): Float64Array | null {
  const block = Math.max(1, Math.round(HOUR_MS / stepMs));
  const hours = Math.floor(x.length / block);
  // Hourly means: an hour spoiled by a spike is outvoted by the 24-hour median that follows.
  const hourly = new Float64Array(hours).fill(NaN);
  for (let h = 0; h < hours; h++) {
    let m = 0;
    let sum = 0;
    for (let j = h * block; j < (h + 1) * block; j++) {
      if (Number.isNaN(x[j])) continue;
      sum += x[j] - profile[slotOf[j]];
      m++;
    }
    if (m >= block / 2) hourly[h] = sum / m;
  }
  // Medians over exactly 24 hours (an even window, centered on hour boundaries): over a whole
  // period a symmetric daily pattern cancels exactly; a 25-hour window would count one hour twice.
  const bounds = hours + 1;
  const smooth = new Float64Array(bounds).fill(NaN);
  const win = new Float64Array(2 * TREND_HALF_HOURS);
  let known = 0;
  for (let b = 0; b < bounds; b++) {
    let m = 0;
    const from = Math.max(0, b - TREND_HALF_HOURS);
    const to = Math.min(hours - 1, b + TREND_HALF_HOURS - 1);
    for (let k = from; k <= to; k++) if (!Number.isNaN(hourly[k])) win[m++] = hourly[k];
    if (m > 0) {
      smooth[b] = medianInPlace(win, m);
      known++;
    }
  }
  if (known < bounds / 2) return null;
  fillGaps(smooth);
  const trend = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const pos = (j + 0.5) / block;
    const lo = Math.min(bounds - 2, Math.floor(pos));
    const frac = pos - lo;
    trend[j] = smooth[lo] * (1 - frac) + smooth[lo + 1] * frac;
  }
  return trend;
}

/**
 * Column effects of the days × slots table of cell means, by median polish; centered on 0 and
 * smoothed by a running median of 3.
 */
function polish(
  detrended: Float64Array,
  slotOf: Uint16Array,
  days: number,
  period: number,
  slots: number,
): Float64Array | null {
  const sums = new Float64Array(days * slots);
  const counts = new Uint16Array(days * slots);
  for (let j = 0; j < detrended.length; j++) {
    const v = detrended[j];
    if (Number.isNaN(v)) continue;
    const cell = Math.floor(j / period) * slots + slotOf[j];
    sums[cell] += v;
    counts[cell]++;
  }
  const table = new Float64Array(days * slots);
  for (let c = 0; c < table.length; c++) table[c] = counts[c] > 0 ? sums[c] / counts[c] : NaN;

  const rowEffect = new Float64Array(days);
  const colEffect = new Float64Array(slots);
  const scratch = new Float64Array(Math.max(days, slots));
  for (let round = 0; round < POLISH_ROUNDS; round++) {
    for (let r = 0; r < days; r++) {
      let m = 0;
      for (let s = 0; s < slots; s++) {
        const c = table[r * slots + s] - colEffect[s];
        if (!Number.isNaN(c)) scratch[m++] = c;
      }
      rowEffect[r] = m > 0 ? medianInPlace(scratch, m) : 0;
    }
    for (let s = 0; s < slots; s++) {
      let m = 0;
      for (let r = 0; r < days; r++) {
        const c = table[r * slots + s] - rowEffect[r];
        if (!Number.isNaN(c)) scratch[m++] = c;
      }
      colEffect[s] = m > 0 ? medianInPlace(scratch, m) : NaN;
    }
  }
  let known = 0;
  let sum = 0;
  for (let s = 0; s < slots; s++) {
    if (Number.isNaN(colEffect[s])) continue;
    known++;
    sum += colEffect[s];
  }
  if (known < slots / 2) return null;
  fillGaps(colEffect, true);
  for (let s = 0; s < slots; s++) colEffect[s] -= sum / known;
  return medianOf3(colEffect);
}

/**
 * Running median of 3 neighbouring slots (circular): takes noise out of each slot without
 * rounding off a step — a daily job of two slots or more keeps its edges.
 */
function medianOf3(a: Float64Array): Float64Array {
  const n = a.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a[(i + n - 1) % n];
    const y = a[i];
    const z = a[(i + 1) % n];
    out[i] = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
  }
  return out;
}

/** NaN entries take the nearest known value (around the ends when `circular`). */
function fillGaps(a: Float64Array, circular = false): void {
  const n = a.length;
  const src = a.slice();
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(src[i])) continue;
    for (let r = 1; r < n; r++) {
      const lo = circular ? mod(i - r, n) : i - r;
      const hi = circular ? mod(i + r, n) : i + r;
      const before = lo >= 0 ? src[lo] : NaN;
      const after = hi < n ? src[hi] : NaN;
      if (!Number.isNaN(before) || !Number.isNaN(after)) {
        a[i] = Number.isNaN(before) ? after : before;
        break;
      }
    }
  }
}

/** Median of a[0..n) (finite values), reordering them. */
export function medianInPlace(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const mid = n >> 1;
  const upper = nthSmallest(a, mid, 0, n - 1);
  if (n % 2 === 1) return upper;
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
