import { assert, assertEquals, assertThrows } from "./assert.ts";
import { ALPHA, bucketKey, HistogramSum, LogHistogram } from "../src/store/histogram.ts";
import {
  type DecodeContext,
  decodeRecord,
  encodeRecord,
  type KeysContext,
  mergeRecords,
  recordTimes,
  RollupAggregator,
  type RollupRecord,
  SeriesAgg,
} from "../src/store/rollup.ts";
import { quantize } from "../src/store/series.ts";
import { gaussian, mulberry32 } from "./synth.ts";

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 26, 12);

type Draw = (rnd: () => number) => number | null;
/** One series per kind of data the rollups meet. */
const KINDS: Record<string, Draw> = {
  "cpu_percent[cpu0]": (rnd) => 100 * rnd(),
  "memory_used": (rnd) => 4096 * Math.round(1e5 + 300 * gaussian(rnd)),
  "disk_read_bytes_per_second[sda]": (rnd) => rnd() < 0.5 ? 0 : Math.exp(8 + 3 * gaussian(rnd)),
  "net_rx_errors_per_second[eth0]": () => 0,
  "memory_total": () => 25276510208,
  "temperature_delta": (rnd) => 10 * gaussian(rnd),
  "sometimes_null": (rnd) => rnd() < 0.4 ? null : 3.5,
  "gappy_noise": (rnd) => rnd() < 0.3 ? null : rnd() / 3,
};

interface Sample {
  time: number;
  values: Map<string, number | null>;
}

function samples(rnd: () => number, from: number, count: number, everyMs = 10_000): Sample[] {
  return Array.from({ length: count }, (_, j) => ({
    time: from + j * everyMs + Math.floor(rnd() * 100),
    values: new Map(Object.entries(KINDS).map(([key, draw]) => [key, draw(rnd)])),
  }));
}

/** Everything an aggregator hands out for these samples, the open bucket included. */
function rollup(res: number, list: Sample[]): RollupRecord[] {
  const agg = new RollupAggregator(res);
  const out = list.flatMap((s) => agg.add(s.time, s.values));
  return [...out, ...agg.drain()];
}

/** The quantized non-null values of one series, in time order. */
function valuesOf(list: Sample[], key: string): number[] {
  return list.map((s) => s.values.get(key)).filter((v) => typeof v === "number").map(quantize);
}

function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.floor((p * sorted.length + 99) / 100)) - 1];
}

function assertRelative(actual: number, expected: number, tol: number, what: string) {
  assert(
    Math.abs(actual - expected) <= tol * Math.abs(expected) + 1e-12,
    `${what}: ${actual} vs ${expected} (tolerance ${tol} relative)`,
  );
}

/** Aggregates equal in everything the rollups promise (sum to `sumTol` relative). */
function assertSameAgg(a: SeriesAgg, b: SeriesAgg, sumTol: number, what: string) {
  assertEquals(
    { min: a.min, max: a.max, last: a.last, count: a.count, hist: a.hist.entries() },
    { min: b.min, max: b.max, last: b.last, count: b.count, hist: b.hist.entries() },
    what,
  );
  assertRelative(a.sum, b.sum, sumTol, `${what} sum`);
}

function assertSameRecord(a: RollupRecord, b: RollupRecord, sumTol: number, what: string) {
  assertEquals([a.t, a.res, a.from, a.to, a.n], [b.t, b.res, b.from, b.to, b.n], what);
  assertEquals([...a.series.keys()].sort(), [...b.series.keys()].sort(), `${what}: series`);
  for (const [key, agg] of a.series) {
    assertSameAgg(agg, b.series.get(key)!, sumTol, `${what} ${key}`);
  }
}

Deno.test("aggregates match direct computations on the samples", () => {
  const rnd = mulberry32(11);
  const list = samples(rnd, T0, 360); // one hour
  const [rec] = rollup(3600, list);
  assertEquals(rec.n, 360);
  for (const key of Object.keys(KINDS)) {
    const values = valuesOf(list, key);
    const agg = rec.series.get(key)!;
    assertEquals(agg.count, values.length, key);
    assertEquals(agg.min, Math.min(...values), key);
    assertEquals(agg.max, Math.max(...values), key);
    assertEquals(agg.last, values[values.length - 1], key);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    assertRelative(agg.avg!, mean, 1e-9, `${key} avg`);
    const p95 = agg.p95!;
    assertRelative(p95, nearestRank(values, 95), ALPHA, `${key} p95`);
    assert(p95 >= agg.min && p95 <= agg.max, `${key} p95 ${p95} outside [min, max]`);
  }
});

