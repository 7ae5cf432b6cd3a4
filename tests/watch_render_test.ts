/**
 * The watch renderer (src/ui/watch/): layout on its own, then whole frames from fixture samples
 * (tests/fixtures/watch/, values known by construction) at 80×24, 120×40 and below the minimum.
 */
import type { Sample } from "../src/core/model.ts";
import { percentChart } from "../src/ui/watch/chart.ts";
import {
  isTooSmall,
  layoutFrame,
  MIN_HEIGHT,
  MIN_WIDTH,
  type PanelNeed,
} from "../src/ui/watch/layout.ts";
import { renderFrame, scrollInfo } from "../src/ui/watch/render.ts";
import {
  type Grader,
  PANEL_IDS,
  type PanelId,
  type ProcessRow,
  type RenderOptions,
  SORT_COLUMNS,
  sortTarget,
  type WatchState,
} from "../src/ui/watch/state.ts";
import { glyphs } from "../src/ui/watch/style.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { FIXTURES } from "./helpers.ts";

const DIR = FIXTURES + "watch/";
const BUSY: Sample = JSON.parse(Deno.readTextFileSync(DIR + "sample_busy.json"));
const FIRST: Sample = JSON.parse(Deno.readTextFileSync(DIR + "sample_first.json"));
const PROCS: ProcessRow[] = JSON.parse(Deno.readTextFileSync(DIR + "processes.json"));
const NOW = new Date(2026, 10, 27, 9, 8, 7);

// deno-lint-ignore no-control-regex -- SGR codes are what this strips
const SGR = /\x1b\[[0-9;]*m/g;
const plain = (s: string) => s.replace(SGR, "");
/** A regular expression for an SGR sequence whose parameters match `params`, then `after`. */
const sgr = (params: string, after = "") =>
  new RegExp(`${String.fromCharCode(27)}\\[${params}m${after}`);

/** Display cells, measured independently of the renderer: CJK takes two, the rest one. */
function cells(line: string): number {
  let w = 0;
  for (const ch of plain(line)) {
    const cp = ch.codePointAt(0)!;
    w += (cp >= 0x3000 && cp <= 0x9fff) || (cp >= 0xff00 && cp <= 0xff60) ? 2 : 1;
  }
  return w;
}

function history(n: number, cpu: (i: number) => number | null = () => 42.5): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    const s = structuredClone(BUSY);
    s.metrics.cpu_usage_percent = cpu(i);
    return s;
  });
}

function state(patch: Partial<WatchState> = {}): WatchState {
  return {
    sample: BUSY,
    history: [...history(50), BUSY],
    processes: PROCS,
    processSort: "cpu",
    firingAlerts: [],
    intervalMs: 2000,
    paused: false,
    helpVisible: false,
    hidden: new Set(),
    sortColumn: { disks: 0, network: 0, filesystems: 0 },
    scroll: 0,
    kernel: "6.18.44-fc-v657",
    uptimeSeconds: 3 * 86400 + 4 * 3600 + 5 * 60,
    ...patch,
  };
}

function options(patch: Partial<RenderOptions> = {}): RenderOptions {
  return {
    width: 80,
    height: 24,
    color: false,
    ascii: false,
    bits: false,
    grader: () => "ok",
    now: NOW,
    ...patch,
  };
}

function render(s: Partial<WatchState> = {}, o: Partial<RenderOptions> = {}): string[] {
  return renderFrame(state(s), options(o));
}

/** The frame's line that contains `text` (plain), failing when there is none. */
function lineWith(frame: string[], text: string): string {
  const line = frame.find((l) => plain(l).includes(text));
  assert(
    line !== undefined,
    `no line contains ${JSON.stringify(text)}:\n${frame.map(plain).join("\n")}`,
  );
  return line;
}

// ---------------------------------------------------------------------------------------------
// layout

