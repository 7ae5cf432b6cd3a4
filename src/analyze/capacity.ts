/**
 * Capacity forecasts: when will a filesystem, memory, swap, CPU or a link reach 80 / 90 / 100 % —
 * or the honest answer that it will not, or that the history cannot tell.
 *
 * What makes it better than extrapolating the last hour (predict_linear, fill-time alarms):
 * - a robust trend (Theil–Sen) on hourly means of at least two days, with a confidence interval
 *   widened for autocorrelation, so noise and nightly bursts neither move the slope nor fake
 *   certainty;
 * - a daily/weekly pattern is removed before fitting and added back for the forecast, so "90 %"
 *   means "the daily peak touches 90 %";
 * - periodic resets (log rotation, cleanups) switch to the trend of the cycle peaks; the rise inside
 *   one cycle is never extrapolated;
 * - only the data after the last level change, reset or slope change is used;
 * - no date further out than `horizonFactor` × the window, and no date at all while the growth is
 *   not distinguishable from zero.
 * Pure: series in, forecast out.
 */
import { lowerBound, quantile, type Series } from "./series.ts";
import {
  aggregate,
  aggregateStep,
  DAY_MS,
  deseasonalise,
  detectChangePoints,
  detectPattern,
  findJumps,
  fitTrend,
  HOUR_MS,
  type Jump,
  normalQuantile,
  type Seasonality,
  seasonalOffset,
  timeSpan,
  trendAt,
  type TrendFit,
} from "./trend.ts";

export type CapacityVerdict =
  | "will reach" // at least one threshold not yet reached gets a date within the horizon
  | "already above" // a threshold is reached and no further one gets a date
  | "growing slowly" // growth is real but reaches no further threshold within the horizon
  | "not growing" // growth not distinguishable from zero
  | "shrinking" // the whole confidence interval of the growth is below zero
  | "insufficient history";

/** What the series measures; only the wording of the recommendation depends on it. */
export type ResourceKind = "filesystem" | "inodes" | "memory" | "swap" | "cpu" | "network";

export interface CapacityOptions {
  /** The series' value at 100 % (100 for a percentage series, the size in bytes for bytes used). */
  capacity: number;
  /** Levels to forecast, in percent of `capacity` (e.g. [80, 90, 100]). */
  thresholds: number[];
  /** Time of the forecast (epoch ms); samples after it are ignored. */
  now: number;
  /** Least history the fit may use (default 2 days: a daily cycle seen twice). */
  minHistoryMs?: number;
  /** No date further ahead than this many times the window fitted (default 3). */
  horizonFactor?: number;
  /** Of the growth's and the dates' intervals (default 0.95). */
  confidence?: number;
  kind?: ResourceKind;
}

export interface ThresholdForecast {
  percent: number;
  /** The threshold in series units: capacity · percent / 100. */
  value: number;
  status: "reached" | "forecast" | "beyond horizon" | "not growing" | "insufficient history";
  /** Central estimate (epoch ms); null unless status is "forecast". */
  eta: number | null;
  /** Interval of the date from the growth's interval; `latest` null when beyond the horizon. */
  earliest: number | null;
  latest: number | null;
  /** Why there is no date, or what bounds it, in plain words. */
  reason: string;
}

export interface CapacityForecast {
  verdict: CapacityVerdict;
  /** Fitted level at `now` including the peak of a daily/weekly pattern or the cycle peaks. */
  level: number | null;
  levelPercent: number | null;
  /** Growth per day in series units and in percent of capacity, with its interval. */
  growth: {
    perDay: number;
    lowPerDay: number;
    highPerDay: number;
    percentPerDay: number;
    lowPercentPerDay: number;
    highPercentPerDay: number;
    confidence: number;
  } | null;
  thresholds: ThresholdForecast[];
  /** The data the fit used. `basis` says what was fitted (hourly means, cycle peaks…). */
  window: {
    start: number;
    end: number;
    spanMs: number;
    points: number;
    stepMs: number;
    basis: string;
  } | null;
  /** No date is given beyond this time. */
  horizonEnd: number | null;
  fit: { r2: number; residualSigma: number; lag1: number; nEffective: number } | null;
  /** What was recognised in the history, in plain words (pattern, resets, changes). */
  notes: string[];
  recommendation: string;
}

