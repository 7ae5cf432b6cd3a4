/**
 * Forecast and anomaly rules: how they compile, what their trackers judge on series with a known
 * truth, the alerts the engine raises from them, history from a recording, and their gauges.
 */
import { recordSamples } from "./store_util.ts";
import { AnomalyTracker, ForecastTracker } from "../src/alert/analysis.ts";
import { AlertEngine } from "../src/alert/engine.ts";
import { seedFromRecording } from "../src/alert/history.ts";
import { compileRules, type RuleConfig } from "../src/alert/rules.ts";
import {
  type AlertNotification,
  type AnomalyRule,
  type ForecastRule,
  NEVER_SECONDS,
} from "../src/alert/types.ts";
import { defaultConfig } from "../src/config/load.ts";
import { emptySample, type Sample } from "../src/core/model.ts";
import { memoryLogger } from "../src/log.ts";
import { daemonFiring } from "../src/ui/watch/feed.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { gaussian, mulberry32 } from "./synth.ts";

const T0 = Date.parse("2026-11-02T00:00:00Z");
const MIN = 60_000;
const HOUR = 3_600_000;
const HOST = "web1";

function rc(patch: Partial<RuleConfig>): RuleConfig {
  return { ...defaultConfig().alert.rules.filesystem_will_fill, enabled: true, ...patch };
}

function problemsOf(patch: Partial<RuleConfig>): string[] {
  return compileRules({ r: rc(patch) }).errors;
}

function compileOne<T extends ForecastRule | AnomalyRule>(patch: Partial<RuleConfig>): T {
  const { rules, errors } = compileRules({ r: rc(patch) });
  assertEquals(errors, []);
  return rules[0] as T;
}

function fsSample(t: number, pct: number, mount = "/data"): Sample {
  const s = emptySample(new Date(t).toISOString(), HOST, 300);
  s.filesystems[mount] = { device: "/dev/sdb1", fstype: "ext4", filesystem_usage_percent: pct };
  return s;
}

function cpuSample(t: number, cpu: number): Sample {
  const s = emptySample(new Date(t).toISOString(), HOST, 60);
  s.metrics.cpu_usage_percent = cpu;
  return s;
}

const hoursOf = (n: AlertNotification) => (Date.parse(n.at) - T0) / HOUR;

Deno.test("forecast rules: compile with the metric's unit; every misuse is named", () => {
  const rule = compileOne<ForecastRule>({});
  assertEquals(rule.type, "forecast");
  assertEquals([rule.target, rule.capacity, rule.window, rule.minHistory], [
    100,
    100,
    604800,
    172800,
  ]);
  assertEquals(rule.direction, "below"); // the state machine judges the time left
  assertEquals(rule.warning, { raise: 172800, clear: 259200 });
  assertEquals(rule.critical, { raise: 43200, clear: 64800 });

  const expect = (patch: Partial<RuleConfig>, text: string) => {
    const problems = problemsOf(patch);
    assert(problems.some((p) => p.includes(text)), `${JSON.stringify(patch)}: ${problems}`);
  };
  expect({ warning: 90 }, "warning does not apply to forecast rules");
  expect(
    { warning_within: null, critical_within: null },
    "neither warning_within nor critical_within",
  );
  expect(
    { warning_within: 3600, critical_within: 7200 },
    "critical_within (7200s) must be shorter",
  );
  expect({ target: 120 }, "target must be a percentage above 0 and at most 100");
  expect({ metric: "memory_used", match: {}, target: null }, "target is not set");
  expect({ metric: "cpu_user_time", match: {} }, "counts up since boot");
  expect({ direction: "below" }, "direction below is not supported for forecast rules");
  expect({ min_history: 8 * 86400 }, "min_history (691200s) is longer than window (604800s)");
  expect({ sensitivity: 2 }, "sensitivity applies to anomaly rules only");
  // A threshold rule naming a forecast setting is told so.
  const threshold = compileRules({
    t: { ...defaultConfig().alert.rules.cpu_busy, target: 90, window: 3600 },
  }).errors;
  assertEquals(threshold, [
    "alert.rules.t: target applies to forecast rules only, not to threshold rules",
    "alert.rules.t: window applies to forecast and anomaly rules only, not to threshold rules",
  ]);
});

