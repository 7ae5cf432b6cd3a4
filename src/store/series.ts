/**
 * A sample seen as flat series: `metric` for scalars, `metric[entity]` for per-entity metrics. The CSV
 * columns, the rollups and range queries all speak in these keys.
 */
import { ENTITY_FAMILIES, type Sample } from "../core/model.ts";
import type { SeriesKey } from "./types.ts";

export function seriesKey(metric: string, entity?: string): SeriesKey {
  return entity === undefined ? metric : `${metric}[${entity}]`;
}

/** Splits a key back into metric and entity (metric names never contain "["). */
export function parseSeriesKey(key: SeriesKey): { metric: string; entity?: string } {
  const open = key.indexOf("[");
  if (open < 0 || !key.endsWith("]")) return { metric: key };
  return { metric: key.slice(0, open), entity: key.slice(open + 1, -1) };
}

/** Numeric values of a sample by series key (labels, which are strings, are left out). */
export function flattenValues(sample: Sample): Map<SeriesKey, number | null> {
  const out = new Map<SeriesKey, number | null>();
  for (const name in sample.metrics) out.set(name, sample.metrics[name]);
  for (const family of ENTITY_FAMILIES) {
    const entities = sample[family];
    for (const entity in entities) {
      const part = entities[entity];
      for (const name in part) {
        const v = part[name];
        if (typeof v !== "string") out.set(seriesKey(name, entity), v);
      }
    }
  }
  return out;
}

/**
 * Stored precision: integers are kept exactly; other numbers keep 6 significant digits (relative
 * error at most 5e-6), finer than what a kernel counter read over one interval can resolve.
 */
export function quantize(v: number): number {
  if (Number.isInteger(v)) return v;
  return Number(v.toPrecision(6));
}

/**
 * The values of the named metrics only (every one when `metrics` is omitted), per-entity ones
 * limited to entities matching `entity`: cheaper than flattening a whole sample for one metric.
 */
export function pickValues(
  sample: Sample,
  metrics?: readonly string[],
  entity?: RegExp,
): Map<SeriesKey, number | null> {
  if (!metrics) {
    const all = flattenValues(sample);
    if (entity) {
      for (const key of all.keys()) {
        const e = parseSeriesKey(key).entity;
        if (e !== undefined && !entity.test(e)) all.delete(key);
      }
    }
    return all;
  }
  const out = new Map<SeriesKey, number | null>();
  for (const name of metrics) {
    if (name in sample.metrics) {
      out.set(name, sample.metrics[name]);
      continue;
    }
    for (const family of ENTITY_FAMILIES) {
      const entities = sample[family];
      for (const e in entities) {
        const v = entities[e][name];
        if (v === undefined || typeof v === "string") continue;
        if (entity && !entity.test(e)) continue;
        out.set(seriesKey(name, e), v);
      }
    }
  }
  return out;
}
