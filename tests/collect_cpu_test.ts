import {
  type CpuData,
  cpuFamily,
  cpuShares,
  parseCpuList,
  parseStat,
  ratesAllowed,
} from "../src/collect/cpu.ts";
import type { Reading } from "../src/collect/types.ts";
import { TextExposition } from "../src/expose/writer.ts";
import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./assert.ts";
import { assertGolden, fixtureRoots, FIXTURES, SHAPES, testContext } from "./helpers.ts";

const LIVE = { procfs: "/proc", sysfs: "/sys", rootfs: "/" };

function data(text: string, online: number[] | null = null): CpuData {
  const stat = parseStat(text);
  return { stat, cpuIds: stat.cores.map((c) => c.id), online };
}

const at = (d: CpuData, mono: number): Reading<CpuData> => ({ data: d, mono, wall: mono });

async function readShape(shape: string, sub = ""): Promise<CpuData> {
  return await cpuFamily.create(testContext(fixtureRoots(shape, sub))).read();
}

// ---------------------------------------------------------------------------------------------
// Parsing

Deno.test("parseStat reads the captured 6.18 /proc/stat", () => {
  const s = parseStat(Deno.readTextFileSync(FIXTURES + "linux-6.18-vm/proc/stat"));
  assertEquals(s.total, {
    user: 2522,
    nice: 0,
    system: 914,
    idle: 56837,
    iowait: 177,
    irq: 0,
    softirq: 52,
    steal: 3,
    guest: 0,
    guest_nice: 0,
  });
  assertEquals(s.cores.map((c) => c.id), [0, 1]);
  assertEquals(s.cores[1].ticks.user, 1433);
  assertEquals(
    [s.intr, s.ctxt, s.btime, s.processes, s.procsRunning, s.procsBlocked],
    [147307, 288646, 1795712030, 3587, 1, 0],
  );
});

Deno.test("parseStat: the 5.15 hotplug tree lists only online CPUs, guest columns kept", () => {
  const s = parseStat(Deno.readTextFileSync(FIXTURES + "linux-5.15-hotplug/proc/stat"));
  assertEquals(s.cores.map((c) => c.id), [0, 1, 3]);
  // guest: 12000 + 9000 + 0 (cpu2, offline) + 8000; guest_nice only on cpu3.
  assertEquals([s.total.guest, s.total.guest_nice], [29000, 100]);
});

Deno.test("parseStat: missing trailing columns of an old kernel are 0", () => {
  const s = parseStat("cpu  10 1 5 100 2 0 3\ncpu0 10 1 5 100\nbtime 1000\n");
  assertEquals([s.total.softirq, s.total.steal, s.total.guest, s.total.guest_nice], [3, 0, 0, 0]);
  assertEquals([s.cores[0].ticks.idle, s.cores[0].ticks.iowait], [100, 0]);
  assertEquals([s.intr, s.ctxt, s.processes], [null, null, null]);
});

Deno.test("parseStat: malformed input names the file and the line", () => {
  assertThrows(
    () => parseStat("cpu  1 2 x 4\nbtime 5\n", "/host/proc/stat"),
    '/host/proc/stat: malformed line 1 "cpu  1 2 x 4": system ("x") is not a count',
  );
  assertThrows(() => parseStat("cpu 1 2 3\nbtime 5\n"), "/proc/stat: malformed line 1");
  assertThrows(() => parseStat("cpu 1 2 3 4\ncpuX 1 2 3 4\nbtime 5\n"), "line 2");
  assertThrows(() => parseStat("cpu 1 2 3 4\nctxt many\nbtime 5\n"), "ctxt value is not a count");
  assertThrows(() => parseStat("cpu 1 2 3 4 -5\nbtime 5\n"), "iowait");
  assertThrows(() => parseStat("btime 5\n"), '/proc/stat: no "cpu" line');
  assertThrows(() => parseStat("cpu 1 2 3 4\n"), '/proc/stat: no "btime" line');
});