const NEEDS: Record<PanelId, PanelNeed> = {
  cpu: { min: 3, want: 10, max: Infinity, weight: 2, spill: 2 },
  memory: { min: 3, want: 9, max: Infinity, weight: 2, spill: 2 },
  disks: { min: 2, want: 3, max: 3, weight: 1, spill: 1 },
  network: { min: 2, want: 4, max: 4, weight: 1, spill: 1 },
  filesystems: { min: 2, want: 5, max: 5, weight: 1, spill: 1 },
  processes: { min: 2, want: 6, max: Infinity, weight: 1, spill: 0 },
};
const need = (id: PanelId) => NEEDS[id];

function assertSane(width: number, height: number, visible: PanelId[]) {
  const l = layoutFrame(width, height, visible, need);
  const rects = Object.entries(l.panels);
  for (const [id, r] of rects) {
    assert(r.height >= NEEDS[id as PanelId].min, `${id} below its minimum at ${width}×${height}`);
    assert(r.y >= 1 && r.y + r.height <= height - 1, `${id} outside the body`);
    assert(r.x >= 0 && r.x + r.width <= width, `${id} outside the width`);
  }
  for (const [a, ra] of rects) {
    for (const [b, rb] of rects) {
      if (a >= b) continue;
      const overlap = ra.x < rb.x + rb.width && rb.x < ra.x + ra.width &&
        ra.y < rb.y + rb.height && rb.y < ra.y + ra.height;
      assert(!overlap, `${a} and ${b} overlap at ${width}×${height}`);
    }
  }
  return l;
}

Deno.test("layout: every panel gets at least its minimum, inside the body, without overlaps", () => {
  for (const [w, h] of [[60, 16], [79, 24], [80, 24], [120, 40], [200, 60], [300, 100]]) {
    const l = assertSane(w, h, [...PANEL_IDS]);
    assertEquals(Object.keys(l.panels).sort(), [...PANEL_IDS].sort(), `all panels at ${w}×${h}`);
    assertEquals(l.header, { x: 0, y: 0, width: w, height: 1 });
    assertEquals(l.status, { x: 0, y: h - 1, width: w, height: 1 });
  }
});

Deno.test("layout: CPU and memory side by side from 80 columns, disks and network from 120", () => {
  const at80 = layoutFrame(80, 24, PANEL_IDS, need);
  assertEquals(at80.panels.cpu!.y, at80.panels.memory!.y);
  assert(at80.panels.memory!.x > at80.panels.cpu!.x + at80.panels.cpu!.width - 1);
  assertEquals(at80.separators.length, 1);
  assert(at80.panels.network!.y > at80.panels.disks!.y, "disks and network stacked at 80");
  const at79 = layoutFrame(79, 24, PANEL_IDS, need);
  assert(at79.panels.memory!.y > at79.panels.cpu!.y, "stacked below 80 columns");
  const at120 = layoutFrame(120, 40, PANEL_IDS, need);
  assertEquals(at120.panels.disks!.y, at120.panels.network!.y);
  assertEquals(at120.separators.length, 2);
});

Deno.test("layout: a hidden panel is absent and its rows go to the others", () => {
  const all = layoutFrame(80, 24, PANEL_IDS, need);
  const noDisks = layoutFrame(80, 24, PANEL_IDS.filter((p) => p !== "disks"), need);
  assertEquals(noDisks.panels.disks, undefined);
  const used = (l: typeof all) =>
    Object.values(l.panels).filter((r) => r.x === 0).reduce((a, r) => a + r.height, 0);
  assertEquals(used(noDisks), used(all), "the body stays full");
  for (const id of PANEL_IDS.filter((p) => p !== "disks")) {
    assert(noDisks.panels[id]!.height >= all.panels[id]!.height, `${id} did not shrink`);
  }
  assert(
    PANEL_IDS.some((id) => id !== "disks" && noDisks.panels[id]!.height > all.panels[id]!.height),
    "some panel grew",
  );
  // With processes hidden too, what is left grows the panels that can use it (charts).
  const onlyTop = layoutFrame(80, 24, ["cpu", "memory"], need);
  assertEquals(onlyTop.panels.cpu!.height, 22);
});

