/**
 * diskstats: per-disk I/O counters from /proc/diskstats (Documentation/admin-guide/iostats.rst).
 *
 * Only whole disks are kept. A whole disk is a name listed in /sys/block; a partition is not (it has
 * /sys/class/block/<name>/partition instead) — no name patterns are involved. sysfs spells a '/' in a
 * kernel name as '!' (cciss/c0d0 in /proc/diskstats is /sys/block/cciss!c0d0).
 */
import type { EntityPart, MetricDef } from "../core/model.ts";
import type { ExpositionWriter, Labels } from "../expose/writer.ts";
import { limitEntities } from "./limit.ts";
import { entityFilter, listDir, procPath, readText, sysPath } from "./procfs.ts";
import type { CollectorContext, Family, PartialErrors, Reader, Reading } from "./types.ts";

/** The kernel counts sectors of 512 bytes in diskstats whatever the device's sector size. */
export const SECTOR_BYTES = 512;

/** One /proc/diskstats line. Times are milliseconds; discard fields from 4.18, flush from 5.5. */
export interface DiskStats {
  name: string;
  major: number;
  minor: number;
  readsCompleted: number;
  readsMerged: number;
  sectorsRead: number;
  readTimeMs: number;
  writesCompleted: number;
  writesMerged: number;
  sectorsWritten: number;
  writeTimeMs: number;
  ioInProgress: number;
  ioTimeMs: number;
  weightedIoTimeMs: number;
  discardsCompleted?: number;
  discardsMerged?: number;
  sectorsDiscarded?: number;
  discardTimeMs?: number;
  flushesCompleted?: number;
  flushTimeMs?: number;
}