Deno.test("p95 of a 1-minute bucket (6 samples) is the exact maximum", () => {
  const [rec] = rollup(60, samples(mulberry32(12), T0, 6));
  for (const [key, agg] of rec.series) assertEquals(agg.p95, agg.max, key);
});

Deno.test("timeAboveFraction matches a direct count for thresholds away from the samples", () => {
  const rnd = mulberry32(13);
  const list = samples(rnd, T0, 360);
  const [rec] = rollup(3600, list);
  let checked = 0;
  for (const key of ["cpu_percent[cpu0]", "disk_read_bytes_per_second[sda]", "temperature_delta"]) {
    const values = valuesOf(list, key);
    const agg = rec.series.get(key)!;
    for (let j = 0; j < 50; j++) {
      const x = nearestRank(values, 1 + Math.floor(rnd() * 99)) * (1 + 0.2 * gaussian(rnd));
      // Only thresholds whose 1 % bucket holds no sample: the histogram decides per bucket.
      if (values.some((v) => bucketKey(v) === bucketKey(x))) continue;
      const direct = values.filter((v) => v > x).length / values.length;
      assertEquals(agg.timeAboveFraction(x), direct, `${key} above ${x}`);
      checked++;
    }
    assertEquals(agg.timeAboveFraction(agg.min - 1), 1);
    assertEquals(agg.timeAboveFraction(agg.max), 0);
  }
  assert(checked > 40, `only ${checked} thresholds checked`);
  assertEquals(new SeriesAgg().timeAboveFraction(1), null);
});

Deno.test("merging records of one bucket equals aggregating the union", () => {
  const rnd = mulberry32(14);
  const list = samples(rnd, T0, 360);
  const [whole] = rollup(3600, list);
  // A recorder restarted twice within the hour wrote three records for it.
  const parts = [list.slice(0, 100), list.slice(100, 101), list.slice(101)].map((l) =>
    rollup(3600, l)[0]
  );
  const [a, b, c] = parts;
  assertSameRecord(mergeRecords(mergeRecords(a, b), c), whole, 1e-12, "(a+b)+c");
  assertSameRecord(mergeRecords(a, mergeRecords(b, c)), whole, 1e-12, "a+(b+c)");
  assertSameRecord(mergeRecords(c, mergeRecords(a, b)), whole, 1e-12, "c+(a+b)");
  // Merging decoded records gives the same (sum up to its stored precision).
  const decoded = parts.map((r) => decodeRecord(encodeRecord(r)));
  assertSameRecord(decoded.reduce(mergeRecords), whole, 1e-6, "decoded");
  assertEquals(a.n, 100, "inputs left alone");
  assertThrows(() => mergeRecords(a, rollup(60, list)[0]), "cannot merge");
});

Deno.test("SeriesAgg.merge is the aggregate of both sample runs in order", () => {
  const rnd = mulberry32(15);
  const values = Array.from({ length: 50 }, () => quantize(rnd() * 10 - 5));
  const all = new SeriesAgg(), a = new SeriesAgg(), b = new SeriesAgg();
  values.forEach((v, j) => {
    all.add(v);
    (j < 20 ? a : b).add(v);
  });
  assertSameAgg(SeriesAgg.merged(a, b), all, 1e-12, "merged");
  assertEquals(a.count, 20, "merged() leaves its inputs alone");
  assertSameAgg(a.merge(new SeriesAgg()), SeriesAgg.merged(a, new SeriesAgg()), 0, "empty");
});