Deno.test("layout: a taller terminal gives taller charts and more process rows", () => {
  const small = layoutFrame(80, 24, PANEL_IDS, need);
  const big = layoutFrame(120, 40, PANEL_IDS, need);
  assert(big.panels.cpu!.height > small.panels.cpu!.height);
  assert(big.panels.processes!.height > small.panels.processes!.height);
  assertEquals(small.panels.cpu!.height >= 5, true, "the CPU band gets two rows a round");
});

Deno.test("layout: minimums that cannot fit drop panels from the bottom, never overflow", () => {
  const greedy = (id: PanelId) => ({ ...NEEDS[id], min: 6 });
  const l = layoutFrame(80, 16, PANEL_IDS, greedy);
  const bottom = Math.max(...Object.values(l.panels).map((r) => r.y + r.height));
  assert(bottom <= 15);
  assert(l.panels.cpu !== undefined && l.panels.processes === undefined);
});

Deno.test("layout: the minimum size is 60×16", () => {
  assertEquals([MIN_WIDTH, MIN_HEIGHT], [60, 16]);
  assert(isTooSmall(59, 40) && isTooSmall(200, 15) && !isTooSmall(60, 16));
});

// ---------------------------------------------------------------------------------------------
// frame geometry and character sets

const SIZES: [number, number][] = [[80, 24], [120, 40], [60, 16], [100, 30], [200, 60], [50, 12]];

Deno.test("frame: exactly `height` lines of exactly `width` cells, in every mode", () => {
  for (const [width, height] of SIZES) {
    for (const color of [false, true]) {
      for (const ascii of [false, true]) {
        for (
          const s of [
            state(),
            state({ helpVisible: true }),
            state({ sample: FIRST }),
            state({ sample: null, history: [], processes: null }),
          ]
        ) {
          const frame = renderFrame(s, options({ width, height, color, ascii }));
          assertEquals(frame.length, height, `${width}×${height} color=${color} ascii=${ascii}`);
          for (const line of frame) {
            assertEquals(
              cells(line),
              width,
              `line width at ${width}×${height}: ${JSON.stringify(line)}`,
            );
          }
        }
      }
    }
  }
});

Deno.test("frame: no ESC byte at all without colour; SGR codes with colour", () => {
  for (const [width, height] of SIZES) {
    const frame = render(
      { helpVisible: true, firingAlerts: [{ rule: "x", severity: "critical" }] },
      {
        width,
        height,
      },
    );
    assert(!frame.join("\n").includes("\x1b"), `ESC at ${width}×${height}`);
  }
  const colored = render({}, { color: true }).join("\n");
  assertMatch(colored, sgr("[0-9;]+"));
});

Deno.test("frame: ASCII mode prints 7-bit printable characters only (data included)", () => {
  const weird = [...PROCS, {
    ...PROCS[0],
    pid: 9999,
    cpuPercent: 100,
    command: "naïve\tcmd 🚀 ✓ —",
  }];
  for (const [width, height] of SIZES) {
    for (
      const s of [
        state({ processes: weird }),
        state({
          sample: FIRST,
          helpVisible: true,
          replay: { time: "2026-11-27T08:00:00Z", speed: 2, atEnd: false },
        }),
      ]
    ) {
      const frame = renderFrame(s, options({ width, height, ascii: true }));
      for (const line of frame) {
        for (const ch of line) {
          const cp = ch.codePointAt(0)!;
          assert(
            cp >= 0x20 && cp <= 0x7e,
            `non-ASCII ${JSON.stringify(ch)} in ${JSON.stringify(line)}`,
          );
        }
      }
    }
  }
});

