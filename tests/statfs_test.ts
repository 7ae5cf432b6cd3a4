/**
 * statfs through libc FFI, checked against this machine's `stat -f` and `df`.
 *
 * Two checks need a process of their own, so this file doubles as a script:
 *   deno run --allow-read tests/statfs_test.ts --probe no-ffi   (FFI denied: the message)
 *   unshare -m … deno run -A tests/statfs_test.ts --probe hang  (a FUSE mount that never answers)
 */
import { createFilesystemReader } from "../src/collect/filesystem.ts";
import {
  decodeStatfs,
  statfs,
  STATFS_OFFSETS,
  STATFS_SIZE,
  StatfsError,
} from "../src/collect/statfs.ts";
import { memoryLogger } from "../src/log.ts";
import { assert, assertAlmostEquals, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { testCollectorsConfig } from "./helpers.ts";

const THIS_FILE = new URL(import.meta.url).pathname;
const MiB = 1024 * 1024;

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

// ---------------------------------------------------------------------------------------------
// decoding

Deno.test("decodeStatfs: reads each 8-byte field at its documented offset", () => {
  const buf = new Uint8Array(STATFS_SIZE);
  const v = new DataView(buf.buffer);
  const put = (off: number, n: number) => v.setBigUint64(off, BigInt(n), true);
  put(STATFS_OFFSETS.type, 0xef53);
  put(STATFS_OFFSETS.bsize, 4096);
  put(STATFS_OFFSETS.blocks, 2 ** 40 + 7); // above 2^32: both halves matter
  put(STATFS_OFFSETS.bfree, 3);
  put(STATFS_OFFSETS.bavail, 2);
  put(STATFS_OFFSETS.files, 11);
  put(STATFS_OFFSETS.ffree, 5);
  put(STATFS_OFFSETS.fsid, 0xdeadbeef);
  put(STATFS_OFFSETS.namelen, 255);
  put(STATFS_OFFSETS.frsize, 1024);
  put(STATFS_OFFSETS.flags, 0x1021);
  assertEquals(decodeStatfs(buf), {
    blocks: 1099511627783,
    bfree: 3,
    bavail: 2,
    frsize: 1024,
    files: 11,
    ffree: 5,
    type: 0xef53,
    bsize: 4096,
    namelen: 255,
    flags: 0x1021,
  });
  assertEquals(STATFS_OFFSETS.spare + 4 * 8, STATFS_SIZE);
});

Deno.test("decodeStatfs: f_frsize 0 falls back to f_bsize, as df does", () => {
  const buf = new Uint8Array(STATFS_SIZE);
  new DataView(buf.buffer).setBigUint64(STATFS_OFFSETS.bsize, 512n, true);
  assertEquals(decodeStatfs(buf).frsize, 512);
  let threw = false;
  try {
    decodeStatfs(new Uint8Array(64));
  } catch (e) {
    threw = (e as Error).message.includes("120 bytes");
  }
  assert(threw);
});

// ---------------------------------------------------------------------------------------------
// live, on this machine

Deno.test("live: statfs of / agrees with stat -f field by field (struct offsets)", async () => {
  // %t type (hex) %s bsize %S frsize %b blocks %f bfree %a bavail %c files %d ffree %l namelen
  const before = (await run("stat", ["-f", "--format=%t %s %S %b %f %a %c %d %l", "/"]))
    .trim().split(" ");
  const s = await statfs("/");
  const [type, bsize, frsize, blocks, bfree, bavail, files, ffree, namelen] = before;
  assertEquals(s.type, parseInt(type, 16));
  assertEquals(s.bsize, Number(bsize));
  assertEquals(s.frsize, Number(frsize));
  assertEquals(s.blocks, Number(blocks));
  assertEquals(s.files, Number(files));
  assertEquals(s.namelen, Number(namelen));
  // Other writers move the free counts between the two calls; a MiB of slack in blocks/inodes.
  const slackBlocks = MiB / s.frsize;
  assertAlmostEquals(s.bfree, Number(bfree), slackBlocks);
  assertAlmostEquals(s.bavail, Number(bavail), slackBlocks);
  assertAlmostEquals(s.ffree, Number(ffree), 1024);
});

Deno.test("live: size of / equals df -B1, avail within 1 MiB", async () => {
  const df = (await run("df", ["-B1", "--output=size,avail", "/"])).trim().split("\n")[1]
    .trim().split(/\s+/).map(Number);
  const s = await statfs("/");
  assertEquals(s.blocks * s.frsize, df[0]);
  assertAlmostEquals(s.bavail * s.frsize, df[1], MiB);
});

Deno.test("live: statfs of a missing path rejects with a clear message", async () => {
  const err = await assertRejects(
    () => statfs("/no/such/sysmon/path"),
    "statfs failed for /no/such/sysmon/path: no such file or directory",
  );
  assert(err instanceof StatfsError);
  assertEquals((err as StatfsError).path, "/no/such/sysmon/path");
  await assertRejects(() => statfs("/a\0b"), "NUL in path");
});

Deno.test("live: a timer fires while 20 statfs calls are in flight", async () => {
  let settled = 0;
  const calls = Array.from({ length: 20 }, () => statfs("/").finally(() => settled++));
  let fired = false;
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      fired = true;
      resolve();
    }, 0)
  );
  assert(fired);
  const results = await Promise.all(calls);
  assertEquals(settled, 20);
  assert(results.every((r) => r.blocks === results[0].blocks && r.blocks > 0));
  // On a healthy disk these calls return in microseconds, so this cannot show that a *slow* call
  // leaves the loop free; the FUSE test below does, with a mount that never answers.
});