Deno.test("encode→decode round trip preserves the records", () => {
  const rnd = mulberry32(16);
  const records = [...rollup(60, samples(rnd, T0, 120)), ...rollup(3600, samples(rnd, T0, 720))];
  assert(records.length === 22, `${records.length} records`);
  for (const rec of records) {
    const line = encodeRecord(rec);
    assert(!line.includes("\n"), "one line");
    const back = decodeRecord(line);
    assertSameRecord(back, rec, 5e-7, `record ${new Date(rec.t).toISOString()}`);
    for (const [key, agg] of rec.series) {
      const b = back.series.get(key)!;
      assertRelative(b.avg!, agg.avg!, 1e-6, `${key} avg`);
      assertEquals(b.p95, agg.p95, `${key} p95`);
    }
    assertSameRecord(decodeRecord(encodeRecord(back)), rec, 1e-6, "re-encoded");
  }
});

Deno.test("encoding: constants as one number, deltas from min, counts only when needed", () => {
  const agg = new RollupAggregator(60);
  agg.add(T0, new Map([["zero", 0], ["half", 1.5], ["noise", 400000000], ["dec", 31.6]]));
  agg.add(
    T0 + 10_000,
    new Map([["zero", 0], ["half", null], ["noise", 400004096], ["dec", 42.35]]),
  );
  agg.add(T0 + 20_000, new Map([["zero", 0], ["half", null], ["noise", 400008192], ["dec", 40]]));
  const o = JSON.parse(encodeRecord(agg.drain()[0]));
  assertEquals(o.n, 3);
  assertEquals(o.keys, ["zero", "half", "noise", "dec"]);
  assertEquals(o.aggs[0], 0);
  assertEquals(o.aggs[1], [1.5, 1]);
  // [min, max − min, last − min, sum − count·min (shortest within 5e-7 of the sum), …hist]. The
  // byte counts share one bucket: hist says the sample besides min and max (last = max) is in min's.
  assertEquals(o.aggs[2], [400000000, 8192, 8192, 12000, -1]);
  // min, max and last are the only samples: nothing left for hist.
  assertEquals(o.aggs[3], [31.6, 10.75, 8.4, 19.15]);
});

Deno.test("values no short delta gives back are written in the explicit form", () => {
  const a = new SeriesAgg().add(-1e6).add(0.1 + 0.2).add(1 / 3);
  const rec: RollupRecord = { t: T0, res: 60, from: T0, to: T0 + 20_000, n: 3, series: new Map() };
  rec.series.set("odd", a);
  const line = encodeRecord(rec);
  const e = JSON.parse(line).aggs[0];
  assertEquals([e.min, e.max, e.last, e.sum], [-1e6, 1 / 3, 1 / 3, -999999.4]);
  const back = decodeRecord(line).series.get("odd")!;
  assertSameAgg(back, a, 5e-7, "explicit form");
});

Deno.test("decodeRecord explains malformed lines", () => {
  const good = JSON.parse(encodeRecord(rollup(60, samples(mulberry32(17), T0, 6))[0]));
  const broken = (patch: (o: Record<string, unknown>) => void) => {
    const o = structuredClone(good);
    patch(o);
    return JSON.stringify(o);
  };
  const withSeries = (agg: unknown) =>
    broken((o) => {
      (o.keys as string[]).push("x");
      (o.aggs as unknown[]).push(agg);
    });
  const cases: [string, string][] = [
    ["{not json", "not JSON"],
    ["[1,2]", "not a JSON object"],
    [broken((o) => delete o.t), `"t" is not a number`],
    [broken((o) => o.t = T0 + 1), "not aligned"],
    [broken((o) => o.to = T0 + MIN), "outside the bucket"],
    [broken((o) => o.n = 0), `"n" must be`],
    [broken((o) => o.keys = [1]), `"keys" is not a list of strings`],
    [broken((o) => (o.aggs as unknown[]).pop()), `"aggs" is not a list as long as "keys"`],
    [broken((o) => (o.keys as string[])[1] = (o.keys as string[])[0]), "appears twice"],
    [withSeries("1"), `series "x" is neither`],
    [withSeries([1, "2"]), `series "x" holds something other than numbers`],
    [withSeries([1, 2, 3]), "has 3 numbers"],
    [withSeries([5, -1, 3, 9]), "inconsistent"],
    [withSeries([1, 5, 9, 9]), "inconsistent"],
    [withSeries([1, 5, 3, 9, 0, 0]), "zero gap"],
    [withSeries([2, 7]), "in 6 samples"],
    [withSeries([1, 0]), "bad count"],
    [withSeries({ min: 1, max: 2, last: 2, hist: [] }), "lacks one of"],
    [withSeries({ min: 1, max: 2, last: 2, sum: 3, hist: [-9] }), "in 6 samples"],
  ];
  for (const [line, msg] of cases) {
    const err = assertThrows(() => decodeRecord(line), msg);
    assert(err.message.startsWith("rollup record: "), err.message);
  }
});