Deno.test("anomaly rules: thresholds are percentages of the window's minutes", () => {
  const rule = compileOne<AnomalyRule>({
    ...defaultConfig().alert.rules.cpu_unusual,
    enabled: true,
  });
  assertEquals([rule.type, rule.window, rule.sensitivity], ["anomaly", 900, 1]);
  assertEquals(rule.warning, { raise: 50, clear: 20 });
  const base = { ...defaultConfig().alert.rules.cpu_unusual, enabled: true };
  const errors = compileRules({ a: { ...base, warning: 150 } }).errors;
  assertEquals(errors, [
    "alert.rules.a: warning is a percentage of the window's minutes: above 0 and at most 100",
  ]);
  assert(
    compileRules({ a: { ...base, warning_within: 60 } }).errors[0].includes(
      "warning_within applies to forecast rules only",
    ),
  );
});

/** Usage that grows `perHour` % from `start`, with noise, one reading every 5 minutes. */
function growing(start: number, perHour: number, sigma: number, seed = 7) {
  const rnd = mulberry32(seed);
  return (t: number) => start + perHour * ((t - T0) / HOUR) + sigma * gaussian(rnd);
}

Deno.test("forecast tracker: no date before min_history, then the time to full within 10 %", () => {
  const rule = compileOne<ForecastRule>({});
  const tracker = new ForecastTracker(rule);
  const usage = growing(40, 0.6, 0.3);
  let before: number | null = 1;
  for (let t = T0; t <= T0 + 72 * HOUR; t += 5 * MIN) {
    const v = tracker.update(t, usage(t));
    if (t === T0 + 47 * HOUR) before = v;
  }
  assertEquals(before, null, "no forecast from less than two days");
  const state = tracker.state();
  assert(state.kind === "forecast");
  // At 72 h the usage is 83.2 %: 16.8 % left at 0.6 %/h is 28 h.
  const truth = 28 * 3600;
  const error = Math.abs(state.secondsToTarget! - truth) / truth;
  assert(error <= 0.1, `time to full ${state.secondsToTarget} s vs ${truth} s (${error})`);
  assert(Math.abs(state.growthPerSecond! * 3600 - 0.6) < 0.06, String(state.growthPerSecond));
});

Deno.test("forecast rule: warns two days ahead, escalates at 12 h, and says when in words", () => {
  const engine = new AlertEngine({ rules: [compileOne<ForecastRule>({})], host: HOST });
  const usage = growing(40, 0.6, 0.3, 11);
  const sent: AlertNotification[] = [];
  for (let t = T0; t <= T0 + 96 * HOUR; t += 5 * MIN) {
    sent.push(...engine.evaluate(fsSample(t, usage(t)), t));
  }
  assertEquals(sent.map((n) => `${n.kind} ${n.severity}`), [
    "firing warning",
    "escalated critical",
  ]);
  // Truth: 48 h left at 71.2 % (52 h), 12 h left at 92.8 % (88 h); `for` is 30 minutes.
  const [warn, crit] = sent.map(hoursOf);
  assert(warn >= 50 && warn <= 56, `warning at ${warn} h`);
  assert(crit >= 86 && crit <= 92, `critical at ${crit} h`);
  assertEquals(sent[0].key, "r//data");
  assertEquals(sent[0].unit, "seconds");
  assertEquals(sent[0].thresholdText, "2d");
  assertStringIncludes(sent[0].summary, "/data on web1 will be full in about 1d");
  assertStringIncludes(sent[0].summary, "(now 7");
  const active = engine.active();
  assertEquals(active.map((a) => [a.key, a.severity]), [["r//data", "critical"]]);
  assert(/^\d+h(\d+m)?$/.test(active[0].valueText), active[0].valueText);
});

Deno.test("forecast rule: a stationary log-rotation sawtooth never alerts and shows 'not heading there'", () => {
  const engine = new AlertEngine({ rules: [compileOne<ForecastRule>({})], host: HOST });
  const rnd = mulberry32(3);
  const sent: AlertNotification[] = [];
  for (let t = T0; t <= T0 + 8 * 24 * HOUR; t += 5 * MIN) {
    // Climbs 50 → 90 % each day, then the nightly rotation frees it: never full.
    const phase = ((t - T0) % (24 * HOUR)) / (24 * HOUR);
    sent.push(...engine.evaluate(fsSample(t, 50 + 40 * phase + 0.2 * gaussian(rnd)), t));
  }
  assertEquals(sent, []);
  const [analysis] = engine.analyses();
  assert(analysis.analysis.kind === "forecast");
  assertEquals(analysis.analysis.secondsToTarget, Infinity, analysis.analysis.reason);
});

