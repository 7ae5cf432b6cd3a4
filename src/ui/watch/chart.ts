/**
 * History charts of a 0–100 % series with asciichart: exactly width × rows characters, newest point
 * at the right edge, one column per sample, a gap where a value is missing (no rate that interval).
 */
// @ts-types="@types/asciichart"
import asciichart from "asciichart";
import type { Glyphs } from "./style.ts";

export interface Chart {
  /** Plain text rows (no escape codes), each exactly `width` characters. */
  lines: string[];
  /** Column where the plotted area starts (left of it: labels and the axis). */
  plotStart: number;
  /** Number of samples the plot area holds: the newest this many values are shown. */
  points: number;
}

const LABEL_WIDTH = 4; // "100%"

/** Points a chart of this width shows (so callers can take just that much history). */
export function chartPoints(width: number): number {
  return Math.max(0, width - LABEL_WIDTH - 1);
}

export function percentChart(
  values: readonly (number | null)[],
  width: number,
  rows: number,
  chartGlyphs: Glyphs["chart"],
): Chart {
  const points = chartPoints(width);
  const blank = {
    lines: Array(Math.max(0, rows)).fill(" ".repeat(Math.max(0, width))),
    plotStart: 0,
    points: 0,
  };
  if (rows < 2 || points < 2) return blank;
  const height = rows - 1; // asciichart draws height + 1 rows for a 0–100 range
  // Point 0 lands on the axis column (asciichart marks the first value there), so one extra value
  // is taken and its column is given back to the axis below.
  const series = lastPadded(values, points + 1);
  const filled = fillGaps(series);
  const plotted = asciichart.plot(filled, {
    min: 0,
    max: 100,
    height,
    offset: 2,
    symbols: chartGlyphs,
    format: (x: number, i: number) => axisLabel(x, i, height),
  });
  const grid = plotted.split("\n").map((line) => {
    // The label is one multi-character cell in asciichart's row; re-split as single characters.
    const chars = Array.from(line).slice(0, width);
    while (chars.length < width) chars.push(" ");
    return chars;
  });
  for (let r = 0; r < grid.length; r++) {
    grid[r][LABEL_WIDTH] = r === grid.length - 1 ? chartGlyphs[0] : chartGlyphs[1];
  }
  // Point i sits in column LABEL_WIDTH + i and draws the step from point i − 1 to point i.
  for (let i = 1; i < series.length; i++) {
    const col = LABEL_WIDTH + i;
    if (col >= width) break;
    const v = series[i];
    if (v != null && series[i - 1] != null) continue;
    for (const row of grid) row[col] = " ";
    if (v != null) grid[height - Math.round(clamp(v) * height / 100)][col] = chartGlyphs[4];
  }
  return { lines: grid.map((r) => r.join("")), plotStart: LABEL_WIDTH + 1, points };
}

/** Labels on the top, bottom and (when it falls on a row) middle rows only: less noise. */
function axisLabel(x: number, i: number, height: number): string {
  const show = i === 0 || i === height || (height % 2 === 0 && i === height / 2);
  return show ? `${Math.round(x)}%`.padStart(LABEL_WIDTH) : " ".repeat(LABEL_WIDTH);
}

function clamp(v: number): number {
  return Math.min(100, Math.max(0, v));
}

function lastPadded(values: readonly (number | null)[], n: number): (number | null)[] {
  const tail = values.slice(-n).map((v) => (v == null || !Number.isFinite(v) ? null : clamp(v)));
  return [...Array<null>(n - tail.length).fill(null), ...tail];
}

/** asciichart needs numbers everywhere; gaps take a neighbour's value and are blanked afterwards. */
function fillGaps(series: (number | null)[]): number[] {
  const first = series.find((v) => v != null) ?? 0;
  let last = first;
  return series.map((v) => (v == null ? last : (last = v)));
}
