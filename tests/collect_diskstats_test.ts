import {
  createDiskstatsReader,
  deriveDiskstats,
  type DiskstatsData,
  diskstatsFamily,
  exposeDiskstats,
  parseDiskstats,
  sysfsBlockName,
} from "../src/collect/diskstats.ts";
import type { Reading, Roots } from "../src/collect/types.ts";
import { TextExposition } from "../src/expose/writer.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "./assert.ts";
import { assertGolden, fixtureRoots, SHAPES, testContext } from "./helpers.ts";

const LINE_14 =
  "   8       0 sda 183746 12034 9184532 96532 402913 310245 12935688 1843201 0 412340 1939655";
const LINE_18 =
  " 259       0 nvme0n1 812344 1023 52376810 201334 2144312 1988210 98123776 1644310 0 922340 1921871 18212 0 412339712 4210";
const LINE_20 =
  " 254       0 vda 27877 5565 1259466 2697 7189 7630 1452416 4427 0 2420 7302 3577 57 78608 154 1068 24";

const reading = (data: DiskstatsData, mono: number): Reading<DiskstatsData> => ({
  data,
  mono,
  wall: 1_700_000_000_000 + mono,
});

/** Roots whose /proc is the `later/` overlay (read 10 s after the main tree) and /sys the main one. */
function laterRoots(shape: string): Roots {
  return { ...fixtureRoots(shape), procfs: fixtureRoots(shape, "later").procfs };
}

// ----------------------------------------------------------------------------------------------
// Parser

Deno.test("parseDiskstats: 14-field line (kernels before 4.18) has no discard or flush fields", () => {
  assertEquals(parseDiskstats(LINE_14 + "\n"), [{
    name: "sda",
    major: 8,
    minor: 0,
    readsCompleted: 183746,
    readsMerged: 12034,
    sectorsRead: 9184532,
    readTimeMs: 96532,
    writesCompleted: 402913,
    writesMerged: 310245,
    sectorsWritten: 12935688,
    writeTimeMs: 1843201,
    ioInProgress: 0,
    ioTimeMs: 412340,
    weightedIoTimeMs: 1939655,
  }]);
});

Deno.test("parseDiskstats: 18-field line (4.18+) adds the four discard fields", () => {
  const [d] = parseDiskstats(LINE_18);
  assertEquals(d.name, "nvme0n1");
  assertEquals(d.major, 259);
  assertEquals(d.weightedIoTimeMs, 1921871);
  assertEquals(
    [d.discardsCompleted, d.discardsMerged, d.sectorsDiscarded, d.discardTimeMs],
    [18212, 0, 412339712, 4210],
  );
  assertEquals(d.flushesCompleted, undefined);
  assertEquals(d.flushTimeMs, undefined);
});

Deno.test("parseDiskstats: 20-field line (5.5+) adds flush requests and flush time", () => {
  const [d] = parseDiskstats(LINE_20 + "\n");
  assertEquals(d.sectorsDiscarded, 78608);
  assertEquals([d.flushesCompleted, d.flushTimeMs], [1068, 24]);
});

Deno.test("parseDiskstats: a malformed line names /proc/diskstats and quotes the line", () => {
  const bad = "   8       0 sda 1 2 3 4 5 6 7";
  const err = assertThrows(() => parseDiskstats(LINE_14 + "\n" + bad + "\n"), "/proc/diskstats");
  assertStringIncludes(err.message, JSON.stringify(bad));
  assertStringIncludes(err.message, "expected 14, 18 or 20 fields, found 10");
  // A line with the right number of fields but a non-number in it.
  const word = LINE_14.replace("96532", "lots");
  assertThrows(() => parseDiskstats(word), 'field 7 ("lots") is not a count');
  // The reader passes the real path, so the message says which tree it came from.
  assertThrows(
    () => parseDiskstats(bad, undefined, "/host/proc/diskstats"),
    "/host/proc/diskstats",
  );
});

Deno.test("parseDiskstats: lines refused by `keep` are not parsed further; blank lines ignored", () => {
  const text = `${LINE_14}\n\n   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n`;
  assertEquals(parseDiskstats(text, (n) => n !== "sda").map((d) => d.name), ["loop0"]);
  assertEquals(parseDiskstats("").length, 0);
});

Deno.test("sysfsBlockName: '/' in a kernel name is '!' in sysfs", () => {
  assertEquals(sysfsBlockName("cciss/c0d0"), "cciss!c0d0");
  assertEquals(sysfsBlockName("sda"), "sda");
});

// ----------------------------------------------------------------------------------------------
// Reader: partitions, filters, max_entities

