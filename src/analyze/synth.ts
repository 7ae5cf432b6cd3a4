/**
 * A seeded generator of metric series whose truth is known: growth rate, seasonality, log-rotation
 * sawtooth, steps and labelled anomalies. The accuracy tests of the analyses (and docs/analysis.md)
 * are built on it. Pure: the same spec always gives the same series.
 */
import type { Series } from "./series.ts";
import { DAY_MS, WEEK_MS } from "../core/duration.ts";

/**
 * Mulberry32: a small 32-bit-state PRNG, good enough for test noise, returning uniform numbers in
 * [0, 1). Every call advances the state by the Weyl constant and scrambles it.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) | 0;
    let z = Math.imul(state ^ (state >>> 15), 1 | state);
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
    return ((z ^ (z >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/**
 * Standard normal deviates from a uniform source by Marsaglia's polar method: draw a point in the
 * unit disc, keep it when 0 < s < 1, and it yields two independent normals.
 */
export function gaussianSource(uniform: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const out = spare;
      spare = NaN;
      return out;
    }
    for (;;) {
      const x = 2 * uniform() - 1;
      const y = 2 * uniform() - 1;
      const s = x * x + y * y;
      if (s <= 0 || s >= 1) continue;
      const scale = Math.sqrt((-2 * Math.log(s)) / s);
      spare = y * scale;
      return x * scale;
    }
  };
}

export interface SynthSpec {
  /** Epoch ms of the first sample. */
  start: number;
  stepMs: number;
  /** Number of samples. */
  length: number;
  seed: number;
  /** Value at `start` before noise and seasonality (under a sawtooth: just after a reset). */
  base: number;
  /** Standard deviation of the Gaussian noise added to every sample. */
  noise: number;
  /**
   * Slow random wander on top of the white noise: a stationary AR(1) process with marginal standard
   * deviation `sd` and correlation `phi` between consecutive samples (e.g. phi = 0.999 at a 10 s step
   * is a correlation time of about 3 h). Drawn from its own stream, so it leaves the noise unchanged.
   */
  wander?: { sd: number; phi: number };
  /**
   * Linear growth per day. With `sawtooth` it is the rise rate inside one period, of which the
   * fraction `drop` is taken away at each reset.
   */
  slopePerDay?: number;
  /** Sine with a 24 h period, peaking at 15:00 UTC. */
  daily?: { amplitude: number };
  /** Sine with a 7-day period. */
  weekly?: { amplitude: number };
  /**
   * Periodic resets at multiples of `periodMs` since the epoch (log rotation, cleanups): at each one
   * the fraction `drop` of the rise since the previous reset disappears. drop = 1 is a stationary
   * sawtooth between base and base + slopePerDay·period; long-term growth is
   * slopePerDay·(1 − drop). A series starting mid-period starts part-way up the rise.
   */
  sawtooth?: { periodMs: number; drop: number };
  /** Permanent level steps that are part of normal life (a big file written); not anomalies. */
  steps?: { at: number; size: number }[];
  /** Added to samples at..at+width−1; labelled "spike". */
  spikes?: { at: number; size: number; width: number }[];
  /** Permanent level changes from index `at`; labelled "level_shift" at the index it happens. */
  levelShifts?: { at: number; size: number }[];
  /** Noise multiplied by `factor` on at..at+length−1; labelled "variance". */
  varianceChanges?: { at: number; factor: number; length: number }[];
  /** Extra slope from index `at` to the end; labelled "drift" over that range. */
  drift?: { at: number; slopePerDay: number };
  /** Samples set to NaN (missing) on at..at+length−1; not anomalies. */
  gaps?: { at: number; length: number }[];
  /** Every value (noise included) is clamped into [lo, hi], like a percentage. */
  clamp?: [number, number];
}

export interface SynthTruth {
  series: Series;
  /** The series without noise (and without gaps): what an ideal estimator would see. */
  clean: Float64Array;
  anomalies: { start: number; end: number /* indices, inclusive */; kind: string }[];
  /**
   * Long-term growth per day at the end of the series: slopePerDay (times 1 − drop under a
   * sawtooth) plus the drift slope.
   */
  slopePerDay: number;
}

