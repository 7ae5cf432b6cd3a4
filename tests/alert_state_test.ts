/**
 * The alert state machine, driven by an injected clock: a feed of (seconds, value) pairs goes through
 * `step` and the transitions are compared as "<t>s <kind> <severity>" lines.
 */
import { assert, assertEquals } from "./assert.ts";
import { levelOf, step } from "../src/alert/state.ts";
import type { SeriesState, Transition, Trigger } from "../src/alert/types.ts";

const T0 = Date.UTC(2025, 0, 1);
const at = (seconds: number) => T0 + seconds * 1000;

type Feed = [seconds: number, value: number | null][];

/** CPU-like: warning at 80 (clears below 70), critical at 95 (clears below 90). */
function usage(patch: Partial<Trigger> = {}): Trigger {
  return {
    direction: "above",
    warning: { raise: 80, clear: 70 },
    critical: { raise: 95, clear: 90 },
    for: 0,
    keepFiringFor: 0,
    ...patch,
  };
}

/** Free space in %: warning at 10 (clears above 15), critical at 5 (clears above 8). */
function freeSpace(patch: Partial<Trigger> = {}): Trigger {
  return {
    direction: "below",
    warning: { raise: 10, clear: 15 },
    critical: { raise: 5, clear: 8 },
    for: 0,
    keepFiringFor: 0,
    ...patch,
  };
}

interface Run {
  state: SeriesState | undefined;
  transitions: Transition[];
  /** The state after each step. */
  states: SeriesState[];
}

/** Feeds `feed` through `step`; `persist` round-trips the state through JSON between steps. */
function run(trigger: Trigger, feed: Feed, start?: SeriesState, persist = false): Run {
  let state = start;
  const transitions: Transition[] = [];
  const states: SeriesState[] = [];
  for (const [t, value] of feed) {
    const prev = state === undefined ? undefined : deepFreeze(structuredClone(state));
    const out = step(trigger, prev, value, at(t));
    transitions.push(...out.transitions);
    state = persist ? JSON.parse(JSON.stringify(out.state)) : out.state;
    states.push(out.state);
  }
  return { state, transitions, states };
}

/** Freezing `prev` makes any mutation of it by `step` throw (modules are strict). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function lines(transitions: Transition[]): string[] {
  return transitions.map((tr) => {
    const from = tr.kind === "firing" ? "" : ` (was ${tr.previous})`;
    return `${(tr.at - T0) / 1000}s ${tr.kind} ${tr.severity}${from}`;
  });
}

/** `count` evaluations every `every` seconds from `from`, all of value `value`. */
function steady(from: number, count: number, value: number | null, every = 10): Feed {
  return Array.from({ length: count }, (_, i) => [from + i * every, value]);
}

Deno.test("levelOf maps values with hysteresis in both directions", () => {
  const cases: [Trigger, number, SeriesState["severity"], SeriesState["severity"]][] = [
    // above: raise thresholds
    [usage(), 79.9, null, null],
    [usage(), 80, null, "warning"],
    [usage(), 94.9, null, "warning"],
    [usage(), 95, null, "critical"],
    // above: the band between clear and raise keeps the current level, starts none
    [usage(), 75, null, null],
    [usage(), 75, "warning", "warning"],
    [usage(), 70, "warning", "warning"],
    [usage(), 69.9, "warning", null],
    [usage(), 92, "warning", "warning"],
    [usage(), 92, "critical", "critical"],
    [usage(), 90, "critical", "critical"],
    [usage(), 89.9, "critical", "warning"],
    [usage(), 75, "critical", "warning"],
    [usage(), 60, "critical", null],
    // below mirrors it
    [freeSpace(), 10.1, null, null],
    [freeSpace(), 10, null, "warning"],
    [freeSpace(), 5, null, "critical"],
    [freeSpace(), 12, null, null],
    [freeSpace(), 15, "warning", "warning"],
    [freeSpace(), 15.1, "warning", null],
    [freeSpace(), 7, "warning", "warning"],
    [freeSpace(), 7, "critical", "critical"],
    [freeSpace(), 9, "critical", "warning"],
    [freeSpace(), 20, "critical", null],
    // one level only
    [usage({ warning: undefined }), 85, null, null],
    [usage({ warning: undefined }), 85, "critical", null],
    [usage({ warning: undefined }), 92, "critical", "critical"],
    [usage({ critical: undefined }), 1000, null, "warning"],
  ];
  for (const [trigger, value, current, expected] of cases) {
    assertEquals(
      levelOf(trigger, value, current),
      expected,
      `${trigger.direction} ${value} at ${current}`,
    );
  }
});