Deno.test("buckets complete when a sample crosses a minute or an hour boundary", () => {
  const end = T0 + HOUR; // 13:00
  const times = [end - 20_000, end - 10_000, end - 1, end, end + 10_000, end + MIN];
  const minute = new RollupAggregator(60);
  const hour = new RollupAggregator(3600);
  const doneM: RollupRecord[][] = [], doneH: RollupRecord[][] = [];
  for (const t of times) {
    const v = new Map([["x", t - T0]]);
    doneM.push(minute.add(t, v));
    doneH.push(hour.add(t, v));
  }
  assertEquals(doneM.map((d) => d.length), [0, 0, 0, 1, 0, 1]);
  assertEquals(doneH.map((d) => d.length), [0, 0, 0, 1, 0, 0]);
  const m = doneM[3][0];
  assertEquals([m.t, m.res, m.from, m.to, m.n], [end - MIN, 60, end - 20_000, end - 1, 3]);
  assertEquals(m.series.get("x")!.last, HOUR - 1);
  const h = doneH[3][0];
  assertEquals([h.t, h.res, h.from, h.to, h.n], [T0, 3600, end - 20_000, end - 1, 3]);
  const m2 = doneM[5][0];
  assertEquals([m2.t, m2.from, m2.to, m2.n], [end, end, end + 10_000, 2]);
  assertEquals(minute.lastIncluded(), end + MIN);
  // completedBy hands out the open bucket once the clock passes its end, not before.
  assertEquals(minute.completedBy(end + 2 * MIN - 1), []);
  assertEquals(minute.completedBy(end + 2 * MIN).map((r) => [r.t, r.n]), [[end + MIN, 1]]);
  assertEquals(minute.completedBy(end + 10 * MIN), []);
  assertEquals(minute.drain(), []);
  const partial = hour.drain();
  assertEquals(partial.map((r) => [r.t, r.from, r.to, r.n]), [[end, end, end + MIN, 3]]);
  assertEquals(hour.drain(), []);
});

Deno.test("out-of-order and duplicate samples are ignored and counted; nulls are skipped", () => {
  const agg = new RollupAggregator(60);
  assertEquals(agg.lastIncluded(), undefined);
  agg.add(T0 + 20_000, new Map([["a", 1], ["b", null]]));
  assertEquals(agg.add(T0 + 10_000, new Map([["a", 100]])), []);
  agg.add(T0 + 20_000, new Map([["a", 200]]));
  agg.add(T0 + 30_000, new Map<string, number | null>([["a", 2], ["b", NaN], ["c", null]]));
  assertEquals(agg.add(T0 - MIN, new Map([["a", 300]])), [], "older than the open bucket");
  assertEquals(agg.skippedOutOfOrder, 3);
  assertEquals(agg.lastIncluded(), T0 + 30_000);
  const [rec] = agg.completedBy(T0 + MIN);
  assertEquals(rec.n, 2);
  assertEquals([...rec.series.keys()], ["a"], "series with only nulls are left out");
  const a = rec.series.get("a")!;
  assertEquals([a.min, a.max, a.count, a.last], [1, 2, 2, 2]);
  // A late sample inside the bucket already handed out opens a second record for it.
  const [late] = (agg.add(T0 + 50_000, new Map([["a", 5]])), agg.drain());
  assertEquals([late.t, late.n], [T0, 1]);
  assertEquals(mergeRecords(rec, late).series.get("a")!.last, 5);
});

Deno.test("values are quantized like the raw tier stores them", () => {
  const agg = new RollupAggregator(60);
  agg.add(T0, new Map([["x", 1 / 3], ["y", 123456789]]));
  const rec = agg.drain()[0];
  assertEquals(rec.series.get("x")!.min, 0.333333);
  assertEquals(rec.series.get("y")!.min, 123456789);
  assertThrows(() => new RollupAggregator(0), "resolution");
  assertThrows(() => agg.add(NaN, new Map()), "bad sample time");
});

