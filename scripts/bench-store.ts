/**
 * On-disk size and query time of the file store, next to sysstat's sadc measured in the same run
 * (figures for docs/performance.md, "Recording").
 *
 *   deno run -A scripts/bench-store.ts [--days 30] [--formats jsonl,csv] [--template SAMPLE.json]
 *     [--runs 5] [--keep DIR] [--sadc-groups XALL] [--no-sadc]
 *
 * 1. Size. The template is this machine's own sample (two collections 1 s apart with the default
 *    collectors, as `sysmon snapshot` takes it) unless --template names a `snapshot --json` file;
 *    SampleSynth moves its values. `--days` days of 10 s samples go through FileStore (jsonl and
 *    csv) with an injected clock, flushed every hour of data, then close({drain: true}). Bytes per
 *    value = bytes of every file in the data directory (rollups, headers and FORMAT included) ÷
 *    (samples × numeric values per sample), per tier and in total: first as the directory stands at
 *    the end of the last day (that day's raw and 1m files and the month's 1h file still plain), then
 *    once those periods are over and the store's start-up repair has compressed them.
 *    sadc: `sadc -S XALL 1 61 FILE` runs meanwhile; its file size ÷ (61 records × the numeric values
 *    of one record in `sadf -j -- -A`).
 * 2. Query time of the whole command, process start to exit, Deno start-up included (median of
 *    --runs after one warm-up, page cache warm): scripts/store-query.ts with the V8 flags of
 *    `deno task sysmon`, for one metric over all days at a 5-minute step and one day at raw
 *    resolution; a bare `deno run` of an empty module is timed for reference.
 */
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { ENTITY_FAMILIES, type Sample } from "../src/core/model.ts";
import { createLogger } from "../src/log.ts";
import { retentionPolicy } from "../src/record/store_open.ts";
import { quantizeSample } from "../src/store/codec.ts";
import { FileStore } from "../src/store/file_store.ts";
import type { FileFormat, TierName } from "../src/store/layout.ts";
import { flattenValues } from "../src/store/series.ts";
import { liveTemplate, SampleSynth } from "../tests/synth.ts";
import { DAY_MS } from "../src/core/duration.ts";

const SADC = "/usr/lib/sysstat/sadc";
const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded";
const STEP_S = 10;
/** The data ends at a month boundary, so "all closed" includes the month's 1h file. */
const END = Date.UTC(2026, 3, 1);

function arg(name: string, dflt: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : dflt;
}
const DAYS = Number(arg("days", "30"));
const FORMATS = arg("formats", "jsonl,csv").split(",") as FileFormat[];
const TEMPLATE = arg("template", "");
const RUNS = Number(arg("runs", "5"));
const KEEP = arg("keep", "");
const SADC_GROUPS = arg("sadc-groups", "XALL");
const SADC_RECORDS = 61;
const WITH_SADC = !Deno.args.includes("--no-sadc");

const root = new URL("..", import.meta.url).pathname;
const log = createLogger({ level: "warn", format: "text" });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f2 = (x: number) => x.toFixed(2);

/** Numeric (non-null) values in one stored sample: the denominator of bytes per value. */
function valuesPerSample(s: Sample): number {
  let n = 0;
  for (const v of flattenValues(quantizeSample(s)).values()) if (v !== null) n++;
  return n;
}

async function dirBytes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (path: string, top: string) => {
    for await (const e of Deno.readDir(path)) {
      const p = `${path}/${e.name}`;
      if (e.isDirectory) await walk(p, top || e.name);
      else if (e.isFile) {
        const key = top || "(top)";
        out.set(key, (out.get(key) ?? 0) + (await Deno.stat(p)).size);
      }
    }
  };
  await walk(dir, "");
  return out;
}

/** Paths of every file under `dir`, relative to it (rollup tiers may hold one directory per group). */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await listFiles(`${dir}/${e.name}`, `${prefix}${e.name}/`));
    else if (e.isFile) out.push(prefix + e.name);
  }
  return out;
}

function storeOptions(dir: string, format: FileFormat, clock: { now: number }) {
  return {
    dir,
    host: Deno.hostname(),
    format,
    flushInterval: 3600,
    fsync: false,
    maxFileBytes: EMBEDDED_DEFAULTS.storage.max_file_mib * 1048576,
    bufferSamples: EMBEDDED_DEFAULTS.storage.buffer_samples,
    retention: retentionPolicy(EMBEDDED_DEFAULTS),
    log,
    now: () => clock.now,
  };
}