Deno.test("for = 0 fires at the first evaluation, with every field of the transition", () => {
  const { transitions, state } = run(usage(), [[0, 50], [10, 85]]);
  assertEquals(transitions, [
    { kind: "firing", severity: "warning", at: at(10), value: 85, firingSince: at(10) },
  ]);
  assertEquals(state, {
    phase: "firing",
    severity: "warning",
    firingSince: at(10),
    lastValue: 85,
    evaluatedAt: at(10),
  });
});

Deno.test("pending fires after exactly `for`, not a millisecond before", () => {
  const trigger = usage({ for: 60 });
  const r = run(trigger, [[0, 85], [30, 85], [59.999, 85]]);
  assertEquals(r.transitions, []);
  assertEquals(r.state, {
    phase: "pending",
    severity: "warning",
    since: at(0),
    lastValue: 85,
    evaluatedAt: at(59.999),
  });
  const fired = step(trigger, r.state, 86, at(60));
  assertEquals(fired.transitions, [
    { kind: "firing", severity: "warning", at: at(60), value: 86, firingSince: at(60) },
  ]);
});

Deno.test("pending interrupted goes back to inactive silently and restarts its timer", () => {
  const trigger = usage({ for: 60 });
  const feed: Feed = [[0, 85], [30, 85], [50, 60], [60, 85], [110, 85], [120, 85]];
  const r = run(trigger, feed);
  assertEquals(r.states[2], {
    phase: "inactive",
    severity: null,
    lastValue: 60,
    evaluatedAt: at(50),
  });
  assertEquals(lines(r.transitions), ["120s firing warning"]);
  // The hysteresis band does not keep a pending series: the raise condition itself must hold.
  assertEquals(run(trigger, [[0, 85], [30, 75], [60, 85]]).transitions, []);
});

Deno.test("hysteresis: the band between clear and raise keeps a firing alert and starts nothing", () => {
  const cases: [string, Feed, string[]][] = [
    ["inactive in the band", [[0, 75], [10, 79.9], [20, 70]], []],
    ["firing in the band", [[0, 85], [10, 75], [20, 70], [30, 79]], ["0s firing warning"]],
    ["firing then clear", [[0, 85], [10, 75], [20, 69.9]], [
      "0s firing warning",
      "20s resolved warning (was warning)",
    ]],
    ["critical in its band", [[0, 96], [10, 90], [20, 93]], ["0s firing critical"]],
  ];
  for (const [name, feed, expected] of cases) {
    assertEquals(lines(run(usage(), feed).transitions), expected, name);
  }
});

Deno.test("keepFiringFor: flapping input notifies once and resolves after 60 s of clear", () => {
  const trigger = usage({ keepFiringFor: 60 });
  // Ten minutes of alternating above/below every 10 s (85 at even steps), then clear for good.
  const flapping: Feed = Array.from({ length: 61 }, (_, i) => [i * 10, i % 2 === 0 ? 85 : 50]);
  const r = run(trigger, [...flapping, ...steady(610, 12, 50)]);
  assertEquals(lines(r.transitions), ["0s firing warning", "670s resolved warning (was warning)"]);
  const resolved = r.transitions[1];
  assertEquals(resolved, {
    kind: "resolved",
    severity: "warning",
    previous: "warning",
    at: at(670),
    value: 50,
    firingSince: at(0),
  });
  // Just before: still firing, clearing since the first clear evaluation.
  assertEquals(r.states[60 + 6], {
    phase: "firing",
    severity: "warning",
    firingSince: at(0),
    clearingSince: at(610),
    lastValue: 50,
    evaluatedAt: at(660),
  });
  // Without keepFiringFor the same input notifies at every flap: the test input really flaps.
  const noKeep = run(usage(), flapping).transitions;
  assertEquals(noKeep.length, 61);
});

