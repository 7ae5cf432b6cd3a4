import {
  commandLine,
  isGoneError,
  parseMemTotalBytes,
  parsePasswd,
  parseProcStat,
  parseStatusEuid,
  printable,
  ProcessReader,
  type ProcessRow,
} from "../src/collect/processes.ts";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "./assert.ts";
import { FIXTURES } from "./helpers.ts";

const PROCESSES = FIXTURES + "processes/";
const PASSWD = PROCESSES + "passwd";
const GIB = 1024 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// parseProcStat

/** A stat line whose field N (1-based, proc.rst table 1-4) holds N + 1000, from field 4 on. */
function numberedStat(pid: number, comm: string, state: string, fields = 52): string {
  const rest: string[] = [];
  for (let n = 4; n <= fields; n++) rest.push(String(n + 1000));
  return `${pid} (${comm}) ${state} ${rest.join(" ")}\n`;
}

Deno.test("parseProcStat: every field from its proc.rst position", () => {
  assertEquals(parseProcStat(numberedStat(42, "cat", "R")), {
    pid: 42,
    comm: "cat",
    state: "R",
    utimeTicks: 1014,
    stimeTicks: 1015,
    threads: 1020,
    starttimeTicks: 1022,
    rssPages: 1024,
  });
  // A 2.6-era line that stops right after rss (24 fields), with or without the newline.
  assertEquals(parseProcStat(numberedStat(7, "x", "S", 24))?.rssPages, 1024);
  assertEquals(parseProcStat(numberedStat(7, "x", "S", 24).trimEnd())?.rssPages, 1024);
});

Deno.test("parseProcStat: comm with spaces and parentheses is cut at the LAST ')'", () => {
  for (const comm of ["(a) b)", "a) (b", "Web Content", ") ) )", "", "tab\there", "new\nline"]) {
    const s = parseProcStat(numberedStat(5, comm, "S"));
    assertEquals(s?.comm, comm, JSON.stringify(comm));
    assertEquals(s?.utimeTicks, 1014, JSON.stringify(comm));
    assertEquals(s?.rssPages, 1024, JSON.stringify(comm));
  }
  // Signed fields in between (tty_nr, tpgid -1, priority, nice -20) do not shift anything.
  const line = "9 (a) b) S 1 9 9 -1 -1 4194560 1 0 0 0 33 44 -5 -6 -100 -20 3 0 555 1 66 0\n";
  assertEquals(parseProcStat(line), {
    pid: 9,
    comm: "a) b",
    state: "S",
    utimeTicks: 33,
    stimeTicks: 44,
    threads: 3,
    starttimeTicks: 555,
    rssPages: 66,
  });
});

Deno.test("parseProcStat: every state letter the kernel prints", () => {
  for (const state of ["R", "S", "D", "Z", "T", "t", "X", "x", "K", "W", "P", "I"]) {
    assertEquals(parseProcStat(numberedStat(1, "p", state))?.state, state);
  }
});

Deno.test("parseProcStat: malformed lines give null", () => {
  const good = numberedStat(42, "cat", "R");
  const bad = [
    "",
    "garbage",
    "42 cat R 1 2 3",
    "42 (cat R 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24",
    "x42 (cat) R 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24",
    "42 (cat) 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24", // no state
    "42 (cat) RR 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24",
    "42 (cat) 1 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24",
    numberedStat(42, "cat", "R", 23), // ends before rss
    good.replace(" 1014 ", " -1014 "), // utime negative
    good.replace(" 1015 ", " 1o15 "), // stime not a number
    good.replace(" 1024 ", " 1024x "), // rss not a number
    good.replace(" 1020 ", "  1020 "), // a double space shifts the fields
    "42(cat) R " + good.slice(good.indexOf(") R ") + 4),
  ];
  for (const line of bad) assertEquals(parseProcStat(line), null, JSON.stringify(line));
});

Deno.test("parseProcStat: a line of this machine's own process", () => {
  const s = parseProcStat(Deno.readTextFileSync("/proc/self/stat"));
  assert(s !== null);
  assertEquals(s.pid, Deno.pid);
  assert(s.threads >= 1 && s.rssPages > 0);
});

// ---------------------------------------------------------------------------------------------
// The other pure helpers

