/** The screen side of `sysmon watch` (src/ui/term/screen.ts): frame diffs and display widths. */
import { assert, assertEquals } from "./assert.ts";
import {
  clipToWidth,
  diffFrame,
  displayWidth,
  ENTER_SCREEN,
  LEAVE_SCREEN,
} from "../src/ui/term/screen.ts";

const ESC = "\x1b";
const SYNC_BEGIN = `${ESC}[?2026h`;
const SYNC_END = `${ESC}[?2026l`;

/** The rows a diff positions the cursor on, in order (CUP to column 1). */
function rowsAddressed(out: string): number[] {
  // deno-lint-ignore no-control-regex -- escape sequences are what this matches
  return [...out.matchAll(/\x1b\[(\d+);1H/g)].map((m) => Number(m[1]));
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/**
 * A tiny terminal: a grid of cells that understands what diffFrame may send (CUP, EL, ED 2, SGR
 * and the private modes, which change nothing visible here), wide characters taking two cells,
 * and no autowrap (ENTER_SCREEN turns it off): the cursor stays on the last column once there,
 * as in xterm. Enough to check that a diff turns the old picture
 * into the new one.
 */
class FakeScreen {
  cells: string[][];
  row = 0;
  col = 0;
  constructor(readonly width: number, readonly height: number) {
    this.cells = Array.from({ length: height }, () => Array(width).fill(" "));
  }
  feed(s: string) {
    for (let i = 0; i < s.length;) {
      // deno-lint-ignore no-control-regex -- escape sequences are what this matches
      const m = /^\x1b\[([?0-9;]*)([A-Za-z])/.exec(s.slice(i));
      if (m) {
        this.control(m[1], m[2]);
        i += m[0].length;
        continue;
      }
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      i += ch.length;
      const w = displayWidth(ch);
      // Without autowrap the cursor never passes the last column: what comes later overwrites it.
      const at = Math.min(this.col, this.width - w);
      this.cells[this.row][at] = ch;
      if (w === 2) this.cells[this.row][at + 1] = "";
      this.col = Math.min(at + w, this.width - 1);
    }
  }
  control(params: string, final: string) {
    if (final === "H") {
      const [r, c] = params.split(";").map((p) => Number(p || "1"));
      this.row = Math.min(this.height, r || 1) - 1;
      this.col = Math.min(this.width, c || 1) - 1;
    } else if (final === "K") {
      for (let c = this.col; c < this.width; c++) this.cells[this.row][c] = " ";
    } else if (final === "J" && params === "2") {
      for (const line of this.cells) line.fill(" ");
    } else if (!"mhl".includes(final)) {
      throw new Error(`FakeScreen does not know CSI ${params}${final}`);
    }
  }
  lines(): string[] {
    return this.cells.map((line) => line.join("").trimEnd());
  }
}

// deno-lint-ignore no-control-regex -- escape sequences are what this matches
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

Deno.test("diffFrame: the first frame is a full redraw in one synchronized block", () => {
  const out = diffFrame(null, ["ab", "", "c"], 10);
  assertEquals(
    out,
    `${SYNC_BEGIN}${ESC}[0m${ESC}[2J` +
      `${ESC}[1;1Hab${ESC}[0m${ESC}[K` +
      `${ESC}[2;1H${ESC}[0m${ESC}[K` +
      `${ESC}[3;1Hc${ESC}[0m${ESC}[K` +
      SYNC_END,
  );
});

Deno.test("diffFrame: a different line count redraws every row", () => {
  const out = diffFrame(["a", "b"], ["a", "b", "c"], 10);
  assertEquals(rowsAddressed(out), [1, 2, 3]);
  assertEquals(count(out, `${ESC}[2J`), 1);
});

Deno.test("diffFrame: otherwise only the changed lines, at their rows, in one block", () => {
  const prev = ["one", "two", "three", "four", "five", "six"];
  const next = ["one", "TWO", "three", "four", "five", "SIX"];
  const out = diffFrame(prev, next, 20);
  assertEquals(rowsAddressed(out), [2, 6]);
  assert(out.startsWith(SYNC_BEGIN) && out.endsWith(SYNC_END), JSON.stringify(out));
  assertEquals(count(out, SYNC_BEGIN), 1);
  assertEquals(count(out, SYNC_END), 1);
  assertEquals(count(out, `${ESC}[2J`), 0, "no clear for a partial update");
  assert(!out.includes("three") && !out.includes("one"), "unchanged lines are not resent");
  assertEquals(
    out,
    `${SYNC_BEGIN}${ESC}[2;1HTWO${ESC}[0m${ESC}[K${ESC}[6;1HSIX${ESC}[0m${ESC}[K${SYNC_END}`,
  );
});

Deno.test("diffFrame: nothing changed writes nothing", () => {
  const frame = ["a", "\x1b[31mb\x1b[0m", "c"];
  assertEquals(diffFrame(frame, [...frame], 10), "");
});

Deno.test("diffFrame: colours are reset before erasing, so the cleared cells are not painted", () => {
  const out = diffFrame(["x"], [`${ESC}[41mALERT`], 10);
  assertEquals(out, `${SYNC_BEGIN}${ESC}[1;1H${ESC}[41mALERT${ESC}[0m${ESC}[K${SYNC_END}`);
});

Deno.test("diffFrame: a line filling the width gets no erase (EL at the margin would eat its last cell)", () => {
  const out = diffFrame(["x", "y"], ["abcde", "abc"], 5);
  assertEquals(
    out,
    `${SYNC_BEGIN}${ESC}[1;1Habcde${ESC}[0m${ESC}[2;1Habc${ESC}[0m${ESC}[K${SYNC_END}`,
  );
  // The same holds for wide characters: 日本 is 4 cells.
  assert(!diffFrame(["x"], ["a日本"], 5).includes(`${ESC}[K`));
});

Deno.test("diffFrame: a line wider than the screen is cut to it, colours kept", () => {
  const out = diffFrame(["x"], [`${ESC}[32mabcdefgh${ESC}[0m`], 4);
  assertEquals(out, `${SYNC_BEGIN}${ESC}[1;1H${ESC}[32mabcd${ESC}[0m${SYNC_END}`);
});

Deno.test("diffFrame: applied to a screen showing prev, the screen shows next", () => {
  const width = 12;
  const height = 6;
  let seed = 7;
  const random = (n: number) => { // a small LCG: the same cases on every run
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed >>> 16) % n; // the high bits: an LCG's low bits repeat quickly
  };
  const pieces = ["cpu", " 42%", "日本", `${ESC}[31mhot${ESC}[0m`, "████", "", "a longer piece"];
  const frame = () =>
    Array.from({ length: height }, () => {
      let line = "";
      for (let n = random(4); n > 0; n--) line += pieces[random(pieces.length)];
      return line;
    });
  const screen = new FakeScreen(width, height);
  screen.feed(ENTER_SCREEN);
  let prev: string[] | null = null;
  for (let step = 0; step < 100; step++) {
    // Keep some lines of the previous frame, so partial updates happen too.
    const fresh = frame();
    const next: string[] = prev && random(2) ? prev.map((l, i) => (i % 2 ? l : fresh[i])) : fresh;
    screen.feed(diffFrame(prev, next, width));
    assertEquals(
      screen.lines(),
      next.map((l) => plain(clipToWidth(l, width)).trimEnd()),
      `step ${step}`,
    );
    prev = next;
  }
});

Deno.test("displayWidth: SGR sequences take no cells", () => {
  assertEquals(displayWidth("abc"), 3);
  assertEquals(displayWidth(`${ESC}[31mred${ESC}[0m`), 3);
  assertEquals(displayWidth(`${ESC}[1;38;5;208mX${ESC}[m`), 1);
  assertEquals(displayWidth(`${ESC}[38:2:1:2:3mrgb${ESC}[0m`), 3);
  assertEquals(displayWidth(""), 0);
});

Deno.test("displayWidth: East Asian wide characters and emoji take two cells", () => {
  assertEquals(displayWidth("日本語"), 6);
  assertEquals(displayWidth("한국"), 4);
  assertEquals(displayWidth("ｈｏｓｔ"), 8); // fullwidth Latin
  assertEquals(displayWidth(`${ESC}[1;32m日本${ESC}[0m ok`), 7);
  assertEquals(displayWidth("😀"), 2);
  assertEquals(displayWidth("𠀋"), 2); // outside the BMP (a surrogate pair in JS)
});

Deno.test("displayWidth: box drawing, blocks and braille used by charts are narrow", () => {
  assertEquals(displayWidth("┤╭─╯"), 4);
  assertEquals(displayWidth("▁▂▃█"), 4);
  assertEquals(displayWidth("⣿⡀"), 2);
  assertEquals(displayWidth("é"), 1);
});

Deno.test("displayWidth: combining marks and zero-width characters take none", () => {
  assertEquals(displayWidth("e\u0301"), 1);
  assertEquals(displayWidth("a\u200bb"), 2);
  assertEquals(displayWidth("\t\x07"), 0);
  // An OSC 8 hyperlink around text counts only the text.
  assertEquals(displayWidth(`${ESC}]8;;http://x${ESC}\\link${ESC}]8;;${ESC}\\`), 4);
});

Deno.test("clipToWidth: never splits a wide character across the edge", () => {
  assertEquals(clipToWidth("日本語", 5), "日本");
  assertEquals(clipToWidth("a日本語", 4), "a日");
  assertEquals(clipToWidth("abc", 10), "abc");
  assertEquals(clipToWidth(`${ESC}[31mabcdef`, 3), `${ESC}[31mabc`);
});

Deno.test("LEAVE_SCREEN undoes ENTER_SCREEN and ends with leaving the alternate screen and showing the cursor", () => {
  assert(ENTER_SCREEN.startsWith(`${ESC}[?1049h${ESC}[?25l`), JSON.stringify(ENTER_SCREEN));
  assert(ENTER_SCREEN.includes(`${ESC}[?7l`));
  assert(LEAVE_SCREEN.includes(`${ESC}[?7h`) && LEAVE_SCREEN.includes(`${ESC}[0m`));
  assert(LEAVE_SCREEN.startsWith(SYNC_END), "a cut-off synchronized block is ended first");
  assert(LEAVE_SCREEN.endsWith(`${ESC}[?1049l${ESC}[?25h`), JSON.stringify(LEAVE_SCREEN));
});
