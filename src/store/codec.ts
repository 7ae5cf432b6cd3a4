/**
 * Line formats of stored files. Every file starts with one header line (JSON; in CSV files behind
 * "# ") naming the store format version, the tier, the host and the metric schema, then one record
 * per line. Raw JSON Lines records are version-1 samples exactly as `snapshot --json` prints them
 * (numbers quantized, see series.ts); raw CSV rows hold one column per series.
 */
import { catalog } from "../core/catalog.ts";
import {
  emptySample,
  ENTITY_FAMILIES,
  type EntityFamily,
  type MetricDef,
  MODEL_VERSION,
  type Sample,
} from "../core/model.ts";
import { type FileFormat, STORE_FORMAT_VERSION, type TierName } from "./layout.ts";
import { parseSeriesKey, quantize, seriesKey } from "./series.ts";

export interface FileHeader {
  sysmon_store: number;
  tier: TierName;
  format: FileFormat;
  host: string;
  model_version: number;
  created: string;
  /** The JSON Schema of raw JSON Lines records, relative to sysmon's docs. */
  schema: string;
  /** Unit of every model metric (docs/metrics.md explains each). */
  units: Record<string, string>;
  /** CSV only: the column names of the rows that follow. */
  columns?: string[];
}

export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FormatError";
  }
}

let unitsCache: Record<string, string> | undefined;
function units(): Record<string, string> {
  return unitsCache ??= Object.fromEntries(catalog().map((d) => [d.name, d.unit]));
}

let scopeCache: Map<string, MetricDef> | undefined;
function defsByName(): Map<string, MetricDef> {
  return scopeCache ??= new Map(catalog().map((d) => [d.name, d]));
}

/** True for catalogue entries that hold text (fstype, operstate…), which rollups and queries skip. */
export function isLabelMetric(name: string): boolean {
  return defsByName().get(name)?.kind === "label";
}

export function makeHeader(
  tier: TierName,
  format: FileFormat,
  host: string,
  created: number,
  columns?: string[],
): FileHeader {
  const header: FileHeader = {
    sysmon_store: STORE_FORMAT_VERSION,
    tier,
    format,
    host,
    model_version: MODEL_VERSION,
    created: new Date(created).toISOString(),
    schema: "docs/schema/sample-v1.json",
    units: units(),
  };
  if (columns) header.columns = columns;
  return header;
}

export function encodeHeader(h: FileHeader): string {
  return (h.format === "csv" ? "# " : "") + JSON.stringify(h);
}

/** Parses a header line; throws FormatError naming what is wrong (wrong version included). */
export function decodeHeader(line: string, format: FileFormat): FileHeader {
  const text = format === "csv" ? line.replace(/^# /, "") : line;
  let h: FileHeader;
  try {
    h = JSON.parse(text);
  } catch {
    throw new FormatError("first line is not a sysmon header");
  }
  if (typeof h !== "object" || h === null || typeof h.sysmon_store !== "number") {
    throw new FormatError("first line is not a sysmon header");
  }
  if (h.sysmon_store !== STORE_FORMAT_VERSION) {
    throw new FormatError(
      `store format ${h.sysmon_store}, this sysmon reads format ${STORE_FORMAT_VERSION}`,
    );
  }
  if (format === "csv" && !Array.isArray(h.columns)) {
    throw new FormatError("CSV header has no column list");
  }
  return h;
}

/** A copy of the sample with every number quantized to the stored precision. */
export function quantizeSample(sample: Sample): Sample {
  const q = (rec: Record<string, number | string | null>) => {
    const out: Record<string, number | string | null> = {};
    for (const k in rec) {
      const v = rec[k];
      out[k] = typeof v === "number" ? quantize(v) : v;
    }
    return out;
  };
  const out: Sample = {
    ...sample,
    interval: sample.interval === null ? null : quantize(sample.interval),
    metrics: q(sample.metrics) as Record<string, number | null>,
  };
  for (const family of ENTITY_FAMILIES) {
    const src = sample[family];
    const dst: Record<string, Record<string, number | string | null>> = {};
    for (const e in src) dst[e] = q(src[e]);
    out[family] = dst;
  }
  return out;
}

export function encodeJsonSample(sample: Sample): string {
  return JSON.stringify(sample);
}

export function decodeJsonSample(line: string): Sample {
  const s = JSON.parse(line) as Sample;
  if (typeof s !== "object" || s === null || s.version !== 1 || typeof s.timestamp !== "string") {
    throw new FormatError("not a version-1 sample");
  }
  return s;
}

// ---- CSV ----------------------------------------------------------------------------------------

const FIXED_COLUMNS = ["timestamp", "host", "interval"] as const;
const ERRORS_COLUMN = "errors";

/**
 * The columns for a sample: timestamp, host, interval, the scalar metrics, then per-entity series
 * (`metric[entity]`, labels included) sorted by family, entity and metric, then `errors`. The order
 * depends only on which series exist, so equal sets give equal headers.
 */
export function csvColumns(sample: Sample): string[] {
  const cols: string[] = [...FIXED_COLUMNS, ...Object.keys(sample.metrics)];
  for (const family of ENTITY_FAMILIES) {
    const entities = sample[family];
    for (const entity of Object.keys(entities).sort()) {
      for (const metric of Object.keys(entities[entity]).sort()) {
        cols.push(seriesKey(metric, entity));
      }
    }
  }
  cols.push(ERRORS_COLUMN);
  return cols;
}

/** Control characters in names would break the one-row-per-line rule: written as \ooo, as mountinfo does. */
function escapeControl(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\\]/g, (c) => "\\" + c.charCodeAt(0).toString(8).padStart(3, "0"));
}