Deno.test("forecast rule: a reading at the target is 'now' whatever the trend", () => {
  const tracker = new ForecastTracker(compileOne<ForecastRule>({ target: 90 }));
  assertEquals(tracker.update(T0, 50), null);
  assertEquals(tracker.update(T0 + MIN, 91), 0);
  assertEquals(tracker.update(T0 + 2 * MIN, 89), null); // back below, and no history yet
  assertEquals(NEVER_SECONDS > 100 * 365 * 86400, true);
});

/** Minute readings of a quiet CPU (20 % ± 2) with `burst` minutes at 70 % from `at`. */
function quietCpu(seed: number, at: number, burst: number) {
  const rnd = mulberry32(seed);
  return (t: number) => (t >= at && t < at + burst * MIN ? 70 : 20) + 2 * gaussian(rnd);
}

Deno.test("anomaly rule: quiet for a day, then a 30-minute burst alerts once and resolves", () => {
  const rule = compileOne<AnomalyRule>({
    ...defaultConfig().alert.rules.cpu_unusual,
    enabled: true,
  });
  const engine = new AlertEngine({ rules: [rule], host: HOST });
  const burstAt = T0 + 26 * HOUR;
  const cpu = quietCpu(5, burstAt, 30);
  const sent: AlertNotification[] = [];
  for (let t = T0; t <= T0 + 28 * HOUR; t += MIN) {
    sent.push(...engine.evaluate(cpuSample(t, cpu(t)), t));
  }
  assertEquals(sent.map((n) => n.kind), ["firing", "resolved"]);
  const [fired, resolved] = sent.map((n) => Date.parse(n.at));
  // Half of 15 minutes flagged: within the burst's first quarter hour.
  assert(fired > burstAt && fired <= burstAt + 15 * MIN, `fired ${(fired - burstAt) / MIN} min in`);
  assert(resolved > burstAt + 30 * MIN, "resolved after the burst");
  assertEquals(sent[0].unit, "percent");
  assertStringIncludes(sent[0].summary, "unusual for ");
  const [analysis] = engine.analyses();
  assert(analysis.analysis.kind === "anomaly");
  assertEquals(analysis.analysis.rate, 0);
});

Deno.test("anomaly tracker: recorded minutes stand in for the hours of learning", () => {
  const rule = compileOne<AnomalyRule>({
    ...defaultConfig().alert.rules.cpu_unusual,
    enabled: true,
  });
  const cpu = quietCpu(9, Infinity, 0);
  const n = 24 * 60;
  const recorded = {
    from: T0,
    mean: new Float64Array(n),
    min: new Float64Array(n),
    max: new Float64Array(n),
    count: new Uint32Array(n).fill(6),
  };
  for (let i = 0; i < n; i++) {
    const v = cpu(T0 + i * MIN);
    recorded.mean[i] = v;
    recorded.min[i] = v - 1;
    recorded.max[i] = v + 1;
  }
  const now = T0 + n * MIN;
  const seeded = new AnomalyTracker(rule);
  seeded.seed(recorded, now);
  const fresh = new AnomalyTracker(rule);
  let seededRate: number | null = null;
  let freshRate: number | null = null;
  for (let t = now; t < now + 3 * MIN; t += 10_000) {
    seededRate = seeded.update(t, cpu(t));
    freshRate = fresh.update(t, cpu(t));
  }
  assertEquals(freshRate, null, "a fresh detector judges nothing in its first minutes");
  assertEquals(seededRate, 0);
  const state = seeded.state();
  assert(state.kind === "anomaly" && state.judged >= 15, JSON.stringify(state));
});

