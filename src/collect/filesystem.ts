/**
 * The `filesystem` family: disk usage of every real filesystem, as df shows it.
 *
 * Mounts come from <procfs>/1/mountinfo (init's view, the host's when sysmon runs in a container with
 * the host's PID namespace), or <procfs>/self/mountinfo when that cannot be read. Pseudo filesystems
 * and excluded mount points are dropped, a mount hidden by a later mount on the same mount point is
 * dropped, and bind mounts of one filesystem collapse into one entry. statfs runs for all mounts at
 * once, off the event loop; a mount that does not answer within `statfs_timeout` is marked stuck and
 * skipped (with an error each time) until its pending call returns.
 */
import type { EntityPart, MetricDef } from "../core/model.ts";
import type { Labels } from "../expose/writer.ts";
import { limitEntities } from "./limit.ts";
import { isReadOnly, type MountInfo, parseMountinfo } from "./mountinfo.ts";
import { entityFilter, procPath, ReadError, readText, rootPath } from "./procfs.ts";
import {
  statfs as realStatfs,
  StatfsError,
  type StatfsFn,
  type StatfsResult,
  StatfsUnavailableError,
} from "./statfs.ts";
import type { CollectorContext, Family, PartialErrors, Reader } from "./types.ts";

/** One filesystem as read: where, what, and its statfs (null when statfs failed or is stuck). */
export interface MountUsage {
  mountpoint: string;
  /** Mount source, e.g. "/dev/sda1" or "server:/export". */
  device: string;
  fstype: string;
  readonly: boolean;
  stat: StatfsResult | null;
}

export interface FilesystemData extends PartialErrors {
  mounts: MountUsage[];
  errors: string[];
}

// ---------------------------------------------------------------------------------------------
// Pure selection: which mounts to report

export interface MountFilter {
  fstype: (fstype: string) => boolean;
  mountpoint: (mountpoint: string) => boolean;
}

/** Drops every mount that a later mount on the same mount point hides (the kernel lists in order). */
export function dropHiddenMounts(mounts: MountInfo[]): MountInfo[] {
  const last = new Map<string, number>();
  for (let i = 0; i < mounts.length; i++) last.set(mounts[i].mountPoint, i);
  return mounts.filter((m, i) => last.get(m.mountPoint) === i);
}

/** Is `a` a better representative of its filesystem than `b`? Whole filesystem first, then shorter path. */
function preferred(a: MountInfo, b: MountInfo): boolean {
  const aWhole = a.root === "/";
  const bWhole = b.root === "/";
  if (aWhole !== bWhole) return aWhole;
  return a.mountPoint.length < b.mountPoint.length;
}

/**
 * Keeps one mount per filesystem (same major:minor): the one mounting the filesystem's root ("/"),
 * then the shortest mount point, then the earliest. Output stays in mountinfo order.
 */
export function collapseBindMounts(mounts: MountInfo[]): MountInfo[] {
  const best = new Map<string, MountInfo>();
  for (const m of mounts) {
    const cur = best.get(m.dev);
    if (!cur || preferred(m, cur)) best.set(m.dev, m);
  }
  return mounts.filter((m) => best.get(m.dev) === m);
}

/** Hidden mounts out, excluded fstypes/mount points out, bind mounts collapsed — in that order. */
export function selectMounts(mounts: MountInfo[], filter: MountFilter): MountInfo[] {
  // Hidden first: a tmpfs under an (excluded) overlay is still invisible. Filter before collapsing:
  // a bind mount under an excluded path must not become the one representative of its filesystem.
  const visible = dropHiddenMounts(mounts);
  const wanted = visible.filter((m) => filter.fstype(m.fstype) && filter.mountpoint(m.mountPoint));
  return collapseBindMounts(wanted);
}

// ---------------------------------------------------------------------------------------------
// Reader: mountinfo, then statfs of every selected mount with a bounded wait

/** Where mountinfo is read from: init's view first, our own when init's cannot be read. */
function mountinfoSource(ctx: CollectorContext) {
  const init = procPath(ctx.roots, "/1/mountinfo");
  const self = procPath(ctx.roots, "/self/mountinfo");
  let initFails = false;
  return (): { path: string; text: string } => {
    if (!initFails) {
      try {
        return { path: init, text: readText(init) };
      } catch (err) {
        if (!(err instanceof ReadError)) throw err;
        // Remembered, so a file that always fails is not re-opened every tick.
        initFails = true;
        ctx.log.info(`filesystem: ${err.message}; using ${self} instead`, {
          collector: "filesystem",
        });
      }
    }
    return { path: self, text: readText(self) };
  };
}

const formatSeconds = (s: number) => `${Number(s.toFixed(3))}s`;

