/**
 * An inline SVG line chart of one report series: labelled axes (UTC time, value in its unit), the
 * line broken where values are null, threshold lines, shaded anomaly windows, and past the last
 * reading the forecast as a dashed line inside its shaded confidence band, with a "now" marker.
 *
 * The SVG is meant to sit inside an HTML document, so it carries no xmlns (the HTML parser puts it
 * in the SVG namespace) and no ids; colours are presentation attributes so it prints as it shows.
 * Pure and deterministic: the same series gives the same text, and every coordinate is finite.
 */
import type { ChartSeries } from "./model.ts";
import { formatUtc, formatValue } from "./units.ts";

/** Escapes text for HTML and XML alike (element content and quoted attribute values). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export interface ChartSize {
  width: number;
  height: number;
}

/** Where the plot area sits inside the viewBox. */
export interface PlotRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface Tick {
  /** Pixel position along the axis. */
  at: number;
  /** One or two lines of label text. */
  label: string[];
}

/** Everything lineChartSvg draws, in viewBox pixels; exported so tests can check the mapping. */
export interface ChartGeometry {
  width: number;
  height: number;
  plot: PlotRect;
  /** The data domain after rounding to nice ticks. */
  domain: { t0: number; t1: number; lo: number; hi: number };
  xTicks: Tick[];
  yTicks: Tick[];
  /** Unbroken runs of readings (two or more points) and lone readings between nulls. */
  segments: [number, number][][];
  dots: [number, number][];
  /** The forecast's centre line (starting at the last reading when there is one) and its band. */
  forecastLine: [number, number][];
  band: [number, number][];
  /** x of the last reading's time: the boundary between measured and forecast. */
  nowX: number | null;
  thresholds: { y: number; label: string; severity?: "warning" | "critical"; value: number }[];
  anomalies: { x0: number; x1: number }[];
  empty: boolean;
}

const COLOR = {
  text: "#4b5563",
  grid: "#e5e7eb",
  axis: "#9ca3af",
  line: "#2563eb",
  forecast: "#7c3aed",
  anomaly: "#dc2626",
  warning: "#d97706",
  critical: "#dc2626",
  threshold: "#6b7280",
  now: "#111827",
};

const FONT_SIZE = 12;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  28 * DAY,
  91 * DAY,
  364 * DAY,
];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** A number for an attribute, to 0.1 px; a non-finite one is a bug here, not bad input. */
function num(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`svg: non-finite coordinate ${n}`);
  const r = Math.round(n * 10) / 10;
  return String(r === 0 ? 0 : r);
}

/** The step of about `target` intervals over `span`: 1, 2, 2.5 or 5 times a power of ten. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const f = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return f * mag;
}

/** How the value axis prints numbers: a divisor and a suffix chosen once for the whole axis. */
function axisUnit(unit: string, maxAbs: number): { divisor: number; suffix: string } {
  if (unit === "percent") return { divisor: 1, suffix: "%" };
  if (unit === "bytes" || unit === "bytes/s") {
    let i = 0;
    while (maxAbs / 1024 ** i >= 1024 && i < IEC.length - 1) i++;
    return { divisor: 1024 ** i, suffix: ` ${IEC[i]}${unit === "bytes/s" ? "/s" : ""}` };
  }
  if (unit === "seconds") {
    if (maxAbs < 1) return { divisor: 0.001, suffix: " ms" };
    if (maxAbs < 120) return { divisor: 1, suffix: " s" };
    if (maxAbs < 7200) return { divisor: 60, suffix: " min" };
    if (maxAbs < 172_800) return { divisor: 3600, suffix: " h" };
    return { divisor: 86_400, suffix: " d" };
  }
  const rate = unit === "1/s"
    ? "/s"
    : unit === "count" || unit === "ratio" || !unit
    ? ""
    : ` ${unit}`;
  for (const [d, p] of [[1e9, "G"], [1e6, "M"], [1e4, "k"]] as const) {
    if (maxAbs >= d) return { divisor: d, suffix: `${p}${rate}` };
  }
  return { divisor: 1, suffix: rate };
}