const DEFAULT_MIN_HISTORY_MS = 2 * DAY_MS;
const DEFAULT_HORIZON_FACTOR = 3;
/** Fewest aggregated points (hourly means, cycle peaks excepted) a fit may use. */
const MIN_POINTS = 24;
/** Fewest complete cycles whose peaks can show a long-term trend under periodic resets. */
const MIN_CYCLES = 3;
/** Sudden changes smaller than this fraction of capacity are ordinary growth, not level changes. */
const MIN_JUMP_FRACTION = 0.01;

/** The capacity forecast of one series. */
export function forecastCapacity(series: Series, opts: CapacityOptions): CapacityForecast {
  if (!(opts.capacity > 0)) throw new Error(`capacity must be positive, got ${opts.capacity}`);
  const ctx: Context = {
    opts,
    minHistory: opts.minHistoryMs ?? DEFAULT_MIN_HISTORY_MS,
    confidence: opts.confidence ?? 0.95,
    notes: [],
  };
  const upTo = lowerBound(series.t, opts.now + 1); // a view: no copy of a month of samples
  const data = { t: series.t.subarray(0, upTo), v: series.v.subarray(0, upTo) };
  const span = timeSpan(data);
  if (span === 0) return insufficient(ctx, "there is no data before the forecast time", null);
  if (span < ctx.minHistory) {
    return insufficient(
      ctx,
      `only ${spell(span)} of history; a forecast needs at least ${spell(ctx.minHistory)}`,
      latestValue(data),
    );
  }
  const stepMs = aggregateStep(span);
  const agg = aggregate(data, stepMs);
  const latest = agg.v.length > 0 ? agg.v[agg.v.length - 1] : null;
  if (agg.t.length < MIN_POINTS) {
    return insufficient(
      ctx,
      `only ${agg.t.length} ${stepWord(stepMs)} means with data; a forecast needs ${MIN_POINTS}`,
      latest,
    );
  }
  const season = span >= 3 * DAY_MS ? detectPattern(stepMs === HOUR_MS ? agg : data) : null;
  if (season) {
    ctx.notes.push(
      `${season.periodMs === DAY_MS ? "daily" : "weekly"} pattern of ±${
        percentText(season.amplitude, opts.capacity)
      } removed before fitting; forecasts include its peaks`,
    );
  }
  const adjusted = deseasonalise(agg, season);
  const jumps = withoutExcursions(
    findJumps(adjusted, { minSize: MIN_JUMP_FRACTION * opts.capacity }),
  );
  const drops = jumps.filter((j) => j.size < 0);
  const chosen = drops.length >= 2
    ? cyclePeaks(ctx, adjusted, drops)
    : sinceLastChange(ctx, adjusted, jumps, stepMs);
  if ("reason" in chosen) return insufficient(ctx, chosen.reason, latest);
  return forecastFromFit(ctx, chosen, season, latest);
}

/**
 * Drops a jump and the next one when that undoes it (opposite sign, equal within 25 %): a
 * temporary excursion (a big file created and deleted again, a volume briefly emptied), not a
 * change of level.
 */
function withoutExcursions(jumps: Jump[]): Jump[] {
  const out: Jump[] = [];
  for (const jump of jumps) {
    const previous = out.at(-1);
    const undoes = previous !== undefined && Math.sign(previous.size) === -Math.sign(jump.size) &&
      Math.abs(previous.size + jump.size) <=
        0.25 * Math.max(Math.abs(previous.size), Math.abs(jump.size));
    if (undoes) out.pop();
    else out.push(jump);
  }
  return out;
}