/** Resolves true when `work` settles within `ms`, false otherwise; the timer never outlives it. */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([work.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

/** The per-mount error line. */
function failureMessage(mountpoint: string, err: unknown): string {
  if (err instanceof StatfsError) return err.message;
  return `statfs failed for ${mountpoint}: ${err instanceof Error ? err.message : String(err)}`;
}

type Outcome = { stat: StatfsResult } | { error: unknown } | undefined;

/** The reader with its state: the last mountinfo text and its selection, and the stuck mounts. */
export function createFilesystemReader(
  ctx: CollectorContext,
  statfs: StatfsFn = realStatfs,
): Reader<FilesystemData> {
  const cfg = ctx.config.filesystem;
  const filter: MountFilter = {
    fstype: entityFilter("", cfg.fstypes_exclude),
    mountpoint: entityFilter("", cfg.mountpoints_exclude),
  };
  const readMountinfo = mountinfoSource(ctx);
  let lastText: string | undefined;
  let selected: MountInfo[] = [];
  /** Mount point → when its statfs was found stuck; removed when the pending call settles. */
  const stuck = new Map<string, Date>();
  const timeoutMs = cfg.statfs_timeout * 1000;

  function mounts(): MountInfo[] {
    const { path, text } = readMountinfo();
    // Mounts rarely change: parse and select only when the text does.
    if (text !== lastText) {
      selected = selectMounts(parseMountinfo(text, path), filter);
      lastText = text;
    }
    return limitEntities(ctx, "filesystem", selected);
  }

  function markStuck(mountpoint: string, call: Promise<unknown>) {
    stuck.set(mountpoint, new Date());
    ctx.log.warn(`filesystem: statfs ${mountpoint} is stuck; skipping it until it answers`, {
      collector: "filesystem",
    });
    const release = () => {
      stuck.delete(mountpoint);
      ctx.log.info(`filesystem: statfs ${mountpoint} answered again`, { collector: "filesystem" });
    };
    call.then(release, release);
  }

  return {
    async read(): Promise<FilesystemData> {
      const list = mounts();
      const outcomes: Outcome[] = new Array(list.length);
      const calls: (Promise<void> | undefined)[] = new Array(list.length);
      for (let i = 0; i < list.length; i++) {
        if (stuck.has(list[i].mountPoint)) continue;
        calls[i] = statfs(rootPath(ctx.roots, list[i].mountPoint)).then(
          (stat) => void (outcomes[i] = { stat }),
          (error) => void (outcomes[i] = { error }),
        );
      }
      const started = calls.filter((c) => c !== undefined);
      if (started.length > 0) await settlesWithin(Promise.all(started), timeoutMs);
      // No statfs at all (no FFI permission, no libc) fails the family with one clear message.
      for (const o of outcomes) {
        if (o && "error" in o && o.error instanceof StatfsUnavailableError) throw o.error;
      }

      const result: MountUsage[] = [];
      const errors: string[] = [];
      for (let i = 0; i < list.length; i++) {
        const m = list[i];
        const outcome = outcomes[i];
        const usage: MountUsage = {
          mountpoint: m.mountPoint,
          device: m.source,
          fstype: m.fstype,
          readonly: isReadOnly(m.options),
          stat: null,
        };
        if (outcome && "stat" in outcome) {
          if (outcome.stat.blocks === 0) continue; // zero-size (pseudo) filesystem: df leaves it out
          usage.stat = outcome.stat;
        } else if (outcome) {
          errors.push(failureMessage(m.mountPoint, outcome.error));
        } else if (calls[i]) {
          markStuck(m.mountPoint, calls[i]!);
          errors.push(
            `statfs ${m.mountPoint} timed out after ${formatSeconds(cfg.statfs_timeout)}; ` +
              `skipping the mount until it answers`,
          );
        } else {
          const since = stuck.get(m.mountPoint)!.toISOString();
          errors.push(
            `statfs ${m.mountPoint} has not answered since ${since}; skipped until it answers`,
          );
        }
        result.push(usage);
      }
      return { mounts: result, errors };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Model metrics

const SOURCE = "/proc/1/mountinfo (or /proc/self/mountinfo), statfs(2)";

const def = (
  name: string,
  unit: MetricDef["unit"],
  formula: string,
  help: string,
  kind: MetricDef["kind"] = "gauge",
): MetricDef => ({ name, scope: "filesystems", unit, kind, source: SOURCE, formula, help });

export const defs: MetricDef[] = [
  def("device", "label", "mount source (mountinfo field 10)", "Device or source mounted", "label"),
  def("fstype", "label", "filesystem type (mountinfo field 9)", "Filesystem type", "label"),
  def("filesystem_size", "bytes", "f_blocks × f_frsize", "Total size of the filesystem"),
  def(
    "filesystem_used",
    "bytes",
    "(f_blocks − f_bfree) × f_frsize",
    "Space in use, including space reserved for root (df's Used)",
  ),
  def(
    "filesystem_free",
    "bytes",
    "f_bfree × f_frsize",
    "Free space, including space reserved for root",
  ),
  def(
    "filesystem_available",
    "bytes",
    "f_bavail × f_frsize",
    "Space available to unprivileged users (df's Avail)",
  ),
  def(
    "filesystem_usage_percent",
    "percent",
    "used / (used + available) × 100, unrounded (df prints it rounded up); " +
      "null when used + available is 0",
    "Share of the space usable by unprivileged users that is in use (df's Use%)",
  ),
  def("filesystem_inodes_total", "count", "f_files", "Total inodes"),
  def("filesystem_inodes_used", "count", "f_files − f_ffree", "Inodes in use"),
  def("filesystem_inodes_free", "count", "f_ffree", "Free inodes"),
  def(
    "filesystem_inodes_usage_percent",
    "percent",
    "inodes used / inodes total × 100; 0 when the filesystem reports no inodes (vfat, btrfs…)",
    "Share of inodes in use (df -i's IUse%)",
  ),
  def(
    "filesystem_readonly",
    "count",
    '1 when the mount options contain "ro", else 0',
    "Whether the filesystem is mounted read-only",
  ),
];

const NULL_USAGE: Record<string, null> = Object.fromEntries(
  defs.filter((d) => d.kind !== "label" && d.name !== "filesystem_readonly").map((
    d,
  ) => [d.name, null]),
);

/** Model record of one filesystem; values null when its statfs failed or is stuck. */
export function usageRecord(m: MountUsage): EntityPart {
  const labels = { device: m.device, fstype: m.fstype };
  const readonly = m.readonly ? 1 : 0;
  const s = m.stat;
  if (!s) return { ...labels, ...NULL_USAGE, filesystem_readonly: readonly };
  const used = Math.max(0, s.blocks - s.bfree);
  const usable = used + s.bavail;
  const inodesUsed = Math.max(0, s.files - s.ffree);
  return {
    ...labels,
    filesystem_size: s.blocks * s.frsize,
    filesystem_used: used * s.frsize,
    filesystem_free: s.bfree * s.frsize,
    filesystem_available: s.bavail * s.frsize,
    filesystem_usage_percent: usable > 0 ? (used / usable) * 100 : null,
    filesystem_inodes_total: s.files,
    filesystem_inodes_used: inodesUsed,
    filesystem_inodes_free: s.ffree,
    filesystem_inodes_usage_percent: s.files > 0 ? (inodesUsed / s.files) * 100 : 0,
    filesystem_readonly: readonly,
  };
}

// ---------------------------------------------------------------------------------------------
// The family

const labelsOf = (m: MountUsage): Labels => ({
  device: m.device,
  fstype: m.fstype,
  mountpoint: m.mountpoint,
});

export const filesystemFamily: Family<FilesystemData> = {
  name: "filesystem",
  defs,
  create: (ctx) => createFilesystemReader(ctx),
  derive(_prev, cur) {
    // Everything here is a gauge: no rates, so the previous reading is not needed.
    const filesystems: Record<string, EntityPart> = {};
    for (const m of cur.data.mounts) filesystems[m.mountpoint] = usageRecord(m);
    return { filesystems };
  },
  expose(data, out) {
    const ok = data.mounts.filter((m) => m.stat !== null);
    const gauge = (name: string, help: string, value: (s: StatfsResult) => number) =>
      out.family(name, "gauge", help, ok.map((m) => [labelsOf(m), value(m.stat!)]));
    gauge("node_filesystem_size_bytes", "Filesystem size in bytes.", (s) => s.blocks * s.frsize);
    gauge(
      "node_filesystem_free_bytes",
      "Filesystem free space in bytes, including space reserved for root.",
      (s) => s.bfree * s.frsize,
    );
    gauge(
      "node_filesystem_avail_bytes",
      "Filesystem space available to non-root users in bytes.",
      (s) => s.bavail * s.frsize,
    );
    gauge("node_filesystem_files", "Filesystem total inodes.", (s) => s.files);
    gauge("node_filesystem_files_free", "Filesystem free inodes.", (s) => s.ffree);
    out.family(
      "node_filesystem_readonly",
      "gauge",
      "Whether the filesystem is mounted read-only (1) or not (0).",
      data.mounts.map((m) => [labelsOf(m), m.readonly ? 1 : 0]),
    );
    out.family(
      "node_filesystem_device_error",
      "gauge",
      "Whether statfs of the mount failed or is stuck (1) or not (0).",
      data.mounts.map((m) => [labelsOf(m), m.stat === null ? 1 : 0]),
    );
  },
};
