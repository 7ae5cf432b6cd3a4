/** The key decoder of `sysmon watch` (src/ui/term/keys.ts): byte sequences as terminals send them. */
import { assertEquals } from "./assert.ts";
import { decodeKeys, flushPending, type Key, KEYS } from "../src/ui/term/keys.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const ESC = "\x1b";

/** Decodes `reads` one after another, carrying `rest` along as a caller would. */
function decodeReads(reads: Uint8Array[]): { keys: Key[]; rest: Uint8Array } {
  let pending: Uint8Array = new Uint8Array(0);
  const keys: Key[] = [];
  for (const read of reads) {
    const out = decodeKeys(read, pending);
    keys.push(...out.keys);
    pending = out.rest;
  }
  return { keys, rest: pending };
}

// Written out from the brief and from what xterm, rxvt, the Linux console and tmux send.
const SEQUENCES: [string, string, Key][] = [
  ["Ctrl-C", "\x03", "ctrl-c"],
  ["Ctrl-L", "\x0c", "redraw"],
  ["q", "q", "q"],
  ["Q", "Q", "q"],
  ["?", "?", "help"],
  ["p", "p", "pause"],
  ["space", " ", "pause"],
  ["+", "+", "faster"],
  ["=", "=", "faster"],
  ["-", "-", "slower"],
  ["1", "1", "panel1"],
  ["2", "2", "panel2"],
  ["3", "3", "panel3"],
  ["4", "4", "panel4"],
  ["5", "5", "panel5"],
  ["6", "6", "panel6"],
  ["s", "s", "sort"],
  ["Tab", "\t", "focus"],
  ["c", "c", "proc-sort-cpu"],
  ["m", "m", "proc-sort-mem"],
  ["[", "[", "hour-back"],
  ["]", "]", "hour-fwd"],
  ["{", "{", "day-back"],
  ["}", "}", "day-fwd"],
  ["<", "<", "speed-down"],
  [",", ",", "speed-down"],
  [">", ">", "speed-up"],
  [".", ".", "speed-up"],
  ["CSI up", ESC + "[A", "up"],
  ["CSI down", ESC + "[B", "down"],
  ["CSI right", ESC + "[C", "right"],
  ["CSI left", ESC + "[D", "left"],
  ["SS3 up (application cursor mode)", ESC + "OA", "up"],
  ["SS3 down", ESC + "OB", "down"],
  ["SS3 right", ESC + "OC", "right"],
  ["SS3 left", ESC + "OD", "left"],
  ["Ctrl-Up (modified CSI)", ESC + "[1;5A", "up"],
  ["Shift-Down", ESC + "[1;2B", "down"],
  ["PgUp", ESC + "[5~", "pgup"],
  ["PgDn", ESC + "[6~", "pgdn"],
  ["Ctrl-PgDn", ESC + "[6;5~", "pgdn"],
  ["Home CSI H (xterm)", ESC + "[H", "home"],
  ["Home SS3 H", ESC + "OH", "home"],
  ["Home CSI 1~ (linux, tmux)", ESC + "[1~", "home"],
  ["Home CSI 7~ (rxvt)", ESC + "[7~", "home"],
  ["End CSI F (xterm)", ESC + "[F", "end"],
  ["End SS3 F", ESC + "OF", "end"],
  ["End CSI 4~ (linux, tmux)", ESC + "[4~", "end"],
  ["End CSI 8~ (rxvt)", ESC + "[8~", "end"],
  ["F1 SS3 P (xterm)", ESC + "OP", "help"],
  ["F1 CSI 11~ (rxvt)", ESC + "[11~", "help"],
  ["F1 linux console", ESC + "[[A", "help"],
  ["Shift-F1 (xterm)", ESC + "[1;2P", "help"],
];

for (const [name, bytes, key] of SEQUENCES) {
  Deno.test(`decodeKeys: ${name} is ${key}`, () => {
    assertEquals(decodeKeys(enc(bytes)), { keys: [key], rest: new Uint8Array(0) });
  });
}

