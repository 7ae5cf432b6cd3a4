/**
 * The frame around the panels: the header line (host, kernel, uptime, load, clock, interval,
 * PAUSED/REPLAY, firing alerts), the status line (message or key hints, hidden panels, collector
 * errors), the help overlay and the "terminal too small" screen.
 */
import { naturalCompare } from "../natural.ts";
import { formatUptime } from "../format.ts";
import { type Canvas, fitText, padText, type Rect, textWidth } from "./canvas.ts";
import { MIN_HEIGHT, MIN_WIDTH } from "./layout.ts";
import { sortIndex } from "./panel_table.ts";
import type { PanelContext } from "./panel_widgets.ts";
import {
  type FiringAlert,
  focusedTable,
  PANEL_IDS,
  PANEL_TITLES,
  SORT_COLUMNS,
  sortTarget,
} from "./state.ts";
import { S, type Style } from "./style.ts";
import { clockTime, formatInterval, localDateTime, num } from "./units.ts";

interface Piece {
  text: string;
  style: Style;
  /** Dropped first when the line is too long: higher numbers go first. */
  drop: number;
  side: "left" | "right";
  /** The firing-alerts badge: the alerts' names are shown next to it while it is kept. */
  alerts?: boolean;
}

/** Critical before warning, then by rule and entity: the order the header lists them. */
export function worstAlerts(alerts: readonly FiringAlert[]): FiringAlert[] {
  const rank = (a: FiringAlert) => (a.severity === "critical" ? 0 : 1);
  return [...alerts].sort((a, b) =>
    rank(a) - rank(b) || naturalCompare(a.rule, b.rule) ||
    naturalCompare(a.entity ?? "", b.entity ?? "")
  );
}

export function drawHeader(c: Canvas, r: Rect, ctx: PanelContext) {
  if (r.height < 1) return;
  const { state, opts } = ctx;
  const m = state.sample?.metrics ?? {};
  const d = ctx.g.dash;
  const load = [m.load_average_1m, m.load_average_5m, m.load_average_15m]
    .map((v) => (num(v) == null ? d : (v as number).toFixed(2)))
    .join(" ");
  const pieces: Piece[] = [
    { text: state.sample?.host ?? "sysmon", style: S.title, drop: 0, side: "left" },
    { text: state.kernel, style: S.dim, drop: 6, side: "left" },
    {
      text: `up ${state.uptimeSeconds == null ? d : formatUptime(state.uptimeSeconds)}`,
      style: S.none,
      drop: 4,
      side: "left",
    },
    { text: `load ${load}`, style: S.none, drop: 2, side: "left" },
  ];
  const alerts = worstAlerts(state.firingAlerts);
  if (alerts.length > 0) {
    const critical = alerts[0].severity === "critical";
    const count = `${alerts.length} alert${alerts.length === 1 ? "" : "s"}`;
    pieces.push({
      text: ` ${count} `,
      style: critical ? S.critical : S.warning,
      drop: 1,
      side: "right",
      alerts: true,
    });
  }
  if (state.replay) {
    const t = new Date(state.replay.time);
    const when = Number.isNaN(t.getTime()) ? state.replay.time : localDateTime(t);
    const speed = `${ctx.g.times}${formatSpeed(state.replay.speed)}`;
    const end = state.replay.atEnd ? " end" : "";
    pieces.push({
      text: ` REPLAY ${when} ${speed}${end} `,
      style: S.replay,
      drop: 0,
      side: "right",
    });
  }
  if (state.paused) pieces.push({ text: " PAUSED ", style: S.paused, drop: 0, side: "right" });
  pieces.push({
    text: `every ${formatInterval(state.intervalMs)}`,
    style: S.dim,
    drop: 3,
    side: "right",
  });
  pieces.push({
    text: clockTime(opts.now),
    style: S.bold,
    drop: state.replay ? 5 : 1,
    side: "right",
  });

  const widthOf = (ps: Piece[]) => ps.reduce((a, p) => a + textWidth(p.text) + 2, -2);
  let kept = pieces;
  while (kept.length > 1 && widthOf(kept) > r.width) {
    const worst = Math.max(...kept.map((p) => p.drop));
    const i = kept.map((p) => p.drop).lastIndexOf(worst);
    kept = kept.filter((_, k) => k !== i);
  }
  // Firing alerts' names matter more than the kernel, the uptime and the interval.
  const nameRoom = () => r.width - widthOf(kept) - 2;
  while (alerts.length > 0 && nameRoom() < 24) {
    const optional = kept.filter((p) => p.drop >= 3);
    if (optional.length === 0) break;
    const worst = optional.reduce((a, b) => (b.drop >= a.drop ? b : a));
    kept = kept.filter((p) => p !== worst);
  }
  const left = kept.filter((p) => p.side === "left");
  const right = kept.filter((p) => p.side === "right");
  let x = r.x;
  for (const p of left) {
    x += c.text(x, r.y, fitText(p.text, r.x + r.width - x, ctx.g.ellipsis), p.style) + 2;
  }
  const rightWidth = right.length ? widthOf(right) : 0;
  let rx = r.x + r.width - rightWidth;
  // The alerts' names fill what is left between the two sides.
  const room = rx - x - 2;
  if (room >= 8 && right.some((p) => p.alerts)) drawAlertNames(c, x, r.y, room, alerts, ctx);
  for (const p of right) rx += c.text(rx, r.y, p.text, p.style) + 2;
}

