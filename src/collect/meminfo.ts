/**
 * meminfo: memory and swap from /proc/meminfo (proc.rst §1.8, meminfo). The model follows the tools
 * people compare with: used = MemTotal − MemAvailable (procps `free`), cached = Cached + SReclaimable
 * (psutil). Kernels before 3.14 print no MemAvailable: it is then estimated exactly as procps does.
 */
import type { MetricDef } from "../core/model.ts";
import { type ExpositionWriter, single } from "../expose/writer.ts";
import { procPath, readText, syncReader } from "./procfs.ts";
import type {
  CollectorContext,
  Family,
  PartialErrors,
  Reader,
  Reading,
  SamplePart,
} from "./types.ts";

export interface MeminfoData extends PartialErrors {
  /** Every field in file order, as printed: kB for sizes, a plain number for unitless fields. */
  fields: Record<string, number>;
  /** Fields printed without "kB" (HugePages_Total …): counts, not sizes. */
  unitless: string[];
  /** /proc/sys/vm/min_free_kbytes, read only when MemAvailable is missing (the estimate needs it). */
  minFreeKbytes: number | null;
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

/** Parses "Name:   value kB" lines. MemTotal and MemFree are required. */
export function parseMeminfo(text: string, source = "/proc/meminfo"): MeminfoData {
  const fields: Record<string, number> = {};
  const unitless: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const bad = (why: string) =>
      new Error(`${source}: malformed line ${i + 1} ${JSON.stringify(line)}: ${why}`);
    const colon = line.indexOf(":");
    if (colon <= 0) throw bad('expected "Name: value [kB]"');
    const name = line.slice(0, colon);
    const rest = line.slice(colon + 1).trim().split(" ").filter((w) => w !== "");
    const value = rest.length > 0 ? Number(rest[0]) : NaN;
    if (!Number.isInteger(value) || value < 0) throw bad("value is not a count");
    if (rest.length === 1) unitless.push(name);
    else if (rest.length !== 2 || rest[1] !== "kB") throw bad('unit is not "kB"');
    fields[name] = value;
  }
  for (const required of ["MemTotal", "MemFree"]) {
    if (fields[required] === undefined) throw new Error(`${source}: no ${required} line`);
  }
  return { fields, unitless, minFreeKbytes: null };
}

/** Parses /proc/sys/vm/min_free_kbytes (one integer). */
export function parseMinFreeKbytes(text: string, source = "/proc/sys/vm/min_free_kbytes"): number {
  const s = text.trim();
  const v = s === "" ? NaN : Number(s);
  if (!Number.isInteger(v) || v < 0) {
    throw new Error(`${source}: malformed ${JSON.stringify(s)}: expected a number of kB`);
  }
  return v;
}

/**
 * MemAvailable as procps (proc/sysinfo.c) estimates it when the kernel does not print it, in kB
 * with C integer division: free memory above the low watermark, plus the page cache and the
 * reclaimable slab that can be dropped without going below it.
 */
export function estimateAvailableKb(fields: Record<string, number>, minFreeKbytes: number): number {
  const kb = (name: string) => fields[name] ?? 0;
  const watermarkLow = Math.floor((minFreeKbytes * 5) / 4);
  const pageCache = kb("Active(file)") + kb("Inactive(file)");
  const slabReclaimable = kb("SReclaimable");
  const available = kb("MemFree") - watermarkLow +
    pageCache - Math.min(Math.floor(pageCache / 2), watermarkLow) +
    slabReclaimable - Math.min(Math.floor(slabReclaimable / 2), watermarkLow);
  return Math.max(0, available);
}

// ---------------------------------------------------------------------------------------------
// Reading

export function createMeminfoReader(ctx: CollectorContext): Reader<MeminfoData> {
  const path = procPath(ctx.roots, "meminfo");
  const minFreePath = procPath(ctx.roots, "sys/vm/min_free_kbytes");
  function read(): MeminfoData {
    const data = parseMeminfo(readText(path), path);
    if (data.fields.MemAvailable === undefined) {
      data.minFreeKbytes = parseMinFreeKbytes(readText(minFreePath), minFreePath);
    }
    return data;
  }
  return syncReader(read);
}

// ---------------------------------------------------------------------------------------------
// Model metrics

const KIB = 1024;

