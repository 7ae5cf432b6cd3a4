/**
 * What each key does to the watch state (pure): the command applies the outcome — quitting,
 * re-arming the timer after an interval change, moving the replay cursor — and redraws.
 */
import { formatDuration } from "../../core/duration.ts";
import type { Key } from "../term/keys.ts";
import {
  focusedTable,
  PANEL_IDS,
  PANEL_TITLES,
  type ScrollableTable,
  SORT_COLUMNS,
  sortTarget,
  type WatchState,
} from "./state.ts";

/** The intervals `+` and `-` step through (ms); below 250 ms watch would cost more than it shows. */
export const INTERVAL_STEPS_MS: readonly number[] = [
  250,
  500,
  1000,
  2000,
  5000,
  10_000,
  30_000,
  60_000,
];

/** Replay speeds `<` and `>` step through: recorded seconds per second. */
export const REPLAY_SPEEDS: readonly number[] = [1, 10, 60, 300, 900, 3600];
export const DEFAULT_REPLAY_SPEED = 60;

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Rows PgUp/PgDn move; the renderer clamps the scroll to what the table has. */
export const PAGE_ROWS = 10;
/** Far past any table's end: End scrolls to the last page (clamped by the renderer). */
const END = 1_000_000;

export type ReplayMove =
  | { kind: "step"; by: 1 | -1 }
  | { kind: "jump"; ms: number };

export interface KeyOutcome {
  state: WatchState;
  quit?: true;
  /** The interval changed: re-arm the sampling (or playback) timer. */
  retime?: true;
  /** Redraw everything (Ctrl-L). */
  redraw?: true;
  /** Read the process table again now (its sort order changed). */
  refreshProcesses?: true;
  replay?: ReplayMove;
}

const FOCUS_CYCLE: readonly ScrollableTable[] = ["processes", "filesystems", "network", "disks"];

export function applyKey(state: WatchState, key: Key): KeyOutcome {
  const replaying = state.replay !== undefined;
  const say = (message: string, patch: Partial<WatchState> = {}): KeyOutcome => ({
    state: { ...state, ...patch, message },
  });
  switch (key) {
    case "q":
    case "ctrl-c":
      return { state, quit: true };
    case "help":
      return { state: { ...state, helpVisible: !state.helpVisible } };
    case "escape":
      return { state: { ...state, helpVisible: false } };
    case "redraw":
      return { state, redraw: true };
    case "pause":
      return say(state.paused ? "resumed" : "paused", { paused: !state.paused });
    case "faster":
    case "slower":
      return replaying ? changeSpeed(state, key === "faster" ? 1 : -1) : changeInterval(state, key);
    case "speed-up":
    case "speed-down":
      if (!replaying) return say("< and > set the replay speed (sysmon watch --replay)");
      return changeSpeed(state, key === "speed-up" ? 1 : -1);
    case "panel1":
    case "panel2":
    case "panel3":
    case "panel4":
    case "panel5":
    case "panel6":
      return togglePanel(state, Number(key.slice(5)) - 1);
    case "sort":
      return cycleSort(state);
    case "proc-sort-cpu":
    case "proc-sort-mem": {
      const processSort = key === "proc-sort-cpu" ? "cpu" : "memory";
      return {
        state: { ...state, processSort, message: `processes by ${processSort}` },
        refreshProcesses: true,
      };
    }
    case "focus": {
      const visible = FOCUS_CYCLE.filter((p) => !state.hidden.has(p));
      if (visible.length === 0) return { state };
      const current = focusedTable(state);
      const next = visible[(visible.indexOf(current ?? visible[0]) + 1) % visible.length];
      return say(`${PANEL_TITLES[next]} table focused`, { focus: next, scroll: 0 });
    }
    case "up":
      return { state: { ...state, scroll: Math.max(0, state.scroll - 1) } };
    case "down":
      return { state: { ...state, scroll: state.scroll + 1 } };
    case "pgup":
      return { state: { ...state, scroll: Math.max(0, state.scroll - PAGE_ROWS) } };
    case "pgdn":
      return { state: { ...state, scroll: state.scroll + PAGE_ROWS } };
    case "home":
      return { state: { ...state, scroll: 0 } };
    case "end":
      return { state: { ...state, scroll: END } };
    case "left":
    case "right":
    case "hour-back":
    case "hour-fwd":
    case "day-back":
    case "day-fwd":
      if (!replaying) return say("← → [ ] { } move through recorded data (sysmon watch --replay)");
      return { state, replay: replayMove(key) };
  }
}