Deno.test("frame: below 60×16 a centred message says so", () => {
  const frame = render({}, { width: 50, height: 12 });
  const row = frame.findIndex((l) => l.includes("terminal too small"));
  assertEquals(frame[row].trim(), "terminal too small: 50×12, need at least 60×16");
  assert(row >= 4 && row <= 6, "vertically centred");
  const left = frame[row].length - frame[row].trimStart().length;
  const right = frame[row].length - frame[row].trimEnd().length;
  assert(Math.abs(left - right) <= 1, "horizontally centred");
  assertStringIncludes(render({}, { width: 59, height: 30, ascii: true }).join("\n"), "59x30");
  assertEquals(render({}, { width: 0, height: 0 }), []);
});

// ---------------------------------------------------------------------------------------------
// content

for (const [width, height] of [[80, 24], [120, 40]] as const) {
  Deno.test(`content at ${width}×${height}: every panel shows its figures with units`, () => {
    const frame = render({}, { width, height });
    const text = frame.join("\n");
    // Header: host, kernel (when room), uptime, load, local time, interval.
    assertStringIncludes(frame[0], "vm");
    assertStringIncludes(frame[0], "load 3.21 2.50 1.75");
    assertStringIncludes(frame[0], "09:08:07");
    assertStringIncludes(frame[0], "every 2s");
    if (width >= 120) assertStringIncludes(frame[0], "6.18.44-fc-v657");
    if (width >= 120) assertStringIncludes(frame[0], "up 3d 4h 5m");
    // CPU: the split and the total.
    assertStringIncludes(text, "usr 27.5%"); // user 25 + nice 2.5
    assertStringIncludes(text, "sys 13.0%"); // system 10 + irq 1 + softirq 2
    assertStringIncludes(text, "io 5.0%");
    assertStringIncludes(lineWith(frame, "avg"), "42.5%");
    assertStringIncludes(text, "psi");
    assertStringIncludes(text, "3.5%");
    // Memory: bars and IEC figures.
    assertStringIncludes(lineWith(frame, "mem ["), "37.5%");
    assertStringIncludes(lineWith(frame, "swp ["), "25.0%");
    for (const figure of ["6.00 GiB", "10.0 GiB", "7.00 GiB", "512 MiB"]) {
      assertStringIncludes(text, figure);
    }
    // Disks: rates IEC, IOPS, await in ms (iostat's weighted mean: (2×20 + 4×80)/100 = 3.6 ms), util.
    const vda = lineWith(frame, "vda ");
    for (const v of ["1.00 MiB/s", "5.00 MiB/s", "20", "80", "3.60 ms", "35.0%"]) {
      assertStringIncludes(vda, v);
    }
    assertStringIncludes(lineWith(frame, "nvme0n1"), "100 MiB/s");
    // Network: bytes/s by default, errors + drops, utilisation where the speed is known.
    const eth0 = lineWith(frame, "eth0");
    assertStringIncludes(eth0, "1.19 MiB/s"); // 1 250 000 B/s
    assertStringIncludes(eth0, "1.0%"); // of 1 Gbit/s
    assertStringIncludes(lineWith(frame, "wlan0"), "3.5"); // 2 + 1 errors + 0.5 drops
    // Filesystems: fullest first by default, use % and inode %.
    assertStringIncludes(lineWith(frame, "overlay-images"), "96.0%");
    assertStringIncludes(lineWith(frame, "/home"), "75.0%");
    // Processes: the busiest.
    assertStringIncludes(lineWith(frame, "python3 train.py"), "99.0");
  });
}

Deno.test("content: bits mode shows network rates in decimal bits per second", () => {
  const frame = render({}, { bits: true });
  const eth0 = lineWith(frame, "eth0");
  assertStringIncludes(eth0, "10.0 Mbit/s");
  assertStringIncludes(eth0, "1.00 Mbit/s");
  assertStringIncludes(lineWith(frame, "wlan0"), "16.4 kbit/s");
  assert(!eth0.includes("MiB/s"));
});

