/**
 * cpu: time per CPU mode from /proc/stat (the aggregate line and one line per online CPU), the other
 * /proc/stat counters (interrupts, context switches, forks, boot time, runnable/blocked tasks) and
 * the online CPU list from /sys/devices/system/cpu/online (Documentation/filesystems/proc.rst §1.8).
 */
import type { EntityPart, MetricDef } from "../core/model.ts";
import type { ExpositionWriter, Labels } from "../expose/writer.ts";
import { limitEntities } from "./limit.ts";
import { procPath, ReadError, readOptional, readText, syncReader, sysPath } from "./procfs.ts";
import type {
  CollectorContext,
  Family,
  PartialErrors,
  Reader,
  Reading,
  SamplePart,
} from "./types.ts";

/** /proc/stat counts in USER_HZ ticks, 100 per second on every Linux ABI (psutil and node_exporter assume it too). */
export const USER_HZ = 100;

/** The columns of a cpu line, in the kernel's order. */
export const CPU_MODES = [
  "user",
  "nice",
  "system",
  "idle",
  "iowait",
  "irq",
  "softirq",
  "steal",
  "guest",
  "guest_nice",
] as const;
export type CpuMode = typeof CPU_MODES[number];

/** The modes that add up to the time that passed; guest and guest_nice are already inside user and nice. */
export const SUMMED_MODES = CPU_MODES.slice(0, 8) as readonly Exclude<
  CpuMode,
  "guest" | "guest_nice"
>[];

/** Ticks spent in each mode since boot. Columns an older kernel does not print are 0. */
export type CpuTicks = Record<CpuMode, number>;

export interface CoreTicks {
  /** N of the "cpuN" line. */
  id: number;
  ticks: CpuTicks;
}

/** /proc/stat. Counters a kernel does not print are null (none is missing on 2.6.33+). */
export interface ProcStat {
  /** The "cpu" line: the sum over every possible CPU (offline ones keep their last counts). */
  total: CpuTicks;
  /** The "cpuN" lines, one per online CPU, in file order. */
  cores: CoreTicks[];
  /** Interrupts serviced since boot (first number of "intr"). */
  intr: number | null;
  ctxt: number | null;
  /** Boot time, Unix seconds. */
  btime: number;
  /** Forks since boot. */
  processes: number | null;
  procsRunning: number | null;
  procsBlocked: number | null;
}