Deno.test("escalation needs the critical raise to hold for `for`", () => {
  const trigger = usage({ for: 30 });
  const cases: [string, Feed, string[]][] = [
    ["held", [[0, 85], [30, 85], [40, 97], [60, 97], [69, 99]], ["30s firing warning"]],
    ["held exactly", [[0, 85], [30, 85], [40, 97], [60, 97], [70, 97]], [
      "30s firing warning",
      "70s escalated critical (was warning)",
    ]],
    // Dropping into critical's band (between 90 and 95) restarts the escalation timer.
    ["interrupted", [[0, 85], [30, 85], [40, 97], [50, 92], [60, 97], [80, 97], [90, 97]], [
      "30s firing warning",
      "90s escalated critical (was warning)",
    ]],
  ];
  for (const [name, feed, expected] of cases) {
    assertEquals(lines(run(trigger, feed).transitions), expected, name);
  }
  const r = run(trigger, [[0, 85], [30, 85], [40, 97], [70, 97]]);
  assertEquals(r.states[2].escalatingSince, at(40));
  assertEquals(r.transitions[1], {
    kind: "escalated",
    severity: "critical",
    previous: "warning",
    at: at(70),
    value: 97,
    firingSince: at(30),
  });
  assertEquals(r.state?.escalatingSince, undefined);
});

Deno.test("de-escalation waits keepFiringFor of critical clear while warning still holds", () => {
  const trigger = usage({ keepFiringFor: 60 });
  const cases: [string, Feed, string[]][] = [
    ["deescalated then resolved", [
      [0, 97],
      [100, 85], // critical clear starts
      [130, 92], // back in critical's band: timer dropped
      [140, 85],
      [199, 85],
      [200, 85],
      [210, 50],
      [269, 50],
      [270, 50],
    ], [
      "0s firing critical",
      "200s deescalated warning (was critical)",
      "270s resolved warning (was warning)",
    ]],
    // Below warning's clear too when the timer runs out: one "resolved", no "deescalated" first.
    ["straight to resolved", [[0, 97], [100, 85], [150, 50], [160, 50]], [
      "0s firing critical",
      "160s resolved critical (was critical)",
    ]],
  ];
  for (const [name, feed, expected] of cases) {
    assertEquals(lines(run(trigger, feed).transitions), expected, name);
  }
  const r = run(trigger, [[0, 97], [100, 85], [160, 85]]);
  assertEquals(r.states[1].clearingSince, at(100));
  assertEquals(r.transitions[1], {
    kind: "deescalated",
    severity: "warning",
    previous: "critical",
    at: at(160),
    value: 85,
    firingSince: at(0),
  });
  assertEquals(r.state?.clearingSince, undefined);
});

Deno.test("pending at warning that reaches critical fires once, at critical", () => {
  const trigger = usage({ for: 60 });
  const cases: [string, Feed, string[]][] = [
    ["reaches critical", [[0, 85], [50, 97], [60, 97], [70, 97], [200, 97]], [
      "60s firing critical",
    ]],
    ["falls back to warning", [[0, 97], [30, 85], [60, 85]], ["60s firing warning"]],
  ];
  for (const [name, feed, expected] of cases) {
    assertEquals(lines(run(trigger, feed).transitions), expected, name);
  }
  assertEquals(run(trigger, [[0, 85], [50, 97]]).state?.severity, "critical");
});

Deno.test("direction below (free space) raises, escalates, de-escalates and resolves", () => {
  const feed: Feed = [
    [0, 20],
    [10, 12], // warning's band: nothing starts
    [20, 9.5],
    [30, 12], // band: keeps warning
    [40, 4],
    [50, 7.5], // critical's band: keeps critical
    [60, 9],
    [70, 15],
    [80, 15.5],
  ];
  assertEquals(lines(run(freeSpace(), feed).transitions), [
    "20s firing warning",
    "40s escalated critical (was warning)",
    "60s deescalated warning (was critical)",
    "80s resolved warning (was warning)",
  ]);
});

Deno.test("rules with only one level set", () => {
  const criticalOnly = usage({ warning: undefined, keepFiringFor: 20 });
  assertEquals(
    lines(
      run(criticalOnly, [[0, 85], [10, 96], [20, 91], [30, 85], [40, 92], [50, 50], [70, 50]])
        .transitions,
    ),
    ["10s firing critical", "70s resolved critical (was critical)"],
  );
  const warningOnly = usage({ critical: undefined });
  assertEquals(
    lines(run(warningOnly, [[0, 85], [10, 1000], [20, 60]]).transitions),
    ["0s firing warning", "20s resolved warning (was warning)"],
  );
});

