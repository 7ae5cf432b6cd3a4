/**
 * Reading the file store back: raw samples and rollup records in time order, streamed file by file
 * (memory does not depend on the range), with unreadable lines skipped and counted.
 */
import type { Sample } from "../core/model.ts";
import {
  decodeCsvHeaderRow,
  decodeCsvRow,
  decodeHeader,
  decodeJsonSample,
  type FileHeader,
  isLabelMetric,
  splitCsvRow,
} from "./codec.ts";
import { parseSeriesKey, pickValues } from "./series.ts";
import { listNames } from "./fsutil.ts";
import {
  parseFileName,
  periodBounds,
  sortFiles,
  type StoredFile,
  type TierName,
} from "./layout.ts";
import { readLines } from "./lines.ts";
import { type DecodeContext, decodeRecord, type RollupRecord } from "./rollup.ts";
import type { HistogramSum } from "./histogram.ts";
import { GROUP_NAME } from "./groups.ts";
import type { SeriesKey } from "./types.ts";

export interface ReadProblem {
  path: string;
  message: string;
}

export interface ReadOptions {
  /** Called once per unreadable line or file, with what was skipped and why. */
  onProblem?: (p: ReadProblem) => void;
}

export interface ListedFile extends StoredFile {
  path: string;
  /** NaN when the listing was asked without sizes (readers need none: no stat per file). */
  bytes: number;
  /** Rollup tiers: the series group (directory) the file belongs to. */
  group?: string;
}

async function listDir(
  dir: string,
  tier: TierName,
  group: string | undefined,
  sizes: boolean,
): Promise<ListedFile[]> {
  const out: ListedFile[] = [];
  for (const name of await listNames(dir)) {
    const f = parseFileName(tier, name);
    if (!f) continue;
    const path = `${dir}/${name}`;
    if (!sizes) {
      out.push({ ...f, path, bytes: NaN, group });
      continue;
    }
    try {
      out.push({ ...f, path, bytes: (await Deno.stat(path)).size, group });
    } catch { /* removed meanwhile (retention) */ }
  }
  return out;
}

/** Series groups present in a rollup tier. */
export async function listGroups(dataDir: string, tier: TierName): Promise<string[]> {
  return (await listNames(`${dataDir}/${tier}`)).filter((n) => GROUP_NAME.test(n)).sort();
}

/**
 * The tier's files, oldest first, with their sizes unless `sizes` is false (a stat per file: a
 * year of daily files in a dozen groups is thousands): raw files, or the rollup files of one group
 * (or of every group when `group` is omitted).
 */
export async function listTierFiles(
  dataDir: string,
  tier: TierName,
  group?: string,
  sizes = true,
): Promise<ListedFile[]> {
  if (tier === "raw") return sortFiles(await listDir(`${dataDir}/raw`, tier, undefined, sizes));
  const groups = group === undefined ? await listGroups(dataDir, tier) : [group];
  const out: ListedFile[] = [];
  for (const g of groups) out.push(...await listDir(`${dataDir}/${tier}/${g}`, tier, g, sizes));
  return sortFiles(out);
}

/** Files whose period can hold data in [from, to). */
function overlapping(files: ListedFile[], from: number, to: number): ListedFile[] {
  return files.filter((f) => {
    const b = periodBounds(f.period);
    return b.end > from && b.start < to;
  });
}