export interface DiskstatsData extends PartialErrors {
  /** Whole disks that passed the filters, in the kernel's order. */
  disks: DiskStats[];
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

/** Splits on runs of spaces without a regex (the kernel pads with spaces only). */
function fields(line: string): string[] {
  const out: string[] = [];
  for (const part of line.split(" ")) if (part !== "") out.push(part);
  return out;
}

function malformed(source: string, line: string, why: string): Error {
  return new Error(`${source}: malformed line ${JSON.stringify(line)}: ${why}`);
}

/**
 * Parses /proc/diskstats. Lines have 3 identity fields plus 11 (before 4.18), 15 (4.18+, discard)
 * or 17 (5.5+, flush) counters; more fields than 20 are accepted and ignored (future kernels).
 * `keep` is asked before the counters are parsed, so excluded devices cost almost nothing.
 */
export function parseDiskstats(
  text: string,
  keep: (name: string) => boolean = () => true,
  source = "/proc/diskstats",
): DiskStats[] {
  const disks: DiskStats[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const f = fields(line);
    if (f.length !== 14 && f.length !== 18 && f.length < 20) {
      throw malformed(source, line, `expected 14, 18 or 20 fields, found ${f.length}`);
    }
    const name = f[2];
    if (!keep(name)) continue;
    const n: number[] = new Array(f.length);
    for (let i = 0; i < f.length; i++) {
      if (i === 2) continue;
      const v = Number(f[i]);
      if (!Number.isInteger(v) || v < 0) {
        throw malformed(source, line, `field ${i + 1} (${JSON.stringify(f[i])}) is not a count`);
      }
      n[i] = v;
    }
    const d: DiskStats = {
      name,
      major: n[0],
      minor: n[1],
      readsCompleted: n[3],
      readsMerged: n[4],
      sectorsRead: n[5],
      readTimeMs: n[6],
      writesCompleted: n[7],
      writesMerged: n[8],
      sectorsWritten: n[9],
      writeTimeMs: n[10],
      ioInProgress: n[11],
      ioTimeMs: n[12],
      weightedIoTimeMs: n[13],
    };
    if (f.length >= 18) {
      d.discardsCompleted = n[14];
      d.discardsMerged = n[15];
      d.sectorsDiscarded = n[16];
      d.discardTimeMs = n[17];
    }
    if (f.length >= 20) {
      d.flushesCompleted = n[18];
      d.flushTimeMs = n[19];
    }
    disks.push(d);
  }
  return disks;
}

/** The /sys/block entry name for a kernel device name ('/' is written '!' in sysfs). */
export const sysfsBlockName = (kernelName: string) => kernelName.replaceAll("/", "!");

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Reads /proc/diskstats and keeps the whole disks that pass the filters. Whether a name is kept is
 * decided once and cached; /sys/block is listed again only when a name never seen before appears
 * (hot-plug), not on every tick.
 */
export function createDiskstatsReader(ctx: CollectorContext): Reader<DiskstatsData> {
  const path = procPath(ctx.roots, "/diskstats");
  const sysBlock = sysPath(ctx.roots, "/block");
  const passes = entityFilter(ctx.config.diskstats.include, ctx.config.diskstats.exclude);
  const decisions = new Map<string, boolean>();
  let wholeDisks: Set<string> | undefined;
  let listedThisRead = false;
  let linesThisRead = 0;
  let warned = false;

  /** undefined = /sys/block unusable: every device counts as a disk (logged once). */
  function listWholeDisks(): Set<string> | undefined {
    let names: string[] | undefined;
    let why = "not found";
    try {
      names = listDir(sysBlock);
    } catch (err) {
      why = (err as Error).message;
    }
    if (names) return new Set(names);
    if (!warned) {
      warned = true;
      ctx.log.warn(`diskstats: cannot list ${sysBlock} (${why}); partitions cannot be told apart`, {
        collector: "diskstats",
      });
    }
    return undefined;
  }

  function keep(name: string): boolean {
    linesThisRead++;
    let decision = decisions.get(name);
    if (decision === undefined) {
      if (!listedThisRead) {
        wholeDisks = listWholeDisks();
        listedThisRead = true;
      }
      const whole = wholeDisks === undefined || wholeDisks.has(sysfsBlockName(name));
      decision = whole && passes(name);
      decisions.set(name, decision);
    }
    return decision;
  }

  return {
    read() {
      try {
        listedThisRead = false;
        linesThisRead = 0;
        const all = parseDiskstats(readText(path), keep, path);
        // Devices that come and go (loop, nbd) must not grow the cache without bound.
        if (decisions.size > 2 * linesThisRead + 16) decisions.clear();
        return Promise.resolve({ disks: limitEntities(ctx, "diskstats", all) });
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Model metrics

const RATE_KEYS = [
  "disk_read_bytes_per_second",
  "disk_write_bytes_per_second",
  "disk_reads_per_second",
  "disk_writes_per_second",
  "disk_read_await_seconds",
  "disk_write_await_seconds",
  "disk_util_percent",
  "disk_queue_size",
] as const;

type RateKey = typeof RATE_KEYS[number];

/** The counters whose going backwards means the device was reset or replaced. */
const COUNTERS = [
  "readsCompleted",
  "readsMerged",
  "sectorsRead",
  "readTimeMs",
  "writesCompleted",
  "writesMerged",
  "sectorsWritten",
  "writeTimeMs",
  "ioTimeMs",
  "weightedIoTimeMs",
] as const;

function comparable(p: DiskStats, c: DiskStats): boolean {
  if (p.major !== c.major || p.minor !== c.minor) return false;
  for (const k of COUNTERS) if (c[k] < p[k]) return false;
  return true;
}

/** Milliseconds spent per completed I/O, in seconds; 0 when nothing completed (as iostat). */
const awaitSeconds = (dMs: number, dIos: number) => (dIos > 0 ? dMs / (dIos * 1000) : 0);

/**
 * iostat -x's rkB/s, r/s, r_await, %util and aqu-sz (and the write side) over `dtMs`. Integer
 * products come first and one division last, so 92 ms of 10 000 gives 0.92, not 0.9199999….
 */
export function diskRates(p: DiskStats, c: DiskStats, dtMs: number): Record<RateKey, number> {
  const perSecond = (delta: number) => delta * 1000 / dtMs;
  const dReads = c.readsCompleted - p.readsCompleted;
  const dWrites = c.writesCompleted - p.writesCompleted;
  return {
    disk_read_bytes_per_second: perSecond((c.sectorsRead - p.sectorsRead) * SECTOR_BYTES),
    disk_write_bytes_per_second: perSecond((c.sectorsWritten - p.sectorsWritten) * SECTOR_BYTES),
    disk_reads_per_second: perSecond(dReads),
    disk_writes_per_second: perSecond(dWrites),
    disk_read_await_seconds: awaitSeconds(c.readTimeMs - p.readTimeMs, dReads),
    disk_write_await_seconds: awaitSeconds(c.writeTimeMs - p.writeTimeMs, dWrites),
    disk_util_percent: Math.min(100, (c.ioTimeMs - p.ioTimeMs) * 100 / dtMs),
    disk_queue_size: (c.weightedIoTimeMs - p.weightedIoTimeMs) / dtMs,
  };
}

function diskPart(p: DiskStats | undefined, c: DiskStats, dtMs: number): EntityPart {
  const part: EntityPart = {};
  const rates = p && dtMs > 0 && comparable(p, c) ? diskRates(p, c, dtMs) : undefined;
  for (const k of RATE_KEYS) part[k] = rates ? rates[k] : null;
  part.disk_io_in_progress = c.ioInProgress;
  part.disk_read_bytes = c.sectorsRead * SECTOR_BYTES;
  part.disk_written_bytes = c.sectorsWritten * SECTOR_BYTES;
  return part;
}

export function deriveDiskstats(
  prev: Reading<DiskstatsData> | undefined,
  cur: Reading<DiskstatsData>,
): { disks: Record<string, EntityPart> } {
  const dtMs = prev ? cur.mono - prev.mono : 0;
  const before = new Map<string, DiskStats>();
  if (prev) { for (const d of prev.data.disks) before.set(d.name, d); }
  const disks: Record<string, EntityPart> = {};
  for (const d of cur.data.disks) disks[d.name] = diskPart(before.get(d.name), d, dtMs);
  return { disks };
}

const SRC = "/proc/diskstats";

export const defs: MetricDef[] = [
  {
    name: "disk_read_bytes_per_second",
    scope: "disks",
    unit: "bytes/s",
    kind: "rate",
    source: SRC,
    formula: "Δ sectors read × 512 / Δt",
    help: "Bytes read from the disk per second (iostat rkB/s × 1024).",
  },
  {
    name: "disk_write_bytes_per_second",
    scope: "disks",
    unit: "bytes/s",
    kind: "rate",
    source: SRC,
    formula: "Δ sectors written × 512 / Δt",
    help: "Bytes written to the disk per second (iostat wkB/s × 1024).",
  },
  {
    name: "disk_reads_per_second",
    scope: "disks",
    unit: "1/s",
    kind: "rate",
    source: SRC,
    formula: "Δ reads completed / Δt",
    help: "Read I/Os completed per second (iostat r/s).",
  },
  {
    name: "disk_writes_per_second",
    scope: "disks",
    unit: "1/s",
    kind: "rate",
    source: SRC,
    formula: "Δ writes completed / Δt",
    help: "Write I/Os completed per second (iostat w/s).",
  },
  {
    name: "disk_read_await_seconds",
    scope: "disks",
    unit: "seconds",
    kind: "rate",
    source: SRC,
    formula: "Δ ms spent reading / Δ reads completed / 1000; 0 when no read completed",
    help: "Average time a read took, queueing included (iostat r_await, in seconds).",
  },
  {
    name: "disk_write_await_seconds",
    scope: "disks",
    unit: "seconds",
    kind: "rate",
    source: SRC,
    formula: "Δ ms spent writing / Δ writes completed / 1000; 0 when no write completed",
    help: "Average time a write took, queueing included (iostat w_await, in seconds).",
  },
  {
    name: "disk_util_percent",
    scope: "disks",
    unit: "percent",
    kind: "rate",
    source: SRC,
    formula: "min(100, Δ ms doing I/O (io_ticks) / Δt in ms × 100)",
    help: "Share of the interval the device had I/O in flight (iostat %util).",
  },
  {
    name: "disk_queue_size",
    scope: "disks",
    unit: "count",
    kind: "rate",
    source: SRC,
    formula: "Δ weighted ms doing I/O / Δt in ms",
    help: "Average number of requests queued or in service (iostat aqu-sz).",
  },
  {
    name: "disk_io_in_progress",
    scope: "disks",
    unit: "count",
    kind: "gauge",
    source: SRC,
    formula: "I/Os currently in progress (field 9)",
    help: "Requests issued to the device and not yet completed, at the time of reading.",
  },
  {
    name: "disk_read_bytes",
    scope: "disks",
    unit: "bytes",
    kind: "cumulative",
    source: SRC,
    formula: "sectors read × 512",
    help: "Bytes read from the disk since boot.",
  },
  {
    name: "disk_written_bytes",
    scope: "disks",
    unit: "bytes",
    kind: "cumulative",
    source: SRC,
    formula: "sectors written × 512",
    help: "Bytes written to the disk since boot.",
  },
];

// ---------------------------------------------------------------------------------------------
// Exposition (node_exporter's diskstats collector names, units and labels)

type Pick = (d: DiskStats) => number | undefined;

const EXPOSED: [name: string, type: "counter" | "gauge", help: string, pick: Pick][] = [
  [
    "node_disk_reads_completed_total",
    "counter",
    "Reads completed since boot.",
    (d) => d.readsCompleted,
  ],
  [
    "node_disk_reads_merged_total",
    "counter",
    "Adjacent reads merged into one request since boot.",
    (d) => d.readsMerged,
  ],
  [
    "node_disk_read_bytes_total",
    "counter",
    "Bytes read since boot.",
    (d) => d.sectorsRead * SECTOR_BYTES,
  ],
  [
    "node_disk_read_time_seconds_total",
    "counter",
    "Seconds spent on reads since boot, summed over all reads.",
    (d) => d.readTimeMs / 1000,
  ],
  [
    "node_disk_writes_completed_total",
    "counter",
    "Writes completed since boot.",
    (d) => d.writesCompleted,
  ],
  [
    "node_disk_writes_merged_total",
    "counter",
    "Adjacent writes merged into one request since boot.",
    (d) => d.writesMerged,
  ],
  [
    "node_disk_written_bytes_total",
    "counter",
    "Bytes written since boot.",
    (d) => d.sectorsWritten * SECTOR_BYTES,
  ],
  [
    "node_disk_write_time_seconds_total",
    "counter",
    "Seconds spent on writes since boot, summed over all writes.",
    (d) => d.writeTimeMs / 1000,
  ],
  [
    "node_disk_io_now",
    "gauge",
    "I/O requests in flight at the time of reading.",
    (d) => d.ioInProgress,
  ],
  [
    "node_disk_io_time_seconds_total",
    "counter",
    "Seconds during which the device had I/O in flight, since boot.",
    (d) => d.ioTimeMs / 1000,
  ],
  [
    "node_disk_io_time_weighted_seconds_total",
    "counter",
    "Seconds of I/O weighted by the number of requests in flight, since boot.",
    (d) => d.weightedIoTimeMs / 1000,
  ],
  [
    "node_disk_discards_completed_total",
    "counter",
    "Discards completed since boot.",
    (d) => d.discardsCompleted,
  ],
  [
    "node_disk_discards_merged_total",
    "counter",
    "Adjacent discards merged into one request since boot.",
    (d) => d.discardsMerged,
  ],
  [
    "node_disk_discarded_sectors_total",
    "counter",
    "512-byte sectors discarded since boot.",
    (d) => d.sectorsDiscarded,
  ],
  [
    "node_disk_discard_time_seconds_total",
    "counter",
    "Seconds spent on discards since boot, summed over all discards.",
    (d) => d.discardTimeMs === undefined ? undefined : d.discardTimeMs / 1000,
  ],
  [
    "node_disk_flush_requests_total",
    "counter",
    "Flush requests completed since boot.",
    (d) => d.flushesCompleted,
  ],
  [
    "node_disk_flush_requests_time_seconds_total",
    "counter",
    "Seconds spent on flush requests since boot, summed over all flushes.",
    (d) => d.flushTimeMs === undefined ? undefined : d.flushTimeMs / 1000,
  ],
];

function* samples(disks: DiskStats[], pick: Pick): Iterable<[Labels, number]> {
  for (const d of disks) {
    const v = pick(d);
    if (v !== undefined) yield [{ device: d.name }, v];
  }
}

export function exposeDiskstats(data: DiskstatsData, out: ExpositionWriter): void {
  for (const [name, type, help, pick] of EXPOSED) {
    out.family(name, type, help, samples(data.disks, pick));
  }
  out.family(
    "node_disk_info",
    "gauge",
    "Block device identity (kernel name and major:minor numbers); always 1.",
    data.disks.map((d): [Labels, number] => [
      { device: d.name, major: String(d.major), minor: String(d.minor) },
      1,
    ]),
  );
}

export const diskstatsFamily: Family<DiskstatsData> = {
  name: "diskstats",
  defs,
  create: createDiskstatsReader,
  derive: deriveDiskstats,
  expose: exposeDiskstats,
};