Deno.test("decodeKeys: every key of the union is reachable from some byte sequence", () => {
  const reached = new Set<Key>([...SEQUENCES.map(([, , k]) => k), "escape"]);
  assertEquals(KEYS.filter((k) => !reached.has(k)), []);
});

Deno.test("decodeKeys: several keys in one read, in order", () => {
  const out = decodeKeys(enc(`q1${ESC}[A2${ESC}OB ${ESC}[5~]\x03`));
  assertEquals(out.keys, [
    "q",
    "panel1",
    "up",
    "panel2",
    "down",
    "pause",
    "pgup",
    "hour-fwd",
    "ctrl-c",
  ]);
  assertEquals(out.rest.length, 0);
});

Deno.test("decodeKeys: a sequence split across reads at every byte decodes once", () => {
  const whole = `${ESC}[6~`;
  for (let cut = 1; cut < whole.length; cut++) {
    const first = decodeKeys(enc(whole.slice(0, cut)));
    assertEquals(first.keys, [], `cut at ${cut}`);
    assertEquals([...first.rest], [...enc(whole.slice(0, cut))], `cut at ${cut}`);
    const second = decodeKeys(enc(whole.slice(cut)), first.rest);
    assertEquals(second, { keys: ["pgdn"], rest: new Uint8Array(0) }, `cut at ${cut}`);
  }
});

Deno.test("decodeKeys: mixed input fed one byte per read gives the same keys", () => {
  const input = enc(`?${ESC}OP${ESC}[1;5C${ESC}[[A-${ESC}[11~${ESC}OH}`);
  const reads = [...input].map((b) => Uint8Array.of(b));
  assertEquals(decodeReads(reads), {
    keys: ["help", "help", "right", "help", "slower", "help", "home", "day-fwd"],
    rest: new Uint8Array(0),
  });
});

Deno.test("decodeKeys: the key before and after a split sequence are not lost", () => {
  assertEquals(decodeReads([enc(`s${ESC}[`), enc(`1;2`), enc(`Bm`)]).keys, [
    "sort",
    "down",
    "proc-sort-mem",
  ]);
});

Deno.test("decodeKeys: unknown escape sequences are skipped whole", () => {
  const unknown = [
    `${ESC}[2~`, // Insert
    `${ESC}[3~`, // Delete
    `${ESC}[15~`, // F5
    `${ESC}OQ`, // F2
    `${ESC}[Z`, // Shift-Tab
    `${ESC}[<0;12;5M`, // an SGR mouse report
    `${ESC}[?1;2c`, // a device attributes reply
    `${ESC}[200~`, // bracketed paste start
    `${ESC}[2;5A`, // a modifier form with an odd first parameter
    `${ESC}[1 q`, // a sequence with an intermediate byte
    `${ESC}[[E`, // F5 on the linux console
  ];
  for (const seq of unknown) {
    // The digits and letters inside must not leak out as keys (1, 2, 5 are panels, q quits).
    assertEquals(decodeKeys(enc(`${seq}p`)), { keys: ["pause"], rest: new Uint8Array(0) }, seq);
  }
});

Deno.test("decodeKeys: unknown bytes and UTF-8 characters are ignored, never thrown on", () => {
  const out = decodeKeys(enc(`x\r\n\x7f\x00é日😀q`));
  assertEquals(out, { keys: ["q"], rest: new Uint8Array(0) });
  // A multibyte character cut in two reads leaves nothing pending and yields nothing.
  const bytes = enc("日");
  assertEquals(decodeReads([bytes.subarray(0, 1), bytes.subarray(1), enc("c")]), {
    keys: ["proc-sort-cpu"],
    rest: new Uint8Array(0),
  });
  // 8-bit bytes that look like C1 controls (0x9b is CSI in 8-bit mode) are not keys either.
  assertEquals(decodeKeys(Uint8Array.of(0x9b, 0x41, 0x8f, 0x50)).keys, []);
});

