/**
 * Anomaly detection for `report --anomalies`: per-series baseline, a robust statistical detector,
 * a long-horizon level detector and a k-means model, combined by consensus (see anomaly_engine.ts
 * for the statistics), reported as windows of time rather than single noisy points.
 *
 * The input is aggregated first, keeping each bucket's mean, min and max: 1-minute buckets for up
 * to a week of data, coarser ones beyond so a series stays near 10 000 buckets (30 days of 10 s
 * samples, 259 200 points, become 8 640 five-minute buckets). A one-sample spike still shows in
 * its bucket's max. Buckets are aligned to multiples of the step since the epoch, so cutting the
 * input never changes an earlier complete bucket.
 *
 * Two modes:
 * - online (`online: true`): each bucket is judged only from itself and the buckets before it,
 *   exactly what `OnlineAnomalyScorer` does for alerts. The first hours are never judged.
 * - offline (default): the same causal detector, but it starts with a model learned beforehand
 *   (a daily profile from the first ≤ 7 days, scales and clusters from a pass over the first 2)
 *   that stands in while the real run's own history is still too short. Later buckets are
 *   judged exactly as online.
 *
 * Windows: anomalous buckets closer than `mergeGapMs` (15 minutes by default) form one window. Its
 * score is the highest severity inside: the second-highest detector score, ≥ 1 by construction,
 * read like "two detectors agree at N times their threshold".
 */
import {
  AnomalyEngine,
  type Bucket,
  type DetectorName,
  DETECTORS,
  PRIOR_DAYS,
  type Signal,
} from "./anomaly_engine.ts";
import { dailyProfile } from "./anomaly_season.ts";
import type { Series } from "./series.ts";
import { DAY_MS } from "../core/duration.ts";

export type { DetectorName, Signal } from "./anomaly_engine.ts";

/** Anomalous buckets this close join one window (at least 3 steps). */
const DEFAULT_MERGE_GAP_MS = 15 * 60_000;

export interface AnomalyOptions {
  /** Judge each bucket from earlier data only (what alerts use). Default false. */
  online?: boolean;
  /** Aggregation step; default 1 minute up to a week of data, coarser beyond (defaultStepMs). */
  stepMs?: number;
  /** Multiplies every detector score: 2 flags at half the deviation. Default 1. */
  sensitivity?: number;
  /** Seed of the k-means initialisation. Default 1. */
  seed?: number;
  /** Anomalous buckets at most this far apart join one window. Default 15 min (≥ 3 steps). */
  mergeGapMs?: number;
}

export interface AnomalyWindow {
  /** Epoch ms: the first anomalous bucket's start and the last one's end (exclusive). */
  start: number;
  end: number;
  /** Input indices of the first and last raw sample inside the window (inclusive). */
  startIndex: number;
  endIndex: number;
  /** Highest severity inside (≥ 1): two detectors agreed at this multiple of their thresholds. */
  score: number;
  /** Epoch ms of the bucket with that severity. */
  peakAt: number;
  /** The observation there that deviated most (the bucket's mean, max or min). */
  peak: number;
  /** The baseline the detector expected for that bucket's mean. */
  expected: number;
  /** Detectors that passed their threshold in the window's anomalous buckets. */
  detectors: DetectorName[];
  /** The feature that stood out most at the peak: value, shift, variance, max, min, range, level. */
  signal: Signal;
  /** Online only: the input ended inside this window, so it may still grow. */
  open: boolean;
}

/** Per-bucket scores, for charts and for tests. */
export interface AnomalyScores {
  stepMs: number;
  /** Bucket starts (epoch ms). */
  t: Float64Array;
  /** Second-highest detector score per bucket; 0 where not judged. */
  severity: Float64Array;
  zscore: Float64Array;
  level: Float64Array;
  kmeans: Float64Array;
  expected: Float64Array;
  observed: Float64Array;
  anomalous: Uint8Array;
  judged: Uint8Array;
  signal: Signal[];
  /** Input index range of each bucket's raw samples (-1 for empty buckets). */
  firstIndex: Int32Array;
  lastIndex: Int32Array;
}

/** Anomaly windows of one series (sorted by time). */
export function detectAnomalies(series: Series, options: AnomalyOptions = {}): AnomalyWindow[] {
  return detectAnomaliesInBuckets(
    aggregate(series, options.stepMs ?? defaultStepMs(series)),
    options,
  );
}

/**
 * The same from buckets already aggregated, e.g. the store's 1-minute rollups (min, max,
 * sum/count) merged to the step wanted with `coarsenBuckets`: no raw samples need reading.
 * Window indices are then the buckets' own `first`/`last`.
 */
