import {
  estimateAvailableKb,
  exposedName,
  type MeminfoData,
  meminfoFamily,
  parseMeminfo,
  parseMinFreeKbytes,
} from "../src/collect/meminfo.ts";
import { TextExposition } from "../src/expose/writer.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertGolden, fixtureRoots, FIXTURES, SHAPES, testContext } from "./helpers.ts";

const at = (data: MeminfoData) => ({ data, mono: 0, wall: 0 });
const readShape = (shape: string) => meminfoFamily.create(testContext(fixtureRoots(shape))).read();

Deno.test("parseMeminfo reads the captured 6.18 file", () => {
  const d = parseMeminfo(Deno.readTextFileSync(FIXTURES + "linux-6.18-vm/proc/meminfo"));
  assertEquals(Object.keys(d.fields).length, 54);
  assertEquals(d.fields.MemTotal, 24684092);
  assertEquals(d.fields["Active(anon)"], 1508);
  assertEquals(d.fields.VmallocTotal, 34359738367);
  assertEquals(d.unitless, [
    "HugePages_Total",
    "HugePages_Free",
    "HugePages_Rsvd",
    "HugePages_Surp",
  ]);
  assertEquals(d.minFreeKbytes, null);
});

Deno.test("parseMeminfo: malformed input names the file and the line", () => {
  assertThrows(
    () => parseMeminfo("MemTotal: 10 kB\nMemFree 5 kB\n", "/host/proc/meminfo"),
    '/host/proc/meminfo: malformed line 2 "MemFree 5 kB": expected "Name: value [kB]"',
  );
  assertThrows(
    () => parseMeminfo("MemTotal: ten kB\n"),
    'line 1 "MemTotal: ten kB": value is not a count',
  );
  assertThrows(() => parseMeminfo("MemTotal: 10 MB\n"), 'unit is not "kB"');
  assertThrows(() => parseMeminfo("MemTotal:\n"), "value is not a count");
  assertThrows(() => parseMeminfo("MemTotal: 10 kB\n"), "/proc/meminfo: no MemFree line");
  assertThrows(() => parseMinFreeKbytes("lots\n"), "/proc/sys/vm/min_free_kbytes: malformed");
  assertEquals(parseMinFreeKbytes("67584\n"), 67584);
});

Deno.test("estimateAvailableKb: procps' formula, by hand", () => {
  // The 4.9 tree: MemFree 312456, Active(file) 850000, Inactive(file) 810000, SReclaimable 140000,
  // min_free_kbytes 67584 → low = 67584 × 5 / 4 = 84480.
  // 312456 − 84480 + 1660000 − min(830000, 84480) + 140000 − min(70000, 84480) = 1873496.
  const d = parseMeminfo(Deno.readTextFileSync(FIXTURES + "linux-4.9-old/proc/meminfo"));
  assertEquals(d.fields.MemAvailable, undefined);
  assertEquals(estimateAvailableKb(d.fields, 67584), 1873496);

  // Integer division as in C: low = 801 × 5 / 4 = 1001 (1001.25); file = 1001, file / 2 = 500.
  // 5000 − 1001 + 1001 − 500 + 3000 − min(1500, 1001) = 6499.
  const small = { MemFree: 5000, "Active(file)": 601, "Inactive(file)": 400, SReclaimable: 3000 };
  assertEquals(estimateAvailableKb(small, 801), 6499);

  // Below the watermark the estimate floors at 0: 100 − 1250 + 0 − 0 + 0 − 0 < 0.
  assertEquals(estimateAvailableKb({ MemFree: 100 }, 1000), 0);
});

Deno.test("derive: the 4.9 tree (no MemAvailable, swap in use), by hand", async () => {
  const d = await readShape("linux-4.9-old");
  assertEquals(d.minFreeKbytes, 67584);
  const m = meminfoFamily.derive(undefined, at(d)).metrics ?? {};
  assertEquals(m.memory_total, 4143996928); // 4046872 kB × 1024
  assertEquals(m.memory_available, 1918459904); // 1873496 kB (estimate above) × 1024
  assertEquals(m.memory_available_estimated, 1);
  assertEquals(m.memory_used, 2225537024); // (4046872 − 1873496) kB = 2173376 kB × 1024
  assertAlmostEquals(m.memory_usage_percent as number, 53.7050838277, 1e-9); // 2173376 / 4046872
  assertEquals(m.memory_free, 319954944); // 312456 × 1024
  assertEquals(m.memory_cached, 1714401280); // (1534220 + 140000) × 1024
  assertEquals(m.memory_buffers, 100663296); // 98304 × 1024
  assertEquals(m.swap_total, 2147479552); // 2097148 × 1024
  assertEquals(m.swap_used, 536870912); // (2097148 − 1572860) = 524288 kB × 1024
  assertEquals(m.swap_free, 1610608640); // 1572860 × 1024
  assertAlmostEquals(m.swap_usage_percent as number, 25.0000476838, 1e-9); // 524288 / 2097148
});

