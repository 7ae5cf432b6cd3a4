/** What each key does to the watch state (src/ui/watch/controller.ts), and the rule-based colours. */
import { compileRules } from "../src/alert/rules.ts";
import { defaultConfig } from "../src/config/load.ts";
import { emptySample } from "../src/core/model.ts";
import type { Key } from "../src/ui/term/keys.ts";
import { applyKey, INTERVAL_STEPS_MS, REPLAY_SPEEDS } from "../src/ui/watch/controller.ts";
import { createGrader } from "../src/ui/watch/grader.ts";
import type { WatchState } from "../src/ui/watch/state.ts";
import { assert, assertEquals } from "./assert.ts";

function base(patch: Partial<WatchState> = {}): WatchState {
  return {
    sample: null,
    history: [],
    processes: null,
    processSort: "cpu",
    firingAlerts: [],
    intervalMs: 1000,
    paused: false,
    helpVisible: false,
    hidden: new Set(),
    sortColumn: { disks: 0, network: 0, filesystems: 0 },
    scroll: 0,
    kernel: "6.1.0",
    uptimeSeconds: 100,
    ...patch,
  };
}

function press(state: WatchState, ...keys: Key[]): WatchState {
  for (const k of keys) state = applyKey(state, k).state;
  return state;
}

Deno.test("q and Ctrl-C quit; ? toggles help, Escape closes it", () => {
  assertEquals(applyKey(base(), "q").quit, true);
  assertEquals(applyKey(base(), "ctrl-c").quit, true);
  assertEquals(press(base(), "help").helpVisible, true);
  assertEquals(press(base(), "help", "help").helpVisible, false);
  assertEquals(press(base(), "help", "escape").helpVisible, false);
  assertEquals(applyKey(base(), "redraw").redraw, true);
});

Deno.test("p pauses and resumes, saying so", () => {
  const paused = press(base(), "pause");
  assertEquals([paused.paused, paused.message], [true, "paused"]);
  assertEquals(press(paused, "pause").paused, false);
});

Deno.test("+ and - step the interval through the steps and stop at the ends", () => {
  const out = applyKey(base(), "faster");
  assertEquals([out.state.intervalMs, out.retime, out.state.message], [
    500,
    true,
    "interval 500ms",
  ]);
  assertEquals(press(base(), "slower", "slower").intervalMs, 5000);
  const fastest = press(base({ intervalMs: INTERVAL_STEPS_MS[0] }), "faster");
  assertEquals(fastest.intervalMs, INTERVAL_STEPS_MS[0]);
  assertEquals(fastest.message, "interval 250ms (the limit)");
  assertEquals(applyKey(base({ intervalMs: 60_000 }), "slower").retime, undefined);
  // An --interval between steps moves to the neighbouring step.
  assertEquals(press(base({ intervalMs: 3000 }), "faster").intervalMs, 2000);
  assertEquals(press(base({ intervalMs: 3000 }), "slower").intervalMs, 5000);
});

Deno.test("1-6 toggle panels; the last visible one stays", () => {
  const s = press(base(), "panel2", "panel6");
  assertEquals([...s.hidden].sort(), ["memory", "processes"]);
  assertEquals(press(s, "panel2").hidden.has("memory"), false);
  const one = press(base(), "panel1", "panel2", "panel3", "panel4", "panel5");
  const last = applyKey(one, "panel6");
  assertEquals(last.state.hidden.has("processes"), false);
  assertEquals(last.state.message, "the last visible panel stays");
});

Deno.test("s sorts the focused table; on processes it toggles cpu/memory; Tab moves the focus", () => {
  // Processes are focused first: s toggles their order and asks for a fresh read.
  const out = applyKey(base(), "sort");
  assertEquals([out.state.processSort, out.refreshProcesses], ["memory", true]);
  const fs = press(base(), "focus");
  assertEquals(fs.focus, "filesystems");
  const sorted = press(fs, "sort", "sort");
  assertEquals(sorted.sortColumn, { disks: 0, network: 0, filesystems: 2 });
  assertEquals(sorted.message, "Filesystems by size");
  // Cycling wraps around; Tab skips hidden tables and comes back round.
  assertEquals(press(fs, ...Array(6).fill("sort")).sortColumn.filesystems, 0);
  const noNet = press(base({ hidden: new Set(["network"]) }), "focus", "focus", "focus");
  assertEquals(noNet.focus, "processes");
});

Deno.test("arrows and pages scroll, never above the top", () => {
  assertEquals(press(base(), "down", "down", "up").scroll, 1);
  assertEquals(press(base(), "up").scroll, 0);
  assertEquals(press(base(), "pgdn", "pgdn", "pgup").scroll, 10);
  assertEquals(press(base({ scroll: 7 }), "home").scroll, 0);
  assert(press(base(), "end").scroll > 1000);
});

Deno.test("replay keys move the cursor and the speed only when replaying", () => {
  const live = applyKey(base(), "hour-back");
  assertEquals(live.replay, undefined);
  assert(live.state.message?.includes("--replay"));
  const r = base({ replay: { time: "2026-11-27T00:00:00Z", speed: 60, atEnd: false } });
  assertEquals(applyKey(r, "left").replay, { kind: "step", by: -1 });
  assertEquals(applyKey(r, "right").replay, { kind: "step", by: 1 });
  assertEquals(applyKey(r, "hour-fwd").replay, { kind: "jump", ms: 3600_000 });
  assertEquals(applyKey(r, "day-back").replay, { kind: "jump", ms: -86400_000 });
  const faster = applyKey(r, "speed-up");
  assertEquals([faster.state.replay?.speed, faster.retime], [300, true]);
  assertEquals(press(r, "speed-down", "speed-down", "speed-down").replay?.speed, REPLAY_SPEEDS[0]);
  // While replaying, + and - change the speed too (the interval belongs to live data).
  assertEquals(press(r, "faster").replay?.speed, 300);
  assertEquals(press(r, "faster").intervalMs, 1000);
});

Deno.test("grader: the shipped rules' raise thresholds colour values, per entity with matchers", () => {
  const rules = compileRules(defaultConfig().alert.rules).rules.filter((r) =>
    r.type === "threshold"
  );
  const sample = emptySample("2026-11-27T00:00:00Z", "h", 1);
  sample.filesystems["/data"] = { fstype: "ext4", device: "/dev/sdb1" };
  const grade = createGrader(rules, sample);
  // cpu_busy: warning 90, critical 98.
  assertEquals(
    ["cpu_usage_percent", "cpu_usage_percent", "cpu_usage_percent"].map((m, i) =>
      grade(m, [50, 93, 99][i])
    ),
    ["ok", "warning", "critical"],
  );
  assertEquals(grade("cpu_usage_percent", null), "ok");
  assertEquals(grade("load_average_1m", 1e9), "ok", "no rule on it");
  const fsRule = rules.find((r) => r.metric === "filesystem_usage_percent")!;
  const crit = fsRule.critical!.raise;
  assertEquals(grade("filesystem_usage_percent", crit + 0.1, "/data"), "critical");
  assertEquals(
    grade("filesystem_usage_percent", crit + 0.1),
    "ok",
    "a per-entity rule needs the entity",
  );
});
