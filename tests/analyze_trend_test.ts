/**
 * The analysis building blocks: series helpers, the seeded generator, Theil–Sen and its interval,
 * seasonality, jumps and change points — checked against known truth over many seeds.
 */
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import {
  dropMissing,
  lowerBound,
  mad,
  median,
  nthSmallest,
  quantile,
  resample,
  seriesOf,
  sliceTime,
} from "../src/analyze/series.ts";
import { gaussianSource, mulberry32, synthesize, type SynthSpec } from "../src/analyze/synth.ts";
import {
  aggregate,
  analyzeTrend,
  DAY_MS,
  detectChangePoints,
  detectPattern,
  findJumps,
  fitTrend,
  HOUR_MS,
  normalQuantile,
  seasonalOffset,
  theilSen,
  trendAt,
  WEEK_MS,
} from "../src/analyze/trend.ts";

const START = Date.UTC(2026, 0, 5); // Monday 00:00 UTC
const MINUTE = 60_000;

function synth(spec: Partial<SynthSpec> & { seed: number; length: number }) {
  return synthesize({ start: START, stepMs: MINUTE, base: 50, noise: 2, ...spec });
}

/** Sorted-copy reference for the type-7 quantile. */
function referenceQuantile(values: number[], q: number): number {
  const s = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return lo === pos ? s[lo] : s[lo] + (pos - lo) * (s[lo + 1] - s[lo]);
}

Deno.test("quantile, median and MAD agree with a sort-based reference, NaN skipped", () => {
  const random = mulberry32(11);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(random() * 40);
    const values = Array.from({ length: n }, () => random() < 0.1 ? NaN : Math.floor(random() * 9));
    if (values.every(Number.isNaN)) continue;
    const q = random();
    assertAlmostEquals(quantile(values, q), referenceQuantile(values, q), 1e-12);
  }
  assertEquals(median([3, NaN, 1, 2]), 2);
  assertEquals(median([]), NaN);
  assertEquals(mad([1, 2, 3, 4, 100]), 1);
  assertThrows(() => quantile([1], 1.5), "within [0, 1]");
});

Deno.test("nthSmallest selects in place and partitions around the result", () => {
  const random = mulberry32(12);
  const a = Float64Array.from({ length: 1001 }, () => random());
  const sorted = Float64Array.from(a).sort();
  assertEquals(nthSmallest(a, 500), sorted[500]);
  for (let i = 0; i < 500; i++) assert(a[i] <= a[500]);
  for (let i = 501; i < a.length; i++) assert(a[i] >= a[500]);
  // A further order statistic within one side keeps the partition.
  assertEquals(nthSmallest(a, 100, 0, 500), sorted[100]);
  assertEquals(a[500], sorted[500]);
  assertThrows(() => nthSmallest(a, 600, 0, 500), "outside");
});

Deno.test("resample: epoch-aligned buckets, mean/max/min of the samples, NaN when empty", () => {
  const s = seriesOf([5, 7, 12, 31, 35, 38], [1, 3, 10, null, 4, 8]);
  assertEquals(resample(s, 10), {
    t: Float64Array.from([0, 10, 20, 30]),
    v: Float64Array.from([2, 10, NaN, 6]),
  });
  assertEquals(Array.from(resample(s, 10, "max").v), [3, 10, NaN, 8]);
  assertEquals(Array.from(resample(s, 10, "min").v), [1, 10, NaN, 4]);
  assertEquals(resample(seriesOf([], []), 10).t.length, 0);
  assertThrows(() => resample(s, 0), "positive");
  assertThrows(() => seriesOf([1, 2], [1]), "differ in length");
});

Deno.test("sliceTime, dropMissing and lowerBound", () => {
  const s = seriesOf([0, 10, 20, 30], [1, null, 3, 4]);
  assertEquals(Array.from(sliceTime(s, 10, 30).t), [10, 20]);
  assertEquals(Array.from(dropMissing(s).v), [1, 3, 4]);
  assertEquals(lowerBound(s.t, 15), 2);
  assertEquals(lowerBound(s.t, 99), 4);
});

Deno.test("aggregate stamps each mean at the middle of its bucket and skips a barely begun one", () => {
  // A straight line sampled every minute: an hourly mean equals the line at half past.
  const t = Array.from({ length: 5 * 60 + 10 }, (_, i) => START + i * MINUTE);
  const s = seriesOf(t, t.map((x) => (x - START) / MINUTE));
  const hourly = aggregate(s, HOUR_MS);
  assertEquals(hourly.t.length, 5); // the 6th hour has 10 of 60 minutes: left out
  for (let k = 0; k < 5; k++) {
    assertEquals(hourly.t[k], START + k * HOUR_MS + HOUR_MS / 2);
    assertAlmostEquals(hourly.v[k], (hourly.t[k] - START) / MINUTE - 0.5, 1e-9);
  }
});