Deno.test("parseStatusEuid: the second Uid number (real, effective, saved, fs)", () => {
  const status = Deno.readTextFileSync(PROCESSES + "first/1500/status");
  assert(status.includes("Uid:\t1000\t0\t0\t0\n"));
  assertEquals(parseStatusEuid(status), 0);
  assertEquals(parseStatusEuid("Uid:\t1000\t1001\t1002\t1003\n"), 1001);
  assertEquals(parseStatusEuid("Name:\tx\nGid:\t5\t5\t5\t5\n"), null);
  assertEquals(parseStatusEuid("Uid:\tabc\n"), null);
});

Deno.test("parseMemTotalBytes", () => {
  assertEquals(parseMemTotalBytes("MemTotal:        1048576 kB\nMemFree: 1 kB\n"), GIB);
  assertEquals(parseMemTotalBytes("MemFree: 1 kB\n"), null);
  assertEquals(parseMemTotalBytes("MemTotal: lots kB\n"), null);
});

Deno.test("parsePasswd: names by uid, first entry wins, junk lines skipped", () => {
  const users = parsePasswd(Deno.readTextFileSync(PASSWD));
  assertEquals([...users], [[0, "root"], [1, "daemon"], [1000, "alice"]]);
});

Deno.test("commandLine and printable", () => {
  assertEquals(commandLine("/bin/sh\0-c\0echo hi\0", "sh"), "/bin/sh -c echo hi");
  assertEquals(commandLine("nginx: worker process", "nginx"), "nginx: worker process");
  assertEquals(commandLine("", "kthreadd"), "[kthreadd]");
  assertEquals(commandLine("\0\0", "x"), "[x]");
  assertEquals(commandLine("evil\0\x1b]0;pwned\x07\0", "e\x1bvil"), "evil ?]0;pwned?");
  assertEquals(commandLine("", "e\x1b[2Jvil"), "[e?[2Jvil]");
  assertEquals(printable("ok \u009b1m ünï"), "ok ?1m ünï");
});

Deno.test("isGoneError: ENOENT on open and ESRCH on read", () => {
  assert(isGoneError(new Deno.errors.NotFound("x")));
  assert(isGoneError(new Error("No such process (os error 3)")));
  assert(!isGoneError(new Deno.errors.PermissionDenied("x")));
  assert(!isGoneError(new Error("Is a directory (os error 21)")));
});

