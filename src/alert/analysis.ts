/**
 * What forecast and anomaly rules see: per series, a tracker turns the metric's readings into the
 * value the alert state machine judges — the seconds left until the forecast reaches the target, or
 * the percentage of recent minutes the anomaly detector flagged — with the same analyses as
 * `report --capacity` and `report --anomalies --online`. Trackers start empty and learn as samples
 * arrive; `seed` hands them recorded minute rollups so a restart does not blind them. Pure apart
 * from the time it is given.
 */
import { forecastCapacity } from "../analyze/capacity.ts";
import { OnlineAnomalyScorer, type OnlineVerdict } from "../analyze/anomaly.ts";
import type { AnomalyRule, ForecastRule } from "./types.ts";
import { NEVER_SECONDS } from "./types.ts";
import { MINUTE_MS } from "../core/duration.ts";

/** Forecast history is kept as 5-minute means: the fit works on hourly means past two days. */
const FORECAST_STEP_MS = 5 * MINUTE_MS;

/**
 * Recorded minutes of one series (the store's 1m rollups): minute i starts at from + i minutes;
 * NaN means and count 0 where nothing was recorded.
 */
export interface RecordedMinutes {
  from: number;
  mean: Float64Array;
  min: Float64Array;
  max: Float64Array;
  count: Uint32Array;
}

/** The latest analysis of one series, for the /metrics gauges and /api/v1/alerts. */
export type AnalysisState =
  | {
    kind: "forecast";
    /** Seconds until the target; Infinity when not heading there; null while history is short. */
    secondsToTarget: number | null;
    /** Growth in metric units per second (null without a fit). */
    growthPerSecond: number | null;
    /** Why there is no date, or what bounds it (capacity's own words). */
    reason: string;
    /** History the fit could use, in seconds. */
    historySeconds: number;
  }
  | {
    kind: "anomaly";
    /** Severity of the latest judged minute (≥ 1 anomalous, 0 before any). */
    score: number;
    /** Fraction of the window's judged minutes that were anomalous; null before any is judged. */
    rate: number | null;
    /** Judged minutes in the window. */
    judged: number;
  };

export interface SeriesTracker {
  /** Feeds one reading (null when missing) taken at `t` (epoch ms); returns the rule's value. */
  update(t: number, value: number | null): number | null;
  /** Learns from recorded history before `now`, before any reading (ignored after one). */
  seed(minutes: RecordedMinutes, now: number): void;
  state(): AnalysisState;
}

export function trackerFor(rule: ForecastRule | AnomalyRule): SeriesTracker {
  return rule.type === "forecast" ? new ForecastTracker(rule) : new AnomalyTracker(rule);
}

/** Seconds until `target`, from a capacity forecast over the rule's window (see refitMs). */
export class ForecastTracker implements SeriesTracker {
  private readonly t: number[] = [];
  private readonly v: number[] = [];
  private openStart = NaN;
  private openSum = 0;
  private openCount = 0;
  private lastValue: number | null = null;
  private current: number | null = null;
  private analysis: AnalysisState & { kind: "forecast" } = {
    kind: "forecast",
    secondsToTarget: null,
    growthPerSecond: null,
    reason: "no reading yet",
    historySeconds: 0,
  };
  /** The last closed bucket the fit saw (refitted once per bucket, not per sample) and when. */
  private fittedAt = NaN;
  private fitNow = NaN;

  constructor(private readonly rule: ForecastRule) {}

  update(t: number, value: number | null): number | null {
    const start = Math.floor(t / FORECAST_STEP_MS) * FORECAST_STEP_MS;
    if (!Number.isNaN(this.openStart) && start < this.openStart) return this.current;
    if (start !== this.openStart) {
      this.close();
      this.openStart = start;
    }
    if (value !== null && Number.isFinite(value)) {
      this.openSum += value;
      this.openCount++;
      this.lastValue = value;
    }
    // Refit when a bucket closed and the last fit is old enough; the latest reading alone
    // decides "already reached".
    const due = Number.isNaN(this.fitNow) || t - this.fitNow >= this.refitMs();
    if (due && this.fittedAt !== this.t.at(-1)) this.refit(t);
    this.current = this.valueAt(t);
    return this.current;
  }

  seed(minutes: RecordedMinutes, now: number): void {
    if (this.t.length > 0 || !Number.isNaN(this.openStart)) return;
    // The bucket `now` falls in stays open for the live readings that complete it.
    const open = Math.floor(now / FORECAST_STEP_MS) * FORECAST_STEP_MS;
    let start = NaN;
    let sum = 0;
    let count = 0;
    const push = () => {
      if (count === 0) return;
      if (start === open) {
        this.openStart = start;
        this.openSum = sum;
        this.openCount = count;
      } else this.append(start, sum / count);
    };
    for (let i = 0; i < minutes.mean.length; i++) {
      const mean = minutes.mean[i];
      const at = minutes.from + i * MINUTE_MS;
      if (!(minutes.count[i] > 0) || !Number.isFinite(mean) || at >= now) continue;
      const bucket = Math.floor(at / FORECAST_STEP_MS) * FORECAST_STEP_MS;
      if (bucket !== start) {
        push();
        start = bucket;
        sum = 0;
        count = 0;
      }
      sum += mean;
      count++;
    }
    push();
  }

  state(): AnalysisState {
    return this.analysis;
  }