Deno.test("generator: seeded, noise as specified, truth as specified", () => {
  const a = synth({ seed: 5, length: 20_000, slopePerDay: 2 });
  const b = synth({ seed: 5, length: 20_000, slopePerDay: 2 });
  const c = synth({ seed: 6, length: 20_000, slopePerDay: 2 });
  assertEquals(a.series.v, b.series.v);
  assertNotSame(a.series.v, c.series.v);
  const noise = a.series.v.map((v, i) => v - a.clean[i]);
  let sum = 0;
  for (const x of noise) sum += x * x;
  assertAlmostEquals(Math.sqrt(sum / noise.length), 2, 0.05);
  assertEquals(a.slopePerDay, 2);
  assertAlmostEquals(a.clean[1440] - a.clean[0], 2, 1e-9); // one day at one-minute steps
  // The same seed gives the same noise whatever effects are added.
  const shifted = synth({ seed: 5, length: 20_000, slopePerDay: 2, steps: [{ at: 100, size: 7 }] });
  assertAlmostEquals(shifted.series.v[150] - a.series.v[150], 7, 1e-9);
});

function assertNotSame(a: Float64Array, b: Float64Array) {
  assert(a.some((x, i) => x !== b[i]), "series should differ");
}

Deno.test("generator: sawtooth, anomalies, gaps, clamp and wander", () => {
  const saw = synth({
    seed: 1,
    length: 3 * 1440,
    noise: 0,
    slopePerDay: 30,
    sawtooth: { periodMs: DAY_MS, drop: 1 },
  });
  assertEquals(saw.slopePerDay, 0);
  assertEquals(saw.clean[0], 50); // START is a reset (midnight)
  assertAlmostEquals(saw.clean[1439], 50 + 30 * (1439 / 1440), 1e-9);
  assertEquals(saw.clean[1440], 50);
  const partial = synth({
    seed: 1,
    length: 10,
    noise: 0,
    slopePerDay: 10,
    sawtooth: { periodMs: DAY_MS, drop: 0.5 },
  });
  assertEquals(partial.slopePerDay, 5);

  const labelled = synth({
    seed: 2,
    length: 1000,
    spikes: [{ at: 100, size: 30, width: 5 }],
    levelShifts: [{ at: 500, size: -10 }],
    varianceChanges: [{ at: 700, factor: 4, length: 50 }],
    drift: { at: 900, slopePerDay: 5 },
    gaps: [{ at: 300, length: 3 }],
    clamp: [0, 60],
  });
  assertEquals(labelled.anomalies, [
    { start: 100, end: 104, kind: "spike" },
    { start: 500, end: 500, kind: "level_shift" },
    { start: 700, end: 749, kind: "variance" },
    { start: 900, end: 999, kind: "drift" },
  ]);
  assertEquals(labelled.slopePerDay, 5);
  assert(Number.isNaN(labelled.series.v[300]) && Number.isNaN(labelled.series.v[302]));
  assert(labelled.series.v.every((v) => Number.isNaN(v) || (v >= 0 && v <= 60)));
  assertEquals(labelled.clean[102], 60); // 50 + 30, clamped

  const plain = synth({ seed: 3, length: 50_000, noise: 0 });
  const wandering = synth({ seed: 3, length: 50_000, noise: 0, wander: { sd: 3, phi: 0.99 } });
  const wander = wandering.series.v.map((v, i) => v - plain.series.v[i]);
  let sum = 0;
  for (const x of wander) sum += x * x;
  assertAlmostEquals(Math.sqrt(sum / wander.length), 3, 0.4);
});

Deno.test("gaussianSource gives standard normal deviates", () => {
  const normal = gaussianSource(mulberry32(9));
  let sum = 0;
  let squares = 0;
  let beyond2 = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const z = normal();
    sum += z;
    squares += z * z;
    if (Math.abs(z) > 1.96) beyond2++;
  }
  assertAlmostEquals(sum / n, 0, 0.01);
  assertAlmostEquals(squares / n, 1, 0.01);
  assertAlmostEquals(beyond2 / n, 0.05, 0.003);
});

Deno.test("normalQuantile matches tabulated values", () => {
  assertAlmostEquals(normalQuantile(0.975), 1.959964, 1e-6);
  assertAlmostEquals(normalQuantile(0.5), 0, 1e-12);
  assertAlmostEquals(normalQuantile(0.001), -3.090232, 1e-6);
  assertAlmostEquals(normalQuantile(0.9999), 3.719016, 1e-6);
});

