/**
 * sysmon's own process metrics (CPU, memory, file descriptors, start time) for /metrics, read from
 * /proc/PID/{stat,status,limits,fd} and /proc/stat (proc.rst §1.1, §1.2, §1.8). They run on every
 * scrape, so each file is read once and nothing else is touched.
 */
import { listDir, ReadError, readText } from "../collect/procfs.ts";
import { type ExpositionWriter, single } from "./writer.ts";

export interface ProcessStats {
  /** User plus system CPU time. */
  cpuSeconds: number;
  residentBytes: number;
  virtualBytes: number;
  openFds: number;
  /** The soft RLIMIT_NOFILE; null when unlimited. */
  maxFds: number | null;
  /** Epoch seconds. */
  startTimeSeconds: number;
}

/**
 * The unit of the tick fields in /proc/PID/stat is USER_HZ, which the kernel fixes at 100 on every
 * architecture Deno runs on (x86, arm64, riscv…) whatever CONFIG_HZ is: it is the userspace ABI
 * behind sysconf(_SC_CLK_TCK). Deno has no sysconf, and nothing needs one here.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Only for the fallback when status has no VmRSS line (see readProcessStats): Deno has no sysconf
 * to ask for the page size, and 4096 is right on x86 and most arm64 kernels (not 16K/64K ones).
 */
const ASSUMED_PAGE_SIZE = 4096;

const isCount = (s: string | undefined) => s !== undefined && /^\d+$/.test(s);

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

/**
 * Parses /proc/PID/stat. comm (field 2) is the name in parentheses and may itself contain spaces
 * and ')', so fields are counted from after the LAST ')': field 3 (state) is index 0 there.
 */
export function parseProcStat(
  text: string,
  source = "/proc/self/stat",
): {
  utimeTicks: number;
  stimeTicks: number;
  starttimeTicks: number;
  vsizeBytes: number;
  rssPages: number;
} {
  const close = text.lastIndexOf(")");
  if (close < 0 || text.indexOf("(") < 0 || text.indexOf("(") > close) {
    throw new Error(`${source}: malformed: no "(comm)" field`);
  }
  const f = text.slice(close + 1).trim().split(" ").filter((w) => w !== "");
  // proc.rst table 1-4, 1-based: utime 14, stime 15, starttime 22, vsize 23, rss 24.
  const field = (n: number, name: string) => {
    const raw = f[n - 3];
    if (!isCount(raw)) {
      throw new Error(
        `${source}: malformed: field ${n} (${name}) is ${
          raw === undefined ? "missing" : JSON.stringify(raw) + ", not a count"
        }`,
      );
    }
    return Number(raw);
  };
  return {
    utimeTicks: field(14, "utime"),
    stimeTicks: field(15, "stime"),
    starttimeTicks: field(22, "starttime"),
    vsizeBytes: field(23, "vsize"),
    rssPages: field(24, "rss"),
  };
}

/**
 * The soft limit of the "Max open files  <soft>  <hard>  files" line of /proc/PID/limits;
 * null when it is "unlimited".
 */
export function parseMaxOpenFiles(limitsText: string, source = "/proc/self/limits"): number | null {
  const line = limitsText.split("\n").find((l) => l.startsWith("Max open files "));
  if (line === undefined) throw new Error(`${source}: no "Max open files" line`);
  const soft = line.slice("Max open files ".length).trim().split(" ")[0];
  if (soft === "unlimited") return null;
  if (!isCount(soft)) {
    throw new Error(`${source}: malformed "Max open files" soft limit ${JSON.stringify(soft)}`);
  }
  return Number(soft);
}

/** VmRSS of /proc/PID/status in bytes; undefined when absent (kernel threads print none). */
export function parseVmRssBytes(
  statusText: string,
  source = "/proc/self/status",
): number | undefined {
  const m = /^VmRSS:\s*(\S+) kB$/m.exec(statusText);
  if (!m) return undefined;
  if (!isCount(m[1])) throw new Error(`${source}: malformed VmRSS ${JSON.stringify(m[1])}`);
  return Number(m[1]) * 1024;
}

