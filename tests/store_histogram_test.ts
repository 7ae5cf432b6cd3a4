import { assert, assertEquals, assertThrows } from "./assert.ts";
import { ALPHA, bucketKey, bucketValue, LogHistogram } from "../src/store/histogram.ts";
import { gaussian, mulberry32 } from "./synth.ts";

const DISTRIBUTIONS: Record<string, (rnd: () => number) => number> = {
  uniform: (rnd) => 100 * rnd(),
  lognormal: (rnd) => Math.exp(5 + 2 * gaussian(rnd)),
  "half zeros": (rnd) => rnd() < 0.5 ? 0 : 1e6 * rnd(),
  constant: () => 42.5,
  "around zero": (rnd) => 100 * gaussian(rnd),
  tiny: (rnd) => rnd() < 0.3 ? 1e-12 : 1e-6 * rnd(),
};

/** Nearest rank for a percentile p (whole number), in integer arithmetic: ceil(p·n/100). */
function nearestRank(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.floor((p * sorted.length + 99) / 100));
  return sorted[rank - 1];
}

/** |estimate − exact| within ALPHA relative (values below 1e-9 count as zero). */
function assertClose(est: number, exact: number, what: string) {
  assert(
    Math.abs(est - exact) <= ALPHA * Math.abs(exact) * (1 + 1e-12) + 1e-9,
    `${what}: estimate ${est}, exact ${exact}`,
  );
}

Deno.test("bucket representatives are within 1 % of every value in the bucket", () => {
  const rnd = mulberry32(1);
  for (let j = 0; j < 20000; j++) {
    const v = (rnd() < 0.5 ? -1 : 1) * Math.exp(40 * rnd() - 20);
    assertClose(bucketValue(bucketKey(v)), v, `v=${v}`);
  }
  assertEquals(bucketKey(5e-10), 0);
  assertEquals(bucketValue(0), 0);
  assert(bucketKey(1e-9) > 0 && bucketKey(-1e-9) < 0);
});

Deno.test("bucket keys sort like the values", () => {
  const rnd = mulberry32(2);
  const values = Array.from({ length: 5000 }, () => 1e4 * gaussian(rnd) ** 3);
  values.sort((a, b) => a - b);
  for (let j = 1; j < values.length; j++) {
    assert(bucketKey(values[j - 1]) <= bucketKey(values[j]), `${values[j - 1]} vs ${values[j]}`);
  }
});

Deno.test("quantiles are within 1 % of the exact nearest-rank value", () => {
  const rnd = mulberry32(3);
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    for (const n of [1, 2, 6, 19, 20, 21, 360, 5000]) {
      const values = Array.from({ length: n }, () => draw(rnd));
      const h = new LogHistogram();
      for (const v of values) h.add(v);
      assertEquals(h.count, n);
      const sorted = [...values].sort((a, b) => a - b);
      const min = sorted[0], max = sorted[n - 1];
      for (const p of [1, 5, 25, 50, 75, 90, 95, 99, 100]) {
        const exact = nearestRank(sorted, p);
        assertClose(h.quantile(p / 100)!, exact, `${name} n=${n} p${p}`);
        const clamped = h.quantile(p / 100, min, max)!;
        assertClose(clamped, exact, `${name} n=${n} p${p} clamped`);
        assert(clamped >= min && clamped <= max, `${name} n=${n} p${p}: ${clamped} outside`);
      }
      // With min and max known, the extreme ranks are exact.
      assertEquals(h.quantile(1, min, max), max, `${name} n=${n}: the top rank is the max`);
      assertEquals(h.quantile(0, min, max), min, `${name} n=${n}: the lowest rank is the min`);
      if (n < 20) assertEquals(h.quantile(0.95, min, max), max, `${name} n=${n}: p95 is the max`);
    }
  }
  assertEquals(new LogHistogram().quantile(0.95), null);
});

Deno.test("p95 follows the nearest-rank definition at small counts", () => {
  // 20 values 1…20: rank ceil(0.95·20) = 19; with 19 values the rank is 19 = the maximum.
  const h = new LogHistogram();
  for (let v = 1; v <= 20; v++) h.add(v);
  assertClose(h.quantile(0.95)!, 19, "p95 of 1…20");
  const g = new LogHistogram();
  for (let v = 1; v <= 19; v++) g.add(v);
  assertClose(g.quantile(0.95)!, 19, "p95 of 1…19");
  assertClose(g.quantile(0.5)!, 10, "median of 1…19");
});

