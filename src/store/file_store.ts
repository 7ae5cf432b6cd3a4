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
import { ioReason, writeJsonAtomic } from "./fsutil.ts";
import {
  type FileFormat,
  FORMAT_FILE,
  periodBounds,
  STORE_FORMAT_VERSION,
  type TierName,
  TIERS,
  tierSpec,
} from "./layout.ts";
import { firstRecord, lastLine, listGroups, listTierFiles, readSamples } from "./reader.ts";
import { runQuery } from "./query.ts";
import {
  applyRetention,
  type FileEntry,
  planRetention,
  type RetentionPolicy,
} from "./retention.ts";
import {
  encodeRecord,
  type KeysContext,
  recordTimes,
  RollupAggregator,
  type RollupRecord,
} from "./rollup.ts";
import { groupOfKey } from "./groups.ts";
import { flattenValues } from "./series.ts";
import { TierWriter } from "./tier_writer.ts";
import type {
  Point,
  RangeQuery,
  SeriesKey,
  Storage,
  StoreInfo,
  StoreStats,
  TierInfo,
} from "./types.ts";

const ROLLUP_TIERS = TIERS.filter((t) => t.resolution > 0).map((t) => t.name);

interface RollupState {
  agg: RollupAggregator;
  writer: TierWriter;
  /** Start-up repair done for this group's directory (new groups get it before their first write). */
  recovered?: boolean;
}

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
  private readonly raw: TierWriter;
  /** Rollup writers and aggregators by "tier/group", created as groups appear. */
  private readonly rollups = new Map<string, RollupState>();
  private readonly groupByKey = new Map<SeriesKey, string>();
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
    this.raw = this.writer("raw", opts.format, `${opts.dir}/raw`);
  }

  private writer(tier: TierName, format: FileFormat, dir: string): TierWriter {
    return new TierWriter({
      dir,
      spec: tierSpec(tier),
      format,
      host: this.opts.host,
      maxFileBytes: this.opts.maxFileBytes,
      fsync: this.opts.fsync,
      log: this.opts.log,
      now: this.now,
      onRotate: () => this.enforceRetention(),
    });
  }

  private rollup(tier: TierName, group: string): RollupState {
    const id = `${tier}/${group}`;
    let r = this.rollups.get(id);
    if (!r) {
      r = {
        agg: new RollupAggregator(tierSpec(tier).resolution),
        writer: this.writer(tier, "jsonl", `${this.opts.dir}/${id}`),
      };
      this.rollups.set(id, r);
    }
    return r;
  }

  private allWriters(): TierWriter[] {
    return [this.raw, ...[...this.rollups.values()].map((r) => r.writer)];
  }

  /** Splits a sample's values by series group (rollups are stored per group). */
  private partition(
    values: Map<SeriesKey, number | null>,
  ): Map<string, Map<SeriesKey, number | null>> {
    const parts = new Map<string, Map<SeriesKey, number | null>>();
    for (const [key, v] of values) {
      let g = this.groupByKey.get(key);
      if (g === undefined) this.groupByKey.set(key, g = groupOfKey(key));
      let part = parts.get(g);
      if (!part) parts.set(g, part = new Map());
      part.set(key, v);
    }
    return parts;
  }

  /** Feeds the rollup aggregators; `floor` skips what a tier/group already holds (catch-up). */
  private feedRollups(
    time: number,
    values: Map<SeriesKey, number | null>,
    floor?: Map<string, number>,
  ): void {
    for (const [group, part] of this.partition(values)) {
      for (const tier of ROLLUP_TIERS) {
        if (floor && time <= (floor.get(`${tier}/${group}`) ?? -Infinity)) continue;
        const r = this.rollup(tier, group);
        for (const rec of r.agg.add(time, part)) this.enqueueRollup(r, rec);
      }
    }
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
    await this.raw.recover();
    for (const tier of ROLLUP_TIERS) {
      for (const group of await listGroups(this.opts.dir, tier)) {
        const r = this.rollup(tier, group);
        await r.writer.recover();
        r.recovered = true;
      }
    }
    await this.catchUpRollups();
    for (const w of this.allWriters()) await w.finishRecovery();
    await this.enforceRetention();
    this.ready = true;
  }

  /**
   * Feeds the aggregators with raw samples newer than what each rollup tier and group already
   * holds (a previous run that crashed, or ran with --once), so nothing is missing or counted twice.
   */
  private async catchUpRollups(): Promise<void> {
    const floor = new Map<string, number>();
    let empty = false;
    for (const tier of ROLLUP_TIERS) {
      for (const group of await listGroups(this.opts.dir, tier)) {
        const end = await this.lastRollupEnd(tier, group);
        if (end !== undefined) floor.set(`${tier}/${group}`, end);
        else empty = true;
      }
    }
    // A tier/group without any record yet (the first hour of the 1h tier) starts from the oldest
    // raw sample; otherwise reading starts after the least advanced one.
    const from = floor.size > 0 && !empty
      ? Math.min(...floor.values()) + 1
      : await this.oldestRawTime();
    for await (const { time, sample } of readSamples(this.opts.dir, from, Infinity)) {
      this.feedRollups(time, flattenValues(sample), floor);
    }
    for (const r of this.rollups.values()) {
      for (const rec of r.agg.completedBy(this.now())) this.enqueueRollup(r, rec);
    }
  }

  private async lastRollupEnd(tier: TierName, group: string): Promise<number | undefined> {
    const files = await listTierFiles(this.opts.dir, tier, group);
    for (let i = files.length - 1; i >= 0; i--) {
      const line = await lastLine(files[i]);
      if (line === undefined) continue;
      try {
        return recordTimes(line).to;
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

  private enqueueRollup(r: RollupState, rec: RollupRecord) {
    r.writer.enqueue({ time: rec.t, render: (state) => encodeRecord(rec, state as KeysContext) });
  }

  write(sample: Sample): Promise<void> {
    const q = quantizeSample(sample);
    const time = Date.parse(q.timestamp);
    if (this.opts.format === "csv") {
      const columns = csvColumns(q);
      this.raw.enqueue({ time, line: encodeCsvRow(q, columns), columns });
    } else {
      this.raw.enqueue({ time, line: encodeJsonSample(q) });
    }
    this.feedRollups(time, flattenValues(q));
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
    const raw = this.raw.pending;
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
    for (const r of this.rollups.values()) {
      const pending = r.writer.pending;
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
    const buffered = this.raw.pending.length;
    try {
      if (!this.ready) await this.setUp();
      this.counters.samplesWritten += await this.raw.flush();
      for (const r of this.rollups.values()) {
        if (!r.recovered) {
          await r.writer.recover();
          r.recovered = true;
        }
        await r.writer.flush();
      }
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
      this.counters.samplesBuffered = this.raw.pending.length;
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
            name: f.group ? `${f.group}/${f.name}` : f.name,
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

  async info(opts: { sizes?: boolean } = {}): Promise<StoreInfo> {
    return await storeInfo(this.opts.dir, this.opts.retention, opts.sizes ?? true);
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
    // A store only read from (report, replay) has nothing to write: flushing would set the
    // directory up for writing, which repairs files and applies retention — not a reader's business.
    if (!this.ready && this.pendingCount() === 0 && this.rollups.size === 0) return;
    for (const r of this.rollups.values()) {
      const recs = opts.drain ? r.agg.drain() : r.agg.completedBy(this.now());
      for (const rec of recs) this.enqueueRollup(r, rec);
    }
    await this.flush();
    for (const w of this.allWriters()) w.close();
  }

  /** Samples and rollup lines not yet on disk. */
  pendingCount(): number {
    return this.raw.pending.length;
  }
}

/** What a data directory holds, for `record --status`, the REST API and reports. */
export async function storeInfo(
  dir: string,
  retention: RetentionPolicy,
  sizes = true,
): Promise<StoreInfo> {
  const tiers: TierInfo[] = [];
  const hosts = new Set<string>();
  let metrics: string[] = [];
  for (const spec of TIERS) {
    const files = await listTierFiles(dir, spec.name, undefined, sizes);
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
    if (tier !== "raw") return recordTimes(line).t;
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
