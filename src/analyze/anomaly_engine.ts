/**
 * The anomaly detector's core, one aggregated bucket at a time. It is causal by construction: the
 * verdict on a bucket depends on that bucket and the ones before it, never on later ones, so the
 * batch detector (`detectAnomalies`) and the alert-side `OnlineAnomalyScorer` share this code.
 *
 * Per bucket (the mean, min and max of the raw samples inside; 1 minute by default):
 *
 * 1. Baseline: `expected = daily profile(time of day) + local level`. The profile (5-minute slots,
 *    see anomaly_season.ts) is learned from the last ≤ 7 days once 3 days of history exist. The
 *    local level is the median of the previous 15 minutes (≥ 9 buckets) of deseasonalised means:
 *    it follows slow change (trend, weekly cycle) and ignores spikes.
 * 2. Features, each turned into a robust z-score against its own history of the past day (see
 *    tailAwareScale for the scale):
 *    - value: the residual (mean − expected);
 *    - shift: the residual's mean over 5 minutes, quicker than single values to see a new level;
 *    - variance: the RMS of the residuals over 15 minutes;
 *    - max, min, range: the raw extremes inside the bucket (a 10 s spike that a 1-minute mean
 *      dilutes six-fold still shows in the max);
 *    - level (30 min and 2 h): the recent deseasonalised mean (each value clipped to 3σ around
 *      the local level, so spikes barely move it) against a Theil–Sen line through the past 24
 *      hourly medians. This is the only feature that sees slow drifts.
 * 3. Three detectors, each scored so that 1 is its threshold:
 *    - `zscore`: the largest short-horizon |z| / 5 (one-sided for max, min, range, variance);
 *    - `level`: the larger level |z| / 5;
 *    - `kmeans`: the distance from the current feature vector (z-scores, clipped at ±10) to the
 *      nearest of ≤ 6 centroids learned on the past day (netdata's method), divided by 1.5 × the
 *      99th percentile of the training vectors' distances.
 * 4. Consensus: a bucket is anomalous when at least two detectors pass their threshold. Its
 *    severity is the second-highest score: the level at which two detectors still agree. One
 *    detector alone (a noisy feature, a slow misfit of the level line) never makes an anomaly.
 *
 * Buckets judged anomalous do not train k-means (a few outlying rows would move its threshold);
 * the medians and MADs learn from everything: they are robust, and leaving flagged data out lets
 * a detector's own mistakes shape what it learns next.
 */
import { distanceToModel, type KMeansModel, trainKMeans } from "./anomaly_model.ts";
import { dailyProfile, medianInPlace, profileAt, type ProfileShape } from "./anomaly_season.ts";
import { MAD_TO_SIGMA, nthSmallest } from "./series.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../core/duration.ts";

/** One aggregated bucket: the mean, min and max of its raw samples (NaN and count 0 when empty). */
export interface Bucket {
  start: number;
  mean: number;
  min: number;
  max: number;
  count: number;
}

export const DETECTORS = ["zscore", "level", "kmeans"] as const;
export type DetectorName = typeof DETECTORS[number];

/** Which feature stood out most: a hint for people reading the report. */
export type Signal = "value" | "shift" | "variance" | "max" | "min" | "range" | "level";

export interface Verdict {
  start: number;
  /** False until enough history exists, and for empty buckets; every score is then 0. */
  judged: boolean;
  /** The baseline for the bucket mean; NaN when there is none yet. */
  expected: number;
  /** Detector scores (1 = that detector's threshold), already multiplied by the sensitivity. */
  zscore: number;
  level: number;
  kmeans: number;
  /** Second-highest detector score: ≥ 1 means at least two detectors agree. */
  severity: number;
  anomalous: boolean;
  /** The bucket's most deviating observation: its max, min or mean. */
  observed: number;
  signal: Signal;
}

export interface EngineOptions {
  stepMs: number;
  /** Multiplies every detector score: 2 flags at half the deviation, 0.5 at twice. */
  sensitivity: number;
  seed: number;
}

/** What a run has learned; an offline run hands one to a second run as a prior for its warm-up. */
export interface LearnedModel {
  centers: Float64Array;
  scales: Float64Array;
  ready: Uint8Array;
  kmeans: KMeansModel | null;
  profile: Float64Array | null;
  /** Days of data the profile was learned from. */
  profileDays: number;
}

// Feature slots.
const F_VALUE = 0;
const F_SHIFT = 1;
const F_VARIANCE = 2;
const F_MAX = 3;
const F_MIN = 4;
const F_RANGE = 5;
const F_LEVEL = 6;
const F_LEVEL_LONG = 7;
const FEATURES = 8;
const SIGNALS: Signal[] = ["value", "shift", "variance", "max", "min", "range", "level", "level"];
/** +1: only high values are unusual, -1: only low ones, 0: both. */
const SIDES = [0, 0, 1, 1, -1, 1, 0, 0];

/**
 * Window lengths in time, with a floor in buckets so coarse steps keep enough points: at the
 * default 1-minute step they are 15, 5, 15, 30 and 120 buckets.
 */
