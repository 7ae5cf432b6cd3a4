/** The report's pure parts: CSV input, tidy CSV output, coverage and gaps, summary thresholds. */
import { compileRules } from "../src/alert/rules.ts";
import { defaultConfig } from "../src/config/load.ts";
import { SeriesAgg } from "../src/store/rollup.ts";
import type { BucketInfo } from "../src/report/collect.ts";
import { coverageOf } from "../src/report/coverage.ts";
import { parseSeriesCsv } from "../src/report/csv_input.ts";
import { renderCsv } from "../src/report/csv_output.ts";
import type { ReportModel } from "../src/report/model.ts";
import { busiest, summaryRows } from "../src/report/summary.ts";
import { assert, assertEquals } from "./assert.ts";

Deno.test("csv input: header optional, ISO or Unix seconds, bad rows named by line and left out", () => {
  const text = [
    "timestamp,used",
    "2026-01-01T00:00:00Z,1.5",
    "1767225660,2", // Unix seconds: 2026-01-01T00:01:00Z
    "# a comment",
    "",
    "2026-01-01T00:02:00Z,abc",
    "yesterday,3",
    "2026-01-01T00:03:00Z,", // a missing value is kept as missing
    "2026-01-01T00:02:30Z,4", // not after the previous row
    "just one cell",
    "1767225840000,5", // 13 digits: milliseconds (00:04:00)
  ].join("\n");
  const csv = parseSeriesCsv(text);
  assertEquals(csv.name, "used");
  assertEquals(csv.t.map((t) => new Date(t).toISOString().slice(11, 16)), [
    "00:00",
    "00:01",
    "00:03",
    "00:04",
  ]);
  assertEquals(csv.v.map((v) => (Number.isNaN(v) ? null : v)), [1.5, 2, null, 5]);
  assertEquals(csv.problems, [
    'line 6: "abc" is not a number',
    'line 7: "yesterday" is not a time (ISO 8601 or Unix seconds)',
    "line 9: time 2026-01-01T00:02:30.000Z is not after the previous row's",
    'line 10: expected "timestamp,value", got "just one cell"',
  ]);
  // No header: the first row is data.
  assertEquals(parseSeriesCsv("1767225600,7\n").v, [7]);
});

Deno.test("csv input: a flood of bad rows is listed up to 20, then counted", () => {
  const rows = Array.from(
    { length: 30 },
    (_, i) => `2026-01-01T00:${String(i).padStart(2, "0")}:00Z,x`,
  );
  const csv = parseSeriesCsv(rows.join("\n"));
  assertEquals(csv.problems.length, 21);
  assertEquals(csv.problems[20], "… and 10 more bad rows");
});

const T0 = Date.parse("2026-03-01T00:00:00Z");
const MIN = 60_000;

function buckets(spans: [number, number][]): Map<number, BucketInfo> {
  // Each minute bucket from..to (minutes since T0) holds six samples 10 s apart.
  const out = new Map<number, BucketInfo>();
  for (const [a, b] of spans) {
    for (let m = a; m < b; m++) {
      out.set(T0 + m * MIN, { from: T0 + m * MIN, to: T0 + m * MIN + 50_000, n: 6 });
    }
  }
  return out;
}

Deno.test("coverage: gaps longer than three sample intervals, reboot told apart from downtime", () => {
  const b = buckets([[0, 60], [90, 120], [150, 180]]);
  const boot = (t: number) => (t < T0 + 120 * MIN ? 1000 : 9000); // rebooted in the second gap
  const c = coverageOf(b, { from: T0, to: T0 + 180 * MIN }, boot);
  assertEquals(c.gaps.map((g) => [g.from.slice(11, 19), g.to.slice(11, 19), g.reason]), [
    ["00:59:50", "01:30:00", "downtime"],
    ["01:59:50", "02:30:00", "reboot"],
  ]);
  assertEquals(c.rangeSeconds, 180 * 60);
  assertEquals(c.coveredSeconds, 180 * 60 - 2 * (30 * 60 + 10));
  // No boot time recorded: the reason is unknown rather than guessed.
  assertEquals(
    coverageOf(b, { from: T0, to: T0 + 180 * MIN }, () => undefined).gaps[0].reason,
    "unknown",
  );
  // A 20-second silence (two missed samples) is no gap.
  const tight = new Map([[T0, { from: T0, to: T0 + 50_000, n: 6 }], [T0 + MIN, {
    from: T0 + 70_000,
    to: T0 + 110_000,
    n: 5,
  }]]);
  assertEquals(coverageOf(tight, { from: T0, to: T0 + 2 * MIN }, () => 1).gaps, []);
});

