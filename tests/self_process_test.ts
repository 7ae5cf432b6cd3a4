import {
  parseBtime,
  parseMaxOpenFiles,
  parseProcStat,
  parseVmRssBytes,
  type ProcessStats,
  readProcessStats,
  writeProcessMetrics,
} from "../src/expose/self_process.ts";
import { TextExposition } from "../src/expose/writer.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { FIXTURES } from "./helpers.ts";

const SELF = FIXTURES + "self/";
const fixture = (name: string) => Deno.readTextFileSync(SELF + name);

Deno.test("parseProcStat: comm with spaces and parentheses", () => {
  const text = fixture("stat");
  assert(text.startsWith("4242 (my (odd) name) S 1 "));
  assertEquals(parseProcStat(text), {
    utimeTicks: 1234,
    stimeTicks: 567,
    starttimeTicks: 250000,
    vsizeBytes: 1363148800,
    rssPages: 12800,
  });
});

Deno.test("parseProcStat: a ') ' inside comm does not shift the fields", () => {
  // Fields 3..24: state, ppid … cstime (14-17), priority, nice, threads, itrealvalue, starttime, vsize, rss.
  const tail = "R 1 7 7 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 333 4444 55 18446744073709551615";
  assertEquals(parseProcStat(`7 (a) b (c) ${tail}\n`), {
    utimeTicks: 11,
    stimeTicks: 22,
    starttimeTicks: 333,
    vsizeBytes: 4444,
    rssPages: 55,
  });
  assertEquals(parseProcStat(`7 ()) ${tail}`).utimeTicks, 11);
});

Deno.test("parseProcStat: malformed input names the file", () => {
  assertThrows(() => parseProcStat("", "/p/9/stat"), '/p/9/stat: malformed: no "(comm)" field');
  assertThrows(() => parseProcStat("9 x) R 1"), '/proc/self/stat: malformed: no "(comm)"');
  assertThrows(
    () => parseProcStat("9 (x) R 1 2 3", "/p/9/stat"),
    "/p/9/stat: malformed: field 14 (utime) is missing",
  );
  const bad = "9 (x) R 1 7 7 0 -1 0 0 0 0 0 11 -2 0 0 20 0 1 0 333 4444 55";
  assertThrows(() => parseProcStat(bad), 'field 15 (stime) is "-2", not a count');
});

Deno.test("parseMaxOpenFiles: the soft limit, unlimited as null", () => {
  assertEquals(parseMaxOpenFiles(fixture("limits")), 1024);
  assertEquals(parseMaxOpenFiles(fixture("limits_unlimited")), null);
  assertEquals(
    parseMaxOpenFiles(
      "Max open files            65536                65536                files\n",
    ),
    65536,
  );
});

Deno.test("parseMaxOpenFiles: a missing or malformed line names the file", () => {
  assertThrows(
    () => parseMaxOpenFiles("Limit  Soft Limit  Hard Limit  Units\n", "/p/9/limits"),
    '/p/9/limits: no "Max open files" line',
  );
  assertThrows(
    () => parseMaxOpenFiles("Max open files            lots     4096     files\n"),
    '/proc/self/limits: malformed "Max open files" soft limit "lots"',
  );
});

Deno.test("parseVmRssBytes and parseBtime", () => {
  assertEquals(parseVmRssBytes(fixture("status")), 51000 * 1024);
  assertEquals(parseVmRssBytes("Name:\tkthreadd\nState:\tS (sleeping)\n"), undefined);
  assertThrows(() => parseVmRssBytes("VmRSS:\t  x kB\n", "/p/s"), '/p/s: malformed VmRSS "x"');
  assertEquals(parseBtime(fixture("proc_stat")), 1700000000);
  assertThrows(() => parseBtime("cpu 1 2 3 4\n", "/p/stat"), '/p/stat: no "btime" line');
});

/** A fake procfs: <root>/<pid>/{stat,status,limits,fd/0..n-1} and <root>/stat. */
async function fakeProcfs(
  pid: string,
  files: { stat?: string; status?: string; limits?: string; fds?: number },
): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "sysmon-self-" });
  await Deno.mkdir(`${root}/${pid}/fd`, { recursive: true });
  await Deno.writeTextFile(`${root}/stat`, fixture("proc_stat"));
  await Deno.writeTextFile(`${root}/${pid}/stat`, files.stat ?? fixture("stat"));
  await Deno.writeTextFile(`${root}/${pid}/status`, files.status ?? fixture("status"));
  await Deno.writeTextFile(`${root}/${pid}/limits`, files.limits ?? fixture("limits"));
  for (let fd = 0; fd < (files.fds ?? 7); fd++) {
    await Deno.writeTextFile(`${root}/${pid}/fd/${fd}`, "");
  }
  return root;
}

