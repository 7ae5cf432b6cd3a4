/** loadavg: the 1, 5 and 15 minute load averages from /proc/loadavg (proc.rst §1.8, loadavg). */
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

export interface LoadavgData extends PartialErrors {
  load1: number;
  load5: number;
  load15: number;
}

/** Parses "0.06 0.08 0.04 1/77 3589": the first three fields are the averages. */
export function parseLoadavg(text: string, source = "/proc/loadavg"): LoadavgData {
  const line = text.trim();
  const f = line.split(" ");
  const loads = f.slice(0, 3).map((s) => (s === "" ? NaN : Number(s)));
  if (f.length < 3 || loads.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new Error(`${source}: malformed ${JSON.stringify(line)}: expected three load averages`);
  }
  return { load1: loads[0], load5: loads[1], load15: loads[2] };
}

export function createLoadavgReader(ctx: CollectorContext): Reader<LoadavgData> {
  const path = procPath(ctx.roots, "loadavg");
  return syncReader(() => parseLoadavg(readText(path), path));
}

/** Load averages are gauges: the current reading alone gives them. */
export function deriveLoadavg(
  _prev: Reading<LoadavgData> | undefined,
  cur: Reading<LoadavgData>,
): SamplePart {
  const d = cur.data;
  return {
    metrics: { load_average_1m: d.load1, load_average_5m: d.load5, load_average_15m: d.load15 },
  };
}

function loadDef(minutes: number): MetricDef {
  return {
    name: `load_average_${minutes}m`,
    scope: "metrics",
    unit: "count",
    kind: "gauge",
    source: "/proc/loadavg",
    formula: `field ${minutes === 1 ? 1 : minutes === 5 ? 2 : 3} of /proc/loadavg, as printed`,
    help: `Runnable plus uninterruptible tasks, exponentially averaged over ${minutes} minute${
      minutes === 1 ? "" : "s"
    }.`,
  };
}

export const defs: MetricDef[] = [loadDef(1), loadDef(5), loadDef(15)];

export function exposeLoadavg(data: LoadavgData, out: ExpositionWriter): void {
  out.family("node_load1", "gauge", "1m load average.", single(data.load1));
  out.family("node_load5", "gauge", "5m load average.", single(data.load5));
  out.family("node_load15", "gauge", "15m load average.", single(data.load15));
}

export const loadavgFamily: Family<LoadavgData> = {
  name: "loadavg",
  defs,
  create: createLoadavgReader,
  derive: deriveLoadavg,
  expose: exposeLoadavg,
};