Deno.test("countAbove matches a direct count unless x shares a bucket with samples", () => {
  const rnd = mulberry32(4);
  let exactCases = 0;
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    const values = Array.from({ length: 300 }, () => draw(rnd));
    const h = new LogHistogram();
    for (const v of values) h.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (let j = 0; j < 60; j++) {
      // Thresholds at a bucket's geometric middle, well away from its edges.
      const near = sorted[Math.floor(rnd() * sorted.length)] * (1 + 0.1 * gaussian(rnd));
      const k = bucketKey(near);
      const x = k === 0 ? 0 : bucketValue(k) * (1 - ALPHA) / Math.sqrt((1 - ALPHA) / (1 + ALPHA));
      const direct = values.filter((v) => v > x).length;
      const sharing = values.filter((v) => bucketKey(v) === bucketKey(x)).length;
      const got = h.countAbove(x);
      if (sharing === 0) {
        assertEquals(got, direct, `${name}: countAbove(${x})`);
        exactCases++;
      } else {
        assert(Math.abs(got - direct) <= sharing, `${name}: countAbove(${x}) ${got} vs ${direct}`);
      }
    }
    const min = sorted[0], max = sorted[sorted.length - 1];
    assertEquals(h.countAbove(min - 0.02 * Math.abs(min) - 1e-6), values.length, name);
    assertEquals(h.countAbove(max + 0.02 * Math.abs(max) + 1e-6), 0, name);
  }
  assert(exactCases > 100, `only ${exactCases} thresholds away from every sample`);
});

Deno.test("merge equals the histogram of the union", () => {
  const rnd = mulberry32(5);
  const a = new LogHistogram(), b = new LogHistogram(), all = new LogHistogram();
  for (let j = 0; j < 3000; j++) {
    const v = DISTRIBUTIONS["around zero"](rnd);
    (j % 3 ? a : b).add(v);
    all.add(v);
  }
  const merged = a.clone().merge(b);
  assertEquals(merged.entries(), all.entries());
  assertEquals(merged.count, 3000);
  assertEquals(a.count + b.count, 3000, "clone left the inputs alone");
});

Deno.test("encode/decode round-trips every bucket", () => {
  const rnd = mulberry32(6);
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    for (const n of [0, 1, 2, 7, 500]) {
      const h = new LogHistogram();
      for (let j = 0; j < n; j++) h.add(draw(rnd), 1 + Math.floor(rnd() * 3));
      const back = LogHistogram.decode(JSON.parse(JSON.stringify(h.encode())));
      assertEquals(back.entries(), h.entries(), `${name} n=${n}`);
      assertEquals(back.count, h.count);
    }
  }
});

Deno.test("encodeWithin writes the documented tokens", () => {
  const h = new LogHistogram().addKey(0, 2).addKey(500).addKey(503, 7);
  assertEquals(h.encodeWithin(0, 503), [-2, 0, -7, 3]);
  assertEquals(h.encodeWithin(-3, 510), [7, -7, 3, 500, -2]);
  assertEquals(new LogHistogram().encodeWithin(0, 5), []);
  assertThrows(() => h.encodeWithin(1, 503), "outside");
  assertEquals(LogHistogram.decodeWithin([-2, 0, -7, 3], 0, 503).entries(), h.entries());
});

Deno.test("decode rejects tokens no encoder writes", () => {
  for (
    const [tokens, msg] of [
      [[0, 0], "zero gap"],
      [[-2, -3], "misplaced count"],
      [[1, -1], "misplaced count"],
      [[1, -2, -2], "misplaced count"],
      [[1.5], "bad token"],
      [[20], "not above"],
    ] as const
  ) {
    assertThrows(() => LogHistogram.decodeWithin(tokens, 0, 10), msg);
  }
  assertThrows(() => LogHistogram.decode([5, 2]), "bad key range");
});

Deno.test("add rejects non-finite values and bad counts", () => {
  const h = new LogHistogram();
  assertThrows(() => h.add(NaN), "not a finite value");
  assertThrows(() => h.add(Infinity), "not a finite value");
  assertThrows(() => h.add(1, 0), "bad count");
  assertThrows(() => h.removeKey(bucketKey(1)), "cannot remove");
  assertEquals(h.count, 0);
});