const LOCAL_WINDOW = { ms: 15 * MINUTE_MS, min: 9 };
const SHIFT_WINDOW = { ms: 5 * MINUTE_MS, min: 3 };
const VARIANCE_WINDOW = { ms: 15 * MINUTE_MS, min: 9 };
const LEVEL_WINDOW = { ms: 30 * MINUTE_MS, min: 6 };
const LEVEL_LONG_WINDOW = { ms: 2 * HOUR_MS, min: 12 };
const Z_THRESHOLD = 5;
const LEVEL_THRESHOLD = 5;
const KMEANS_MARGIN = 1.5;
const KMEANS_K = 6;
const KMEANS_ITERATIONS = 8;
const KMEANS_ROWS = 128;
const DIM = 9;
const Z_CLIP = 10;
/** Daily-profile slot: fine enough to keep a 10-minute nightly job's edges. */
const SLOT_MS = 5 * MINUTE_MS;
const MIN_SEASON_DAYS = 3;
const MAX_SEASON_DAYS = 7;
const LEVEL_FIT_BLOCKS = 24;
const LEVEL_MIN_BLOCKS = 6;
/** Hours the hourly medians must span before the line's slope is re-estimated. */
const LEVEL_SLOPE_SPAN = 12;
const REANCHOR_MS = 30 * 60_000;
/** Level averages take each value at most this many σ from the local level. */
const LEVEL_CLIP = 3;
/** Level scales are at least this fraction of one sample's noise. */
const LEVEL_FLOOR = 0.15;
/** Days an offline run's warm-up pass learns from (see anomaly.ts). */
export const PRIOR_DAYS = 2;

export class AnomalyEngine {
  readonly stepMs: number;
  private readonly sensitivity: number;
  private readonly seed: number;
  private readonly prior: LearnedModel | null;

  // Sizes in buckets.
  private readonly blockLen: number;
  private readonly trainLen: number;
  private readonly minTrain: number;
  private readonly minLevelTrain: number;
  private readonly period: number;
  private readonly slotMs: number;
  private readonly slots: number;
  private readonly reanchorAfter: number;

  // Raw history.
  private readonly means: Ring;
  private readonly deseason: Ring;
  private readonly local: SortedWindow;
  private readonly shiftWindow: RunningWindow;
  private readonly varianceWindow: RunningWindow;
  private readonly levelWindow: RunningWindow;
  private readonly levelLongWindow: RunningWindow;
  private readonly zHistory = new Ring(3);
  private readonly hourly = new Ring(LEVEL_FIT_BLOCKS);
  private readonly counts = new Ring(256);
  private readonly hourlyAt = new Ring(LEVEL_FIT_BLOCKS);
  // Training history, one row per bucket over the past day: raw features (NaN for anomalous or
  // unjudged buckets) and k-means vectors (with a usable flag).
  private readonly trainRaw: Float64Array;
  private readonly vectors: Float64Array;
  private readonly vectorOk: Uint8Array;
  private trainHead = 0;
  private trainCount = 0;

  // Learned state.
  private readonly centers = new Float64Array(FEATURES);
  private readonly scales = new Float64Array(FEATURES).fill(1);
  private readonly ready = new Uint8Array(FEATURES);
  private kmeans: KMeansModel | null = null;
  private kmeansReadyMask = -1;
  private profile: Float64Array | null = null;
  private profileDays = 0;
  private levelSlope = NaN;
  private levelIntercept = NaN;
  private levelRun = 0;
  private lastSlope = NaN;
  private lastShortAlarm = -Infinity;

  private lastIndex = NaN;
  private buckets = 0;
  private hoursSinceScales = 0;
  private hoursSinceKmeans = 0;
  private hoursSinceProfile = 0;
  private readonly scratch: Float64Array;
  private readonly vector = new Float64Array(DIM);
  private readonly fitX = new Float64Array(LEVEL_FIT_BLOCKS);
  private readonly fitY = new Float64Array(LEVEL_FIT_BLOCKS);
  private readonly z = new Float64Array(FEATURES);
  private readonly raw = new Float64Array(FEATURES);
  private readonly verdict: Verdict = {
    start: NaN,
    judged: false,
    expected: NaN,
    zscore: 0,
    level: 0,
    kmeans: 0,
    severity: 0,
    anomalous: false,
    observed: NaN,
    signal: "value",
  };

