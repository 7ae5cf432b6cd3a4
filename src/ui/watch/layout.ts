/**
 * Where each panel goes: a pure function from the terminal size, the visible panels and what each
 * panel would like (rows) to rectangles. Rows: a header line, the panels, a status line.
 *
 * Panels stack in bands: CPU|Memory side by side from 80 columns, Disks|Network from 120, then
 * Filesystems, then Processes. Every band first gets its minimum, then rows go round-robin (CPU and
 * memory two at a time, for their charts) up to what each wants, then the rest spills to the
 * panels that can use any amount (processes first, then tables' remaining rows, then the charts).
 */
import type { Rect } from "./canvas.ts";
import { PANEL_IDS, type PanelId } from "./state.ts";

export type { Rect };

/**
 * The smallest terminal the screen is drawn in. 60 columns: a table keeps its name column and four
 * numeric columns with units ("1023 KiB/s" is ten cells) and the header keeps host, load and time.
 * 16 rows: the header and status lines plus all six panels at their minimum (CPU and memory 3 rows:
 * title, a bar, a bar or a row of cores; each table 2: its header and one row) when stacked.
 */
export const MIN_WIDTH = 60;
export const MIN_HEIGHT = 16;

/** Widths from which a pair of panels sits side by side instead of stacked. */
export const SIDE_BY_SIDE_WIDTH = { cpuMemory: 80, disksNetwork: 120 } as const;

export interface PanelNeed {
  /** Rows below which the panel is unreadable. */
  min: number;
  /** Rows to show everything comfortably. */
  want: number;
  /** Rows it can use at most (Infinity: grows with the terminal). */
  max: number;
  /** Rows per round while sharing space up to `want`. */
  weight: number;
  /** Order in which leftover rows go to panels below `max` (lower first). */
  spill: number;
}

export interface FrameLayout {
  header: Rect;
  status: Rect;
  panels: Partial<Record<PanelId, Rect>>;
  /** One-column gaps between side-by-side panels (drawn as a vertical rule). */
  separators: Rect[];
}

export function isTooSmall(width: number, height: number): boolean {
  return width < MIN_WIDTH || height < MIN_HEIGHT;
}

interface Band {
  members: { id: PanelId; x: number; width: number }[];
  need: PanelNeed;
  rows: number;
}

const GROUPS: { ids: [PanelId, PanelId] | [PanelId]; sideBySide: number }[] = [
  { ids: ["cpu", "memory"], sideBySide: SIDE_BY_SIDE_WIDTH.cpuMemory },
  { ids: ["disks", "network"], sideBySide: SIDE_BY_SIDE_WIDTH.disksNetwork },
  { ids: ["filesystems"], sideBySide: Infinity },
  { ids: ["processes"], sideBySide: Infinity },
];

/**
 * Lays out the frame. `need` is asked for each visible panel at the width it would get. Panels
 * whose minimum does not fit are left out from the bottom up (cannot happen at MIN_WIDTH ×
 * MIN_HEIGHT with minimums as small as the renderer's).
 */
export function layoutFrame(
  width: number,
  height: number,
  visible: Iterable<PanelId>,
  need: (id: PanelId, width: number) => PanelNeed,
): FrameLayout {
  const shown = new Set(visible);
  const bands = makeBands(width, shown, need);
  const body = Math.max(0, height - 2);
  while (bands.length > 0 && sum(bands.map((b) => b.need.min)) > body) bands.pop();
  allocate(bands, body);

  const panels: Partial<Record<PanelId, Rect>> = {};
  const separators: Rect[] = [];
  let y = 1;
  for (const band of bands) {
    for (const m of band.members) panels[m.id] = { x: m.x, y, width: m.width, height: band.rows };
    if (band.members.length === 2) {
      separators.push({ x: band.members[0].width, y, width: 1, height: band.rows });
    }
    y += band.rows;
  }
  return {
    header: { x: 0, y: 0, width, height: Math.min(1, height) },
    status: { x: 0, y: Math.max(0, height - 1), width, height: height >= 2 ? 1 : 0 },
    panels,
    separators,
  };
}

function makeBands(
  width: number,
  shown: Set<PanelId>,
  need: (id: PanelId, width: number) => PanelNeed,
): Band[] {
  const bands: Band[] = [];
  for (const group of GROUPS) {
    const ids = group.ids.filter((id) => shown.has(id));
    if (ids.length === 2 && width >= group.sideBySide) {
      const left = Math.floor((width - 1) / 2);
      const right = width - left - 1;
      const needs = [need(ids[0], left), need(ids[1], right)];
      bands.push({
        members: [{ id: ids[0], x: 0, width: left }, { id: ids[1], x: left + 1, width: right }],
        need: {
          min: Math.max(...needs.map((n) => n.min)),
          want: Math.max(...needs.map((n) => n.want)),
          max: Math.max(...needs.map((n) => n.max)),
          weight: Math.max(...needs.map((n) => n.weight)),
          spill: Math.min(...needs.map((n) => n.spill)),
        },
        rows: 0,
      });
    } else {
      for (const id of ids) {
        bands.push({ members: [{ id, x: 0, width }], need: need(id, width), rows: 0 });
      }
    }
  }
  return bands;
}

function allocate(bands: Band[], body: number): void {
  for (const b of bands) b.rows = b.need.min;
  let spare = body - sum(bands.map((b) => b.rows));
  // Round-robin up to `want`, so no panel starves while another shows its last row.
  let progressed = true;
  while (spare > 0 && progressed) {
    progressed = false;
    for (const b of bands) {
      const give = Math.min(b.need.weight, b.need.want - b.rows, spare);
      if (give > 0) {
        b.rows += give;
        spare -= give;
        progressed = true;
      }
    }
  }
  const bySpill = [...bands].sort((a, b) => a.need.spill - b.need.spill);
  for (const b of bySpill) {
    const give = Math.min(b.need.max - b.rows, spare);
    if (give > 0) {
      b.rows += give;
      spare -= give;
    }
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Visible panels in screen order. */
export function visiblePanels(hidden: ReadonlySet<PanelId>): PanelId[] {
  return PANEL_IDS.filter((id) => !hidden.has(id));
}
