/**
 * `alert check --replay`: the rules run over a recorded data directory with a known CPU and
 * filesystem pattern; replay() is checked directly and through the CLI.
 */
import { recordSamples } from "./store_util.ts";
import { replay, type ReplayReport, type RuleReplay } from "../src/alert/replay.ts";
import { compileRules, type RuleConfig } from "../src/alert/rules.ts";
import type { Rule } from "../src/alert/types.ts";
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { defaultConfig } from "../src/config/load.ts";
import type { Sample } from "../src/core/model.ts";
import { memoryLogger } from "../src/log.ts";
import { createFileStore } from "../src/record/store_open.ts";
import type { FileFormat } from "../src/store/layout.ts";
import type { Storage } from "../src/store/types.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";
import { templateSample } from "./synth.ts";

const HOST = "testhost";
/** 23:30 UTC: the recording crosses midnight, so it spans two day files (one compressed). */
const T0 = Date.parse("2026-03-01T23:30:00Z");
const MIN = 60_000;
const STEP = 10_000;
/** 65 minutes of samples every 10 s: the last one at 64m50s. */
const END = T0 + 65 * MIN;
const LAST = END - STEP;

/** The CPU pattern: 20 min at 95 %, 30 min at 30 %, 15 min at 99 %. */
function cpuAt(t: number): number {
  const m = (t - T0) / MIN;
  return m < 20 ? 95 : m < 50 ? 30 : 99;
}

/**
 * One sample at `t`: the template's memory (1.8 % used: nothing to fire) and filesystems, plus
 * /data at 90 % for the first 30 minutes, then 50 %, and the tmpfs at 99 % (excluded by fstype).
 */
function sampleAt(t: number): Sample {
  const s = structuredClone(templateSample(HOST));
  s.timestamp = new Date(t).toISOString();
  s.metrics.cpu_usage_percent = cpuAt(t);
  s.filesystems["/data"] = {
    device: "/dev/vdb1",
    fstype: "ext4",
    filesystem_size: 100e9,
    filesystem_usage_percent: t - T0 < 30 * MIN ? 90 : 50,
  };
  s.filesystems['/mnt/a,b "q"'].filesystem_usage_percent = 99;
  return s;
}

/** Writes the pattern into `dir`, leaving out samples in [skip.from, skip.to) (offsets in ms). */
async function recordPattern(
  dir: string,
  opts: { format?: FileFormat; skip?: { from: number; to: number } } = {},
): Promise<number> {
  let written = 0;
  function* pattern() {
    for (let t = T0; t < END; t += STEP) {
      const off = t - T0;
      if (opts.skip && off >= opts.skip.from && off < opts.skip.to) continue;
      written++;
      yield sampleAt(t);
    }
  }
  const recorded = await recordSamples(dir, pattern(), {
    host: HOST,
    format: opts.format ?? "jsonl",
    closeAt: END + MIN,
  });
  assertEquals(recorded.written, written);
  return written;
}

function readStore(dir: string): Storage {
  return createFileStore(structuredClone(EMBEDDED_DEFAULTS), dir, memoryLogger(), { host: HOST });
}

/** The shipped rules with the three this test is about pinned to known values. */
const PINNED: Record<string, Partial<RuleConfig>> = {
  cpu_busy: {
    warning: 90,
    critical: 98,
    clear_warning: 80,
    clear_critical: 90,
    for: 600,
    keep_firing_for: 300,
    summary: "CPU {{value}} busy on {{host}}",
  },
  memory_low: { warning: 90, critical: 95, for: 300, keep_firing_for: 300 },
  filesystem_space: {
    warning: 85,
    critical: 95,
    clear_warning: 80,
    clear_critical: 90,
    for: 300,
    keep_firing_for: 600,
    match: { fstype: "^(?!(tmpfs|ramfs)$)" },
  },
};

