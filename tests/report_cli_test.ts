/**
 * `sysmon report` end to end over a recorded store with known content: four days at a 2-minute
 * step with a growing filesystem, a rotating log filesystem, a CPU spike, a gap while the machine
 * was down and a gap across a reboot. Checks the summary, coverage, capacity and anomaly parts,
 * every output format, and the mistakes a user can make.
 */
import { recordSamples } from "./store_util.ts";
import { emptySample, type Sample } from "../src/core/model.ts";
import type { ReportModel } from "../src/report/model.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";

const DAY = 86400_000;
const HOUR = 3600_000;
const MIN = 60_000;
const T0 = Date.parse("2026-03-01T00:00:00Z");
const END = T0 + 4 * DAY;
const STEP = 2 * MIN;
/** Not recorded: the machine down (boot time unchanged), then rebooted (boot time changes). */
const DOWN = { from: T0 + 30 * HOUR, to: T0 + 31 * HOUR };
const REBOOT = { from: T0 + 60 * HOUR, to: T0 + 62 * HOUR };
/** CPU at 99 % for 30 minutes. */
const SPIKE = { from: T0 + 75 * HOUR, to: T0 + 75 * HOUR + 30 * MIN };

function noise(i: number): number {
  // Deterministic, zero-mean, within ±1.
  return Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5;
}

function sampleAt(t: number, i: number): Sample {
  const s = emptySample(new Date(t).toISOString(), "reporthost", 120);
  const inSpike = t >= SPIKE.from && t < SPIKE.to;
  s.metrics.cpu_usage_percent = inSpike ? 99 : 30 + 3 * noise(i);
  s.metrics.memory_usage_percent = 40 + noise(i + 7);
  s.metrics.boot_time = t >= REBOOT.to ? 1772600000 : 1772200000;
  const days = (t - T0) / DAY;
  s.filesystems["/data"] = {
    device: "/dev/vdb1",
    fstype: "ext4",
    // 50 % growing 5 % a day: 70 % at the end, 80 % two days after it.
    filesystem_usage_percent: 50 + 5 * days + 0.3 * noise(i + 3),
  };
  s.filesystems["/var/log"] = {
    device: "/dev/vdc1",
    fstype: "ext4",
    // Log rotation: 30 % rising to 40 % over each day, then back.
    filesystem_usage_percent: 30 + 10 * (days % 1),
  };
  return s;
}

async function recordStore(dir: string): Promise<void> {
  function* samples() {
    let i = 0;
    for (let t = T0; t < END; t += STEP, i++) {
      if ((t >= DOWN.from && t < DOWN.to) || (t >= REBOOT.from && t < REBOOT.to)) continue;
      yield sampleAt(t, i);
    }
  }
  await recordSamples(dir, samples(), { host: "reporthost", closeAt: END + HOUR });
}

let shared: Promise<string> | undefined;
/** One recorded store for every test of this file (writing it takes a few seconds). */
function store(): Promise<string> {
  shared ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "sysmon-report-" });
    await recordStore(dir);
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    return dir;
  })();
  return shared;
}

const range = ["--from", new Date(T0).toISOString(), "--to", new Date(END).toISOString()];

