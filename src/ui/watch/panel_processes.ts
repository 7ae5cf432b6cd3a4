/** Processes table: the top processes by CPU or memory (m/c), as many as the panel has rows. */
import { fitText } from "./canvas.ts";
import { drawTable, type TableCell, tableScroll } from "./panel_table.ts";
import type { Panel, PanelContext } from "./panel_widgets.ts";
import type { ProcessRow } from "./state.ts";
import { focusedTable } from "./state.ts";
import { S, type Style } from "./style.ts";
import { formatPct, formatSize } from "./units.ts";

/** Busiest first by the chosen measure; unknown values last; ties by pid (stable across frames). */
export function sortProcesses(rows: readonly ProcessRow[], by: "cpu" | "memory"): ProcessRow[] {
  const key = (p: ProcessRow) => (by === "cpu" ? p.cpuPercent : p.memPercent);
  return [...rows].sort((a, b) => {
    const ka = key(a), kb = key(b);
    if (ka !== kb) {
      if (ka == null) return 1;
      if (kb == null) return -1;
      if (kb !== ka) return kb - ka;
    }
    if (by === "memory" && a.rssBytes !== b.rssBytes) return b.rssBytes - a.rssBytes;
    return a.pid - b.pid;
  });
}

/** State letters as ps prints them: running stands out, uninterruptible sleep (D) is a warning. */
function stateStyle(state: string): Style | undefined {
  if (state === "R") return S.green;
  if (state === "D") return S.yellow;
  if (state === "Z") return S.red;
  return undefined;
}

function commandOf(p: ProcessRow): string {
  // Kernel threads have no command line; ps shows their name in brackets.
  return p.command.trim() === "" ? `[${p.name}]` : p.command;
}

export const processesPanel: Panel = {
  need(ctx: PanelContext) {
    // Until the first read the panel keeps the room the list will need.
    const n = ctx.state.processes?.length;
    const max = n == null ? Infinity : 1 + Math.max(1, n);
    return { min: 2, want: Math.min(max, 6), max, weight: 1, spill: 0 };
  },
  draw(c, r, ctx) {
    const d = ctx.g.dash;
    const procs = ctx.state.processes;
    const sorted = procs ? sortProcesses(procs, ctx.state.processSort) : [];
    const rows: TableCell[][] = sorted.map((p) => [
      { text: String(p.pid) },
      { text: fitText(p.user, 9, ctx.g.ellipsis) },
      { text: p.state, style: stateStyle(p.state) },
      { text: formatPct(p.cpuPercent, d, false) },
      { text: formatPct(p.memPercent, d, false) },
      { text: formatSize(p.rssBytes, d) },
      { text: String(p.threads) },
      { text: commandOf(p) },
    ]);
    const scroll = tableScroll(ctx, "processes", rows.length, r.height);
    // Only the rows the screen can show are read: the count is of all processes on the host.
    const total = Math.max(rows.length, ctx.state.processCount ?? 0);
    const shown = Math.min(rows.length - scroll, Math.max(0, r.height - 1));
    const range = total > shown ? `${scroll + 1}-${scroll + shown}/${total}` : "";
    const focused = focusedTable(ctx.state) === "processes";
    const title = `${focused ? ctx.g.focusMark : ""}Processes`;
    drawTable(c, r, {
      columns: [
        { header: "PID", align: "right", priority: 0 },
        { header: "USER", align: "left", priority: 3 },
        { header: "S", align: "left", priority: 4 },
        { header: "CPU%", align: "right", priority: 0, sort: 0 },
        { header: "MEM%", align: "right", priority: 0, sort: 1 },
        { header: "RSS", align: "right", priority: 1 },
        { header: "THR", align: "right", priority: 2 },
        { header: "COMMAND", align: "left", priority: 0, flex: { keep: 24, min: 10, cut: "end" } },
      ],
      rows,
      sortedBy: ctx.state.processSort === "cpu" ? 0 : 1,
      note: procs ? `${title} ${range || String(procs.length)}` : title,
      noteStyle: S.title,
      empty: procs ? "no processes" : "reading processes…",
      scroll,
      focused: false,
    }, ctx.g);
  },
};
