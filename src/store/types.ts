/**
 * The storage interface every consumer reads and writes through (record, report, watch --replay,
 * alert check, the REST range API). The file adapter implements it today; a Prometheus adapter
 * (remote_write out, HTTP API in) can implement the same contract later without touching callers:
 * nothing here names a file, a tier or a line format.
 */
import type { Sample } from "../core/model.ts";

/** How the values of one series inside one step are reduced to one number. */
export type Aggregation = "min" | "avg" | "max" | "last" | "p95";
export const AGGREGATIONS: readonly Aggregation[] = ["min", "avg", "max", "last", "p95"];

/**
 * A series is one number over time: a scalar model metric (`memory_used`) or one entity's metric,
 * written `metric[entity]` (`disk_read_bytes_per_second[sda]`, `fs_usage_percent[/var]`).
 */
export type SeriesKey = string;

export interface RangeQuery {
  /** Epoch milliseconds, inclusive. */
  from: number;
  /** Epoch milliseconds, exclusive. */
  to: number;
  /** Model metric names; every stored metric when omitted. */
  metrics?: readonly string[];
  /** Keeps per-entity series whose entity matches; scalars are always kept. */
  entity?: RegExp;
  /** Seconds per output point, aligned to the epoch; 0 returns every stored sample as it is. */
  step: number;
  aggregation: Aggregation;
}

/** One output row: the step's start time and the reduced value of every selected series. */
export interface Point {
  time: number;
  values: Record<SeriesKey, number | null>;
}

export interface TierInfo {
  /** "raw", "1m" or "1h" for the file adapter. */
  name: string;
  /** Seconds between stored points (0 = as recorded). */
  resolution: number;
  /** Seconds the tier is kept. */
  retention: number;
  /** Epoch ms of the first and last stored point; absent when the tier is empty. */
  from?: number;
  to?: number;
  files: number;
  /** NaN when info() was asked without sizes. */
  bytes: number;
}

export interface StoreInfo {
  backend: string;
  /** Where the data lives (a directory, a URL). */
  location: string;
  hosts: string[];
  tiers: TierInfo[];
  /** Every model metric name stored in the newest data, sorted. */
  metrics: string[];
}

/** Counters for self metrics and status lines. */
export interface StoreStats {
  samplesWritten: number;
  /** Samples waiting in memory because the last write failed. */
  samplesBuffered: number;
  /** Samples dropped because the in-memory buffer was full (oldest first). */
  samplesDropped: number;
  writeErrors: number;
  /** Unreadable lines skipped by readers (torn or corrupt). */
  linesSkipped: number;
  lastError?: string;
}

export interface Storage {
  /** Queues one sample; durable after the next flush (see the adapter's flush policy). */
  write(sample: Sample): Promise<void>;
  /** Writes everything queued now. Never throws for an I/O failure: the data stays buffered. */
  flush(): Promise<void>;
  /** Aggregated range query, streamed in time order; memory does not grow with the range. */
  query(q: RangeQuery): AsyncIterable<Point>;
  /** Stored samples in time order, whole (for replay); `to` exclusive. */
  samples(from: number, to: number): AsyncIterable<Sample>;
  /** `sizes: false` leaves the byte counts NaN and spares a stat per file (reports). */
  info(opts?: { sizes?: boolean }): Promise<StoreInfo>;
  stats(): StoreStats;
  /** True when the last write (or a probe) succeeded: what /readyz reports. */
  writable(): boolean;
  /** Flushes and releases files and locks. */
  close(): Promise<void>;
}