Deno.test("null and NaN values emit nothing and do not reset timers", () => {
  const trigger = usage({ for: 60, keepFiringFor: 60 });
  const cases: [string, Feed, string[]][] = [
    ["gap inside pending", [[0, 85], [30, null], [40, NaN], [60, 85]], ["60s firing warning"]],
    ["gap when for elapses: fires at the next value", [[0, 85], [60, null], [70, 85]], [
      "70s firing warning",
    ]],
    ["gap then clear: no transition", [[0, 85], [60, null], [70, 50]], []],
    ["gap inside clearing", [[0, 85], [60, 85], [70, 50], [100, null], [130, 50]], [
      "60s firing warning",
      "130s resolved warning (was warning)",
    ]],
    [
      "gap when keepFiringFor elapses",
      [[0, 85], [60, 85], [70, 50], [130, null], [140, Infinity]],
      [
        "60s firing warning",
      ],
    ],
  ];
  for (const [name, feed, expected] of cases) {
    assertEquals(lines(run(trigger, feed).transitions), expected, name);
  }
  // A gap changes nothing but evaluatedAt (lastValue stays the last reading).
  const pending = run(trigger, [[0, 85]]).state!;
  assertEquals(step(trigger, pending, null, at(30)), {
    state: { ...pending, evaluatedAt: at(30) },
    transitions: [],
  });
  assertEquals(step(trigger, undefined, null, at(0)).state, {
    phase: "inactive",
    severity: null,
    lastValue: null,
    evaluatedAt: at(0),
  });
});

Deno.test("a state persisted as JSON continues exactly, without a duplicate firing", () => {
  const scenarios: [Trigger, Feed][] = [
    [usage({ for: 60, keepFiringFor: 60 }), [
      ...steady(0, 5, 85), // pending
      ...steady(50, 4, 97), // firing at critical
      ...steady(90, 3, 85), // clearing toward warning
      ...steady(120, 8, 50), // resolved
    ]],
    [usage({ for: 30 }), [[0, 85], [30, 85], [40, 97], [50, null], [60, 97], [70, 97]]],
    [freeSpace({ keepFiringFor: 30 }), [[0, 4], [10, 9], [20, 7], [30, 9], [40, 20], [70, 20]]],
  ];
  for (const [trigger, feed] of scenarios) {
    const live = run(trigger, feed);
    const restored = run(trigger, feed, undefined, true);
    assertEquals(restored.transitions, live.transitions);
    assertEquals(restored.states, live.states);
    for (const s of live.states) assertEquals(JSON.parse(JSON.stringify(s)), s);
  }
  // A restart mid-pending and mid-firing: exactly one "firing" across it.
  const trigger = usage({ for: 60 });
  const midPending = JSON.parse(JSON.stringify(run(trigger, [[0, 85], [30, 85]]).state));
  assertEquals(lines(run(trigger, [[40, 85], [60, 85], [70, 85]], midPending).transitions), [
    "60s firing warning",
  ]);
  const midFiring = JSON.parse(JSON.stringify(run(trigger, [[0, 85], [60, 85]]).state));
  assertEquals(run(trigger, [[70, 85], [80, 86], [500, 85]], midFiring).transitions, []);
});

Deno.test("a clock going backwards counts as no elapsed time", () => {
  const trigger = usage({ for: 60, keepFiringFor: 60 });
  // Pending for 30 s, then the clock jumps back an hour: 30 s remain on the new clock.
  const pending = run(trigger, [[0, 85], [30, 85], [-3600, 85], [-3571, 85], [-3570, 85]]);
  assertEquals(pending.states[2].since, at(-3630));
  assertEquals(lines(pending.transitions), ["-3570s firing warning"]);
  // Same while clearing; firingSince keeps recording when the alert began.
  const clearing = run(trigger, [[0, 85], [60, 85], [70, 50], [100, 50], [-1000, 50], [-970, 50]]);
  assertEquals(clearing.states[4].clearingSince, at(-1030));
  assertEquals(clearing.transitions.at(-1), {
    kind: "resolved",
    severity: "warning",
    previous: "warning",
    at: at(-970),
    value: 50,
    firingSince: at(60),
  });
  // A backward jump during a gap shifts the timers too (and leaves no undefined keys).
  const gap = run(trigger, [[0, 85], [50, null], [-100, null], [-91, 85], [-90, 85]]);
  assertEquals(lines(gap.transitions), ["-90s firing warning"]);
  assert(gap.states.every((s) => Object.values(s).every((v) => v !== undefined)));
});