  constructor(options: EngineOptions, prior: LearnedModel | null = null) {
    const step = options.stepMs;
    if (!(step > 0)) throw new Error(`anomaly step must be positive, got ${step}`);
    this.stepMs = step;
    this.sensitivity = options.sensitivity;
    this.seed = options.seed;
    this.prior = prior;
    this.blockLen = Math.max(1, Math.round(HOUR_MS / step));
    this.trainLen = Math.max(240, Math.round(DAY_MS / step));
    this.minTrain = Math.max(60, Math.round((2 * HOUR_MS) / step));
    this.minLevelTrain = Math.max(this.minTrain, Math.round((12 * HOUR_MS) / step));
    this.period = Math.round(DAY_MS / step);
    // 5-minute slots (never finer than a bucket); no daily profile when a day has < 8 buckets.
    this.slotMs = Math.max(step, SLOT_MS);
    this.slots = this.period >= 8 ? Math.ceil(DAY_MS / this.slotMs) : 0;
    this.reanchorAfter = Math.max(3, Math.round(REANCHOR_MS / step));

    this.means = new Ring(this.slots > 0 ? MAX_SEASON_DAYS * this.period : 1);
    const buckets = (w: { ms: number; min: number }) => Math.max(w.min, Math.round(w.ms / step));
    this.local = new SortedWindow(buckets(LOCAL_WINDOW));
    this.shiftWindow = new RunningWindow(buckets(SHIFT_WINDOW));
    this.varianceWindow = new RunningWindow(buckets(VARIANCE_WINDOW));
    this.levelWindow = new RunningWindow(buckets(LEVEL_WINDOW));
    this.levelLongWindow = new RunningWindow(buckets(LEVEL_LONG_WINDOW));
    this.deseason = new Ring(this.blockLen);
    this.trainRaw = new Float64Array(this.trainLen * FEATURES).fill(NaN);
    this.vectors = new Float64Array(this.trainLen * DIM);
    this.vectorOk = new Uint8Array(this.trainLen);
    const pairs = (LEVEL_FIT_BLOCKS * (LEVEL_FIT_BLOCKS - 1)) / 2;
    this.scratch = new Float64Array(Math.max(this.trainLen, this.blockLen, pairs));
  }

  /** A prior that knows only a daily profile (offline runs learn it from the whole input). */
  static profileOnly(profile: Float64Array | null, profileDays: number): LearnedModel {
    return {
      centers: new Float64Array(FEATURES),
      scales: new Float64Array(FEATURES).fill(1),
      ready: new Uint8Array(FEATURES),
      kmeans: null,
      profile,
      profileDays: profile ? profileDays : 0,
    };
  }

  /** The layout of the daily profile this engine learns. */
  shape(): ProfileShape {
    return {
      stepMs: this.stepMs,
      slotMs: this.slotMs,
      slots: this.slots,
      minDays: MIN_SEASON_DAYS,
      maxDays: MAX_SEASON_DAYS,
    };
  }

  /** What this engine has learned so far (copies). */
  learned(): LearnedModel {
    return {
      centers: this.centers.slice(),
      scales: this.scales.slice(),
      ready: this.ready.slice(),
      kmeans: this.kmeans,
      profile: this.profile ? this.profile.slice() : this.prior?.profile ?? null,
      profileDays: this.profile ? this.profileDays : this.prior?.profileDays ?? 0,
    };
  }

  /**
   * Judges the next bucket. Buckets must come in time order on the `stepMs` grid; skipped ones
   * count as empty (missing data), so every window keeps its meaning in time. The returned object
   * is reused by the next call: copy what you keep.
   */
  step(bucket: Bucket): Verdict {
    const index = Math.round(bucket.start / this.stepMs);
    if (!Number.isNaN(this.lastIndex)) {
      if (index <= this.lastIndex) {
        throw new Error(`buckets must come in increasing time order (${bucket.start})`);
      }
      // Beyond what any window remembers, more empty buckets change nothing: skip them.
      const remembered = this.means.capacity + this.trainLen;
      const skipped = Math.min(index - this.lastIndex - 1, remembered);
      for (let k = skipped; k >= 1; k--) {
        const start = (index - k) * this.stepMs;
        this.advance({ start, mean: NaN, min: NaN, max: NaN, count: 0 });
      }
    }
    return this.advance(bucket);
  }