/** The worst alerts' names, right-aligned in `room` cells ending at x + room: "a, b, +3". */
function drawAlertNames(
  c: Canvas,
  x: number,
  y: number,
  room: number,
  alerts: FiringAlert[],
  ctx: PanelContext,
) {
  const names = alerts.map((a) => (a.entity ? `${a.rule} ${a.entity}` : a.rule));
  // As many whole names as fit with the "+N" for the rest; at least the worst one, cut.
  let shown = 0;
  for (let k = names.length; k >= 1; k--) {
    const rest = names.length - k;
    const w = textWidth(names.slice(0, k).join(", ")) + (rest ? textWidth(`, +${rest}`) : 0);
    if (w <= room) {
      shown = k;
      break;
    }
  }
  const spans: [string, Style][] = [];
  if (shown === 0) {
    const rest = names.length > 1 ? `, +${names.length - 1}` : "";
    spans.push([
      fitText(names[0], room - textWidth(rest), ctx.g.ellipsis),
      severityStyle(alerts[0]),
    ]);
    if (rest) spans.push([rest, S.dim]);
  } else {
    names.slice(0, shown).forEach((n, i) => {
      if (i > 0) spans.push([", ", S.dim]);
      spans.push([n, severityStyle(alerts[i])]);
    });
    if (shown < names.length) spans.push([`, +${names.length - shown}`, S.dim]);
  }
  let at = x + room - spans.reduce((a, [t]) => a + textWidth(t), 0);
  for (const [text, style] of spans) at += c.text(at, y, text, style);
}

function severityStyle(a: FiringAlert): Style {
  return a.severity === "critical" ? S.red : S.yellow;
}

function formatSpeed(speed: number): string {
  return Number.isInteger(speed) ? String(speed) : speed.toFixed(speed < 1 ? 2 : 1);
}

export function drawStatus(c: Canvas, r: Rect, ctx: PanelContext) {
  if (r.height < 1) return;
  const { state } = ctx;
  const right: string[] = [];
  const hidden = PANEL_IDS.map((id, i) => [id, i + 1] as const).filter(([id]) =>
    state.hidden.has(id)
  );
  if (hidden.length) {
    right.push(`hidden: ${hidden.map(([id, k]) => `${k} ${PANEL_TITLES[id]}`).join(", ")}`);
  }
  const errors = state.sample?.errors ?? [];
  if (errors.length) {
    right.push(
      `${errors.length} collector error${errors.length > 1 ? "s" : ""}: ${errors[0].collector}`,
    );
  }
  const rightText = right.join("  ");
  let x = r.x;
  const leftRoom = r.width - (rightText ? textWidth(rightText) + 2 : 0);
  if (state.message) {
    x += c.text(x, r.y, fitText(state.message, Math.max(0, leftRoom), ctx.g.ellipsis), S.yellow);
  } else {
    for (const [key, what] of hints(ctx)) {
      const w = textWidth(key) + 1 + textWidth(what);
      if (x + w > r.x + leftRoom) break;
      x += c.text(x, r.y, key, S.bold);
      x += c.text(x, r.y, ` ${what}  `, S.dim);
    }
  }
  if (rightText) {
    const text = fitText(rightText, Math.max(0, r.x + r.width - x), ctx.g.ellipsis);
    c.text(r.x + r.width - textWidth(text), r.y, text, errors.length ? S.red : S.dim);
  }
}

function hints(ctx: PanelContext): [string, string][] {
  const pause = ctx.state.paused ? "resume" : "pause";
  const list: [string, string][] = [["q", "quit"], ["?", "help"], ["p", pause]];
  if (ctx.state.replay) {
    list.push([ctx.opts.ascii ? "Left/Right" : "←/→", "step"], ["</>", "speed"]);
  }
  list.push(["+/-", "interval"], ["1-6", "panels"], ["Tab", "focus"], ["s", "sort"]);
  list.push(["m/c", "procs by mem/cpu"]);
  return list;
}