/** The same rules as a configuration file (a rule given there replaces the shipped one whole). */
const PINNED_YAML = `alert:
  rules:
    cpu_busy:
      metric: cpu_usage_percent
      warning: 90
      critical: 98
      clear_warning: 80
      clear_critical: 90
      for: 10m
      keep_firing_for: 5m
      summary: "CPU {{value}} busy on {{host}}"
    memory_low:
      metric: memory_usage_percent
      warning: 90
      critical: 95
      for: 5m
      keep_firing_for: 5m
    filesystem_space:
      metric: filesystem_usage_percent
      warning: 85
      critical: 95
      clear_warning: 80
      clear_critical: 90
      for: 5m
      keep_firing_for: 10m
      match: {fstype: "^(?!(tmpfs|ramfs)$)"}
`;

function rules(): Rule[] {
  const config: Record<string, RuleConfig> = {};
  for (const [name, rc] of Object.entries(defaultConfig().alert.rules)) {
    config[name] = { ...rc, ...PINNED[name] };
  }
  const compiled = compileRules(config);
  assertEquals(compiled.errors, []);
  return compiled.rules;
}

const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function ruleOf(report: ReplayReport, name: string): RuleReplay {
  const r = report.rules.find((x) => x.rule === name);
  assert(r, `no rule ${name} in the report: ${report.rules.map((x) => x.rule).join(", ")}`);
  return r;
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-replay-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What the continuous recording must give for cpu_busy and filesystem_space. */
function assertContinuousCounts(report: ReplayReport) {
  const cpu = ruleOf(report, "cpu_busy");
  // 95 % from 0: pending, fires warning at 10m; 30 % from 20m: resolves 5m later, at 25m.
  // 99 % from 50m: fires critical (not warning first) at 60m; still firing at the last sample.
  assertEquals(cpu.fired, 2);
  assertEquals(cpu.firedBySeverity, { warning: 1, critical: 1 });
  assertEquals([cpu.escalations, cpu.deescalations, cpu.criticalEpisodes], [0, 0, 1]);
  assertEquals(
    cpu.episodes.map((e) => [e.start, e.end, e.seconds, e.peak, e.peakValue, e.ongoing]),
    [
      [iso(10 * MIN), iso(25 * MIN), 900, "warning", 95, false],
      [iso(60 * MIN), iso(LAST - T0), 290, "critical", 99, true],
    ],
  );
  assertEquals(cpu.firingSeconds, 900 + 290);
  assertEquals(cpu.longestSeconds, 900);
  assertEquals(cpu.firingPercent, Math.round((1190 / 3890) * 100 * 100) / 100);
  assertStringIncludes(cpu.episodes[0].summary, "CPU 95.0% busy on testhost");

  const fs = ruleOf(report, "filesystem_space");
  // /data at 90 %: fires at 5m, at 50 % from 30m, resolves keep_firing_for (10m) later at 40m.
  // The tmpfs at 99 % is excluded by the fstype match.
  assertEquals(
    fs.episodes.map((e) => [e.key, e.entity, e.start, e.end, e.peak, e.peakValue]),
    [["filesystem_space//data", "/data", iso(5 * MIN), iso(40 * MIN), "warning", 90]],
  );
  assertEquals([fs.fired, fs.firingSeconds], [1, 35 * 60]);

  for (const name of ["memory_low", "swap_full", "disk_saturated"]) {
    const r = ruleOf(report, name);
    assertEquals([r.fired, r.episodes.length, r.firingSeconds], [0, 0, 0], name);
  }
  // Most fired first.
  assertEquals(report.rules.slice(0, 2).map((r) => r.rule), ["cpu_busy", "filesystem_space"]);
}

Deno.test("replay: a recorded CPU pattern fires cpu_busy twice (warning, then critical) with the right durations", async () => {
  await withDir(async (dir) => {
    const written = await recordPattern(dir);
    assertEquals(written, 390);
    const report = await replay(readStore(dir), rules(), { from: T0, to: END });
    assertEquals(report.samples, 390);
    assertEquals(report.range, { from: iso(0), to: iso(65 * MIN) });
    assertEquals(report.covered, { from: iso(0), to: iso(LAST - T0), seconds: 3890 });
    assertEquals(report.hosts, [HOST]);
    assertEquals(report.medianIntervalSeconds, 10);
    assertEquals(report.gaps, []);
    assertContinuousCounts(report);
  });
});

Deno.test("replay: CSV data gives the same report as JSON lines", async () => {
  await withDir(async (dir) => {
    await recordPattern(dir, { format: "csv" });
    const report = await replay(readStore(dir), rules(), { from: T0, to: END });
    assertEquals(report.samples, 390);
    assertContinuousCounts(report);
  });
});

Deno.test("replay: 10 minutes without samples is reported as a gap, and the engine saw nothing there", async () => {
  await withDir(async (dir) => {
    const written = await recordPattern(dir, { skip: { from: 30 * MIN, to: 40 * MIN } });
    assertEquals(written, 330);
    const report = await replay(readStore(dir), rules(), { from: T0, to: END });
    assertEquals(report.samples, 330);
    assertEquals(report.medianIntervalSeconds, 10);
    assertEquals(report.gaps, [{ from: iso(30 * MIN - STEP), to: iso(40 * MIN), seconds: 610 }]);
    assertEquals(report.gapSeconds, 610);
    // /data went back to 50 % at 30m, but the engine first saw it at 40m: resolved 10m later.
    const fs = ruleOf(report, "filesystem_space");
    assertEquals(fs.episodes.map((e) => [e.start, e.end]), [[iso(5 * MIN), iso(50 * MIN)]]);
    // cpu_busy resolved before the gap: unchanged.
    assertEquals(ruleOf(report, "cpu_busy").episodes.map((e) => [e.start, e.end]), [
      [iso(10 * MIN), iso(25 * MIN)],
      [iso(60 * MIN), iso(LAST - T0)],
    ]);
  });
});

Deno.test("replay: a sub-range replays only its samples; an alert firing at its end is ongoing", async () => {
  await withDir(async (dir) => {
    await recordPattern(dir);
    const report = await replay(readStore(dir), rules(), { from: T0, to: T0 + 15 * MIN });
    assertEquals(report.samples, 90);
    const cpu = ruleOf(report, "cpu_busy");
    assertEquals(
      cpu.episodes.map((e) => [e.start, e.end, e.seconds, e.ongoing]),
      [[iso(10 * MIN), iso(15 * MIN - STEP), 290, true]],
    );
    assertEquals(cpu.firingPercent, Math.round((290 / 890) * 100 * 100) / 100);
  });
});

/** A Storage over samples in memory: replay() needs nothing but samples(). */
function memoryStore(samples: Sample[]): Storage {
  const unused = () => {
    throw new Error("not used by replay");
  };
  return {
    write: unused,
    flush: unused,
    query: unused,
    info: unused,
    stats: unused,
    writable: unused,
    close: unused,
    async *samples(from: number, to: number) {
      for (const s of samples) {
        const t = Date.parse(s.timestamp);
        if (t >= from && t < to) yield s;
      }
    },
  };
}

function cpuSeries(host: string, minutes: [number, number][], start = T0): Sample[] {
  const out: Sample[] = [];
  let t = start;
  for (const [count, cpu] of minutes) {
    for (let i = 0; i < (count * MIN) / STEP; i++, t += STEP) {
      const s = structuredClone(templateSample(host));
      s.timestamp = new Date(t).toISOString();
      s.metrics.cpu_usage_percent = cpu;
      out.push(s);
    }
  }
  return out;
}

Deno.test("replay: an escalation is counted and the episode's peak is critical", async () => {
  // 95 % for 12 min (fires warning at 10m), 99 % for 12 min (escalates at 12m + 10m), then 30 %.
  const store = memoryStore(cpuSeries(HOST, [[12, 95], [12, 99], [10, 30]]));
  const report = await replay(store, rules(), { from: T0, to: T0 + 34 * MIN });
  const cpu = ruleOf(report, "cpu_busy");
  assertEquals(cpu.firedBySeverity, { warning: 1, critical: 0 });
  assertEquals([cpu.fired, cpu.escalations, cpu.criticalEpisodes], [1, 1, 1]);
  // 30 % from 24m: critical clears and warning clears at once: resolved 5m later, at 29m.
  assertEquals(
    cpu.episodes.map((e) => [e.start, e.end, e.peak, e.peakValue, e.ongoing]),
    [[iso(10 * MIN), iso(29 * MIN), "critical", 99, false]],
  );
});

Deno.test("replay: with a host, only that host's samples are replayed", async () => {
  const mixed = [
    ...cpuSeries("a", [[15, 95]]),
    ...cpuSeries("b", [[15, 10]], T0 + 5_000),
  ].sort((x, y) => x.timestamp < y.timestamp ? -1 : 1);
  const onlyA = await replay(memoryStore(mixed), rules(), { from: T0, to: END, host: "a" });
  assertEquals([onlyA.samples, onlyA.hosts, ruleOf(onlyA, "cpu_busy").fired], [90, ["a"], 1]);
  const onlyB = await replay(memoryStore(mixed), rules(), { from: T0, to: END, host: "b" });
  assertEquals([onlyB.samples, ruleOf(onlyB, "cpu_busy").fired], [90, 0]);
  const none = await replay(memoryStore(mixed), rules(), { from: T0, to: END, host: "c" });
  assertEquals([none.samples, none.covered, none.gaps], [0, null, []]);
});

// ---------------------------------------------------------------------------------------------
// Through the CLI

async function withRecorded(fn: (dir: string, args: string[]) => Promise<void>) {
  await withDir(async (dir) => {
    await recordPattern(`${dir}/data`);
    await Deno.writeTextFile(`${dir}/c.yaml`, PINNED_YAML);
    await fn(dir, [
      "--config",
      `${dir}/c.yaml`,
      "--data",
      `${dir}/data`,
      "--from",
      iso(0),
      "--to",
      iso(65 * MIN),
    ]);
  });
}

const UTC = { env: { TZ: "UTC" } };

Deno.test("alert check --replay: a table per rule, most fired first, then the episodes", async () => {
  await withRecorded(async (_dir, args) => {
    const r = await sysmon(["alert", "check", "--replay", ...args], UTC);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(
      r.stdout,
      "replayed 390 samples of testhost from 2026-03-01 23:30:00 to 2026-03-02 00:34:50 " +
        "(1h4m50s, every 10s)\nno gaps in the data\n",
    );
    const table = r.stdout.slice(r.stdout.indexOf("RULE"));
    assertMatch(table, /^RULE\s+FIRED\s+CRITICAL\s+FIRING\s+LONGEST\n/);
    const rows = table.split("\n\n")[0].split("\n").slice(1);
    assertMatch(rows[0], /^cpu_busy\s+2\s+1\s+30\.6%\s+15m$/);
    assertMatch(rows[1], /^filesystem_space\s+1\s+0\s+54\.0%\s+35m$/);
    assert(rows.slice(2).every((row) => /\s0\s+0\s+0\.0%\s+—$/.test(row)), rows.join("\n"));
    assert(rows.some((row) => row.startsWith("memory_low ")), rows.join("\n"));
    assertStringIncludes(r.stdout, "cpu_busy: 2 episodes\n");
    assertMatch(
      r.stdout,
      /2026-03-01 23:40:00 → 2026-03-01 23:55:00\s+15m\s+warning\s+95\.0%\n/,
    );
    assertMatch(
      r.stdout,
      /2026-03-02 00:30:00 → 2026-03-02 00:34:50\s+4m50s\s+critical\s+99\.0%\s+still firing\n/,
    );
    assertMatch(r.stdout, /filesystem_space: 1 episode\n.*\n.*35m\s+warning\s+90\.0%\s+\/data\n/);
  });
});

Deno.test("alert check --replay --json: the full report; --rule narrows it", async () => {
  await withRecorded(async (_dir, args) => {
    const r = await sysmon(["alert", "check", "--replay", ...args, "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ReplayReport & { ruleErrors: string[] };
    assertEquals(report.samples, 390);
    assertEquals(report.ruleErrors, []);
    assertContinuousCounts(report);

    const one = await sysmon([
      "alert",
      "check",
      "--replay",
      ...args,
      "--json",
      "--rule",
      "memory_low",
      "--rule",
      "cpu_busy",
    ]);
    assertEquals(one.code, 0, one.stderr);
    const narrowed = JSON.parse(one.stdout) as ReplayReport;
    assertEquals(narrowed.rules.map((x) => [x.rule, x.fired]), [["cpu_busy", 2], [
      "memory_low",
      0,
    ]]);
  });
});

Deno.test("alert check --replay: an unknown --rule is exit 2 naming the known rules", async () => {
  await withRecorded(async (_dir, args) => {
    const r = await sysmon(["alert", "check", "--replay", ...args, "--rule", "cpu_bussy"]);
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, '--rule: no alert rule named "cpu_bussy" (known: ');
    const known = r.stderr.slice(r.stderr.indexOf("(known: ") + 8).split(")")[0].split(", ");
    assert(
      ["cpu_busy", "memory_low", "filesystem_space"].every((n) => known.includes(n)),
      r.stderr,
    );
    assert(!r.stderr.includes("at file://"), "a stack trace");
  });
});

Deno.test("alert check --replay: no recorded data, or none in the range, is exit 2 with a clear message", async () => {
  await withDir(async (dir) => {
    const empty = await sysmon(["alert", "check", "--replay", "--data", dir]);
    assertEquals(empty.code, 2, empty.stderr);
    assertStringIncludes(empty.stderr, `no recorded data in ${dir}`);
    assert(!empty.stderr.includes("at file://"), "a stack trace");
  });
  await withRecorded(async (dir) => {
    const data = ["--data", `${dir}/data`];
    const before = await sysmon([
      "alert",
      "check",
      "--replay",
      ...data,
      "--from",
      "2026-01-01",
      "--to",
      "2026-01-02",
    ]);
    assertEquals(before.code, 2, before.stderr);
    assertStringIncludes(before.stderr, "no recorded samples from 2026-01-01T00:00:00.000Z");
    const reversed = await sysmon([
      "alert",
      "check",
      "--replay",
      ...data,
      "--from",
      "now",
      "--to",
      "-1h",
    ]);
    assertEquals(reversed.code, 2, reversed.stderr);
    assertStringIncludes(reversed.stderr, "must be before --to");
    const bad = await sysmon(["alert", "check", "--replay", ...data, "--from", "yesterday"]);
    assertEquals(bad.code, 2, bad.stderr);
    assertStringIncludes(bad.stderr, '--from: "yesterday" is not a point in time');
  });
});

Deno.test("alert check --replay: --from defaults to the first recorded sample, --to to now", async () => {
  await withRecorded(async (dir) => {
    const r = await sysmon(["alert", "check", "--replay", "--data", `${dir}/data`, "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ReplayReport;
    assertEquals(report.range.from, iso(0));
    assert(Date.parse(report.range.to) > END, report.range.to);
    assertEquals(report.samples, 390);
  });
});

Deno.test("alert check without --replay validates the rules: ok, or each problem and exit 2", async () => {
  await withDir(async (dir) => {
    const all = Object.entries(defaultConfig().alert.rules);
    const on = all.filter(([, r]) => r.enabled).length;
    const off = all.filter(([, r]) => !r.enabled).map(([name]) => name);
    assert(off.length > 0 && on > 0);
    const ok = await sysmon(["alert", "check"]);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(ok.stdout, `ok: ${on} rules (disabled, not checked: ${off.join(", ")})\n`);

    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      "alert:\n  rules:\n    cpu_typo:\n      metric: cpu_usage_pct\n      warning: 5\n",
    );
    const bad = await sysmon(["alert", "check", "--config", `${dir}/c.yaml`]);
    assertEquals(bad.code, 2, bad.stderr);
    assertStringIncludes(
      bad.stderr,
      'alert.rules.cpu_typo: metric "cpu_usage_pct" is not a model metric (did you mean "cpu_usage_percent"?)',
    );
    assertStringIncludes(bad.stderr, `1 problem in alert.rules (${on} rules ok)`);
    assertEquals(bad.stdout, "");
    assert(!bad.stderr.includes("at file://"), "a stack trace");

    // Naming only good rules checks only those.
    const named = await sysmon([
      "alert",
      "check",
      "--config",
      `${dir}/c.yaml`,
      "--rule",
      "cpu_busy",
    ]);
    assertEquals([named.code, named.stdout], [0, "ok: 1 rule\n"], named.stderr);

    // Replay flags without --replay are a mistake, not silently ignored.
    const forgot = await sysmon(["alert", "check", "--from", "-1h"]);
    assertEquals(forgot.code, 2, forgot.stderr);
    assertStringIncludes(forgot.stderr, "--from needs --replay");
  });
});
