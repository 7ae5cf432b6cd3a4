/**
 * The long-running cost of `sysmon record` next to sysstat's sadc, measured in the same run
 * (figures for docs/performance.md, "Recording").
 *
 *   deno run -A scripts/bench-record.ts [--minutes 10] [--interval 10] [--format jsonl|csv]
 *     [--sadc-groups XALL] [--seed-day] [--keep DIR]
 *
 * Starts, side by side and for the same duration:
 * - `deno run --no-code-cache -A --v8-flags=… main.ts record --data TMP --interval 10s` (the flags of `deno task
 *   sysmon`), with no configuration file, so the defaults apply (fsync always, flush every 10 s);
 * - `/usr/lib/sysstat/sadc -S XALL 10 N FILE` (one process for N samples, every activity group).
 * Every interval it reads each process's CPU time (cpuSeconds) and VmRSS (/proc/PID/status); VmHWM
 * just before the end. Start-up is reported apart: the steady figures count from the first reading
 * after one minute.
 *
 * --seed-day first writes yesterday's full UTC day (8640 synthetic samples from this machine's own
 * sample, tests/synth.ts) and leaves it as a recorder stopped before midnight would: plain files.
 * The recorder then compresses them at start-up — the same work, and memory peak, as the daily
 * rotation at midnight that a 10-minute run never reaches.
 */
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { createLogger } from "../src/log.ts";
import { retentionPolicy } from "../src/record/store_open.ts";
import { FileStore } from "../src/store/file_store.ts";
import type { FileFormat } from "../src/store/layout.ts";
import { liveTemplate, SampleSynth } from "../tests/synth.ts";

const SADC = "/usr/lib/sysstat/sadc";
const TICK = 100; // USER_HZ
/** The flags of `deno task sysmon`: without --no-code-cache, the first run after a change writes
 * V8's code cache, which cost 270 ms of start-up and kept RSS ≈ 20 MB higher for the whole run. */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded,--expose-gc";
const NO_CODE_CACHE = "--no-code-cache";

function arg(name: string, dflt: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : dflt;
}
const MINUTES = Number(arg("minutes", "10"));
const INTERVAL = Number(arg("interval", "10"));
const FORMAT = arg("format", "jsonl");
const SADC_GROUPS = arg("sadc-groups", "XALL");
const KEEP = arg("keep", "");
const SEED_DAY = Deno.args.includes("--seed-day");
const WARMUP_S = Math.min(60, (MINUTES * 60) / 4);

interface Reading {
  at: number;
  cpuS: number;
  rssMiB: number;
}

/**
 * CPU seconds of a process. utime+stime counts every thread, exited ones too, but in 10 ms ticks —
 * too coarse for sadc's few milliseconds per sample; a single-threaded process's schedstat gives
 * nanoseconds.
 */
function cpuSeconds(pid: number): number {
  let threads = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/task`)) threads++;
  if (threads === 1) {
    return Number(Deno.readTextFileSync(`/proc/${pid}/schedstat`).split(" ")[0]) / 1e9;
  }
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK;
}

function read(pid: number): Reading | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return {
      at: performance.now() / 1000,
      cpuS: cpuSeconds(pid),
      rssMiB: kib(status, "VmRSS") / 1024,
    };
  } catch {
    return undefined;
  }
}

function kib(status: string, field: string): number {
  const m = status.match(new RegExp(`${field}:\\s+(\\d+)`));
  return m ? Number(m[1]) : NaN;
}

function hwmMiB(pid: number): number {
  try {
    return kib(Deno.readTextFileSync(`/proc/${pid}/status`), "VmHWM") / 1024;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const root = new URL("..", import.meta.url).pathname;
const tmp = KEEP || await Deno.makeTempDir({ prefix: "bench-record-" });
await Deno.mkdir(tmp, { recursive: true });
const samplesWanted = Math.floor((MINUTES * 60) / INTERVAL) + 2;
const haveSadc = await Deno.stat(SADC).then(() => true, () => false);
const env = { HOME: "/nonexistent", XDG_CONFIG_HOME: "/nonexistent", NO_COLOR: "1" };

/** Yesterday's full day, written as a recorder that stopped at 23:59:59 UTC leaves it. */
async function seedYesterday(dir: string): Promise<number> {
  const log = createLogger({ level: "warn", format: "text" });
  const config = structuredClone(EMBEDDED_DEFAULTS);
  const synth = new SampleSynth(await liveTemplate(), 1);
  const start = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
  const clock = { now: start };
  const store = new FileStore({
    dir,
    host: Deno.hostname(),
    format: FORMAT as FileFormat,
    flushInterval: 3600,
    fsync: false,
    maxFileBytes: config.storage.max_file_mib * 1048576,
    bufferSamples: config.storage.buffer_samples,
    retention: retentionPolicy(config),
    log,
    now: () => clock.now,
  });
  await store.openForWriting();
  const n = 8640;
  for (let i = 0; i < n; i++) {
    const t = start + i * 10_000;
    clock.now = t + 50;
    await store.write(synth.at(t, 10));
    if (i % 360 === 359) await store.flush();
  }
  await store.close({ drain: true });
  return n;
}

const seeded = SEED_DAY ? await seedYesterday(`${tmp}/sysmon`) : 0;
if (seeded > 0) console.log(`seeded ${tmp}/sysmon with yesterday's ${seeded} samples (plain)`);

const sysmonArgs = [
  "run",
  NO_CODE_CACHE,
  "-A",
  V8_FLAGS,
  "main.ts",
  "record",
  "--data",
  `${tmp}/sysmon`,
  "--interval",
  `${INTERVAL}s`,
  "--format",
  FORMAT,
];
const sadcArgs = ["-S", SADC_GROUPS, String(INTERVAL), String(samplesWanted), `${tmp}/sadc.sa`];
console.log(`sysmon: deno ${sysmonArgs.join(" ")}`);
console.log(haveSadc ? `sadc:   ${SADC} ${sadcArgs.join(" ")}` : `sadc: ${SADC} not installed`);
console.log(
  `duration ${MINUTES} min, sampled every ${INTERVAL} s, steady state after ${WARMUP_S} s`,
);

const sysmon = new Deno.Command(Deno.execPath(), {
  args: sysmonArgs,
  cwd: root,
  env,
  stdout: "null",
  stderr: "piped",
}).spawn();
const sadc = haveSadc
  ? new Deno.Command(SADC, { args: sadcArgs, stdout: "null", stderr: "null" }).spawn()
  : undefined;
const started = performance.now() / 1000;

const series: Record<"sysmon" | "sadc", Reading[]> = { sysmon: [], sadc: [] };
const hwm: Record<"sysmon" | "sadc", number> = { sysmon: NaN, sadc: NaN };
const take = () => {
  const a = read(sysmon.pid);
  if (a) series.sysmon.push(a);
  const b = sadc ? read(sadc.pid) : undefined;
  if (b) series.sadc.push(b);
};
take();
const end = started + MINUTES * 60;
while (performance.now() / 1000 < end) {
  await sleep(Math.min(INTERVAL * 1000, (end - performance.now() / 1000) * 1000));
  take();
}
hwm.sysmon = hwmMiB(sysmon.pid);
if (sadc) hwm.sadc = hwmMiB(sadc.pid);

sysmon.kill("SIGTERM");
const sysmonStatus = await sysmon.status;
const stderr = new TextDecoder().decode(
  await new Response(sysmon.stderr).arrayBuffer().catch(() => new ArrayBuffer(0)),
);
if (sadc) {
  sadc.kill("SIGTERM");
  await sadc.status;
}

async function sysmonSamples(): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(`${tmp}/sysmon/raw`)) {
    if (!e.isFile) continue;
    const path = `${tmp}/sysmon/raw/${e.name}`;
    const text = e.name.endsWith(".gz")
      ? await new Response(
        (await Deno.open(path)).readable.pipeThrough(new DecompressionStream("gzip")),
      ).text()
      : await Deno.readTextFile(path);
    n += text.split("\n").filter((l) => l.length > 0).length - (FORMAT === "csv" ? 2 : 1);
  }
  return n;
}