Deno.test("content: bars are proportional to their values", () => {
  const frame = render({}, { width: 120, height: 40 });
  const full = glyphs(false).bar.used;
  const measure = (line: string) => {
    const bar = /\[([^\]]*)\]/.exec(plain(line))![1];
    return { filled: [...bar].filter((c) => c === full).length, inner: [...bar].length };
  };
  const rows = { "overlay-images": 96, "/home": 75, "/boot": 50, "/dev/vda": 0 };
  const seen: { value: number; filled: number; inner: number }[] = [];
  for (const [mount, value] of Object.entries(rows)) {
    if (mount === "/dev/vda") continue;
    seen.push({ value, ...measure(lineWith(frame, mount)) });
  }
  seen.push({ value: 25, ...measure(frame.find((l) => /^\/\s/.test(plain(l)))!) });
  const inner = seen[0].inner;
  assert(inner >= 10, "bars grow with a wide panel");
  for (const s of seen) {
    assertEquals(s.inner, inner, "one bar width per table");
    assert(
      Math.abs(s.filled - s.value / 100 * inner) <= 0.5,
      `${s.value}% fills ${s.filled}/${inner}`,
    );
  }
  // Memory: used 37.5 % in the RAM bar, swap 25 %.
  const from = (label: string) => {
    const line = plain(lineWith(frame, label));
    return line.slice(line.indexOf(label));
  };
  const mem = measure(from("mem ["));
  assert(Math.abs(mem.filled - 0.375 * mem.inner) <= 0.5, `mem ${mem.filled}/${mem.inner}`);
  const swp = measure(from("swp ["));
  assert(Math.abs(swp.filled - 0.25 * swp.inner) <= 0.5, `swap ${swp.filled}/${swp.inner}`);
});

Deno.test("content: the CPU bar splits user, system, iowait and steal with distinct characters", () => {
  for (const ascii of [false, true]) {
    const g = glyphs(ascii).bar;
    const avg = plain(lineWith(render({}, { width: 120, height: 40, ascii }), "avg"));
    const bar = /\[([^\]]*)\]/.exec(avg)![1];
    const count = (ch: string) => [...bar].filter((c) => c === ch).length;
    const inner = [...bar].length;
    // Cumulative rounding: 27.5 %, then 40.5 %, 45.5 %, 47.5 % of the bar.
    assertEquals(count(g.user), Math.round(0.275 * inner));
    assertEquals(count(g.user) + count(g.system), Math.round(0.405 * inner));
    assertEquals(count(g.user) + count(g.system) + count(g.iowait), Math.round(0.455 * inner));
    assert(new Set([g.user, g.system, g.iowait, g.steal]).size === 4);
  }
});

Deno.test("content: null rates (the first sample) show a dash, never NaN or undefined", () => {
  for (const ascii of [false, true]) {
    const frame = render({ sample: FIRST, history: [FIRST] }, { ascii });
    const text = frame.join("\n");
    for (const bad of ["NaN", "undefined", "null", "Infinity"]) assert(!text.includes(bad), bad);
    const dash = ascii ? "-" : "—";
    const vda = plain(lineWith(frame, "vda "));
    assertEquals(vda.split(/\s+/).filter((c) => c === dash).length, 6, vda);
    assertStringIncludes(plain(lineWith(frame, "eth0")), dash);
    assertStringIncludes(plain(lineWith(frame, "avg")), dash);
    if (ascii) assert(!text.includes("—"));
    // Gauges are still there: memory does not depend on rates.
    assertStringIncludes(lineWith(frame, "mem ["), "37.5%");
  }
});

Deno.test("content: with no sample yet the frame still draws, with dashes", () => {
  const frame = render({ sample: null, history: [], processes: null, message: "waiting" });
  const text = frame.join("\n");
  assertStringIncludes(text, "reading processes");
  assertStringIncludes(text, "no disks");
  assertStringIncludes(frame[23], "waiting");
});

/** PIDs of the process rows on screen, top to bottom. */
const pidsShown = (frame: string[]) =>
  frame.map(plain).map((l) => /^\s*(\d+)\s+\S+\s+[A-Z]\s/.exec(l)?.[1]).filter((p) => p)
    .map(Number);