export function synthesize(spec: SynthSpec): SynthTruth {
  const n = spec.length;
  const t = new Float64Array(n);
  const clean = new Float64Array(n);
  const noiseScale = new Float64Array(n).fill(spec.noise);
  const slope = spec.slopePerDay ?? 0;
  const anomalies: SynthTruth["anomalies"] = [];

  for (let i = 0; i < n; i++) {
    const time = spec.start + i * spec.stepMs;
    t[i] = time;
    clean[i] = spec.base + growth(time, spec.start, slope, spec.sawtooth) +
      seasonal(time, spec.daily, spec.weekly);
  }
  for (const step of spec.steps ?? []) addFrom(clean, step.at, n, () => step.size);
  for (const shift of spec.levelShifts ?? []) {
    addFrom(clean, shift.at, n, () => shift.size);
    if (shift.at < n) anomalies.push({ start: shift.at, end: shift.at, kind: "level_shift" });
  }
  if (spec.drift) {
    const { at, slopePerDay } = spec.drift;
    addFrom(clean, at, n, (i) => (slopePerDay * (i - at) * spec.stepMs) / DAY_MS);
    if (at < n) anomalies.push({ start: at, end: n - 1, kind: "drift" });
  }
  for (const spike of spec.spikes ?? []) {
    const end = Math.min(n, spike.at + spike.width);
    addFrom(clean, spike.at, end, () => spike.size);
    if (spike.at < n) anomalies.push({ start: spike.at, end: end - 1, kind: "spike" });
  }
  for (const change of spec.varianceChanges ?? []) {
    const end = Math.min(n, change.at + change.length);
    for (let i = change.at; i < end; i++) noiseScale[i] *= change.factor;
    if (change.at < n) anomalies.push({ start: change.at, end: end - 1, kind: "variance" });
  }

  // Noise draws depend on the seed only, so adding an effect never changes the noise underneath.
  const normal = gaussianSource(mulberry32(spec.seed));
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = clean[i] + noiseScale[i] * normal();
  if (spec.wander) addWander(v, spec.wander, spec.seed);
  if (spec.clamp) {
    const [lo, hi] = spec.clamp;
    for (let i = 0; i < n; i++) {
      v[i] = Math.min(hi, Math.max(lo, v[i]));
      clean[i] = Math.min(hi, Math.max(lo, clean[i]));
    }
  }
  for (const gap of spec.gaps ?? []) v.fill(NaN, gap.at, Math.min(n, gap.at + gap.length));
  anomalies.sort((a, b) => a.start - b.start);

  const kept = spec.sawtooth ? 1 - spec.sawtooth.drop : 1;
  return {
    series: { t, v },
    clean,
    anomalies,
    slopePerDay: slope * kept + (spec.drift && spec.drift.at < n ? spec.drift.slopePerDay : 0),
  };
}

/**
 * Growth since `start`. Under a sawtooth with the last reset at r:
 * slope·(time − r) + (1 − drop)·slope·(r − start) — the current period's rise plus what earlier
 * resets left behind. The phase follows the clock, so a series starting mid-period starts
 * part-way up its rise, as a recording started on a real host would.
 */
function growth(
  time: number,
  start: number,
  slopePerDay: number,
  sawtooth: SynthSpec["sawtooth"],
): number {
  const perMs = slopePerDay / DAY_MS;
  if (!sawtooth) return perMs * (time - start);
  const lastReset = Math.floor(time / sawtooth.periodMs) * sawtooth.periodMs;
  return perMs * (time - lastReset) + (1 - sawtooth.drop) * perMs * (lastReset - start);
}

function seasonal(
  time: number,
  daily: SynthSpec["daily"],
  weekly: SynthSpec["weekly"],
): number {
  let out = 0;
  // Phase shifted by 9 h so the daily peak falls at 15:00 UTC (sin peaks a quarter period in).
  if (daily) out += daily.amplitude * Math.sin((2 * Math.PI * (time - 9 * 3_600_000)) / DAY_MS);
  if (weekly) out += weekly.amplitude * Math.sin((2 * Math.PI * time) / WEEK_MS);
  return out;
}

/** x_i = phi·x_{i−1} + sd·√(1 − phi²)·e_i, started from its stationary distribution. */
function addWander(values: Float64Array, wander: { sd: number; phi: number }, seed: number) {
  const normal = gaussianSource(mulberry32(seed ^ 0x5bd1e995));
  const innovation = wander.sd * Math.sqrt(1 - wander.phi * wander.phi);
  let x = wander.sd * normal();
  for (let i = 0; i < values.length; i++) {
    if (i > 0) x = wander.phi * x + innovation * normal();
    values[i] += x;
  }
}

function addFrom(values: Float64Array, from: number, to: number, delta: (i: number) => number) {
  for (let i = Math.max(0, from); i < to; i++) values[i] += delta(i);
}