function replayMove(key: "left" | "right" | "hour-back" | "hour-fwd" | "day-back" | "day-fwd") {
  switch (key) {
    case "left":
      return { kind: "step", by: -1 } as const;
    case "right":
      return { kind: "step", by: 1 } as const;
    case "hour-back":
      return { kind: "jump", ms: -HOUR } as const;
    case "hour-fwd":
      return { kind: "jump", ms: HOUR } as const;
    case "day-back":
      return { kind: "jump", ms: -DAY } as const;
    case "day-fwd":
      return { kind: "jump", ms: DAY } as const;
  }
}

/** `+` refreshes faster (a shorter interval), `-` slower, through INTERVAL_STEPS_MS. */
function changeInterval(state: WatchState, key: "faster" | "slower"): KeyOutcome {
  // The next step in that direction; an --interval between two steps lands on the nearer one.
  const intervalMs = key === "faster"
    ? INTERVAL_STEPS_MS.findLast((ms) => ms < state.intervalMs)
    : INTERVAL_STEPS_MS.find((ms) => ms > state.intervalMs);
  if (intervalMs === undefined) {
    const now = formatDuration(state.intervalMs / 1000);
    return { state: { ...state, message: `interval ${now} (the limit)` } };
  }
  return {
    state: { ...state, intervalMs, message: `interval ${formatDuration(intervalMs / 1000)}` },
    retime: true,
  };
}

function changeSpeed(state: WatchState, direction: 1 | -1): KeyOutcome {
  const replay = state.replay!;
  const i = REPLAY_SPEEDS.findIndex((s) => s >= replay.speed);
  const at = i < 0 ? REPLAY_SPEEDS.length - 1 : i;
  const next = REPLAY_SPEEDS[Math.min(REPLAY_SPEEDS.length - 1, Math.max(0, at + direction))];
  return {
    state: { ...state, replay: { ...replay, speed: next }, message: `replay speed ${next}×` },
    retime: true,
  };
}

function togglePanel(state: WatchState, index: number): KeyOutcome {
  const panel = PANEL_IDS[index];
  const hidden = new Set(state.hidden);
  if (hidden.has(panel)) hidden.delete(panel);
  else {
    if (PANEL_IDS.every((p) => p === panel || hidden.has(p))) {
      return { state: { ...state, message: "the last visible panel stays" } };
    }
    hidden.add(panel);
  }
  const shown = hidden.has(panel) ? "hidden" : "shown";
  return { state: { ...state, hidden, message: `${PANEL_TITLES[panel]} ${shown}` } };
}

function cycleSort(state: WatchState): KeyOutcome {
  if (focusedTable(state) === "processes") {
    const processSort = state.processSort === "cpu" ? "memory" : "cpu";
    return {
      state: { ...state, processSort, message: `processes by ${processSort}` },
      refreshProcesses: true,
    };
  }
  const table = sortTarget(state);
  if (table === null) return { state };
  const columns = SORT_COLUMNS[table];
  const index = (state.sortColumn[table] + 1) % columns.length;
  return {
    state: {
      ...state,
      sortColumn: { ...state.sortColumn, [table]: index },
      message: `${PANEL_TITLES[table]} by ${columns[index]}`,
    },
  };
}
