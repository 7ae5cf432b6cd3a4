/**
 * The screen side of `sysmon watch`, pure: the escape sequences that set up and restore the
 * terminal, the frame diff that turns two frames into one write, and display widths.
 */

export const ENTER_ALT_SCREEN = "\x1b[?1049h";
export const LEAVE_ALT_SCREEN = "\x1b[?1049l";
export const HIDE_CURSOR = "\x1b[?25l";
export const SHOW_CURSOR = "\x1b[?25h";
export const CLEAR_SCREEN = "\x1b[2J";
export const RESET_SGR = "\x1b[0m";
export const ERASE_TO_LINE_END = "\x1b[K";
/** DECAWM: with autowrap off a line one cell too wide is cut by the terminal instead of scrolling. */
export const AUTOWRAP_OFF = "\x1b[?7l";
export const AUTOWRAP_ON = "\x1b[?7h";
/** Synchronized output (mode 2026): the terminal shows the frame only once it is complete. */
export const SYNC_BEGIN = "\x1b[?2026h";
export const SYNC_END = "\x1b[?2026l";

/** CUP: 1-based row and column. */
export function moveTo(row: number, column = 1): string {
  return `\x1b[${row};${column}H`;
}

/** Written once when watch starts. */
export const ENTER_SCREEN = ENTER_ALT_SCREEN + HIDE_CURSOR + AUTOWRAP_OFF + RESET_SGR +
  CLEAR_SCREEN + moveTo(1);

/**
 * Undoes {@link ENTER_SCREEN}, and ends a synchronized block in case a frame was cut off half-way.
 * It ends with leaving the alternate screen and showing the cursor: the user's shell is back as it was.
 */
export const LEAVE_SCREEN = SYNC_END + RESET_SGR + AUTOWRAP_ON + LEAVE_ALT_SCREEN + SHOW_CURSOR;

/**
 * The one string that turns the screen showing `prev` into `next` (lines of at most `width` cells,
 * SGR colours allowed). A full redraw when there is no previous frame or the line count changed;
 * otherwise only the lines that differ. "" when nothing changed. After a change of width the
 * caller passes `prev = null` (a resized terminal may have reflowed what it showed).
 *
 * Each line drawn is: cursor to (row, 1), the line cut to `width` cells, SGR reset, and then erase
 * to the end of the line — after the reset, so the cleared cells get the default background and
 * not the colour the line ended with — but only when the line is narrower than the screen: at the
 * right margin EL would erase the line's own last cell.
 */
export function diffFrame(prev: string[] | null, next: string[], width: number): string {
  const full = prev === null || prev.length !== next.length;
  let body = full ? RESET_SGR + CLEAR_SCREEN : "";
  for (let i = 0; i < next.length; i++) {
    if (!full && prev[i] === next[i]) continue;
    body += drawLine(i + 1, next[i], width);
  }
  return body === "" ? "" : SYNC_BEGIN + body + SYNC_END;
}

function drawLine(row: number, line: string, width: number): string {
  const { text, cells } = clip(line, width);
  return moveTo(row) + text + RESET_SGR + (cells < width ? ERASE_TO_LINE_END : "");
}

/** Terminal cells `s` takes: escape sequences take none, East Asian wide characters two. */
export function displayWidth(s: string): number {
  return clip(s, Infinity).cells;
}

/** `s` cut to at most `width` cells, escape sequences kept; a wide character never straddles the edge. */
export function clipToWidth(s: string, width: number): string {
  return clip(s, width).text;
}

// CSI (SGR and the like) and OSC (hyperlinks, ended by BEL or ST).
// deno-lint-ignore no-control-regex -- escape sequences are what this matches
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-_])/y;

function clip(s: string, width: number): { text: string; cells: number } {
  let cells = 0;
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) === 0x1b) {
      ESCAPE_SEQUENCE.lastIndex = i;
      const m = ESCAPE_SEQUENCE.exec(s);
      i += m ? m[0].length : 1; // a stray ESC takes no cell either
      continue;
    }
    const cp = s.codePointAt(i)!;
    const w = charWidth(cp);
    if (cells + w > width) return { text: s.slice(0, i), cells };
    cells += w;
    i += cp > 0xffff ? 2 : 1;
  }
  return { text: s, cells };
}

/** Cells of one code point: 0 for controls and combining marks, 2 for wide ones, else 1. */
export function charWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1; // the fast path for ASCII and Latin-1
  if (inRanges(cp, ZERO_WIDTH)) return 0;
  return inRanges(cp, WIDE) ? 2 : 1;
}

function inRanges(cp: number, ranges: readonly (readonly [number, number])[]): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[mid][0]) hi = mid - 1;
    else if (cp > ranges[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Combining marks, zero-width spaces and joiners, variation selectors (sorted, inclusive). */
const ZERO_WIDTH: readonly (readonly [number, number])[] = [
  [0x0300, 0x036f],
  [0x0483, 0x0489],
  [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2064],
  [0x20d0, 0x20ff],
  [0xfe00, 0xfe0f],
  [0xfe20, 0xfe2f],
  [0xfeff, 0xfeff],
  [0xe0100, 0xe01ef],
];

/**
 * East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth W/F) and the emoji shown wide
 * by default: a small table, not the whole file — enough for host names, mount points and
 * process names a watch screen shows (sorted, inclusive).
 */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initials
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f3],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e], // CJK radicals, Kangxi, CJK symbols and punctuation
  [0x3041, 0x3247], // Hiragana, Katakana, Bopomofo, enclosed CJK
  [0x3250, 0x33ff],
  [0x3400, 0x4dbf], // CJK Extension A
  [0x4e00, 0x9fff], // CJK Unified Ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo Extended-A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x16ff0, 0x16ff1],
  [0x17000, 0x18d08], // Tangut
  [0x1aff0, 0x1affe], // Kana extended-B
  [0x1b000, 0x1b2ff], // Kana supplement, Nushu
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f202],
  [0x1f210, 0x1f23b],
  [0x1f240, 0x1f248],
  [0x1f250, 0x1f251],
  [0x1f260, 0x1f265],
  [0x1f300, 0x1f320], // emoji: weather, landscape
  [0x1f32d, 0x1f335],
  [0x1f337, 0x1f37c],
  [0x1f37e, 0x1f393],
  [0x1f3a0, 0x1f3ca],
  [0x1f3cf, 0x1f3d3],
  [0x1f3e0, 0x1f3f0],
  [0x1f3f4, 0x1f3f4],
  [0x1f3f8, 0x1f43e],
  [0x1f440, 0x1f440],
  [0x1f442, 0x1f4fc],
  [0x1f4ff, 0x1f53d],
  [0x1f54b, 0x1f54e],
  [0x1f550, 0x1f567],
  [0x1f57a, 0x1f57a],
  [0x1f595, 0x1f596],
  [0x1f5a4, 0x1f5a4],
  [0x1f5fb, 0x1f64f], // emoticons
  [0x1f680, 0x1f6c5], // transport
  [0x1f6cc, 0x1f6cc],
  [0x1f6d0, 0x1f6d2],
  [0x1f6d5, 0x1f6d7],
  [0x1f6dd, 0x1f6df],
  [0x1f6eb, 0x1f6ec],
  [0x1f6f4, 0x1f6fc],
  [0x1f7e0, 0x1f7eb],
  [0x1f7f0, 0x1f7f0],
  [0x1f90c, 0x1f93a],
  [0x1f93c, 0x1f945],
  [0x1f947, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd], // CJK Extensions B–F
  [0x30000, 0x3fffd], // CJK Extension G and later
];
