/**
 * `deno bench -A benchmarks/anomaly.bench.ts`: anomaly detection on what `report --anomalies`
 * meets — 30 days of 10 s samples per series (259 200 points, 5-minute buckets by default) — one
 * series at a time and twenty in a row, as a host report would. The target (issue 7) is a whole
 * report within 2 s for tens of series.
 */
import { detectAnomalies } from "../src/analyze/anomaly.ts";
import { mergeEvents } from "../src/analyze/anomaly_events.ts";
import type { Series } from "../src/analyze/series.ts";
import { synthesize } from "../src/analyze/synth.ts";

const DAY = 86_400_000;
const STEP = 10_000;

function month(seed: number): Series {
  return synthesize({
    start: Date.UTC(2026, 0, 5),
    stepMs: STEP,
    length: (30 * DAY) / STEP,
    seed,
    base: 40 + seed,
    noise: 1 + (seed % 4),
    slopePerDay: 0.1 * (seed % 5),
    daily: seed % 2 === 0 ? { amplitude: 10 } : undefined,
    weekly: seed % 3 === 0 ? { amplitude: 4 } : undefined,
    spikes: [{ at: 40_000 + 5_000 * seed, size: 25, width: 3 }],
    levelShifts: [{ at: 150_000 + 1_000 * seed, size: 8 }],
  }).series;
}

const host = Array.from({ length: 20 }, (_, i) => month(i + 1));

Deno.bench("one series, 30 days of 10 s data, offline", { group: "series" }, () => {
  detectAnomalies(host[0]);
});

Deno.bench("one series, 30 days of 10 s data, online", { group: "series" }, () => {
  detectAnomalies(host[0], { online: true });
});

Deno.bench("one series at 1-minute buckets (--step 1m)", { group: "series" }, () => {
  detectAnomalies(host[0], { stepMs: 60_000 });
});

Deno.bench("20 series of a host, then events", { group: "host" }, () => {
  const perSeries = host.map((series, i) => ({
    metric: `metric_${i}`,
    windows: detectAnomalies(series),
  }));
  mergeEvents(perSeries, 15 * 60_000);
});