// ---------------------------------------------------------------------------------------------------
// Size on disk: one day of 10 s samples of ~150 series, as the recorder writes them.

/** Series generators shaped like a real host's metrics (tests/golden shows their granularity). */
function hostSeries(rnd: () => number): [string, () => number][] {
  const out: [string, () => number][] = [];
  // Totals, zero error/drop rates, link flags, sizes: constant over the day.
  const constants = [0, 0, 0, 0, 1, 1400, 1500, 25276510208, 270553174016, 16777216, 2];
  for (let k = 0; k < 55; k++) out.push([`const_${k}[e${k}]`, () => constants[k % 11]]);
  // CPU percentages: 0.1 (per core) or 0.05 (overall) resolution; a third mostly idle.
  for (let k = 0; k < 35; k++) {
    let base = 2 + 30 * rnd();
    const step = k < 5 ? 0.05 : 0.1;
    out.push([`core_percent_${k}[cpu${k}]`, () => {
      if (k % 3 === 0) return rnd() < 0.6 ? 0 : Math.round(rnd() * 4) * step;
      base = Math.min(90, Math.max(0, base + gaussian(rnd)));
      return Math.round(Math.max(0, base + 3 * gaussian(rnd)) / step) * step;
    }]);
  }
  // Memory-like byte gauges: whole pages around 4e8, slowly growing, ±1 MB jitter.
  for (let k = 0; k < 20; k++) {
    let v = 4e8 * (0.5 + rnd());
    out.push([
      `memory_${k}`,
      () => 4096 * Math.round((v += 400 * rnd()) / 4096 + 250 * gaussian(rnd)),
    ]);
  }
  // Rates: idle half the time, small most of the rest, rare bursts (sector- or packet-sized steps).
  for (let k = 0; k < 25; k++) {
    const unit = k % 2 ? 51.2 : 0.1;
    out.push([`rate_${k}[sd${k}]`, () => {
      const r = rnd();
      if (r < 0.5) return 0;
      return unit * Math.floor(r < 0.97 ? 1 + 100 * rnd() : 1e4 * (1 + 50 * rnd()));
    }]);
  }
  // Slow movers: load averages (2 decimals), usage percentages, cumulative CPU seconds.
  for (let k = 0; k < 15; k++) {
    let v = 10 * rnd();
    out.push([`slow_${k}`, () => {
      v = Math.max(0, v + 0.02 * gaussian(rnd));
      return k < 5 ? Number(v.toFixed(2)) : k < 10 ? v * 3.7 : (v += 0.3);
    }]);
  }
  return out;
}

