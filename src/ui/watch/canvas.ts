/**
 * A grid of terminal cells that the panels draw on: every write is clipped to the grid, so a frame
 * is exactly width × height display cells whatever the data (wide CJK/emoji take two cells,
 * combining marks none, control characters become "?"). Styles become SGR codes only on output.
 */
import { charWidth as cellsOf } from "../term/screen.ts";
import { asciiChar, type Style } from "./style.ts";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Display cells of one code point, from the same table the frame writer clips with (so the two
 * never disagree): 0 for combining marks, 2 for East Asian wide and emoji.
 */
export function charWidth(ch: string): 0 | 1 | 2 {
  const cp = ch.codePointAt(0) ?? 0;
  // Control characters are drawn as "?" (one cell) by the canvas; the table gives them 0.
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 1;
  return cellsOf(cp) as 0 | 1 | 2;
}

/** Display width of plain text (no escape codes), as the canvas would lay it out. */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += isControl(ch) ? 1 : charWidth(ch);
  return w;
}

function isControl(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/** `s` cut to `width` display cells, ending in `ellipsis` when something was cut. */
export function fitText(s: string, width: number, ellipsis: string): string {
  if (width <= 0) return "";
  if (textWidth(s) <= width) return s;
  let out = "";
  let w = 0;
  for (const ch of s) {
    const cw = isControl(ch) ? 1 : charWidth(ch);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + ellipsis;
}

export function padText(s: string, width: number, align: "left" | "right" | "center"): string {
  const gap = Math.max(0, width - textWidth(s));
  if (align === "right") return " ".repeat(gap) + s;
  if (align === "center") {
    return " ".repeat(Math.floor(gap / 2)) + s + " ".repeat(gap - Math.floor(gap / 2));
  }
  return s + " ".repeat(gap);
}

/** The cell right of a wide character holds this marker and prints nothing. */
const CONTINUATION = "";

export class Canvas {
  readonly width: number;
  readonly height: number;
  readonly ascii: boolean;
  private chars: string[][];
  private styles: Style[][];

  constructor(width: number, height: number, ascii: boolean) {
    this.width = Math.max(0, width);
    this.height = Math.max(0, height);
    this.ascii = ascii;
    this.chars = Array.from({ length: this.height }, () => Array(this.width).fill(" "));
    this.styles = Array.from({ length: this.height }, () => Array(this.width).fill(""));
  }

  /**
   * Writes `text` at (x, y), clipped to the canvas and to `maxWidth` cells; returns the cells used.
   * Clipping is silent: callers that want an ellipsis use fitText first.
   */
  text(x: number, y: number, text: string, style: Style = "", maxWidth = Infinity): number {
    if (y < 0 || y >= this.height) return 0;
    const limit = Math.min(this.width, x + maxWidth);
    let col = x;
    for (const raw of text) {
      let ch = isControl(raw) ? "?" : raw;
      if (this.ascii) ch = asciiChar(ch);
      const w = charWidth(ch);
      if (w === 0) {
        // A combining mark joins the character before it (dropped at a row's start).
        if (col > x && col - 1 >= 0 && col - 1 < limit) this.chars[y][col - 1] += ch;
        continue;
      }
      if (col + w > limit) break;
      if (col >= 0) {
        this.put(col, y, ch, style);
        if (w === 2) this.put(col + 1, y, CONTINUATION, style);
      }
      col += w;
    }
    return Math.max(0, col - x);
  }

  /** Fills a rectangle with one character (a space by default). */
  fill(r: Rect, ch = " ", style: Style = ""): void {
    for (let y = r.y; y < r.y + r.height; y++) {
      for (let x = r.x; x < r.x + r.width; x++) this.text(x, y, ch, style, 1);
    }
  }

  /** Restyles cells without changing their characters (colouring a chart's line, a row). */
  restyle(x: number, y: number, width: number, style: Style, onlyNonBlank = false): void {
    if (y < 0 || y >= this.height) return;
    for (let c = Math.max(0, x); c < Math.min(this.width, x + width); c++) {
      if (onlyNonBlank && this.chars[y][c] === " ") continue;
      this.styles[y][c] = style;
    }
  }

  charAt(x: number, y: number): string {
    return this.chars[y]?.[x] ?? "";
  }

  private put(x: number, y: number, ch: string, style: Style) {
    if (x < 0 || x >= this.width) return;
    const row = this.chars[y];
    // Overwriting half of a wide character blanks its other half.
    if (row[x] === CONTINUATION && x > 0 && ch !== CONTINUATION) row[x - 1] = " ";
    if (x + 1 < this.width && row[x + 1] === CONTINUATION) row[x + 1] = " ";
    row[x] = ch;
    this.styles[y][x] = style;
  }

  /** The frame: one string per row, SGR codes only when `color`. */
  lines(color: boolean): string[] {
    return this.chars.map((row, y) => {
      let out = "";
      let current: Style = "";
      for (let x = 0; x < row.length; x++) {
        const style = color ? this.styles[y][x] : "";
        if (style !== current) {
          out += current === "" ? "" : "\x1b[0m";
          if (style !== "") out += `\x1b[${style}m`;
          current = style;
        }
        out += row[x];
      }
      return current === "" ? out : out + "\x1b[0m";
    });
  }
}
