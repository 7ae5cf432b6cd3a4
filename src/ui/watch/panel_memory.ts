/**
 * Memory panel: RAM (used, then buff/cache) and swap bars, the figures people compare with `free`
 * in IEC units, and a history chart of memory_usage_percent.
 */
import {
  CHART_MIN_ROWS,
  chartWant,
  drawBar,
  drawGrid,
  drawHistoryChart,
  drawTitleRow,
  gridRows,
  type LabelValue,
  type Panel,
  type PanelContext,
} from "./panel_widgets.ts";
import { S } from "./style.ts";
import { formatPct, formatSize, num } from "./units.ts";

function figures(ctx: PanelContext): LabelValue[] {
  const m = ctx.sample?.metrics ?? {};
  const d = ctx.g.dash;
  const items: LabelValue[] = [
    { label: "used", value: formatSize(num(m.memory_used), d) },
    { label: "avail", value: formatSize(num(m.memory_available), d) },
    { label: "cached", value: formatSize(num(m.memory_cached), d) },
    { label: "buffers", value: formatSize(num(m.memory_buffers), d) },
    { label: "free", value: formatSize(num(m.memory_free), d) },
  ];
  if ((num(m.swap_total) ?? 0) > 0) {
    items.push({ label: "swap", value: formatSize(num(m.swap_used), d) });
  }
  return items;
}

export const memoryPanel: Panel = {
  need(ctx, width) {
    const want = 3 + gridRows(figures(ctx), width) + chartWant(ctx.opts.height);
    return { min: 3, want, max: Infinity, weight: 2, spill: 2 };
  },

  draw(c, r, ctx) {
    const m = ctx.sample?.metrics ?? {};
    const d = ctx.g.dash;
    const total = num(m.memory_total);
    const swapTotal = num(m.swap_total);
    drawTitleRow(c, r, "Memory", [], {
      text: `${formatSize(total, d)} RAM` + (swapTotal ? `, ${formatSize(swapTotal, d)} swap` : ""),
    });

    const barWidth = r.width - 4 - 7;
    const pctX = r.x + r.width - 6;
    if (r.height >= 2) {
      const used = num(m.memory_usage_percent);
      const cache = total ? sumShare(m.memory_cached, m.memory_buffers, total) : null;
      c.text(r.x, r.y + 1, "mem", S.dim);
      drawBar(c, r.x + 4, r.y + 1, barWidth, [
        { value: used, glyph: ctx.g.bar.used, style: ctx.grade("memory_usage_percent", used) },
        { value: cache, glyph: ctx.g.bar.cache, style: S.blue },
      ], ctx.g);
      c.text(
        pctX,
        r.y + 1,
        formatPct(used, d).padStart(6),
        ctx.grade("memory_usage_percent", used),
      );
    }
    if (r.height >= 3) {
      const swap = num(m.swap_usage_percent);
      c.text(r.x, r.y + 2, "swp", S.dim);
      if (swapTotal === 0) {
        c.text(r.x + 4, r.y + 2, "none configured", S.dim);
      } else {
        drawBar(c, r.x + 4, r.y + 2, barWidth, [
          { value: swap, glyph: ctx.g.bar.used, style: ctx.grade("swap_usage_percent", swap) },
        ], ctx.g);
        c.text(
          pctX,
          r.y + 2,
          formatPct(swap, d).padStart(6),
          ctx.grade("swap_usage_percent", swap),
        );
      }
    }

    let y = r.y + 3;
    let left = r.y + r.height - y;
    const items = figures(ctx);
    // Figures first, but leave the chart its minimum when there is room for both.
    const figRows = Math.min(gridRows(items, r.width), Math.max(1, left - CHART_MIN_ROWS), left);
    const used = drawGrid(c, { ...r, y, height: figRows }, items, figRows);
    y += used;
    left -= used;
    if (left >= CHART_MIN_ROWS) {
      const values = ctx.state.history.slice(-r.width).map((s) =>
        num(s.metrics.memory_usage_percent)
      );
      drawHistoryChart(c, { ...r, y, height: left }, values, S.magenta, ctx.g);
    }
  },
};

/** (a + b) as a percentage of total: the buff/cache share drawn after the used share. */
function sumShare(a: unknown, b: unknown, total: number): number | null {
  const x = num(a), y = num(b);
  return x == null || y == null ? null : (x + y) / total * 100;
}
