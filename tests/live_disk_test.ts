/**
 * Live cross-check: sysmon's disk rates against sysstat's `iostat -x` over the same window, on the
 * disk that holds a scratch file this test keeps writing to (4 KiB O_DIRECT writes, one in flight,
 * back to back: a steady load, so a few ms of misalignment between the two windows is invisible).
 *
 * Needs sysstat (iostat) and a directory on a block device: /var/tmp, or SYSMON_LIVE_DISK_DIR.
 */
import { diskstatsFamily } from "../src/collect/diskstats.ts";
import { Sampler } from "../src/core/sampler.ts";
import { assert, assertEquals } from "./assert.ts";
import { testContext } from "./helpers.ts";
import {
  type Check,
  compare,
  type IostatRow,
  measureAlongside,
  parseIostatJson,
  parseIostatText,
  requireCommand,
  run,
  sleep,
  sysstatEnv,
} from "./live_util.ts";

/** Length of the shared window; iostat's interval is whole seconds. */
const WINDOW_SECONDS = 4;
/** The scratch file is small and overwritten in place: the load moves no free space (df tests). */
const FILE_MIB = 8;
const BLOCK = 4096;

// ----------------------------------------------------------------------------------------------
// The disk under a directory

/** Linux dev_t → major:minor (glibc's encoding: 12+20 bits of major, 20 bits of minor, split). */
function devNumbers(dev: number): [major: number, minor: number] {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return [Number(major), Number(minor)];
}

/** The kernel name of the whole disk holding `dir` (the parent of a partition), via /sys/dev/block. */
function wholeDiskOf(dir: string): string {
  const [major, minor] = devNumbers(Deno.statSync(dir).dev);
  const hint = "set SYSMON_LIVE_DISK_DIR to a directory on a disk-backed filesystem";
  if (major === 0) {
    throw new Error(
      `${dir} is on a filesystem without a block device (${major}:${minor}); ${hint}`,
    );
  }
  let path: string;
  try {
    path = Deno.realPathSync(`/sys/dev/block/${major}:${minor}`);
  } catch {
    throw new Error(`${dir}: /sys/dev/block/${major}:${minor} does not exist; ${hint}`);
  }
  let isPartition = false;
  try {
    isPartition = Deno.statSync(`${path}/partition`).isFile;
  } catch {
    // a whole disk has no `partition` file
  }
  const disk = isPartition ? path.slice(0, path.lastIndexOf("/")) : path;
  // sysfs writes a '/' in a kernel name (cciss/c0d0) as '!'.
  return disk.slice(disk.lastIndexOf("/") + 1).replaceAll("!", "/");
}

// ----------------------------------------------------------------------------------------------
// The load

/**
 * Keeps overwriting `file` with 4 KiB O_DIRECT writes (dd, one write in flight, so the rate is as
 * steady as the device) until stop(); a hard deadline bounds it if the test dies in between.
 */