/** The key help as [keys, meaning] rows; rows with "" keys continue the entry above. */
export function helpLines(ctx: PanelContext): [string, string][] {
  const a = ctx.opts.ascii;
  const lines: [string, string][] = [
    ["q  Ctrl-C", "quit"],
    ["?  F1", "show / hide this help"],
    ["p  space", "pause / resume"],
    ["+  -", `refresh faster / slower (now every ${formatInterval(ctx.state.intervalMs)})`],
    ["1 ... 6", "show / hide a panel:"],
  ];
  const toggles = PANEL_IDS.map((id, i) =>
    `${i + 1} ${PANEL_TITLES[id]}${ctx.state.hidden.has(id) ? " (hidden)" : ""}`
  );
  lines.push(["", toggles.slice(0, 3).join("  ")], ["", toggles.slice(3).join("  ")]);
  lines.push(
    ["Tab", `focus the next table (now ${focusName(ctx)}, marked ${ctx.g.focusMark})`],
    ["s", sortHelp(ctx)],
    [a ? "Up Down PgUp PgDn" : "↑ ↓ PgUp PgDn", scrollHelp(ctx)],
    ["m  c", "sort processes by memory / CPU"],
  );
  if (ctx.state.replay) {
    lines.push(
      ["", ""],
      [a ? "Left  Right" : "←  →", "replay: one sample back / forward"],
      ["[  ]", "replay: one hour back / forward"],
      ["{  }", "replay: one day back / forward"],
      ["<  >", "replay: slower / faster"],
    );
  }
  return lines;
}

function focusName(ctx: PanelContext): string {
  const table = focusedTable(ctx.state);
  return table ? PANEL_TITLES[table] : "none";
}

function scrollHelp(ctx: PanelContext): string {
  return focusedTable(ctx.state)
    ? `scroll ${focusName(ctx)} (Home / End: top / bottom)`
    : "scroll (no table shown)";
}

/** What `s` does now: processes toggle CPU/memory, the other tables cycle their columns. */
function sortHelp(ctx: PanelContext): string {
  if (focusedTable(ctx.state) === "processes") {
    const other = ctx.state.processSort === "cpu" ? "memory" : "CPU";
    return `sort Processes by ${other}`;
  }
  const target = sortTarget(ctx.state);
  if (!target) return "next sort column (no table shown)";
  const now = SORT_COLUMNS[target][sortIndex(ctx, target)];
  return `sort ${PANEL_TITLES[target]}: next column (now ${now})`;
}

export function drawHelp(c: Canvas, ctx: PanelContext) {
  const lines = helpLines(ctx);
  const keyW = Math.max(...lines.map(([k]) => textWidth(k)));
  const textW = Math.max(...lines.map(([, t]) => keyW + 3 + textWidth(t)));
  const w = Math.min(c.width - 2, textW + 4);
  const h = Math.min(c.height - 2, lines.length + 2);
  if (w < 10 || h < 3) return;
  const x0 = Math.floor((c.width - w) / 2);
  const y0 = Math.floor((c.height - h) / 2);
  const b = ctx.g.box;
  c.fill({ x: x0, y: y0, width: w, height: h });
  c.text(x0, y0, b.tl + b.h.repeat(w - 2) + b.tr, S.cyan);
  c.text(x0 + 2, y0, " Help: sysmon watch ", S.title, w - 4);
  for (let i = 1; i < h - 1; i++) {
    c.text(x0, y0 + i, b.v, S.cyan);
    c.text(x0 + w - 1, y0 + i, b.v, S.cyan);
  }
  c.text(x0, y0 + h - 1, b.bl + b.h.repeat(w - 2) + b.br, S.cyan);
  const inner = w - 4;
  lines.slice(0, h - 2).forEach(([key, text], i) => {
    const y = y0 + 1 + i;
    c.text(x0 + 2, y, padText(key, keyW, "left"), S.bold, inner);
    c.text(
      x0 + 2 + keyW + 3,
      y,
      fitText(text, inner - keyW - 3, ctx.g.ellipsis),
      S.none,
      inner - keyW - 3,
    );
  });
}

/** The whole frame when the terminal is below MIN_WIDTH × MIN_HEIGHT. */
export function drawTooSmall(c: Canvas, ellipsis: string, times: string) {
  const size = `${c.width}${times}${c.height}`;
  const need = `${MIN_WIDTH}${times}${MIN_HEIGHT}`;
  const one = `terminal too small: ${size}, need at least ${need}`;
  const lines = textWidth(one) <= c.width
    ? [one]
    : [`terminal too small: ${size}`, `need at least ${need}`];
  const y0 = Math.max(0, Math.floor((c.height - lines.length) / 2));
  lines.forEach((line, i) => {
    const text = fitText(line, c.width, ellipsis);
    c.text(Math.floor((c.width - textWidth(text)) / 2), y0 + i, text, S.yellow);
  });
}
