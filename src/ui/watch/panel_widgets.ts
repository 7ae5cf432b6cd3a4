/** Pieces every panel uses: the drawing context, proportional bars, title rows, label/value grids. */
import type { Sample } from "../../core/model.ts";
import { type Canvas, fitText, type Rect, textWidth } from "./canvas.ts";
import { percentChart } from "./chart.ts";
import type { PanelNeed } from "./layout.ts";
import type { Grade, RenderOptions, WatchState } from "./state.ts";
import { type Glyphs, glyphs, gradeStyle, S, type Style } from "./style.ts";

export interface PanelContext {
  state: WatchState;
  opts: RenderOptions;
  g: Glyphs;
  sample: Sample | null;
  /** The grader's verdict; "ok" when the value is missing or the grader fails. */
  gradeOf(metric: string, value: number | null, entity?: string): Grade;
  /** The grader's verdict as a style (green/yellow/red); dim when the value is missing. */
  grade(metric: string, value: number | null, entity?: string): Style;
}

export interface Panel {
  need(ctx: PanelContext, width: number): PanelNeed;
  draw(c: Canvas, r: Rect, ctx: PanelContext): void;
}

export function makeContext(state: WatchState, opts: RenderOptions): PanelContext {
  const g = glyphs(opts.ascii);
  return {
    state,
    opts,
    g,
    sample: state.sample,
    gradeOf(metric, value, entity) {
      if (value == null) return "ok";
      try {
        return opts.grader(metric, value, entity);
      } catch {
        return "ok"; // a faulty grader costs colour, not the frame
      }
    },
    grade(metric, value, entity) {
      return value == null ? S.dim : gradeStyle(this.gradeOf(metric, value, entity));
    },
  };
}

export interface Segment {
  /** Percent of the bar's full length (0–100); null draws nothing. */
  value: number | null;
  glyph: string;
  style: Style;
}

/**
 * A bar `width` cells wide including its brackets; segments are stacked in order and each covers
 * round(cumulative % × inner width) cells, so lengths stay proportional and never overflow.
 */
export function drawBar(
  c: Canvas,
  x: number,
  y: number,
  width: number,
  segments: Segment[],
  g: Glyphs,
) {
  const inner = width - 2;
  if (inner < 1) return;
  c.text(x, y, g.bar.left, S.dim);
  let cumulative = 0;
  let drawn = 0;
  for (const seg of segments) {
    if (seg.value == null || !(seg.value > 0)) continue;
    cumulative = Math.min(100, cumulative + seg.value);
    const end = Math.round(cumulative / 100 * inner);
    if (end > drawn) c.text(x + 1 + drawn, y, seg.glyph.repeat(end - drawn), seg.style);
    drawn = Math.max(drawn, end);
  }
  if (drawn < inner) c.text(x + 1 + drawn, y, g.bar.empty.repeat(inner - drawn), S.dim);
  c.text(x + inner + 1, y, g.bar.right, S.dim);
}

export interface Span {
  text: string;
  style?: Style;
}

/**
 * The first row of a panel: the title, then spans that fit (in order, dropped once one does not),
 * and `right` right-aligned when room is left.
 */
export function drawTitleRow(c: Canvas, r: Rect, title: string, spans: Span[], right?: Span) {
  let x = r.x + c.text(r.x, r.y, fitText(title, r.width, "…"), S.title, r.width);
  for (const span of spans) {
    const w = textWidth(span.text) + 2;
    if (x + w > r.x + r.width) break;
    x += 2;
    x += c.text(x, r.y, span.text, span.style ?? S.bold);
  }
  if (right && textWidth(right.text) + 2 <= r.x + r.width - x) {
    c.text(r.x + r.width - textWidth(right.text), r.y, right.text, right.style ?? S.dim);
  }
}

export interface LabelValue {
  label: string;
  value: string;
  style?: Style;
}

/** How many label/value cells fit per row at this width. */
export function gridColumns(items: LabelValue[], width: number): number {
  const cell = gridCellWidth(items);
  return Math.max(1, Math.min(items.length, Math.floor((width + 2) / (cell + 2))));
}

function gridCellWidth(items: LabelValue[]): number {
  const lw = Math.max(0, ...items.map((i) => textWidth(i.label)));
  const vw = Math.max(0, ...items.map((i) => textWidth(i.value)));
  return lw + 1 + vw;
}

/** Label/value cells in aligned columns, row-major, at most `rows` rows. Returns rows used. */
export function drawGrid(c: Canvas, r: Rect, items: LabelValue[], rows: number): number {
  if (items.length === 0 || rows <= 0) return 0;
  const perRow = gridColumns(items, r.width);
  const lw = Math.max(...items.map((i) => textWidth(i.label)));
  const vw = Math.max(...items.map((i) => textWidth(i.value)));
  const cellW = Math.floor((r.width + 2) / perRow) - 2;
  const used = Math.min(rows, Math.ceil(items.length / perRow));
  for (let i = 0; i < Math.min(items.length, used * perRow); i++) {
    const x = r.x + (i % perRow) * (cellW + 2);
    const y = r.y + Math.floor(i / perRow);
    const item = items[i];
    c.text(x, y, item.label, S.dim, lw);
    const value = item.value.padStart(vw);
    c.text(x + lw + 1, y, value, item.style ?? S.none, Math.max(0, cellW - lw - 1));
  }
  return used;
}

/** Rows a grid needs at this width. */
export function gridRows(items: LabelValue[], width: number): number {
  return items.length === 0 ? 0 : Math.ceil(items.length / gridColumns(items, width));
}

/** A 0–100 % history chart filling `r`: dim axis and labels, the line in `lineStyle`. */
export function drawHistoryChart(
  c: Canvas,
  r: Rect,
  values: (number | null)[],
  lineStyle: Style,
  g: Glyphs,
) {
  const chart = percentChart(values, r.width, r.height, g.chart);
  chart.lines.forEach((line, i) => {
    c.text(r.x, r.y + i, line.slice(0, chart.plotStart), S.dim);
    c.text(r.x + chart.plotStart, r.y + i, line.slice(chart.plotStart), lineStyle);
  });
}

/** Chart rows that feel right for a terminal of this height: taller terminals, taller charts. */
export function chartWant(height: number): number {
  return Math.min(20, Math.max(3, Math.round((height - 2) / 5)));
}

export const CHART_MIN_ROWS = 2;