interface Context {
  opts: CapacityOptions;
  minHistory: number;
  confidence: number;
  notes: string[];
}

/** A fit ready to extrapolate, with the window it covers. */
interface Chosen {
  fit: TrendFit;
  window: NonNullable<CapacityForecast["window"]>;
  /** Added to the trend line for the level that matters (the top of a staircase's steps). */
  offset: number;
  /**
   * How far the first touch of a level may lie before / after the date the line gives, because
   * growth comes in cycles or steps; the date's interval widens by these.
   */
  earlyMs: number;
  lateMs: number;
}

/**
 * Periodic resets: the level that matters is the peak reached just before each reset, so the trend
 * is that of the peaks of the complete cycles (from one reset to the next; the window's first,
 * partial cycle is left out). A steady rise inside the cycles with a full reset gives flat peaks:
 * not growing, however steep the rise. The first touch of a level falls within one cycle of the
 * date the peaks' line reaches it.
 */
function cyclePeaks(ctx: Context, adjusted: Series, drops: Jump[]): Chosen | { reason: string } {
  const peakT: number[] = [];
  const peakV: number[] = [];
  for (let k = 1; k < drops.length; k++) {
    let best = drops[k - 1].index;
    for (let i = best; i < drops[k].index; i++) if (adjusted.v[i] > adjusted.v[best]) best = i;
    peakT.push(adjusted.t[best]);
    peakV.push(adjusted.v[best]);
  }
  const gaps = drops.slice(1).map((d, k) => d.time - drops[k].time);
  const cycle = quantile(gaps, 0.5);
  ctx.notes.push(
    `the level drops sharply about every ${spell(cycle)} (${drops.length} resets: log rotation ` +
      "or cleanup?); the trend is that of the peaks before each reset",
  );
  if (peakT.length < MIN_CYCLES) {
    return {
      reason: `the level resets periodically and only ${peakT.length} complete cycles were seen; ` +
        `telling long-term growth from the rise inside a cycle needs ${MIN_CYCLES}`,
    };
  }
  const fit = fitTrend({ t: Float64Array.from(peakT), v: Float64Array.from(peakV) }, {
    confidence: ctx.confidence,
  });
  if (!fit) return { reason: "too few cycle peaks to fit" };
  const start = drops[0].time;
  const end = adjusted.t[adjusted.t.length - 1];
  return {
    fit,
    offset: 0,
    earlyMs: cycle,
    lateMs: cycle,
    window: {
      start,
      end,
      spanMs: end - start,
      points: peakT.length,
      stepMs: cycle,
      basis: `peaks of ${peakT.length} complete cycles between resets`,
    },
  };
}

/**
 * No periodic resets: fit only after the last sudden level change (one drop: a cleanup; one rise: a
 * big addition) and the last change point of the piecewise-linear model after it. Two or more rises
 * and no drop are a staircase — the steps are the growth — so the whole window is kept, and the
 * level that matters is the top of the steps: the line plus half a typical step, first touched
 * within one step interval after that line reaches it.
 */
