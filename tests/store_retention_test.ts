/**
 * Retention: the pure planner with an injected `now` (age limits per tier, the byte limit, open
 * files, reasons), and the executor on a temporary store tree.
 */
import { parseFileName, type TierName } from "../src/store/layout.ts";
import {
  applyRetention,
  type FileEntry,
  fileEntry,
  planRetention,
  type RetentionPolicy,
} from "../src/store/retention.ts";
import { assert, assertEquals } from "./assert.ts";

const DAY = 86_400;
const HOUR_MS = 3_600_000;
const GiB = 1024 ** 3;
/** 2026-11-26 12:00 UTC. */
const NOW = Date.UTC(2026, 10, 26, 12);

function entry(tier: TierName, name: string, bytes = 100, open = false): FileEntry {
  const parsed = parseFileName(tier, name);
  if (!parsed) throw new Error(`bad test file name ${tier}/${name}`);
  return fileEntry(parsed, bytes, open);
}

const ids = (plan: { file: FileEntry }[]) => plan.map((p) => `${p.file.tier}/${p.file.name}`);

const AGES: RetentionPolicy["maxAge"] = { raw: 30 * DAY, "1m": 90 * DAY, "1h": 365 * DAY };
const FOREVER: RetentionPolicy["maxAge"] = { raw: Infinity, "1m": Infinity, "1h": Infinity };

Deno.test("fileEntry ends a file at the end of its UTC day or month", () => {
  assertEquals(entry("raw", "2026-11-25.002.jsonl.gz").end, Date.UTC(2026, 10, 26));
  assertEquals(entry("1h", "2026-12.001.csv").end, Date.UTC(2027, 0, 1));
  assertEquals(entry("1m", "2026-11-25.001.jsonl", 7, true).open, true);
});

Deno.test("planRetention by age: a file goes once its whole period is older than its tier's limit", () => {
  // Cut-offs: raw 2026-10-27 12:00, 1m 2026-08-28 12:00, 1h 2025-11-26 12:00.
  const files = [
    entry("raw", "2026-11-26.001.jsonl", 100, true),
    entry("raw", "2026-10-27.001.jsonl.gz"), // ends 10-28 00:00: kept
    entry("raw", "2026-10-26.002.jsonl.gz"), // ends 10-27 00:00: gone
    entry("raw", "2026-10-26.001.jsonl.gz"),
    entry("raw", "2026-09-01.001.csv.gz"),
    entry("1m", "2026-08-28.001.jsonl.gz"), // ends 08-29: kept
    entry("1m", "2026-08-27.001.jsonl.gz"), // ends 08-28 00:00: gone
    entry("1m", "2026-10-26.001.jsonl.gz"), // within 90d: kept
    entry("1h", "2025-11.001.jsonl.gz"), // ends 2025-12-01: kept though mostly older
    entry("1h", "2025-10.001.jsonl.gz"), // ends 2025-11-01: gone
  ];
  const plan = planRetention(files, { maxAge: AGES, maxBytes: 0 }, NOW);
  assertEquals(ids(plan), [
    "raw/2026-09-01.001.csv.gz",
    "raw/2026-10-26.001.jsonl.gz",
    "raw/2026-10-26.002.jsonl.gz",
    "1m/2026-08-27.001.jsonl.gz",
    "1h/2025-10.001.jsonl.gz",
  ]);
  assertEquals(plan.map((p) => p.reason), [
    "older than 30d (raw retention)",
    "older than 30d (raw retention)",
    "older than 30d (raw retention)",
    "older than 90d (1m retention)",
    "older than 365d (1h retention)",
  ]);
});

Deno.test("planRetention by age: the boundary is the end of the period", () => {
  const day = entry("raw", "2026-10-01.001.jsonl.gz"); // ends 2026-10-02 00:00
  const policy = { maxAge: { ...AGES, raw: 2 * DAY }, maxBytes: 0 };
  const end = Date.UTC(2026, 9, 2);
  assertEquals(ids(planRetention([day], policy, end + 2 * DAY * 1000 - 1)), []);
  assertEquals(ids(planRetention([day], policy, end + 2 * DAY * 1000)), [
    "raw/2026-10-01.001.jsonl.gz",
  ]);
  // The limit is in seconds; an hour past the end is not 2 days.
  assertEquals(ids(planRetention([day], policy, end + HOUR_MS)), []);
});