Deno.test("parseCpuList expands kernel CPU lists", () => {
  assertEquals(parseCpuList("0-1,3\n"), [0, 1, 3]);
  assertEquals(parseCpuList("0\n"), [0]);
  assertEquals(parseCpuList("0-2,8-9"), [0, 1, 2, 8, 9]);
  assertEquals(parseCpuList("\n"), []);
  assertThrows(
    () => parseCpuList("3-1"),
    '/sys/devices/system/cpu/online: malformed CPU list "3-1"',
  );
  assertThrows(() => parseCpuList("0,a", "/x/online"), "/x/online");
});

// ---------------------------------------------------------------------------------------------
// Derive, with values computed by hand

const PREV = `cpu  100 10 50 800 20 5 5 10 4 1
cpu0 50 5 25 400 10 3 2 5 4 1
cpu1 50 5 25 400 10 2 3 5 0 0
intr 1000 1 2 3
ctxt 5000
btime 1600000000
processes 300
procs_running 2
procs_blocked 1
`;

// Two seconds later. Deltas of the "cpu" line: user 160, nice 0, system 40, idle 500, iowait 40,
// irq 5, softirq 5, steal 50 → Δtotal 800. cpu0: 100 0 20 200 30 5 5 40 (400);
// cpu1: 60 0 20 300 10 0 0 10 (400).
const CUR = `cpu  260 10 90 1300 60 10 10 60 4 1
cpu0 150 5 45 600 40 8 7 45 4 1
cpu1 110 5 45 700 20 2 3 15 0 0
intr 1600 1 2 3
ctxt 9000
btime 1600000000
processes 310
procs_running 3
procs_blocked 0
`;

Deno.test("derive: shares, rates and cumulative times, computed by hand", () => {
  const part = cpuFamily.derive(at(data(PREV, [0, 1]), 1000), at(data(CUR, [0, 1]), 3000));
  assertEquals(part.metrics, {
    cpu_usage_percent: 32.5, // 100 × (800 − 500 − 40) / 800
    cpu_user_percent: 20, // 100 × 160 / 800
    cpu_nice_percent: 0,
    cpu_system_percent: 5, // 100 × 40 / 800
    cpu_idle_percent: 62.5, // 100 × 500 / 800
    cpu_iowait_percent: 5, // 100 × 40 / 800
    cpu_irq_percent: 0.625, // 100 × 5 / 800
    cpu_softirq_percent: 0.625,
    cpu_steal_percent: 6.25, // 100 × 50 / 800
    cpu_user_time: 2.6, // 260 ticks / 100
    cpu_nice_time: 0.1,
    cpu_system_time: 0.9,
    cpu_idle_time: 13,
    cpu_iowait_time: 0.6,
    cpu_irq_time: 0.1,
    cpu_softirq_time: 0.1,
    cpu_steal_time: 0.6,
    cpu_cores_online: 2,
    cpu_context_switches_per_second: 2000, // (9000 − 5000) / 2 s
    cpu_interrupts_per_second: 300, // (1600 − 1000) / 2 s
    processes_forks_per_second: 5, // (310 − 300) / 2 s
    processes_running: 3,
    processes_blocked: 0,
    boot_time: 1600000000,
  });
  assertEquals(part.cores, {
    // cpu0: busy = 400 − 200 − 30 = 170 → 42.5 %; user 100/400; system 20/400; iowait 30/400
    cpu0: {
      core_usage_percent: 42.5,
      core_user_percent: 25,
      core_system_percent: 5,
      core_iowait_percent: 7.5,
      core_idle_percent: 50,
      core_steal_percent: 10,
    },
    // cpu1: busy = 400 − 300 − 10 = 90 → 22.5 %
    cpu1: {
      core_usage_percent: 22.5,
      core_user_percent: 15,
      core_system_percent: 5,
      core_iowait_percent: 2.5,
      core_idle_percent: 75,
      core_steal_percent: 2.5,
    },
  });
});

