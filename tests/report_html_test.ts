/**
 * `sysmon report --format html`: the document's structure (sections, row counts, one chart per
 * series), that it is self-contained and escapes everything from the model, the unit formatting,
 * the SVG chart's geometry (mapping, gaps, forecast band, no NaN anywhere), and the real thing: the
 * file loaded by headless Chromium (Debian package), whose DOM is checked and whose screenshot is
 * kept as an artifact of the run (`$SYSMON_ARTIFACTS/report.png`, default `test-artifacts/`).
 */
import { renderHtml, URGENT_DAYS } from "../src/report/html.ts";
import type { ChartSeries, ReportModel } from "../src/report/model.ts";
import { chartGeometry, lineChartSvg, niceStep, thinRun, timeTicks } from "../src/report/svg.ts";
import {
  formatDuration,
  formatGrowthPerDay,
  formatRelative,
  formatUtc,
  formatValue,
} from "../src/report/units.ts";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "./assert.ts";
import { FIXTURES } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const REPO = new URL("../", import.meta.url).pathname;
const SECTIONS = ["coverage", "summary", "busiest", "capacity", "anomalies", "charts", "notes"];

function fixture(): ReportModel {
  return JSON.parse(Deno.readTextFileSync(`${FIXTURES}report/model.json`)) as ReportModel;
}

function count(text: string, re: RegExp): number {
  return [
    ...text.matchAll(new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g")),
  ]
    .length;
}

/** The inner HTML of the first element matching `open` up to its closing tag (not nested). */
function block(html: string, open: string, close: string): string {
  const start = html.indexOf(open);
  assert(start >= 0, `missing ${open}`);
  const end = html.indexOf(close, start);
  assert(end > start, `unclosed ${open}`);
  return html.slice(start, end);
}

/** Text that must never reach a reader: leaked JavaScript values. */
function assertNoJunk(text: string, where: string) {
  for (const junk of ["NaN", "undefined", "Infinity", "Invalid Date", "[object Object]"]) {
    assert(!text.includes(junk), `${where}: contains ${junk}`);
  }
}

/** Every string in the model (not the keys) with markup and quotes appended. */
function hostile<T>(value: T, suffix: string): T {
  if (typeof value === "string") return (value + suffix) as T;
  if (Array.isArray(value)) return value.map((v) => hostile(v, suffix)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, hostile(v, suffix)]),
    ) as T;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Units
// ---------------------------------------------------------------------------------------------

Deno.test("units: values are formatted by their unit", () => {
  assertEquals(formatValue(93.42, "percent"), "93.4%");
  assertEquals(formatValue(0.05, "percent"), "0.05%");
  assertEquals(formatValue(1.5 * 1024 ** 3, "bytes"), "1.5 GiB");
  assertEquals(formatValue(512, "bytes"), "512 B");
  assertEquals(formatValue(1023.99 * 1024, "bytes"), "1 MiB");
  assertEquals(formatValue(12 * 1024 ** 2, "bytes/s"), "12 MiB/s");
  assertEquals(formatValue(0.35, "seconds"), "350 ms");
  assertEquals(formatValue(4.2, "seconds"), "4.2 s");
  assertEquals(formatValue(90, "seconds"), "1 min 30 s");
  assertEquals(formatValue(12_000, "seconds"), "3 h 20 min");
  assertEquals(formatValue(187_200, "seconds"), "2 d 4 h");
  assertEquals(formatValue(12345, "count"), "12,345");
  assertEquals(formatValue(7.25, "count"), "7.25");
  assertEquals(formatValue(2_500_000, "count"), "2.5M");
  assertEquals(formatValue(4520.5, "1/s"), "4,521/s");
  assertEquals(formatValue(null, "percent"), "—");
  assertEquals(formatValue(NaN, "bytes"), "—");
  assertEquals(formatValue(Infinity, "count"), "—");
});

