/** The file adapter end to end: write → read back for both formats, rotation, gzip, repair, retention. */
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "./assert.ts";
import { memoryLogger } from "../src/log.ts";
import { FileStore, type FileStoreOptions, StoreFormatError } from "../src/store/file_store.ts";
import { quantizeSample } from "../src/store/codec.ts";
import { listTierFiles } from "../src/store/reader.ts";
import { nearestRank } from "../src/store/query.ts";
import { flattenValues } from "../src/store/series.ts";
import type { Sample } from "../src/core/model.ts";
import type { Point } from "../src/store/types.ts";
import { SampleSynth, templateSample } from "./synth.ts";

const DAY = 86_400_000;
const T0 = Date.parse("2026-03-01T00:00:00Z");

function options(dir: string, clock: { now: number }, patch: Partial<FileStoreOptions> = {}) {
  const log = memoryLogger();
  const opts: FileStoreOptions = {
    dir,
    host: "testhost",
    format: "jsonl",
    flushInterval: 0,
    fsync: false,
    maxFileBytes: 64 << 20,
    bufferSamples: 1000,
    retention: { maxAge: { raw: 30 * 86400, "1m": 90 * 86400, "1h": 365 * 86400 }, maxBytes: 0 },
    log,
    now: () => clock.now,
    ...patch,
  };
  return { opts, log };
}

/** Writes `n` samples every `step` seconds from `start`; returns them as stored (quantized). */
async function writeSeries(
  store: FileStore,
  clock: { now: number },
  start: number,
  n: number,
  step = 10,
  seed = 7,
) {
  const synth = new SampleSynth(templateSample(), seed);
  const written: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const t = start + i * step * 1000;
    clock.now = t + 50;
    const s = synth.at(t, step);
    written.push(quantizeSample(s));
    await store.write(s);
  }
  return written;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

