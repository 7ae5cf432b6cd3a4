import {
  collapseBindMounts,
  createFilesystemReader,
  dropHiddenMounts,
  type FilesystemData,
  filesystemFamily,
  type MountFilter,
  selectMounts,
  usageRecord,
} from "../src/collect/filesystem.ts";
import {
  decodeOctalEscapes,
  isReadOnly,
  type MountInfo,
  parseMountinfo,
} from "../src/collect/mountinfo.ts";
import { entityFilter, ReadError, rootPath } from "../src/collect/procfs.ts";
import {
  type StatfsFn,
  type StatfsResult,
  StatfsUnavailableError,
  tableStatfs,
} from "../src/collect/statfs.ts";
import type { CollectorContext, Reading } from "../src/collect/types.ts";
import { TextExposition } from "../src/expose/writer.ts";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "./assert.ts";
import {
  assertGolden,
  fixtureRoots,
  FIXTURES,
  fixtureStatfs,
  SHAPES,
  testCollectorsConfig,
  testContext,
} from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// helpers

const reading = (data: FilesystemData): Reading<FilesystemData> => ({ data, mono: 0, wall: 0 });

function expose(data: FilesystemData): string {
  const out = new TextExposition();
  filesystemFamily.expose(data, out);
  return out.text();
}

async function readShape(
  shape: string,
  patch?: Parameters<typeof testContext>[1],
): Promise<{ data: FilesystemData; ctx: ReturnType<typeof testContext> }> {
  const ctx = testContext(fixtureRoots(shape), patch);
  const reader = createFilesystemReader(ctx, fixtureStatfs(shape, ctx.roots));
  return { data: await reader.read(), ctx };
}

const mountpoints = (data: FilesystemData) => data.mounts.map((m) => m.mountpoint);

function defaultFilter(): MountFilter {
  const fs = testCollectorsConfig().filesystem;
  return {
    fstype: entityFilter("", fs.fstypes_exclude),
    mountpoint: entityFilter("", fs.mountpoints_exclude),
  };
}

function mountinfoOf(shape: string, pid = "1"): MountInfo[] {
  const path = `${FIXTURES}${shape}/proc/${pid}/mountinfo`;
  return parseMountinfo(Deno.readTextFileSync(path), path);
}

// ---------------------------------------------------------------------------------------------
// mountinfo parser

Deno.test("mountinfo: the example line of proc.rst parses field by field", () => {
  const [m] = parseMountinfo(
    "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
  );
  assertEquals(m, {
    mountId: 36,
    parentId: 35,
    major: 98,
    minor: 0,
    dev: "98:0",
    root: "/mnt1",
    mountPoint: "/mnt2",
    options: "rw,noatime",
    optional: ["master:1"],
    fstype: "ext3",
    source: "/dev/root",
    superOptions: "rw,errors=continue",
  });
});

Deno.test("mountinfo: zero or several optional fields", () => {
  const mounts = parseMountinfo(
    [
      "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
      "40 22 0:45 / /mnt/a rw shared:5 master:2 propagate_from:2 unbindable - tmpfs tmpfs rw",
      "",
    ].join("\n"),
  );
  assertEquals(mounts.map((m) => m.optional), [[], [
    "shared:5",
    "master:2",
    "propagate_from:2",
    "unbindable",
  ]]);
  assertEquals(mounts[1].fstype, "tmpfs");
  assertEquals(mounts[1].superOptions, "rw");
});

Deno.test("mountinfo: octal escapes decode in root, mount point and source", () => {
  const [m] = parseMountinfo(
    "47 29 259:3 /dir\\040a\\011b /mnt/my\\040disk\\012x rw - ext4 /dev/disk\\134by-label rw",
  );
  assertEquals(m.root, "/dir a\tb");
  assertEquals(m.mountPoint, "/mnt/my disk\nx");
  assertEquals(m.source, "/dev/disk\\by-label");
  // Options are never escaped paths and stay as written.
  assertEquals(m.options, "rw");
});