Deno.test("units: growth, durations, UTC times and relative dates", () => {
  assertEquals(formatGrowthPerDay(0.85, "percent"), "+0.85 pp/day");
  assertEquals(formatGrowthPerDay(-0.05, "percent"), "-0.05 pp/day");
  assertEquals(formatGrowthPerDay(1.2 * 1024 ** 3, "bytes"), "+1.2 GiB/day");
  assertEquals(formatGrowthPerDay(3 * 1024 ** 2, "bytes/s"), "+3 MiB/s per day");
  assertEquals(formatGrowthPerDay(null, "bytes"), "—");
  assertEquals(formatDuration(0), "0 s");
  assertEquals(formatDuration(720), "12 min");
  assertEquals(formatUtc("2024-05-08T00:05:12Z"), "2024-05-08 00:05 UTC");
  assertEquals(formatUtc("2024-05-08T02:05:12+02:00"), "2024-05-08 00:05 UTC");
  assertEquals(formatUtc("not a time"), "not a time");
  assertEquals(formatRelative("2024-05-10T07:30:00Z", "2024-05-08T00:05:12Z"), "in 2 d");
  assertEquals(formatRelative("2024-05-07T21:00:00Z", "2024-05-08T00:05:12Z"), "3 h ago");
  assertEquals(formatRelative("garbage", "2024-05-08T00:05:12Z"), null);
});

// ---------------------------------------------------------------------------------------------
// SVG chart
// ---------------------------------------------------------------------------------------------

const T0 = Date.UTC(2024, 4, 1);
const HOUR = 3_600_000;
const SIZE = { width: 640, height: 250 };

function series(values: (number | null)[], extra: Partial<ChartSeries> = {}): ChartSeries {
  return {
    id: "test",
    title: "Test",
    unit: "percent",
    points: values.map((v, i) => [T0 + i * HOUR, v]),
    ...extra,
  };
}

/** The coordinates of a path's d attribute, with the command letters kept. */
function pathCommands(d: string): { cmd: string; x: number; y: number }[] {
  return [...d.matchAll(/([MLZ])(?:(-?[\d.]+) (-?[\d.]+))?/g)]
    .filter((m) => m[1] !== "Z")
    .map((m) => ({ cmd: m[1], x: Number(m[2]), y: Number(m[3]) }));
}

function pathD(svg: string, cls: string): string | null {
  const m = new RegExp(`<path class="${cls}" d="([^"]*)"`).exec(svg);
  return m ? m[1] : null;
}

function viewBox(svg: string): number[] {
  const m = /viewBox="([^"]+)"/.exec(svg);
  assert(m, "no viewBox");
  return m[1].split(" ").map(Number);
}

Deno.test("svg: points map linearly into the plot area inside the viewBox", () => {
  const s = series([0, 50, 25, 100]);
  const svg = lineChartSvg(s, SIZE);
  const g = chartGeometry(s, SIZE);
  assertEquals(viewBox(svg), [0, 0, SIZE.width, SIZE.height]);
  assert(g.plot.left > 0 && g.plot.right < SIZE.width && g.plot.top > 0);
  assert(g.plot.bottom < SIZE.height);
  // Percentages within 0–100 use exactly that domain.
  assertEquals([g.domain.lo, g.domain.hi], [0, 100]);
  const pts = pathCommands(pathD(svg, "series-line")!);
  assertEquals(pts.length, 4);
  const { left, right, top, bottom } = g.plot;
  for (const p of pts) {
    assert(p.x >= left && p.x <= right && p.y >= top && p.y <= bottom, JSON.stringify(p));
  }
  // First reading at the left edge, last at the right; 0 on the axis, 100 at the top.
  assertAlmostEquals(pts[0].x, left, 0.06);
  assertAlmostEquals(pts[3].x, right, 0.06);
  assertAlmostEquals(pts[0].y, bottom, 0.06);
  assertAlmostEquals(pts[3].y, top, 0.06);
  // Equal time steps are equal distances; 50 is halfway up, 25 a quarter.
  assertAlmostEquals(pts[1].x - pts[0].x, (right - left) / 3, 0.1);
  assertAlmostEquals(pts[1].y, (top + bottom) / 2, 0.06);
  assertAlmostEquals(pts[2].y, bottom - (bottom - top) / 4, 0.06);
});

