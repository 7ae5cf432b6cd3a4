/**
 * The cost of the trend and capacity analyses on the report's worst case — 30 days of 10 s samples
 * (259 200 points) per series:
 *
 *   deno bench -A --v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded benchmarks/analyze.bench.ts
 *
 * (the V8 flags sysmon ships with). Besides Deno.bench's figures, the line printed first gives the
 * time of one series measured cold, as the report meets it, and the total for 40 series of
 * different shapes: the report's budget is 2 s for all of its analyses together.
 */
import { forecastCapacity } from "../src/analyze/capacity.ts";
import { synthesize, type SynthSpec } from "../src/analyze/synth.ts";
import { analyzeTrend } from "../src/analyze/trend.ts";

const DAY = 86_400_000;
const LENGTH = 30 * 8640; // 30 days at 10 s
const START = Date.UTC(2026, 0, 5);

function series(seed: number, shape: Partial<SynthSpec>) {
  return synthesize({
    start: START,
    stepMs: 10_000,
    length: LENGTH,
    seed,
    base: 40,
    noise: 2,
    ...shape,
  })
    .series;
}

const SHAPES: Partial<SynthSpec>[] = [
  { slopePerDay: 1 },
  { slopePerDay: 0.5, daily: { amplitude: 8 } },
  { slopePerDay: 20, sawtooth: { periodMs: 40 * 3_600_000, drop: 1 } },
  { wander: { sd: 3, phi: 0.9999 } },
];
const many = Array.from({ length: 40 }, (_, i) => series(i + 1, SHAPES[i % SHAPES.length]));
const now = START + 30 * DAY;
const options = { capacity: 100, thresholds: [80, 90, 100], now, kind: "filesystem" as const };

/** CPU time of this thread in ms (schedstat, ns): unlike wall time, unmoved by other processes. */
const threadCpuMs = () =>
  Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;

function measure(run: () => void): { wall: number; cpu: number } {
  const wall = performance.now();
  const cpu = threadCpuMs();
  run();
  return { wall: performance.now() - wall, cpu: threadCpuMs() - cpu };
}

const cold = measure(() => forecastCapacity(many[0], options));
const capacity = measure(() => many.forEach((s) => forecastCapacity(s, options)));
const trend = measure(() => many.forEach((s) => analyzeTrend(s)));
const ms = (x: { wall: number; cpu: number }) =>
  `${x.cpu.toFixed(0)} ms CPU (${x.wall.toFixed(0)} ms wall)`;
console.log(
  `259 200 points per series: first capacity forecast ${ms(cold)}; capacity forecasts of 40 ` +
    `series ${ms(capacity)}; trend analyses of the same 40 ${ms(trend)}`,
);

const linear = many[0];
const seasonal = many[1];
const sawtooth = many[2];
Deno.bench("forecastCapacity, 30 days of 10 s samples, linear growth", () => {
  forecastCapacity(linear, options);
});
Deno.bench("forecastCapacity, 30 days of 10 s samples, daily pattern", () => {
  forecastCapacity(seasonal, options);
});
Deno.bench("forecastCapacity, 30 days of 10 s samples, log-rotation sawtooth", () => {
  forecastCapacity(sawtooth, options);
});
Deno.bench("analyzeTrend, 30 days of 10 s samples, daily pattern", () => {
  analyzeTrend(seasonal);
});