interface SizeResult {
  format: FileFormat;
  samples: number;
  values: number;
  seconds: number;
  atEnd: Map<string, number>;
  closed: Map<string, number>;
  files: string[];
}

async function generate(dir: string, format: FileFormat, template: Sample): Promise<SizeResult> {
  const start = END - DAYS * DAY_MS;
  const clock = { now: start };
  const synth = new SampleSynth(template, 1);
  const store = new FileStore(storeOptions(dir, format, clock));
  await store.openForWriting();
  const samples = (DAYS * DAY_MS) / (STEP_S * 1000);
  let values = 0;
  const t0 = performance.now();
  for (let i = 0; i < samples; i++) {
    const t = start + i * STEP_S * 1000;
    clock.now = t + 50;
    const s = synth.at(t, STEP_S);
    if (i === 0) values = valuesPerSample(s);
    await store.write(s);
    if (i % 360 === 359) await store.flush();
  }
  await store.close({ drain: true });
  const seconds = (performance.now() - t0) / 1000;
  const atEnd = await dirBytes(dir);
  // The last periods end: the next start's repair compresses what the recorder left open.
  clock.now = END + 30_000;
  const after = new FileStore(storeOptions(dir, format, clock));
  await after.openForWriting();
  await after.close();
  const closed = await dirBytes(dir);
  const files: string[] = [];
  for (const tier of ["raw", "1m", "1h"] as TierName[]) {
    const names = (await listFiles(`${dir}/${tier}`)).sort();
    files.push(`${tier}: ${names.length} files (${names[0]} … ${names.at(-1)})`);
  }
  return { format, samples, values, seconds, atEnd, closed, files };
}

/** Wall-clock milliseconds of one whole command (spawn to exit), and its stdout line count. */
async function timeCommand(args: string[]): Promise<{ ms: number; lines: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: root, stderr: "piped" })
    .output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  let lines = 0;
  for (const b of out.stdout) if (b === 10) lines++;
  return { ms, lines };
}

async function timeQuery(label: string, args: string[], expectLines = 0) {
  const full = ["run", "-A", V8_FLAGS, ...args];
  const warm = await timeCommand(full);
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) ms.push((await timeCommand(full)).ms);
  return {
    label,
    command: `deno ${full.join(" ")}`,
    first: warm.ms,
    median: median(ms),
    ms,
    lines: warm.lines,
    expectLines,
  };
}

async function sadcCount(
  file: string,
): Promise<{ bytes: number; perRecord: number; records: number }> {
  const out = await new Deno.Command("sadf", { args: ["-j", "--", "-A", file], stdout: "piped" })
    .output();
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  const stats: Record<string, unknown>[] = doc.sysstat.hosts[0].statistics;
  const numbers = (o: unknown): number =>
    typeof o === "number"
      ? 1
      : Array.isArray(o)
      ? o.reduce((a: number, x) => a + numbers(x), 0)
      : o && typeof o === "object"
      ? Object.values(o).reduce((a: number, x) => a + numbers(x), 0)
      : 0;
  const counts = stats.map(({ timestamp: _t, ...rest }) => numbers(rest));
  return {
    bytes: (await Deno.stat(file)).size,
    perRecord: counts.reduce((a, b) => a + b, 0) / counts.length,
    records: SADC_RECORDS,
  };
}

// --- run ---------------------------------------------------------------------------------------

const work = KEEP || await Deno.makeTempDir({ prefix: "bench-store-" });
await Deno.mkdir(work, { recursive: true });
const haveSadc = WITH_SADC && await Deno.stat(SADC).then(() => true, () => false);
const sadcFile = `${work}/sadc.sa`;
await Deno.remove(sadcFile).catch(() => {});
const sadcArgs = ["-S", SADC_GROUPS, "1", String(SADC_RECORDS), sadcFile];
const sadc = haveSadc
  ? new Deno.Command(SADC, { args: sadcArgs, stdout: "null", stderr: "null" }).spawn()
  : undefined;

const template = TEMPLATE
  ? JSON.parse(await Deno.readTextFile(TEMPLATE)) as Sample
  : await liveTemplate();
