/**
 * A range query against a data directory, read-only, printed as JSON lines (one point per line).
 * For the query-time figures in docs/performance.md and for looking at recorded data by hand.
 *
 *   deno run -A scripts/store-query.ts --data DIR --metric NAME[,NAME…] [--entity REGEX]
 *     [--from ISO|EPOCH_MS] [--to ISO|EPOCH_MS] [--step SECONDS] [--agg min|avg|max|last|p95]
 *
 * --from/--to default to the first and last stored raw sample (`to` is exclusive); --step 0 (the
 * default) prints every raw sample. Output: {"time":EPOCH_MS,"values":{"metric[entity]":N,…}}.
 * Exit status 2 for bad flags, 1 when the directory cannot be read.
 */
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { createLogger } from "../src/log.ts";
import { createFileStore } from "../src/record/store_open.ts";
import { type Aggregation, AGGREGATIONS, type RangeQuery } from "../src/store/types.ts";

const USAGE =
  "usage: store-query.ts --data DIR --metric NAME[,NAME…] [--entity REGEX] [--from ISO|EPOCH_MS] " +
  "[--to ISO|EPOCH_MS] [--step SECONDS] [--agg min|avg|max|last|p95]";

function fail(message: string): never {
  console.error(`store-query: ${message}\n${USAGE}`);
  Deno.exit(2);
}

function parseFlags(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) fail(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < args.length) flags.set(a.slice(2), args[++i]);
    else fail(`${a} needs a value`);
  }
  return flags;
}

/** Epoch milliseconds from digits, or from an ISO 8601 date/time (UTC unless it says otherwise). */
function parseTime(text: string, flag: string): number {
  const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(t)) fail(`--${flag}: not an ISO time or epoch milliseconds: ${text}`);
  return t;
}

const flags = parseFlags(Deno.args);
const known = new Set(["data", "metric", "entity", "from", "to", "step", "agg"]);
for (const k of flags.keys()) if (!known.has(k)) fail(`unknown flag --${k}`);
const dir = flags.get("data") ?? fail("--data is required");
const metrics = (flags.get("metric") ?? fail("--metric is required")).split(",").filter(Boolean);
const step = Number(flags.get("step") ?? "0");
if (!Number.isFinite(step) || step < 0) {
  fail(`--step: not a number of seconds: ${flags.get("step")}`);
}
const aggregation = (flags.get("agg") ?? "avg") as Aggregation;
if (!AGGREGATIONS.includes(aggregation)) fail(`--agg: one of ${AGGREGATIONS.join(", ")}`);
let entity: RegExp | undefined;
try {
  entity = flags.has("entity") ? new RegExp(flags.get("entity")!) : undefined;
} catch (err) {
  fail(`--entity: ${(err as Error).message}`);
}

if (!(await Deno.stat(`${dir}/FORMAT`).then(() => true, () => false))) {
  console.error(`store-query: ${dir} is no sysmon data directory (no FORMAT file)`);
  Deno.exit(1);
}

const log = createLogger({ level: "warn", format: "text" });
const store = createFileStore(EMBEDDED_DEFAULTS, dir, log, { host: "store-query" });
try {
  let from = flags.has("from") ? parseTime(flags.get("from")!, "from") : undefined;
  let to = flags.has("to") ? parseTime(flags.get("to")!, "to") : undefined;
  if (from === undefined || to === undefined) {
    const raw = (await store.info()).tiers.find((t) => t.name === "raw");
    from ??= raw?.from ?? 0;
    to ??= (raw?.to ?? 0) + 1;
  }
  const q: RangeQuery = { from, to, metrics, entity, step, aggregation };
  // Output is batched: one write per ~64 KiB rather than one per point.
  const encoder = new TextEncoder();
  let buffer = "";
  const write = async (text: string) => {
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
  };
  for await (const point of store.query(q)) {
    buffer += JSON.stringify(point) + "\n";
    if (buffer.length >= 65536) {
      await write(buffer);
      buffer = "";
    }
  }
  await write(buffer);
} catch (err) {
  console.error(`store-query: ${dir}: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
}
