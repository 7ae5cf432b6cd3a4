import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { type Clock, Sampler } from "../src/core/sampler.ts";
import type { Family, PartialErrors, Reading } from "../src/collect/types.ts";
import { testContext } from "./helpers.ts";

interface Counter extends PartialErrors {
  value: number;
}

/** A family whose reading is whatever `next()` returns; derive gives a rate like real families. */
function counterFamily(name: "cpu" | "loadavg", next: () => number | Error): Family<Counter> {
  return {
    name,
    defs: [],
    create: () => ({
      read: () => {
        const v = next();
        return v instanceof Error ? Promise.reject(v) : Promise.resolve({ value: v });
      },
    }),
    derive: (prev: Reading<Counter> | undefined, cur: Reading<Counter>) => {
      const dt = prev ? (cur.mono - prev.mono) / 1000 : 0;
      const rate = prev && cur.data.value >= prev.data.value
        ? (cur.data.value - prev.data.value) / dt
        : null;
      return { metrics: { [`${name}_rate`]: rate, [`${name}_value`]: cur.data.value } };
    },
    expose: () => {},
  };
}

function fakeClock(): Clock & { advance(ms: number): void } {
  let mono = 1000, wall = 1_700_000_000_000;
  return {
    mono: () => mono,
    wall: () => wall,
    advance(ms) {
      mono += ms;
      wall += ms;
    },
  };
}