async function sadcRecords(): Promise<number> {
  const out = await new Deno.Command("sadf", {
    args: ["-d", "-U", "--", "-u", `${tmp}/sadc.sa`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  // sadf prints intervals; the first record is their baseline.
  return lines.filter((l) => l.length > 0 && !l.startsWith("#")).length + 1;
}

function summarise(name: "sysmon" | "sadc", samples: number) {
  const rs = series[name];
  if (rs.length < 2) return undefined;
  const last = rs[rs.length - 1];
  const steadyFrom = rs.find((r) => r.at - started >= WARMUP_S) ?? rs[0];
  const steadyS = last.at - steadyFrom.at;
  const steadyCpu = last.cpuS - steadyFrom.cpuS;
  const steadyRss = rs.filter((r) => r.at >= steadyFrom.at).map((r) => r.rssMiB);
  return {
    name,
    samples,
    wallS: last.at - started,
    totalCpuMs: last.cpuS * 1000,
    startupCpuMs: steadyFrom.cpuS * 1000,
    steadyPercent: (steadyCpu / steadyS) * 100,
    steadyMsPerSample: (steadyCpu * 1000) / (steadyS / INTERVAL),
    allMsPerSample: samples > 0 ? (last.cpuS * 1000) / samples : NaN,
    rssPeakSampled: Math.max(...rs.map((r) => r.rssMiB)),
    rssHwm: hwm[name],
    rssAvgSteady: steadyRss.reduce((a, b) => a + b, 0) / steadyRss.length,
    rssLast: last.rssMiB,
  };
}

const a = summarise("sysmon", (await sysmonSamples()) - seeded);
const b = sadc ? summarise("sadc", await sadcRecords()) : undefined;
const f1 = (x: number) => x.toFixed(1);
const f3 = (x: number) => x.toFixed(3);
for (const s of [a, b]) {
  if (!s) continue;
  console.log(`${s.name}: ${s.samples} samples in ${f1(s.wallS)} s`);
  console.log(
    `  CPU: ${f3(s.steadyPercent)} % of a core in steady state, ${
      f3(s.steadyMsPerSample)
    } ms per sample (steady); start-up ${f1(s.startupCpuMs)} ms; total ${f1(s.totalCpuMs)} ms = ${
      f3(s.allMsPerSample)
    } ms per written sample`,
  );
  console.log(
    `  RSS: peak ${f1(s.rssHwm)} MiB (VmHWM), max sampled ${f1(s.rssPeakSampled)} MiB, average ${
      f1(s.rssAvgSteady)
    } MiB (steady), last ${f1(s.rssLast)} MiB`,
  );
}
if (a && b) {
  console.log(
    `ratio sysmon/sadc: CPU per sample (steady) ${
      (a.steadyMsPerSample / b.steadyMsPerSample).toFixed(2)
    }, CPU including start-up ${(a.allMsPerSample / b.allMsPerSample).toFixed(2)}, peak RSS ${
      (a.rssHwm / b.rssHwm).toFixed(2)
    }`,
  );
}
if (!sysmonStatus.success) {
  console.log(`sysmon record exited ${sysmonStatus.code}:\n${stderr}`);
}
if (!KEEP) await Deno.remove(tmp, { recursive: true });