Deno.test("readProcessStats: computed values on a fake procfs", async () => {
  const root = await fakeProcfs("4242", { fds: 7 });
  try {
    assertEquals(await readProcessStats(root, 4242), {
      cpuSeconds: (1234 + 567) / 100,
      residentBytes: 51000 * 1024, // VmRSS, not rss pages × 4096 (= 51200 kB)
      virtualBytes: 1363148800,
      openFds: 7,
      maxFds: 1024,
      startTimeSeconds: 1700000000 + 250000 / 100,
    });
    // "self" and a trailing slash on the root resolve the same way.
    await Deno.symlink(`${root}/4242`, `${root}/self`);
    assertEquals((await readProcessStats(root + "/")).startTimeSeconds, 1700002500);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readProcessStats: unlimited fds, no VmRSS falls back to rss pages × 4096", async () => {
  const root = await fakeProcfs("self", {
    status: "Name:\tx\nState:\tS (sleeping)\n",
    limits: fixture("limits_unlimited"),
    fds: 0,
  });
  try {
    const stats = await readProcessStats(root);
    assertEquals(stats.maxFds, null);
    assertEquals(stats.openFds, 0);
    assertEquals(stats.residentBytes, 12800 * 4096);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readProcessStats: failures name the file", async () => {
  const root = await fakeProcfs("self", {});
  try {
    await assertRejects(
      () => readProcessStats(root, 99),
      `cannot read ${root}/99/stat: not found`,
    );
    await Deno.remove(`${root}/self/fd`, { recursive: true });
    await assertRejects(() => readProcessStats(root), `cannot read ${root}/self/fd: not found`);
    await Deno.mkdir(`${root}/self/fd`);
    await Deno.writeTextFile(`${root}/stat`, "cpu 1 2 3 4\n");
    await assertRejects(() => readProcessStats(root), `${root}/stat: no "btime" line`);
    await Deno.writeTextFile(`${root}/self/limits`, "Limit\n");
    await assertRejects(() => readProcessStats(root), `${root}/self/limits: no "Max open files"`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("live: the test process's own /proc", async () => {
  // Burn a little CPU so even a coarse 10 ms tick has counted some.
  const until = performance.now() + 30;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  assert(x > 0);
  const s = await readProcessStats("/proc");
  assert(s.cpuSeconds > 0, `cpuSeconds ${s.cpuSeconds}`);
  assert(s.residentBytes > 1024 * 1024, `residentBytes ${s.residentBytes}`);
  assert(s.virtualBytes >= s.residentBytes, `virtualBytes ${s.virtualBytes}`);
  assert(s.openFds >= 3, `openFds ${s.openFds}`);
  assert(s.maxFds === null || s.maxFds >= s.openFds, `maxFds ${s.maxFds}`);
  const now = Date.now() / 1000;
  // Started before now and, as a test run, within the last hour (btime is whole seconds).
  assert(
    s.startTimeSeconds <= now + 1 && s.startTimeSeconds > now - 3600,
    `start ${s.startTimeSeconds}`,
  );
  // The same pid, by number.
  assertEquals((await readProcessStats("/proc", Deno.pid)).startTimeSeconds, s.startTimeSeconds);
});

const STATS: ProcessStats = {
  cpuSeconds: 18.01,
  residentBytes: 52428800,
  virtualBytes: 1363148800,
  openFds: 7,
  maxFds: 1024,
  startTimeSeconds: 1700002500.5,
};

Deno.test("writeProcessMetrics: families, types and values", () => {
  const out = new TextExposition();
  writeProcessMetrics(STATS, out);
  assertEquals(
    out.text(),
    [
      "# HELP sysmon_process_cpu_seconds_total User and system CPU time spent by sysmon, in seconds.",
      "# TYPE sysmon_process_cpu_seconds_total counter",
      "sysmon_process_cpu_seconds_total 18.01",
      "# HELP sysmon_process_resident_memory_bytes Resident memory size of sysmon in bytes (VmRSS).",
      "# TYPE sysmon_process_resident_memory_bytes gauge",
      "sysmon_process_resident_memory_bytes 52428800",
      "# HELP sysmon_process_virtual_memory_bytes Virtual memory size of sysmon in bytes.",
      "# TYPE sysmon_process_virtual_memory_bytes gauge",
      "sysmon_process_virtual_memory_bytes 1363148800",
      "# HELP sysmon_process_open_fds Number of open file descriptors of sysmon.",
      "# TYPE sysmon_process_open_fds gauge",
      "sysmon_process_open_fds 7",
      "# HELP sysmon_process_max_fds Soft limit on sysmon's open file descriptors; absent when unlimited.",
      "# TYPE sysmon_process_max_fds gauge",
      "sysmon_process_max_fds 1024",
      "# HELP sysmon_process_start_time_seconds Start time of sysmon since the Unix epoch, in seconds.",
      "# TYPE sysmon_process_start_time_seconds gauge",
      "sysmon_process_start_time_seconds 1700002500.5",
      "",
    ].join("\n"),
  );
});

Deno.test("writeProcessMetrics: unlimited fds leave out sysmon_process_max_fds entirely", () => {
  const out = new TextExposition();
  writeProcessMetrics({ ...STATS, maxFds: null }, out);
  const text = out.text();
  assert(!text.includes("sysmon_process_max_fds"), text);
  assertEquals(text.split("\n").filter((l) => l.startsWith("# TYPE")).length, 5);
});

Deno.test("fixture tree through to exposition", async () => {
  const root = await fakeProcfs("self", { fds: 3 });
  try {
    const out = new TextExposition();
    writeProcessMetrics(await readProcessStats(root), out);
    const samples = out.text().split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    assertEquals(samples, [
      "sysmon_process_cpu_seconds_total 18.01",
      "sysmon_process_resident_memory_bytes 52224000",
      "sysmon_process_virtual_memory_bytes 1363148800",
      "sysmon_process_open_fds 3",
      "sysmon_process_max_fds 1024",
      "sysmon_process_start_time_seconds 1700002500",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