Deno.test("svg: null values break the line, and a lone reading is a dot", () => {
  const svg = lineChartSvg(series([10, 20, null, 30, 40, 50, null, 60]), SIZE);
  const cmds = pathCommands(pathD(svg, "series-line")!);
  assertEquals(cmds.map((c) => c.cmd).join(""), "MLMLL");
  assertEquals(count(svg, /<circle class="series-dot"/), 1);
  // One filled area per unbroken run, none across the gaps.
  assertEquals(count(svg, /<path class="series-area"/), 2);

  const none = lineChartSvg(series([null, null]), SIZE);
  assertEquals(pathD(none, "series-line"), null);
  assertStringIncludes(none, "No readings in this range");
});

Deno.test("svg: the forecast is a dashed line in a band past the last reading, marked now", () => {
  const forecast: [number, number, number, number][] = [1, 2, 3].map((k) => [
    T0 + (3 + k) * HOUR,
    40 + 5 * k,
    38 + 4 * k,
    42 + 6 * k,
  ]);
  const s = series([30, 32, 35, 40], { forecast });
  const svg = lineChartSvg(s, SIZE);
  const g = chartGeometry(s, SIZE);
  const lastX = g.segments[0][3][0];
  assertEquals(g.nowX, lastX);

  const band = pathCommands(pathD(svg, "forecast-band")!);
  assert(band.length >= 6);
  for (const p of band) assert(p.x >= lastX - 0.05, `band point ${p.x} before the last reading`);
  // The band ends at the last forecast time, at the right edge.
  assertAlmostEquals(Math.max(...band.map((p) => p.x)), g.plot.right, 0.06);

  const line = pathCommands(pathD(svg, "forecast-line")!);
  assertEquals(line.length, 4, "the dashed line starts at the last reading");
  assertAlmostEquals(line[0].x, lastX, 0.06);
  for (const p of line.slice(1)) assert(p.x > lastX);
  assertMatch(svg, /<path class="forecast-line"[^>]*stroke-dasharray="6 4"/);
  // Each forecast value lies inside its band: high above (smaller y), low below.
  for (const [i, f] of forecast.entries()) {
    const y = line[i + 1].y;
    const yHigh = band[i + 1].y;
    const yLow = band[band.length - 1 - i].y;
    assert(yHigh <= y && y <= yLow, `forecast ${f} outside its band`);
  }
  assertMatch(svg, /<g class="now"><line x1="([\d.]+)"/);
  assertEquals(
    Number(/<g class="now"><line x1="([\d.]+)"/.exec(svg)![1]),
    Math.round(lastX * 10) / 10,
  );
  assertStringIncludes(svg, ">now</text>");

  // A forecast that also covers the measured past is drawn only from the last reading on.
  const overlapping = series([30, 32, 35, 40], {
    forecast: [[T0 + HOUR, 31, 29, 33], ...forecast],
  });
  const og = chartGeometry(overlapping, SIZE);
  assertEquals(og.band.length, 2 * forecast.length + 1);
  for (const [x] of [...og.band, ...og.forecastLine]) assert(x >= lastX - 0.05);

  // Starting at the last reading's own time, the forecast is not joined to the reading.
  const sameStart = series([30, 32, 35, 40], {
    forecast: [[T0 + 3 * HOUR, 44, 43, 45], ...forecast],
  });
  const sg = chartGeometry(sameStart, SIZE);
  assertEquals(sg.forecastLine.length, forecast.length + 1);
  assertAlmostEquals(sg.forecastLine[0][0], lastX, 0.06);
  assert(sg.forecastLine[0][1] < sg.segments[0][3][1], "starts at the forecast's value, above");

  const plain = lineChartSvg(series([30, 32]), SIZE);
  assert(!plain.includes("forecast-band") && !plain.includes('class="now"'));
});

