/**
 * The key decoder of `sysmon watch`: raw terminal bytes → named keys. Pure and stateful by argument:
 * a read may hold several keys or only half an escape sequence, so the undecoded tail comes back as
 * `rest` and is handed in again, as `pending`, with the next read.
 */

/** Every key the watch screen knows, in one place so the help screen and tests can list them. */
export const KEYS = [
  "q",
  "ctrl-c",
  "escape",
  "redraw",
  "help",
  "pause",
  "faster",
  "slower",
  "panel1",
  "panel2",
  "panel3",
  "panel4",
  "panel5",
  "panel6",
  "sort",
  "focus",
  "proc-sort-cpu",
  "proc-sort-mem",
  "up",
  "down",
  "left",
  "right",
  "pgup",
  "pgdn",
  "home",
  "end",
  "hour-back",
  "hour-fwd",
  "day-back",
  "day-fwd",
  "speed-down",
  "speed-up",
] as const;

export type Key = typeof KEYS[number];

/** How long a lone ESC waits for the rest of a sequence before it counts as the Escape key. */
export const ESCAPE_TIMEOUT_MS = 50;

const ESC = 0x1b;
/** A sequence still unfinished after this many bytes is garbage, not a key: drop it. */
const MAX_SEQUENCE = 32;
const EMPTY = new Uint8Array(0);

/** Keys that are one byte. Anything else below 0x80 is ignored; bytes ≥ 0x80 (UTF-8) always are. */
const SINGLE_CHARS: ReadonlyArray<readonly [string, Key]> = [
  ["\x03", "ctrl-c"],
  ["\x0c", "redraw"], // Ctrl-L, as in every full-screen program
  ["q", "q"],
  ["Q", "q"], // Caps Lock should not trap the user
  ["?", "help"],
  ["p", "pause"],
  [" ", "pause"],
  ["+", "faster"],
  ["=", "faster"], // + without Shift on most layouts
  ["-", "slower"],
  ["1", "panel1"],
  ["2", "panel2"],
  ["3", "panel3"],
  ["4", "panel4"],
  ["5", "panel5"],
  ["6", "panel6"],
  ["s", "sort"],
  ["\t", "focus"], // Tab: the next table takes the scroll and sort keys
  ["c", "proc-sort-cpu"],
  ["m", "proc-sort-mem"],
  ["[", "hour-back"],
  ["]", "hour-fwd"],
  ["{", "day-back"],
  ["}", "day-fwd"],
  ["<", "speed-down"],
  [",", "speed-down"], // < without Shift
  [">", "speed-up"],
  [".", "speed-up"], // > without Shift
];
const SINGLE: ReadonlyMap<number, Key> = new Map(
  SINGLE_CHARS.map(([ch, key]) => [ch.charCodeAt(0), key] as const),
);

/** CSI sequences ending in `~` (VT220 style), by their first parameter. */
const TILDE: Readonly<Record<string, Key>> = {
  "1": "home", // linux console, screen, tmux
  "7": "home", // rxvt
  "4": "end",
  "8": "end",
  "5": "pgup",
  "6": "pgdn",
  "11": "help", // F1 on rxvt and old xterm
};

/** The final byte of cursor-key sequences, shared by CSI (ESC [ A) and SS3 (ESC O A) forms. */
const CURSOR_FINAL: Readonly<Record<string, Key>> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  P: "help", // F1
};

type Scan =
  | { complete: true; end: number; key?: Key }
  | { complete: false; end: number };

/**
 * Decodes `pending` (the `rest` of the previous call) followed by `bytes`. Never throws: unknown
 * bytes and unknown or malformed escape sequences are skipped. A lone ESC at the end stays in
 * `rest`, as does half a sequence; see {@link flushPending} for what to do when no more bytes come.
 */
