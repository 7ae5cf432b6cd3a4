/**
 * How the watch screen looks: SGR styles (as parameter strings, "" = default) and the glyphs,
 * in a Unicode and a 7-bit ASCII set. The canvas drops every style when colour is off.
 */
import type { Grade } from "./state.ts";

export type Style = string;

export const S = {
  none: "",
  bold: "1",
  dim: "2",
  title: "1;36",
  header: "1",
  inverse: "7",
  green: "32",
  yellow: "33",
  red: "1;31",
  blue: "34",
  magenta: "35",
  cyan: "36",
  paused: "1;30;43",
  replay: "1;30;46",
  critical: "1;37;41",
  warning: "1;30;43",
} as const;

export function gradeStyle(grade: Grade): Style {
  return grade === "critical" ? S.red : grade === "warning" ? S.yellow : S.green;
}

export function worstGrade(...grades: Grade[]): Grade {
  return grades.includes("critical") ? "critical" : grades.includes("warning") ? "warning" : "ok";
}

/** Fill glyphs of the CPU split and the memory bar: distinct characters, not only colours. */
export interface BarGlyphs {
  user: string;
  system: string;
  iowait: string;
  steal: string;
  used: string;
  cache: string;
  empty: string;
  left: string;
  right: string;
}

export interface Glyphs {
  bar: BarGlyphs;
  dash: string;
  ellipsis: string;
  times: string;
  dot: string;
  /** After the header of the column a table is sorted by: descending, ascending. */
  sortMark: string;
  sortAscending: string;
  /** Before the title of the table the scroll and sort keys act on. */
  focusMark: string;
  vertical: string;
  box: { tl: string; tr: string; bl: string; br: string; h: string; v: string };
  /** asciichart's ten symbols: ┼ ┤ ╶ ╴ ─ ╰ ╭ ╮ ╯ │ */
  chart: [string, string, string, string, string, string, string, string, string, string];
}

const UNICODE: Glyphs = {
  bar: {
    user: "█",
    system: "▓",
    iowait: "░",
    steal: "▒",
    used: "█",
    cache: "░",
    empty: " ",
    left: "[",
    right: "]",
  },
  dash: "—",
  ellipsis: "…",
  times: "×",
  dot: "·",
  sortMark: "▾",
  sortAscending: "▴",
  focusMark: "▸",
  vertical: "│",
  box: { tl: "╭", tr: "╮", bl: "╰", br: "╯", h: "─", v: "│" },
  chart: ["┼", "┤", "╶", "╴", "─", "╰", "╭", "╮", "╯", "│"],
};

const ASCII: Glyphs = {
  bar: {
    user: "#",
    system: "=",
    iowait: "~",
    steal: "%",
    used: "#",
    cache: ":",
    empty: " ",
    left: "[",
    right: "]",
  },
  dash: "-",
  ellipsis: "~",
  times: "x",
  dot: "|",
  sortMark: "*",
  sortAscending: "*",
  focusMark: ">",
  vertical: "|",
  box: { tl: "+", tr: "+", bl: "+", br: "+", h: "-", v: "|" },
  chart: ["+", "|", "-", "-", "-", "'", ".", ".", "'", "|"],
};

export function glyphs(ascii: boolean): Glyphs {
  return ascii ? ASCII : UNICODE;
}

/** The 7-bit stand-ins for the non-ASCII characters the formatters and data commonly produce. */
const ASCII_FALLBACK: Record<string, string> = {
  "—": "-",
  "–": "-",
  "…": "~",
  "×": "x",
  "·": "|",
  "µ": "u",
  "°": "o",
  "’": "'",
  "‘": "'",
  "“": '"',
  "”": '"',
};

/** A character as it may appear on an ASCII-only screen. */
export function asciiChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0x20 && cp < 0x7f) return ch;
  return ASCII_FALLBACK[ch] ?? "?";
}
