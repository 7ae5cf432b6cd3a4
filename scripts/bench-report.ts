/**
 * Whole-command wall time and peak memory of `sysmon report --capacity --anomalies` (figures for
 * docs/performance.md, "report"):
 *
 *   deno run -A scripts/bench-report.ts [--month DIR] [--year DIR] [--runs 3] [--keep]
 *
 * - month: 30 days of 10 s samples of this machine's device set. Pass a store written by
 *   `scripts/bench-store.ts --days 30 --formats jsonl --keep DIR --no-sadc` (DIR/jsonl): writing one
 *   takes minutes, so this script writes one itself only when --month is not given.
 * - year: 365 days of hourly rollups (one sample an hour, so the 1h tier holds a year), written here
 *   in seconds unless --year names one.
 * Each report runs as `deno task sysmon` runs it (same flags), output to /dev/null, page cache warm
 * (one unmeasured run first); wall time from spawn to exit, peak RSS (VmHWM) from /usr/bin/time.
 * Targets: ≤ 2 s each. Exits 0 once measured, 1 when setup fails, 2 for bad flags.
 */
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { createLogger } from "../src/log.ts";
import { createFileStore } from "../src/record/store_open.ts";
import { liveTemplate, SampleSynth } from "../tests/synth.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const FLAGS = [
  "run",
  "--no-code-cache",
  "-A",
  "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded,--expose-gc",
];
const DAY = 86400_000;
const END = Date.UTC(2026, 3, 1);

function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(`--${name}`);
  return i < 0 ? undefined : Deno.args[i + 1];
}
const RUNS = Number(arg("runs") ?? 3);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error("bench-report: --runs needs a whole number ≥ 1");
  Deno.exit(2);
}

/** Writes `days` of samples every `stepS` seconds ending at END into `dir`. */
async function writeStore(dir: string, days: number, stepS: number): Promise<void> {
  const config = structuredClone(EMBEDDED_DEFAULTS);
  config.storage.flush_interval = 3600;
  config.storage.fsync = "never";
  // Keep everything the store is given: retention is measured elsewhere.
  config.storage.retention = {
    raw: 400 * 86400,
    rollup_1m: 400 * 86400,
    rollup_1h: 800 * 86400,
    max_total_mib: 0,
  };
  const clock = { now: END - days * DAY };
  const store = createFileStore(config, dir, createLogger({ level: "error", format: "text" }), {
    format: "jsonl",
    now: () => clock.now,
  });
  await store.openForWriting();
  const synth = new SampleSynth(await liveTemplate(), 11);
  let n = 0;
  for (let t = END - days * DAY; t < END; t += stepS * 1000) {
    clock.now = t + 50;
    await store.write(synth.at(t, stepS));
    if (++n % 3600 === 0) await store.flush();
  }
  clock.now = END + 3600_000;
  await store.close({ drain: true });
}

async function timeReport(dir: string, from: number): Promise<{ seconds: number; peakKb: number }> {
  const args = [
    "-f",
    "%M",
    Deno.execPath(),
    ...FLAGS,
    MAIN,
    "report",
    "--data",
    dir,
    "--from",
    new Date(from).toISOString(),
    "--to",
    new Date(END).toISOString(),
    "--capacity",
    "--anomalies",
    "--format",
    "json",
    "--output",
    "/dev/null",
  ];
  const t0 = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args,
    env: { DENO_NO_UPDATE_CHECK: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (out.code !== 0) throw new Error(`report failed: ${err.join("\n")}`);
  return { seconds, peakKb: Number(err[err.length - 1]) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(name: string, dir: string, from: number) {
  await timeReport(dir, from); // page cache warm, Deno's caches warm
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timeReport(dir, from));
  const wall = median(runs.map((r) => r.seconds));
  const peak = Math.max(...runs.map((r) => r.peakKb));
  console.log(
    `${name.padEnd(34)} median ${wall.toFixed(2)} s (${
      runs.map((r) => r.seconds.toFixed(2)).join(", ")
    })` +
      `  peak RSS ${(peak * 1024 / 1e6).toFixed(1)} MB  target ≤ 2 s: ${
        wall <= 2 ? "met" : "MISSED"
      }`,
  );
}

const tmp = await Deno.makeTempDir({ prefix: "sysmon-bench-report-" });
try {
  let month = arg("month");
  if (!month) {
    month = `${tmp}/month`;
    console.log(
      "writing 30 days of 10 s samples (several minutes; pass --month DIR to reuse one)…",
    );
    await writeStore(month, 30, 10);
  }
  let year = arg("year");
  if (!year) {
    year = `${tmp}/year`;
    await writeStore(year, 365, 3600);
  }
  await measure("30 days of 10 s data (1h rollups)", month, END - 30 * DAY);
  await measure("365 days of hourly rollups", year, END - 365 * DAY);
} finally {
  if (!Deno.args.includes("--keep")) await Deno.remove(tmp, { recursive: true });
  else console.log(`kept ${tmp}`);
}