Deno.test("alert history: a restarted engine forecasts at once from the recording", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const usage = growing(40, 0.6, 0.3, 21);
    const end = T0 + 60 * HOUR;
    const samples = function* () {
      for (let t = T0; t < end; t += MIN) yield fsSample(t, usage(t));
    };
    const { config } = await recordSamples(dir, samples(), { host: HOST, closeAt: end });

    const rules = compileRules({ r: rc({}) }).rules;
    const engine = new AlertEngine({ rules, host: HOST });
    const log = memoryLogger();
    await seedFromRecording(engine, { config, log }, dir, end);
    assertStringIncludes(log.lines.join("\n"), "start from 1 recorded series");
    engine.evaluate(fsSample(end, usage(end)), end);
    const [analysis] = engine.analyses();
    assert(analysis.analysis.kind === "forecast");
    // 76 % at 60 h: 24 % left at 0.6 %/h is 40 h.
    const truth = 40 * 3600;
    const got = analysis.analysis.secondsToTarget!;
    assert(Math.abs(got - truth) / truth <= 0.1, `${got} s vs ${truth} s`);

    // Without a recording the rules learn live, and say so.
    const empty = await Deno.makeTempDir();
    const quiet = memoryLogger();
    await seedFromRecording(new AlertEngine({ rules, host: HOST }), { config, log: quiet }, empty);
    assertStringIncludes(quiet.lines.join("\n"), "learn from live samples");
    await Deno.remove(empty, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("forecast rule: a cleanup resolves the alert instead of leaving it firing for days", () => {
  const engine = new AlertEngine({ rules: [compileOne<ForecastRule>({})], host: HOST });
  const usage = growing(40, 0.6, 0.3, 13);
  const cleanup = T0 + 70 * HOUR;
  const sent: AlertNotification[] = [];
  for (let t = T0; t <= T0 + 76 * HOUR; t += 5 * MIN) {
    // At 70 h someone frees space: 30 % used, flat from then on.
    const pct = t < cleanup ? usage(t) : 30 + 0.3 * Math.sin(t / HOUR);
    sent.push(...engine.evaluate(fsSample(t, pct), t));
  }
  assertEquals(sent.map((n) => n.kind), ["firing", "resolved"]);
  const resolved = Date.parse(sent[1].at);
  // keep_firing_for is an hour, and the fit on hourly means sees the drop within the next hour.
  assert(
    resolved > cleanup + 60 * MIN && resolved <= cleanup + 120 * MIN,
    `resolved ${(resolved - cleanup) / MIN} min after`,
  );
  const [analysis] = engine.analyses();
  assert(analysis.analysis.kind === "forecast");
  assertEquals(analysis.analysis.secondsToTarget, null, "no date is made up after the change");
});

Deno.test("watch shows the alert daemon's firing forecast alerts from its saved state", () => {
  const forecast = compileOne<ForecastRule>({ warning_within: 3 * 86400, for: 0 });
  const threshold = compileRules({ cpu_busy: defaultConfig().alert.rules.cpu_busy }).rules;
  const engine = new AlertEngine({ rules: [forecast, ...threshold], host: HOST });
  const usage = growing(40, 0.6, 0.3, 17);
  for (let t = T0; t <= T0 + 60 * HOUR; t += 5 * MIN) {
    const s = fsSample(t, usage(t));
    s.metrics.cpu_usage_percent = 99; // cpu_busy fires too: watch evaluates that one itself
    engine.evaluate(s, t);
  }
  const state = JSON.parse(JSON.stringify(engine.exportState()));
  assertEquals(engine.active().filter((a) => a.phase === "firing").length, 2);
  assertEquals(daemonFiring(state, new Set(["r"])), [
    { rule: "r", severity: "warning", entity: "/data" },
  ]);
  assertEquals(daemonFiring(state, new Set()), []);
  assertEquals(daemonFiring({ version: 1, series: {} }, new Set(["r"])), []);
});

Deno.test("alert history: a series that shows up soon after the start still gets its recording", () => {
  const engine = new AlertEngine({ rules: [compileOne<ForecastRule>({})], host: HOST });
  const now = T0 + 60 * HOUR;
  const n = 60 * 60;
  const usage = growing(40, 0.6, 0.1, 23);
  const mean = Float64Array.from({ length: n }, (_, i) => usage(now - (n - i) * MIN));
  const recorded = {
    from: now - n * MIN,
    mean,
    min: mean,
    max: mean,
    count: new Uint32Array(n).fill(1),
  };
  engine.seedHistory(() => recorded);
  const both = (t: number, mounts: string[]) => {
    const s = fsSample(t, usage(t), mounts[0]);
    for (const m of mounts.slice(1)) s.filesystems[m] = { ...s.filesystems[mounts[0]] };
    return s;
  };
  engine.evaluate(both(now, ["/data"]), now);
  engine.evaluate(both(now + 5 * MIN, ["/data", "/late"]), now + 5 * MIN);
  engine.evaluate(both(now + 11 * MIN, ["/data", "/late", "/later"]), now + 11 * MIN);
  const known = (mount: string) => {
    const a = engine.analyses().find((x) => x.entity === mount)!;
    assert(a.analysis.kind === "forecast");
    return a.analysis.secondsToTarget !== null;
  };
  assertEquals([known("/data"), known("/late"), known("/later")], [true, true, false]);
});
