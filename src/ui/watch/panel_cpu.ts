/**
 * CPU panel: the split of the last interval (usr/sys/io/steal) as a stacked bar, per-core bars (a
 * grid of labelled bars, or one character per core when they would not fit), pressure, and a
 * history chart of cpu_usage_percent.
 */
import { naturalCompare } from "../natural.ts";
import type { EntityPart } from "../../core/model.ts";
import { type Canvas, type Rect, textWidth } from "./canvas.ts";
import {
  CHART_MIN_ROWS,
  chartWant,
  drawBar,
  drawHistoryChart,
  drawTitleRow,
  type Panel,
  type PanelContext,
  type Segment,
  type Span,
} from "./panel_widgets.ts";
import { S } from "./style.ts";
import { formatPct, num, sumOrNull } from "./units.ts";

const GAP = 2;
const PCT = 4; // "100%"

/** usr = user + nice, sys = system + irq + softirq, io = iowait, st = steal (shares of all CPU time). */
function totalSplit(ctx: PanelContext): Segment[] {
  const m = ctx.sample?.metrics ?? {};
  const b = ctx.g.bar;
  return [
    {
      value: sumOrNull(m.cpu_user_percent, m.cpu_nice_percent ?? 0),
      glyph: b.user,
      style: S.green,
    },
    {
      value: sumOrNull(m.cpu_system_percent, m.cpu_irq_percent ?? 0, m.cpu_softirq_percent ?? 0),
      glyph: b.system,
      style: S.red,
    },
    { value: num(m.cpu_iowait_percent), glyph: b.iowait, style: S.blue },
    { value: num(m.cpu_steal_percent), glyph: b.steal, style: S.magenta },
  ];
}

/** Per core the model has user, system, iowait and steal; what else is busy (nice, irq) counts as sys. */
function coreSplit(ctx: PanelContext, core: EntityPart): Segment[] {
  const b = ctx.g.bar;
  const usage = num(core.core_usage_percent);
  const user = num(core.core_user_percent);
  const steal = num(core.core_steal_percent) ?? 0;
  const sys = usage == null || user == null ? null : Math.max(0, usage - user - steal);
  return [
    { value: user, glyph: b.user, style: S.green },
    { value: sys, glyph: b.system, style: S.red },
    { value: num(core.core_iowait_percent), glyph: b.iowait, style: S.blue },
    { value: steal, glyph: b.steal, style: S.magenta },
  ];
}

function cores(ctx: PanelContext): [string, EntityPart][] {
  return Object.entries(ctx.sample?.cores ?? {}).sort(([a], [b]) => naturalCompare(a, b));
}

const coreLabel = (name: string) => name.replace(/^cpu/, "");

/**
 * Core grid geometry for a cell of `bar` inner bar cells: cells per row (balanced, 4 + 4 rather
 * than 5 + 3), rows, and the cell width once stretched over the row.
 */
function coreGrid(n: number, labelWidth: number, width: number, bar: number) {
  const cellMin = labelWidth + 1 + bar + 2 + 1 + PCT;
  const fit = Math.max(1, Math.floor((width + GAP) / (cellMin + GAP)));
  const rows = n === 0 ? 0 : Math.ceil(n / Math.min(n, fit));
  const perRow = rows === 0 ? 0 : Math.ceil(n / rows);
  return { perRow, rows, cell: perRow ? Math.floor((width + GAP) / perRow) - GAP : 0 };
}

/** Bar cells of a comfortable and of the narrowest readable core cell. */
const CORE_BAR = { comfortable: 10, narrowest: 4 };

/** One character per core, in groups of 8 after a "cores" label: rows needed. */
function sparkRows(n: number, width: number): number {
  return Math.ceil(n / sparkPerRow(width));
}

const SPARK_LABEL = 6; // "cores "

function sparkPerRow(width: number): number {
  return Math.max(1, Math.floor((width - SPARK_LABEL + 1) / 9)) * 8;
}

function hasPressure(ctx: PanelContext): boolean {
  const m = ctx.sample?.metrics ?? {};
  return ["cpu", "memory", "io"].some((r) => num(m[`pressure_${r}_some_avg10`]) != null);
}

