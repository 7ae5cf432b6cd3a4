/**
 * Where the file adapter keeps things inside the data directory, and how files are named:
 *
 *   FORMAT                          {"sysmon_store":1}: the on-disk format version of the directory
 *   raw/2026-11-26.001.jsonl        one UTC day per file, `.002`… after a size rotation or a CSV
 *   raw/2026-11-25.001.jsonl.gz     column change; closed files are gzip-compressed
 *   1m/cpu/2026-11-26.001.jsonl     1-minute rollups, one UTC day per file, one directory per
 *                                   series group (see groupOf): a query reads only its groups
 *   1h/disks/2026-11.001.jsonl      1-hour rollups, one UTC month per file
 *   state/record.state.json         raw counters between `record --once` runs
 *   state/record.lock               held (flock) by the running recorder
 */

export const STORE_FORMAT_VERSION = 1;
export const FORMAT_FILE = "FORMAT";

export type TierName = "raw" | "1m" | "1h";
export type FileFormat = "jsonl" | "csv";

export interface TierSpec {
  name: TierName;
  /** Seconds per stored point; 0 = each sample as recorded. */
  resolution: number;
  /** One file per UTC day or per UTC month. */
  period: "day" | "month";
}

export const TIERS: readonly TierSpec[] = [
  { name: "raw", resolution: 0, period: "day" },
  { name: "1m", resolution: 60, period: "day" },
  { name: "1h", resolution: 3600, period: "month" },
];

export function tierSpec(name: TierName): TierSpec {
  return TIERS.find((t) => t.name === name)!;
}

/** One stored file, as its name describes it. */
export interface StoredFile {
  tier: TierName;
  /** "2026-11-26" (day) or "2026-11" (month). */
  period: string;
  /** 1-based part number within the period. */
  part: number;
  format: FileFormat;
  gzip: boolean;
  /** File name inside the tier directory. */
  name: string;
}

const NAME = /^(\d{4}-\d{2}(?:-\d{2})?)\.(\d{3,})\.(jsonl|csv)(\.gz)?$/;

export function parseFileName(tier: TierName, name: string): StoredFile | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const period = m[1];
  if ((tierSpec(tier).period === "day") !== (period.length === 10)) return undefined;
  return {
    tier,
    period,
    part: Number(m[2]),
    format: m[3] as FileFormat,
    gzip: m[4] !== undefined,
    name,
  };
}

export function fileName(period: string, part: number, format: FileFormat, gzip = false): string {
  return `${period}.${String(part).padStart(3, "0")}.${format}${gzip ? ".gz" : ""}`;
}

/** The UTC period (day or month) that holds epoch-ms `time`. */
export function periodOf(spec: TierSpec, time: number): string {
  const iso = new Date(time).toISOString();
  return spec.period === "day" ? iso.slice(0, 10) : iso.slice(0, 7);
}

/** Epoch ms where a period starts and where the next one starts. */
export function periodBounds(period: string): { start: number; end: number } {
  if (period.length === 10) {
    const start = Date.parse(period + "T00:00:00Z");
    return { start, end: start + 86_400_000 };
  }
  const [y, m] = period.split("-").map(Number);
  return { start: Date.UTC(y, m - 1, 1), end: Date.UTC(y, m, 1) };
}

/** Files sorted oldest first (period, then part). */
export function sortFiles<T extends StoredFile>(files: T[]): T[] {
  return files.sort((a, b) => a.period < b.period ? -1 : a.period > b.period ? 1 : a.part - b.part);
}