function unescapeControl(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

function csvField(text: string): string {
  const t = escapeControl(text);
  return /[",]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
}

export function encodeCsvHeaderRow(columns: string[]): string {
  return columns.map(csvField).join(",");
}

/** One CSV row for `sample` laid out as `columns` (which must be csvColumns(sample)). */
export function encodeCsvRow(sample: Sample, columns: string[]): string {
  const cells: string[] = [];
  for (const col of columns) {
    let v: number | string | null | undefined;
    if (col === "timestamp") v = sample.timestamp;
    else if (col === "host") v = sample.host;
    else if (col === "interval") v = sample.interval;
    else if (col === ERRORS_COLUMN) {
      v = sample.errors.map((e) => `${e.collector}: ${e.message}`).join("; ");
    } else if (col in sample.metrics) v = sample.metrics[col];
    else {
      const { metric, entity } = parseSeriesKey(col);
      v = entity === undefined ? undefined : findEntityValue(sample, entity, metric);
    }
    cells.push(
      v === null || v === undefined ? "" : typeof v === "number" ? String(v) : csvField(v),
    );
  }
  return cells.join(",");
}

function findEntityValue(sample: Sample, entity: string, metric: string) {
  const def = defsByName().get(metric);
  const families = def && def.scope !== "metrics" ? [def.scope] : ENTITY_FAMILIES;
  for (const f of families) {
    const part = sample[f][entity];
    if (part && metric in part) return part[metric];
  }
  return undefined;
}

/** Splits one CSV row (RFC 4180 quoting, no embedded newlines). */
export function splitCsvRow(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let j = i + 1;
      let text = "";
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) throw new FormatError("unterminated quoted CSV field");
        text += line.slice(j, q);
        if (line[q + 1] === '"') {
          text += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(unescapeControl(text));
      if (i < line.length && line[i] !== ",") throw new FormatError("garbage after quoted field");
      i++;
    } else {
      const comma = line.indexOf(",", i);
      const end = comma < 0 ? line.length : comma;
      out.push(unescapeControl(line.slice(i, end)));
      i = end + 1;
    }
  }
  return out;
}

export function decodeCsvHeaderRow(line: string): string[] {
  return splitCsvRow(line);
}

/** Rebuilds a version-1 sample from a CSV row (catalogue scopes place entity series). */
export function decodeCsvRow(line: string, columns: string[]): Sample {
  const cells = splitCsvRow(line);
  if (cells.length !== columns.length) {
    throw new FormatError(`row has ${cells.length} fields, header has ${columns.length}`);
  }
  const sample = emptySample("", "", null);
  const defs = defsByName();
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i];
    const cell = cells[i];
    if (col === "timestamp") sample.timestamp = cell;
    else if (col === "host") sample.host = cell;
    else if (col === "interval") sample.interval = cell === "" ? null : Number(cell);
    else if (col === ERRORS_COLUMN) {
      sample.errors = cell === "" ? [] : cell.split("; ").map((e) => {
        const colon = e.indexOf(": ");
        return colon < 0
          ? { collector: "", message: e }
          : { collector: e.slice(0, colon), message: e.slice(colon + 2) };
      });
    } else {
      const { metric, entity } = parseSeriesKey(col);
      const def = defs.get(metric);
      const isLabel = def?.kind === "label";
      const value = isLabel ? cell : cell === "" ? null : Number(cell);
      if (entity === undefined) sample.metrics[metric] = value as number | null;
      else {
        const family: EntityFamily = def && def.scope !== "metrics" ? def.scope : "disks";
        (sample[family][entity] ??= {})[metric] = value;
      }
    }
  }
  if (!sample.timestamp || Number.isNaN(Date.parse(sample.timestamp))) {
    throw new FormatError("row has no valid timestamp");
  }
  return sample;
}