export function decodeKeys(
  bytes: Uint8Array,
  pending: Uint8Array = EMPTY,
): { keys: Key[]; rest: Uint8Array } {
  const buf = pending.length === 0 ? bytes : concat(pending, bytes);
  const keys: Key[] = [];
  let i = 0;
  while (i < buf.length) {
    if (buf[i] !== ESC) {
      const key = SINGLE.get(buf[i]);
      if (key) keys.push(key);
      i++;
      continue;
    }
    const scan = scanEscape(buf, i);
    if (!scan.complete) {
      // Wait for the rest, unless it has grown too long to be a key at all.
      if (scan.end - i <= MAX_SEQUENCE) return { keys, rest: buf.slice(i) };
      i = scan.end;
      continue;
    }
    if (scan.key) keys.push(scan.key);
    i = scan.end;
  }
  return { keys, rest: EMPTY };
}

/**
 * What the carried-over bytes mean once no more input has come for {@link ESCAPE_TIMEOUT_MS}:
 * a lone ESC is the Escape key; half a sequence (ESC [, ESC O, …: Alt-[ or a cut-off read) is
 * nothing. The caller then drops its pending bytes.
 */
export function flushPending(pending: Uint8Array): Key[] {
  return pending.length === 1 && pending[0] === ESC ? ["escape"] : [];
}

/** Reads the escape sequence starting at `buf[start]` (an ESC). */
function scanEscape(buf: Uint8Array, start: number): Scan {
  const next = start + 1;
  if (next >= buf.length) return { complete: false, end: buf.length };
  const kind = buf[next];
  if (kind === ESC) return { complete: true, end: next, key: "escape" }; // Escape pressed twice
  if (kind === 0x5b) return scanCsi(buf, next + 1); // ESC [
  if (kind === 0x4f) return scanSs3(buf, next + 1); // ESC O
  // ESC + a printable byte is Alt+key, which means nothing here; ESC + a control byte: the control
  // byte (Ctrl-C after an aborted sequence, say) still counts.
  const printable = kind >= 0x20 && kind < 0x7f;
  return { complete: true, end: printable ? next + 1 : next };
}

/** CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E. */
function scanCsi(buf: Uint8Array, from: number): Scan {
  if (from >= buf.length) return { complete: false, end: buf.length };
  if (buf[from] === 0x5b) {
    // Linux console function keys: ESC [ [ A (F1) … ESC [ [ E (F5).
    if (from + 1 >= buf.length) return { complete: false, end: buf.length };
    return { complete: true, end: from + 2, key: buf[from + 1] === 0x41 ? "help" : undefined };
  }
  let j = from;
  while (j < buf.length && buf[j] >= 0x30 && buf[j] <= 0x3f) j++;
  const paramEnd = j;
  while (j < buf.length && buf[j] >= 0x20 && buf[j] <= 0x2f) j++;
  if (j >= buf.length) return { complete: false, end: buf.length };
  const final = buf[j];
  // A byte that cannot be in a CSI sequence ends it malformed; that byte is decoded on its own.
  if (final < 0x40 || final > 0x7e) return { complete: true, end: j };
  const key = paramEnd === j
    ? csiKey(text(buf, from, paramEnd), String.fromCharCode(final))
    : undefined;
  return { complete: true, end: j + 1, key };
}

function csiKey(params: string, final: string): Key | undefined {
  // Private parameters (<, =, >, ?) introduce mouse reports and replies, never keys.
  if (/^[<=>?]/.test(params)) return undefined;
  const first = params.split(";")[0];
  if (final === "~") return TILDE[first];
  // Modified forms (ESC [ 1 ; 5 A for Ctrl-Up) count as the plain key.
  if (first !== "" && first !== "1") return undefined;
  return CURSOR_FINAL[final];
}

/** SS3: ESC O, optional modifier digits (some terminals), one final byte. */
function scanSs3(buf: Uint8Array, from: number): Scan {
  let j = from;
  while (j < buf.length && buf[j] >= 0x30 && buf[j] <= 0x3f) j++;
  if (j >= buf.length) return { complete: false, end: buf.length };
  const final = buf[j];
  if (final < 0x40 || final > 0x7e) return { complete: true, end: j };
  return { complete: true, end: j + 1, key: CURSOR_FINAL[String.fromCharCode(final)] };
}

function text(buf: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...buf.subarray(from, to));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