Deno.test("planRetention never deletes an open file, however old", () => {
  const files = [
    entry("raw", "2020-01-01.001.jsonl", 5 * GiB, true),
    entry("1h", "2019-01.001.jsonl", 5 * GiB, true),
  ];
  assertEquals(planRetention(files, { maxAge: AGES, maxBytes: 1 }, NOW), []);
});

Deno.test("planRetention by bytes: raw first, oldest first, then 1m, then 1h; stops at the limit", () => {
  const files = [
    entry("1h", "2026-09.001.jsonl.gz", 30),
    entry("1m", "2026-11-02.001.jsonl.gz", 50), // 1m files are older than every raw file
    entry("1m", "2026-11-01.001.jsonl.gz", 50),
    entry("raw", "2026-11-26.001.jsonl", 100, true),
    entry("raw", "2026-11-25.001.jsonl.gz", 100),
    entry("raw", "2026-11-23.001.jsonl.gz", 100),
    entry("raw", "2026-11-24.001.jsonl.gz", 100),
  ]; // 530 bytes in all
  const plan = (maxBytes: number) => planRetention(files, { maxAge: FOREVER, maxBytes }, NOW);

  assertEquals(plan(0), [], "0 = unlimited");
  assertEquals(plan(530), [], "at the limit is within it");
  assertEquals(ids(plan(529)), ["raw/2026-11-23.001.jsonl.gz"]);
  assertEquals(ids(plan(300)), [
    "raw/2026-11-23.001.jsonl.gz",
    "raw/2026-11-24.001.jsonl.gz",
    "raw/2026-11-25.001.jsonl.gz",
  ]);
  assertEquals(ids(plan(100)), [
    "raw/2026-11-23.001.jsonl.gz",
    "raw/2026-11-24.001.jsonl.gz",
    "raw/2026-11-25.001.jsonl.gz",
    "1m/2026-11-01.001.jsonl.gz",
    "1m/2026-11-02.001.jsonl.gz",
    "1h/2026-09.001.jsonl.gz",
  ]);
  // Only the open file is left and it is still over the limit: the planner stops there.
  assertEquals(ids(plan(10)), ids(plan(100)));
  assertEquals(plan(300).map((p) => p.reason), [
    "total 530 B over the 300 B limit",
    "total 430 B over the 300 B limit",
    "total 330 B over the 300 B limit",
  ]);
});

Deno.test("planRetention by bytes: reasons in IEC units", () => {
  const files = [
    entry("raw", "2026-11-20.001.jsonl.gz", 0.2 * GiB),
    entry("raw", "2026-11-26.001.jsonl", 1 * GiB, true),
  ];
  const plan = planRetention(files, { maxAge: AGES, maxBytes: GiB }, NOW);
  assertEquals(plan.map((p) => p.reason), ["total 1.20 GiB over the 1.00 GiB limit"]);
});

Deno.test("planRetention with both limits: age first, then bytes on what remains", () => {
  const files = [
    entry("raw", "2026-10-01.001.jsonl.gz", 400), // too old
    entry("raw", "2026-11-20.001.jsonl.gz", 100),
    entry("raw", "2026-11-21.001.jsonl.gz", 100),
    entry("raw", "2026-11-26.001.jsonl", 100, true),
    entry("1m", "2026-11-20.001.jsonl.gz", 50),
  ]; // 750 in all, 350 once the old file is gone

  // The age limit alone brings the total under 400: no byte deletion.
  const ageBites = planRetention(files, { maxAge: AGES, maxBytes: 400 }, NOW);
  assertEquals(ids(ageBites), ["raw/2026-10-01.001.jsonl.gz"]);

  // Under a tighter byte limit the byte pass continues from 350, and never lists a file twice.
  const both = planRetention(files, { maxAge: AGES, maxBytes: 200 }, NOW);
  assertEquals(ids(both), [
    "raw/2026-10-01.001.jsonl.gz",
    "raw/2026-11-20.001.jsonl.gz",
    "raw/2026-11-21.001.jsonl.gz",
  ]);
  assertEquals(both.map((p) => p.reason), [
    "older than 30d (raw retention)",
    "total 350 B over the 200 B limit",
    "total 250 B over the 200 B limit",
  ]);

  // Without the age limit the bytes bite first, on the same oldest-raw-first order.
  const bytesOnly = planRetention(files, { maxAge: FOREVER, maxBytes: 400 }, NOW);
  assertEquals(ids(bytesOnly), ["raw/2026-10-01.001.jsonl.gz"]);
  assertEquals(bytesOnly[0].reason, "total 750 B over the 400 B limit");
});