Deno.test("derive: MemAvailable printed, no swap → 0 %, not NaN", async () => {
  const d = await readShape("linux-6.1-container");
  assertEquals(d.minFreeKbytes, null); // not read: the kernel printed MemAvailable
  const m = meminfoFamily.derive(undefined, at(d)).metrics ?? {};
  assertEquals(m.memory_available_estimated, 0);
  assertEquals(m.memory_available, 24567890 * 1024);
  assertEquals(m.memory_used, (32871148 - 24567890) * 1024);
  assertEquals([m.swap_total, m.swap_used, m.swap_free, m.swap_usage_percent], [0, 0, 0, 0]);
});

Deno.test("reader: min_free_kbytes is needed only without MemAvailable, and named when missing", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(dir + "/meminfo", "MemTotal: 1000 kB\nMemFree: 500 kB\n");
    const ctx = testContext({ procfs: dir, sysfs: dir, rootfs: "/" });
    await assertRejects(
      () => meminfoFamily.create(ctx).read(),
      `cannot read ${dir}/sys/vm/min_free_kbytes: not found`,
    );
    Deno.writeTextFileSync(
      dir + "/meminfo",
      "MemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\n",
    );
    const d = await meminfoFamily.create(ctx).read();
    assertEquals(meminfoFamily.derive(undefined, at(d)).metrics?.memory_used, 400 * 1024);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("expose: node_exporter's names, _bytes for kB fields only", async () => {
  assertEquals(exposedName("Active(anon)", true), "node_memory_Active_anon_bytes");
  assertEquals(exposedName("NFS_Unstable", true), "node_memory_NFS_Unstable_bytes");
  assertEquals(exposedName("HugePages_Total", false), "node_memory_HugePages_Total");
  const out = new TextExposition();
  meminfoFamily.expose(await readShape("linux-4.9-old"), out);
  const lines = out.text().split("\n");
  for (
    const expected of [
      "# TYPE node_memory_MemTotal_bytes gauge",
      "node_memory_MemTotal_bytes 4143996928",
      "node_memory_Inactive_file_bytes 829440000", // 810000 × 1024
      "node_memory_VmallocTotal_bytes 35184372087808", // 34359738367 × 1024
      "node_memory_HugePages_Free 0",
      "node_memory_Hugepagesize_bytes 2097152",
    ]
  ) assert(lines.includes(expected), `missing ${expected}`);
  // The estimate is a model metric; the exposition shows only what the kernel printed.
  assert(!lines.some((l) => l.startsWith("node_memory_MemAvailable")));
});

for (const shape of SHAPES) {
  Deno.test(`golden: meminfo derive and exposition for ${shape}`, async () => {
    const data = await readShape(shape);
    const part = meminfoFamily.derive(undefined, at(data));
    await assertGolden(`${shape}/meminfo.json`, JSON.stringify(part, null, 2) + "\n");
    const out = new TextExposition();
    meminfoFamily.expose(data, out);
    await assertGolden(`${shape}/meminfo.prom`, out.text());
  });
}

async function freeBytes(): Promise<{ total: number; used: number; buffCache: number }> {
  const { code, stdout } = await new Deno.Command("free", { args: ["-b"] }).output();
  assertEquals(code, 0, "free -b failed");
  const mem = new TextDecoder().decode(stdout).split("\n").find((l) => l.startsWith("Mem:"));
  if (!mem) throw new Error("free -b printed no Mem: line");
  // Mem: total used free shared buff/cache available
  const f = mem.split(/\s+/).slice(1).map(Number);
  return { total: f[0], used: f[1], buffCache: f[4] };
}

Deno.test("live: memory_used within 1 % of free -b's used column", async () => {
  const reader = meminfoFamily.create(testContext({ procfs: "/proc", sysfs: "/sys", rootfs: "/" }));
  const ours = async () => meminfoFamily.derive(undefined, at(await reader.read())).metrics ?? {};
  const before = await ours();
  const free = await freeBytes();
  const after = await ours();
  assertEquals(before.memory_total, free.total);
  // Other processes allocate while we read: free must fall within 1 % of our two readings.
  const within = (theirs: number, a: number, b: number, what: string) =>
    assert(
      theirs >= Math.min(a, b) * 0.99 && theirs <= Math.max(a, b) * 1.01,
      `${what}: free -b says ${theirs}, we read ${a} and ${b}`,
    );
  within(free.used, before.memory_used as number, after.memory_used as number, "used");
  const buffCache = (m: Record<string, number | null>) =>
    (m.memory_buffers as number) + (m.memory_cached as number);
  within(free.buffCache, buffCache(before), buffCache(after), "buff/cache");
});