function sinceLastChange(
  ctx: Context,
  adjusted: Series,
  jumps: Jump[],
  stepMs: number,
): Chosen | { reason: string } {
  let from = 0;
  let changed: { at: number; what: string } | null = null;
  let offset = 0;
  let lateMs = 0;
  const lastDrop = jumps.findLast((j) => j.size < 0);
  if (lastDrop) {
    from = lastDrop.index;
    changed = { at: lastDrop.time, what: "a sharp drop (a cleanup?)" };
  }
  const rises = jumps.filter((j) => j.size > 0 && j.index >= from);
  if (rises.length === 1 && !onTrend(adjusted, from, rises[0], ctx.minHistory)) {
    from = rises[0].index;
    changed = { at: rises[0].time, what: "a sudden rise" };
  } else if (rises.length === 1) {
    ctx.notes.push("a sudden rise keeps to the trend before it (growth in steps?); it is kept");
  } else if (rises.length >= 2) {
    offset = quantile(rises.map((r) => r.size), 0.5) / 2;
    lateMs = quantile(rises.slice(1).map((r, k) => r.time - rises[k].time), 0.5);
    ctx.notes.push(
      `growth comes in ${rises.length} sudden steps (about every ${spell(lateMs)}); ` +
        "the trend runs through them and dates are for the top of the steps",
    );
  } else {
    const rest = { t: adjusted.t.subarray(from), v: adjusted.v.subarray(from) };
    const change = detectChangePoints(rest).at(-1);
    if (change) {
      from += change.index;
      changed = {
        at: change.time,
        what: change.kind === "level" ? "a change of level" : "a change of growth rate",
      };
    }
  }
  const end = adjusted.t[adjusted.t.length - 1];
  if (changed) {
    ctx.notes.push(
      `${changed.what} ${spell(ctx.opts.now - changed.at)} ago; only the data since is fitted`,
    );
    const since = end - adjusted.t[from];
    if (since < ctx.minHistory) {
      return {
        reason: `the series changed ${spell(ctx.opts.now - changed.at)} ago (${changed.what}); ` +
          `${spell(since)} since is too little (at least ${spell(ctx.minHistory)} needed)`,
      };
    }
  }
  const window = { t: adjusted.t.subarray(from), v: adjusted.v.subarray(from) };
  if (window.t.length < MIN_POINTS) {
    return { reason: `only ${window.t.length} ${stepWord(stepMs)} means since the last change` };
  }
  const fit = fitTrend(window, { confidence: ctx.confidence });
  if (!fit) return { reason: "too few points to fit" };
  const pattern = ctx.notes.some((n) => n.includes("pattern")) ? ", pattern removed" : "";
  return {
    fit,
    offset,
    earlyMs: 0,
    lateMs,
    window: {
      start: window.t[0],
      end,
      spanMs: end - window.t[0],
      points: window.t.length,
      stepMs,
      basis: `${stepWord(stepMs)} means${pattern}`,
    },
  };
}

/**
 * Whether the points after a single rise lie where the trend before it was heading — within 3/4
 * of the rise, in the median — as after one step of a staircase whose other steps were too small
 * to stand out; a one-off addition lifts the level by the whole rise instead. Without enough
 * history before the rise to tell, it is not.
 */
function onTrend(adjusted: Series, from: number, rise: Jump, minHistory: number): boolean {
  const before = {
    t: adjusted.t.subarray(from, rise.index),
    v: adjusted.v.subarray(from, rise.index),
  };
  if (before.t.length < MIN_POINTS || rise.time - before.t[0] < minHistory) return false;
  const fit = fitTrend(before);
  if (!fit) return false;
  const after = adjusted.v.subarray(rise.index).map((v, i) =>
    v - trendAt(fit, adjusted.t[rise.index + i])
  );
  return Math.abs(quantile(after, 0.5)) < 0.75 * rise.size;
}