Deno.test("Theil–Sen: exact on a line, unmoved by 20 % wild points", () => {
  const x = Array.from({ length: 60 }, (_, i) => i);
  const line = theilSen(x, x.map((v) => 3 + 0.5 * v));
  assertEquals(line.slope, 0.5);
  assertEquals([line.low, line.high], [0.5, 0.5]);
  assertEquals(line.pivotY, 3 + 0.5 * line.pivotX);
  const random = mulberry32(4);
  const normal = gaussianSource(random);
  const y = x.map((v) => 3 + 0.5 * v + 0.2 * normal());
  for (let i = 0; i < 12; i++) y[Math.floor(random() * 60)] += 50; // wild points
  const robust = theilSen(x, y);
  assertAlmostEquals(robust.slope, 0.5, 0.02);
  assert(robust.low <= 0.5 && 0.5 <= robust.high, JSON.stringify(robust));
});

Deno.test("Theil–Sen interval: ~95 % coverage on white noise (400 seeds)", () => {
  let covered = 0;
  const seeds = 400;
  const x = Array.from({ length: 40 }, (_, i) => i);
  for (let seed = 1; seed <= seeds; seed++) {
    const normal = gaussianSource(mulberry32(seed));
    const fit = theilSen(x, x.map((v) => 0.1 * v + normal()));
    if (fit.low <= 0.1 && 0.1 <= fit.high) covered++;
  }
  assert(covered / seeds >= 0.92 && covered / seeds <= 0.99, `coverage ${covered / seeds}`);
});

Deno.test("fitTrend widens the interval for autocorrelated residuals (100 seeds)", () => {
  // Hourly values with AR(1) noise, ρ = 0.8: the plain interval is far too narrow.
  const seeds = 100;
  let plain = 0;
  let widened = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const normal = gaussianSource(mulberry32(seed));
    const t = new Float64Array(240);
    const v = new Float64Array(240);
    let noise = normal();
    for (let i = 0; i < 240; i++) {
      noise = 0.8 * noise + 0.6 * normal();
      t[i] = START + i * HOUR_MS;
      v[i] = 10 + (2 * i) / 24 + noise; // 2 per day
    }
    const fit = fitTrend({ t, v })!;
    if (fit.slopeLowPerDay <= 2 && 2 <= fit.slopeHighPerDay) widened++;
    const days = Array.from(t, (x) => (x - START) / DAY_MS);
    const naive = theilSen(days, v);
    if (naive.low <= 2 && 2 <= naive.high) plain++;
    assert(fit.lag1 > 0.5, `lag-1 autocorrelation ${fit.lag1}`);
  }
  assert(widened >= 0.88 * seeds, `widened interval held the truth ${widened}×`);
  assert(plain < 0.8 * seeds, `plain interval held the truth ${plain}× (expected too few)`);
});

Deno.test("fitTrend merges long series and keeps the slope and fit quality", () => {
  const { series } = synth({ seed: 8, length: 30 * 1440, slopePerDay: 1.5 });
  const fit = fitTrend(aggregate(series, HOUR_MS))!;
  assertEquals(fit.n, 720);
  assert(fit.nEffective <= 256);
  assertAlmostEquals(fit.slopePerDay, 1.5, 0.01);
  assert(fit.slopeLowPerDay < 1.5 && 1.5 < fit.slopeHighPerDay);
  assert(fit.r2 > 0.99);
  assertAlmostEquals(fit.residualSigma, 2 / Math.sqrt(60), 0.05); // noise of hourly means
  assertAlmostEquals(trendAt(fit, START + 10 * DAY_MS), 50 + 15, 0.1);
  assertEquals(fitTrend(seriesOf([1, 2], [1, 2])), null);
});

Deno.test("daily and weekly patterns are found with their shape; none in noise or wander", () => {
  const daily = detectPattern(
    synth({ seed: 1, length: 14 * 1440, slopePerDay: 1, daily: { amplitude: 6 } }).series,
  )!;
  assertEquals(daily.periodMs, DAY_MS);
  assertAlmostEquals(daily.amplitude, 6, 0.6);
  // The generator's daily peak is at 15:00 UTC.
  assertAlmostEquals(seasonalOffset(daily, START + 15 * HOUR_MS), 6, 0.6);
  assertAlmostEquals(seasonalOffset(daily, START + 3 * HOUR_MS), -6, 0.6);

  const weekly = detectPattern(
    synth({ seed: 1, length: 28 * 1440, daily: { amplitude: 3 }, weekly: { amplitude: 5 } }).series,
  )!;
  assertEquals(weekly.periodMs, WEEK_MS);
  assertEquals(weekly.profile.length, 168);

  const onlyDaily = detectPattern(
    synth({ seed: 2, length: 28 * 1440, daily: { amplitude: 5 } }).series,
  );
  assertEquals(onlyDaily?.periodMs, DAY_MS);

  let false_ = 0;
  for (let seed = 1; seed <= 50; seed++) {
    if (detectPattern(synth({ seed, length: 21 * 1440 }).series)) false_++;
    const wander = { sd: 3, phi: 0.999 };
    if (detectPattern(synth({ seed, length: 21 * 1440, wander }).series)) false_++;
  }
  assert(false_ <= 3, `${false_} patterns found in 100 series without one`);
  assertEquals(
    detectPattern(synth({ seed: 1, length: 2 * 1440, daily: { amplitude: 6 } }).series),
    null,
  );
});