/** Data lines of one file after its header (and CSV column row), with the decoded header. */
async function* fileLines(
  f: ListedFile,
  opts: ReadOptions,
): AsyncGenerator<{ header: FileHeader; columns?: string[]; line: string }> {
  let header: FileHeader | undefined;
  let columns: string[] | undefined;
  const lines = readLines(f.path, {
    gzip: f.gzip,
    onProblem: (p) => opts.onProblem?.({ path: f.path, message: p.message }),
  });
  try {
    for await (const line of lines) {
      if (header === undefined) {
        try {
          header = decodeHeader(line, f.format);
        } catch (err) {
          opts.onProblem?.({ path: f.path, message: `skipped: ${(err as Error).message}` });
          return;
        }
        continue;
      }
      if (f.format === "csv" && columns === undefined) {
        columns = decodeCsvHeaderRow(line);
        continue;
      }
      if (line === "") continue;
      yield { header, columns, line };
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return; // deleted by retention while we read
    opts.onProblem?.({ path: f.path, message: `read failed: ${(err as Error).message}` });
  }
}

const JSON_PREFIX = '{"version":1,"timestamp":"';

/** The time of a raw line from its leading timestamp, without parsing it (NaN when unsure). */
function peekTime(line: string, format: "jsonl" | "csv"): number {
  if (format === "jsonl") {
    return line.startsWith(JSON_PREFIX) && line[JSON_PREFIX.length + 24] === '"'
      ? Date.parse(line.slice(JSON_PREFIX.length, JSON_PREFIX.length + 24))
      : NaN;
  }
  return line[24] === "," ? Date.parse(line.slice(0, 24)) : NaN;
}

/** Raw lines whose leading timestamp is in [from, to), in time order, unparsed. */
async function* rawLines(
  dataDir: string,
  from: number,
  to: number,
  opts: ReadOptions,
): AsyncGenerator<{ f: ListedFile; columns?: string[]; line: string }> {
  const files = overlapping(await listTierFiles(dataDir, "raw", undefined, false), from, to);
  const skip = await partsBefore(files, from);
  for (const f of files) {
    if (skip.has(f)) continue;
    // A plain file whose last line is older than `from` has nothing either (its tail is cheap to
    // read); this is what a catch-up after a restart usually finds.
    if (!f.gzip && peekLast(await lastLine(f), f.format) < from) continue;
    for await (const { columns, line } of fileLines(f, opts)) {
      // Skipping lines outside the range by their timestamp avoids parsing them.
      const peek = peekTime(line, f.format);
      if (peek < from || peek >= to) continue;
      yield { f, columns, line };
    }
  }
}

/** Raw samples with from ≤ time < to, in time order. */
export async function* readSamples(
  dataDir: string,
  from: number,
  to: number,
  opts: ReadOptions = {},
): AsyncGenerator<{ time: number; sample: Sample }> {
  for await (const { f, columns, line } of rawLines(dataDir, from, to, opts)) {
    let sample: Sample;
    try {
      sample = columns ? decodeCsvRow(line, columns) : decodeJsonSample(line);
    } catch (err) {
      opts.onProblem?.({ path: f.path, message: `skipped a line: ${(err as Error).message}` });
      continue;
    }
    const time = Date.parse(sample.timestamp);
    if (time >= from && time < to) yield { time, sample };
  }
}

/** Which series a range read keeps: metric names (all when omitted) and an entity pattern. */
export interface SeriesPick {
  metrics?: readonly string[];
  entity?: RegExp;
}

/** CSV columns to decode for a pick, worked out once per file. */
function csvPlan(columns: string[], pick: SeriesPick): { timestamp: number; idx: number[] } {
  const wanted = pick.metrics ? new Set(pick.metrics) : undefined;
  const idx: number[] = [];
  for (const [i, col] of columns.entries()) {
    if (col === "timestamp" || col === "host" || col === "interval" || col === "errors") continue;
    const { metric, entity } = parseSeriesKey(col);
    if (isLabelMetric(metric) || (wanted && !wanted.has(metric))) continue;
    if (entity !== undefined && pick.entity && !pick.entity.test(entity)) continue;
    idx.push(i);
  }
  return { timestamp: columns.indexOf("timestamp"), idx };
}

/**
 * The selected series' values of each raw sample in [from, to): what range queries need. CSV rows
 * decode only the selected columns; JSON lines are parsed whole (JSON has no cheaper way).
 */
export async function* readRawValues(
  dataDir: string,
  from: number,
  to: number,
  pick: SeriesPick,
  opts: ReadOptions = {},
): AsyncGenerator<{ time: number; values: Map<SeriesKey, number | null> }> {
  let plan: { columns: string[]; timestamp: number; idx: number[] } | undefined;
  for await (const { f, columns, line } of rawLines(dataDir, from, to, opts)) {
    try {
      if (columns) {
        if (plan?.columns !== columns) plan = { columns, ...csvPlan(columns, pick) };
        const cells = splitCsvRow(line);
        if (cells.length !== columns.length) {
          throw new Error(`row has ${cells.length} fields, header has ${columns.length}`);
        }
        const time = Date.parse(cells[plan.timestamp]);
        if (Number.isNaN(time)) throw new Error("row has no valid timestamp");
        if (time < from || time >= to) continue;
        const values = new Map<SeriesKey, number | null>();
        for (const i of plan.idx) values.set(columns[i], cells[i] === "" ? null : Number(cells[i]));
        yield { time, values };
      } else {
        const sample = decodeJsonSample(line);
        const time = Date.parse(sample.timestamp);
        if (time >= from && time < to) {
          yield { time, values: pickValues(sample, pick.metrics, pick.entity) };
        }
      }
    } catch (err) {
      opts.onProblem?.({ path: f.path, message: `skipped a line: ${(err as Error).message}` });
    }
  }
}

/**
 * Rollup records of one group of a tier whose bucket starts in [from, to), in time order; `select`
 * limits which series are decoded.
 */
export async function* readRollups(
  dataDir: string,
  tier: TierName,
  group: string,
  from: number,
  to: number,
  opts: ReadOptions & {
    select?: (key: SeriesKey) => boolean;
    /** Where each series' histogram goes instead of its record (see decodeRecord). */
    histograms?: (key: SeriesKey) => HistogramSum;
  } = {},
): AsyncGenerator<RollupRecord> {
  const files = overlapping(await listTierFiles(dataDir, tier, group, false), from, to);
  const sums = opts.histograms;
  const inRange = sums &&
    ((key: SeriesKey, t: number) => (t >= from && t < to ? sums(key) : undefined));
  for (const f of files) {
    const keys: DecodeContext = {};
    for await (const { line } of fileLines(f, opts)) {
      let rec: RollupRecord;
      try {
        rec = decodeRecord(line, opts.select, keys, inRange);
      } catch (err) {
        opts.onProblem?.({ path: f.path, message: `skipped a line: ${(err as Error).message}` });
        continue;
      }
      if (rec.t >= from && rec.t < to) yield rec;
    }
  }
}

/**
 * Parts of a day that end before `from`: scanning each day's parts from the newest, the first one
 * that starts at or before `from` is where reading begins, and every earlier part is skipped unread
 * (a catch-up after a restart opens one part, not the whole day).
 */
async function partsBefore(files: ListedFile[], from: number): Promise<Set<ListedFile>> {
  const skip = new Set<ListedFile>();
  const byPeriod = new Map<string, ListedFile[]>();
  for (const f of files) {
    const list = byPeriod.get(f.period) ?? [];
    list.push(f);
    byPeriod.set(f.period, list);
  }
  for (const [period, parts] of byPeriod) {
    if (parts.length < 2 || from <= periodBounds(period).start) continue;
    for (let i = parts.length - 1; i > 0; i--) {
      if (await firstTime(parts[i]) <= from) {
        for (const p of parts.slice(0, i)) skip.add(p);
        break;
      }
    }
  }
  return skip;
}

function peekLast(line: string | undefined, format: "jsonl" | "csv"): number {
  return line === undefined ? NaN : peekTime(line, format);
}

/** Time of the first record of a raw file (NaN when it has none or it cannot be read). */
async function firstTime(f: ListedFile): Promise<number> {
  const first = await firstRecord(f);
  return first ? peekTime(first.line, f.format) : NaN;
}

/** The header and first data line of a file (cheap: stops reading there). */
export async function firstRecord(
  f: ListedFile,
): Promise<{ header: FileHeader; columns?: string[]; line: string } | undefined> {
  for await (const rec of fileLines(f, {})) return rec;
  return undefined;
}

/** The last complete data line of a file: plain files read only their tail. */
export async function lastLine(f: ListedFile): Promise<string | undefined> {
  if (f.gzip) {
    let last: string | undefined;
    for await (const { line } of fileLines(f, {})) last = line;
    return last;
  }
  const file = await Deno.open(f.path, { read: true });
  try {
    const size = (await file.stat()).size;
    // Lines are a few KiB: 64 KiB of tail nearly always holds a whole one; grow only if not.
    for (let chunk = Math.min(size, 64 << 10);; chunk = Math.min(size, chunk * 4)) {
      await file.seek(size - chunk, Deno.SeekMode.Start);
      const buf = new Uint8Array(chunk);
      let n = 0;
      while (n < chunk) {
        const r = await file.read(buf.subarray(n));
        if (r === null) break;
        n += r;
      }
      const lines = new TextDecoder().decode(buf.subarray(0, n)).split("\n");
      lines.pop(); // after the last newline: empty, or a torn line
      // Without a newline before it, the first piece may be the tail of a longer line.
      if (lines.length < 2 && chunk < size && chunk < (16 << 20)) continue;
      const last = lines.at(-1);
      return last && !last.startsWith('{"sysmon_store"') && !last.startsWith("# {")
        ? last
        : undefined;
    }
  } finally {
    file.close();
  }
}