Deno.test("reader: whole disks from the 4.9 fixture; partitions, ram and loop left out", async () => {
  const ctx = testContext(fixtureRoots("linux-4.9-old"));
  const data = await createDiskstatsReader(ctx).read();
  // sda1, sda2 and cciss/c0d0p1 are partitions (not in /sys/block); ram0, loop0 match the exclude.
  assertEquals(data.disks.map((d) => d.name), ["sda", "sr0", "cciss/c0d0", "dm-0"]);
  assertEquals(ctx.log.lines, []);
});

Deno.test("reader: partition detection agrees with /sys/class/block/<name>/partition in every shape", async () => {
  for (const shape of SHAPES) {
    const roots = fixtureRoots(shape);
    const all = parseDiskstats(await Deno.readTextFile(roots.procfs + "/diskstats"));
    const kept = new Set(
      (await createDiskstatsReader(testContext(roots, (c) => {
        c.diskstats.exclude = "";
      })).read()).disks.map((d) => d.name),
    );
    for (const d of all) {
      const sysName = sysfsBlockName(d.name);
      let isPartition = false;
      try {
        Deno.statSync(`${roots.sysfs}/class/block/${sysName}/partition`);
        isPartition = true;
      } catch { /* not a partition */ }
      assertEquals(kept.has(d.name), !isPartition, `${shape}: ${d.name}`);
    }
  }
});

Deno.test("reader: include and exclude come from collectors.diskstats", async () => {
  const roots = fixtureRoots("linux-4.9-old");
  const only = await createDiskstatsReader(testContext(roots, (c) => {
    c.diskstats.include = "^(sd|dm-)";
  })).read();
  assertEquals(only.disks.map((d) => d.name), ["sda", "dm-0"]);
  const none = await createDiskstatsReader(testContext(roots, (c) => {
    c.diskstats.exclude = "";
  })).read();
  // With no exclude, ram0 and loop0 come back; partitions still do not.
  assertEquals(none.disks.map((d) => d.name), [
    "ram0",
    "loop0",
    "sda",
    "sr0",
    "cciss/c0d0",
    "dm-0",
  ]);
});