Deno.test("mountinfo: escapes decode as bytes; a stray backslash stays", () => {
  assertEquals(decodeOctalEscapes("/plain"), "/plain");
  assertEquals(decodeOctalEscapes("/caf\\303\\251"), "/café"); // UTF-8 of é is C3 A9
  assertEquals(decodeOctalEscapes("/a\\x\\04"), "/a\\x\\04"); // not three octal digits
  assertEquals(decodeOctalEscapes("/a\\777b"), "/a\\777b"); // 0777 > 0xff: not a byte
  assertEquals(decodeOctalEscapes("\\134\\134"), "\\\\");
});

Deno.test("mountinfo: malformed lines give an error naming file and line", () => {
  const ok = "22 1 8:1 / / rw - ext4 /dev/sda1 rw";
  assertThrows(
    () => parseMountinfo(`${ok}\n22 1 8:1 / / rw ext4\n`, "/proc/1/mountinfo"),
    "/proc/1/mountinfo: line 2: expected at least 10 fields, found 7",
  );
  assertThrows(
    () => parseMountinfo("22 1 8:1 / / rw shared:1 master:1 ext4 /dev/sda1 rw", "mi"),
    'mi: line 1: no "-" ends the optional fields',
  );
  assertThrows(
    () => parseMountinfo("22 1 8:1 / / rw shared:1 shared:2 - ext4 /dev/sda1", "mi"),
    'mi: line 1: expected fstype, source and super options after "-", found 2',
  );
  assertThrows(
    () => parseMountinfo("22 1 sda1 / / rw - ext4 /dev/sda1 rw", "mi"),
    'mi: line 1: device "sda1" is not major:minor',
  );
  assertThrows(
    () => parseMountinfo("x 1 8:1 / / rw - ext4 /dev/sda1 rw", "mi"),
    'mi: line 1: mount ID "x" is not a non-negative integer',
  );
  assertThrows(
    () => parseMountinfo("0x16 1 8:1 / / rw - ext4 /dev/sda1 rw", "mi"),
    'mi: line 1: mount ID "0x16" is not a non-negative integer',
  );
  assertThrows(
    () => parseMountinfo("22 1 8:b / / rw - ext4 /dev/sda1 rw", "mi"),
    'mi: line 1: minor number "b" is not a non-negative integer',
  );
});

Deno.test("mountinfo: an extra field after the super options is kept, not fatal", () => {
  // A later kernel appending a field must not break parsing of the fields we know.
  const [m] = parseMountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw x - y");
  assertEquals(m.fstype, "ext4");
  assertEquals(m.superOptions, "rw x - y");
});

Deno.test("mountinfo: read-only from the per-mount options", () => {
  assertEquals(
    ["ro", "ro,relatime", "nosuid,ro", "rw,ro,x", "rw", "rw,errors=remount-ro", "rootcontext=x"]
      .map(isReadOnly),
    [true, true, true, true, false, false, false],
  );
});

// ---------------------------------------------------------------------------------------------
// selection: hidden mounts, filters, bind mounts

const mount = (id: number, dev: string, root: string, mountPoint: string): MountInfo => ({
  mountId: id,
  parentId: 1,
  major: Number(dev.split(":")[0]),
  minor: Number(dev.split(":")[1]),
  dev,
  root,
  mountPoint,
  options: "rw",
  optional: [],
  fstype: "ext4",
  source: `/dev/x${id}`,
  superOptions: "rw",
});

Deno.test("selection: a later mount on the same mount point hides the earlier one", () => {
  const kept = dropHiddenMounts([
    mount(1, "8:1", "/", "/"),
    mount(2, "8:17", "/", "/mnt"),
    mount(3, "8:33", "/", "/mnt"),
    mount(4, "8:49", "/", "/srv"),
  ]);
  assertEquals(kept.map((m) => m.mountId), [1, 3, 4]);
});