  private advance(bucket: Bucket): Verdict {
    const index = Math.round(bucket.start / this.stepMs);
    this.lastIndex = index;
    // Re-learn on hour boundaries of the clock, from the buckets before this one only.
    if (index % this.blockLen === 0 && this.buckets > 0) this.relearn(index);
    this.buckets++;

    const x = bucket.count > 0 ? bucket.mean : NaN;
    if (bucket.count > 0) this.counts.push(bucket.count);
    const seasonal = this.seasonalAt(bucket.start);
    const d = x - seasonal;
    const localLevel = this.local.count >= this.local.length / 2 ? this.local.median() : NaN;
    this.means.push(x);
    this.deseason.push(d);
    this.local.push(d);
    // Huber-style: into the level averages, each value enters at most 3σ from the local level.
    // A 10σ spike of 5 minutes would otherwise lift a 2-hour mean for two hours (and the level
    // scale learned from it for a day); a real shift passes in full once the local median moves.
    const limit = LEVEL_CLIP * this.valueScale();
    const clipped = Number.isNaN(localLevel) || !(limit > 0)
      ? d
      : localLevel + Math.max(-limit, Math.min(limit, d - localLevel));
    this.levelWindow.push(clipped);
    this.levelLongWindow.push(clipped);

    const verdict = this.verdict;
    verdict.start = bucket.start;
    verdict.judged = false;
    verdict.expected = NaN;
    verdict.zscore =
      verdict.level =
      verdict.kmeans =
      verdict.severity =
        0;
    verdict.anomalous = false;
    verdict.observed = x;
    verdict.signal = "value";
    const z = this.z.fill(NaN);
    const raw = this.raw.fill(NaN);
    if (Number.isNaN(x) || Number.isNaN(localLevel)) {
      this.shiftWindow.push(NaN);
      this.varianceWindow.push(NaN);
      this.zHistory.push(NaN);
      this.pushTraining(raw, false, false);
      return verdict;
    }
    const expected = seasonal + localLevel;
    verdict.expected = expected;

    raw[F_VALUE] = x - expected;
    this.shiftWindow.push(raw[F_VALUE]);
    raw[F_SHIFT] = this.shiftWindow.mean(Math.ceil(this.shiftWindow.length / 2));
    if (bucket.count >= 2) {
      raw[F_MAX] = bucket.max - expected;
      raw[F_MIN] = bucket.min - expected;
      raw[F_RANGE] = bucket.max - bucket.min;
    }
    raw[F_LEVEL] = this.levelError(index, this.levelWindow);
    raw[F_LEVEL_LONG] = this.levelError(index, this.levelLongWindow);
    z[F_VALUE] = this.standardize(F_VALUE, raw[F_VALUE]);
    this.zHistory.push(z[F_VALUE]);
    // In data units, not z-scores: a feature must not move when another one's scale is re-learned.
    this.varianceWindow.push(raw[F_VALUE]);
    raw[F_VARIANCE] = this.varianceWindow.rms(Math.ceil(this.varianceWindow.length / 2));
    for (let f = 1; f < FEATURES; f++) z[f] = this.standardize(f, raw[f]);

    // Detector 1: the largest short-horizon z-score.
    let zBest = 0;
    let zSignal = F_VALUE;
    for (let f = 0; f < F_LEVEL; f++) {
      if (Number.isNaN(z[f])) continue;
      const s = SIDES[f] === 0 ? Math.abs(z[f]) : Math.max(0, SIDES[f] * z[f]);
      if (s > zBest) {
        zBest = s;
        zSignal = f;
      }
    }
    // Detector 2: the long-horizon level.
    const levelZ = Math.max(absOr0(z[F_LEVEL]), absOr0(z[F_LEVEL_LONG]));
    // Detector 3: k-means distance of the feature vector.
    const vector = this.fillVector(z);
    const model = this.kmeans ?? this.prior?.kmeans ?? null;
    const kmeansScore = model
      ? distanceToModel(model, vector) / (KMEANS_MARGIN * Math.max(model.threshold, 1))
      : 0;

    if (Number.isNaN(z[F_VALUE])) {
      // No scale learned yet: collect training data, judge nothing.
      this.pushTraining(raw, true, false);
      return verdict;
    }
    verdict.judged = true;
    verdict.zscore = (zBest / Z_THRESHOLD) * this.sensitivity;
    verdict.level = (levelZ / LEVEL_THRESHOLD) * this.sensitivity;
    verdict.kmeans = kmeansScore * this.sensitivity;
    verdict.severity = secondLargest(verdict.zscore, verdict.level, verdict.kmeans);
    verdict.anomalous = verdict.severity >= 1;
    const lead = verdict.level > verdict.zscore ? F_LEVEL : zSignal;
    verdict.signal = SIGNALS[lead];
    verdict.observed = lead === F_MAX ? bucket.max : lead === F_MIN ? bucket.min : x;
    if (verdict.zscore >= 1) this.lastShortAlarm = index;
    this.maybeReanchor(index, verdict.level, raw[F_LEVEL]);
    this.pushTraining(raw, true, !verdict.anomalous);
    return verdict;
  }

  /**
   * A window's mean (deseasonalised) minus the Theil–Sen line through the previous hourly
   * medians, evaluated at the window's middle.
   */
  private levelError(index: number, window: RunningWindow): number {
    if (Number.isNaN(this.levelSlope)) return NaN;
    const recent = window.mean(window.length / 2);
    const middle = index - (window.length - 1) / 2;
    return recent - (this.levelIntercept + this.levelSlope * middle);
  }

  /**
   * A level shift: the short-horizon detector fired (a sudden change) and the level error has
   * stayed elevated (at least half its threshold) for 30 minutes since. The line then moves to
   * the current level (keeping its slope), as a CUSUM restarts after an alarm, so a shift yields
   * one short window instead of hours of them. A drift (no sudden change) is left alone: its
   * window grows, with its score, until the line has learned the new slope.
   */
  private maybeReanchor(index: number, levelScore: number, levelError: number): void {
    this.levelRun = levelScore >= 0.5 ? this.levelRun + 1 : 0;
    if (this.levelRun < this.reanchorAfter || Number.isNaN(levelError)) return;
    const sudden = index - this.lastShortAlarm <= this.levelRun + this.levelWindow.length;
    if (!sudden) return;
    const delta = levelError - (this.ready[F_LEVEL] ? this.centers[F_LEVEL] : 0);
    this.levelIntercept += delta;
    // The windows restart too: averages straddling the shift would compare the old level with
    // the new line for up to two hours, and teach the scales that such errors are normal.
    this.levelWindow.clear();
    this.levelLongWindow.clear();
    // Hours before the episode move to the new level; hours during it mix both levels: drop them.
    const episodeStart = index - this.levelRun - this.levelWindow.length;
    for (let lag = 0; lag < this.hourly.size; lag++) {
      const end = this.hourlyAt.at(lag) + this.blockLen / 2;
      if (end < episodeStart) this.hourly.addAt(lag, delta);
      else this.hourly.setAt(lag, NaN);
    }
    this.levelRun = 0;
  }