Deno.test("svg: thresholds are labelled lines, anomalies shaded windows", () => {
  const s = series([10, 20, 30, 40, 50], {
    thresholds: [
      { value: 80, label: "warning <80%>", severity: "warning" },
      { value: 95, label: "critical 95%", severity: "critical" },
    ],
    anomalies: [[T0 + HOUR, T0 + 2 * HOUR], [T0 + 100 * HOUR, T0 + 101 * HOUR]],
  });
  const svg = lineChartSvg(s, SIZE);
  const g = chartGeometry(s, SIZE);
  assertEquals(count(svg, /<g class="threshold">/), 2);
  assertStringIncludes(svg, ">warning &lt;80%&gt;</text>");
  assertMatch(svg, /stroke="#d97706"[^>]*stroke-dasharray="3 3"/);
  assertMatch(svg, /stroke="#dc2626"[^>]*stroke-dasharray="3 3"/);
  // The window outside the time range is not drawn.
  assertEquals(count(svg, /<g class="anomalies"[^>]*><rect /), 1);
  const rect = /<g class="anomalies"[^>]*><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(
    svg,
  )!;
  const quarter = (g.plot.right - g.plot.left) / 4;
  assertAlmostEquals(Number(rect[1]), g.plot.left + quarter, 0.06);
  assertAlmostEquals(Number(rect[2]), quarter, 0.1);
});

Deno.test("svg: accessible: role img, a title and a description", () => {
  const svg = lineChartSvg(series([1, 2], { title: 'Disk <sda> & "b"' }), SIZE);
  assertMatch(svg, /^<svg class="chart" role="img"/);
  assertStringIncludes(svg, "<title>Disk &lt;sda&gt; &amp; &quot;b&quot; (percent)</title>");
  assertMatch(svg, /<desc>[^<]*2 readings from 2024-05-01 00:00 UTC/);
  assert(!svg.includes("xmlns"), "inline SVG carries no namespace URL");
});

Deno.test("svg: no NaN or Infinity in any attribute, whatever the series", () => {
  const bad: ChartSeries[] = [
    series([]),
    series([42]),
    series([null]),
    series([5, 5, 5, 5]),
    series([0, 0]),
    series([-5, 3, -12]),
    series([1e18, 2e18], { unit: "bytes" }),
    series([NaN, Infinity, 3, -Infinity]),
    series([1, 2], { unit: "seconds", thresholds: [{ value: NaN, label: "x" }] }),
    series([1, 2], { anomalies: [[T0 + HOUR, T0], [NaN, T0]] }),
    series([1, 2], { forecast: [[T0 + 5 * HOUR, NaN, 1, 2], [T0 + 6 * HOUR, 3, 2, 1e300]] }),
    series([], { forecast: [[T0, 3, 2, 4]] }),
    { id: "t", title: "same time", unit: "count", points: [[T0, 1], [T0, 2]] },
    { id: "t", title: "bad time", unit: "1/s", points: [[NaN, 1], [T0, 2]] },
  ];
  for (const s of bad) {
    for (const size of [SIZE, { width: 0, height: 0 }, { width: NaN, height: -1 }]) {
      const svg = lineChartSvg(s, size);
      const attrs = [...svg.matchAll(/ [\w-]+="([^"]*)"/g)].map((m) => m[1]);
      assert(attrs.length > 10);
      for (const a of attrs) {
        assert(!/NaN|Infinity|undefined/.test(a), `${JSON.stringify(s.points)}: attribute ${a}`);
      }
      assertNoJunk(svg, s.title);
    }
  }
});