export function detectAnomaliesInBuckets(
  buckets: Buckets,
  options: Omit<AnomalyOptions, "stepMs"> = {},
): AnomalyWindow[] {
  const scores = scoreBuckets(buckets, options);
  const gap = options.mergeGapMs ?? Math.max(DEFAULT_MERGE_GAP_MS, 3 * scores.stepMs);
  return windowsFromScores(scores, gap, options.online === true);
}

/** Runs the detector over a series and returns its verdict on every bucket. */
export function scoreAnomalies(series: Series, options: AnomalyOptions = {}): AnomalyScores {
  return scoreBuckets(aggregate(series, options.stepMs ?? defaultStepMs(series)), options);
}

/** The detector's verdict on every bucket (buckets on their `stepMs` grid, in time order). */
export function scoreBuckets(
  buckets: Buckets,
  options: Omit<AnomalyOptions, "stepMs"> = {},
): AnomalyScores {
  const stepMs = buckets.stepMs;
  const n = buckets.start.length;
  const engineOptions = {
    stepMs,
    sensitivity: options.sensitivity ?? 1,
    seed: options.seed ?? 1,
  };
  const bucket: Bucket = { start: 0, mean: NaN, min: NaN, max: NaN, count: 0 };
  const load = (i: number): Bucket => {
    bucket.start = buckets.start[i];
    bucket.mean = buckets.mean[i];
    bucket.min = buckets.min[i];
    bucket.max = buckets.max[i];
    bucket.count = buckets.count[i];
    return bucket;
  };
  let prior = null;
  if (!options.online && n > 0) {
    // The warm-up model: a daily profile from the first ≤ 7 days, then scales and clusters from
    // a first pass over the first 2 days with that profile.
    const shape = new AnomalyEngine(engineOptions).shape();
    const firstWeek = Math.min(n, Math.round((shape.maxDays * DAY_MS) / stepMs));
    const profile = shape.slots > 0
      ? dailyProfile(buckets.mean.subarray(0, firstWeek), buckets.start[0], shape)
      : null;
    const primer = new AnomalyEngine(
      engineOptions,
      AnomalyEngine.profileOnly(profile, Math.floor((firstWeek * stepMs) / DAY_MS)),
    );
    const until = buckets.start[0] + PRIOR_DAYS * DAY_MS;
    for (let i = 0; i < n && buckets.start[i] < until; i++) primer.step(load(i));
    prior = primer.learned();
  }
  const engine = new AnomalyEngine(engineOptions, prior);
  const out: AnomalyScores = {
    stepMs,
    t: buckets.start,
    severity: new Float64Array(n),
    zscore: new Float64Array(n),
    level: new Float64Array(n),
    kmeans: new Float64Array(n),
    expected: new Float64Array(n),
    observed: new Float64Array(n),
    anomalous: new Uint8Array(n),
    judged: new Uint8Array(n),
    signal: new Array(n),
    firstIndex: buckets.first,
    lastIndex: buckets.last,
  };
  for (let i = 0; i < n; i++) {
    const v = engine.step(load(i));
    out.severity[i] = v.severity;
    out.zscore[i] = v.zscore;
    out.level[i] = v.level;
    out.kmeans[i] = v.kmeans;
    out.expected[i] = v.expected;
    out.observed[i] = v.observed;
    out.anomalous[i] = v.anomalous ? 1 : 0;
    out.judged[i] = v.judged ? 1 : 0;
    out.signal[i] = v.signal;
  }
  return out;
}

/**
 * Anomalous buckets → windows. A window closes once `gapMs` passes without an anomalous bucket;
 * `openAtEnd` marks a window the input ended in (online mode: it may still grow).
 */
export function windowsFromScores(
  scores: AnomalyScores,
  gapMs: number,
  openAtEnd = false,
): AnomalyWindow[] {
  const windows: AnomalyWindow[] = [];
  const step = scores.stepMs;
  let current: AnomalyWindow | null = null;
  let lastBucket = -1;
  const used = new Set<DetectorName>();
  const close = () => {
    if (!current) return;
    current.detectors = DETECTORS.filter((d) => used.has(d));
    current.end = scores.t[lastBucket] + step;
    current.endIndex = scores.lastIndex[lastBucket];
    windows.push(current);
    current = null;
    used.clear();
  };
  for (let i = 0; i < scores.t.length; i++) {
    if (!scores.anomalous[i]) continue;
    if (current && scores.t[i] - (scores.t[lastBucket] + step) > gapMs) close();
    if (!current) {
      current = {
        start: scores.t[i],
        end: scores.t[i] + step,
        startIndex: scores.firstIndex[i],
        endIndex: scores.lastIndex[i],
        score: 0,
        peakAt: scores.t[i],
        peak: NaN,
        expected: NaN,
        detectors: [],
        signal: scores.signal[i],
        open: false,
      };
    }
    if (scores.severity[i] > current.score) {
      current.score = scores.severity[i];
      current.peakAt = scores.t[i];
      current.peak = scores.observed[i];
      current.expected = scores.expected[i];
      current.signal = scores.signal[i];
    }
    if (scores.zscore[i] >= 1) used.add("zscore");
    if (scores.level[i] >= 1) used.add("level");
    if (scores.kmeans[i] >= 1) used.add("kmeans");
    lastBucket = i;
  }
  if (current !== null) {
    const last = scores.t.length - 1;
    const stillOpen = openAtEnd && scores.t[last] - (scores.t[lastBucket] + step) <= gapMs;
    close();
    windows[windows.length - 1].open = stillOpen;
  }
  return windows;
}