  /** The median number of samples in the recent non-empty buckets. */
  private typicalCount(): number {
    const n = this.counts.copyFinite(this.scratch);
    return n > 0 ? Math.max(1, medianInPlace(this.scratch, n)) : 1;
  }

  /** The residual's learned scale (own or the prior's); NaN before any. */
  private valueScale(): number {
    if (this.ready[F_VALUE]) return this.scales[F_VALUE];
    if (this.prior?.ready[F_VALUE]) return this.prior.scales[F_VALUE];
    return NaN;
  }

  private standardize(f: number, value: number): number {
    if (Number.isNaN(value)) return NaN;
    if (this.ready[f]) return (value - this.centers[f]) / this.scales[f];
    const prior = this.prior;
    if (prior && prior.ready[f]) return (value - prior.centers[f]) / prior.scales[f];
    return NaN;
  }

  /** The k-means input: the last three residual z-scores and the other features, clipped. */
  private fillVector(z: Float64Array): Float64Array {
    const v = this.vector;
    v[0] = clip(z[F_VALUE]);
    v[1] = clip(this.zHistory.at(1));
    v[2] = clip(this.zHistory.at(2));
    v[3] = clip(z[F_SHIFT]);
    v[4] = clip(z[F_VARIANCE]);
    v[5] = clip(z[F_MAX]);
    v[6] = clip(z[F_MIN]);
    v[7] = clip(z[F_LEVEL]);
    v[8] = clip(z[F_LEVEL_LONG]);
    return v;
  }

  /** Raw feature values feed the centers and scales; the k-means vector feeds the clusters. */
  private pushTraining(raw: Float64Array, usable: boolean, vectorUsable: boolean): void {
    const slot = this.trainHead;
    for (let f = 0; f < FEATURES; f++) this.trainRaw[slot * FEATURES + f] = usable ? raw[f] : NaN;
    this.vectors.set(this.vector, slot * DIM);
    this.vectorOk[slot] = usable && vectorUsable ? 1 : 0;
    this.trainHead = slot + 1 === this.trainLen ? 0 : slot + 1;
    if (this.trainCount < this.trainLen) this.trainCount++;
  }

  /**
   * Hourly: the finished hour's median and the level line. Scales and clusters are re-learned
   * every 3 and 12 hours during the first day of training data, then every 12 and 48 hours; the
   * daily profile once 3 days exist, then daily, then every 3 days once it spans a week. Slow
   * re-learning is what keeps a 30-day series cheap, and normal behaviour does not change by the
   * hour.
   */
  private relearn(index: number): void {
    this.hoursSinceScales++;
    this.hoursSinceKmeans++;
    this.hoursSinceProfile++;
    let rebuilt = false;
    // A prior's profile learned from more days than this run has seen is the better one.
    const minDays = Math.max(MIN_SEASON_DAYS, this.prior?.profileDays ?? 0);
    // Daily while the profile grows to a full week, then every 3 days: a week-long window that
    // moves by a day changes little, and this is the priciest piece of re-learning.
    const profileEvery = this.profileDays >= MAX_SEASON_DAYS ? 72 : 24;
    if (this.slots > 0 && (this.profile === null || this.hoursSinceProfile >= profileEvery)) {
      if (this.means.size >= minDays * this.period) {
        const values = this.means.last(this.means.size);
        const profile = dailyProfile(values, (index - values.length) * this.stepMs, this.shape());
        this.hoursSinceProfile = 0;
        if (profile) {
          const first = this.profile === null && !this.prior?.profile;
          const old = this.profile ?? this.prior?.profile ?? null;
          this.profile = profile;
          this.adjustHourly(old);
          this.profileDays = Math.min(MAX_SEASON_DAYS, Math.floor(this.means.size / this.period));
          this.rebaseline(index);
          rebuilt = true;
          // Features learned without the profile describe another baseline: learn them again
          // (the old scales and clusters stay in use meanwhile).
          if (first) this.clearTraining();
        }
      }
    }
    if (!rebuilt) {
      this.hourly.push(this.deseason.medianOfLast(this.blockLen, this.blockLen / 2, this.scratch));
      this.hourlyAt.push(index - (this.blockLen + 1) / 2);
    }
    this.fitLevelLine();

    const young = this.trainCount < this.trainLen;
    if (this.hoursSinceScales >= (young ? 3 : 12) || !this.ready[F_VALUE]) {
      this.relearnScales();
      this.hoursSinceScales = 0;
    }
    const mask = this.readyMask();
    if (
      this.hoursSinceKmeans >= (young ? 12 : 48) || this.kmeans === null ||
      mask !== this.kmeansReadyMask
    ) {
      this.relearnKmeans(mask);
    }
  }