async function gzipSize(lines: string[]): Promise<number> {
  const stream = new Blob([lines.join("\n") + "\n"]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

Deno.test("one day of rollups stays within the bytes-per-value budget", async () => {
  const rnd = mulberry32(18);
  const series = hostSeries(rnd);
  const day = Date.UTC(2026, 10, 26);
  const raw: string[] = [], csv: string[] = [], m1: string[] = [], h1: string[] = [];
  const minute = new RollupAggregator(60), hour = new RollupAggregator(3600);
  let stored = 0;
  for (let j = 0; j < 8640; j++) {
    const time = day + j * 10_000 + Math.floor(rnd() * 50);
    const values = new Map(series.map(([key, next]) => [key, quantize(next())]));
    stored += values.size;
    raw.push(JSON.stringify({ time, ...Object.fromEntries(values) }));
    csv.push([time, ...values.values()].join(","));
    for (const r of minute.add(time, values)) m1.push(encodeRecord(r));
    for (const r of hour.add(time, values)) h1.push(encodeRecord(r));
  }
  m1.push(...minute.drain().map((r) => encodeRecord(r)));
  h1.push(...hour.drain().map((r) => encodeRecord(r)));
  assertEquals([m1.length, h1.length], [1440, 24]);

  const perValue = async (lines: string[]) => (await gzipSize(lines)) / stored;
  const [rawB, csvB, m1B, h1B] = await Promise.all([raw, csv, m1, h1].map(perValue));
  const f = (x: number) => x.toFixed(3);
  console.log(
    `gzip bytes per stored raw value over ${stored} values: raw JSON ${f(rawB)}, raw CSV ${
      f(csvB)
    }, 1m ${f(m1B)}, 1h ${f(h1B)}; total with JSON ${f(rawB + m1B + h1B)}, with CSV ${
      f(csvB + m1B + h1B)
    }`,
  );
  // The rollup tiers' share of the 4-byte budget (measured: 1.23 + 0.095).
  assert(m1B + h1B <= 1.45, `rollups take ${f(m1B + h1B)} bytes per value`);
  assert(h1B <= 0.15, `1h takes ${f(h1B)} bytes per value`);
});

Deno.test("key lists repeat only when they change, and never across a damaged line", () => {
  const agg = new RollupAggregator(60);
  const lines: string[] = [];
  const ctx: KeysContext = {};
  for (let i = 0; i <= 62 * 6; i++) {
    const values = new Map<string, number | null>([["a", i % 7], ["b", i * 1.5]]);
    for (const rec of agg.add(Date.UTC(2026, 0, 1) + i * 10_000, values)) {
      lines.push(encodeRecord(rec, ctx));
    }
  }
  const hasKeys = lines.map((l) => '"keys"' in JSON.parse(l) || l.includes('"keys":'));
  assertEquals(hasKeys[0], true);
  assertEquals(hasKeys.slice(1, 60).every((k) => !k), true, "same series: keys left out");
  assertEquals(hasKeys[60], true, "repeated every 60 lines");
  const read: DecodeContext = {};
  const decoded = lines.map((l) => decodeRecord(l, undefined, read));
  for (const [i, l] of lines.entries()) {
    assertEquals(decoded[i].t, recordTimes(l).t);
    assertEquals([...decoded[i].series.keys()], ["a", "b"]);
  }
  assertThrows(() => decodeRecord(lines[1]), 'no "keys"');
  // A damaged line in between: the next line may not borrow keys from before it.
  const state: DecodeContext = {};
  decodeRecord(lines[0], undefined, state);
  assertThrows(() => decodeRecord("{garbage", undefined, state));
  assertThrows(() => decodeRecord(lines[1], undefined, state), 'no "keys"');
  assertEquals([...decodeRecord(lines[60], undefined, state).series.keys()], ["a", "b"]);
});

Deno.test("decoding with summed histograms gives the merged histogram, and nothing from a bad line", () => {
  const rnd = mulberry32(17);
  const records = rollup(60, samples(rnd, T0, 600));
  assert(records.length >= 10, `${records.length} records`);
  const lines = records.map((r) => encodeRecord(r));
  // Reference: every record decoded whole and merged.
  const merged = new Map<string, SeriesAgg>();
  for (const line of lines) {
    for (const [key, agg] of decodeRecord(line).series) {
      const total = merged.get(key);
      if (total) total.merge(agg);
      else merged.set(key, agg.clone());
    }
  }
  const sums = new Map<string, HistogramSum>();
  const into = (key: string) => {
    if (!sums.has(key)) sums.set(key, new HistogramSum());
    return sums.get(key)!;
  };
  for (const line of lines) {
    const rec = decodeRecord(line, undefined, undefined, into);
    for (const agg of rec.series.values()) assertEquals(agg.hist.count, 0, "left to the sums");
    const whole = decodeRecord(line);
    for (const [key, agg] of rec.series) assertEquals(agg.count, whole.series.get(key)!.count);
  }
  // A line whose last series is broken adds nothing, not even its good series.
  const broken = JSON.parse(lines[0]);
  broken.aggs[broken.aggs.length - 1] = "x";
  assertThrows(() => decodeRecord(JSON.stringify(broken), undefined, undefined, into));
  // A sum for one bucket only: the callback can refuse the others.
  const only = new HistogramSum();
  decodeRecord(
    lines[1],
    undefined,
    undefined,
    (key, t) => key === [...merged.keys()][0] && t === records[1].t ? only : undefined,
  );
  assert(merged.size > 1);
  for (const [key, total] of merged) {
    const h = new LogHistogram();
    sums.get(key)!.addTo(h);
    assertEquals(h.entries(), total.hist.entries(), key);
    assertEquals(h.count, total.count, key);
  }
  const first = new LogHistogram();
  only.addTo(first);
  const [key0] = merged.keys();
  assertEquals(first.entries(), decodeRecord(lines[1]).series.get(key0)!.hist.entries());
});