// ---------------------------------------------------------------------------------------------
// The reader over the fixture snapshots

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** A temp --procfs holding one snapshot; `load` replaces it with another. */
async function snapshotRoot() {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-processes-" });
  const proc = dir + "/proc";
  return {
    proc,
    async load(snapshot: "first" | "second") {
      await Deno.remove(proc, { recursive: true }).catch(() => {});
      await copyTree(PROCESSES + snapshot, proc);
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

const pids = (rows: ProcessRow[]) => rows.map((r) => r.pid);
const byPid = (rows: ProcessRow[]) => new Map(rows.map((r) => [r.pid, r]));

Deno.test("ProcessReader: two snapshots 2 s apart give CPU % from the tick deltas", async () => {
  const root = await snapshotRoot();
  try {
    const reader = new ProcessReader({ procRoot: root.proc, passwdPath: PASSWD, detailsRounds: 1 });
    await root.load("first");
    const first = await reader.top(100, "cpu", 1000);
    // No previous reading: no CPU %; the order falls back to lifetime ticks (utime + stime).
    assert(first.every((r) => r.cpuPercent === null));
    assertEquals(pids(first), [420, 1600, 1, 900, 14, 1200, 777, 1500, 2]);
    assertEquals(reader.lastScan, { processes: 9, vanished: 0, unreadable: 0, malformed: 0 });

    await root.load("second");
    const rows = await reader.top(100, "cpu", 3000);
    // 1600 (java, 10 %) lost its status before its row was filled: skipped, counted as vanished.
    assertEquals(pids(rows), [420, 777, 1, 14, 1500, 2, 900, 1300]);
    assertEquals(reader.lastScan, { processes: 9, vanished: 2, unreadable: 0, malformed: 0 });
    const cpu = rows.map((r) => r.cpuPercent);
    // Δticks / (100 ticks/s × 2 s) × 100: 200 → 100, 6 → 3, 4 → 2, 1 → 0.5, 0 → 0; 900 is a new
    // process under a reused pid and 1300 is new: no CPU % for them this round.
    assertEquals(cpu, [100, 3, 2, 0.5, 0, 0, null, null]);

    const web = rows[0];
    assertEquals(web, {
      pid: 420,
      name: "Web Content",
      user: "alice",
      state: "R",
      cpuPercent: 100,
      rssBytes: 65536 * 4096,
      memPercent: 25, // 65536 pages × 4096 of MemTotal 1048576 kB
      threads: 28,
      command: "/usr/lib/firefox/firefox -contentproc -childID 3 -isForBrowser",
    });
    const row = byPid(rows);
    assertEquals(row.get(1)?.user, "root");
    assertEquals(row.get(1)?.command, "/sbin/init splash");
    assertEquals(row.get(2)?.command, "[kthreadd]");
    assertEquals(row.get(14)?.state, "I");
    assertEquals(row.get(14)?.command, "[kworker/u4:0-events_unbound]");
    assertEquals(row.get(777)?.name, "(a) b)");
    assertEquals(row.get(777)?.user, "1001");
    assertEquals(row.get(777)?.command, "./odd --name=(a) b)");
    assertEquals(row.get(1500)?.user, "root"); // effective uid 0, real uid 1000
    assertEquals(row.get(900)?.name, "cc1");
    assertEquals(row.get(900)?.command, "/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet main.c");

    // A third reading of the same files 1 s later: every process at 0 % (900 and 1300 too, now),
    // so the order is by lifetime ticks: 420 (15200), [1600 skipped], 1 (804), 900 (450), 14 (41)…
    const third = await reader.top(100, "cpu", 4000);
    assertEquals(
      third.map((r) => [r.pid, r.cpuPercent]),
      [[420, 0], [1, 0], [900, 0], [14, 0], [777, 0], [1500, 0], [1300, 0], [2, 0]],
    );
  } finally {
    await root.cleanup();
  }
});

Deno.test("ProcessReader: sorting by memory, the limit, memPercent, a zombie", async () => {
  const root = await snapshotRoot();
  try {
    const reader = new ProcessReader({ procRoot: root.proc, passwdPath: PASSWD, detailsRounds: 1 });
    await root.load("first");
    const first = await reader.top(3, "memory", 0);
    assertEquals(pids(first), [1600, 420, 1]);
    assertEquals(first.map((r) => r.memPercent), [50, 25, (3072 * 4096 * 100) / GIB]);
    assertEquals(first[0].command, "java -jar app.jar");
    const zombie = byPid(await reader.top(100, "memory", 0)).get(1200);
    assertEquals(zombie?.state, "Z");
    assertEquals(zombie?.command, "[worker]");

    await root.load("second");
    const rows = await reader.top(100, "memory", 2000);
    // 1600 skipped (status gone); equal RSS (0 pages: 2 and 14) in pid order.
    assertEquals(pids(rows), [420, 1, 900, 1500, 777, 1300, 2, 14]);
    assertEquals(
      rows.map((r) => r.rssBytes),
      [65536, 3072, 2048, 1536, 1024, 128, 0, 0].map((p) => p * 4096),
    );
    assertEquals(pids(await reader.top(2, "memory", 3000)), [420, 1]);
    assertEquals(await reader.top(0, "memory", 4000), []);
  } finally {
    await root.cleanup();
  }
});

Deno.test("ProcessReader: page size and clock ticks come from the options", async () => {
  const root = await snapshotRoot();
  try {
    const reader = new ProcessReader({
      procRoot: root.proc + "/",
      passwdPath: PASSWD,
      pageSize: 16384,
      clockTicks: 250,
    });
    await root.load("first");
    await reader.top(1, "cpu", 0);
    await root.load("second");
    const [web] = await reader.top(1, "cpu", 2000);
    assertEquals(web.pid, 420);
    assertEquals(web.rssBytes, 65536 * 16384);
    assertEquals(web.memPercent, 100);
    assertEquals(web.cpuPercent, (200 / (250 * 2)) * 100);
  } finally {
    await root.cleanup();
  }
});

Deno.test("ProcessReader: a call within 200 ms of the last measurement keeps its CPU %", async () => {
  const root = await snapshotRoot();
  try {
    const reader = new ProcessReader({ procRoot: root.proc, passwdPath: PASSWD, detailsRounds: 1 });
    await root.load("first");
    await reader.top(1, "cpu", 1000);
    assertEquals((await reader.top(1, "cpu", 1100))[0].cpuPercent, null); // still unmeasured
    await root.load("second");
    // 100 ms after the first call: too soon; 1000 ms after it: Δ200 ticks over 1 s = 200 %.
    assertEquals((await reader.top(1, "cpu", 1100))[0].cpuPercent, null);
    assertEquals((await reader.top(1, "cpu", 2000))[0].cpuPercent, 200);
    // 50 ms later with the same files: the 200 % stands (not 0 % over 50 ms).
    assertEquals((await reader.top(1, "cpu", 2050))[0].cpuPercent, 200);
    // A full interval after the measurement at 2000: 0 ticks more → 0 %.
    assertEquals((await reader.top(1, "cpu", 2250))[0].cpuPercent, 0);
  } finally {
    await root.cleanup();
  }
});

Deno.test("ProcessReader: a pid absent for one round starts over", async () => {
  const root = await snapshotRoot();
  try {
    const reader = new ProcessReader({ procRoot: root.proc, passwdPath: PASSWD, detailsRounds: 1 });
    await root.load("first");
    await reader.top(100, "cpu", 0);
    await Deno.remove(root.proc + "/420", { recursive: true });
    assert(!pids(await reader.top(100, "cpu", 1000)).includes(420));
    await root.load("second");
    const web = byPid(await reader.top(100, "cpu", 2000)).get(420);
    assertEquals(web?.cpuPercent, null); // its ticks of two rounds ago would not match Δt
  } finally {
    await root.cleanup();
  }
});

/** A --procfs written inline: pid → files. */
async function inlineRoot(pidsFiles: Record<string, Record<string, string>>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-processes-" });
  await Deno.writeTextFile(dir + "/meminfo", "MemTotal: 1048576 kB\n");
  for (const [pid, files] of Object.entries(pidsFiles)) {
    await Deno.mkdir(`${dir}/${pid}`);
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${pid}/${name}`, text);
    }
  }
  return dir;
}

const status = (euid: number) => `Name:\tx\nUid:\t${euid}\t${euid}\t${euid}\t${euid}\n`;

Deno.test("ProcessReader: unreadable and malformed stat files are skipped and counted", async () => {
  const dir = await inlineRoot({
    "10": { stat: numberedStat(10, "good", "S"), status: status(0), cmdline: "good\0" },
    "11": { stat: "11 (broken\n", status: status(0), cmdline: "" },
    "12": { stat: numberedStat(99, "other pid", "S"), status: status(0), cmdline: "" },
    "13": { status: status(0), cmdline: "" }, // stat is a directory below
    "self": { stat: numberedStat(10, "good", "S") }, // not a pid
  });
  try {
    await Deno.mkdir(dir + "/13/stat");
    await Deno.remove(dir + "/meminfo");
    const reader = new ProcessReader({ procRoot: dir, passwdPath: dir + "/no-passwd" });
    const rows = await reader.top(10, "memory");
    assertEquals(pids(rows), [10]);
    assertEquals(rows[0].user, "0"); // no passwd file: numeric uids
    assertEquals(rows[0].memPercent, null); // no meminfo
    assertEquals(reader.lastScan, { processes: 1, vanished: 0, unreadable: 1, malformed: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcessReader: control characters never reach the row", async () => {
  const dir = await inlineRoot({
    "10": {
      stat: numberedStat(10, "e\x1b[2Jvil", "S"),
      status: status(1000),
      cmdline: "evil\0\x1b]0;title\x07\0",
    },
  });
  try {
    const reader = new ProcessReader({ procRoot: dir, passwdPath: PASSWD });
    const [row] = await reader.top(1, "cpu");
    assertEquals(row.name, "e?[2Jvil");
    assertEquals(row.command, "evil ?]0;title?");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcessReader: a missing --procfs is an error naming it", async () => {
  const reader = new ProcessReader({ procRoot: "/nonexistent/proc" });
  await assertRejects(() => reader.top(5, "cpu"), "cannot read /nonexistent/proc: not found");
});

Deno.test({
  name: "ProcessReader: a cmdline read that blocks falls back to [comm] until it settles",
  async fn() {
    const dir = await inlineRoot({
      "10": { stat: numberedStat(10, "stuck", "D"), status: status(0) },
      "11": { stat: numberedStat(11, "fine", "S"), status: status(0), cmdline: "fine\0" },
    });
    const fifo = dir + "/10/cmdline";
    // Opening a FIFO for reading blocks until a writer comes, as a cmdline read does while the
    // target's mmap lock is held.
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert(made.success);
    try {
      const reader = new ProcessReader({ procRoot: dir, passwdPath: PASSWD, cmdlineTimeoutMs: 20 });
      const rows = await reader.top(2, "memory");
      assertEquals(rows.map((r) => r.command), ["[stuck]", "fine"]);
      // The next call answers as well while that read is still pending.
      assertEquals((await reader.top(2, "memory")).map((r) => r.command), ["[stuck]", "fine"]);

      const writer = await Deno.open(fifo, { write: true });
      await writer.write(new TextEncoder().encode("late\0"));
      writer.close();
      await Deno.remove(fifo);
      await Deno.writeTextFile(fifo, "stuck\0--no-more\0");
      // The released read settles on its own schedule: poll (a bounded number of rounds, not a time).
      let command = "";
      for (let i = 0; i < 200 && command !== "stuck --no-more"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        command = (await reader.top(1, "memory"))[0].command;
      }
      assertEquals(command, "stuck --no-more");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// This machine

Deno.test("ProcessReader on this machine's /proc: our own process, with a plausible RSS", async () => {
  const reader = new ProcessReader({ procRoot: "/proc" });
  const t0 = performance.now();
  const rows = await reader.top(100000, "memory", t0);
  assert(rows.length > 1, `${rows.length} processes`);
  assertEquals(reader.lastScan.processes >= rows.length, true);
  const self = rows.find((r) => r.pid === Deno.pid);
  assert(self, `pid ${Deno.pid} not among ${rows.length} rows`);
  // A Deno process maps its binary and a V8 heap: tens of MB, surely between 5 MB and 4 GB.
  assert(self.rssBytes > 5e6 && self.rssBytes < 4e9, `rss ${self.rssBytes}`);
  const vmRssKb = Number(
    /^VmRSS:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"))![1],
  );
  assertAlmostEquals(self.rssBytes / 1024, vmRssKb, vmRssKb * 0.2, "stat rss vs status VmRSS");
  assert(self.command.includes("deno"), self.command);
  assert(self.threads >= 1);
  assertEquals(self.cpuPercent, null);
  for (let i = 1; i < rows.length; i++) assert(rows[i - 1].rssBytes >= rows[i].rssBytes);

  // Told that a second passed (a real wait would only slow the test): a measured, finite CPU %.
  const again = await reader.top(100000, "cpu", t0 + 1000);
  const selfAgain = again.find((r) => r.pid === Deno.pid);
  assert(selfAgain && selfAgain.cpuPercent !== null && selfAgain.cpuPercent >= 0);
  assert(Number.isFinite(selfAgain.cpuPercent), String(selfAgain.cpuPercent));
});

Deno.test("ProcessReader: user and command are reused for detailsRounds calls, never across pid reuse", async () => {
  const dir = await inlineRoot({
    "10": { stat: numberedStat(10, "app", "S"), status: status(0), cmdline: "app\0--old\0" },
  });
  try {
    const reader = new ProcessReader({ procRoot: dir, passwdPath: PASSWD, detailsRounds: 3 });
    const command = async () => (await reader.top(1, "cpu"))[0].command;
    assertEquals(await command(), "app --old");
    await Deno.writeTextFile(`${dir}/10/cmdline`, "app\0--new\0");
    await Deno.writeTextFile(`${dir}/10/status`, status(1000));
    assertEquals(await command(), "app --old", "read again only after detailsRounds calls");
    assertEquals(await command(), "app --old");
    const [row] = await reader.top(1, "cpu");
    assertEquals([row.command, row.user], ["app --new", "alice"]);
    // A new process under the same pid (another start time) is read at once.
    await Deno.writeTextFile(`${dir}/10/cmdline`, "other\0");
    await Deno.writeTextFile(
      `${dir}/10/stat`,
      numberedStat(10, "other", "S").replace(" 1022 ", " 2022 "),
    );
    assertEquals(await command(), "other");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