async function tempProc(bootId: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/proc/sys/kernel/random`, { recursive: true });
  await Deno.writeTextFile(`${dir}/proc/sys/kernel/random/boot_id`, bootId + "\n");
  return dir;
}

Deno.test("sampler: rates come from counter deltas over the monotonic clock", async () => {
  const values = [100, 350];
  const clock = fakeClock();
  const dir = await tempProc("boot-a");
  const ctx = testContext({ procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: "/" });
  const s = new Sampler({
    families: [counterFamily("cpu", () => values.shift()!)],
    ctx,
    host: "h",
    clock,
  });
  const first = await s.collect();
  assertEquals(first.metrics.cpu_rate, null);
  assertEquals(first.interval, null);
  clock.advance(2500);
  const second = await s.collect();
  // (350 - 100) / 2.5 s = 100 per second
  assertEquals(second.metrics.cpu_rate, 100);
  assertEquals(second.interval, 2.5);
  assertEquals(second.version, 1);
  assertEquals(second.host, "h");
  assertEquals(second.timestamp, new Date(1_700_000_002_500).toISOString());
});

Deno.test("sampler: a wall-clock step does not change rates (only mono counts)", async () => {
  let mono = 0, wall = 1_700_000_000_000;
  const clock: Clock = { mono: () => mono, wall: () => wall };
  const values = [0, 1000];
  const dir = await tempProc("boot-a");
  const ctx = testContext({ procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: "/" });
  const s = new Sampler({
    families: [counterFamily("cpu", () => values.shift()!)],
    ctx,
    host: "h",
    clock,
  });
  await s.collect();
  mono += 10_000;
  wall += 3_600_000; // NTP stepped the clock an hour forward
  const sample = await s.collect();
  assertEquals(sample.metrics.cpu_rate, 100); // 1000 / 10 s, not 1000 / 3610 s
});

Deno.test("sampler: a changed boot id discards previous readings (no rate across a reboot)", async () => {
  const clock = fakeClock();
  const dir = await tempProc("boot-a");
  const values = [100, 200, 50, 80];
  const ctx = testContext({ procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: "/" });
  const s = new Sampler({
    families: [counterFamily("cpu", () => values.shift()!)],
    ctx,
    host: "h",
    clock,
  });
  await s.collect();
  clock.advance(1000);
  assertEquals((await s.collect()).metrics.cpu_rate, 100);
  await Deno.writeTextFile(`${dir}/proc/sys/kernel/random/boot_id`, "boot-b\n");
  clock.advance(1000);
  const afterReboot = await s.collect();
  assertEquals(afterReboot.metrics.cpu_rate, null);
  assertEquals(afterReboot.interval, null);
  clock.advance(1000);
  assertEquals((await s.collect()).metrics.cpu_rate, 30);
  assert(ctx.log.lines.some((l) => l.includes("boot id changed")));
});

Deno.test("sampler: one failing collector is reported by name and the others go on", async () => {
  const clock = fakeClock();
  const dir = await tempProc("boot-a");
  const ctx = testContext({ procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: "/" });
  let n = 0;
  const s = new Sampler({
    families: [
      counterFamily("cpu", () => new Error("cannot read /proc/stat: not found")),
      counterFamily("loadavg", () => ++n),
    ],
    ctx,
    host: "h",
    clock,
  });
  const sample = await s.collect();
  assertEquals(sample.errors, [{ collector: "cpu", message: "cannot read /proc/stat: not found" }]);
  assertEquals(sample.metrics.loadavg_value, 1);
  assert(!("cpu_value" in sample.metrics));
  const statuses = s.statuses();
  assertEquals(statuses.map((x) => [x.name, x.success]), [["cpu", false], ["loadavg", true]]);
  // Logged once, not on every tick.
  await s.collect();
  assertEquals(ctx.log.lines.filter((l) => l.includes("collector cpu failed")).length, 1);
});

Deno.test("sampler: families keep their own intervals; a stale family's last part is carried", async () => {
  const clock = fakeClock();
  const dir = await tempProc("boot-a");
  const ctx = testContext({ procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: "/" }, (c) => {
    c.loadavg.interval = 60;
  });
  let a = 0, b = 0;
  const s = new Sampler({
    families: [counterFamily("cpu", () => ++a), counterFamily("loadavg", () => ++b)],
    ctx,
    host: "h",
    clock,
  });
  assertEquals(s.statuses().map((x) => x.interval), [10, 60]);
  await s.collect();
  const only = await s.collect(new Set(["cpu"]));
  assertEquals(only.metrics.cpu_value, 2);
  assertEquals(only.metrics.loadavg_value, 1);
});

Deno.test("sampler: ticks align to wall-clock multiples and late ticks are counted, not bunched", async () => {
  const dir = await tempProc("boot-a");
  const ctx = testContext({ procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: "/" }, (c) => {
    c.interval = 0.1;
  });
  let v = 0;
  const s = new Sampler({ families: [counterFamily("cpu", () => ++v)], ctx, host: "h" });
  const stamps: number[] = [];
  let blocked = false;
  await new Promise<void>((resolve) => {
    s.start((sample) => {
      stamps.push(Date.parse(sample.timestamp));
      if (stamps.length === 2 && !blocked) {
        blocked = true;
        const until = performance.now() + 350; // block the only thread for 3.5 intervals
        while (performance.now() < until) { /* busy */ }
      }
      if (stamps.length === 5) {
        s.stop();
        resolve();
      }
    });
  });
  for (const t of stamps) {
    // Timers fire at or just after the aligned instant (a few ms of scheduling slack on a busy host).
    assert(t % 100 < 40, `tick at ${t} is not aligned to 100 ms (offset ${t % 100})`);
  }
  assert(s.stats.missedTicks >= 3, `expected ≥3 missed ticks, got ${s.stats.missedTicks}`);
  // After the stall the next tick is the next aligned instant, not a burst of catch-up ticks.
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
  assert(gaps.every((g) => g >= 60), `ticks bunched: gaps ${gaps.join(",")}`);
  assertAlmostEquals(gaps[0], 100, 40);
});

Deno.test("sampler: the first tick reads every family; slower ones then keep their own aligned ticks", async () => {
  const dir = await tempProc("boot-a");
  const ctx = testContext({ procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: "/" }, (c) => {
    c.interval = 0.2;
    c.loadavg.interval = 0.6;
  });
  let n = 0;
  const s = new Sampler({
    families: [counterFamily("cpu", () => ++n), counterFamily("loadavg", () => ++n)],
    ctx,
    host: "h",
  });
  const samples: { wall: number; slow: boolean }[] = [];
  let lastSlow: unknown;
  await new Promise<void>((resolve) => {
    s.start((sample) => {
      // A family's part stays in later samples; a new counter value means it was read this tick.
      const v = sample.metrics.loadavg_value;
      samples.push({ wall: Date.parse(sample.timestamp), slow: v !== undefined && v !== lastSlow });
      lastSlow = v;
      if (samples.length === 7) resolve();
    });
  });
  s.stop();
  assertEquals(samples[0].slow, true, "the first sample has every family");
  for (const x of samples.slice(1)) {
    // The 0.6 s family is read on multiples of 600 ms only.
    const onSlowTick = x.wall % 600 < 100;
    assertEquals(
      x.slow,
      onSlowTick,
      `sample at ${x.wall} (${x.wall % 600} ms past a 600 ms multiple)`,
    );
  }
  assert(samples.slice(1).some((x) => x.slow) && samples.slice(1).some((x) => !x.slow));
  await Deno.remove(dir, { recursive: true });
});