  /**
   * A new profile changes every deseasonalised value: recompute the windows built on them from
   * the stored raw means, so the baseline does not jump. `index` is the bucket about to be
   * judged; the newest stored mean is index − 1.
   */
  private rebaseline(index: number): void {
    const stored = this.means.size;
    const deseasonAt = (lag: number) =>
      this.means.at(lag) - this.seasonalAt((index - 1 - lag) * this.stepMs);
    this.deseason.clear();
    this.local.clear();
    this.levelWindow.clear();
    this.levelLongWindow.clear();
    const replay = Math.min(stored, Math.max(this.blockLen, this.levelLongWindow.length));
    for (let lag = replay - 1; lag >= 0; lag--) {
      const d = deseasonAt(lag);
      this.deseason.push(d);
      this.local.push(d);
      this.levelWindow.push(d);
      this.levelLongWindow.push(d);
    }
  }

  /**
   * The stored hourly medians, re-expressed under a new profile: each moves by the mean change
   * of the profile over its hour. Re-anchoring already applied to them is kept (recomputing them
   * from the raw means would undo it and report an old shift again).
   */
  private adjustHourly(old: Float64Array | null): void {
    const half = (this.blockLen - 1) / 2;
    for (let lag = 0; lag < this.hourly.size; lag++) {
      const center = this.hourlyAt.at(lag);
      let change = 0;
      for (let k = -half; k <= half; k++) {
        const time = (center + k) * this.stepMs;
        const before = old ? profileAt(old, time, this.slotMs) : 0;
        change += before - this.seasonalAt(time);
      }
      this.hourly.addAt(lag, change / this.blockLen);
    }
  }

  private clearTraining(): void {
    this.trainRaw.fill(NaN);
    this.vectorOk.fill(0);
    this.trainHead = 0;
    this.trainCount = 0;
  }

  private relearnScales(): void {
    for (let f = 0; f < FEATURES; f++) {
      // Every other bucket of the day is plenty for a median and a MAD, at half the cost.
      const stride = this.trainLen > 720 ? 2 : 1;
      let n = 0;
      for (let i = 0; i < this.trainCount; i += stride) {
        const v = this.trainRaw[i * FEATURES + f];
        if (!Number.isNaN(v)) this.scratch[n++] = v;
      }
      // The level errors move slowly: a few hours of them are few independent values, and a
      // scale learned from them is too small. They wait for half a day, or, without a daily
      // profile to remove the daily cycle from them, for a whole day.
      const level = f >= F_LEVEL;
      const needed = level ? this.minLevelTrain : this.minTrain;
      const noProfile = this.profile === null && !this.prior?.profile;
      const dayOfData = this.trainCount >= this.trainLen;
      // A prior learned from PRIOR_DAYS stays until this run has seen as much.
      const priorWiser = this.prior?.ready[f] && this.buckets < PRIOR_DAYS * this.trainLen;
      if (n < needed / stride || (level && noProfile && !dayOfData) || priorWiser) {
        // Too little data (just started, long gap, fresh baseline, or less than the prior
        // learned from): keep what was learned.
        continue;
      }
      const center = medianInPlace(this.scratch, n);
      this.centers[f] = center;
      this.scales[f] = tailAwareScale(this.scratch, n, center, SIDES[f]);
      this.ready[f] = 1;
    }
    // A mean of W buckets is never known better than σ/√W, however calm yesterday looked: the
    // MAD of a day of slowly moving level errors is too confident on its own. And a level change
    // below a small fraction of one sample's noise is not worth a look, however precisely a
    // 5-minute mean of 30 samples can measure it (the weekly cycle's curvature, which a 24-hour
    // line cannot follow, would otherwise be reported every week).
    if (this.ready[F_VALUE]) {
      const sigma = this.scales[F_VALUE];
      const perSample = sigma * Math.sqrt(this.typicalCount());
      const floor = (f: number, w: RunningWindow, minimum: number) => {
        this.scales[f] = Math.max(this.scales[f], sigma / Math.sqrt(w.length), minimum);
      };
      floor(F_LEVEL, this.levelWindow, LEVEL_FLOOR * perSample);
      floor(F_LEVEL_LONG, this.levelLongWindow, LEVEL_FLOOR * perSample);
      floor(F_SHIFT, this.shiftWindow, 0);
    }
  }

  private readyMask(): number {
    let mask = 0;
    for (let f = 0; f < FEATURES; f++) if (this.ready[f]) mask |= 1 << f;
    return mask;
  }

