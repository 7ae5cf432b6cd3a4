/**
 * The file adapter of the Storage interface: raw samples (JSON Lines or CSV) plus 1-minute and
 * 1-hour rollups in the data directory (layout.ts), with a bounded in-memory buffer that rides out
 * a full disk or an unwritable directory, retention, and start-up repair.
 */
import type { Sample } from "../core/model.ts";
import { formatDuration } from "../core/duration.ts";
import type { Logger } from "../log.ts";
import {
  csvColumns,
  decodeCsvRow,
  decodeJsonSample,
  encodeCsvRow,
  encodeJsonSample,
  quantizeSample,
} from "./codec.ts";
import { ioReason, listNames, statOrUndefined, writeJsonAtomic } from "./fsutil.ts";
import {
  type FileFormat,
  FORMAT_FILE,
  periodBounds,
  STORE_FORMAT_VERSION,
  type TierName,
  TIERS,
  tierSpec,
} from "./layout.ts";
import { firstRecord, lastLine, listTierFiles, readRollups, readSamples } from "./reader.ts";
import { runQuery } from "./query.ts";
import {
  applyRetention,
  type FileEntry,
  planRetention,
  type RetentionPolicy,
} from "./retention.ts";
import { decodeRecord, encodeRecord, RollupAggregator } from "./rollup.ts";
import { flattenValues } from "./series.ts";
import { TierWriter } from "./tier_writer.ts";
import type { Point, RangeQuery, Storage, StoreInfo, StoreStats, TierInfo } from "./types.ts";

export interface FileStoreOptions {
  dir: string;
  host: string;
  format: FileFormat;
  /** Seconds; 0 writes each sample at once. */
  flushInterval: number;
  fsync: boolean;
  maxFileBytes: number;
  bufferSamples: number;
  retention: RetentionPolicy;
  log: Logger;
  now?: () => number;
}

/** The directory holds data of a store format this sysmon cannot read or extend. */
export class StoreFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreFormatError";
  }
}

/** Checks (and for a writer, creates) the FORMAT marker. */
export async function checkStoreFormat(dir: string, create: boolean): Promise<void> {
  const path = `${dir}/${FORMAT_FILE}`;
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (text === undefined) {
    if (create) await writeJsonAtomic(path, { sysmon_store: STORE_FORMAT_VERSION });
    return;
  }
  let version: unknown;
  try {
    version = JSON.parse(text).sysmon_store;
  } catch {
    version = undefined;
  }
  if (version !== STORE_FORMAT_VERSION) {
    throw new StoreFormatError(
      `${dir} holds data of sysmon store format ${
        typeof version === "number" ? version : "unknown (unreadable FORMAT file)"
      }; this sysmon reads and writes format ${STORE_FORMAT_VERSION}: choose another data directory (--data)`,
    );
  }
}

export class FileStore implements Storage {
  private readonly now: () => number;
  private readonly writers: Record<TierName, TierWriter>;
  private readonly aggregators: { tier: TierName; agg: RollupAggregator }[];
  private readonly counters: StoreStats = {
    samplesWritten: 0,
    samplesBuffered: 0,
    samplesDropped: 0,
    writeErrors: 0,
    linesSkipped: 0,
  };
  private ready = false;
  private failing = false;
  private dropping = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  private retentionRunning = false;

  constructor(private readonly opts: FileStoreOptions) {
    this.now = opts.now ?? Date.now;
    const writer = (tier: TierName, format: FileFormat) =>
      new TierWriter({
        dir: `${opts.dir}/${tier}`,
        spec: tierSpec(tier),
        format,
        host: opts.host,
        maxFileBytes: opts.maxFileBytes,
        fsync: opts.fsync,
        log: opts.log,
        now: this.now,
        onRotate: () => this.enforceRetention(),
      });
    this.writers = {
      raw: writer("raw", opts.format),
      "1m": writer("1m", "jsonl"),
      "1h": writer("1h", "jsonl"),
    };
    this.aggregators = TIERS.filter((t) => t.resolution > 0).map((t) => ({
      tier: t.name,
      agg: new RollupAggregator(t.resolution),
    }));
  }

  /**
   * Prepares the directory for writing: format check, repair, retention, and rollups caught up from
   * raw samples a previous run recorded but did not aggregate. I/O failures are logged and retried
   * at the next flush; a directory of another format version throws StoreFormatError.
   */
  async openForWriting(): Promise<void> {
    try {
      await this.setUp();
    } catch (err) {
      if (err instanceof StoreFormatError) throw err;
      this.noteFailure(`cannot prepare data directory ${this.opts.dir}: ${ioReason(err)}`);
    }
  }

  private async setUp(): Promise<void> {
    await Deno.mkdir(this.opts.dir, { recursive: true });
    await checkStoreFormat(this.opts.dir, true);
    for (const w of Object.values(this.writers)) await w.recover();
    await this.catchUpRollups();
    await this.enforceRetention();
    this.ready = true;
  }