Deno.test("reader: /sys/block unlistable keeps every device and warns once", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const ctx = testContext({ ...fixtureRoots("linux-4.9-old"), sysfs: empty });
    const reader = createDiskstatsReader(ctx);
    const first = await reader.read();
    await reader.read();
    assertEquals(first.disks.map((d) => d.name), [
      "sda",
      "sda1",
      "sda2",
      "sr0",
      "cciss/c0d0",
      "cciss/c0d0p1",
      "dm-0",
    ]);
    assertEquals(ctx.log.lines.length, 1);
    assertStringIncludes(ctx.log.lines[0], `cannot list ${empty}/block`);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("reader: a hot-plugged disk is classified when it first appears", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/proc`);
    await Deno.mkdir(`${dir}/sys/block/vda`, { recursive: true });
    const roots = { procfs: `${dir}/proc`, sysfs: `${dir}/sys`, rootfs: dir };
    await Deno.writeTextFile(`${dir}/proc/diskstats`, LINE_20 + "\n");
    const reader = createDiskstatsReader(testContext(roots));
    assertEquals((await reader.read()).disks.map((d) => d.name), ["vda"]);
    // sdb and its partition sdb1 appear: only sdb gets a /sys/block entry.
    await Deno.mkdir(`${dir}/sys/block/sdb`);
    await Deno.writeTextFile(
      `${dir}/proc/diskstats`,
      [LINE_20, LINE_20.replace(" vda ", " sdb "), LINE_20.replace(" vda ", " sdb1 ")].join("\n"),
    );
    assertEquals((await reader.read()).disks.map((d) => d.name), ["vda", "sdb"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reader: a missing /proc/diskstats rejects with a message naming the file", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const reader = createDiskstatsReader(
      testContext({ procfs: empty, sysfs: empty, rootfs: empty }),
    );
    await assertRejects(() => reader.read(), `cannot read ${empty}/diskstats`);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("reader: max_entities keeps the first disks and counts the rest once", async () => {
  const ctx = testContext(fixtureRoots("linux-4.9-old"), (c) => {
    c.max_entities = 2;
  });
  const reader = createDiskstatsReader(ctx);
  const data = await reader.read();
  await reader.read();
  assertEquals(data.disks.map((d) => d.name), ["sda", "sr0"]);
  // 4 whole disks pass the filters; 4 - 2 = 2 are cut, and the warning is written only once.
  assertEquals(ctx.dropped.get("diskstats"), 2);
  assertEquals(ctx.log.lines.length, 1);
  assertStringIncludes(ctx.log.lines[0], "collectors.max_entities=2");
});

// ----------------------------------------------------------------------------------------------
// derive: exact values

const PREV_TEXT = [
  "   8       0 sda 1000 10 80000 2000 500 20 40000 5000 0 3000 7000",
  "   8      16 sdb 100 0 800 100 100 0 800 100 0 100 200",
  " 253       0 dm-0 50 0 400 50 0 0 0 0 0 50 50",
].join("\n");

const CUR_TEXT = [
  // sda: +200 reads, +20480 sectors read (10 MiB), +600 ms reading, +100 writes, +4096 sectors
  //      written, +900 ms writing, 3 in flight, +2500 ms io_ticks, +4000 weighted ms.
  "   8       0 sda 1200 15 100480 2600 600 25 44096 5900 3 5500 11000",
  // sdb: counters went backwards (device replaced) → no rates.
  "   8      16 sdb 5 0 40 5 0 0 0 0 0 5 5",
  // dm-0: no I/O completed, but io_ticks ran past the interval (kernel accounting) → util capped.
  " 253       0 dm-0 50 0 400 50 0 0 0 0 1 10200 10250",
  // sdc: hot-plugged, only in the current reading → no rates.
  "   8      32 sdc 7 0 56 3 0 0 0 0 0 3 3",
].join("\n");

Deno.test("derive: iostat -x values computed by hand over 10 000 ms", () => {
  const prev = reading({ disks: parseDiskstats(PREV_TEXT) }, 50_000);
  const cur = reading({ disks: parseDiskstats(CUR_TEXT) }, 60_000);
  const { disks } = deriveDiskstats(prev, cur);
  assertEquals(disks.sda, {
    disk_read_bytes_per_second: 1048576, // 20480 sectors × 512 B / 10 s
    disk_write_bytes_per_second: 209715.2, // 4096 × 512 / 10
    disk_reads_per_second: 20, // 200 / 10
    disk_writes_per_second: 10, // 100 / 10
    disk_read_await_seconds: 0.003, // 600 ms / 200 reads = 3 ms
    disk_write_await_seconds: 0.009, // 900 ms / 100 writes = 9 ms
    disk_util_percent: 25, // 2500 ms busy / 10 000 ms × 100
    disk_queue_size: 0.4, // 4000 weighted ms / 10 000 ms
    disk_io_in_progress: 3,
    disk_read_bytes: 51445760, // 100480 × 512
    disk_written_bytes: 22577152, // 44096 × 512
  });
  assertEquals(disks["dm-0"].disk_util_percent, 100); // (10200 - 50) / 10 000 × 100 = 101.5 → 100
  assertEquals(disks["dm-0"].disk_read_await_seconds, 0); // no read completed: 0, as iostat prints
  assertEquals(disks["dm-0"].disk_write_await_seconds, 0);
  assertEquals(disks["dm-0"].disk_reads_per_second, 0);
  assertEquals(disks["dm-0"].disk_queue_size, 1.02); // (10250 - 50) / 10 000
});

Deno.test("derive: a counter going backwards gives null rates for that device only", () => {
  const prev = reading({ disks: parseDiskstats(PREV_TEXT) }, 50_000);
  const cur = reading({ disks: parseDiskstats(CUR_TEXT) }, 60_000);
  const { disks } = deriveDiskstats(prev, cur);
  for (const k of ["disk_read_bytes_per_second", "disk_util_percent", "disk_read_await_seconds"]) {
    assertEquals(disks.sdb[k], null, k);
  }
  // Gauges and cumulative values are still reported.
  assertEquals(disks.sdb.disk_read_bytes, 40 * 512);
  assertEquals(disks.sdb.disk_io_in_progress, 0);
  assertEquals(disks.sda.disk_reads_per_second, 20);
});

Deno.test("derive: a device only in the current reading, or no previous reading, has null rates", () => {
  const prev = reading({ disks: parseDiskstats(PREV_TEXT) }, 50_000);
  const cur = reading({ disks: parseDiskstats(CUR_TEXT) }, 60_000);
  const sdc = deriveDiskstats(prev, cur).disks.sdc;
  assertEquals(sdc.disk_reads_per_second, null);
  assertEquals(sdc.disk_queue_size, null);
  assertEquals(sdc.disk_read_bytes, 56 * 512);
  const first = deriveDiskstats(undefined, cur).disks.sda;
  assertEquals(Object.keys(first), diskstatsFamily.defs.map((d) => d.name));
  assertEquals(first.disk_write_bytes_per_second, null);
  assertEquals(first.disk_io_in_progress, 3);
});

Deno.test("derive: a device whose major:minor changed (replaced under the same name) has no rates", () => {
  const prev = reading({ disks: parseDiskstats("   8      16 sdb 1 0 8 1 0 0 0 0 0 1 1") }, 0);
  const cur = reading({ disks: parseDiskstats("  65       0 sdb 9 0 72 9 0 0 0 0 0 9 9") }, 10_000);
  assertEquals(deriveDiskstats(prev, cur).disks.sdb.disk_reads_per_second, null);
});

// ----------------------------------------------------------------------------------------------
// Exposition and goldens

Deno.test("expose: node_exporter names and units; discard/flush only when the line has them", () => {
  const out = new TextExposition();
  exposeDiskstats({ disks: parseDiskstats(LINE_14) }, out);
  const text = out.text();
  assertStringIncludes(text, 'node_disk_read_bytes_total{device="sda"} 4702480384\n'); // 9184532 × 512
  assertStringIncludes(text, 'node_disk_read_time_seconds_total{device="sda"} 96.532\n');
  assertStringIncludes(text, "# TYPE node_disk_io_now gauge\n");
  assertStringIncludes(text, 'node_disk_info{device="sda",major="8",minor="0"} 1\n');
  assert(!text.includes("discard"), "no discard series for a 14-field line");
  assert(!text.includes("flush"), "no flush series for a 14-field line");

  const out20 = new TextExposition();
  exposeDiskstats({ disks: parseDiskstats(LINE_20) }, out20);
  assertStringIncludes(out20.text(), 'node_disk_discarded_sectors_total{device="vda"} 78608\n');
  assertStringIncludes(
    out20.text(),
    'node_disk_flush_requests_time_seconds_total{device="vda"} 0.024\n',
  );
});

for (const shape of SHAPES) {
  Deno.test(`golden: diskstats ${shape} (derive over later/ 10 000 ms apart, expose)`, async () => {
    const ctx = testContext(fixtureRoots(shape));
    const first = await createDiskstatsReader(ctx).read();
    const second = await createDiskstatsReader(testContext(laterRoots(shape))).read();
    const part = diskstatsFamily.derive(reading(first, 100_000), reading(second, 110_000));
    await assertGolden(`${shape}/diskstats.json`, JSON.stringify(part, null, 2) + "\n");
    const out = new TextExposition();
    diskstatsFamily.expose(first, out);
    await assertGolden(`${shape}/diskstats.prom`, out.text());
  });
}

Deno.test("golden values: linux-4.9-old sda and dm-0 checked by hand", async () => {
  const first = await createDiskstatsReader(testContext(fixtureRoots("linux-4.9-old"))).read();
  const second = await createDiskstatsReader(testContext(laterRoots("linux-4.9-old"))).read();
  const { disks } = deriveDiskstats(reading(first, 0), reading(second, 10_000));
  // sda: +7680 sectors read, +28800 written, +120 reads/+360 ms, +450 writes/+4050 ms,
  //      +3120 ms io_ticks, +4420 weighted ms, 2 in flight at the later reading.
  assertEquals(disks.sda.disk_read_bytes_per_second, 393216); // 7680 × 512 / 10
  assertEquals(disks.sda.disk_write_bytes_per_second, 1474560); // 28800 × 512 / 10
  assertEquals(disks.sda.disk_read_await_seconds, 0.003); // 360 / 120 = 3 ms
  assertEquals(disks.sda.disk_write_await_seconds, 0.009); // 4050 / 450 = 9 ms
  assertEquals(disks.sda.disk_util_percent, 31.2); // 3120 / 10 000 × 100
  assertEquals(disks.sda.disk_queue_size, 0.442); // 4420 / 10 000
  assertEquals(disks.sda.disk_io_in_progress, 2);
  // dm-0: +128 reads / +410 ms, +760 writes / +9880 ms.
  assertEquals(disks["dm-0"].disk_reads_per_second, 12.8);
  assertEquals(disks["dm-0"].disk_read_await_seconds, 0.003203125); // 410 / 128 = 3.203125 ms
  assertEquals(disks["dm-0"].disk_write_await_seconds, 0.013); // 9880 / 760 = 13 ms
  // cciss/c0d0 keeps its kernel name as the key; no reads completed → await 0.
  assertEquals(disks["cciss/c0d0"].disk_read_await_seconds, 0);
  assertEquals(disks["cciss/c0d0"].disk_write_await_seconds, 0.003); // 60 / 20 = 3 ms
});