  /** Trains on up to KMEANS_ROWS usable vectors, evenly spaced over the training history. */
  private relearnKmeans(mask: number): void {
    let usable = 0;
    for (let i = 0; i < this.trainCount; i++) usable += this.vectorOk[i];
    if (usable < this.minTrain) return;
    const rows = Math.min(KMEANS_ROWS, usable);
    const out = new Float64Array(rows * DIM);
    let taken = 0;
    let seen = 0;
    for (let i = 0; i < this.trainCount && taken < rows; i++) {
      if (!this.vectorOk[i]) continue;
      // Take row `seen` when it crosses the next multiple of usable/rows.
      if (Math.floor((seen * rows) / usable) === taken) {
        out.set(this.vectors.subarray(i * DIM, (i + 1) * DIM), taken * DIM);
        taken++;
      }
      seen++;
    }
    const model = trainKMeans(out.subarray(0, taken * DIM), DIM, {
      k: KMEANS_K,
      iterations: KMEANS_ITERATIONS,
      seed: this.seed,
      thresholdQuantile: 0.99,
      minClusterShare: 0.01,
    });
    if (!model) return;
    this.kmeans = model;
    this.kmeansReadyMask = mask;
    this.hoursSinceKmeans = 0;
  }

  /** Theil–Sen through the stored hourly medians: robust to a few odd hours. Allocation-free. */
  private fitLevelLine(): void {
    const xs = this.fitX;
    const ys = this.fitY;
    let n = 0;
    for (let lag = this.hourly.size - 1; lag >= 0; lag--) {
      const y = this.hourly.at(lag);
      if (Number.isNaN(y)) continue;
      ys[n] = y;
      xs[n++] = this.hourlyAt.at(lag);
    }
    if (n < LEVEL_MIN_BLOCKS) {
      this.levelSlope = NaN;
      return;
    }
    // Relative to the newest hour: absolute bucket numbers are large.
    const origin = xs[n - 1];
    const pairs = this.scratch;
    // After a long gap, a slope from the few hours since is mostly noise: until the hours span
    // half a day again, keep the slope learned before the gap and fit the level only.
    const fullSpan = origin - xs[0] >= LEVEL_SLOPE_SPAN * this.blockLen;
    let slope = this.lastSlope;
    if (fullSpan || Number.isNaN(slope)) {
      let m = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) pairs[m++] = (ys[j] - ys[i]) / (xs[j] - xs[i]);
      }
      slope = medianInPlace(pairs, m);
      if (fullSpan) this.lastSlope = slope;
    }
    for (let i = 0; i < n; i++) pairs[i] = ys[i] - slope * (xs[i] - origin);
    const intercept = medianInPlace(pairs, n);
    this.levelSlope = slope;
    this.levelIntercept = intercept - slope * origin;
  }

  private seasonalAt(time: number): number {
    const profile = this.profile ?? this.prior?.profile ?? null;
    return profile ? profileAt(profile, time, this.slotMs) : 0;
  }
}

function absOr0(v: number): number {
  return Number.isNaN(v) ? 0 : Math.abs(v);
}

/** Two detectors must agree: the severity is the second-highest score. */
function secondLargest(a: number, b: number, c: number): number {
  const hi = Math.max(a, b, c);
  const lo = Math.min(a, b, c);
  return a + b + c - hi - lo;
}

function clip(v: number): number {
  if (Number.isNaN(v)) return 0;
  return v > Z_CLIP ? Z_CLIP : v < -Z_CLIP ? -Z_CLIP : v;
}

/** The standard normal's 95th percentile: (q95 − median) / this = σ for normal data. */
const Z95 = 1.6449;

/**
 * The scale that turns a feature into z-scores: the larger of MAD × 1.4826 (the body of the
 * distribution) and the distance from the median to the 5th/95th percentile / 1.645 (its
 * shoulders, on the side(s) that count). Both equal σ for normal data; for skewed or heavy-tailed
 * features (the maximum of 30 samples has a Gumbel tail; a level error carries a daily misfit)
 * the second is larger, and a z-score of 5 stays about as rare as for normal data. The 95th
 * percentile, not the 99th, so that yesterday's anomalies (up to 5 % of the day) cannot inflate
 * it. a[0..n) must be partitioned around its median (as medianInPlace leaves it); reordered.
 */
export function tailAwareScale(a: Float64Array, n: number, center: number, side: number): number {
  let tail = 0;
  if (n >= 20) {
    const mid = n >> 1;
    if (side >= 0) {
      const hi = nthSmallest(a, Math.ceil(0.95 * (n - 1)), mid, n - 1);
      tail = Math.max(tail, (hi - center) / Z95);
    }
    if (side <= 0) {
      const lo = nthSmallest(a, Math.floor(0.05 * (n - 1)), 0, mid);
      tail = Math.max(tail, (center - lo) / Z95);
    }
  }
  return Math.max(robustScale(a, n, center), tail);
}

/**
 * MAD × 1.4826 of a[0..n) around `center`: a standard deviation for normal data that outliers
 * cannot move. When more than half the values are equal the MAD is 0; the mean absolute deviation
 * × 1.2533 then stands in, and a tiny floor keeps a constant history from dividing by zero.
 * Reorders a[0..n).
 */