function agg(values: number[]): SeriesAgg {
  const a = new SeriesAgg();
  for (const v of values) a.add(v);
  return a;
}

Deno.test("summary: min/mean/p95/max, time past the shipped rules' thresholds, busiest entities", () => {
  const rules = compileRules(defaultConfig().alert.rules).rules.filter((r) =>
    r.type === "threshold"
  );
  const cpu = rules.find((r) => r.name === "cpu_busy")!; // warning 90, critical 98
  // 100 readings: 80 at 50 %, 15 at 95 %, 5 at 99 %.
  const values = [...Array(80).fill(50), ...Array(15).fill(95), ...Array(5).fill(99)];
  const aggs = new Map([
    ["cpu_usage_percent", agg(values)],
    ["cpu_user_time", agg([1, 2, 3])], // a counter: not summarised
    ["disk_util_percent[sda]", agg([10, 20])],
    ["disk_util_percent[sdb]", agg([70, 90])],
  ]);
  const rows = summaryRows(aggs, rules, () => undefined, 1000);
  const row = rows.find((r) => r.metric === "cpu_usage_percent")!;
  assertEquals([row.min, row.max, row.count], [50, 99, 100]);
  assertEquals(row.mean, (80 * 50 + 15 * 95 + 5 * 99) / 100);
  assert(Math.abs(row.p95! - 95) <= 95 * 0.01, `p95 ${row.p95}`);
  const warn = row.thresholds.find((t) => t.severity === "warning" && t.rule === cpu.name)!;
  const crit = row.thresholds.find((t) => t.severity === "critical" && t.rule === cpu.name)!;
  assertEquals([warn.value, warn.fraction, warn.seconds], [cpu.warning!.raise, 0.2, 200]);
  assertEquals([crit.value, crit.fraction, crit.seconds], [cpu.critical!.raise, 0.05, 50]);
  assert(!rows.some((r) => r.metric === "cpu_user_time"), "counters are summarised by their rates");
  assertEquals(busiest(rows, "disk_util_percent").map((b) => b.entity), ["sdb", "sda"]);
});

Deno.test("csv output: one value per row, quoted where needed, every section", () => {
  const model: ReportModel = {
    version: 1,
    hosts: ["h"],
    generatedAt: "2026-03-02T00:00:00.000Z",
    range: {
      from: "2026-03-01T00:00:00.000Z",
      to: "2026-03-02T00:00:00.000Z",
      resolutionSeconds: 60,
      source: "/d",
    },
    coverage: {
      coveredSeconds: 86000,
      rangeSeconds: 86400,
      gaps: [{ from: "a", to: "b", seconds: 400, reason: "reboot" }],
    },
    summary: [{
      metric: "filesystem_usage_percent",
      entity: '/mnt/a,"b"',
      unit: "percent",
      min: 1,
      mean: 2,
      p95: 3,
      max: null,
      count: 9,
      thresholds: [],
    }],
    busiest: { cores: [], disks: [], interfaces: [] },
    charts: [],
    notes: ["a note, with a comma"],
  };
  const lines = renderCsv(model).trimEnd().split("\n");
  assertEquals(lines[0], "section,metric,entity,field,value");
  assert(
    lines.includes('summary,filesystem_usage_percent,"/mnt/a,""b""",mean,2'),
    lines.join("\n"),
  );
  assert(lines.includes('summary,filesystem_usage_percent,"/mnt/a,""b""",max,'), "null is empty");
  assert(lines.includes("gap,,1,reason,reboot"));
  assert(lines.includes('note,,,text,"a note, with a comma"'));
});
