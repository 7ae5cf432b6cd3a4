/**
 * The tables (disks, network, filesystems, processes): a header row that carries the panel title,
 * aligned columns that give way by priority when the panel is narrow (the flexible column shrinks
 * first, then gaps, then whole columns), optional proportional bars in a column, scrolling.
 */
import { naturalCompare } from "../natural.ts";
import { type Canvas, fitText, padText, type Rect, textWidth } from "./canvas.ts";
import { drawBar, type PanelContext } from "./panel_widgets.ts";
import { focusedTable, type ScrollableTable, SORT_COLUMNS, type SortableTable } from "./state.ts";
import { type Glyphs, S, type Style } from "./style.ts";

export interface TableColumn {
  header: string;
  align: "left" | "right";
  /** 0 is never dropped; higher numbers are dropped first when the panel is narrow. */
  priority: number;
  /**
   * The column that shrinks (with an ellipsis) when the panel is narrow: down to `keep` cells
   * before other columns are dropped, down to `min` once they all are. `cut` keeps the start
   * ("end": cut the end) or the end of the text (paths).
   */
  flex?: { keep: number; min: number; cut: "end" | "start" };
  /** The column draws a bar of the cells' `bar` values before their text: bar width range. */
  bar?: { min: number; max: number };
  /** Index in SORT_COLUMNS of this column, when it is sortable. */
  sort?: number;
}

export interface TableCell {
  text: string;
  style?: Style;
  /** Bar value (0–100 %) for bar columns. */
  bar?: number | null;
}

export interface TableSpec {
  columns: TableColumn[];
  rows: TableCell[][];
  /** Index in SORT_COLUMNS currently sorted by (marked in the header), and its direction. */
  sortedBy?: number;
  ascending?: boolean;
  /** Appended to the first column's header (the title): which rows are shown when not all fit. */
  titleNote?: string;
  /** Shown right-aligned in the header row when there is room (counts, the processes title). */
  note?: string;
  noteStyle?: Style;
  /** The row shown when there are no rows. */
  empty: string;
  /** Style of a whole row's plain cells (dim for a down interface). */
  rowStyles?: (Style | undefined)[];
  /** First row shown (already clamped by the caller with maxScroll). */
  scroll: number;
  /** Marks the title as the target of the scroll and sort keys. */
  focused: boolean;
}

export function maxScroll(rowCount: number, panelHeight: number): number {
  return Math.max(0, rowCount - Math.max(0, panelHeight - 1));
}

interface Fitted {
  index: number;
  width: number;
  bar: number;
}

/** Chooses the columns and their widths for the panel width. */
export function fitColumns(
  spec: TableSpec,
  headers: string[],
  width: number,
): { cols: Fitted[]; gap: number } {
  const natural = spec.columns.map((col, i) => {
    const cells = spec.rows.map((r) => textWidth(r[i]?.text ?? ""));
    const head = textWidth(headers[i]);
    return col.bar
      ? Math.max(head, col.bar.min + 3 + Math.max(0, ...cells))
      : Math.max(head, ...cells);
  });
  let active = spec.columns.map((_, i) => i);
  const widths = [...natural];
  const total = (gap: number) =>
    active.reduce((a, i) => a + widths[i], 0) + gap * (active.length - 1);
  const flex = spec.columns.findIndex((c) => c.flex);
  const shrinkFlexTo = (floor: number) => {
    if (flex < 0 || widths[flex] <= floor) return false;
    widths[flex] = Math.max(floor, widths[flex] - (total(gap) - width));
    return true;
  };
  let gap = 2;
  while (total(gap) > width) {
    // Order of giving way: the flexible column down to what it keeps, the gaps, whole columns
    // (highest priority number first), then the flexible column down to its minimum.
    if (shrinkFlexTo(Math.min(natural[flex] ?? 0, spec.columns[flex]?.flex?.keep ?? 0))) continue;
    if (gap === 2) {
      gap = 1;
      continue;
    }
    const droppable = active.filter((i) => spec.columns[i].priority > 0);
    if (droppable.length > 0) {
      const drop = droppable.reduce((a, b) =>
        spec.columns[b].priority >= spec.columns[a].priority ? b : a
      );
      active = active.filter((i) => i !== drop);
      gap = 2;
      continue;
    }
    if (!shrinkFlexTo(spec.columns[flex]?.flex?.min ?? 0)) break;
  }
  // Spare width: bars grow first; then the flexible column if it is the last one (the command
  // line), else wider gaps so the columns spread over the panel.
  let spare = width - total(gap);
  const barWidth: Record<number, number> = {};
  for (const i of active.filter((i) => spec.columns[i].bar)) {
    const b = spec.columns[i].bar!;
    const grow = Math.max(0, Math.min(spare, b.max - b.min));
    widths[i] += grow;
    spare -= grow;
    barWidth[i] = b.min + grow;
  }
  if (flex >= 0 && flex === active[active.length - 1]) widths[flex] += Math.max(0, spare);
  else if (active.length > 1 && spare > 0) {
    gap += Math.min(2, Math.floor(spare / (active.length - 1)));
  }
  return { cols: active.map((i) => ({ index: i, width: widths[i], bar: barWidth[i] ?? 0 })), gap };
}