  /** Feeds the aggregators with raw samples newer than what each rollup tier already holds. */
  private async catchUpRollups(): Promise<void> {
    for (const { tier, agg } of this.aggregators) {
      const lastTo = await this.lastRollupEnd(tier);
      const from = lastTo === undefined ? this.oldestRawTime() : lastTo + 1;
      for await (const { time, sample } of readSamples(this.opts.dir, await from, Infinity)) {
        for (const rec of agg.add(time, flattenValues(sample))) this.enqueueRollup(tier, rec);
      }
      for (const rec of agg.completedBy(this.now())) this.enqueueRollup(tier, rec);
    }
  }

  private async lastRollupEnd(tier: TierName): Promise<number | undefined> {
    const files = await listTierFiles(this.opts.dir, tier);
    for (let i = files.length - 1; i >= 0; i--) {
      const line = await lastLine(files[i]);
      if (line === undefined) continue;
      try {
        return decodeRecord(line).to;
      } catch {
        continue;
      }
    }
    return undefined;
  }

  private async oldestRawTime(): Promise<number> {
    const files = await listTierFiles(this.opts.dir, "raw");
    return files.length > 0 ? periodBounds(files[0].period).start : this.now();
  }

  private enqueueRollup(tier: TierName, rec: ReturnType<RollupAggregator["drain"]>[number]) {
    this.writers[tier].enqueue({ time: rec.t, line: encodeRecord(rec) });
  }

  write(sample: Sample): Promise<void> {
    const q = quantizeSample(sample);
    const time = Date.parse(q.timestamp);
    if (this.opts.format === "csv") {
      const columns = csvColumns(q);
      this.writers.raw.enqueue({ time, line: encodeCsvRow(q, columns), columns });
    } else {
      this.writers.raw.enqueue({ time, line: encodeJsonSample(q) });
    }
    const values = flattenValues(q);
    for (const { tier, agg } of this.aggregators) {
      for (const rec of agg.add(time, values)) this.enqueueRollup(tier, rec);
    }
    this.boundBuffer();
    if (this.opts.flushInterval === 0) return this.flush();
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, this.opts.flushInterval * 1000);
    }
    return Promise.resolve();
  }

  /** Beyond the bound the oldest raw samples go: counted, and logged once per episode. */
  private boundBuffer(): void {
    const raw = this.writers.raw.pending;
    const excess = raw.length - this.opts.bufferSamples;
    if (excess > 0) {
      raw.splice(0, excess);
      this.counters.samplesDropped += excess;
      if (!this.dropping) {
        this.dropping = true;
        this.opts.log.error(
          `store: in-memory buffer full (${this.opts.bufferSamples} samples): dropping the oldest ` +
            `samples until writing works again`,
        );
      }
    }
    for (const tier of ["1m", "1h"] as const) {
      const pending = this.writers[tier].pending;
      if (pending.length > this.opts.bufferSamples) {
        pending.splice(0, pending.length - this.opts.bufferSamples);
      }
    }
    this.counters.samplesBuffered = this.failing ? raw.length : 0;
  }

  flush(): Promise<void> {
    // One flush at a time: a second caller waits for the running one, then flushes what is left.
    const run = async () => {
      if (this.flushing) await this.flushing;
      await this.flushNow();
    };
    const p = run();
    this.flushing = p.finally(() => {
      if (this.flushing === p) this.flushing = undefined;
    });
    return p;
  }

  private async flushNow(): Promise<void> {
    const buffered = this.writers.raw.pending.length;
    try {
      if (!this.ready) await this.setUp();
      let raw = 0;
      for (const w of Object.values(this.writers)) {
        const n = await w.flush();
        if (w.tier === "raw") raw = n;
      }
      this.counters.samplesWritten += raw;
      if (this.failing) {
        this.opts.log.info(
          `store: writing to ${this.opts.dir} works again: wrote ${buffered} buffered sample(s)` +
            (this.counters.samplesDropped > 0
              ? `; ${this.counters.samplesDropped} dropped in all while the buffer was full`
              : ""),
        );
      }
      this.failing = false;
      this.dropping = false;
      this.counters.samplesBuffered = 0;
    } catch (err) {
      if (err instanceof StoreFormatError) throw err;
      this.counters.writeErrors++;
      this.noteFailure(ioReason(err));
      this.counters.samplesBuffered = this.writers.raw.pending.length;
      this.scheduleRetry();
    }
  }

  private noteFailure(message: string): void {
    this.counters.lastError = message;
    if (!this.failing) {
      this.failing = true;
      this.opts.log.error(
        `store: ${message}; keeping samples in memory (up to ${this.opts.bufferSamples}) and retrying`,
      );
    }
  }

  private scheduleRetry(): void {
    if (this.flushTimer !== undefined) return;
    const delay = Math.max(1, Math.min(this.opts.flushInterval || 5, 30)) * 1000;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, delay);
  }

  /** Deletes what the retention policy says must go; logs each deletion with its reason. */
  async enforceRetention(): Promise<void> {
    if (this.retentionRunning) return;
    this.retentionRunning = true;
    try {
      const files: FileEntry[] = [];
      for (const spec of TIERS) {
        for (const f of await listTierFiles(this.opts.dir, spec.name)) {
          files.push({
            tier: spec.name,
            name: f.name,
            period: f.period,
            part: f.part,
            bytes: f.bytes,
            end: periodBounds(f.period).end,
            open: !f.gzip && periodBounds(f.period).end > this.now(),
          });
        }
      }
      const plan = planRetention(files, this.opts.retention, this.now());
      if (plan.length > 0) await applyRetention(this.opts.dir, plan, this.opts.log);
    } catch (err) {
      this.opts.log.warn(`store: retention check failed: ${ioReason(err)}`);
    } finally {
      this.retentionRunning = false;
    }
  }

  query(q: RangeQuery): AsyncIterable<Point> {
    return runQuery(this.opts.dir, q, this.readOptions());
  }

  async *samples(from: number, to: number): AsyncIterable<Sample> {
    for await (const { sample } of readSamples(this.opts.dir, from, to, this.readOptions())) {
      yield sample;
    }
  }

  private readOptions() {
    return {
      onProblem: (p: { path: string; message: string }) => {
        this.counters.linesSkipped++;
        this.opts.log.warn(`store: ${p.path}: ${p.message}`);
      },
    };
  }

  async info(): Promise<StoreInfo> {
    return await storeInfo(this.opts.dir, this.opts.retention);
  }

  stats(): StoreStats {
    return { ...this.counters };
  }

  writable(): boolean {
    return this.ready && !this.failing;
  }

  /**
   * Flushes and closes. `drain` also writes the open rollup buckets (a daemon stopping), so readers
   * of the rollup tiers see everything; the next start continues after them without double counting.
   */
  async close(opts: { drain?: boolean } = {}): Promise<void> {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const { tier, agg } of this.aggregators) {
      const recs = opts.drain ? agg.drain() : agg.completedBy(this.now());
      for (const rec of recs) this.enqueueRollup(tier, rec);
    }
    await this.flush();
    for (const w of Object.values(this.writers)) w.close();
  }

  /** Samples and rollup lines not yet on disk. */
  pendingCount(): number {
    return this.writers.raw.pending.length;
  }
}