const RATE_METRICS = [
  "cpu_usage_percent",
  "cpu_user_percent",
  "cpu_nice_percent",
  "cpu_system_percent",
  "cpu_idle_percent",
  "cpu_iowait_percent",
  "cpu_irq_percent",
  "cpu_softirq_percent",
  "cpu_steal_percent",
  "cpu_context_switches_per_second",
  "cpu_interrupts_per_second",
  "processes_forks_per_second",
];

const NULL_CORE = {
  core_usage_percent: null,
  core_user_percent: null,
  core_system_percent: null,
  core_iowait_percent: null,
  core_idle_percent: null,
  core_steal_percent: null,
};

function assertNoRates(part: ReturnType<typeof cpuFamily.derive>, cores: string[]) {
  for (const k of RATE_METRICS) assertEquals(part.metrics?.[k], null, k);
  assertEquals(Object.keys(part.cores ?? {}), cores);
  for (const c of cores) assertEquals(part.cores?.[c], NULL_CORE, c);
}

Deno.test("derive: no previous reading keeps every key, rates null", () => {
  const part = cpuFamily.derive(undefined, at(data(CUR, [0, 1]), 3000));
  assertNoRates(part, ["cpu0", "cpu1"]);
  assertEquals(part.metrics?.cpu_user_time, 2.6);
  assertEquals(part.metrics?.processes_running, 3);
});

Deno.test("derive: a core whose counter went backwards is null, the others are not", () => {
  // cpu1's user drops 50 → 40 (the aggregate line still moves forward).
  const cur = CUR.replace("cpu1 110 5", "cpu1 40 5");
  const part = cpuFamily.derive(at(data(PREV), 0), at(data(cur), 2000));
  assertEquals(part.cores?.cpu1, NULL_CORE);
  assertEquals(part.cores?.cpu0?.core_usage_percent, 42.5);
  assertEquals(part.metrics?.cpu_usage_percent, 32.5);
});

Deno.test("derive: a drop in iowait (documented kernel behaviour) counts as 0, not as a reset", () => {
  // cpu0 iowait 10 → 8, idle 400 → 700; others: user +100, system +20, irq +5, softirq +5, steal +40.
  // Deltas used: 100 0 20 300 0 5 5 40 → Δtotal 470; busy = 470 − 300 − 0 = 170.
  const cur = CUR.replace("cpu0 150 5 45 600 40", "cpu0 150 5 45 700 8");
  const part = cpuFamily.derive(at(data(PREV), 0), at(data(cur), 2000));
  const c = part.cores?.cpu0;
  assertAlmostEquals(c?.core_usage_percent as number, (100 * 170) / 470, 1e-12);
  assertEquals(c?.core_iowait_percent, 0);
  assertAlmostEquals(c?.core_idle_percent as number, (100 * 300) / 470, 1e-12);
});

Deno.test("derive: a changed btime (reboot) gives no rates at all", () => {
  const cur = CUR.replace("btime 1600000000", "btime 1600000100");
  const part = cpuFamily.derive(at(data(PREV, [0, 1]), 0), at(data(cur, [0, 1]), 2000));
  assertNoRates(part, ["cpu0", "cpu1"]);
  assertEquals(part.metrics?.boot_time, 1600000100);
  assertEquals(part.metrics?.cpu_idle_time, 13);
  assertEquals(ratesAllowed(data(PREV), data(cur)), false);
});

Deno.test("derive: no tick passed (Δtotal = 0) gives null shares; unchanged counters give 0/s", () => {
  const part = cpuFamily.derive(at(data(PREV), 0), at(data(PREV), 1000));
  for (const k of RATE_METRICS.slice(0, 9)) assertEquals(part.metrics?.[k], null, k);
  assertEquals(part.cores?.cpu0, NULL_CORE);
  assertEquals(part.metrics?.cpu_context_switches_per_second, 0);
  assertEquals(cpuShares(parseStat(PREV).total, parseStat(PREV).total), null);
});