async function json(args: string[]): Promise<ReportModel> {
  const r = await sysmon(["report", "--data", await store(), ...range, "--json", ...args]);
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test("report: summary, time past thresholds, and the two gaps with their reasons", async () => {
  const m = await json([]);
  assertEquals(m.hosts, ["reporthost"]);
  assertEquals(m.range.resolutionSeconds, 3600, "four days are read from the hourly rollups");
  assertEquals(m.coverage.gaps.map((g) => g.reason), ["downtime", "reboot"]);
  const [down, reboot] = m.coverage.gaps;
  assert(Math.abs(Date.parse(down.from) - DOWN.from) <= STEP, down.from);
  assert(Math.abs(Date.parse(reboot.to) - REBOOT.to) <= STEP, reboot.to);
  const cpu = m.summary.find((r) => r.metric === "cpu_usage_percent")!;
  assertEquals(cpu.max, 99);
  assert(cpu.min! >= 27 && cpu.min! <= 30, `min ${cpu.min}`);
  // The spike: 15 samples of 2 minutes past cpu_busy's warning (90) and critical (98).
  const warn = cpu.thresholds.find((t) => t.severity === "warning")!;
  const share = 15 / (m.coverage.coveredSeconds / 120);
  assert(Math.abs(warn.fraction - share) < 0.001, `${warn.fraction} vs ${share}`);
  const fs = m.summary.find((r) =>
    r.metric === "filesystem_usage_percent" && r.entity === "/data"
  )!;
  assert(Math.abs(fs.max! - 70) < 0.5 && Math.abs(fs.min! - 50) < 0.5, JSON.stringify(fs));
});

Deno.test("report --capacity: a date for the growing filesystem, none for the rotating log", async () => {
  const m = await json(["--capacity"]);
  const data = m.capacity!.find((r) => r.entity === "/data" && r.resource === "filesystem space")!;
  assertEquals(data.verdict, "will reach", JSON.stringify(data));
  const eta80 = Date.parse(data.etas.find((e) => e.threshold === 80)!.at!);
  const truth = END + 2 * DAY;
  // Time to 80 % is two days from the end: within 10 %.
  assert(Math.abs(eta80 - truth) <= 0.1 * 2 * DAY, `80 % at ${new Date(eta80).toISOString()}`);
  assert(data.growthPerDay! > 4.5 && data.growthPerDay! < 5.5, `growth ${data.growthPerDay}`);
  const log = m.capacity!.find((r) =>
    r.entity === "/var/log" && r.resource === "filesystem space"
  )!;
  assert(log.verdict !== "will reach", `no fill date for a log rotation: ${JSON.stringify(log)}`);
  assert(log.etas.every((e) => e.at === null && (e.reason ?? "") !== ""), JSON.stringify(log.etas));
  // The forecast is drawn past the end on the filesystem's chart.
  const chart = m.charts.find((c) => c.id === "filesystem_usage_percent[/data]")!;
  assert((chart.forecast?.length ?? 0) > 0 && chart.forecast![0][0] >= END - HOUR);
});

Deno.test("report --anomalies: the CPU spike is one event naming cpu_usage_percent", async () => {
  const m = await json(["--anomalies"]);
  const hit = m.anomalies!.filter((e) =>
    Date.parse(e.from) <= SPIKE.to && Date.parse(e.to) >= SPIKE.from
  );
  assertEquals(hit.length, 1, JSON.stringify(m.anomalies));
  const cpu = hit[0].series.find((s) => s.metric === "cpu_usage_percent");
  assert(cpu !== undefined, JSON.stringify(hit[0]));
  assertEquals(cpu.peak, 99, "the event names the highest reading, not a mean");
  const online = await json(["--anomalies", "--online"]);
  assert(
    online.anomalies!.some((e) => Date.parse(e.from) <= SPIKE.to && Date.parse(e.to) >= SPIKE.from),
    "online mode finds the spike too",
  );
});

Deno.test("report: table, markdown, csv and --output", async () => {
  const dir = await store();
  const table = await sysmon(["report", "--data", dir, ...range, "--capacity"]);
  assertEquals(table.code, 0, table.stderr);
  for (const part of ["Coverage", "Summary", "Capacity", "Charts", "reboot", "/data"]) {
    assertStringIncludes(table.stdout, part);
  }
  assert(!/NaN|undefined/.test(table.stdout), "no NaN or undefined in the report");
  const md = await sysmon(["report", "--data", dir, ...range, "--format", "md"]);
  assertMatch(md.stdout, /^# sysmon report/);
  assertStringIncludes(md.stdout, "| METRIC | ENTITY |");
  const out = `${dir}/report.csv`;
  const csv = await sysmon(["report", "--data", dir, ...range, "--format", "csv", "--output", out]);
  assertEquals([csv.code, csv.stdout], [0, ""], csv.stderr);
  const lines = (await Deno.readTextFile(out)).trim().split("\n");
  assertEquals(lines[0], "section,metric,entity,field,value");
  assert(lines.some((l) => l.startsWith("gap,,2,reason,reboot")), lines.slice(0, 20).join("\n"));
});

Deno.test("report: mistakes are one line and exit 2", async () => {
  const dir = await store();
  const empty = await Deno.makeTempDir({ prefix: "sysmon-report-empty-" });
  try {
    const cases: [string[], string][] = [
      [["report", "--data", empty], `no recorded data in ${empty}`],
      [
        ["report", "--data", dir, "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-02T00:00:00Z"],
        "no recorded samples from 2020-01-01T00:00:00.000Z",
      ],
      [["report", "--data", dir, "--from", "-1h", "--to", "-2h"], "must be before --to"],
      [
        ["report", "--data", dir, "--from", "last tuesday"],
        '--from: "last tuesday" is not a point in time',
      ],
      [["report", "--data", dir, "--online"], "--online needs --anomalies"],
      [["report", "--input", `${empty}/missing.csv`], "--input"],
    ];
    for (const [args, message] of cases) {
      const r = await sysmon(args);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertStringIncludes(r.stderr, message);
      assert(!r.stderr.includes("    at "), `a stack trace for ${args.join(" ")}`);
    }
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("report --input: a CSV series; bad rows named; too little history said plainly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-report-csv-" });
  try {
    const rows = ["timestamp,used"];
    for (let i = 0; i < 12; i++) rows.push(`${new Date(T0 + i * HOUR).toISOString()},${50 + i}`);
    rows.splice(4, 0, "2026-03-01T02:30:00Z,oops");
    await Deno.writeTextFile(`${dir}/s.csv`, rows.join("\n") + "\n");
    const r = await sysmon([
      "report",
      "--input",
      `${dir}/s.csv`,
      "--capacity",
      "--anomalies",
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const m: ReportModel = JSON.parse(r.stdout);
    assertEquals(m.summary[0].metric, "used");
    assertEquals([m.summary[0].min, m.summary[0].max, m.summary[0].count], [50, 61, 12]);
    assert(m.notes.some((n) => n.includes('line 5: "oops" is not a number')), m.notes.join("\n"));
    // Eleven hours of data say nothing about months ahead.
    assertEquals(m.capacity![0].verdict, "insufficient history");
    assert(m.capacity![0].etas.every((e) => e.at === null), JSON.stringify(m.capacity));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report --input: a hole in the file is a gap, and the chart breaks there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-report-csv-" });
  try {
    const rows: string[] = [];
    for (let i = 0; i < 48; i++) {
      if (i >= 10 && i < 18) continue; // eight hours missing
      rows.push(`${(T0 + i * HOUR) / 1000},${20 + (i % 3)}`);
    }
    await Deno.writeTextFile(`${dir}/s.csv`, rows.join("\n") + "\n");
    const r = await sysmon(["report", "--input", `${dir}/s.csv`, "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const m: ReportModel = JSON.parse(r.stdout);
    assertEquals(m.coverage.gaps.map((g) => [g.from, g.to]), [[
      new Date(T0 + 9 * HOUR).toISOString(),
      new Date(T0 + 18 * HOUR).toISOString(),
    ]]);
    assertEquals(m.coverage.coveredSeconds, 47 * 3600 - 9 * 3600);
    const nulls = m.charts[0].points.filter(([, v]) => v === null);
    assertEquals(nulls.length, 1, "one break in the line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