Deno.test("selection: bind mounts collapse — root '/' first, then the shortest mount point", () => {
  const kept = collapseBindMounts([
    mount(1, "8:1", "/photos", "/p"), // shortest, but only a subdirectory of the filesystem
    mount(2, "8:1", "/", "/srv/disk-alias"),
    mount(3, "8:1", "/", "/mnt/disk"), // whole filesystem and the shortest of those
    mount(4, "8:2", "/a", "/data/long"),
    mount(5, "8:2", "/b", "/data"), // no whole mount: the shortest wins
    mount(6, "8:3", "/", "/x1"),
    mount(7, "8:3", "/", "/x2"), // a tie keeps the earlier
  ]);
  assertEquals(kept.map((m) => m.mountId), [3, 5, 6]);
});

Deno.test("selection: linux-5.15-hotplug — escapes, bind mounts, over-mount, pseudo filesystems", () => {
  const selected = selectMounts(mountinfoOf("linux-5.15-hotplug"), defaultFilter());
  assertEquals(selected.map((m) => m.mountPoint), [
    "/run",
    "/",
    "/run/lock",
    "/boot/efi",
    "/mnt/my disk", // 259:3 also at /p (root /photos) and /srv/disk-alias (longer): collapsed
    "/srv/tab\tdir",
    "/run/user/1000",
    "/run/user/1000/gvfs", // fuse: kept here, dropped later as zero-size
    "/run/user/1000/doc",
    "/mnt/nfs",
    "/mnt/backup", // the later mount (sdc1) that hides sdb1
    "/media/ada/usb\\stick",
  ]);
  const backup = selected.find((m) => m.mountPoint === "/mnt/backup")!;
  assertEquals([backup.source, backup.mountId], ["/dev/sdc1", 58]);
  // /srv/shared is a bind mount of a subdirectory of / (259:2): it collapses into /.
  assertEquals(selected.filter((m) => m.dev === "259:2").map((m) => m.mountPoint), ["/"]);
});

Deno.test("selection: hiding happens before filtering, filtering before collapsing", () => {
  const base = mount(1, "8:1", "/", "/");
  const tmp = { ...mount(2, "0:40", "/", "/srv/x"), fstype: "tmpfs" };
  const overlay = { ...mount(3, "0:41", "/", "/srv/x"), fstype: "overlay" };
  // The tmpfs is hidden by the (excluded) overlay on the same mount point: neither shows.
  assertEquals(selectMounts([base, tmp, overlay], defaultFilter()).map((m) => m.mountId), [1]);
  // A whole-filesystem bind under an excluded path must not stand for its filesystem.
  const docker = mount(4, "8:2", "/", "/var/lib/docker/volumes/v");
  const data = mount(5, "8:2", "/data", "/data");
  assertEquals(selectMounts([docker, data], defaultFilter()).map((m) => m.mountId), [5]);
});

Deno.test("selection: the filters come from the configuration", async () => {
  const { data } = await readShape("linux-4.9-old", (c) => {
    c.filesystem.fstypes_exclude = "";
    c.filesystem.mountpoints_exclude = "^/run";
  });
  // Nothing excluded by type: devtmpfs /dev, /dev/shm and the ro /sys/fs/cgroup tmpfs appear; the
  // zero-size pseudo filesystems still drop out because their statfs says 0 blocks. The autofs
  // mount has no statfs.json entry (statfs would trigger the automount): it stays, as an error.
  assertEquals(mountpoints(data), [
    "/dev",
    "/",
    "/dev/shm",
    "/sys/fs/cgroup",
    "/proc/sys/fs/binfmt_misc",
  ]);
  assertEquals(data.mounts[3].readonly, true);
  assertEquals(data.errors, [
    `statfs failed for ${fixtureRoots("linux-4.9-old").rootfs}/proc/sys/fs/binfmt_misc`,
  ]);
});