Deno.test("svg: a month of raw samples draws at most four points a pixel, peaks kept", () => {
  const n = 30 * 8640; // 30 days of 10 s samples
  const values: (number | null)[] = Array.from(
    { length: n },
    (_, i) => 20 + 10 * Math.sin(i / 500),
  );
  values[123_456] = 99.5; // one spike
  values[200_000] = null; // one gap
  const s = series(values);
  s.points = s.points.map(([, v], i) => [T0 + i * 10_000, v]);
  const svg = lineChartSvg(s, SIZE);
  const g = chartGeometry(s, SIZE);
  const drawn = g.segments.reduce((a, seg) => a + seg.length, 0);
  assert(drawn <= 4 * (g.plot.right - g.plot.left + 2) * 1.05, `${drawn} points drawn`);
  assertEquals(g.segments.length, 2);
  const top = Math.min(...g.segments.flat().map(([, y]) => y));
  assertAlmostEquals(top, g.plot.bottom - 0.995 * (g.plot.bottom - g.plot.top), 0.01);
  assert(svg.length < 200_000, `svg is ${svg.length} characters`);

  const run: [number, number][] = [[1.1, 5], [1.2, 9], [1.5, 1], [1.9, 4], [2.1, 3]];
  assertEquals(thinRun(run), [[1.1, 5], [1.2, 9], [1.5, 1], [1.9, 4], [2.1, 3]]);
  const flat: [number, number][] = [[1.1, 5], [1.2, 5], [1.3, 5], [1.4, 5], [1.5, 2], [1.6, 5]];
  assertEquals(thinRun(flat), [[1.1, 5], [1.5, 2], [1.6, 5]]);
});

Deno.test("svg: nice steps and UTC time ticks", () => {
  assertEquals(niceStep(100, 5), 20);
  assertEquals(niceStep(100, 4), 25);
  assertEquals(niceStep(7, 5), 2);
  assertEquals(niceStep(0.3, 3), 0.1);
  const ticks = timeTicks(T0, T0 + 6 * HOUR, 5);
  assertEquals(ticks.map((t) => t.label), [["00:00", "1 May"], ["02:00"], ["04:00"], ["06:00"]]);
  const days = timeTicks(T0 + 5 * HOUR, T0 + 7 * 24 * HOUR, 4);
  assertEquals(days.map((t) => t.label[0]), ["3 May 2024", "5 May", "7 May"]);
});

// ---------------------------------------------------------------------------------------------
// HTML document
// ---------------------------------------------------------------------------------------------

