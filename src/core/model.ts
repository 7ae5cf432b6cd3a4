/** The version-1 sample model shared by snapshot --json, record, the REST API and alert rules. */

export const MODEL_VERSION = 1;

/** A per-entity record: model metrics (numbers, null = not available this interval) and labels (strings). */
export type EntityPart = Record<string, number | string | null>;

export type EntityFamily = "cores" | "disks" | "interfaces" | "filesystems";
export const ENTITY_FAMILIES: readonly EntityFamily[] = [
  "cores",
  "disks",
  "interfaces",
  "filesystems",
];

export interface CollectorError {
  collector: string;
  message: string;
}

export interface Sample {
  version: 1;
  /** ISO 8601 UTC time of the reading. */
  timestamp: string;
  host: string;
  /** Seconds between the two readings the rates came from; null when no rate could be computed. */
  interval: number | null;
  metrics: Record<string, number | null>;
  cores: Record<string, EntityPart>;
  disks: Record<string, EntityPart>;
  interfaces: Record<string, EntityPart>;
  filesystems: Record<string, EntityPart>;
  errors: CollectorError[];
}

export type Unit =
  | "percent"
  | "seconds"
  | "bytes"
  | "bytes/s"
  | "1/s"
  | "count"
  | "ratio"
  | "label";

/** One catalogue entry; docs/metrics.md and the JSON Schema are generated from these. */
export interface MetricDef {
  name: string;
  /** "metrics" for scalars, else the entity family whose records carry it. */
  scope: "metrics" | EntityFamily;
  unit: Unit;
  /** Counter-derived rate/percentage (null on the first reading) vs gauge/cumulative value. */
  kind: "rate" | "gauge" | "cumulative" | "label";
  /** Source file(s) relative to the roots, e.g. "/proc/stat". */
  source: string;
  /** Formula in words/symbols as written in docs/metrics.md. */
  formula: string;
  help: string;
}

/** A sample with no readings yet: what the sampler fills in and a CSV row is decoded into. */
export function emptySample(timestamp: string, host: string, interval: number | null): Sample {
  return {
    version: MODEL_VERSION,
    timestamp,
    host,
    interval,
    metrics: {},
    cores: {},
    disks: {},
    interfaces: {},
    filesystems: {},
    errors: [],
  };
}