/**
 * Causal scoring of a live stream, for alert rules: push raw samples as they arrive. Samples are
 * aggregated into `stepMs` buckets; a bucket is judged when the first sample past its end
 * arrives, and the answer describes the latest judged bucket (score 0 before any).
 */
export class OnlineAnomalyScorer {
  private readonly engine: AnomalyEngine;
  private readonly stepMs: number;
  private bucketStart = NaN;
  /** The latest bucket already judged: nothing at or before it is judged again. */
  private lastStart = -Infinity;
  private sum = 0;
  private count = 0;
  private min = Infinity;
  private max = -Infinity;
  private latest: OnlineVerdict = { score: 0, anomalous: false, judged: false, bucketStart: NaN };

  constructor(options: { stepMs?: number; sensitivity?: number; seed?: number } = {}) {
    this.stepMs = options.stepMs ?? 60_000;
    this.engine = new AnomalyEngine({
      stepMs: this.stepMs,
      sensitivity: options.sensitivity ?? 1,
      seed: options.seed ?? 1,
    });
  }

  /**
   * Adds one sample (NaN = missing). `score` is the judged bucket's severity (≥ 1 = anomalous);
   * `bucketStart` says which bucket that is and `judged` whether the detector had the history to
   * judge it. Samples older than the open bucket are ignored.
   */
  push(t: number, v: number): OnlineVerdict {
    const start = Math.floor(t / this.stepMs) * this.stepMs;
    if (start <= this.lastStart) return this.latest;
    if (!Number.isNaN(this.bucketStart) && start < this.bucketStart) return this.latest;
    if (!Number.isNaN(this.bucketStart) && start > this.bucketStart) this.flush();
    this.bucketStart = start;
    if (!Number.isNaN(v)) {
      this.sum += v;
      this.count++;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    return this.latest;
  }

  /**
   * Judges a whole bucket aggregated elsewhere (a recorded 1-minute rollup), e.g. to learn from
   * history before the live samples start. Ignored once a later bucket has been seen.
   */
  pushBucket(bucket: Bucket): OnlineVerdict {
    const start = Math.floor(bucket.start / this.stepMs) * this.stepMs;
    if (start <= this.lastStart) return this.latest;
    if (!Number.isNaN(this.bucketStart)) {
      if (start <= this.bucketStart) return this.latest;
      this.flush();
    }
    this.bucketStart = NaN;
    this.judge({ ...bucket, start });
    return this.latest;
  }

  private flush(): void {
    this.judge({
      start: this.bucketStart,
      mean: this.count > 0 ? this.sum / this.count : NaN,
      min: this.count > 0 ? this.min : NaN,
      max: this.count > 0 ? this.max : NaN,
      count: this.count,
    });
    this.sum = 0;
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }

  private judge(bucket: Bucket): void {
    const verdict = this.engine.step(bucket);
    this.lastStart = bucket.start;
    this.latest = {
      score: verdict.severity,
      anomalous: verdict.anomalous,
      judged: verdict.judged,
      bucketStart: bucket.start,
    };
  }
}

/** The online scorer's answer about the latest judged bucket. */
export interface OnlineVerdict {
  score: number;
  anomalous: boolean;
  judged: boolean;
  bucketStart: number;
}

/** Buckets as parallel arrays; `first`/`last` are input indices (-1 for an empty bucket). */
export interface Buckets {
  stepMs: number;
  start: Float64Array;
  mean: Float64Array;
  min: Float64Array;
  max: Float64Array;
  count: Uint32Array;
  first: Int32Array;
  last: Int32Array;
}

/**
 * Mean, min and max per bucket of `stepMs`, aligned on multiples of the step since the epoch
 * (as series.ts `resample` does). Empty buckets inside the range are kept (count 0). O(n);
 * timestamps must ascend (the Series contract).
 */
export function aggregate(series: Series, stepMs: number): Buckets {
  if (!(stepMs > 0)) throw new Error(`anomaly step must be positive, got ${stepMs}`);
  const n = series.t.length;
  const origin = n > 0 ? Math.floor(series.t[0] / stepMs) * stepMs : 0;
  const count = n > 0 ? Math.floor((series.t[n - 1] - origin) / stepMs) + 1 : 0;
  const out = emptyBuckets(stepMs, origin, count);
  const sums = new Float64Array(count);
  const { t, v } = series;
  const { min, max, first, last } = out;
  const counts = out.count;
  // Timestamps ascend: divide only when a sample leaves the current bucket.
  let k = -1;
  let bucketEnd = -Infinity;
  for (let i = 0; i < n; i++) {
    if (t[i] >= bucketEnd) {
      k = Math.floor((t[i] - origin) / stepMs);
      bucketEnd = origin + (k + 1) * stepMs;
      first[k] = i;
    }
    last[k] = i;
    const x = v[i];
    if (x !== x) continue; // NaN: missing
    if (counts[k] === 0) {
      min[k] = max[k] = x;
    } else if (x < min[k]) min[k] = x;
    else if (x > max[k]) max[k] = x;
    sums[k] += x;
    counts[k]++;
  }
  for (let k = 0; k < count; k++) {
    if (out.count[k] > 0) out.mean[k] = sums[k] / out.count[k];
  }
  return out;
}

/** `count` empty buckets of `stepMs` from `origin` on: no readings, NaN values, no input indices. */
function emptyBuckets(stepMs: number, origin: number, count: number): Buckets {
  return {
    stepMs,
    start: Float64Array.from({ length: count }, (_, k) => origin + k * stepMs),
    mean: new Float64Array(count).fill(NaN),
    min: new Float64Array(count).fill(NaN),
    max: new Float64Array(count).fill(NaN),
    count: new Uint32Array(count),
    first: new Int32Array(count).fill(-1),
    last: new Int32Array(count).fill(-1),
  };
}

/**
 * Buckets merged onto a coarser grid of `stepMs` (a multiple of theirs; aligned on the epoch):
 * count-weighted means, min of mins, max of maxes. For 1-minute rollups → 5-minute buckets.
 */
export function coarsenBuckets(buckets: Buckets, stepMs: number): Buckets {
  if (!(stepMs >= buckets.stepMs) || stepMs % buckets.stepMs !== 0) {
    throw new Error(`cannot coarsen ${buckets.stepMs} ms buckets to ${stepMs} ms`);
  }
  const n = buckets.start.length;
  if (n === 0) return aggregate({ t: new Float64Array(0), v: new Float64Array(0) }, stepMs);
  const origin = Math.floor(buckets.start[0] / stepMs) * stepMs;
  const count = Math.floor((buckets.start[n - 1] - origin) / stepMs) + 1;
  const out = emptyBuckets(stepMs, origin, count);
  const sums = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    const k = Math.floor((buckets.start[i] - origin) / stepMs);
    if (buckets.first[i] >= 0) {
      if (out.first[k] < 0) out.first[k] = buckets.first[i];
      out.last[k] = buckets.last[i];
    }
    const c = buckets.count[i];
    if (c === 0) continue;
    if (out.count[k] === 0 || buckets.min[i] < out.min[k]) out.min[k] = buckets.min[i];
    if (out.count[k] === 0 || buckets.max[i] > out.max[k]) out.max[k] = buckets.max[i];
    sums[k] += buckets.mean[i] * c;
    out.count[k] += c;
  }
  for (let k = 0; k < count; k++) if (out.count[k] > 0) out.mean[k] = sums[k] / out.count[k];
  return out;
}

/** Steps the default picks from, so bucket boundaries fall on round times. */
const NICE_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440].map((m) => m * 60_000);
/** The default step keeps a series at about this many buckets or fewer. */
const TARGET_BUCKETS = 10_080;

/**
 * The default step: 1 minute up to a week of data, then the next round step (2, 5, 10… minutes)
 * that keeps the series within ~10 000 buckets (5 minutes for 30 days). Never finer than the
 * data's own typical (median) step.
 */
export function defaultStepMs(series: Series): number {
  const n = series.t.length;
  if (n < 2) return NICE_STEPS_MS[0];
  const gaps: number[] = [];
  const stride = Math.max(1, Math.floor(n / 1000));
  for (let i = stride; i < n; i += stride) gaps.push((series.t[i] - series.t[i - stride]) / stride);
  gaps.sort((a, b) => a - b);
  const own = gaps[gaps.length >> 1];
  const wanted = Math.max(own, (series.t[n - 1] - series.t[0]) / TARGET_BUCKETS);
  return NICE_STEPS_MS.find((s) => s >= wanted) ?? Math.ceil(wanted / 60_000) * 60_000;
}