export function robustScale(a: Float64Array, n: number, center: number): number {
  let meanAbs = 0;
  for (let i = 0; i < n; i++) {
    a[i] = Math.abs(a[i] - center);
    meanAbs += a[i];
  }
  meanAbs /= Math.max(1, n);
  const madScale = MAD_TO_SIGMA * medianInPlace(a, n);
  if (madScale > 0) return madScale;
  if (meanAbs > 0) return 1.2533 * meanAbs;
  return 1e-9 * Math.max(1, Math.abs(center));
}

/** A fixed-capacity ring of numbers; `at(0)` is the newest. */
export class Ring {
  readonly capacity: number;
  private readonly buf: Float64Array;
  private head = 0;
  size = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
    this.buf = new Float64Array(this.capacity).fill(NaN);
  }

  push(v: number): void {
    this.buf[this.head] = v;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.size < this.capacity) this.size++;
  }

  /** lag 0 = newest; NaN beyond what is stored. */
  at(lag: number): number {
    if (lag >= this.size) return NaN;
    let i = this.head - 1 - lag;
    if (i < 0) i += this.capacity;
    return this.buf[i];
  }

  clear(): void {
    this.buf.fill(NaN);
    this.head = 0;
    this.size = 0;
  }

  /** Adds to the value at `lag` (0 = newest). */
  addAt(lag: number, delta: number): void {
    this.setAt(lag, this.at(lag) + delta);
  }

  setAt(lag: number, v: number): void {
    if (lag >= this.size) return;
    let i = this.head - 1 - lag;
    if (i < 0) i += this.capacity;
    this.buf[i] = v;
  }

  /** The newest `n` values (fewer if not stored yet), oldest first. */
  last(n: number): Float64Array {
    const m = Math.min(n, this.size);
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) out[i] = this.at(m - 1 - i);
    return out;
  }

  /** Copies the stored non-NaN values into `out`; returns how many. */
  copyFinite(out: Float64Array): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (!Number.isNaN(this.buf[i])) out[n++] = this.buf[i];
    return n;
  }

  /** Median of the newest `n` values, NaN with fewer than `minCount` of them present. */
  medianOfLast(n: number, minCount: number, scratch: Float64Array): number {
    let m = 0;
    for (let lag = 0; lag < Math.min(n, this.size); lag++) {
      const v = this.at(lag);
      if (!Number.isNaN(v)) scratch[m++] = v;
    }
    return m >= minCount ? medianInPlace(scratch, m) : NaN;
  }
}

/** Sum and sum of squares over the last `length` values, NaN-aware, O(1) per push. */
class RunningWindow {
  private readonly ring: Ring;
  private sum = 0;
  private sumSq = 0;
  private count = 0;
  private pushes = 0;

  constructor(readonly length: number) {
    this.ring = new Ring(length);
  }

  push(v: number): void {
    if (this.ring.size === this.length) {
      const old = this.ring.at(this.length - 1);
      if (!Number.isNaN(old)) {
        this.sum -= old;
        this.sumSq -= old * old;
        this.count--;
      }
    }
    this.ring.push(v);
    if (!Number.isNaN(v)) {
      this.sum += v;
      this.sumSq += v * v;
      this.count++;
    }
    // Re-sum from the stored values now and then so rounding cannot pile up over months.
    if (++this.pushes % (64 * this.length) === 0) this.resum();
  }

  private resum(): void {
    this.sum = this.sumSq = 0;
    this.count = 0;
    for (let lag = 0; lag < this.ring.size; lag++) {
      const v = this.ring.at(lag);
      if (Number.isNaN(v)) continue;
      this.sum += v;
      this.sumSq += v * v;
      this.count++;
    }
  }

  clear(): void {
    this.ring.clear();
    this.sum = this.sumSq = 0;
    this.count = 0;
  }

  mean(minCount: number): number {
    return this.count >= minCount ? this.sum / this.count : NaN;
  }

  rms(minCount: number): number {
    return this.count >= minCount ? Math.sqrt(Math.max(0, this.sumSq) / this.count) : NaN;
  }
}

/**
 * The last `length` values kept sorted (NaN skipped), for a running median at O(length) moves per
 * push instead of a selection over a copy.
 */
class SortedWindow {
  private readonly ring: Ring;
  private readonly sorted: Float64Array;
  count = 0;

  constructor(readonly length: number) {
    this.ring = new Ring(length);
    this.sorted = new Float64Array(length);
  }

  push(v: number): void {
    if (this.ring.size === this.length) {
      const old = this.ring.at(this.length - 1);
      if (!Number.isNaN(old)) {
        const i = this.find(old);
        this.sorted.copyWithin(i, i + 1, this.count);
        this.count--;
      }
    }
    this.ring.push(v);
    if (Number.isNaN(v)) return;
    const i = this.find(v);
    this.sorted.copyWithin(i + 1, i, this.count);
    this.sorted[i] = v;
    this.count++;
  }

  clear(): void {
    this.ring.clear();
    this.count = 0;
  }

  median(): number {
    const n = this.count;
    if (n === 0) return NaN;
    const mid = n >> 1;
    return n % 2 === 1 ? this.sorted[mid] : (this.sorted[mid - 1] + this.sorted[mid]) / 2;
  }

  /** First position holding a value ≥ v. */
  private find(v: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
