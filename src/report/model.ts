/**
 * What `sysmon report` found, as plain data: every output format (terminal, JSON, CSV, Markdown,
 * HTML) renders this one model, and `--format json` prints it as it is. Times are ISO 8601 strings
 * (UTC); numbers are in the model's units (docs/metrics.md): percent 0–100, bytes, bytes/s, seconds.
 * A figure that could not be computed is null with a reason next to it, never a made-up number.
 */

export const REPORT_VERSION = 1;

export interface ReportModel {
  version: 1;
  /** Hosts whose samples the range holds (normally one). */
  hosts: string[];
  generatedAt: string;
  range: {
    from: string;
    to: string;
    /** Seconds per point of the data read (0 = raw samples). */
    resolutionSeconds: number;
    /** Where it came from: a data directory, or --input FILE. */
    source: string;
  };
  coverage: Coverage;
  summary: SummaryRow[];
  busiest: { cores: Ranked[]; disks: Ranked[]; interfaces: Ranked[] };
  /** Present with --capacity. */
  capacity?: CapacityRow[];
  /** Present with --anomalies. */
  anomalies?: AnomalyEvent[];
  /** What the charts draw (the terminal and HTML outputs). */
  charts: ChartSeries[];
  /** Plain-language remarks: too little data, skipped series, bad input lines. */
  notes: string[];
}

export interface Coverage {
  /** Seconds of the range with data, and the range's length. */
  coveredSeconds: number;
  rangeSeconds: number;
  gaps: Gap[];
}

export interface Gap {
  from: string;
  to: string;
  seconds: number;
  /** "reboot" when the boot time changed across the gap, "downtime" otherwise; "unknown" if unsure. */
  reason: "reboot" | "downtime" | "unknown";
}

export interface Threshold {
  severity: "warning" | "critical";
  /** The rule's raise threshold. */
  value: number;
  rule: string;
  /** Time the series spent past it within the range, and as a share of the covered time. */
  seconds: number;
  fraction: number;
}

export interface SummaryRow {
  metric: string;
  entity?: string;
  unit: string;
  min: number | null;
  mean: number | null;
  p95: number | null;
  max: number | null;
  /** Readings aggregated. */
  count: number;
  /** The alert rules on this series, with the time spent past each threshold. */
  thresholds: Threshold[];
}

export interface Ranked {
  entity: string;
  metric: string;
  unit: string;
  mean: number | null;
  p95: number | null;
  max: number | null;
}

export interface CapacityEta {
  /** The level, in the series' unit (e.g. 80, 90, 100 percent). */
  threshold: number;
  /** When it is reached, and the confidence interval; null with `reason` when there is no date. */
  at: string | null;
  earliest: string | null;
  latest: string | null;
  reason?: string;
}

export interface CapacityRow {
  /** What fills up; "series" for a CSV given with --input. */
  resource:
    | "filesystem space"
    | "filesystem inodes"
    | "memory"
    | "swap"
    | "cpu"
    | "network"
    | "series";
  metric: string;
  entity?: string;
  unit: string;
  current: number | null;
  verdict:
    | "will reach"
    | "already above"
    | "growing slowly"
    | "not growing"
    | "shrinking"
    | "insufficient history";
  /** Growth per day in the unit, with its confidence interval. */
  growthPerDay: number | null;
  growthCi: [number, number] | null;
  etas: CapacityEta[];
  window: { from: string; to: string; points: number };
  /** Fit quality: share of variance the trend explains (0–1) and the residual spread (robust). */
  fit: { r2: number | null; residualMad: number | null };
  recommendation: string;
}

export interface AnomalyEvent {
  from: string;
  to: string;
  /**
   * How far past their thresholds the agreeing detectors went (≥ 1 for one series); for several
   * series the root sum of squares of theirs, so broad incidents rank above narrow ones.
   */
  score: number;
  /** Detectors that agreed (zscore, level, kmeans). */
  detectors: string[];
  series: { metric: string; entity?: string; peak: number | null; unit: string }[];
}

export interface ChartSeries {
  id: string;
  title: string;
  unit: string;
  /** [epoch ms, value or null] in time order. */
  points: [number, number | null][];
  /** The forecast past the last point: [epoch ms, value, low, high]. */
  forecast?: [number, number, number, number][];
  /** Horizontal lines (alert thresholds, capacity levels). */
  thresholds?: { value: number; label: string; severity?: "warning" | "critical" }[];
  /** Shaded anomaly windows, epoch ms. */
  anomalies?: [number, number][];
}