Deno.test("content: a hidden panel is absent and the others use its rows", () => {
  const all = render({}, { width: 80, height: 24 });
  const hidden = render({ hidden: new Set<PanelId>(["disks", "network"]) }, {
    width: 80,
    height: 24,
  });
  const body = hidden.slice(1, -1).map(plain).join("\n");
  assert(!body.includes("nvme0n1") && !body.includes("Network") && !body.includes("eth0"));
  assert(
    pidsShown(hidden).length > pidsShown(all).length,
    "more processes once disks and network are hidden",
  );
  assertStringIncludes(hidden[23], "hidden: 3 Disks, 4 Network");
  // Hiding every panel leaves header and status.
  const none = render({ hidden: new Set(PANEL_IDS) });
  assertEquals(none.length, 24);
  assertStringIncludes(none[0], "vm");
});

Deno.test("content: processes sorted by CPU or memory, as many as fit", () => {
  const byCpu = [...PROCS].sort((a, b) =>
    (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || a.pid - b.pid
  );
  const byMem = [...PROCS].sort((a, b) =>
    (b.memPercent ?? -1) - (a.memPercent ?? -1) || b.rssBytes - a.rssBytes || a.pid - b.pid
  );
  const big = { width: 120, height: 60 };
  const cpuFrame = render({ processSort: "cpu" }, big);
  assertEquals(pidsShown(cpuFrame), byCpu.map((p) => p.pid), "all rows, CPU order, unknown last");
  assertStringIncludes(lineWith(cpuFrame, "PID"), "CPU%▾");
  const memFrame = render({ processSort: "memory" }, big);
  assertEquals(pidsShown(memFrame), byMem.map((p) => p.pid));
  assertStringIncludes(lineWith(memFrame, "PID"), "MEM%▾");
  // At 80×24 only the top few, still in order.
  const small = pidsShown(render({ processSort: "cpu" }));
  assert(small.length >= 2 && small.length < PROCS.length);
  assertEquals(small, byCpu.slice(0, small.length).map((p) => p.pid));
  assertStringIncludes(lineWith(render(), "PID"), `1-${small.length}/${PROCS.length}`);
  // Only the top rows read (watch reads what fits): the count is of every process on the host.
  assertStringIncludes(lineWith(render({ processCount: 312 }), "PID"), `1-${small.length}/312`);
  assertStringIncludes(
    lineWith(render({ processCount: 312 }, big), "PID"),
    `1-${PROCS.length}/312`,
  );
  // Kernel threads (no command line) show their name in brackets.
  assertStringIncludes(render({}, big).join("\n"), "[kthreadd]");
});

Deno.test("content: scrolling the focused table, clamped to the last page", () => {
  const opts = options();
  const info = scrollInfo(state(), opts);
  assertEquals(info.table, "processes");
  assertEquals(info.rows, PROCS.length);
  assertEquals(info.maxScroll, PROCS.length - info.visibleRows);
  const sorted = [...PROCS].sort((a, b) =>
    (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || a.pid - b.pid
  );
  const firstPid = (f: string[]) =>
    Number(/^\s*(\d+)/.exec(plain(f[f.findIndex((l) => plain(l).includes("PID")) + 1]))![1]);
  assertEquals(firstPid(render({ scroll: 2 })), sorted[2].pid);
  assertEquals(firstPid(render({ scroll: 999 })), sorted[info.maxScroll].pid);
  assertEquals(firstPid(render({ scroll: -5 })), sorted[0].pid);
  // Another focus scrolls that table; processes stay at the top.
  const fs = render({ focus: "filesystems", scroll: 1 });
  assert(
    !fs.some((l) => plain(l).includes("overlay-images")),
    "the first filesystem scrolled away",
  );
  assertStringIncludes(lineWith(fs, "Filesystems"), "▸Filesystems 2-4/4");
  assertStringIncludes(lineWith(fs, "/ "), "25.0%");
  assertEquals(firstPid(fs), sorted[0].pid);
});

Deno.test("content: `s` sort columns order the tables and mark the header", () => {
  const frame = render({ sortColumn: { disks: 2, network: 0, filesystems: 5 } }, {
    width: 120,
    height: 40,
  });
  const lines = frame.map(plain);
  const row = (name: string) => lines.findIndex((l) => l.includes(name));
  assertEquals(SORT_COLUMNS.disks[2], "write");
  assert(row("vda ") < row("nvme0n1"), "by write rate: vda (5 MiB/s) first");
  assertStringIncludes(lineWith(frame, "WRITE/S"), "WRITE/S▾");
  assertEquals(SORT_COLUMNS.filesystems[5], "mount");
  assert(
    row("/boot ") < row("/home ") && row("/home ") < row("overlay-images"),
    "by mount, ascending",
  );
  assertEquals(sortTarget(state()), "disks");
  assertEquals(sortTarget(state({ focus: "network" })), "network");
  assertEquals(sortTarget(state({ hidden: new Set<PanelId>(["disks"]) })), "network");
});

Deno.test("content: grades colour values (a critical mount is red, the others are not)", () => {
  const calls: [string, number | null, string | undefined][] = [];
  const grader: Grader = (metric, value, entity) => {
    calls.push([metric, value, entity]);
    return metric === "filesystem_usage_percent" && entity === "/home" ? "critical" : "ok";
  };
  const frame = render({}, { color: true, grader, width: 120, height: 40 });
  const red = sgr("(?:[0-9;]*;)?31");
  assertMatch(lineWith(frame, "/home "), red);
  assert(!red.test(lineWith(frame, "/boot ")), "an ok mount is not red");
  assert(
    !red.test(lineWith(frame, "overlay-images")),
    "grades come from the grader, not the value",
  );
  const metrics = new Set(calls.map(([m]) => m));
  for (
    const m of [
      "cpu_usage_percent",
      "memory_usage_percent",
      "swap_usage_percent",
      "filesystem_usage_percent",
      "filesystem_inodes_usage_percent",
      "disk_util_percent",
      "net_rx_errors_per_second",
      "net_tx_errors_per_second",
    ]
  ) assert(metrics.has(m), `grader asked about ${m}`);
  assert(calls.some(([m, v, e]) => m === "disk_util_percent" && v === 92 && e === "nvme0n1"));
  // A grader that throws costs the colour, not the frame.
  const failing = render({}, {
    color: true,
    grader: () => {
      throw new Error("boom");
    },
  });
  assertEquals(failing.length, 24);
});

Deno.test("content: header markers — paused, replay time and speed, alerts worst first", () => {
  const alerts = [
    { rule: "disk_busy", severity: "warning" as const, entity: "nvme0n1" },
    { rule: "filesystem_full", severity: "critical" as const, entity: "/home" },
  ];
  const frame = render({ paused: true, firingAlerts: alerts }, {
    width: 120,
    height: 40,
    color: true,
  });
  const head = plain(frame[0]);
  assertStringIncludes(head, "PAUSED");
  assertStringIncludes(head, "2 alerts");
  assert(head.indexOf("filesystem_full /home") < head.indexOf("disk_busy nvme0n1"), head);
  assertMatch(frame[0], sgr("1;31", "filesystem_full /home"));
  assertMatch(frame[0], sgr("[0-9;]*41", " 2 alerts "), "critical badge on a red background");

  const time = new Date(2026, 10, 26, 10, 0, 0);
  const replay = render({ replay: { time: time.toISOString(), speed: 4, atEnd: true } }, {
    width: 120,
  });
  assertStringIncludes(replay[0], "REPLAY 2026-11-26 10:00:00 ×4 end");
});

Deno.test("content: help overlay lists the keys, replay keys only when replaying", () => {
  const frame = render({ helpVisible: true, hidden: new Set<PanelId>(["network"]) });
  const text = frame.map(plain).join("\n");
  for (
    const k of [
      "q  Ctrl-C",
      "?  F1",
      "p  space",
      "+  -",
      "m  c",
      "PgUp PgDn",
      "1 CPU",
      "6 Processes",
      "4 Network (hidden)",
    ]
  ) {
    assertStringIncludes(text, k);
  }
  assertStringIncludes(text, "focus the next table (now Processes");
  assertStringIncludes(text, "sort Processes by memory");
  const disks = render({ helpVisible: true, focus: "disks" }).map(plain).join("\n");
  assertStringIncludes(disks, "sort Disks: next column (now name)");
  assert(!text.includes("replay:"));
  const replaying = render({
    helpVisible: true,
    replay: { time: BUSY.timestamp, speed: 1, atEnd: false },
  }, { height: 30 }).join("\n");
  for (const k of ["←  →", "[  ]", "{  }", "<  >"]) assertStringIncludes(replaying, k);
  // The box is centred and drawn over the panels.
  const top = frame.findIndex((l) => l.includes("╭"));
  const bottom = frame.findIndex((l) => l.includes("╰─"));
  assert(top > 0 && bottom > top);
  assert(Math.abs(top - (23 - bottom)) <= 1, "vertically centred");
});

Deno.test("content: many cores fit as one character each, a few as labelled bars", () => {
  const many = structuredClone(BUSY);
  many.cores = {};
  for (let i = 0; i < 64; i++) {
    many.cores[`cpu${i}`] = { ...BUSY.cores.cpu0, core_usage_percent: i === 63 ? 100 : i };
  }
  const frame = render({ sample: many, history: [many] });
  assertStringIncludes(lineWith(frame, "max cpu63"), "max cpu63 100%");
  assertEquals(frame.length, 24);
  const roomy = render({}, { width: 120, height: 40 });
  assertMatch(plain(lineWith(roomy, "90%")), /^0 \[/);
});

Deno.test("content: the status line shows a message, else key hints", () => {
  assertStringIncludes(render({ message: "interval 5s" })[23], "interval 5s");
  assertStringIncludes(render()[23], "q quit");
  const errors = structuredClone(BUSY);
  errors.errors = [{ collector: "pressure", message: "EACCES" }];
  assertStringIncludes(render({ sample: errors })[23], "1 collector error: pressure");
});

// ---------------------------------------------------------------------------------------------
// chart

Deno.test("chart: one column per sample, newest at the right, gaps for missing values", () => {
  const g = glyphs(false).chart;
  const values = Array.from({ length: 100 }, (_, i) => (i === 90 ? null : 50));
  const chart = percentChart(values, 30, 3, g);
  assertEquals(chart.lines.length, 3);
  for (const l of chart.lines) assertEquals([...l].length, 30);
  assertEquals(chart.points, 25);
  const middle = [...chart.lines[1]].slice(chart.plotStart);
  // The gap (index 90 of 100) sits 10 columns from the right edge, and the point after it restarts.
  const gapCol = middle.length - 10;
  assertEquals(middle[gapCol], " ");
  assertEquals(middle.filter((c) => c === g[4]).length, 24);
  assertEquals(chart.lines[0].trimStart().startsWith("100%"), true);
  assertEquals(chart.lines[2].trimStart().startsWith("0%"), true);
  // Fewer samples than columns: the line grows from the right.
  const short = percentChart([10, 10, 10], 30, 3, g);
  const bottom = [...short.lines[2]].slice(short.plotStart);
  assertEquals(bottom.slice(-3), [g[4], g[4], g[4]]);
  assertEquals(bottom.filter((c) => c !== " ").length, 3);
  // A wider chart shows more history.
  assert(percentChart(values, 100, 3, g).points > chart.points);
  // ASCII glyphs only.
  const ascii = percentChart([0, 100, 0, 50, null, 20], 20, 4, glyphs(true).chart);
  assert(ascii.lines.every((l) => /^[\x20-\x7e]*$/.test(l)));
});
