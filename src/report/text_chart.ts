/**
 * A report chart for the terminal with asciichart: the series' points resampled to the width, and
 * a capacity forecast drawn past "now" from where the data ends. asciichart cannot skip missing
 * values (a NaN poisons its scale), so gaps carry the previous value (the coverage table lists the
 * gaps), and the forecast is a second plot on the same scale whose columns after "now" are laid
 * over the first.
 */
// @ts-types="@types/asciichart"
import asciichart from "asciichart";
import { formatValue } from "../alert/template.ts";
import type { ChartSeries } from "./model.ts";

const LABEL = 10;

export function chartLines(input: ChartSeries, width: number, height: number): string[] {
  // The chart spans the recorded part only: nothing is drawn where there was never data.
  const firstKnown = input.points.findIndex(([, v]) => v !== null);
  const lastKnown = input.points.findLastIndex(([, v]) => v !== null);
  const chart = firstKnown < 0
    ? input
    : { ...input, points: input.points.slice(firstKnown, lastKnown + 1) };
  const columns = Math.max(10, width - LABEL - 2);
  const future = chart.forecast?.length ? Math.max(4, Math.round(columns / 4)) : 0;
  const past = resample(chart.points.map(([, v]) => v), columns - future);
  const forecast = chart.forecast?.length ? resample(chart.forecast.map(([, v]) => v), future) : [];
  const known = [...past, ...forecast].filter((v): v is number => v !== null);
  if (known.length === 0) return [`${chart.title}: no data`];
  const levels = (chart.thresholds ?? []).map((t) => t.value);
  let min = Math.min(...known);
  let max = Math.max(...known, ...levels.filter((l) => l <= Math.max(...known) * 1.5));
  if (chart.unit === "percent") {
    min = Math.min(min, 0);
    max = Math.max(max, Math.min(100, max));
  }
  if (max === min) max = min + 1;
  const cfg = {
    min,
    max,
    height: Math.max(2, height - 1),
    format: (x: number) => axisLabel(x, chart.unit, max - min).padStart(LABEL),
  };
  const history = carry(past);
  let lines = asciichart.plot(history, cfg).split("\n");
  if (forecast.length) {
    const last = history[history.length - 1];
    const ahead = asciichart.plot([...history.map(() => last), ...carry(forecast, last)], cfg)
      .split("\n");
    const cut = LABEL + 2 + history.length;
    lines = lines.map((line, i) => {
      const a = Array.from(line);
      const b = Array.from(ahead[i] ?? "");
      return [...a.slice(0, cut), ...b.slice(cut)].join("");
    });
  }
  const first = chart.points[0]?.[0];
  const lastT = chart.points[chart.points.length - 1]?.[0];
  const end = chart.forecast?.length ? chart.forecast[chart.forecast.length - 1][0] : lastT;
  const axis = first !== undefined && end !== undefined
    ? timeAxis(first, end, lastT, LABEL + 2, columns, forecast.length > 0)
    : "";
  return [chart.title + (forecast.length ? " (after ^now: forecast)" : ""), ...lines, axis];
}

/** `values` averaged (or spread) onto `n` columns; a column with no value is null. */
function resample(values: readonly (number | null)[], n: number): (number | null)[] {
  if (n <= 0) return [];
  const out: (number | null)[] = [];
  for (let c = 0; c < n; c++) {
    const a = Math.floor((c * values.length) / n);
    const b = Math.max(a + 1, Math.floor(((c + 1) * values.length) / n));
    let sum = 0;
    let count = 0;
    for (let i = a; i < b && i < values.length; i++) {
      const v = values[i];
      if (v !== null && Number.isFinite(v)) {
        sum += v;
        count++;
      }
    }
    out.push(count ? sum / count : null);
  }
  return out;
}

/** Gaps filled with the previous value (the first known one before the start). */
function carry(values: readonly (number | null)[], start?: number): number[] {
  let prev = start ?? values.find((v): v is number => v !== null) ?? 0;
  return values.map((v) => (v === null ? prev : (prev = v)));
}

function timeAxis(
  from: number,
  to: number,
  now: number | undefined,
  indent: number,
  columns: number,
  withNow: boolean,
): string {
  const fmt = (t: number) => new Date(t).toISOString().slice(0, 16).replace("T", " ");
  const left = fmt(from);
  const right = fmt(to);
  let axis = " ".repeat(indent) + left;
  if (withNow && now !== undefined) {
    const at = Math.round(((now - from) / Math.max(1, to - from)) * columns);
    const pad = Math.max(1, at - left.length);
    axis += " ".repeat(pad) + "^now";
  }
  const room = indent + columns - axis.length - right.length;
  return axis + " ".repeat(Math.max(1, room)) + right + " UTC";
}

/** An axis label: the unit's format, with more digits when the whole axis spans little. */
function axisLabel(x: number, unit: string, span: number): string {
  if (unit === "percent" && span < 2) return `${x.toFixed(2)}%`;
  if ((unit === "count" || unit === "1/s") && span < 2) return x.toFixed(2);
  return formatValue(x, unit);
}