function decimalsOf(step: number): number {
  for (let d = 0; d < 4; d++) {
    if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  }
  return 4;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

function timeLabel(t: number, step: number, first: boolean): string[] {
  const d = new Date(t);
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  if (step >= DAY) return [first ? `${day} ${d.getUTCFullYear()}` : day];
  const clock = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  return first || (d.getUTCHours() === 0 && d.getUTCMinutes() === 0) ? [clock, day] : [clock];
}

/** UTC-aligned time ticks, at most about `target` of them. */
export function timeTicks(
  t0: number,
  t1: number,
  target: number,
): { t: number; label: string[] }[] {
  const span = t1 - t0;
  const step = TIME_STEPS.find((s) => span / s <= target) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const ticks: { t: number; label: string[] }[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    ticks.push({ t, label: timeLabel(t, step, ticks.length === 0) });
  }
  return ticks;
}

// Loops rather than Math.min(...xs): a month of raw samples overflows the argument stack.
function minOf(xs: number[]): number {
  let m = Infinity;
  for (const x of xs) if (x < m) m = x;
  return m;
}

function maxOf(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/**
 * Thins a run of points to at most four per pixel column (first, lowest, highest, last), which
 * draws the same picture as all of them: peaks and dips survive, the SVG stays small.
 */
export function thinRun(run: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  while (i < run.length) {
    const column = Math.floor(run[i][0]);
    let j = i;
    let low = i;
    let high = i;
    while (j + 1 < run.length && Math.floor(run[j + 1][0]) === column) {
      j++;
      if (run[j][1] < run[low][1]) low = j;
      if (run[j][1] > run[high][1]) high = j;
    }
    for (const k of [...new Set([i, low, high, j])].sort((a, b) => a - b)) out.push(run[k]);
    i = j + 1;
  }
  return out;
}

interface CleanSeries {
  points: [number, number | null][];
  forecast: [number, number, number, number][];
  thresholds: { value: number; label: string; severity?: "warning" | "critical" }[];
  anomalies: [number, number][];
}

/** Drops what cannot be drawn (non-finite times and numbers) so that the maths stays finite. */
function clean(series: ChartSeries): CleanSeries {
  const finite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n);
  return {
    points: series.points.filter(([t]) => finite(t)).map(([t, v]) => [t, finite(v) ? v : null]),
    forecast: (series.forecast ?? []).filter((f) => f.every(finite)),
    thresholds: (series.thresholds ?? []).filter((t) => finite(t.value)),
    anomalies: (series.anomalies ?? []).filter(([a, b]) => finite(a) && finite(b) && b >= a),
  };
}

/** Lays the chart out: domain, ticks and every shape in viewBox pixels. */
export function chartGeometry(series: ChartSeries, size: ChartSize): ChartGeometry {
  const width = Math.max(200, Number.isFinite(size.width) ? size.width : 0);
  const height = Math.max(120, Number.isFinite(size.height) ? size.height : 0);
  const s = clean(series);
  const values = s.points.flatMap(([, v]) => (v == null ? [] : [v]));
  const empty = values.length === 0 && s.forecast.length === 0;

  // Time domain: the readings and the forecast.
  const times = [...s.points.map(([t]) => t), ...s.forecast.map(([t]) => t)];
  let t0 = times.length ? minOf(times) : 0;
  let t1 = times.length ? maxOf(times) : HOUR;
  if (t1 - t0 < MINUTE) {
    t0 -= 30 * MINUTE;
    t1 += 30 * MINUTE;
  }

  // Value domain: readings, forecast centre and thresholds; the band may widen it only a little
  // (a wide interval far ahead would otherwise flatten everything else).
  const core = [...values, ...s.forecast.map((f) => f[1]), ...s.thresholds.map((t) => t.value)];
  let lo = core.length ? minOf(core) : 0;
  let hi = core.length ? maxOf(core) : 1;
  if (s.forecast.length) {
    const slack = 0.25 * Math.max(hi - lo, Math.abs(hi), 1e-9);
    hi = Math.max(hi, Math.min(maxOf(s.forecast.map((f) => f[3])), hi + slack));
    lo = Math.min(lo, Math.max(minOf(s.forecast.map((f) => f[2])), lo - slack));
  }
  if (lo >= 0) lo = 0; // readings of non-negative quantities are drawn from zero
  if (series.unit === "percent" && (values.length ? maxOf(values) : 0) <= 100) {
    hi = Math.min(hi, 100);
  }
  if (hi - lo <= 0) hi = lo + (Math.abs(lo) > 0 ? Math.abs(lo) : 1);

  const axis = axisUnit(series.unit, Math.max(Math.abs(lo), Math.abs(hi)));
  const plotHeightGuess = height - 14 - 34;
  const step = niceStep((hi - lo) / axis.divisor, Math.max(2, Math.round(plotHeightGuess / 45)));
  const sLo = Math.floor(lo / axis.divisor / step + 1e-9) * step;
  const sHi = Math.ceil(hi / axis.divisor / step - 1e-9) * step;
  lo = sLo * axis.divisor;
  hi = sHi * axis.divisor;
  const decimals = decimalsOf(step);
  const yTickValues: number[] = [];
  for (let k = 0; sLo + k * step <= sHi + step * 1e-6; k++) yTickValues.push(sLo + k * step);
  const yLabels = yTickValues.map((v) =>
    `${Math.abs(v) < step * 1e-6 ? "0" : v.toFixed(decimals)}${axis.suffix}`
  );

  const longest = Math.max(...yLabels.map((l) => l.length));
  const plot: PlotRect = {
    left: Math.max(44, Math.round(longest * FONT_SIZE * 0.6) + 14),
    top: 18,
    right: width - 12,
    bottom: height - 34,
  };
  const x = (t: number) => plot.left + ((t - t0) / (t1 - t0)) * (plot.right - plot.left);
  const y = (v: number) => plot.bottom - ((v - lo) / (hi - lo)) * (plot.bottom - plot.top);
  const yClamped = (v: number) => Math.min(plot.bottom, Math.max(plot.top, y(v)));

  const segments: [number, number][][] = [];
  const dots: [number, number][] = [];
  let run: [number, number][] = [];
  const flush = () => {
    if (run.length === 1) dots.push(run[0]);
    else if (run.length > 1) segments.push(thinRun(run));
    run = [];
  };
  for (const [t, v] of s.points) {
    if (v == null) flush();
    else run.push([x(t), y(v)]);
  }
  flush();

  const last = s.points.length ? s.points[s.points.length - 1] : null;
  const anchor = last && last[1] != null ? [x(last[0]), y(last[1])] as [number, number] : null;
  const ahead = s.forecast.filter(([t]) => !last || t >= last[0]);
  const forecastLine = ahead.map(([t, v]) => [x(t), yClamped(v)] as [number, number]);
  const band = [
    ...ahead.map(([t, , , h]) => [x(t), yClamped(h)] as [number, number]),
    ...ahead.slice().reverse().map(([t, , l]) => [x(t), yClamped(l)] as [number, number]),
  ];
  // A forecast that starts later than the last reading is joined to it so that the eye follows
  // on; one that starts at the same instant (a trend's own value at "now") is drawn as it is.
  if (anchor && ahead.length && last && ahead[0][0] > last[0]) {
    forecastLine.unshift(anchor);
    band.unshift(anchor);
  }

  const xTicks = timeTicks(t0, t1, Math.max(2, Math.floor((plot.right - plot.left) / 110)))
    .map(({ t, label }) => ({ at: x(t), label }));
  const yTicks = yTickValues.map((v, i) => ({ at: y(v * axis.divisor), label: [yLabels[i]] }));

  return {
    width,
    height,
    plot,
    domain: { t0, t1, lo, hi },
    xTicks,
    yTicks,
    segments,
    dots,
    forecastLine,
    band: ahead.length ? band : [],
    nowX: ahead.length && last ? x(last[0]) : null,
    thresholds: s.thresholds
      .filter((t) => t.value >= lo && t.value <= hi)
      .map((t) => ({ y: y(t.value), label: t.label, severity: t.severity, value: t.value })),
    anomalies: s.anomalies
      .filter(([a, b]) => b >= t0 && a <= t1)
      .map(([a, b]) => ({ x0: x(Math.max(a, t0)), x1: x(Math.min(b, t1)) })),
    empty,
  };
}

function pathOf(points: [number, number][]): string {
  return points.map(([px, py], i) => `${i === 0 ? "M" : "L"}${num(px)} ${num(py)}`).join("");
}

/** A sentence for screen readers and the tooltip: what the chart shows. */
function describe(series: ChartSeries, g: ChartGeometry): string {
  const s = clean(series);
  const values = s.points.flatMap(([, v]) => (v == null ? [] : [v]));
  if (g.empty) return `${series.title}: no readings in this range.`;
  const iso = (t: number) => formatUtc(new Date(t).toISOString());
  const parts: string[] = [];
  if (values.length) {
    parts.push(
      `${values.length} readings from ${iso(s.points[0][0])} to ${
        iso(s.points[s.points.length - 1][0])
      }, lowest ${formatValue(minOf(values), series.unit)}, highest ${
        formatValue(maxOf(values), series.unit)
      }.`,
    );
  }
  if (s.forecast.length) {
    const [t, v, l, h] = s.forecast[s.forecast.length - 1];
    parts.push(
      `Forecast to ${iso(t)}: ${formatValue(v, series.unit)} (between ${
        formatValue(l, series.unit)
      } and ${formatValue(h, series.unit)}).`,
    );
  }
  if (s.thresholds.length) {
    parts.push(
      `Thresholds: ${
        s.thresholds.map((t) => `${t.label} at ${formatValue(t.value, series.unit)}`).join(", ")
      }.`,
    );
  }
  if (s.anomalies.length) parts.push(`${s.anomalies.length} anomaly window(s) shaded.`);
  return `${series.title}: ${parts.join(" ")}`;
}

/** The chart as an `<svg>` element to embed in HTML. */
export function lineChartSvg(series: ChartSeries, opts: ChartSize): string {
  const g = chartGeometry(series, opts);
  const { plot } = g;
  const out: string[] = [];
  out.push(
    `<svg class="chart" role="img" viewBox="0 0 ${num(g.width)} ${num(g.height)}" width="${
      num(g.width)
    }" height="${num(g.height)}" font-size="${FONT_SIZE}" font-family="system-ui, sans-serif">`,
    `<title>${escapeXml(`${series.title} (${series.unit})`)}</title>`,
    `<desc>${escapeXml(describe(series, g))}</desc>`,
  );

  // Grid and value axis.
  out.push(`<g class="axis-y" fill="${COLOR.text}" text-anchor="end">`);
  for (const t of g.yTicks) {
    out.push(
      `<line x1="${num(plot.left)}" x2="${num(plot.right)}" y1="${num(t.at)}" y2="${
        num(t.at)
      }" stroke="${COLOR.grid}" stroke-width="1"/>`,
      `<text x="${num(plot.left - 6)}" y="${num(t.at + 4)}">${escapeXml(t.label[0])}</text>`,
    );
  }
  out.push(`</g>`);

  // Anomaly windows under everything else (at least 2 px wide so a short one stays visible).
  if (g.anomalies.length) {
    out.push(`<g class="anomalies" fill="${COLOR.anomaly}" fill-opacity="0.12">`);
    for (const a of g.anomalies) {
      const w = Math.max(2, a.x1 - a.x0);
      const x0 = Math.min(a.x0, plot.right - w);
      out.push(
        `<rect x="${num(x0)}" y="${num(plot.top)}" width="${num(w)}" height="${
          num(plot.bottom - plot.top)
        }"/>`,
      );
    }
    out.push(`</g>`);
  }

  // Time axis.
  out.push(
    `<g class="axis-x" fill="${COLOR.text}" text-anchor="middle">`,
    `<line x1="${num(plot.left)}" x2="${num(plot.right)}" y1="${num(plot.bottom)}" y2="${
      num(plot.bottom)
    }" stroke="${COLOR.axis}" stroke-width="1"/>`,
  );
  for (const t of g.xTicks) {
    // Labels at the edges grow inwards so that they stay inside the viewBox.
    const anchor = t.at < plot.left + 36
      ? ` text-anchor="start"`
      : t.at > plot.right - 36
      ? ` text-anchor="end"`
      : "";
    out.push(
      `<line x1="${num(t.at)}" x2="${num(t.at)}" y1="${num(plot.bottom)}" y2="${
        num(plot.bottom + 4)
      }" stroke="${COLOR.axis}" stroke-width="1"/>`,
      `<text x="${num(t.at)}" y="${num(plot.bottom + 16)}"${anchor}>${escapeXml(t.label[0])}${
        t.label[1] ? `<tspan x="${num(t.at)}" dy="13">${escapeXml(t.label[1])}</tspan>` : ""
      }</text>`,
    );
  }
  out.push(
    `<text x="${num(plot.left - 6)}" y="${num(plot.bottom + 16)}" text-anchor="end">UTC</text>`,
    `</g>`,
  );

  if (g.empty) {
    out.push(
      `<text class="no-data" x="${num((plot.left + plot.right) / 2)}" y="${
        num((plot.top + plot.bottom) / 2)
      }" text-anchor="middle" fill="${COLOR.text}">No readings in this range</text>`,
    );
  }

  // Forecast band and line, then the readings on top.
  if (g.band.length) {
    out.push(
      `<path class="forecast-band" d="${pathOf(g.band)}Z" fill="${COLOR.forecast}" ` +
        `fill-opacity="0.15" stroke="none"/>`,
    );
  }
  for (const seg of g.segments) {
    const base = `L${num(seg[seg.length - 1][0])} ${num(plot.bottom)}L${num(seg[0][0])} ${
      num(plot.bottom)
    }Z`;
    out.push(
      `<path class="series-area" d="${pathOf(seg)}${base}" fill="${COLOR.line}" ` +
        `fill-opacity="0.08" stroke="none"/>`,
    );
  }
  if (g.segments.length) {
    out.push(
      `<path class="series-line" d="${
        g.segments.map(pathOf).join("")
      }" fill="none" stroke="${COLOR.line}" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  for (const [px, py] of g.dots) {
    out.push(
      `<circle class="series-dot" cx="${num(px)}" cy="${num(py)}" r="2" fill="${COLOR.line}"/>`,
    );
  }
  if (g.forecastLine.length > 1) {
    out.push(
      `<path class="forecast-line" d="${
        pathOf(g.forecastLine)
      }" fill="none" stroke="${COLOR.forecast}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
  }

  // Threshold lines with their labels at the right end, haloed so the line does not cross them.
  for (const t of g.thresholds) {
    // The model is data read from JSON: an unknown severity draws as a plain threshold.
    const color = t.severity === "warning"
      ? COLOR.warning
      : t.severity === "critical"
      ? COLOR.critical
      : COLOR.threshold;
    out.push(
      `<g class="threshold">`,
      `<line x1="${num(plot.left)}" x2="${num(plot.right)}" y1="${num(t.y)}" y2="${
        num(t.y)
      }" stroke="${color}" stroke-width="1.2" stroke-dasharray="3 3"/>`,
      `<text x="${num(plot.right - 4)}" y="${num(t.y - 4)}" text-anchor="end" fill="${color}" ` +
        `stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(t.label)}</text>`,
      `</g>`,
    );
  }

  if (g.nowX != null) {
    out.push(
      `<g class="now">`,
      `<line x1="${num(g.nowX)}" x2="${num(g.nowX)}" y1="${num(plot.top)}" y2="${
        num(plot.bottom)
      }" stroke="${COLOR.now}" stroke-width="1" stroke-dasharray="2 3"/>`,
      `<text x="${num(g.nowX)}" y="${
        num(plot.top - 5)
      }" text-anchor="middle" fill="${COLOR.now}">now</text>`,
      `</g>`,
    );
  }

  out.push(`</svg>`);
  return out.join("");
}