Deno.test("planRetention does not reorder or change its input", () => {
  const files = [entry("raw", "2026-11-21.001.jsonl.gz"), entry("raw", "2026-01-01.001.jsonl.gz")];
  const copy = structuredClone(files);
  planRetention(files, { maxAge: AGES, maxBytes: 50 }, NOW);
  assertEquals(files, copy);
});

// ---------------------------------------------------------------------------------------------
// applyRetention

function memoryLog() {
  const lines: { level: "info" | "warn"; msg: string }[] = [];
  return {
    lines,
    info: (msg: string) => lines.push({ level: "info", msg }),
    warn: (msg: string) => lines.push({ level: "warn", msg }),
  };
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const tier of ["raw", "1m", "1h"]) {
    for await (const e of Deno.readDir(`${dir}/${tier}`)) out.push(`${tier}/${e.name}`);
  }
  return out.sort();
}

Deno.test("applyRetention deletes exactly the planned files and logs one line each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon_retention_" });
  try {
    const layout: [TierName, string, number][] = [
      ["raw", "2026-10-01.001.jsonl.gz", 300],
      ["raw", "2026-11-25.001.jsonl.gz", 200],
      ["raw", "2026-11-26.001.jsonl", 120],
      ["1m", "2026-08-01.001.jsonl.gz", 70],
      ["1m", "2026-11-25.001.jsonl.gz", 40],
      ["1h", "2026-11.001.jsonl", 10],
    ];
    for (const tier of ["raw", "1m", "1h"]) await Deno.mkdir(`${dir}/${tier}`);
    const files: FileEntry[] = [];
    for (const [tier, name, size] of layout) {
      await Deno.writeFile(`${dir}/${tier}/${name}`, new Uint8Array(size));
      const bytes = (await Deno.stat(`${dir}/${tier}/${name}`)).size;
      files.push(entry(tier, name, bytes, name.startsWith("2026-11-26") || tier === "1h"));
    }
    const plan = planRetention(files, { maxAge: AGES, maxBytes: 350 }, NOW);
    // 740 bytes: age removes raw 10-01 and 1m 08-01 (370 left), bytes then raw 11-25.
    assertEquals(ids(plan), [
      "raw/2026-10-01.001.jsonl.gz",
      "1m/2026-08-01.001.jsonl.gz",
      "raw/2026-11-25.001.jsonl.gz",
    ]);

    const log = memoryLog();
    const freed = await applyRetention(dir, plan, log);
    assertEquals(freed, 300 + 70 + 200);
    assertEquals(await listTree(dir), [
      "1h/2026-11.001.jsonl",
      "1m/2026-11-25.001.jsonl.gz",
      "raw/2026-11-26.001.jsonl",
    ]);
    assertEquals(log.lines, [
      {
        level: "info",
        msg: "retention: deleted raw/2026-10-01.001.jsonl.gz: older than 30d (raw retention)",
      },
      {
        level: "info",
        msg: "retention: deleted 1m/2026-08-01.001.jsonl.gz: older than 90d (1m retention)",
      },
      {
        level: "info",
        msg: "retention: deleted raw/2026-11-25.001.jsonl.gz: total 370 B over the 350 B limit",
      },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("applyRetention warns about a file it cannot delete and carries on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon_retention_" });
  try {
    await Deno.mkdir(`${dir}/raw`);
    await Deno.writeFile(`${dir}/raw/2026-10-02.001.jsonl.gz`, new Uint8Array(64));
    const plan = [
      {
        file: entry("raw", "2026-10-01.001.jsonl.gz", 999),
        reason: "older than 30d (raw retention)",
      },
      {
        file: entry("raw", "2026-10-02.001.jsonl.gz", 64),
        reason: "older than 30d (raw retention)",
      },
    ];
    const log = memoryLog();
    assertEquals(await applyRetention(dir, plan, log), 64);
    assertEquals(log.lines.map((l) => l.level), ["warn", "info"]);
    assert(
      log.lines[0].msg.startsWith("retention: could not delete raw/2026-10-01.001.jsonl.gz: "),
      log.lines[0].msg,
    );
    assert(
      log.lines[0].msg.length > "retention: could not delete raw/2026-10-01.001.jsonl.gz: ".length,
    );
    assertEquals(
      log.lines[1].msg,
      "retention: deleted raw/2026-10-02.001.jsonl.gz: older than 30d (raw retention)",
    );
    assertEquals(await Array.fromAsync(Deno.readDir(`${dir}/raw`)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
