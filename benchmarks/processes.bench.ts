/**
 * The cost of watch's process table on this machine's /proc:
 *
 *   deno bench -A --v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded benchmarks/processes.bench.ts
 *
 * (the V8 flags sysmon ships with). Deno.bench reports wall time per call; the line printed first
 * gives the CPU time per call, the figure watch's budget (1 % of a core at a 1 s interval) counts:
 * the whole process's (all threads, from /proc/self/stat) and the main thread's
 * (/proc/thread-self/schedstat, ns).
 */
import { parseProcStat, ProcessReader } from "../src/collect/processes.ts";

const CALLS = 300;

function processCpuMs(): number {
  const s = parseProcStat(Deno.readTextFileSync("/proc/self/stat"))!;
  return (s.utimeTicks + s.stimeTicks) * 10; // USER_HZ 100
}
const threadCpuMs = () =>
  Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;

const reader = new ProcessReader({ procRoot: "/proc" });
for (let i = 0; i < 50; i++) await reader.top(10, "cpu"); // warm up
const process0 = processCpuMs();
const thread0 = threadCpuMs();
for (let i = 0; i < CALLS; i++) await reader.top(10, "cpu");
const perCallProcess = (processCpuMs() - process0) / CALLS;
const perCallThread = (threadCpuMs() - thread0) / CALLS;
const processes = reader.lastScan.processes;
console.log(
  `top(10, "cpu") over ${processes} processes: CPU per call ${perCallThread.toFixed(3)} ms ` +
    `(main thread), ${perCallProcess.toFixed(2)} ms (process, 10 ms ticks) = ` +
    `${(perCallProcess / 10).toFixed(3)} % of a core at a 1 s interval`,
);

Deno.bench(`top(10, "cpu") on /proc (${processes} processes)`, { baseline: true }, async () => {
  await reader.top(10, "cpu");
});

Deno.bench(`top(10, "memory") on /proc (${processes} processes)`, async () => {
  await reader.top(10, "memory");
});

const line = Deno.readTextFileSync("/proc/self/stat");
Deno.bench("parseProcStat (one line of /proc/self/stat)", () => {
  parseProcStat(line);
});