Deno.test("decodeKeys: Alt+key (ESC then a printable byte) is ignored; a control byte still counts", () => {
  assertEquals(decodeKeys(enc(`${ESC}q`)).keys, []);
  assertEquals(decodeKeys(enc(`${ESC}x1`)).keys, ["panel1"]);
  assertEquals(decodeKeys(enc(`${ESC}\x03`)).keys, ["ctrl-c"]);
});

Deno.test("decodeKeys: a malformed CSI ends at the first byte that cannot belong to it", () => {
  assertEquals(decodeKeys(enc(`${ESC}[1\x03q`)).keys, ["ctrl-c", "q"]);
  assertEquals(decodeKeys(enc(`${ESC}[${ESC}[B`)).keys, ["down"]);
});

Deno.test("decodeKeys: an endless unfinished sequence is dropped instead of kept forever", () => {
  const out = decodeKeys(enc(`${ESC}[${"1".repeat(40)}`));
  assertEquals(out, { keys: [], rest: new Uint8Array(0) });
  assertEquals(decodeKeys(enc("q"), out.rest).keys, ["q"]);
});

Deno.test("decodeKeys: a lone ESC waits; flushPending makes it the Escape key", () => {
  const out = decodeKeys(enc(ESC));
  assertEquals(out.keys, []);
  assertEquals([...out.rest], [0x1b]);
  assertEquals(flushPending(out.rest), ["escape"]);
  // The same ESC followed by more bytes in the next read is the start of a sequence instead.
  assertEquals(decodeKeys(enc("[A"), out.rest), { keys: ["up"], rest: new Uint8Array(0) });
});

Deno.test("decodeKeys: keys before a trailing ESC come out at once; the ESC stays pending", () => {
  const out = decodeKeys(enc(`1${ESC}`));
  assertEquals(out.keys, ["panel1"]);
  assertEquals(flushPending(out.rest), ["escape"]);
});

Deno.test("decodeKeys: ESC ESC is one Escape key now and one pending", () => {
  const out = decodeKeys(enc(ESC + ESC));
  assertEquals(out.keys, ["escape"]);
  assertEquals(flushPending(out.rest), ["escape"]);
});

Deno.test("flushPending: half a sequence means nothing; nothing pending means nothing", () => {
  assertEquals(flushPending(enc(`${ESC}[`)), []);
  assertEquals(flushPending(enc(`${ESC}O`)), []);
  assertEquals(flushPending(enc(`${ESC}[1;5`)), []);
  assertEquals(flushPending(new Uint8Array(0)), []);
});

Deno.test("decodeKeys: a stream of known tokens cut at random places decodes to the tokens' keys", () => {
  // Each token with the keys it stands for, on its own: the expectation comes from the tokens,
  // not from the decoder.
  const tokens: [string, Key[]][] = [
    ["q", ["q"]],
    ["+", ["faster"]],
    ["é", []],
    ["\t", ["focus"]],
    [`${ESC}[A`, ["up"]],
    [`${ESC}OB`, ["down"]],
    [`${ESC}[5~`, ["pgup"]],
    [`${ESC}[1;3D`, ["left"]],
    [`${ESC}[8~`, ["end"]],
    [`${ESC}[3~`, []],
    [`${ESC}[<64;3;4M`, []],
    [`${ESC}x`, []],
    [`${ESC}[[A`, ["help"]],
  ];
  let seed = 42;
  const random = (n: number) => { // a small LCG: the same "random" cases on every run
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed >>> 16) % n; // the high bits: an LCG's low bits repeat quickly
  };
  for (let round = 0; round < 200; round++) {
    const expected: Key[] = [];
    let text = "";
    for (let t = 0; t < 12; t++) {
      const [bytes, keys] = tokens[random(tokens.length)];
      text += bytes;
      expected.push(...keys);
    }
    const all = enc(text);
    const reads: Uint8Array[] = [];
    for (let i = 0; i < all.length;) {
      const len = 1 + random(6);
      reads.push(all.subarray(i, i + len));
      i += len;
    }
    assertEquals(decodeReads(reads), { keys: expected, rest: new Uint8Array(0) }, text);
  }
});