/** The boot time (epoch seconds) from the "btime" line of /proc/stat. */
export function parseBtime(statText: string, source = "/proc/stat"): number {
  const m = /^btime (\S+)$/m.exec(statText);
  if (!m) throw new Error(`${source}: no "btime" line`);
  if (!isCount(m[1])) throw new Error(`${source}: malformed btime ${JSON.stringify(m[1])}`);
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Reads the stats of `pid` under `procfs`. Files are read synchronously, as collectors do
 * (procfs.ts: a sync read of a generated file costs microseconds, an async op several times that);
 * a failure throws an Error naming the file.
 *
 * RSS comes from status's VmRSS (kB, so exact whatever the page size) rather than stat's rss pages
 * times a guessed page size: one more small read buys correctness on 16K/64K-page kernels.
 *
 * The open-fd count includes the descriptor that reads fd/ itself, as client_golang's does.
 * Callers would normally pass the process's own /proc: "self" resolves under a host /proc mounted
 * elsewhere too (to the host PID), but a foreign pid namespace's procfs may not show it at all.
 */
export function readProcessStats(
  procfs: string,
  pid: "self" | number = "self",
): Promise<ProcessStats> {
  return new Promise((resolve) => resolve(readProcessStatsSync(procfs, pid)));
}

/** Boot time per procfs root: constant for the life of any process, so /proc/stat is read once. */
const bootTimes = new Map<string, number>();
function bootTime(root: string): number {
  let btime = bootTimes.get(root);
  if (btime === undefined) {
    const path = `${root}/stat`;
    btime = parseBtime(readText(path), path);
    bootTimes.set(root, btime);
  }
  return btime;
}

function readProcessStatsSync(procfs: string, pid: "self" | number): ProcessStats {
  const root = procfs.endsWith("/") ? procfs.slice(0, -1) : procfs;
  const at = (rel: string) => `${root}/${pid}/${rel}`;
  const statPath = at("stat");
  const stat = parseProcStat(readText(statPath), statPath);
  const statusPath = at("status");
  const vmRss = parseVmRssBytes(readText(statusPath), statusPath);
  const limitsPath = at("limits");
  const maxFds = parseMaxOpenFiles(readText(limitsPath), limitsPath);
  const fdPath = at("fd");
  const fds = listDir(fdPath);
  if (fds === undefined) throw new ReadError(fdPath, "ENOENT", "not found");
  const btime = bootTime(root);
  return {
    cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / CLOCK_TICKS_PER_SECOND,
    residentBytes: vmRss ?? stat.rssPages * ASSUMED_PAGE_SIZE,
    virtualBytes: stat.vsizeBytes,
    openFds: fds.length,
    maxFds,
    startTimeSeconds: btime + stat.starttimeTicks / CLOCK_TICKS_PER_SECOND,
  };
}

// ---------------------------------------------------------------------------------------------
// Exposition

export function writeProcessMetrics(stats: ProcessStats, out: ExpositionWriter): void {
  out.family(
    "sysmon_process_cpu_seconds_total",
    "counter",
    "User and system CPU time spent by sysmon, in seconds.",
    single(stats.cpuSeconds),
  );
  out.family(
    "sysmon_process_resident_memory_bytes",
    "gauge",
    "Resident memory size of sysmon in bytes (VmRSS).",
    single(stats.residentBytes),
  );
  out.family(
    "sysmon_process_virtual_memory_bytes",
    "gauge",
    "Virtual memory size of sysmon in bytes.",
    single(stats.virtualBytes),
  );
  out.family(
    "sysmon_process_open_fds",
    "gauge",
    "Number of open file descriptors of sysmon.",
    single(stats.openFds),
  );
  out.family(
    "sysmon_process_max_fds",
    "gauge",
    "Soft limit on sysmon's open file descriptors; absent when unlimited.",
    stats.maxFds === null ? [] : single(stats.maxFds),
  );
  out.family(
    "sysmon_process_start_time_seconds",
    "gauge",
    "Start time of sysmon since the Unix epoch, in seconds.",
    single(stats.startTimeSeconds),
  );
}