function forecastFromFit(
  ctx: Context,
  chosen: Chosen,
  season: Seasonality | null,
  latest: number | null,
): CapacityForecast {
  const { opts, confidence } = ctx;
  const { fit, window } = chosen;
  const capacity = opts.capacity;
  const horizonEnd = opts.now + (opts.horizonFactor ?? DEFAULT_HORIZON_FACTOR) * window.spanMs;
  const peakOffset = chosen.offset + (season ? Math.max(...season.profile) : 0);
  const level = Math.max(trendAt(fit, opts.now) + peakOffset, latest ?? -Infinity);
  // Growth counts when its interval excludes zero and it moved the level over the window by at
  // least half the scatter of the fitted points: less is of no consequence, and under a strong
  // pattern it is more likely a leftover of the pattern's estimate than growth.
  const material = Math.abs(fit.slopePerDay) * (window.spanMs / DAY_MS) >= fit.residualSigma / 2;
  const growing = fit.slopeLowPerDay > 0 && material;
  const shrinking = fit.slopeHighPerDay < 0 && material;
  // The line's level is uncertain too: the standard error of a median, 1.2533·σ/√n_eff.
  const levelMargin = normalQuantile(0.5 + confidence / 2) * 1.2533 * fit.residualSigma /
    Math.sqrt(fit.nEffective);
  // The series itself goes above its line (steps too small to stand out, wander): the first touch
  // can come as early as the line plus that scatter (its 95th percentile) reaches the level.
  const scatter = Math.max(0, fit.residualHigh);
  const rate = (slope: number) => (100 * slope) / capacity;
  const growth = {
    perDay: fit.slopePerDay,
    lowPerDay: fit.slopeLowPerDay,
    highPerDay: fit.slopeHighPerDay,
    percentPerDay: rate(fit.slopePerDay),
    lowPercentPerDay: rate(fit.slopeLowPerDay),
    highPercentPerDay: rate(fit.slopeHighPerDay),
    confidence,
  };
  // The first time the forecast — the line with `slope` through the fit's pivot, plus the offset
  // and the pattern — reaches `value`, up to the horizon; null when it does not.
  const crossing = (value: number, slope: number, shift = 0): number | null => {
    if (!(slope > 0)) return null;
    const at = (t: number) =>
      trendAt(fit, t, slope) + shift + chosen.offset + seasonalOffset(season, t);
    // Before the line plus the pattern's highest point reaches the value, nothing can.
    const first = fit.pivotTime +
      ((value - shift - peakOffset - fit.pivotLevel) * DAY_MS) / slope;
    let t = Math.max(opts.now, first);
    if (!season) return t <= horizonEnd ? t : null;
    if (at(t) >= value) return t;
    // The pattern is linear between slot middles, so walk them and interpolate the crossing.
    const slot = season.slotMs;
    let previous = { t, v: at(t) };
    for (t = Math.floor(t / slot) * slot + slot / 2; t <= horizonEnd + slot; t += slot) {
      if (t <= previous.t) continue;
      const v = at(t);
      if (v >= value) {
        const crossed = previous.t + ((value - previous.v) / (v - previous.v)) * (t - previous.t);
        return crossed <= horizonEnd ? crossed : null;
      }
      previous = { t, v };
    }
    return null;
  };
  const thresholds = opts.thresholds.map((percent): ThresholdForecast => {
    const value = (capacity * percent) / 100;
    const base = { percent, value, eta: null, earliest: null, latest: null };
    if (level >= value) {
      return { ...base, status: "reached", reason: `already at ${percentText(level, capacity)}` };
    }
    if (!growing) {
      const reason = shrinking
        ? "usage is falling"
        : fit.slopeLowPerDay > 0
        ? "the growth over the window is smaller than the scatter of the data"
        : "no growth distinguishable from zero";
      return { ...base, status: "not growing", reason };
    }
    const eta = crossing(value, fit.slopePerDay);
    if (eta === null) {
      return {
        ...base,
        status: "beyond horizon",
        reason: `not within the next ${spell(horizonEnd - opts.now)} at the current rate ` +
          `(forecasts reach ${opts.horizonFactor ?? DEFAULT_HORIZON_FACTOR}× the ${
            spell(window.spanMs)
          } window)`,
      };
    }
    const earliest = Math.max(
      opts.now,
      Math.min(crossing(value, fit.slopeHighPerDay, levelMargin + scatter) ?? eta, eta) -
        chosen.earlyMs,
    );
    let latestEta = crossing(value, fit.slopeLowPerDay, -levelMargin);
    if (latestEta !== null) latestEta = Math.max(latestEta, eta) + chosen.lateMs;
    if (latestEta !== null && latestEta > horizonEnd) latestEta = null;
    return {
      ...base,
      status: "forecast",
      eta,
      earliest,
      latest: latestEta,
      reason: latestEta === null ? "the latest date of the interval is beyond the horizon" : "",
    };
  });
  const verdict: CapacityVerdict = thresholds.some((t) => t.status === "forecast")
    ? "will reach"
    : thresholds.some((t) => t.status === "reached")
    ? "already above"
    : growing
    ? "growing slowly"
    : shrinking
    ? "shrinking"
    : "not growing";
  const result: CapacityForecast = {
    verdict,
    level,
    levelPercent: (100 * level) / capacity,
    growth,
    thresholds,
    window,
    horizonEnd,
    fit: {
      r2: fit.r2,
      residualSigma: fit.residualSigma,
      lag1: fit.lag1,
      nEffective: fit.nEffective,
    },
    notes: ctx.notes,
    recommendation: "",
  };
  result.recommendation = recommend(result, opts);
  return result;
}