for (const format of ["jsonl", "csv"] as const) {
  Deno.test(`file store (${format}): samples read back exactly as stored`, async () => {
    const dir = await Deno.makeTempDir();
    const clock = { now: T0 };
    const { opts } = options(dir, clock, { format });
    const store = new FileStore(opts);
    await store.openForWriting();
    const written = await writeSeries(store, clock, T0 + 5000, 120);
    await store.close();
    const reader = new FileStore(opts);
    const back = await collect(reader.samples(T0, T0 + DAY));
    assertEquals(back.length, written.length);
    assertEquals(back, written);
    // A sub-range is half-open: [from, to).
    const part = await collect(reader.samples(T0 + 5000 + 100_000, T0 + 5000 + 200_000));
    assertEquals(part.map((s) => s.timestamp), written.slice(10, 20).map((s) => s.timestamp));
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("file store: rollup tiers answer min/max/avg exactly and p95 within 1 %", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts } = options(dir, clock);
  const store = new FileStore(opts);
  await store.openForWriting();
  const written = await writeSeries(store, clock, T0, 6 * 60 * 3); // 3 hours at 10 s
  clock.now = T0 + 4 * 3600_000;
  await store.close();
  const reader = new FileStore(opts);
  for (const step of [300, 3600]) {
    for (const aggregation of ["min", "max", "avg", "p95", "last"] as const) {
      const points: Point[] = await collect(
        reader.query({ from: T0, to: T0 + 3 * 3600_000, step, aggregation }),
      );
      assertEquals(points.length, (3 * 3600) / step, `${step}s ${aggregation}`);
      for (const p of points) {
        const inBucket = written.filter((s) => {
          const t = Date.parse(s.timestamp);
          return t >= p.time && t < p.time + step * 1000;
        });
        for (const key of ["cpu_usage_percent", "memory_used", "disk_read_bytes_per_second[vda]"]) {
          const vals = inBucket.map((s) => flattenValues(s).get(key)!).filter((v) => v !== null);
          const got = p.values[key]!;
          const want = aggregation === "min"
            ? Math.min(...vals)
            : aggregation === "max"
            ? Math.max(...vals)
            : aggregation === "avg"
            ? vals.reduce((a, b) => a + b, 0) / vals.length
            : aggregation === "last"
            ? vals.at(-1)!
            : nearestRank(vals, 0.95)!;
          const tol = aggregation === "p95" ? 0.01 : aggregation === "avg" ? 1e-6 : 0;
          assertAlmostEquals(
            got,
            want,
            Math.abs(want) * tol + 1e-12,
            `${key} ${step}s ${aggregation}: ${got} vs ${want}`,
          );
        }
      }
    }
  }
  // The raw tier (a step that is no multiple of a minute) gives the same answers exactly.
  const raw = await collect(
    reader.query({ from: T0, to: T0 + 3600_000, step: 90, aggregation: "max" }),
  );
  assertEquals(raw.length, 40);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: daily rotation compresses the closed day; queries span both", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts } = options(dir, clock);
  const store = new FileStore(opts);
  await store.openForWriting();
  const start = T0 + DAY - 600_000; // ten minutes before midnight UTC
  const written = await writeSeries(store, clock, start, 120);
  await store.close();
  const raw = await listTierFiles(dir, "raw");
  assertEquals(raw.map((f) => f.name), ["2026-03-01.001.jsonl.gz", "2026-03-02.001.jsonl"]);
  const back = await collect(new FileStore(opts).samples(start, start + DAY));
  assertEquals(back, written);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: size rotation starts new parts and loses nothing", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts } = options(dir, clock, { maxFileBytes: 8192 });
  const store = new FileStore(opts);
  await store.openForWriting();
  const written = await writeSeries(store, clock, T0, 60);
  await store.close();
  const raw = await listTierFiles(dir, "raw");
  assert(raw.length >= 4, `expected several parts, got ${raw.map((f) => f.name)}`);
  for (const f of raw.slice(0, -1)) assert(f.gzip, `${f.name} should be compressed`);
  assertEquals(await collect(new FileStore(opts).samples(T0, T0 + DAY)), written);
  // A range that starts in a later part does not open the earlier ones: damage there goes unseen.
  await Deno.writeFile(raw[0].path, new Uint8Array([1, 2, 3]));
  const problems: string[] = [];
  const late = new FileStore({
    ...opts,
    log: { ...opts.log, warn: (m: string) => problems.push(m) },
  });
  const from = Date.parse(written[50].timestamp);
  assertEquals(await collect(late.samples(from, T0 + DAY)), written.slice(50));
  assertEquals(problems, []);
  // …while a range that covers the damaged part reports it.
  await collect(late.samples(T0, T0 + DAY));
  assert(problems.some((p) => p.includes(raw[0].name)), problems.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store (csv): a new device starts a new part; columns never shift", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts } = options(dir, clock, { format: "csv" });
  const store = new FileStore(opts);
  await store.openForWriting();
  const first = await writeSeries(store, clock, T0, 5);
  const withUsb = templateSample();
  withUsb.disks.sdb = {
    disk_read_bytes_per_second: 5,
    disk_util_percent: 0.5,
    disk_read_bytes: 10,
  };
  const synth = new SampleSynth(withUsb, 3);
  const later: Sample[] = [];
  for (let i = 5; i < 10; i++) {
    const s = synth.at(T0 + i * 10_000);
    later.push(quantizeSample(s));
    await store.write(s);
  }
  await store.close();
  const raw = await listTierFiles(dir, "raw");
  assertEquals(raw.map((f) => f.name), ["2026-03-01.001.csv.gz", "2026-03-01.002.csv"]);
  assertEquals(await collect(new FileStore(opts).samples(T0, T0 + DAY)), [...first, ...later]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: a torn last line is skipped on read and repaired on the next start", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts, log } = options(dir, clock);
  let store = new FileStore(opts);
  await store.openForWriting();
  const first = await writeSeries(store, clock, T0, 10);
  await store.close();
  const [file] = await listTierFiles(dir, "raw");
  const whole = await Deno.readTextFile(file.path);
  await Deno.writeTextFile(file.path, '{"version":1,"timestamp":"2026-03-01T00:0', {
    append: true,
  });

  const problems: string[] = [];
  const reader = new FileStore({ ...opts, log: { ...log, warn: (m: string) => problems.push(m) } });
  assertEquals(await collect(reader.samples(T0, T0 + DAY)), first);
  assert(problems.some((p) => p.includes("torn")), `no torn-line report in ${problems}`);

  store = new FileStore(opts);
  await store.openForWriting();
  assertEquals(await Deno.readTextFile(file.path), whole, "torn tail cut back to the last newline");
  const more = await writeSeries(store, clock, T0 + 100_000, 5, 10, 9);
  await store.close();
  assertEquals(await collect(new FileStore(opts).samples(T0, T0 + DAY)), [...first, ...more]);
  assert(log.lines.some((l) => l.includes("torn line")), log.lines.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: rollups are caught up from raw after a crash, never counted twice", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts } = options(dir, clock);
  // Run 1 "crashes": raw is flushed, the open rollup buckets are lost with the process.
  const a = new FileStore(opts);
  await a.openForWriting();
  const w1 = await writeSeries(a, clock, T0, 90); // 15 minutes
  await a.flush();
  // Run 2 starts later, catches up, records more, stops cleanly (drains its open buckets).
  clock.now = T0 + 20 * 60_000;
  const b = new FileStore(opts);
  await b.openForWriting();
  const w2 = await writeSeries(b, clock, T0 + 20 * 60_000, 30, 10, 11);
  await b.close({ drain: true });
  // Run 3 starts and stops at once: nothing may be added twice.
  const c = new FileStore(opts);
  await c.openForWriting();
  await c.close({ drain: true });
  const all = [...w1, ...w2];
  const hour = await collect(
    new FileStore(opts).query({ from: T0, to: T0 + 3600_000, step: 3600, aggregation: "avg" }),
  );
  assertEquals(hour.length, 1);
  const vals = all.map((s) => s.metrics.memory_used!);
  const avg = vals.reduce((x, y) => x + y, 0) / vals.length;
  assertAlmostEquals(hour[0].values.memory_used!, avg, avg * 1e-6);
  const minutes = await collect(
    new FileStore(opts).query({ from: T0, to: T0 + 3600_000, step: 60, aggregation: "max" }),
  );
  assertEquals(minutes.length, 15 + 5);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: retention deletes by age per tier, logging each file and why", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts, log } = options(dir, clock, {
    retention: { maxAge: { raw: 2 * 86400, "1m": 3 * 86400, "1h": 365 * 86400 }, maxBytes: 0 },
  });
  const store = new FileStore(opts);
  await store.openForWriting();
  for (let d = 0; d < 6; d++) await writeSeries(store, clock, T0 + d * DAY, 3, 10, d + 1);
  await store.close({ drain: true });
  const raw = (await listTierFiles(dir, "raw")).map((f) => f.period);
  const oneMin = [...new Set((await listTierFiles(dir, "1m", "cpu-rate")).map((f) => f.period))];
  assertEquals(raw, ["2026-03-04", "2026-03-05", "2026-03-06"]);
  assertEquals(oneMin, ["2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]);
  assert(
    log.lines.some((l) => /retention: deleted raw\/2026-03-01\.001\.jsonl\.gz/.test(l)),
    log.lines.join("\n"),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: a directory of another format version is refused with a clear message", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/FORMAT`, '{"sysmon_store":2}\n');
  const { opts } = options(dir, { now: T0 });
  const err = await assertRejects(() => new FileStore(opts).openForWriting());
  assert(err instanceof StoreFormatError, String(err));
  assert(err.message.includes("format 2") && err.message.includes("--data"), err.message);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: info lists tiers, time span, hosts and metrics; queries filter series", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts } = options(dir, clock);
  const store = new FileStore(opts);
  await store.openForWriting();
  const written = await writeSeries(store, clock, T0, 400);
  await store.close({ drain: true });
  const info = await new FileStore(opts).info();
  assertEquals(info.backend, "file");
  assertEquals(info.hosts, ["testhost"]);
  const raw = info.tiers.find((t) => t.name === "raw")!;
  assertEquals(raw.from, T0);
  assertEquals(raw.to, Date.parse(written.at(-1)!.timestamp));
  assertEquals(info.tiers.map((t) => t.name), ["raw", "1m", "1h"]);
  // One raw file; one rollup file per series group (cpu, meminfo, cores, disks, …) and tier.
  const groups = [...Deno.readDirSync(`${dir}/1m`)].map((e) => e.name).sort();
  assertEquals(groups, [
    "cores-rate",
    "cpu-gauge",
    "cpu-rate",
    "disks-cumulative",
    "disks-rate",
    "filesystems-gauge",
    "interfaces-gauge",
    "interfaces-rate",
    "loadavg-gauge",
    "meminfo-gauge",
  ]);
  assertEquals(info.tiers.map((t) => t.files), [1, groups.length, groups.length]);
  assert(info.tiers.every((t) => t.bytes > 0), JSON.stringify(info.tiers));
  assert(
    info.metrics.includes("cpu_usage_percent") && info.metrics.includes("filesystem_usage_percent"),
  );
  assert(!info.metrics.some((m) => m.includes("[")), "metric names, not series keys");

  const points = await collect(new FileStore(opts).query({
    from: T0,
    to: T0 + DAY,
    step: 600,
    aggregation: "max",
    metrics: ["filesystem_usage_percent", "cpu_usage_percent"],
    entity: /^\/$/,
  }));
  assertEquals(points.length, 7);
  for (const p of points) {
    assertEquals(Object.keys(p.values).sort(), [
      "cpu_usage_percent",
      "filesystem_usage_percent[/]",
    ]);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: the byte limit removes the oldest raw files first, never the open one", async () => {
  const dir = await Deno.makeTempDir();
  const clock = { now: T0 };
  const { opts, log } = options(dir, clock, {
    retention: {
      maxAge: { raw: 30 * 86400, "1m": 90 * 86400, "1h": 365 * 86400 },
      maxBytes: 40_000,
    },
  });
  const store = new FileStore(opts);
  await store.openForWriting();
  for (let d = 0; d < 5; d++) await writeSeries(store, clock, T0 + d * DAY, 60, 10, d + 1);
  await store.close({ drain: true });
  const raw = await listTierFiles(dir, "raw");
  assert(raw.length < 5, `raw files left: ${raw.map((f) => f.name)}`);
  assertEquals(raw.at(-1)!.period, "2026-03-05", "the newest (open) file stays");
  // Raw goes first: while raw files remain to delete, no rollup file has been deleted.
  assertEquals((await listTierFiles(dir, "1h", "cpu-rate")).length, 1);
  assert(
    log.lines.some((l) => /retention: deleted raw\/2026-03-01.*over the .* limit/.test(l)),
    log.lines.join("\n"),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("file store: raw-tier queries give the same answers from CSV as from JSON Lines", async () => {
  const results: Point[][][] = [];
  for (const format of ["jsonl", "csv"] as const) {
    const dir = await Deno.makeTempDir();
    const clock = { now: T0 };
    const { opts } = options(dir, clock, { format });
    const store = new FileStore(opts);
    await store.openForWriting();
    await writeSeries(store, clock, T0, 60);
    await store.close();
    const reader = new FileStore(opts);
    const queries = [
      {
        step: 0,
        aggregation: "last" as const,
        metrics: ["filesystem_usage_percent", "memory_used"],
      },
      { step: 90, aggregation: "p95" as const, metrics: ["disk_read_bytes_per_second"] },
      { step: 30, aggregation: "avg" as const, entity: /^cpu1$/ },
    ];
    results.push(
      await Promise.all(
        queries.map((q) => collect(reader.query({ from: T0, to: T0 + DAY, ...q }))),
      ),
    );
    await Deno.remove(dir, { recursive: true });
  }
  const [jsonl, csv] = results;
  assertEquals(jsonl[0].length, 60);
  assertEquals(Object.keys(jsonl[0][0].values).sort(), [
    "filesystem_usage_percent[/]",
    'filesystem_usage_percent[/mnt/a,b "q"]',
    "memory_used",
  ]);
  assert(Object.keys(jsonl[2][0].values).includes("core_usage_percent[cpu1]"));
  assert(!Object.keys(jsonl[2][0].values).includes("core_usage_percent[cpu0]"));
  assertEquals(csv, jsonl);
});

Deno.test("a store only read from changes nothing on close: no repair, no retention", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-store-reader-" });
  try {
    const clock = { now: T0 };
    const writer = new FileStore(options(dir, clock).opts);
    await writer.openForWriting();
    await writeSeries(writer, clock, T0, 30);
    await writer.close();
    const before = (await listTierFiles(dir, "raw")).map((f) => f.name);
    assert(before.length > 0);
    // A reader a year later: its retention would delete every raw file if it ran.
    const reader = new FileStore(options(dir, { now: T0 + 365 * DAY }).opts);
    assertEquals((await collect(reader.samples(T0, T0 + DAY))).length, 30);
    await reader.close();
    assertEquals((await listTierFiles(dir, "raw")).map((f) => f.name), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