export interface CpuData extends PartialErrors {
  /** /proc/stat with `cores` cut to collectors.max_entities. */
  stat: ProcStat;
  /** N of every "cpuN" line before the cut: a change in this set is CPU hotplug. */
  cpuIds: number[];
  /** /sys/devices/system/cpu/online expanded; null when the file is absent or unreadable. */
  online: number[] | null;
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

function malformed(source: string, lineNo: number, line: string, why: string): Error {
  const shown = line.length > 80 ? line.slice(0, 80) + "…" : line;
  return new Error(`${source}: malformed line ${lineNo} ${JSON.stringify(shown)}: ${why}`);
}

/** Splits on runs of spaces without a regex (the kernel pads with spaces only). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const w of line.split(" ")) if (w !== "") out.push(w);
  return out;
}

/** A non-negative integer count, or undefined. */
function count(s: string | undefined): number | undefined {
  if (s === undefined || s === "") return undefined;
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The ticks of a cpu line. 2.6.33+ prints 10 columns; older kernels fewer (at least 4). */
function parseTicks(w: string[], source: string, lineNo: number, line: string): CpuTicks {
  if (w.length < 5) throw malformed(source, lineNo, line, "expected at least 4 tick counts");
  const ticks = {} as CpuTicks;
  for (let i = 0; i < CPU_MODES.length; i++) {
    const raw = w[i + 1];
    const v = raw === undefined ? 0 : count(raw);
    if (v === undefined) {
      throw malformed(
        source,
        lineNo,
        line,
        `${CPU_MODES[i]} (${JSON.stringify(raw)}) is not a count`,
      );
    }
    ticks[CPU_MODES[i]] = v;
  }
  return ticks;
}

/** The single count after a key ("ctxt 1234"); `intr` lines carry per-IRQ counts after it. */
function firstCount(line: string, key: string, source: string, lineNo: number): number {
  const start = key.length + 1;
  const end = line.indexOf(" ", start);
  const v = count(end < 0 ? line.slice(start) : line.slice(start, end));
  if (v === undefined) throw malformed(source, lineNo, line, `${key} value is not a count`);
  return v;
}

/** Parses /proc/stat. The "cpu" and "btime" lines are required; unknown lines are ignored. */
export function parseStat(text: string, source = "/proc/stat"): ProcStat {
  let total: CpuTicks | undefined;
  let btime: number | undefined;
  const stat: Omit<ProcStat, "total" | "btime"> = {
    cores: [],
    intr: null,
    ctxt: null,
    processes: null,
    procsRunning: null,
    procsBlocked: null,
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const sp = line.indexOf(" ");
    const key = sp < 0 ? line : line.slice(0, sp);
    const lineNo = i + 1;
    if (key.startsWith("cpu")) {
      const ticks = parseTicks(words(line), source, lineNo, line);
      if (key === "cpu") {
        total = ticks;
        continue;
      }
      const id = count(key.slice(3));
      if (id === undefined) throw malformed(source, lineNo, line, `bad cpu name ${key}`);
      stat.cores.push({ id, ticks });
      continue;
    }
    switch (key) {
      case "intr":
        stat.intr = firstCount(line, key, source, lineNo);
        break;
      case "ctxt":
        stat.ctxt = firstCount(line, key, source, lineNo);
        break;
      case "btime":
        btime = firstCount(line, key, source, lineNo);
        break;
      case "processes":
        stat.processes = firstCount(line, key, source, lineNo);
        break;
      case "procs_running":
        stat.procsRunning = firstCount(line, key, source, lineNo);
        break;
      case "procs_blocked":
        stat.procsBlocked = firstCount(line, key, source, lineNo);
        break;
    }
  }
  if (!total) throw new Error(`${source}: no "cpu" line`);
  if (btime === undefined) throw new Error(`${source}: no "btime" line`);
  return { total, btime, ...stat };
}

/** Expands a kernel CPU list ("0-1,3", "" for none) as in /sys/devices/system/cpu/online. */
export function parseCpuList(text: string, source = "/sys/devices/system/cpu/online"): number[] {
  const s = text.trim();
  const ids: number[] = [];
  if (s === "") return ids;
  for (const part of s.split(",")) {
    const dash = part.indexOf("-");
    const lo = count(dash < 0 ? part : part.slice(0, dash));
    const hi = dash < 0 ? lo : count(part.slice(dash + 1));
    if (lo === undefined || hi === undefined || hi < lo) {
      throw new Error(
        `${source}: malformed CPU list ${JSON.stringify(s)} at ${JSON.stringify(part)}`,
      );
    }
    for (let id = lo; id <= hi; id++) ids.push(id);
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Reading

export function createCpuReader(ctx: CollectorContext): Reader<CpuData> {
  const statPath = procPath(ctx.roots, "stat");
  const onlinePath = sysPath(ctx.roots, "devices/system/cpu/online");
  // A missing or unreadable online file stays so (sysfs layout and permissions do not change):
  // remember it rather than failing to open it on every tick.
  let onlineUsable = true;

  function readOnline(): number[] | null {
    if (!onlineUsable) return null;
    let text: string | undefined;
    try {
      text = readOptional(onlinePath);
    } catch (err) {
      if (!(err instanceof ReadError)) throw err;
      ctx.log.debug(`cpu: ${err.message}; counting the cpuN lines of /proc/stat instead`);
    }
    if (text === undefined) {
      onlineUsable = false;
      return null;
    }
    return parseCpuList(text, onlinePath);
  }

  function read(): CpuData {
    const stat = parseStat(readText(statPath), statPath);
    const cpuIds = stat.cores.map((c) => c.id);
    const cores = limitEntities(ctx, "cpu", stat.cores);
    return { stat: { ...stat, cores }, cpuIds, online: readOnline() };
  }

  // The executor turns a throw of the sync reads into a rejection.
  return syncReader(read);
}

// ---------------------------------------------------------------------------------------------
// Model metrics

/** Percent of the interval spent in each summed mode, plus usage (neither idle nor iowait). */
export interface CpuShares {
  usage: number;
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/**
 * Shares of the interval between two readings of one cpu line, in percent (0–100). Null when a
 * counter went backwards (the line is not the same CPU's, or the counters were reset) or no tick
 * passed. iowait is the exception: the kernel documents that it can decrease (proc.rst: idle time
 * is moved between idle and iowait as tasks stop waiting), so a drop in iowait counts as 0.
 */
export function cpuShares(prev: CpuTicks, cur: CpuTicks): CpuShares | null {
  const d = {} as Record<typeof SUMMED_MODES[number], number>;
  let total = 0;
  for (const m of SUMMED_MODES) {
    let delta = cur[m] - prev[m];
    if (delta < 0) {
      if (m !== "iowait") return null;
      delta = 0;
    }
    d[m] = delta;
    total += delta;
  }
  if (total === 0) return null;
  const pct = (v: number) => (100 * v) / total;
  return {
    usage: pct(total - d.idle - d.iowait),
    user: pct(d.user),
    nice: pct(d.nice),
    system: pct(d.system),
    idle: pct(d.idle),
    iowait: pct(d.iowait),
    irq: pct(d.irq),
    softirq: pct(d.softirq),
    steal: pct(d.steal),
  };
}

/** Per second increase of a counter; null when unknown, backwards, or no time passed. */
function counterRate(prev: number | null, cur: number | null, dt: number): number | null {
  if (prev === null || cur === null || !(dt > 0) || cur < prev) return null;
  return (cur - prev) / dt;
}

function sameIds(a: number[] | null, b: number[] | null): boolean {
  if (a === null || b === null) return true; // one side unknown: the cpuN lines still decide
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether two readings can be differenced at all: same boot (btime) and the same set of CPUs
 * (a CPU going offline or coming online changes the aggregate's meaning mid-interval).
 */
export function ratesAllowed(prev: CpuData, cur: CpuData): boolean {
  return prev.stat.btime === cur.stat.btime && sameIds(prev.cpuIds, cur.cpuIds) &&
    sameIds(prev.online, cur.online);
}

const SHARE_KEYS: [metric: string, share: keyof CpuShares][] = [
  ["cpu_usage_percent", "usage"],
  ["cpu_user_percent", "user"],
  ["cpu_nice_percent", "nice"],
  ["cpu_system_percent", "system"],
  ["cpu_idle_percent", "idle"],
  ["cpu_iowait_percent", "iowait"],
  ["cpu_irq_percent", "irq"],
  ["cpu_softirq_percent", "softirq"],
  ["cpu_steal_percent", "steal"],
];

const CORE_SHARE_KEYS: [metric: string, share: keyof CpuShares][] = [
  ["core_usage_percent", "usage"],
  ["core_user_percent", "user"],
  ["core_system_percent", "system"],
  ["core_iowait_percent", "iowait"],
  ["core_idle_percent", "idle"],
  ["core_steal_percent", "steal"],
];

function sharesPart(
  keys: [string, keyof CpuShares][],
  shares: CpuShares | null,
): Record<string, number | null> {
  const part: Record<string, number | null> = {};
  for (const [metric, share] of keys) part[metric] = shares ? shares[share] : null;
  return part;
}

export function deriveCpu(prev: Reading<CpuData> | undefined, cur: Reading<CpuData>): SamplePart {
  const s = cur.data.stat;
  const dt = prev ? (cur.mono - prev.mono) / 1000 : 0;
  const p = prev && dt > 0 && ratesAllowed(prev.data, cur.data) ? prev.data.stat : undefined;

  const metrics = sharesPart(SHARE_KEYS, p ? cpuShares(p.total, s.total) : null);
  for (const m of SUMMED_MODES) metrics[`cpu_${m}_time`] = s.total[m] / USER_HZ;
  metrics.cpu_cores_online = cur.data.online?.length ?? cur.data.cpuIds.length;
  metrics.cpu_context_switches_per_second = p ? counterRate(p.ctxt, s.ctxt, dt) : null;
  metrics.cpu_interrupts_per_second = p ? counterRate(p.intr, s.intr, dt) : null;
  metrics.processes_forks_per_second = p ? counterRate(p.processes, s.processes, dt) : null;
  metrics.processes_running = s.procsRunning;
  metrics.processes_blocked = s.procsBlocked;
  metrics.boot_time = s.btime;

  const before = new Map<number, CpuTicks>();
  if (p) { for (const c of p.cores) before.set(c.id, c.ticks); }
  const cores: Record<string, EntityPart> = {};
  for (const c of s.cores) {
    const old = before.get(c.id);
    cores[`cpu${c.id}`] = sharesPart(CORE_SHARE_KEYS, old ? cpuShares(old, c.ticks) : null);
  }
  return { metrics, cores };
}

const STAT = "/proc/stat";
const SHARE_FORMULA = "of Δ(user+nice+system+idle+iowait+irq+softirq+steal) ticks";
/** How each mode reads in help texts. */
const MODE_WORDS: Record<string, string> = {
  user: "user mode (guest time included)",
  nice: "user mode at positive nice (guest_nice included)",
  system: "kernel mode",
  idle: "idle",
  iowait: "idle with I/O outstanding",
  irq: "servicing hardware interrupts",
  softirq: "servicing softirqs",
  steal: "stolen by the hypervisor",
};

function modeDefs(): MetricDef[] {
  const out: MetricDef[] = [];
  for (const m of SUMMED_MODES) {
    out.push({
      name: `cpu_${m}_percent`,
      scope: "metrics",
      unit: "percent",
      kind: "rate",
      source: STAT,
      formula: m === "iowait"
        ? `100 × max(0, Δiowait) / Δtotal (${SHARE_FORMULA}, "cpu" line); iowait may decrease (proc.rst)`
        : `100 × Δ${m} / Δtotal (${SHARE_FORMULA}, "cpu" line)`,
      help: `Share of all CPUs' time spent ${MODE_WORDS[m]} over the last interval.`,
    });
  }
  for (const m of SUMMED_MODES) {
    out.push({
      name: `cpu_${m}_time`,
      scope: "metrics",
      unit: "seconds",
      kind: "cumulative",
      source: STAT,
      formula: `${m} ticks of the "cpu" line / USER_HZ (100)`,
      help: `CPU seconds spent ${MODE_WORDS[m]} since boot, summed over all CPUs.`,
    });
  }
  return out;
}

function coreDef(name: string, formula: string, help: string): MetricDef {
  return {
    name,
    scope: "cores",
    unit: "percent",
    kind: "rate",
    source: STAT,
    formula: `${formula} (${SHARE_FORMULA}, "cpuN" line); null when a counter went backwards`,
    help: help + " over the last interval.",
  };
}

export const defs: MetricDef[] = [
  {
    name: "cpu_usage_percent",
    scope: "metrics",
    unit: "percent",
    kind: "rate",
    source: STAT,
    formula: `100 × (Δtotal − Δidle − Δiowait) / Δtotal (${SHARE_FORMULA}, "cpu" line)`,
    help: "Share of all CPUs' time not idle (nor idle waiting for I/O) over the last interval.",
  },
  ...modeDefs(),
  {
    name: "cpu_cores_online",
    scope: "metrics",
    unit: "count",
    kind: "gauge",
    source: "/sys/devices/system/cpu/online, else the cpuN lines of /proc/stat",
    formula: "number of CPUs in the online list",
    help: "CPUs currently online.",
  },
  {
    name: "cpu_context_switches_per_second",
    scope: "metrics",
    unit: "1/s",
    kind: "rate",
    source: STAT,
    formula: "Δctxt / Δt",
    help: "Context switches per second over the last interval.",
  },
  {
    name: "cpu_interrupts_per_second",
    scope: "metrics",
    unit: "1/s",
    kind: "rate",
    source: STAT,
    formula: "Δ(first number of intr) / Δt",
    help: "Interrupts serviced per second over the last interval.",
  },
  {
    name: "processes_forks_per_second",
    scope: "metrics",
    unit: "1/s",
    kind: "rate",
    source: STAT,
    formula: "Δprocesses / Δt",
    help: "Processes and threads created per second over the last interval.",
  },
  {
    name: "processes_running",
    scope: "metrics",
    unit: "count",
    kind: "gauge",
    source: STAT,
    formula: "procs_running",
    help: "Tasks runnable (running or waiting for a CPU) at the time of reading.",
  },
  {
    name: "processes_blocked",
    scope: "metrics",
    unit: "count",
    kind: "gauge",
    source: STAT,
    formula: "procs_blocked",
    help: "Tasks blocked waiting for I/O at the time of reading.",
  },
  {
    name: "boot_time",
    scope: "metrics",
    unit: "seconds",
    kind: "gauge",
    source: STAT,
    formula: "btime",
    help: "Boot time of the host, Unix seconds.",
  },
  coreDef(
    "core_usage_percent",
    "100 × (Δtotal − Δidle − Δiowait) / Δtotal",
    "Share of this CPU's time not idle (this is the seed's cpu_usage_per_core)",
  ),
  coreDef("core_user_percent", "100 × Δuser / Δtotal", "Share of this CPU's time in user mode"),
  coreDef(
    "core_system_percent",
    "100 × Δsystem / Δtotal",
    "Share of this CPU's time in kernel mode",
  ),
  coreDef(
    "core_iowait_percent",
    "100 × max(0, Δiowait) / Δtotal",
    "Share of this CPU's time idle with I/O outstanding",
  ),
  coreDef("core_idle_percent", "100 × Δidle / Δtotal", "Share of this CPU's time idle"),
  coreDef(
    "core_steal_percent",
    "100 × Δsteal / Δtotal",
    "Share of this CPU's time stolen by the hypervisor",
  ),
];

// ---------------------------------------------------------------------------------------------
// Exposition (node_exporter's cpu and stat collectors)

/** node_cpu_seconds_total's modes, in label order; guest modes go to their own family. */
const EXPOSED_MODES = [
  "idle",
  "iowait",
  "irq",
  "nice",
  "softirq",
  "steal",
  "system",
  "user",
] as const;

function* cpuSeconds(cores: CoreTicks[]): Iterable<[Labels, number]> {
  for (const c of cores) {
    const cpu = String(c.id);
    for (const mode of EXPOSED_MODES) yield [{ cpu, mode }, c.ticks[mode] / USER_HZ];
  }
}

function* guestSeconds(cores: CoreTicks[]): Iterable<[Labels, number]> {
  for (const c of cores) {
    const cpu = String(c.id);
    yield [{ cpu, mode: "nice" }, c.ticks.guest_nice / USER_HZ];
    yield [{ cpu, mode: "user" }, c.ticks.guest / USER_HZ];
  }
}

function* maybe(v: number | null): Iterable<[undefined, number]> {
  if (v !== null) yield [undefined, v];
}

export function exposeCpu(data: CpuData, out: ExpositionWriter): void {
  const s = data.stat;
  out.family(
    "node_cpu_seconds_total",
    "counter",
    "Seconds the CPUs spent in each mode.",
    cpuSeconds(s.cores),
  );
  out.family(
    "node_cpu_guest_seconds_total",
    "counter",
    "Seconds the CPUs spent running guests (VMs), also counted in user and nice.",
    guestSeconds(s.cores),
  );
  out.family("node_boot_time_seconds", "gauge", "Boot time, Unix seconds.", maybe(s.btime));
  out.family(
    "node_context_switches_total",
    "counter",
    "Context switches since boot.",
    maybe(s.ctxt),
  );
  out.family("node_forks_total", "counter", "Forks since boot.", maybe(s.processes));
  out.family("node_intr_total", "counter", "Interrupts serviced since boot.", maybe(s.intr));
  out.family(
    "node_procs_blocked",
    "gauge",
    "Tasks blocked waiting for I/O to complete.",
    maybe(s.procsBlocked),
  );
  out.family("node_procs_running", "gauge", "Tasks in runnable state.", maybe(s.procsRunning));
}

export const cpuFamily: Family<CpuData> = {
  name: "cpu",
  defs,
  create: createCpuReader,
  derive: deriveCpu,
  expose: exposeCpu,
};