function insufficient(ctx: Context, reason: string, latest: number | null): CapacityForecast {
  const { capacity, thresholds } = ctx.opts;
  const levelPercent = latest === null ? null : (100 * latest) / capacity;
  return {
    verdict: "insufficient history",
    level: latest,
    levelPercent,
    growth: null,
    thresholds: thresholds.map((percent) => {
      const value = (capacity * percent) / 100;
      const reached = latest !== null && latest >= value;
      return {
        percent,
        value,
        status: reached ? "reached" : "insufficient history",
        eta: null,
        earliest: null,
        latest: null,
        reason: reached ? `already at ${percentText(latest, capacity)}` : reason,
      };
    }),
    window: null,
    horizonEnd: null,
    fit: null,
    notes: ctx.notes,
    recommendation: `No forecast: ${reason}.` +
      (levelPercent !== null ? ` Currently at ${round(levelPercent)} %.` : ""),
  };
}

const ADVICE: Record<ResourceKind | "other", string> = {
  filesystem: "free space (old logs, caches, core dumps) or grow the filesystem",
  inodes:
    "remove masses of small files (caches, spools) or recreate the filesystem with more inodes",
  memory: "find the process whose memory keeps growing (a leak?) or add memory",
  swap: "find what pushes memory out to swap, or add memory",
  cpu: "reduce or spread the load, or add CPUs",
  network: "spread the traffic or move to a faster link",
  other: "reduce usage or add capacity",
};

/** One or two plain sentences: what happens, by when, and what to do. */
function recommend(f: CapacityForecast, opts: CapacityOptions): string {
  const advice = ADVICE[opts.kind ?? "other"];
  const g = f.growth!;
  const over = `over the last ${spell(f.window!.spanMs)}`;
  const [est, lo, hi] = sameDecimals(g.percentPerDay, g.lowPercentPerDay, g.highPercentPerDay);
  const rate = `${est} %/day (${Math.round(100 * g.confidence)} % interval ${lo} to ${hi})`;
  const at = `now at ${round(f.levelPercent!)} %`;
  switch (f.verdict) {
    case "will reach": {
      const [next, ...later] = f.thresholds.filter((t) => t.status === "forecast");
      const when = spellRange(
        next.eta! - opts.now,
        next.earliest! - opts.now,
        next.latest === null ? null : next.latest - opts.now,
      );
      const then = later.map((t) => `, ${t.percent} % in about ${spell(t.eta! - opts.now)}`);
      const lead = next.earliest! - opts.now;
      const act = lead < 7 * DAY_MS ? "Act now" : `Act within ${spell(lead, true)}`;
      return `Usage grows ${rate} ${over}, ${at}; ${next.percent} % is expected ${when}` +
        `${then.join("")}. ${act}: ${advice}.`;
    }
    case "already above": {
      const reached = f.thresholds.filter((t) => t.status === "reached").at(-1)!;
      const trend = g.lowPerDay > 0 ? "grows slowly" : g.highPerDay < 0 ? "is falling" : "is flat";
      const head = `Usage is already at or above ${reached.percent} % (${at}) and ${trend}, ` +
        `${rate} ${over}.`;
      return reached.percent >= 100
        ? `${head} Act now: ${advice}.`
        : `${head} No further threshold is in sight; to regain headroom: ${advice}.`;
    }
    case "growing slowly":
      return `Usage grows slowly, ${rate} ${over}, ${at}; no threshold is reached within the ` +
        `next ${spell(f.horizonEnd! - opts.now)}. No action needed; check again later.`;
    case "shrinking":
      return `Usage is falling, ${rate} ${over}, ${at}. No action needed.`;
    default:
      return `No significant growth ${over}: ${rate}, ${at}. No action needed.`;
  }
}