/** What a data directory holds, for `record --status`, the REST API and reports. */
export async function storeInfo(dir: string, retention: RetentionPolicy): Promise<StoreInfo> {
  const tiers: TierInfo[] = [];
  const hosts = new Set<string>();
  let metrics: string[] = [];
  for (const spec of TIERS) {
    const files = await listTierFiles(dir, spec.name);
    const info: TierInfo = {
      name: spec.name,
      resolution: spec.resolution,
      retention: retention.maxAge[spec.name],
      files: files.length,
      bytes: files.reduce((a, f) => a + f.bytes, 0),
    };
    const first = files.length > 0 ? await firstRecord(files[0]) : undefined;
    if (first) {
      info.from = recordTime(spec.name, first.line, first.columns);
      hosts.add(first.header.host);
    }
    for (let i = files.length - 1; i >= 0; i--) {
      const line = await lastLine(files[i]);
      const head = await firstRecord(files[i]);
      if (head) hosts.add(head.header.host);
      if (line === undefined) continue;
      info.to = recordTime(spec.name, line, head?.columns);
      if (spec.name === "raw" && head && metrics.length === 0) {
        try {
          const s = head.columns ? decodeCsvRow(line, head.columns) : decodeJsonSample(line);
          metrics = [...new Set([...flattenValues(s).keys()].map((k) => k.split("[")[0]))].sort();
        } catch { /* leave empty */ }
      }
      break;
    }
    tiers.push(info);
  }
  return { backend: "file", location: dir, hosts: [...hosts].sort(), tiers, metrics };
}

function recordTime(tier: TierName, line: string, columns?: string[]): number | undefined {
  try {
    if (tier !== "raw") return decodeRecord(line).t;
    const s = columns ? decodeCsvRow(line, columns) : decodeJsonSample(line);
    return Date.parse(s.timestamp);
  } catch {
    return undefined;
  }
}

/** Human summary of a retention policy (for logs and --help). */
export function describeRetention(p: RetentionPolicy): string {
  const ages = TIERS.map((t) => `${t.name} ${formatDuration(p.maxAge[t.name])}`).join(", ");
  return p.maxBytes > 0 ? `${ages}, at most ${Math.round(p.maxBytes / 1048576)} MiB in all` : ages;
}

export { listNames, readRollups, statOrUndefined };