Deno.test("html: a complete HTML5 document with every section, in order", () => {
  const html = renderHtml(fixture());
  assert(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  assertStringIncludes(html, '<meta charset="utf-8">');
  assertStringIncludes(html, '<meta name="viewport"');
  assert(html.trimEnd().endsWith("</html>"));
  const titles = ["Coverage", "Summary", "Busiest", "Capacity", "Anomalies", "Charts", "Notes"];
  let last = -1;
  for (const [i, id] of SECTIONS.entries()) {
    const at = html.indexOf(`<section id="${id}">\n<h2>${titles[i]}</h2>`);
    assert(at > last, `section ${id} missing or out of order`);
    last = at;
  }
  assertStringIncludes(html, "<h1>web-01.example.net</h1>");
  assertStringIncludes(html, "2024-05-01 00:00 – 2024-05-08 00:00 UTC");
  assertStringIncludes(html, "<code>/var/lib/sysmon</code>");
  assertStringIncludes(html, "1 h per point");
});

Deno.test("html: tables hold one row per item of the model", () => {
  const model = fixture();
  const html = renderHtml(model);
  const rows = (open: string) => count(block(html, open, "</table>"), /<tr>/) - 1; // minus the head
  assertEquals(rows('<table class="gaps">'), model.coverage.gaps.length);
  assertEquals(rows('<table class="summary">'), model.summary.length);
  assertEquals(count(html, /<table class="ranked">/), 3);
  const ranked = html.split('<table class="ranked">').slice(1).map((t) =>
    count(t.slice(0, t.indexOf("</table>")), /<tr>/) - 1
  );
  assertEquals(ranked, [model.busiest.cores.length, model.busiest.disks.length, 2]);
  assertEquals(count(html, /<tbody class="capacity-item">/), model.capacity!.length);
  assertEquals(count(html, /<tr class="recommendation">/), model.capacity!.length);
  assertEquals(rows('<table class="anomalies">'), model.anomalies!.length);
  assertEquals(count(block(html, '<ul class="notes">', "</ul>"), /<li>/), model.notes.length);
  // Ten summary rows in the fixture, four capacity rows: the counts above are not vacuous.
  assertEquals([model.summary.length, model.capacity!.length], [10, 4]);
});

Deno.test("html: one <svg> chart per series, each with its title", () => {
  const model = fixture();
  const html = renderHtml(model);
  assertEquals(count(html, /<svg /), model.charts.length);
  assertEquals(count(html, /<svg class="chart" role="img"/), 3);
  for (const c of model.charts) assertStringIncludes(html, `<title>${c.title} (${c.unit})</title>`);
  // The filesystem chart has the forecast, the CPU chart the anomaly window.
  assertEquals(count(html, /<path class="forecast-band"/), 1);
  assertEquals(count(html, /<g class="now">/), 1);
  assertEquals(count(html, /<g class="anomalies"/), 1);
});

Deno.test("html: charts sit two to a row, a lone chart takes the whole width", () => {
  const model = fixture();
  const html = renderHtml(model);
  assertStringIncludes(html, '<div class="charts charts-grid">');
  assertEquals(count(html, /<svg [^>]*viewBox="0 0 640 250"/), 3);
  model.charts = model.charts.slice(1, 2);
  const lone = renderHtml(model);
  assertStringIncludes(lone, '<div class="charts">');
  assertEquals(count(lone, /<svg [^>]*viewBox="0 0 960 280"/), 1);
});

Deno.test("html: self-contained: no script, no URL, no external asset", () => {
  const html = renderHtml(fixture()).toLowerCase();
  for (
    const banned of ["http://", "https://", "src=", "<script", "url(", "@import", "<link", "href="]
  ) {
    assert(!html.includes(banned), `contains ${banned}`);
  }
});

Deno.test("html: strings from the model are escaped", () => {
  const html = renderHtml(fixture());
  assertStringIncludes(html, '<span class="tag">/mnt/&lt;x&gt;&amp;&quot;y&quot;</span>');
  assertStringIncludes(html, '<div class="entity">/mnt/&lt;x&gt;&amp;&quot;y&quot;</div>');
  assert(!html.includes("/mnt/<x>"));
  assertStringIncludes(html, "(first at line 1042: &lt;truncated JSON&gt;)");

  // Every string of the model, times and enums included, with markup appended.
  const suffix = `<i class="x">&'"`;
  const evil = renderHtml(hostile(fixture(), suffix));
  assert(!evil.includes('<i class="x">'), "markup from the model reached the document");
  assert(!evil.includes("'\""), "a raw quote pair from the model reached the document");
  assertStringIncludes(evil, "&lt;i class=&quot;x&quot;&gt;&amp;&#39;&quot;");
  assertNoJunk(evil, "hostile model");
  // Unknown verdicts and gap reasons fall back to the grey badge.
  assertEquals(count(evil, /class="badge badge-(red|amber|green)"/), 0);
  assertEquals(count(evil, /class="badge badge-grey"/), 2 + 4);
});

Deno.test("html: no NaN, undefined or Invalid Date, even for an empty or broken model", () => {
  assertNoJunk(renderHtml(fixture()), "fixture");
  const empty: ReportModel = {
    version: 1,
    hosts: [],
    generatedAt: "2024-05-08T00:00:00Z",
    range: {
      from: "2024-05-08T00:00:00Z",
      to: "2024-05-08T00:00:00Z",
      resolutionSeconds: 0,
      source: "",
    },
    coverage: { coveredSeconds: 0, rangeSeconds: 0, gaps: [] },
    summary: [],
    busiest: { cores: [], disks: [], interfaces: [] },
    capacity: [],
    anomalies: [],
    charts: [{ id: "x", title: "Nothing", unit: "percent", points: [] }],
    notes: [],
  };
  const html = renderHtml(empty);
  assertNoJunk(html, "empty model");
  for (const id of SECTIONS) assertStringIncludes(html, `<section id="${id}">`);
  assertStringIncludes(html, "No gaps");
  assertStringIncludes(html, "No anomalies were found.");
  assertStringIncludes(html, "No remarks.");
  assertStringIncludes(html, "raw samples");

  const broken = fixture();
  broken.coverage.coveredSeconds = NaN;
  broken.summary[0].mean = NaN;
  broken.summary[0].thresholds[0].fraction = NaN;
  broken.capacity![0].growthCi = [NaN, Infinity];
  broken.capacity![0].fit.r2 = NaN;
  broken.anomalies![0].score = NaN;
  broken.range.from = "yesterday";
  assertNoJunk(renderHtml(broken), "model with non-finite numbers");
});

Deno.test("html: sections for capacity and anomalies only when the model has them", () => {
  const model = fixture();
  delete model.capacity;
  delete model.anomalies;
  const html = renderHtml(model);
  assert(!html.includes('<section id="capacity">') && !html.includes('<section id="anomalies">'));
  for (const id of ["coverage", "summary", "busiest", "charts", "notes"]) {
    assertStringIncludes(html, `<section id="${id}">`);
  }
});

Deno.test("html: figures are formatted by unit and right-aligned", () => {
  const html = renderHtml(fixture());
  const summary = block(html, '<table class="summary">', "</table>");
  const row = (metric: string, entity?: string) => {
    const rows = summary.split("<tr>").filter((r) =>
      r.includes(`<code>${metric.replaceAll("_", "_<wbr>")}</code>`) &&
      (entity === undefined || r.includes(`<span class="tag">${entity}</span>`))
    );
    assertEquals(rows.length, 1, `${metric} ${entity ?? ""}`);
    return [...rows[0].matchAll(/<td class="num[^"]*"[^>]*>(.*?)<\/td>/g)].map((m) => m[1]);
  };
  assertEquals(row("cpu_usage_percent").slice(0, 5), ["1.0%", "23.4%", "47.9%", "99.2%", "161"]);
  assertEquals(row("memory_used").slice(0, 4), ["3 GiB", "4.2 GiB", "5.5 GiB", "6 GiB"]);
  assertEquals(row("net_rx_bytes_per_second").slice(0, 4), [
    "1 MiB/s",
    "6.5 MiB/s",
    "12 MiB/s",
    "12.3 MiB/s",
  ]);
  assertEquals(row("disk_read_await_seconds").slice(0, 4), [
    "0.4 ms",
    "3.1 ms",
    "12.3 ms",
    "350 ms",
  ]);
  assertEquals(row("cpu_context_switches_per_second")[1], "4,521/s");
  assertEquals(row("swap_usage_percent").slice(0, 4), ["—", "—", "—", "—"]);
  // Time above thresholds: 2 h (1.2 %) above warning, 1 h above critical; no rule → dash.
  const cpu = row("cpu_usage_percent");
  assertStringIncludes(cpu[5], "2 h");
  assertStringIncludes(cpu[5], "1.2%");
  assertStringIncludes(cpu[6], "1 h");
  assertEquals(row("memory_used")[5], "—");
  assertStringIncludes(row("filesystem_usage_percent", "/")[5], "never");
  assertMatch(html, /\.num\{text-align:right;font-variant-numeric:tabular-nums/);
});

Deno.test("html: capacity verdicts are coloured by urgency, ETAs carry their range or reason", () => {
  const model = fixture();
  const html = renderHtml(model);
  const items = html.split('<tbody class="capacity-item">').slice(1);
  const badges = items.map((t) =>
    /<span class="badge badge-(\w+)">([^<]+)<\/span>/.exec(t)!.slice(1)
  );
  assertEquals(badges, [
    ["red", "will reach"], // 80 % in 2 days: within URGENT_DAYS
    ["amber", "will reach"], // 90 % in 93 days
    ["green", "not growing"],
    ["grey", "insufficient history"],
  ]);
  assert(URGENT_DAYS > 2 && URGENT_DAYS < 93);
  assertStringIncludes(
    items[0],
    '<strong class="date">2024-05-10</strong> <span class="rel">in 2 d</span>',
  );
  assertStringIncludes(
    items[0],
    '<span class="date">2024-05-09</span> – <span class="date">2024-05-10</span>',
  );
  assertStringIncludes(
    items[0],
    '<span class="date">2024-05-29</span> – <span class="date">later</span>',
  );
  assertStringIncludes(items[0], "+0.85 pp/day");
  assertStringIncludes(items[0], "+0.70 to +1.0 pp/day");
  assertStringIncludes(items[0], "R² 0.94");
  assertStringIncludes(items[1], "beyond the 180-day horizon");
  assertStringIncludes(items[2], "not growing</span></li>");
  assertStringIncludes(items[3], "Record for at least 3 days");
  assertStringIncludes(items[3], "6 points");

  const anomalies = block(html, '<table class="anomalies">', "</table>");
  assertStringIncludes(anomalies, "1 h 25 min");
  assertStringIncludes(anomalies, "2.6×");
  assertStringIncludes(anomalies, `width:65%`); // the meter fills at 4×
  assertStringIncludes(anomalies, "350 ms");
});

Deno.test("html: the same model gives the same document", () => {
  assertEquals(renderHtml(fixture()), renderHtml(fixture()));
});

// ---------------------------------------------------------------------------------------------
// Headless Chromium
// ---------------------------------------------------------------------------------------------

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

// Deno prints no reason for an ignored test, so the name carries it.
const chromiumNote = installed(CHROMIUM)
  ? ""
  : ` (ignored: ${CHROMIUM} is not installed; apt-get install chromium)`;

/**
 * Runs Chromium headless on one file. coreutils `timeout` puts it in a process group of its own
 * and kills the whole group (browser, renderer, zygote, crashpad) after 60 s, so nothing is left.
 */
async function chromium(
  profile: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const out = await new Deno.Command("timeout", {
    args: [
      "-k",
      "5s",
      "60s",
      CHROMIUM,
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-breakpad",
      "--disable-crash-reporter",
      `--user-data-dir=${profile}`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { HOME: profile },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout), err: dec.decode(out.stderr) };
}

Deno.test({
  name: `html: headless Chromium renders the report's tables and charts${chromiumNote}`,
  ignore: chromiumNote !== "",
  async fn() {
    const model = fixture();
    const dir = await Deno.makeTempDir({ prefix: "sysmon-report-html-" });
    try {
      const file = `${dir}/report.html`;
      await Deno.writeTextFile(file, renderHtml(model));
      const url = `file://${file}`;

      const dom = await chromium(`${dir}/profile`, ["--dump-dom", url]);
      assertEquals(dom.code, 0, dom.err);
      const text = dom.out;
      assertStringIncludes(text, "<h1>web-01.example.net</h1>");
      for (const cls of ["gaps", "summary", "ranked", "capacity", "anomalies"]) {
        assertStringIncludes(text, `<table class="${cls}">`);
      }
      assertEquals(count(text, /<svg /), model.charts.length);
      assertEquals(count(text, /<path class="series-line"/), model.charts.length);
      assertEquals(count(text, /<path class="forecast-band"/), 1);
      assertEquals(count(text, /<tbody class="capacity-item">/), model.capacity!.length);
      // The browser read the hostile mount point as text, not as markup.
      assertStringIncludes(text, '<span class="tag">/mnt/&lt;x&gt;&amp;"y"</span>');
      assert(!text.includes("<x>"));

      const artifacts = Deno.env.get("SYSMON_ARTIFACTS") ?? `${REPO}test-artifacts`;
      await Deno.mkdir(artifacts, { recursive: true });
      const png = `${artifacts}/report.png`;
      await Deno.remove(png).catch(() => {});
      const shot = await chromium(`${dir}/profile`, [
        `--screenshot=${png}`,
        "--window-size=1280,3000",
        "--hide-scrollbars",
        url,
      ]);
      assertEquals(shot.code, 0, shot.err);
      const bytes = await Deno.readFile(png);
      assertEquals([...bytes.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      assertEquals([view.getUint32(16), view.getUint32(20)], [1280, 3000], "PNG size");
      assert(bytes.length > 10_000, `screenshot is only ${bytes.length} bytes`);
      console.log(`screenshot: ${png} (${bytes.length} bytes)`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