// ---------------------------------------------------------------------------------------------
// the reader on the fixture trees

Deno.test("reader: every shape yields its real filesystems and no errors", async () => {
  const expected: Record<string, string[]> = {
    "linux-6.18-vm": ["/", "/mnt/sandboxing/model_tools_env/v1/python"],
    "linux-4.9-old": ["/run", "/", "/run/lock", "/run/user/1000"],
    "linux-5.15-hotplug": [
      "/run",
      "/",
      "/run/lock",
      "/boot/efi",
      "/mnt/my disk",
      "/srv/tab\tdir",
      "/run/user/1000",
      "/mnt/nfs",
      "/mnt/backup",
      "/media/ada/usb\\stick",
    ],
    // overlay / is excluded; five bind mounts of vda1 collapse into /data.
    "linux-6.1-container": ["/data", "/backup", "/tmp"],
  };
  for (const shape of SHAPES) {
    const { data } = await readShape(shape);
    assertEquals(mountpoints(data), expected[shape], shape);
    assertEquals(data.errors, [], shape);
  }
});

Deno.test("reader: zero-size filesystems are left out, as df does", async () => {
  const { data } = await readShape("linux-5.15-hotplug");
  const names = mountpoints(data);
  assert(!names.includes("/run/user/1000/gvfs") && !names.includes("/run/user/1000/doc"));
});