export const cpuPanel: Panel = {
  need(ctx, width) {
    const list = cores(ctx);
    const lw = Math.max(1, ...list.map(([n]) => coreLabel(n).length));
    const grid = coreGrid(list.length, lw, width, CORE_BAR.comfortable);
    const want = 2 + grid.rows + (hasPressure(ctx) ? 1 : 0) + chartWant(ctx.opts.height);
    return { min: 3, want, max: Infinity, weight: 2, spill: 2 };
  },

  draw(c, r, ctx) {
    const m = ctx.sample?.metrics ?? {};
    const split = totalSplit(ctx);
    const names = ["usr", "sys", "io", "st"];
    const legend: Span[] = split
      .map((seg, i) => ({ seg, name: names[i] }))
      .filter(({ seg, name }) => name !== "st" || (seg.value ?? 0) > 0) // steal only on VMs that have it
      .map(({ seg, name }) => ({
        text: `${seg.glyph}${name} ${formatPct(seg.value, ctx.g.dash)}`,
        style: seg.style,
      }));
    const list = cores(ctx);
    drawTitleRow(c, r, "CPU", legend, { text: `${list.length} cores` });
    if (r.height < 2) return;

    const usage = num(m.cpu_usage_percent);
    const pct = formatPct(usage, ctx.g.dash).padStart(6);
    c.text(r.x, r.y + 1, "avg", S.dim);
    drawBar(c, r.x + 4, r.y + 1, r.width - 4 - pct.length - 1, split, ctx.g);
    c.text(r.x + r.width - pct.length, r.y + 1, pct, ctx.grade("cpu_usage_percent", usage));

    let y = r.y + 2;
    let left = r.y + r.height - y;
    const psi = hasPressure(ctx) ? 1 : 0;
    const lw = Math.max(1, ...list.map(([n]) => coreLabel(n).length));
    // Comfortable cells if the chart keeps its minimum, else narrow ones, else one glyph per core.
    const fits = (rows: number) => rows + psi + CHART_MIN_ROWS + 1 <= left || rows <= 1;
    let grid = coreGrid(list.length, lw, r.width, CORE_BAR.comfortable);
    if (!fits(grid.rows)) grid = coreGrid(list.length, lw, r.width, CORE_BAR.narrowest);
    const useGrid = fits(grid.rows);
    const coreRows = Math.min(left, useGrid ? grid.rows : sparkRows(list.length, r.width));
    if (useGrid) drawCoreGrid(c, { ...r, y, height: coreRows }, ctx, list, lw, grid);
    else drawCoreSparks(c, { ...r, y, height: coreRows }, ctx, list);
    y += coreRows;
    left -= coreRows;

    if (psi && left >= 1) {
      drawPressure(c, { ...r, y, height: 1 }, ctx);
      y++;
      left--;
    }
    if (left >= CHART_MIN_ROWS) {
      const values = ctx.state.history.slice(-r.width).map((s) => num(s.metrics.cpu_usage_percent));
      drawHistoryChart(c, { ...r, y, height: left }, values, S.cyan, ctx.g);
    }
  },
};

function drawCoreGrid(
  c: Canvas,
  r: Rect,
  ctx: PanelContext,
  list: [string, EntityPart][],
  lw: number,
  grid: { perRow: number; cell: number },
) {
  const shown = Math.min(list.length, r.height * grid.perRow);
  for (let i = 0; i < shown; i++) {
    const [name, core] = list[i];
    const x = r.x + (i % grid.perRow) * (grid.cell + GAP);
    const y = r.y + Math.floor(i / grid.perRow);
    const usage = num(core.core_usage_percent);
    c.text(x, y, coreLabel(name).padStart(lw), S.dim);
    drawBar(c, x + lw + 1, y, grid.cell - lw - 1 - PCT - 1, coreSplit(ctx, core), ctx.g);
    const pct = usage == null ? ctx.g.dash : `${Math.round(usage)}%`;
    c.text(x + grid.cell - PCT, y, pct.padStart(PCT), ctx.grade("core_usage_percent", usage, name));
  }
}

/**
 * Many cores in few rows: one block per core, its height the usage (in ASCII the tens digit,
 * 0–9), "+N" when even that does not fit, then the busiest core when there is room.
 */
function drawCoreSparks(c: Canvas, r: Rect, ctx: PanelContext, list: [string, EntityPart][]) {
  const levels = ctx.opts.ascii ? "0123456789" : "▁▁▂▃▄▅▆▇█";
  const perRow = sparkPerRow(r.width);
  const capacity = perRow * r.height;
  // Clipped: the last group's place says how many cores are not shown.
  const shown = list.length <= capacity ? list.length : Math.max(0, capacity - 8);
  const at = (i: number) => ({
    x: r.x + SPARK_LABEL + Math.floor((i % perRow) / 8) * 9 + (i % 8),
    y: r.y + Math.floor(i / perRow),
  });
  c.text(r.x, r.y, "cores", S.dim);
  for (const [i, [name, core]] of list.slice(0, shown).entries()) {
    const usage = num(core.core_usage_percent);
    const level = ctx.opts.ascii ? Math.floor((usage ?? 0) / 10) : Math.ceil((usage ?? 0) / 12.5);
    const ch = usage == null ? ctx.g.dash : levels[Math.min(levels.length - 1, Math.max(0, level))];
    const { x, y } = at(i);
    c.text(x, y, ch, ctx.grade("core_usage_percent", usage, name));
  }
  let end = shown > 0 ? at(shown - 1).x + 1 : r.x + SPARK_LABEL;
  const lastRow = shown > 0 ? at(shown - 1).y : r.y;
  if (shown < list.length) {
    end += c.text(end + 1, lastRow, `+${list.length - shown}`, S.dim) + 1;
  }
  const busiest = list
    .map(([name, core]) => [name, num(core.core_usage_percent)] as const)
    .filter((e): e is readonly [string, number] => e[1] != null)
    .sort((a, b) => b[1] - a[1])[0];
  if (busiest) {
    const legend = ctx.opts.ascii ? " (digit = tens of %)" : "";
    const text = `max ${busiest[0]} ${Math.round(busiest[1])}%${legend}`;
    const room = r.x + r.width - end - 2;
    if (textWidth(text) <= room) c.text(end + 2, lastRow, text, S.dim);
    else if (textWidth(text) - textWidth(legend) <= room) {
      c.text(end + 2, lastRow, text.slice(0, text.length - legend.length), S.dim);
    }
  }
}

function drawPressure(c: Canvas, r: Rect, ctx: PanelContext) {
  const m = ctx.sample?.metrics ?? {};
  let x = r.x + c.text(r.x, r.y, "psi", S.dim);
  for (const [label, res] of [["cpu", "cpu"], ["mem", "memory"], ["io", "io"]]) {
    const metric = `pressure_${res}_some_avg10`;
    const v = num(m[metric]);
    x += c.text(x, r.y, `  ${label} `, S.dim);
    x += c.text(x, r.y, formatPct(v, ctx.g.dash), ctx.grade(metric, v));
  }
  if (x + 12 <= r.x + r.width) c.text(x, r.y, "  some avg10", S.dim);
}