/** Memory is a gauge: the current reading alone gives every metric. */
export function deriveMeminfo(
  _prev: Reading<MeminfoData> | undefined,
  cur: Reading<MeminfoData>,
): SamplePart {
  const d = cur.data;
  const kb = (name: string) => d.fields[name] ?? 0;
  const totalKb = kb("MemTotal");
  const printed = d.fields.MemAvailable;
  const availableKb = printed ??
    (d.minFreeKbytes === null ? null : estimateAvailableKb(d.fields, d.minFreeKbytes));
  const usedKb = availableKb === null ? null : Math.max(0, totalKb - availableKb);
  const swapTotalKb = kb("SwapTotal");
  const swapUsedKb = Math.max(0, swapTotalKb - kb("SwapFree"));
  return {
    metrics: {
      memory_total: totalKb * KIB,
      memory_used: usedKb === null ? null : usedKb * KIB,
      memory_free: kb("MemFree") * KIB,
      memory_available: availableKb === null ? null : availableKb * KIB,
      memory_available_estimated: printed === undefined ? 1 : 0,
      memory_usage_percent: usedKb === null || totalKb === 0 ? null : (usedKb / totalKb) * 100,
      memory_cached: (kb("Cached") + kb("SReclaimable")) * KIB,
      memory_buffers: kb("Buffers") * KIB,
      swap_total: swapTotalKb * KIB,
      swap_used: swapUsedKb * KIB,
      swap_free: kb("SwapFree") * KIB,
      // No swap configured is 0 % used, not 0/0.
      swap_usage_percent: swapTotalKb === 0 ? 0 : (swapUsedKb / swapTotalKb) * 100,
    },
  };
}

const SRC = "/proc/meminfo";

function memDef(
  name: string,
  unit: "bytes" | "percent" | "count",
  formula: string,
  help: string,
  source = SRC,
): MetricDef {
  return { name, scope: "metrics", unit, kind: "gauge", source, formula, help };
}

const ESTIMATE = "MemAvailable, or when the kernel lacks it (< 3.14) procps' estimate: " +
  "MemFree − low + file − min(file/2, low) + SReclaimable − min(SReclaimable/2, low), ≥ 0, " +
  "with low = min_free_kbytes × 5/4 and file = Active(file) + Inactive(file), in kB";

export const defs: MetricDef[] = [
  memDef("memory_total", "bytes", "MemTotal × 1024", "Usable RAM."),
  memDef(
    "memory_used",
    "bytes",
    "(MemTotal − MemAvailable) × 1024",
    "RAM in use, as procps free's used column (total − available).",
  ),
  memDef("memory_free", "bytes", "MemFree × 1024", "RAM not used for anything."),
  memDef(
    "memory_available",
    "bytes",
    ESTIMATE + "; × 1024",
    "RAM available for new workloads without swapping.",
    `${SRC}, /proc/sys/vm/min_free_kbytes`,
  ),
  memDef(
    "memory_available_estimated",
    "count",
    "1 when MemAvailable is missing and was estimated, else 0",
    "Whether memory_available is procps' estimate (1) or the kernel's MemAvailable (0).",
  ),
  memDef(
    "memory_usage_percent",
    "percent",
    "100 × memory_used / memory_total",
    "Share of RAM in use.",
  ),
  memDef(
    "memory_cached",
    "bytes",
    "(Cached + SReclaimable) × 1024",
    "Page cache plus reclaimable slab, as psutil's cached (with buffers: free's buff/cache).",
  ),
  memDef("memory_buffers", "bytes", "Buffers × 1024", "Block device buffers."),
  memDef("swap_total", "bytes", "SwapTotal × 1024", "Swap space configured."),
  memDef("swap_used", "bytes", "(SwapTotal − SwapFree) × 1024", "Swap space in use."),
  memDef("swap_free", "bytes", "SwapFree × 1024", "Swap space unused."),
  memDef(
    "swap_usage_percent",
    "percent",
    "100 × swap_used / swap_total; 0 when there is no swap",
    "Share of swap in use.",
  ),
];

// ---------------------------------------------------------------------------------------------
// Exposition (node_exporter's meminfo collector)

const exposedNames = new Map<string, string>();

/** node_exporter's spelling: "Active(anon)" → "node_memory_Active_anon", plus "_bytes" for sizes. */
export function exposedName(field: string, bytes: boolean): string {
  const key = field + (bytes ? "" : " ");
  let name = exposedNames.get(key);
  if (name === undefined) {
    const open = field.indexOf("(");
    const close = field.indexOf(")", open);
    const base = open >= 0 && close > open
      ? field.slice(0, open) + "_" + field.slice(open + 1, close) + field.slice(close + 1)
      : field;
    // Field names are [A-Za-z0-9_]; anything else a future kernel prints must not break the format.
    name = "node_memory_" + base.replace(/[^A-Za-z0-9_]/g, "_") + (bytes ? "_bytes" : "");
    exposedNames.set(key, name);
  }
  return name;
}

export function exposeMeminfo(data: MeminfoData, out: ExpositionWriter): void {
  for (const field in data.fields) {
    const bytes = !data.unitless.includes(field);
    const value = data.fields[field];
    out.family(
      exposedName(field, bytes),
      "gauge",
      bytes ? `Memory information field ${field}, in bytes.` : `Memory information field ${field}.`,
      single(bytes ? value * KIB : value),
    );
  }
}

export const meminfoFamily: Family<MeminfoData> = {
  name: "meminfo",
  defs,
  create: createMeminfoReader,
  derive: deriveMeminfo,
  expose: exposeMeminfo,
};