Deno.test("reader: /proc/1/mountinfo unreadable → /proc/self/mountinfo, remembered", async () => {
  const { data, ctx } = await readShape("linux-6.1-container");
  assertEquals(data.mounts[0].device, "/dev/vda1");
  assertStringIncludes(ctx.log.lines.join("\n"), "1/mountinfo");
  assertStringIncludes(ctx.log.lines.join("\n"), "self/mountinfo instead");

  // A private tree: init's file fails at first, then becomes readable with different content.
  // The reader keeps using /proc/self: a file that failed is not re-opened every tick.
  const tmp = Deno.makeTempDirSync({ prefix: "sysmon-fs-" });
  try {
    Deno.mkdirSync(`${tmp}/proc/1/mountinfo`, { recursive: true });
    Deno.mkdirSync(`${tmp}/proc/self`, { recursive: true });
    Deno.writeTextFileSync(`${tmp}/proc/self/mountinfo`, "1 0 8:1 / / rw - ext4 /dev/self rw\n");
    const roots = { procfs: `${tmp}/proc`, sysfs: `${tmp}/sys`, rootfs: "/" };
    const fake = tableStatfs(
      new Map([["/", { blocks: 10, bfree: 5, bavail: 4, frsize: 4096, files: 8, ffree: 4 }]]),
    );
    const reader = createFilesystemReader(testContext(roots), fake);
    assertEquals((await reader.read()).mounts[0].device, "/dev/self");
    Deno.removeSync(`${tmp}/proc/1/mountinfo`, { recursive: true });
    Deno.writeTextFileSync(`${tmp}/proc/1/mountinfo`, "1 0 8:2 / / rw - ext4 /dev/init rw\n");
    assertEquals((await reader.read()).mounts[0].device, "/dev/self");
    // A fresh reader prefers init's view again.
    const fresh = createFilesystemReader(testContext(roots), fake);
    assertEquals((await fresh.read()).mounts[0].device, "/dev/init");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("reader: no mountinfo at all fails the family with the file named", async () => {
  const tmp = Deno.makeTempDirSync({ prefix: "sysmon-fs-" });
  try {
    const roots = { procfs: tmp, sysfs: tmp, rootfs: "/" };
    const reader = createFilesystemReader(testContext(roots), tableStatfs(new Map()));
    const err = await assertRejects(() => reader.read(), `cannot read ${tmp}/self/mountinfo`);
    assert(err instanceof ReadError);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("reader: statfs runs on the mount point under --rootfs", async () => {
  const ctx = testContext(fixtureRoots("linux-4.9-old"));
  const asked: string[] = [];
  const fake: StatfsFn = (path) => {
    asked.push(path);
    return Promise.resolve({ blocks: 1, bfree: 1, bavail: 1, frsize: 4096, files: 1, ffree: 1 });
  };
  await createFilesystemReader(ctx, fake).read();
  assertEquals(
    asked,
    ["/run", "/", "/run/lock", "/run/user/1000"].map((p) => ctx.roots.rootfs + p),
  );
});

Deno.test("reader: max_entities keeps the first mounts and counts the rest", async () => {
  const { data, ctx } = await readShape("linux-5.15-hotplug", (c) => (c.max_entities = 3));
  assertEquals(mountpoints(data), ["/run", "/", "/run/lock"]);
  // 12 selected mounts (zero-size ones are only known after statfs) − 3 kept = 9 cut.
  assertEquals(ctx.dropped.get("filesystem"), 9);
});

Deno.test("reader: a failing statfs is an error for that mount only", async () => {
  const ctx = testContext(fixtureRoots("linux-4.9-old"));
  const good = fixtureStatfs("linux-4.9-old", ctx.roots);
  const fake: StatfsFn = (path) =>
    path.endsWith("/run/lock") ? Promise.reject(new Error("EIO")) : good(path);
  const data = await createFilesystemReader(ctx, fake).read();
  assertEquals(data.errors, [`statfs failed for /run/lock: EIO`]);
  assertEquals(mountpoints(data), ["/run", "/", "/run/lock", "/run/user/1000"]);
  const lock = data.mounts[2];
  assertEquals(lock.stat, null);
  const record = usageRecord(lock);
  assertEquals([record.filesystem_size, record.filesystem_usage_percent], [null, null]);
  assertEquals([record.device, record.fstype, record.filesystem_readonly], ["tmpfs", "tmpfs", 0]);
  const prom = expose(data);
  assertStringIncludes(
    prom,
    'node_filesystem_device_error{device="tmpfs",fstype="tmpfs",mountpoint="/run/lock"} 1\n',
  );
  assertStringIncludes(
    prom,
    'node_filesystem_device_error{device="/dev/sda1",fstype="ext4",mountpoint="/"} 0\n',
  );
  assert(
    !prom.includes(
      'node_filesystem_size_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run/lock"}',
    ),
  );
});

Deno.test("reader: a statfs that cannot run at all fails the family once, clearly", async () => {
  const ctx = testContext(fixtureRoots("linux-4.9-old"));
  const fake: StatfsFn = () =>
    Promise.reject(new StatfsUnavailableError("statfs: disk usage needs FFI access"));
  await assertRejects(() => createFilesystemReader(ctx, fake).read(), "needs FFI access");
});

// ---------------------------------------------------------------------------------------------
// stuck mounts

Deno.test("reader: a hung statfs marks the mount stuck; it is skipped until the call returns", async () => {
  const ctx = testContext(fixtureRoots("linux-5.15-hotplug"), (c) => {
    c.filesystem.statfs_timeout = 0.2;
  });
  const table = fixtureStatfs("linux-5.15-hotplug", ctx.roots);
  const nfsPath = rootPath(ctx.roots, "/mnt/nfs");
  const hung = Promise.withResolvers<StatfsResult>();
  let nfsCalls = 0;
  const fake: StatfsFn = (path) => {
    if (path !== nfsPath) return table(path);
    nfsCalls++;
    return hung.promise; // an NFS server that went away
  };
  const reader = createFilesystemReader(ctx, fake);

  // 1st collection: waits the timeout once, reports the mount, delivers all the others.
  let t0 = performance.now();
  const first = await reader.read();
  const firstMs = performance.now() - t0;
  assert(firstMs >= 190 && firstMs < 1000, `first collection took ${firstMs} ms`);
  assertEquals(first.errors, [
    "statfs /mnt/nfs timed out after 0.2s; skipping the mount until it answers",
  ]);
  assertEquals(first.mounts.filter((m) => m.stat === null).map((m) => m.mountpoint), ["/mnt/nfs"]);
  assertEquals(first.mounts.length, 10);
  assertStringIncludes(
    expose(first),
    'node_filesystem_device_error{device="fileserver:/export/home",fstype="nfs4",mountpoint="/mnt/nfs"} 1',
  );

  // 2nd collection: the stuck mount is skipped at once (no second call piles up behind the first).
  t0 = performance.now();
  const second = await reader.read();
  const secondMs = performance.now() - t0;
  assert(secondMs < 100, `second collection took ${secondMs} ms`);
  assertEquals(nfsCalls, 1);
  assertEquals(second.errors.length, 1);
  assertMatch(
    second.errors[0],
    /^statfs \/mnt\/nfs has not answered since \d{4}-\d\d-\d\dT[\d:.]+Z; skipped until it answers$/,
  );
  assertEquals(second.mounts.find((m) => m.mountpoint === "/mnt/nfs")?.stat, null);

  // The server comes back: the pending call settles, and the next collection asks again.
  hung.resolve(await table(nfsPath));
  await new Promise((r) => setTimeout(r, 0));
  const third = await reader.read();
  assertEquals(nfsCalls, 2);
  assertEquals(third.errors, []);
  // 953674 blocks × 1 MiB fundamental block size
  assertEquals(
    usageRecord(third.mounts.find((m) => m.mountpoint === "/mnt/nfs")!).filesystem_size,
    953674 * 1048576,
  );
  const log = ctx.log.lines.join("\n");
  assertStringIncludes(log, "statfs /mnt/nfs is stuck; skipping it until it answers");
  assertStringIncludes(log, "statfs /mnt/nfs answered again");
});

Deno.test("reader: a stuck call that finally fails also releases the mount", async () => {
  const ctx = testContext(
    fixtureRoots("linux-4.9-old"),
    (c) => (c.filesystem.statfs_timeout = 0.05),
  );
  const table = fixtureStatfs("linux-4.9-old", ctx.roots);
  const hung = Promise.withResolvers<StatfsResult>();
  const fake: StatfsFn = (path) => (path.endsWith("/run/lock") ? hung.promise : table(path));
  const reader = createFilesystemReader(ctx, fake);
  assertEquals((await reader.read()).errors.length, 1);
  hung.reject(new Error("ENOTCONN"));
  await new Promise((r) => setTimeout(r, 0));
  // Released: the next collection calls statfs again (and gets the fake's rejection at once).
  const next = await reader.read();
  assertEquals(next.errors, ["statfs failed for /run/lock: ENOTCONN"]);
});

// ---------------------------------------------------------------------------------------------
// model metrics and exposition

async function recordOf(shape: string, mountpoint: string) {
  const { data } = await readShape(shape);
  const part = filesystemFamily.derive(undefined, reading(data));
  const rec = part.filesystems?.[mountpoint];
  assert(rec, `${shape}: no record for ${mountpoint}`);
  return rec;
}

Deno.test("derive: / of linux-6.18-vm matches df by hand", async () => {
  const r = await recordOf("linux-6.18-vm", "/");
  // statfs.json: blocks 66053021, bfree 60256639, bavail 20801346, frsize 4096,
  //              files 16777216, ffree 16369351
  assertEquals(r.device, "/dev/vda");
  assertEquals(r.fstype, "ext4");
  assertEquals(r.filesystem_size, 270553174016); // 66053021 × 4096
  assertEquals(r.filesystem_used, 23741980672); // (66053021 − 60256639) = 5796382 × 4096
  assertEquals(r.filesystem_free, 246811193344); // 60256639 × 4096
  assertEquals(r.filesystem_available, 85202313216); // 20801346 × 4096
  // 5796382 / (5796382 + 20801346) × 100 = 21.7927…; df prints 22%
  assertAlmostEquals(r.filesystem_usage_percent as number, 21.792771, 1e-6);
  assertEquals(r.filesystem_inodes_total, 16777216);
  assertEquals(r.filesystem_inodes_used, 407865); // 16777216 − 16369351
  assertEquals(r.filesystem_inodes_free, 16369351);
  // 407865 / 16777216 × 100 = 2.43106…
  assertAlmostEquals(r.filesystem_inodes_usage_percent as number, 2.431065, 1e-6);
  assertEquals(r.filesystem_readonly, 0);
});

Deno.test("derive: odd block sizes, no inodes, read-only", async () => {
  const nfs = await recordOf("linux-5.15-hotplug", "/mnt/nfs");
  // frsize 1 MiB: 953674 × 1048576; used (953674 − 512345) = 441329 blocks
  assertEquals(nfs.filesystem_size, 999999668224);
  assertEquals(nfs.filesystem_used, 441329 * 1048576);
  // 441329 / (441329 + 463123) × 100 = 48.7951…
  assertAlmostEquals(nfs.filesystem_usage_percent as number, 48.795182, 1e-6);

  const efi = await recordOf("linux-5.15-hotplug", "/boot/efi");
  // vfat reports 0 inodes: usage 0, not NaN
  assertEquals(
    [efi.filesystem_inodes_total, efi.filesystem_inodes_used, efi.filesystem_inodes_usage_percent],
    [0, 0, 0],
  );
  const backup = await recordOf("linux-5.15-hotplug", "/mnt/backup");
  assertEquals([backup.device, backup.filesystem_readonly], ["/dev/sdc1", 1]);
  // A read-only bind mount of a read-write filesystem: the mount options decide.
  const ro = await recordOf("linux-6.1-container", "/backup");
  assertEquals(ro.filesystem_readonly, 1);
});

Deno.test("derive: everything reserved for root gives no usage % (df prints '-')", () => {
  const rec = usageRecord({
    mountpoint: "/full",
    device: "/dev/x",
    fstype: "ext4",
    readonly: false,
    stat: { blocks: 100, bfree: 0, bavail: 0, frsize: 4096, files: 10, ffree: 10 },
  });
  // used = 100, avail = 0 → 100 %; and bfree = blocks with bavail 0 → used + avail = 0 → null.
  assertEquals(rec.filesystem_usage_percent, 100);
  const reserved = usageRecord({
    mountpoint: "/r",
    device: "/dev/x",
    fstype: "ext4",
    readonly: false,
    stat: { blocks: 100, bfree: 100, bavail: 0, frsize: 4096, files: 10, ffree: 10 },
  });
  assertEquals(reserved.filesystem_usage_percent, null);
});

Deno.test("defs: one entry per model key of a record", async () => {
  const rec = await recordOf("linux-6.18-vm", "/");
  assertEquals(Object.keys(rec).sort(), filesystemFamily.defs.map((d) => d.name).sort());
  assert(filesystemFamily.defs.every((d) => d.scope === "filesystems" && d.formula && d.help));
});

Deno.test("golden: derive and expose for every fixture shape", async () => {
  for (const shape of SHAPES) {
    const { data } = await readShape(shape);
    const part = filesystemFamily.derive(undefined, reading(data));
    await assertGolden(`${shape}/filesystem.json`, JSON.stringify(part, null, 2) + "\n");
    await assertGolden(`${shape}/filesystem.prom`, expose(data));
  }
});

Deno.test("family: create() builds a reader over the real statfs", () => {
  const ctx: CollectorContext = testContext(fixtureRoots("linux-4.9-old"));
  const reader = filesystemFamily.create(ctx);
  assertEquals(typeof reader.read, "function");
  assertEquals(filesystemFamily.name, "filesystem");
});