const sizes: SizeResult[] = [];
for (const format of FORMATS) {
  const dir = `${work}/${format}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  sizes.push(await generate(dir, format, template));
}

const queries = [];
if (FORMATS.length > 0) {
  const empty = `${work}/empty.ts`;
  await Deno.writeTextFile(empty, "");
  queries.push(await timeQuery("bare deno run (empty module)", [empty]));
  const lastDay = new Date(END - DAY_MS).toISOString();
  const allFrom = new Date(END - DAYS * DAY_MS).toISOString();
  const end = new Date(END).toISOString();
  for (const s of sizes) {
    const dir = `${work}/${s.format}`;
    const base = ["scripts/store-query.ts", "--data", dir, "--metric", "cpu_usage_percent"];
    queries.push(
      await timeQuery(`${s.format}: ${DAYS} days, 5-minute step, avg`, [
        ...base,
        ...["--from", allFrom, "--to", end, "--step", "300", "--agg", "avg"],
      ], DAYS * 288),
    );
    queries.push(
      await timeQuery(`${s.format}: 1 day, raw (step 0)`, [
        ...base,
        ...["--from", lastDay, "--to", end, "--step", "0"],
      ], 8640),
    );
    queries.push(
      await timeQuery(`${s.format}: 1 day, 5-minute p95, one disk`, [
        "scripts/store-query.ts",
        ...["--data", dir, "--metric", "disk_util_percent", "--entity", "^vd|^sd|^nvme"],
        ...["--from", lastDay, "--to", end, "--step", "300", "--agg", "p95"],
      ], 288),
    );
  }
}

const sa = sadc ? (await sadc.status, await sadcCount(sadcFile)) : undefined;

// --- report ------------------------------------------------------------------------------------

const host =
  `${Deno.hostname()}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`;
console.log(`# bench-store (${host})`);
console.log(
  `template: ${TEMPLATE || "this machine's own sample (two collections 1 s apart)"}: ` +
    `${Object.keys(template.metrics).length} scalar metrics; ` +
    ENTITY_FAMILIES.map((f) => `${f} ${Object.keys(template[f]).join(" ") || "-"}`).join("; "),
);
for (const s of sizes) {
  const denom = s.samples * s.values;
  console.log(
    `\n${s.format}: ${DAYS} days × ${s.samples / DAYS} samples/day = ${s.samples} samples × ` +
      `${s.values} values; generated in ${s.seconds.toFixed(1)} s ` +
      `(${((s.seconds * 1e6) / s.samples).toFixed(0)} µs per sample)`,
  );
  for (const f of s.files) console.log(`  ${f}`);
  console.log("  tier      bytes at end of last day   B/value   bytes once closed   B/value");
  const keys = [...new Set([...s.atEnd.keys(), ...s.closed.keys()])].sort();
  let a = 0, c = 0;
  for (const k of keys) {
    const x = s.atEnd.get(k) ?? 0, y = s.closed.get(k) ?? 0;
    a += x;
    c += y;
    console.log(
      `  ${k.padEnd(8)} ${String(x).padStart(26)} ${f2(x / denom).padStart(9)} ${
        String(y).padStart(19)
      } ${f2(y / denom).padStart(9)}`,
    );
  }
  console.log(
    `  ${"total".padEnd(8)} ${String(a).padStart(26)} ${f2(a / denom).padStart(9)} ${
      String(c).padStart(19)
    } ${f2(c / denom).padStart(9)}`,
  );
  if (sa) {
    const sadcPerValue = sa.bytes / (sa.records * sa.perRecord);
    console.log(
      `  ratio sysmon/sadc (bytes per value): ${f2(a / denom / sadcPerValue)} at end of day, ` +
        `${f2(c / denom / sadcPerValue)} once closed`,
    );
  }
}
if (sa) {
  console.log(
    `\nsadc: ${SADC} ${sadcArgs.join(" ")}: ${sa.bytes} bytes / (${sa.records} records × ` +
      `${sa.perRecord.toFixed(0)} values per record in sadf -j -- -A) = ` +
      `${f2(sa.bytes / (sa.records * sa.perRecord))} B/value`,
  );
} else if (WITH_SADC) console.log(`\nsadc: ${SADC} not installed (apt-get install sysstat)`);
console.log(`\nquery time, whole command, median of ${RUNS} after one warm-up run:`);
for (const q of queries) {
  console.log(
    `  ${q.label}: median ${q.median.toFixed(0)} ms (runs ${
      q.ms.map((m) => m.toFixed(0)).join(", ")
    }; first ${q.first.toFixed(0)} ms), ${q.lines} lines${
      q.expectLines && q.lines !== q.expectLines ? ` — WRONG, expected ${q.expectLines}` : ""
    }`,
  );
  console.log(`    ${q.command}`);
}
if (!KEEP) await Deno.remove(work, { recursive: true });