/** "in about 10 days (9.5 to 11 days)": the interval in the unit of the central value. */
function spellRange(eta: number, earliest: number, latest: number | null): string {
  const unit = unitOf(eta);
  const [a, b] = [earliest, latest ?? eta].map((ms) => (ms / unit.size).toFixed(1));
  const range = latest === null
    ? `at the earliest in ${a} ${unit.name}s; the latest date lies beyond the forecast horizon`
    : a === b
    ? `give or take ${spell(Math.max(eta - earliest, latest - eta))}`
    : `${a} to ${b} ${unit.name}s`;
  return `in about ${spell(eta)} (${range})`;
}

const UNITS: { size: number; name: string }[] = [
  { size: 365.25 * DAY_MS, name: "year" },
  { size: 30.44 * DAY_MS, name: "month" },
  { size: 7 * DAY_MS, name: "week" },
  { size: DAY_MS, name: "day" },
  { size: HOUR_MS, name: "hour" },
  { size: 60_000, name: "minute" },
];

/** The largest unit of which `ms` makes at least two (36 hours, 10 days, 6 weeks). */
function unitOf(ms: number): { size: number; name: string } {
  return UNITS.find((u) => ms >= 2 * u.size) ?? UNITS[UNITS.length - 1];
}

/** "3 hours", "12 days", "5 weeks", "4 months": rounded (down with `floor`), for sentences. */
function spell(ms: number, floor = false): string {
  if (ms < 60_000) return "under a minute";
  const unit = unitOf(ms);
  const count = (floor ? Math.floor : Math.round)(ms / unit.size);
  return `${count} ${unit.name}${count === 1 ? "" : "s"}`;
}

/**
 * An estimate and its interval with one number of decimals: two significant digits of the largest,
 * or enough to show the interval's half-width (at most 4). Signed unless `signed` is false.
 */
function sameDecimals(est: number, lo: number, hi: number, signed = true): string[] {
  const half = Math.abs(hi - lo) / 2;
  const scale = Math.max(Math.abs(est), Math.abs(lo), Math.abs(hi), 1e-12);
  let decimals = Math.max(0, 1 - Math.floor(Math.log10(scale)));
  if (half > 0) decimals = Math.max(decimals, -Math.floor(Math.log10(half)));
  decimals = Math.min(4, decimals);
  return [est, lo, hi].map((x) => {
    const text = x.toFixed(decimals);
    return signed && x > 0 && Number(text) !== 0 ? `+${text}` : text.replace(/^-(0\.?0*)$/, "$1");
  });
}

function stepWord(stepMs: number): string {
  return stepMs === HOUR_MS ? "hourly" : `${Math.round(stepMs / 60_000)}-minute`;
}

function percentText(v: number, capacity: number): string {
  return `${round((100 * v) / capacity)} %`;
}

/** Two significant digits, at most two decimals. */
function round(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const digits = Math.abs(x) >= 10 ? 0 : Math.abs(x) >= 1 ? 1 : 2;
  return x.toFixed(digits);
}

function latestValue(series: Series): number | null {
  for (let i = series.v.length - 1; i >= 0; i--) if (!Number.isNaN(series.v[i])) return series.v[i];
  return null;
}