  private close(): void {
    if (this.openCount > 0) this.append(this.openStart, this.openSum / this.openCount);
    this.openSum = 0;
    this.openCount = 0;
  }

  private append(start: number, mean: number): void {
    if (this.t.length > 0 && start <= this.t[this.t.length - 1]) return;
    this.t.push(start);
    this.v.push(mean);
    const oldest = start - this.rule.window * 1000;
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < oldest) drop++;
    if (drop > 0) {
      this.t.splice(0, drop);
      this.v.splice(0, drop);
    }
  }

  private refit(now: number): void {
    this.fittedAt = this.t.at(-1) ?? NaN;
    this.fitNow = now;
    const history = this.t.length > 1 ? (this.t[this.t.length - 1] - this.t[0]) / 1000 : 0;
    const percent = (this.rule.target / this.rule.capacity) * 100;
    const forecast = forecastCapacity(
      { t: Float64Array.from(this.t), v: Float64Array.from(this.v) },
      {
        capacity: this.rule.capacity,
        thresholds: [percent],
        now,
        minHistoryMs: this.rule.minHistory * 1000,
      },
    );
    const threshold = forecast.thresholds[0];
    let seconds: number | null;
    switch (threshold?.status) {
      case "reached":
        seconds = 0;
        break;
      case "forecast":
        seconds = Math.max(0, (threshold.eta! - now) / 1000);
        break;
      case "beyond horizon":
      case "not growing":
        seconds = Infinity;
        break;
      default:
        seconds = null;
    }
    this.analysis = {
      kind: "forecast",
      secondsToTarget: seconds,
      growthPerSecond: forecast.growth ? forecast.growth.perDay / 86_400 : null,
      reason: threshold?.reason ?? forecast.recommendation,
      historySeconds: history,
    };
  }

  /**
   * How often to fit again: every closed bucket while the fit uses 5-minute means, every 15
   * minutes once two days of history make it use hourly ones (a quarter of its step).
   */
  private refitMs(): number {
    const span = this.t.length > 1 ? this.t[this.t.length - 1] - this.t[0] : 0;
    return span >= 2 * 86_400_000 ? 15 * MINUTE_MS : FORECAST_STEP_MS;
  }

  /** The fitted answer, except that a latest reading at or past the target means "now". */
  private valueAt(now: number): number | null {
    const s = this.analysis.secondsToTarget;
    if (this.lastValue !== null && this.lastValue >= this.rule.target) return 0;
    // No date from long enough a history: a cleanup or another change left too little since.
    // The alert must clear (the disk was cleaned); a new series just has nothing to say yet.
    if (s === null) {
      return this.analysis.historySeconds >= this.rule.minHistory ? NEVER_SECONDS : null;
    }
    if (!Number.isFinite(s)) return NEVER_SECONDS;
    // The date was fitted up to 5 minutes ago: count down from it meanwhile.
    return Math.max(0, s - (now - this.fitNow) / 1000);
  }
}

/** Percentage of the window's judged minutes that the causal anomaly detector flagged. */
export class AnomalyTracker implements SeriesTracker {
  private readonly scorer: OnlineAnomalyScorer;
  /** Judged minutes in the window: their starts and verdicts, oldest first. */
  private readonly starts: number[] = [];
  private readonly flags: boolean[] = [];
  private lastJudged = NaN;
  private score = 0;
  private fed = false;

  constructor(private readonly rule: AnomalyRule) {
    this.scorer = new OnlineAnomalyScorer({ stepMs: MINUTE_MS, sensitivity: rule.sensitivity });
  }

  update(t: number, value: number | null): number | null {
    this.fed = true;
    this.record(this.scorer.push(t, value === null || !Number.isFinite(value) ? NaN : value));
    this.prune(t);
    const judged = this.starts.length;
    return judged === 0 ? null : (100 * this.flagged()) / judged;
  }

  seed(minutes: RecordedMinutes, now: number): void {
    if (this.fed) return;
    // Only complete minutes: the one `now` falls in is left to the live readings.
    const open = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    for (let i = 0; i < minutes.mean.length; i++) {
      const start = minutes.from + i * MINUTE_MS;
      if (start >= open) break;
      if (!(minutes.count[i] > 0)) continue;
      this.record(this.scorer.pushBucket({
        start,
        mean: minutes.mean[i],
        min: minutes.min[i],
        max: minutes.max[i],
        count: minutes.count[i],
      }));
    }
    this.prune(now);
  }

  state(): AnalysisState {
    const judged = this.starts.length;
    return {
      kind: "anomaly",
      score: this.score,
      rate: judged > 0 ? this.flagged() / judged : null,
      judged,
    };
  }

  private record(v: OnlineVerdict) {
    if (v.bucketStart === this.lastJudged || Number.isNaN(v.bucketStart)) return;
    this.lastJudged = v.bucketStart;
    this.score = v.score;
    if (!v.judged) return;
    this.starts.push(v.bucketStart);
    this.flags.push(v.anomalous);
  }

  /** Forgets the judged minutes that ended before the window. */
  private prune(now: number): void {
    const oldest = now - this.rule.window * 1000 - MINUTE_MS;
    let drop = 0;
    while (drop < this.starts.length && this.starts[drop] < oldest) drop++;
    if (drop > 0) {
      this.starts.splice(0, drop);
      this.flags.splice(0, drop);
    }
  }

  /** Judged minutes in the window that were flagged. */
  private flagged(): number {
    return this.flags.filter(Boolean).length;
  }
}
