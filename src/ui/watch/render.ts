/**
 * `sysmon watch`'s renderer: one pure function from the state to a frame of exactly `height`
 * lines of `width` display cells (SGR codes only when colour is on, 7-bit only in ASCII mode).
 * Terminal I/O, keys and timing belong to the command; this module reads nothing else.
 */
import { Canvas, fitText, type Rect } from "./canvas.ts";
import { drawHeader, drawHelp, drawStatus, drawTooSmall } from "./chrome.ts";
import { type FrameLayout, isTooSmall, layoutFrame, visiblePanels } from "./layout.ts";
import { maxScroll } from "./panel_table.ts";
import { makeContext, type PanelContext } from "./panel_widgets.ts";
import { PANELS } from "./panels.ts";
import {
  focusedTable,
  type PanelId,
  type RenderOptions,
  type ScrollableTable,
  type WatchState,
} from "./state.ts";
import { S } from "./style.ts";

export function renderFrame(state: WatchState, opts: RenderOptions): string[] {
  const width = Math.max(0, Math.floor(opts.width) || 0);
  const height = Math.max(0, Math.floor(opts.height) || 0);
  const o = { ...opts, width, height };
  const canvas = new Canvas(width, height, opts.ascii);
  const ctx = makeContext(state, o);
  if (isTooSmall(width, height)) {
    drawTooSmall(canvas, ctx.g.ellipsis, ctx.g.times);
    return canvas.lines(opts.color);
  }
  const layout = frameLayout(ctx);
  drawHeader(canvas, layout.header, ctx);
  for (const [id, rect] of Object.entries(layout.panels) as [PanelId, Rect][]) {
    try {
      PANELS[id].draw(canvas, rect, ctx);
    } catch (e) {
      // Odd data must not take the whole screen down: the panel says what went wrong.
      canvas.fill(rect);
      const msg = `${id}: cannot draw (${e instanceof Error ? e.message : String(e)})`;
      canvas.text(rect.x, rect.y, fitText(msg, rect.width, ctx.g.ellipsis), S.red);
    }
  }
  for (const sep of layout.separators) {
    for (let y = sep.y; y < sep.y + sep.height; y++) canvas.text(sep.x, y, ctx.g.vertical, S.dim);
  }
  drawStatus(canvas, layout.status, ctx);
  if (state.helpVisible) drawHelp(canvas, ctx);
  return canvas.lines(opts.color);
}

function frameLayout(ctx: PanelContext): FrameLayout {
  const { width, height } = ctx.opts;
  return layoutFrame(
    width,
    height,
    visiblePanels(ctx.state.hidden),
    (id, w) => PANELS[id].need(ctx, w),
  );
}

export interface ScrollInfo {
  /** The table the scroll keys act on (focusedTable), or null when none is visible. */
  table: ScrollableTable | null;
  /** Its rows in total. */
  rows: number;
  /** Rows it shows in this layout: the page size for PgUp/PgDn. */
  visibleRows: number;
  /** The largest useful `scroll`; the renderer clamps to it anyway. */
  maxScroll: number;
}

/** What the scroll keys need to know about the focused table at this terminal size. */
export function scrollInfo(state: WatchState, opts: RenderOptions): ScrollInfo {
  const table = focusedTable(state);
  const ctx = makeContext(state, opts);
  if (table == null || isTooSmall(opts.width, opts.height)) {
    return { table, rows: 0, visibleRows: 0, maxScroll: 0 };
  }
  const rect = frameLayout(ctx).panels[table];
  const rows = table === "processes" ? state.processes?.length ?? 0 : Object.keys(
    (table === "network" ? state.sample?.interfaces : state.sample?.[table]) ?? {},
  ).length;
  const height = rect?.height ?? 0;
  return {
    table,
    rows,
    visibleRows: Math.max(0, height - 1),
    maxScroll: rect ? maxScroll(rows, height) : 0,
  };
}
