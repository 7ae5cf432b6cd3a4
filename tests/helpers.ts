/** Shared test helpers: fixture roots and a collector context with an explicit test configuration. */
import type { CollectorContext, CollectorsConfig, Roots } from "../src/collect/types.ts";
import { rootPath } from "../src/collect/procfs.ts";
import { type StatfsFn, type StatfsResult, tableStatfs } from "../src/collect/statfs.ts";
import { memoryLogger } from "../src/log.ts";

export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
export const GOLDEN = new URL("./golden/", import.meta.url).pathname;

/** The fixture shapes (see tests/fixtures/README.md). */
export const SHAPES = [
  "linux-6.18-vm",
  "linux-4.9-old",
  "linux-5.15-hotplug",
  "linux-6.1-container",
];

export function fixtureRoots(shape: string, sub = ""): Roots {
  const base = FIXTURES + shape + (sub ? "/" + sub : "");
  return { procfs: base + "/proc", sysfs: base + "/sys", rootfs: base + "/rootfs" };
}

/** The test configuration, written out here on purpose (not read from config/default.yaml). */
export function testCollectorsConfig(): CollectorsConfig {
  return {
    interval: 10,
    max_entities: 256,
    cpu: { enabled: true, interval: null },
    loadavg: { enabled: true, interval: null },
    meminfo: { enabled: true, interval: null },
    pressure: { enabled: true, interval: null },
    diskstats: { enabled: true, interval: null, include: "", exclude: "^(loop|ram|zram)\\d+$" },
    netdev: { enabled: true, interval: null, include: "", exclude: "^lo$" },
    netclass: { enabled: true, interval: null },
    filesystem: {
      enabled: true,
      interval: 60,
      fstypes_exclude:
        "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
      mountpoints_exclude: "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+)($|/)",
      statfs_timeout: 5,
    },
  };
}

export function testContext(
  roots: Roots,
  patch: (c: CollectorsConfig) => void = () => {},
): CollectorContext & { log: ReturnType<typeof memoryLogger> } {
  const config = testCollectorsConfig();
  patch(config);
  return { roots, config, log: memoryLogger(), dropped: new Map() };
}

/** Compares `actual` with a golden file; UPDATE_GOLDEN=1 rewrites it instead. */
export async function assertGolden(relPath: string, actual: string): Promise<void> {
  const path = GOLDEN + relPath;
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(path);
  } catch {
    throw new Error(`golden file ${relPath} is missing: run with UPDATE_GOLDEN=1 and review it`);
  }
  if (expected !== actual) {
    const { assertEquals } = await import("./assert.ts");
    assertEquals(actual, expected, `output differs from golden ${relPath}`);
  }
}

/** A fake statfs answering from the fixture's statfs.json (mount point → fields). */
export function fixtureStatfs(shape: string, roots: Roots): StatfsFn {
  const json = JSON.parse(Deno.readTextFileSync(`${FIXTURES}${shape}/statfs.json`)) as Record<
    string,
    StatfsResult
  >;
  const table = new Map<string, StatfsResult>();
  for (const [mountpoint, result] of Object.entries(json)) {
    table.set(rootPath(roots, mountpoint), result);
  }
  return tableStatfs(table);
}

/** A loopback port nobody listens on right now (the kernel's pick, closed again at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs `fn` with a fresh temporary directory named `prefix…`, removed afterwards whatever happens. */
export async function withTempDir(
  prefix: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
