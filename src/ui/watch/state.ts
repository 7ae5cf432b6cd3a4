/**
 * What `sysmon watch` shows, as plain data: the renderer (render.ts) turns a WatchState into a
 * frame and never reads anything else. The command owns the state and changes it on keys/ticks.
 */
import type { ProcessRow } from "../../collect/processes.ts";
import type { Sample } from "../../core/model.ts";

export type Grade = "ok" | "warning" | "critical";

/**
 * Colour grade of a value from the alert rules (the integrator builds it); metric = version-1
 * model name, entity = core/disk/interface/mountpoint name.
 */
export type Grader = (metric: string, value: number | null, entity?: string) => Grade;

/** One row of the processes panel: what the process reader gives. */
export type { ProcessRow };

/** Keys 1–6 toggle the panels in this order. */
export type PanelId = "cpu" | "memory" | "disks" | "network" | "filesystems" | "processes";
export const PANEL_IDS: readonly PanelId[] = [
  "cpu",
  "memory",
  "disks",
  "network",
  "filesystems",
  "processes",
];
export const PANEL_TITLES: Record<PanelId, string> = {
  cpu: "CPU",
  memory: "Memory",
  disks: "Disks",
  network: "Network",
  filesystems: "Filesystems",
  processes: "Processes",
};

/** The tables that `s` sorts and the arrows scroll (plus processes, sorted by m/c). */
export type SortableTable = "disks" | "network" | "filesystems";
export type ScrollableTable = SortableTable | "processes";

/**
 * The sortable columns of each table, in the order `s` cycles them; `sortColumn[table]` indexes
 * this list and 0 is the natural default: devices and interfaces by name (rows that stay put),
 * filesystems fullest first (the one about to fill up is on screen). Names sort ascending,
 * everything else descending (busiest first).
 */
export const SORT_COLUMNS: Record<SortableTable, readonly string[]> = {
  disks: ["name", "read", "write", "r/s", "w/s", "await", "util"],
  network: ["name", "rx", "tx", "rx packets", "tx packets", "errors", "util"],
  filesystems: ["use%", "inodes", "size", "used", "avail", "mount"],
};

export interface FiringAlert {
  rule: string;
  severity: "warning" | "critical";
  entity?: string;
}

export interface WatchState {
  /** Latest sample (src/core/model.ts); null before the first one. */
  sample: Sample | null;
  /** Oldest first, including `sample`; charts take the newest points that fit their width. */
  history: Sample[];
  /** null = not read yet. */
  processes: ProcessRow[] | null;
  /** Toggled by m/c. */
  processSort: "cpu" | "memory";
  /** Processes on the host when `processes` holds only the top rows (the panel shows "1-17/66"). */
  processCount?: number;
  firingAlerts: FiringAlert[];
  intervalMs: number;
  paused: boolean;
  helpVisible: boolean;
  hidden: ReadonlySet<PanelId>;
  /** Index into SORT_COLUMNS[table], cycled by `s`. */
  sortColumn: Record<SortableTable, number>;
  /** First row of the focused long table (arrows/PgUp/PgDn); clamped by the renderer. */
  scroll: number;
  /**
   * The table the scroll keys (and `s`, for disks/network/filesystems) act on. Optional: see
   * focusedTable() and sortTarget() for what applies when it is absent or hidden.
   */
  focus?: ScrollableTable;
  /** The header shows the replayed time when present. */
  replay?: { time: string; speed: number; atEnd: boolean };
  /** Transient status line ("interval 2s", "no data before …"). */
  message?: string;
  kernel: string;
  uptimeSeconds: number | null;
}

export interface RenderOptions {
  width: number;
  height: number;
  color: boolean;
  ascii: boolean;
  /** Network rates in bits/s (decimal units) instead of bytes/s. */
  bits: boolean;
  grader: Grader;
  now: Date;
}

const FOCUS_ORDER: readonly ScrollableTable[] = ["processes", "filesystems", "network", "disks"];
const SORT_ORDER: readonly SortableTable[] = ["disks", "network", "filesystems"];

/**
 * The table the scroll keys act on: `state.focus` when visible, else the longest list people
 * scroll (processes), else the first visible of filesystems, network, disks; null if none shows.
 */
export function focusedTable(state: WatchState): ScrollableTable | null {
  if (state.focus && !state.hidden.has(state.focus)) return state.focus;
  return FOCUS_ORDER.find((p) => !state.hidden.has(p)) ?? null;
}

/**
 * The table `s` cycles the sort column of: the focused table when it is disks, network or
 * filesystems, else the first of those that is visible (processes sort with m/c instead).
 */
export function sortTarget(state: WatchState): SortableTable | null {
  const focus = focusedTable(state);
  if (focus && focus !== "processes") return focus;
  return SORT_ORDER.find((p) => !state.hidden.has(p)) ?? null;
}
