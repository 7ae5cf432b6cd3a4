/**
 * pressure: pressure stall information from /proc/pressure/{cpu,memory,io}
 * (Documentation/accounting/psi.rst). "some" is the share of time at least one task was stalled on
 * the resource, "full" the share when all non-idle tasks were. A kernel without PSI (before 4.20,
 * built without it, or booted with psi=0, where reading fails with EOPNOTSUPP) is an absent feature:
 * no pressure metrics, no error.
 */
import type { MetricDef } from "../core/model.ts";
import { type ExpositionWriter, single } from "../expose/writer.ts";
import { procPath, ReadError, readText, syncReader } from "./procfs.ts";
import type {
  CollectorContext,
  Family,
  PartialErrors,
  Reader,
  Reading,
  SamplePart,
} from "./types.ts";

export const PSI_RESOURCES = ["cpu", "memory", "io"] as const;
export type PsiResource = typeof PSI_RESOURCES[number];

/** One "some" or "full" line: averages in percent, total stall time in microseconds. */
export interface PsiLine {
  avg10: number;
  avg60: number;
  avg300: number;
  total: number;
}

/** One /proc/pressure file. `full` is missing for cpu before 5.13. */
export interface PsiStats {
  some: PsiLine;
  full: PsiLine | null;
}

export interface PressureData extends PartialErrors {
  /** The resources whose file could be read; empty on a kernel without PSI. */
  resources: Partial<Record<PsiResource, PsiStats>>;
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

const LINE_KEYS = ["avg10", "avg60", "avg300", "total"] as const;

function parseLine(line: string, source: string, lineNo: number): PsiLine {
  const bad = (why: string) =>
    new Error(`${source}: malformed line ${lineNo} ${JSON.stringify(line)}: ${why}`);
  const out: Partial<PsiLine> = {};
  for (const word of line.split(" ").slice(1)) {
    if (word === "") continue;
    const eq = word.indexOf("=");
    const key = word.slice(0, eq) as keyof PsiLine;
    const raw = word.slice(eq + 1);
    const v = eq > 0 && raw !== "" ? Number(raw) : NaN;
    if (!Number.isFinite(v) || v < 0) throw bad(`${JSON.stringify(word)} is not key=number`);
    if ((LINE_KEYS as readonly string[]).includes(key)) out[key] = v; // later kernels may add keys
  }
  for (const k of LINE_KEYS) if (out[k] === undefined) throw bad(`no ${k}`);
  return out as PsiLine;
}

/** Parses one /proc/pressure/<resource> file: a "some" line and (except old cpu) a "full" line. */
export function parsePressure(text: string, source = "/proc/pressure"): PsiStats {
  let some: PsiLine | undefined;
  let full: PsiLine | null = null;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    if (line.startsWith("some ")) some = parseLine(line, source, i + 1);
    else if (line.startsWith("full ")) full = parseLine(line, source, i + 1);
    else {throw new Error(
        `${source}: malformed line ${i + 1} ${JSON.stringify(line)}: not some/full`,
      );}
  }
  if (!some) throw new Error(`${source}: no "some" line`);
  return { some, full };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Errors that mean "this kernel has no PSI"; EOPNOTSUPP (ENOTSUP is the same errno) is psi=0. */
const ABSENT_CODES = new Set(["ENOENT", "EOPNOTSUPP", "ENOTSUP"]);

export function createPressureReader(ctx: CollectorContext): Reader<PressureData> {
  const paths = PSI_RESOURCES.map((r) => [r, procPath(ctx.roots, `pressure/${r}`)] as const);
  // PSI cannot be switched on at run time: a resource found absent is not looked at again.
  const absent = new Set<PsiResource>();

  function read(): PressureData {
    const resources: PressureData["resources"] = {};
    for (const [resource, path] of paths) {
      if (absent.has(resource)) continue;
      let text: string;
      try {
        text = readText(path);
      } catch (err) {
        if (err instanceof ReadError && ABSENT_CODES.has(err.code)) {
          absent.add(resource);
          ctx.log.debug(`pressure: ${resource} not available (${err.message})`);
          continue;
        }
        throw err;
      }
      resources[resource] = parsePressure(text, path);
    }
    return { resources };
  }
  return syncReader(read);
}

// ---------------------------------------------------------------------------------------------
// Model metrics

const MICROSECONDS = 1e6;

/** Averages and totals are what the kernel prints: the current reading alone gives them. */
export function derivePressure(
  _prev: Reading<PressureData> | undefined,
  cur: Reading<PressureData>,
): SamplePart {
  const metrics: Record<string, number | null> = {};
  for (const resource of PSI_RESOURCES) {
    const stats = cur.data.resources[resource];
    if (!stats) continue;
    for (const kind of ["some", "full"] as const) {
      const line = stats[kind];
      if (!line) continue;
      const prefix = `pressure_${resource}_${kind}`;
      metrics[`${prefix}_avg10`] = line.avg10;
      metrics[`${prefix}_avg60`] = line.avg60;
      metrics[`${prefix}_avg300`] = line.avg300;
      metrics[`${prefix}_total`] = line.total / MICROSECONDS;
    }
  }
  return { metrics };
}

const KIND_WORDS = {
  some: "at least one task was stalled on",
  full: "all non-idle tasks were stalled on",
} as const;

function pressureDefs(): MetricDef[] {
  const out: MetricDef[] = [];
  for (const resource of PSI_RESOURCES) {
    for (const kind of ["some", "full"] as const) {
      const source = `/proc/pressure/${resource}`;
      const note = resource === "cpu" && kind === "full"
        ? " Printed since 5.13; always 0 at the system level."
        : "";
      const prefix = `pressure_${resource}_${kind}`;
      for (const window of [10, 60, 300]) {
        out.push({
          name: `${prefix}_avg${window}`,
          scope: "metrics",
          unit: "percent",
          kind: "gauge",
          source,
          formula: `${kind} avg${window}, as printed`,
          help: `Share of time ${KIND_WORDS[kind]} ${resource}, averaged over ${window} s.${note}`,
        });
      }
      out.push({
        name: `${prefix}_total`,
        scope: "metrics",
        unit: "seconds",
        kind: "cumulative",
        source,
        formula: `${kind} total (µs) / 1e6`,
        help: `Time ${KIND_WORDS[kind]} ${resource} since boot.${note}`,
      });
    }
  }
  return out;
}

export const defs: MetricDef[] = pressureDefs();

// ---------------------------------------------------------------------------------------------
// Exposition (node_exporter's pressure collector)

const EXPOSED: [name: string, resource: PsiResource, kind: "some" | "full", help: string][] = [
  [
    "node_pressure_cpu_waiting_seconds_total",
    "cpu",
    "some",
    "Total time in seconds that runnable tasks waited for a CPU.",
  ],
  [
    "node_pressure_io_waiting_seconds_total",
    "io",
    "some",
    "Total time in seconds that at least one task was stalled on I/O.",
  ],
  [
    "node_pressure_io_stalled_seconds_total",
    "io",
    "full",
    "Total time in seconds that all non-idle tasks were stalled on I/O.",
  ],
  [
    "node_pressure_memory_waiting_seconds_total",
    "memory",
    "some",
    "Total time in seconds that at least one task was stalled on memory.",
  ],
  [
    "node_pressure_memory_stalled_seconds_total",
    "memory",
    "full",
    "Total time in seconds that all non-idle tasks were stalled on memory.",
  ],
];

export function exposePressure(data: PressureData, out: ExpositionWriter): void {
  for (const [name, resource, kind, help] of EXPOSED) {
    const line = data.resources[resource]?.[kind];
    if (line) out.family(name, "counter", help, single(line.total / MICROSECONDS));
  }
}

export const pressureFamily: Family<PressureData> = {
  name: "pressure",
  defs,
  create: createPressureReader,
  derive: derivePressure,
  expose: exposePressure,
};