Deno.test("findJumps: a level shift and periodic resets; no spike, no noise", () => {
  const shifted = aggregate(
    synth({ seed: 1, length: 10 * 1440, levelShifts: [{ at: 5 * 1440, size: -6 }] }).series,
    HOUR_MS,
  );
  const [jump, ...more] = findJumps(shifted);
  assertEquals(more, []);
  assertEquals(jump.time, START + 5 * DAY_MS + HOUR_MS / 2);
  assertAlmostEquals(jump.size, -6, 0.5);

  const spiky = aggregate(
    synth({ seed: 1, length: 10 * 1440, spikes: [{ at: 3000, size: 40, width: 120 }] }).series,
    HOUR_MS,
  );
  assertEquals(findJumps(spiky), []);

  const saw = aggregate(
    synth({
      seed: 1,
      length: 10 * 1440,
      slopePerDay: 20,
      sawtooth: { periodMs: 40 * HOUR_MS, drop: 1 },
    }).series,
    HOUR_MS,
  );
  const resets = findJumps(saw);
  assertEquals(resets.length, 6); // resets every 40 h over 10 days from the Monday
  assert(resets.every((r) => r.size < -25));

  let found = 0;
  for (let seed = 1; seed <= 50; seed++) {
    found +=
      findJumps(aggregate(synth({ seed, length: 20 * 1440, slopePerDay: 1 }).series, HOUR_MS))
        .length;
  }
  assertEquals(found, 0);
});

Deno.test("change points: a level shift and a change of slope found where they are", () => {
  const level = aggregate(
    synth({
      seed: 1,
      length: 30 * 1440,
      slopePerDay: 0.5,
      levelShifts: [{ at: 20 * 1440, size: -8 }],
    }).series,
    HOUR_MS,
  );
  const [shift, ...rest] = detectChangePoints(level);
  assertEquals(rest, []);
  assertEquals(shift.kind, "level");
  assert(
    Math.abs(shift.time - (START + 20 * DAY_MS)) <= 2 * HOUR_MS,
    new Date(shift.time).toISOString(),
  );
  assertAlmostEquals(shift.levelAfter - shift.levelBefore, -8, 0.5);
  assertAlmostEquals(shift.slopeAfterPerDay, 0.5, 0.1);

  const drift = aggregate(
    synth({ seed: 1, length: 30 * 1440, drift: { at: 20 * 1440, slopePerDay: 1 } }).series,
    HOUR_MS,
  );
  const [bend] = detectChangePoints(drift);
  assertEquals(bend.kind, "slope");
  assert(Math.abs(bend.time - (START + 20 * DAY_MS)) <= DAY_MS, new Date(bend.time).toISOString());
  assertAlmostEquals(bend.slopeAfterPerDay, 1, 0.1);

  let spurious = 0;
  for (let seed = 1; seed <= 50; seed++) {
    spurious += detectChangePoints(
      aggregate(synth({ seed, length: 30 * 1440, slopePerDay: 1 }).series, HOUR_MS),
    ).length;
    spurious +=
      detectChangePoints(aggregate(synth({ seed, length: 30 * 1440 }).series, HOUR_MS)).length;
  }
  assert(spurious <= 5, `${spurious} change points in 100 series without one`);
});

Deno.test("analyzeTrend: pattern removed, change found, recent trend after it", () => {
  const { series } = synth({
    seed: 4,
    length: 30 * 1440,
    slopePerDay: 0.5,
    daily: { amplitude: 6 },
    levelShifts: [{ at: 18 * 1440, size: 10 }],
  });
  const a = analyzeTrend(series);
  assertEquals(a.stepMs, HOUR_MS);
  assertEquals(a.seasonality?.periodMs, DAY_MS);
  assertEquals(a.changePoints.length, 1);
  assertEquals(a.changePoints[0].kind, "level");
  assert(a.recent!.start >= START + 18 * DAY_MS);
  assert(
    a.recent!.slopeLowPerDay <= 0.5 && 0.5 <= a.recent!.slopeHighPerDay,
    JSON.stringify(a.recent),
  );
  assertEquals(a.jumps.length, 1);

  const short = analyzeTrend(synth({ seed: 4, length: 12 * 60, slopePerDay: 3 }).series);
  assertEquals(short.stepMs, 5 * MINUTE);
  assertEquals(short.seasonality, null);
  assertAlmostEquals(short.overall!.slopePerDay, 3, 1);
});