export function drawTable(c: Canvas, r: Rect, spec: TableSpec, g: Glyphs) {
  if (r.height < 1 || r.width < 1) return;
  const headers = spec.columns.map((col, i) => {
    const marked = col.sort !== undefined && col.sort === spec.sortedBy;
    let text = col.header;
    if (marked) text += spec.ascending ? g.sortAscending : g.sortMark;
    if (i === 0 && spec.titleNote) text += ` ${spec.titleNote}`;
    return i === 0 && spec.focused ? `${g.focusMark}${text}` : text;
  });
  const { cols, gap } = fitColumns(spec, headers, r.width);

  // Header row.
  let x = r.x;
  let end = r.x;
  for (const col of cols) {
    const def = spec.columns[col.index];
    const text = padText(fitText(headers[col.index], col.width, g.ellipsis), col.width, def.align);
    const style = col.index === 0 ? S.title : S.header;
    c.text(x, r.y, text, style, col.width);
    end = x + textWidth(text.trimEnd());
    x += col.width + gap;
  }
  if (spec.note && textWidth(spec.note) + 2 <= r.x + r.width - end) {
    c.text(r.x + r.width - textWidth(spec.note), r.y, spec.note, spec.noteStyle ?? S.dim);
  }

  // Body.
  const visible = r.height - 1;
  if (spec.rows.length === 0 && visible > 0) {
    c.text(r.x, r.y + 1, fitText(spec.empty, r.width, g.ellipsis), S.dim);
    return;
  }
  for (let k = 0; k < visible; k++) {
    const row = spec.rows[spec.scroll + k];
    if (!row) break;
    const y = r.y + 1 + k;
    const rowStyle = spec.rowStyles?.[spec.scroll + k];
    x = r.x;
    for (const col of cols) {
      const def = spec.columns[col.index];
      const cell = row[col.index] ?? { text: "" };
      const style = cell.style ?? rowStyle ?? S.none;
      if (def.bar) {
        const textW = col.width - col.bar - 3;
        drawBar(c, x, y, col.bar + 2, [{ value: cell.bar ?? null, glyph: g.bar.used, style }], g);
        c.text(x + col.bar + 3, y, padText(cell.text, textW, "right"), style, textW);
      } else {
        const cut = def.flex?.cut === "start"
          ? fitStart(cell.text, col.width, g.ellipsis)
          : fitText(cell.text, col.width, g.ellipsis);
        c.text(x, y, padText(cut, col.width, def.align), style, col.width);
      }
      x += col.width + gap;
    }
  }
}

/** Keeps the end of a long name (mount points, paths): "…/lib/docker". */
function fitStart(s: string, width: number, ellipsis: string): string {
  if (textWidth(s) <= width) return s;
  const chars = Array.from(s);
  let out = "";
  while (chars.length && textWidth(out) + textWidth(chars[chars.length - 1]) + 1 <= width) {
    out = chars.pop() + out;
  }
  return width > 0 ? ellipsis + out : "";
}

/** A sort key: "name" (ascending, natural order) or a number to sort descending. */
export type SortKey<T> = "name" | ((item: T) => number | null);

/**
 * Rows ordered by a key: names ascending in natural order (sda < sdb, cpu2 < cpu10), numbers
 * descending (busiest first) with missing values last; ties by name.
 */
export function sortEntities<T>(items: [string, T][], key: SortKey<T>): [string, T][] {
  const natural = (a: string, b: string) => naturalCompare(a, b);
  return [...items].sort(([an, a], [bn, b]) => {
    if (key === "name") return natural(an, bn);
    const ka = key(a), kb = key(b);
    if (ka !== kb) {
      if (ka == null) return 1;
      if (kb == null) return -1;
      return kb - ka;
    }
    return natural(an, bn);
  });
}

/** The table panels' shared sizing: a header row, then ideally every row (up to 8 before spilling). */
export function tableNeed(rowCount: number) {
  const rows = Math.max(1, rowCount);
  return { min: 2, want: 1 + Math.min(rows, 8), max: 1 + rows, weight: 1, spill: 1 };
}

/** The table's sort index from the state, wrapped into SORT_COLUMNS' range. */
export function sortIndex(ctx: PanelContext, table: SortableTable): number {
  const i = ctx.state.sortColumn?.[table] ?? 0;
  const n = SORT_COLUMNS[table].length;
  return Number.isInteger(i) ? ((i % n) + n) % n : 0;
}

/** The first row shown: the state's scroll for the focused table, clamped; 0 for the others. */
export function tableScroll(
  ctx: PanelContext,
  table: ScrollableTable,
  rows: number,
  height: number,
): number {
  if (focusedTable(ctx.state) !== table) return 0;
  return Math.min(Math.max(0, Math.floor(ctx.state.scroll) || 0), maxScroll(rows, height));
}

/**
 * A sortable table's view settings for drawTable: sort column, direction (`ascending` given the
 * sort column's index), the scroll position and its note, and whether it has the focus.
 */
export function tableView(
  ctx: PanelContext,
  table: SortableTable,
  rows: number,
  height: number,
  ascending: (sortedBy: number) => boolean,
): Pick<TableSpec, "sortedBy" | "ascending" | "titleNote" | "scroll" | "focused"> {
  const sortedBy = sortIndex(ctx, table);
  return {
    sortedBy,
    ascending: ascending(sortedBy),
    titleNote: scrollNote(ctx, table, rows, height),
    scroll: tableScroll(ctx, table, rows, height),
    focused: focusedTable(ctx.state) === table,
  };
}

/** "3-5/9" (or "3/9" for a single row) when not every row fits. */
export function scrollNote(
  ctx: PanelContext,
  table: ScrollableTable,
  rows: number,
  height: number,
): string {
  const visible = Math.max(0, height - 1);
  if (rows <= visible) return "";
  const first = tableScroll(ctx, table, rows, height);
  const last = Math.min(rows, first + visible);
  return last === first + 1 ? `${last}/${rows}` : `${first + 1}-${last}/${rows}`;
}