Deno.test("derive: readings at the same instant give no rates", () => {
  assertNoRates(cpuFamily.derive(at(data(PREV), 5), at(data(CUR), 5)), ["cpu0", "cpu1"]);
});

Deno.test("derive: a counter of the stat lines going backwards gives null for that rate only", () => {
  const cur = CUR.replace("ctxt 9000", "ctxt 10");
  const part = cpuFamily.derive(at(data(PREV), 0), at(data(cur), 2000));
  assertEquals(part.metrics?.cpu_context_switches_per_second, null);
  assertEquals(part.metrics?.cpu_interrupts_per_second, 300);
  assertEquals(part.metrics?.cpu_usage_percent, 32.5);
});

Deno.test("derive: CPU hotplug (cpu2 back online in the 5.15 tree) gives no rates at all", async () => {
  const prev = await readShape("linux-5.15-hotplug");
  const cur = await readShape("linux-5.15-hotplug", "later");
  assertEquals([prev.online, prev.cpuIds], [[0, 1, 3], [0, 1, 3]]);
  assertEquals([cur.online, cur.cpuIds], [[0, 1, 2, 3], [0, 1, 2, 3]]);
  const part = cpuFamily.derive(at(prev, 0), at(cur, 10_000));
  assertNoRates(part, ["cpu0", "cpu1", "cpu2", "cpu3"]);
  assertEquals(part.metrics?.cpu_cores_online, 4);
  // The same CPU set with the online file changed alone also stops rates.
  assertEquals(ratesAllowed({ ...prev, online: [0, 1] }, prev), false);
});

Deno.test("derive: the 4.9 tree's 10 s interval, checked by hand", async () => {
  const part = cpuFamily.derive(
    at(await readShape("linux-4.9-old"), 0),
    at(await readShape("linux-4.9-old", "later"), 10_000),
  );
  // cpu0 deltas 250 0 80 600 50 0 20 0 (1000): busy 350; cpu1 150 10 60 740 30 0 10 0: busy 230;
  // aggregate 2000 ticks, busy 580 → 29 %.
  assertEquals(part.cores?.cpu0?.core_usage_percent, 35);
  assertEquals(part.cores?.cpu1?.core_usage_percent, 23);
  assertEquals(part.metrics?.cpu_usage_percent, 29);
  assertEquals(part.metrics?.cpu_iowait_percent, 4); // 80 / 2000
  assertEquals(part.metrics?.cpu_context_switches_per_second, 2500); // 25000 / 10 s
  assertEquals(part.metrics?.cpu_interrupts_per_second, 1200); // 12000 / 10 s
  assertEquals(part.metrics?.processes_forks_per_second, 3.7); // 37 / 10 s
});

// ---------------------------------------------------------------------------------------------
// Reader

Deno.test("reader: without an online file the cpuN lines count the CPUs", async () => {
  // The 6.18 tree's later/ overlay holds only proc/stat.
  const ctx = testContext(fixtureRoots("linux-6.18-vm", "later"));
  const d = await cpuFamily.create(ctx).read();
  assertEquals(d.online, null);
  const part = cpuFamily.derive(undefined, at(d, 0));
  assertEquals(part.metrics?.cpu_cores_online, 2);
});

Deno.test("reader: max_entities cuts cores, not the CPU count or hotplug detection", async () => {
  const ctx = testContext(fixtureRoots("linux-6.1-container"), (c) => (c.max_entities = 3));
  const d = await cpuFamily.create(ctx).read();
  assertEquals(d.stat.cores.map((c) => c.id), [0, 1, 2]);
  assertEquals(d.cpuIds, [0, 1, 2, 3, 4, 5, 6, 7]);
  assertEquals(ctx.dropped.get("cpu"), 5);
  assertEquals(cpuFamily.derive(undefined, at(d, 0)).metrics?.cpu_cores_online, 8);
});