function startDiskLoad(file: string, maxSeconds: number) {
  const blocks = FILE_MIB * 1024 * 1024 / BLOCK;
  const deadline = performance.now() + maxSeconds * 1000;
  let stopping = false;
  let current: Deno.ChildProcess | undefined;
  let runs = 0;
  const loop = (async () => {
    while (!stopping && performance.now() < deadline) {
      current = new Deno.Command("dd", {
        args: [
          "if=/dev/zero",
          `of=${file}`,
          `bs=${BLOCK}`,
          `count=${blocks}`,
          "oflag=direct",
          "conv=notrunc",
          "status=none",
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const out = await current.output();
      if (!out.success && !stopping) {
        throw new Error(`dd (disk load) failed: ${new TextDecoder().decode(out.stderr).trim()}`);
      }
      runs++;
    }
  })();
  return {
    /** Resolves once one full pass over the file has completed (the load is under way). */
    async warmedUp() {
      while (runs === 0) {
        await Promise.race([loop, sleep(10)]);
        if (performance.now() > deadline) throw new Error("disk load did not start");
      }
    },
    async stop() {
      stopping = true;
      try {
        current?.kill("SIGTERM");
      } catch {
        // already exited
      }
      await loop;
    },
  };
}

// ----------------------------------------------------------------------------------------------
// iostat

async function iostatSpeaksJson(device: string): Promise<boolean> {
  try {
    parseIostatJson(
      await run("iostat", ["-d", "-x", "-k", "-o", "JSON", device], sysstatEnv()),
      device,
    );
    return true;
  } catch {
    return false;
  }
}

/** sysmon's disk metrics against iostat's columns; units: sysmon bytes/seconds, iostat kB (1024) and ms. */
function diskChecks(m: Record<string, number | string | null>, io: IostatRow): Check[] {
  const num = (k: string) => m[k] as number | null;
  const ms = (k: string) => (m[k] === null ? null : (m[k] as number) * 1000);
  return [
    // Floor 16 KiB/s: iostat prints kB/s with two decimals, and the machine's own background writes
    // (journal commits of a few pages) falling into the few ms by which the windows differ move the
    // rate by a few kB/s — irrelevant against the load's tens of MB/s, relevant only if it is tiny.
    {
      metric: "write bytes/s",
      sysmon: num("disk_write_bytes_per_second"),
      sysstat: io["wkB/s"] * 1024,
      rel: 0.05,
      floor: 16 * 1024,
      unit: "B/s",
    },
    // Floor 4 writes/s: the same background writes, a handful of requests at the window edges.
    {
      metric: "writes/s",
      sysmon: num("disk_writes_per_second"),
      sysstat: io["w/s"],
      rel: 0.05,
      floor: 4,
      unit: "1/s",
    },
    // Floor 2 points: io_ticks advance in jiffies (4 ms at HZ=250), so each end of a window of
    // 4 s may differ by a jiffy or two of busy time (0.1–0.2 points) plus iostat's 0.01 rounding.
    {
      metric: "util",
      sysmon: num("disk_util_percent"),
      sysstat: io["util"],
      rel: 0.05,
      floor: 2,
      unit: "%",
    },
    // Floor 0.01 ms: 4 KiB writes on a fast device complete in tens of µs, and iostat prints
    // w_await in ms with two decimals (a true 0.025 prints as 0.02 or 0.03): a relative bound on
    // such a value means nothing, twice the printing step does.
    {
      metric: "write await",
      sysmon: ms("disk_write_await_seconds"),
      sysstat: io["w_await"],
      rel: 0.05,
      floor: 0.01,
      unit: "ms",
    },
    // Floor 0.02: aqu-sz is printed with two decimals and is near 1 with one write in flight.
    {
      metric: "queue size",
      sysmon: num("disk_queue_size"),
      sysstat: io["aqu-sz"],
      rel: 0.05,
      floor: 0.02,
      unit: "",
    },
  ];
}

// ----------------------------------------------------------------------------------------------
// Tests

Deno.test("devNumbers decodes glibc's dev_t (small and large majors/minors)", () => {
  // 254:0 → 254 << 8 = 65024; 8:17 → (8 << 8) | 17 = 2065.
  assertEquals(devNumbers(65024), [254, 0]);
  assertEquals(devNumbers(2065), [8, 17]);
  // 259:300 → minor low 8 bits 300 & 0xff = 44, high bits (300 >> 8) << 20 = 1 << 20:
  // (259 << 8) | 44 | (1 << 20) = 66304 + 44 + 1048576 = 1114924.
  assertEquals(devNumbers(1114924), [259, 300]);
});

Deno.test("parseIostatJson / parseIostatText read the same report (captured on the test VM)", () => {
  const json = `{"sysstat": {"hosts": [{"nodename": "vm", "statistics": [
    {"disk": [{"disk_device": "vda", "r/s": 0.00, "w/s": 30154.00, "wkB/s": 120616.00,
      "w_await": 0.03, "aqu-sz": 0.76, "util": 67.60}]}]}]}}`;
  const text = `Linux 6.18.44 (vm) \t11/26/26 \t_x86_64_\t(2 CPU)

Device            r/s     rkB/s   w/s     wkB/s w_await  aqu-sz  %util
vda              0.00      0.00 30154.00 120616.00    0.03    0.76  67.60
`;
  const expected = { "w/s": 30154, "wkB/s": 120616, "w_await": 0.03, "aqu-sz": 0.76, "util": 67.6 };
  const j = parseIostatJson(json, "vda");
  const t = parseIostatText(text, "vda");
  for (const [k, v] of Object.entries(expected)) {
    assertEquals(j[k], v, `json ${k}`);
    assertEquals(t[k], v, `text ${k}`);
  }
});

Deno.test("compare: 5 % or the floor, whichever is larger", () => {
  const base = { rel: 0.05, unit: "" };
  // 104 vs 100: |4| ≤ max(5, 1) → ok; 106 vs 100: 6 > 5 → fails; 0.5 vs 0: 0.5 ≤ floor 1 → ok.
  const failures = compare("compare self-test", [
    { ...base, metric: "ok", sysmon: 104, sysstat: 100, floor: 1 },
    { ...base, metric: "too far", sysmon: 106, sysstat: 100, floor: 1 },
    { ...base, metric: "tiny", sysmon: 0.5, sysstat: 0, floor: 1 },
    { ...base, metric: "missing", sysmon: null, sysstat: 0, floor: 1 },
  ]);
  assertEquals(failures.length, 2);
  assert(failures[0].startsWith("too far") && failures[1].startsWith("missing"));
});

Deno.test({
  name: "live: disk write rates, util, await and queue size agree with iostat -x over one window",
  async fn() {
    requireCommand("iostat", "sysstat");
    requireCommand("dd", "coreutils");
    const base = Deno.env.get("SYSMON_LIVE_DISK_DIR") ?? "/var/tmp";
    const dir = await Deno.makeTempDir({ dir: base, prefix: "sysmon-live-disk-" });
    try {
      const device = wholeDiskOf(dir);
      const file = `${dir}/load`;
      // Written once through the page cache and synced, so the timed writes are plain overwrites
      // of allocated blocks (no allocation or unwritten-extent conversion in the window).
      await run("dd", [
        "if=/dev/zero",
        `of=${file}`,
        "bs=1M",
        `count=${FILE_MIB}`,
        "conv=fsync",
        "status=none",
      ]);
      const json = await iostatSpeaksJson(device);

      const name = device.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const ctx = testContext({ procfs: "/proc", sysfs: "/sys", rootfs: "/" }, (c) => {
        c.diskstats.include = `^${name}$`;
        c.diskstats.exclude = ""; // the disk may be a loop device in a container
      });
      const sampler = new Sampler({ families: [diskstatsFamily], ctx, host: "live" });

      const load = startDiskLoad(file, WINDOW_SECONDS + 8);
      let window;
      try {
        await load.warmedUp();
        window = await measureAlongside(sampler, "iostat", [
          "-d",
          "-x",
          "-k",
          "-y",
          ...(json ? ["-o", "JSON"] : []),
          device,
          String(WINDOW_SECONDS),
          "1",
        ]);
      } finally {
        await load.stop();
      }

      const io = json
        ? parseIostatJson(window.stdout, device)
        : parseIostatText(window.stdout, device);
      const disk = window.sample.disks[device];
      assert(disk, `sysmon has no disk ${device}: ${Object.keys(window.sample.disks).join(", ")}`);
      assertEquals(window.sample.errors, []);
      // The load must be there, or agreeing on zero would prove nothing.
      assert(io["w/s"] > 1000, `iostat saw only ${io["w/s"]} writes/s on ${device}: no load?`);

      const failures = compare(
        `disk ${device}, sysmon window ${
          window.seconds.toFixed(3)
        } s vs iostat ${WINDOW_SECONDS} s`,
        diskChecks(disk, io),
      );
      assertEquals(failures, [], "sysmon and iostat disagree beyond the tolerance");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
