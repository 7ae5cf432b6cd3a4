/** The alert engine over samples: notifications with rendered texts, restarts, vanished entities. */
import { AlertEngine } from "../src/alert/engine.ts";
import { compileRules, type RuleConfig } from "../src/alert/rules.ts";
import type { AlertNotification } from "../src/alert/types.ts";
import { defaultConfig } from "../src/config/load.ts";
import { emptySample, type Sample } from "../src/core/model.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";

const T0 = Date.parse("2026-11-27T00:00:00Z");
const HOST = "web1";

function rules(names: string[], patch: Record<string, Partial<RuleConfig>> = {}) {
  const shipped = defaultConfig().alert.rules;
  const config: Record<string, RuleConfig> = {};
  for (const n of names) config[n] = { ...shipped[n], ...patch[n] };
  const compiled = compileRules(config);
  assertEquals(compiled.errors, []);
  return compiled.rules;
}

function cpuSample(t: number, cpu: number | null): Sample {
  const s = emptySample(new Date(t).toISOString(), HOST, 10);
  s.metrics.cpu_usage_percent = cpu;
  return s;
}

function fsSample(t: number, usage: Record<string, number>): Sample {
  const s = emptySample(new Date(t).toISOString(), HOST, 10);
  for (const [mount, pct] of Object.entries(usage)) {
    s.filesystems[mount] = {
      device: `/dev/${mount === "/" ? "root" : mount.slice(1)}`,
      fstype: "ext4",
      filesystem_usage_percent: pct,
    };
  }
  return s;
}

/** Feeds one value every 10 s from `from` for `seconds`; returns the notifications. */
function run(
  engine: AlertEngine,
  from: number,
  seconds: number,
  sample: (t: number) => Sample,
): AlertNotification[] {
  const out: AlertNotification[] = [];
  for (let s = 0; s < seconds; s += 10) {
    const t = from + s * 1000;
    out.push(...engine.evaluate(sample(t), t));
  }
  return out;
}

const brief = (n: AlertNotification) =>
  `${(Date.parse(n.at) - T0) / 1000}s ${n.kind} ${n.severity} ${n.key}`;

Deno.test("engine: cpu_busy fires after `for`, once, with its texts, and resolves after keep_firing_for", () => {
  const engine = new AlertEngine({ rules: rules(["cpu_busy"]), host: HOST });
  const busy = run(engine, T0, 700, (t) => cpuSample(t, 95)); // 10 min 40 s at 95 %
  assertEquals(busy.map(brief), ["600s firing warning cpu_busy"]);
  const n = busy[0];
  assertEquals(n.labels, { alertname: "cpu_busy", severity: "warning", host: HOST });
  assertEquals(n.summary, "CPU 95.0% busy on web1 for 10 minutes (threshold 90.0%)");
  assertEquals(n.startsAt, new Date(T0 + 600_000).toISOString());
  assertEquals(engine.active().map((a) => [a.key, a.phase, a.severity]), [
    ["cpu_busy", "firing", "warning"],
  ]);
  // 85 % lies between clear (80) and raise (90): still firing, nothing sent.
  assertEquals(run(engine, T0 + 700_000, 600, (t) => cpuSample(t, 85)), []);
  const idle = run(engine, T0 + 1_300_000, 400, (t) => cpuSample(t, 20));
  assertEquals(idle.map(brief), ["1600s resolved warning cpu_busy"]);
  assertEquals(idle[0].endsAt, idle[0].at);
  assertEquals(engine.active(), []);
});

Deno.test("engine: per-entity rule fires only for the full filesystem, labelled with it", () => {
  const engine = new AlertEngine({ rules: rules(["filesystem_space"]), host: HOST });
  const out = run(engine, T0, 400, (t) => fsSample(t, { "/": 50, "/var": 97 }));
  assertEquals(out.map(brief), ["300s firing critical filesystem_space//var"]);
  assertEquals(out[0].labels, {
    alertname: "filesystem_space",
    severity: "critical",
    host: HOST,
    mountpoint: "/var",
    device: "/dev/var",
    fstype: "ext4",
  });
  assertStringIncludes(out[0].summary, "/var is 97.0% full on web1");
});

Deno.test("engine: a restart from exported state neither re-notifies nor forgets", () => {
  const first = new AlertEngine({ rules: rules(["cpu_busy"]), host: HOST });
  assertEquals(run(first, T0, 700, (t) => cpuSample(t, 99)).map(brief), [
    "600s firing critical cpu_busy",
  ]);
  const saved = JSON.parse(JSON.stringify(first.exportState()));
  const second = new AlertEngine({ rules: rules(["cpu_busy"]), host: HOST });
  assertEquals(second.importState(saved), 1);
  assertEquals(run(second, T0 + 700_000, 100, (t) => cpuSample(t, 99)), []);
  const resolved = run(second, T0 + 800_000, 400, (t) => cpuSample(t, 10));
  assertEquals(resolved.map(brief), ["1100s resolved critical cpu_busy"]);
  assertEquals(resolved[0].startsAt, new Date(T0 + 600_000).toISOString());
  // State of a rule that was removed meanwhile is dropped.
  const third = new AlertEngine({ rules: rules(["memory_low"]), host: HOST });
  assertEquals(third.importState(saved), 0);
});

Deno.test("engine: a firing filesystem that disappears resolves after the grace; pending ones drop", () => {
  const engine = new AlertEngine({ rules: rules(["filesystem_space"]), host: HOST });
  run(engine, T0, 400, (t) => fsSample(t, { "/": 50, "/mnt/usb": 99, "/srv": 88 }));
  assertEquals(engine.active().map((a) => [a.key, a.phase]), [
    ["filesystem_space//mnt/usb", "firing"],
    ["filesystem_space//srv", "firing"],
  ]);
  // /mnt/usb unmounted; /srv stays. keep_firing_for is 10 min, so the grace is 10 min.
  const out = run(engine, T0 + 400_000, 700, (t) => fsSample(t, { "/": 50, "/srv": 88 }));
  assertEquals(out.map(brief), ["990s resolved critical filesystem_space//mnt/usb"]);
  assertEquals(out[0].value, null);
  assertEquals(engine.active().map((a) => a.key), ["filesystem_space//srv"]);
});

Deno.test("engine: missing values (first sample, a failed read) neither fire nor resolve", () => {
  const engine = new AlertEngine({
    rules: rules(["cpu_busy"], { cpu_busy: { for: 0 } }),
    host: HOST,
  });
  assertEquals(engine.evaluate(cpuSample(T0, null), T0), []);
  const fired = engine.evaluate(cpuSample(T0 + 10_000, 99), T0 + 10_000);
  assertEquals(fired.map(brief), ["10s firing critical cpu_busy"]);
  assertEquals(run(engine, T0 + 20_000, 1000, (t) => cpuSample(t, null)), []);
  assert(engine.active().length === 1);
});