Deno.test("live: without FFI permission statfs fails with a clear message", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--allow-read", THIS_FILE, "--probe", "no-ffi"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert(out.success, new TextDecoder().decode(out.stderr));
  assertEquals(
    stdout.trim(),
    "StatfsUnavailableError: statfs: disk usage needs FFI access to libc; run with --allow-ffi (or -A)",
  );
});

// ---------------------------------------------------------------------------------------------
// A mount that never answers: a FUSE mount whose "daemon" holds /dev/fuse and never reads it.
// Every statfs on it blocks in the kernel until the daemon dies. Needs root, /dev/fuse and a
// private mount namespace (so nothing else on the machine ever sees the mount).

function canHangAMount(): boolean {
  try {
    if (Deno.uid() !== 0) return false;
    Deno.statSync("/dev/fuse");
    return new Deno.Command("unshare", { args: ["-m", "true"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

interface HangReport {
  settledBeforeTimer: number;
  settledAfterWait: number;
  rejectedAfterKill: number;
  reads: { ms: number; errors: string[]; withData: string[] }[];
  mountpoint: string;
  timeout: number;
}

Deno.test({
  name: "live: a hung mount never blocks the loop; the family marks it stuck, then releases it",
  ignore: !canHangAMount(),
  async fn() {
    const out = await new Deno.Command("unshare", {
      args: [
        "-m",
        "--propagation",
        "private",
        Deno.execPath(),
        "run",
        "-A",
        "--no-config",
        THIS_FILE,
        "--probe",
        "hang",
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, `probe failed: ${stderr}`);
    const r = JSON.parse(new TextDecoder().decode(out.stdout)) as HangReport;
    // The timer fired while all 20 calls were blocked in the kernel, and they stayed blocked.
    assertEquals([r.settledBeforeTimer, r.settledAfterWait], [0, 0]);
    assertEquals(r.rejectedAfterKill, 20);

    const [first, second, third] = r.reads;
    // First collection: waits for the timeout once, reports the hung mount, still delivers "/".
    assert(first.ms >= r.timeout * 1000 - 10 && first.ms < r.timeout * 1000 + 700, `${first.ms}`);
    assertEquals(first.errors, [
      `statfs ${r.mountpoint} timed out after ${r.timeout}s; skipping the mount until it answers`,
    ]);
    assert(first.withData.includes("/"));
    // Second: the stuck mount is skipped at once.
    assert(second.ms < 200, `second collection took ${second.ms} ms`);
    assertEquals(second.errors.length, 1);
    assertMatch(second.errors[0], /has not answered since .*; skipped until it answers$/);
    assert(second.withData.includes("/"));
    // After the daemon died the pending call returned (ENOTCONN): no longer stuck, just failing.
    assertEquals(third.errors, [`statfs failed for ${r.mountpoint}`]);
    assert(third.ms < 200, `third collection took ${third.ms} ms`);
  },
});

// ---------------------------------------------------------------------------------------------
// the probes, when this file runs as a script

async function probeNoFfi() {
  try {
    await statfs("/");
    console.log("statfs worked without FFI permission");
  } catch (err) {
    console.log(`${(err as Error).name}: ${(err as Error).message}`);
  }
}

async function probeHang() {
  const timeout = 0.3;
  const dir = Deno.makeTempDirSync({ prefix: "sysmon-hung-" });
  const procfs = Deno.makeTempDirSync({ prefix: "sysmon-proc-" });
  // The daemon: holds /dev/fuse open as fd 3 and never answers; gone in 30 s at the latest.
  const holder = new Deno.Command("bash", {
    args: [
      "-c",
      `exec 3<>/dev/fuse && mount -t fuse -o fd=3,rootmode=40000,user_id=0,group_id=0 ` +
      `sysmon-hung "$1" && echo ready && exec sleep 30`,
      "bash",
      dir,
    ],
    stdout: "piped",
  }).spawn();
  const watchdog = setTimeout(() => {
    holder.kill("SIGKILL");
    Deno.exit(3);
  }, 15_000);
  try {
    const first = await holder.stdout.getReader().read();
    if (!new TextDecoder().decode(first.value).startsWith("ready")) throw new Error("no mount");

    // 1. The event loop stays free while 20 calls hang in the kernel.
    let settled = 0;
    const calls = Array.from(
      { length: 20 },
      () => statfs(dir).then(() => "answered", () => "rejected").finally(() => settled++),
    );
    await new Promise((r) => setTimeout(r, 0));
    const settledBeforeTimer = settled;
    await new Promise((r) => setTimeout(r, 200));
    const settledAfterWait = settled;

    // 2. The family over the real statfs; <procfs>/1 is this process, which sees the mount.
    Deno.symlinkSync(`/proc/${Deno.pid}`, `${procfs}/1`);
    const config = testCollectorsConfig();
    config.filesystem.statfs_timeout = timeout;
    const reader = createFilesystemReader({
      roots: { procfs, sysfs: "/sys", rootfs: "/" },
      config,
      log: memoryLogger(),
      dropped: new Map(),
    });
    const reads: HangReport["reads"] = [];
    const collect = async () => {
      const t0 = performance.now();
      const data = await reader.read();
      reads.push({
        ms: performance.now() - t0,
        errors: data.errors.filter((e) => e.includes(dir)),
        withData: data.mounts.filter((m) => m.stat).map((m) => m.mountpoint),
      });
    };
    await collect();
    await collect();

    // 3. The daemon dies: every pending call returns, the mount is released.
    holder.kill("SIGKILL");
    await holder.status;
    const outcomes = await Promise.all(calls);
    await new Promise((r) => setTimeout(r, 50));
    await collect();

    const report: HangReport = {
      settledBeforeTimer,
      settledAfterWait,
      rejectedAfterKill: outcomes.filter((o) => o === "rejected").length,
      reads,
      mountpoint: dir,
      timeout,
    };
    console.log(JSON.stringify(report));
  } finally {
    clearTimeout(watchdog);
    try {
      holder.kill("SIGKILL");
    } catch { /* already gone */ }
    new Deno.Command("umount", { args: ["-l", dir], stderr: "null" }).outputSync();
    Deno.removeSync(dir);
    Deno.removeSync(procfs, { recursive: true });
  }
}

if (import.meta.main && Deno.args[0] === "--probe") {
  if (Deno.args[1] === "no-ffi") await probeNoFfi();
  else if (Deno.args[1] === "hang") await probeHang();
}