Deno.test("reader: a missing /proc/stat is an error naming the file", async () => {
  const ctx = testContext({ procfs: "/nonexistent/proc", sysfs: "/nonexistent/sys", rootfs: "/" });
  let message = "";
  await cpuFamily.create(ctx).read().catch((e) => (message = (e as Error).message));
  assertEquals(message, "cannot read /nonexistent/proc/stat: not found");
});

// ---------------------------------------------------------------------------------------------
// Exposition

Deno.test("expose: node_exporter's cpu and stat families", () => {
  const out = new TextExposition();
  cpuFamily.expose(
    data("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 150 1 2 3 4 5 6 7 100 1\nbtime 42\nctxt 7\n"),
    out,
  );
  const text = out.text();
  const lines = text.split("\n");
  for (
    const expected of [
      "# TYPE node_cpu_seconds_total counter",
      'node_cpu_seconds_total{cpu="0",mode="user"} 1.5',
      'node_cpu_seconds_total{cpu="0",mode="idle"} 0.03',
      'node_cpu_seconds_total{cpu="0",mode="steal"} 0.07',
      "# TYPE node_cpu_guest_seconds_total counter",
      'node_cpu_guest_seconds_total{cpu="0",mode="user"} 1',
      'node_cpu_guest_seconds_total{cpu="0",mode="nice"} 0.01',
      "# TYPE node_boot_time_seconds gauge",
      "node_boot_time_seconds 42",
      "node_context_switches_total 7",
    ]
  ) assert(lines.includes(expected), `missing ${expected} in\n${text}`);
  // Counters the file lacks are left out, not written as 0.
  assert(!text.includes("node_forks_total"));
  assert(!text.includes("node_intr_total"));
  // One CPU: 8 modes in node_cpu_seconds_total, the aggregate line is not exposed.
  assertEquals(lines.filter((l) => l.startsWith("node_cpu_seconds_total{")).length, 8);
});

// ---------------------------------------------------------------------------------------------
// Golden outputs

for (const shape of SHAPES) {
  Deno.test(`golden: cpu derive and exposition for ${shape}`, async () => {
    const prev = await readShape(shape);
    const cur = await readShape(shape, "later");
    const part = cpuFamily.derive(at(prev, 0), at(cur, 10_000));
    await assertGolden(`${shape}/cpu.json`, JSON.stringify(part, null, 2) + "\n");
    const out = new TextExposition();
    cpuFamily.expose(prev, out);
    await assertGolden(`${shape}/cpu.prom`, out.text());
  });
}

// ---------------------------------------------------------------------------------------------
// Live, on this machine

async function run(cmd: string, ...args: string[]): Promise<string> {
  const { code, stdout } = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
  assertEquals(code, 0, `${cmd} failed`);
  return new TextDecoder().decode(stdout);
}

Deno.test("live: CPUs online agree with getconf, boot time with /proc/uptime", async () => {
  const reader = cpuFamily.create(testContext(LIVE));
  const first = await reader.read();
  const part = cpuFamily.derive(undefined, at(first, 0));
  const online = Number((await run("getconf", "_NPROCESSORS_ONLN")).trim());
  assertEquals(part.metrics?.cpu_cores_online, online);
  const uptime = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
  assertAlmostEquals(part.metrics?.boot_time as number, Date.now() / 1000 - uptime, 2);
});

Deno.test("live: two readings give shares that add up to 100 %", async () => {
  const reader = cpuFamily.create(testContext(LIVE));
  const t0 = performance.now();
  const first = await reader.read();
  // Burn CPU so some ticks pass even on an idle machine.
  while (performance.now() - t0 < 300) Math.sqrt(Math.random());
  const second = await reader.read();
  const m = cpuFamily.derive(at(first, t0), at(second, performance.now())).metrics ?? {};
  const modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];
  const sum = modes.reduce((s, k) => s + (m[`cpu_${k}_percent`] as number), 0);
  assertAlmostEquals(sum, 100, 1e-9);
  const usage = m.cpu_usage_percent as number;
  assert(usage > 0 && usage <= 100, `usage ${usage}`);
  assert((m.cpu_context_switches_per_second as number) > 0);
});
