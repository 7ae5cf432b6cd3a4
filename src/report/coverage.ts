/**
 * Coverage of a range and the gaps in the recording, from the per-bucket first/last sample times of
 * the rollups. A gap is a silence longer than three typical sample intervals (and at least a
 * minute); across it, a later boot time means the machine rebooted, the same one that sysmon (or the
 * machine) was down.
 */
import type { BucketInfo } from "./collect.ts";
import type { Coverage, Gap } from "./model.ts";

const MIN_GAP_MS = 60_000;

export function coverageOf(
  buckets: Map<number, BucketInfo>,
  range: { from: number; to: number },
  /** boot_time (epoch seconds) of the bucket starting at `t`, when recorded. */
  bootTime: (t: number) => number | undefined,
): Coverage {
  const rangeSeconds = Math.max(0, (range.to - range.from) / 1000);
  const list = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, b]) => ({ t, ...b }));
  if (list.length === 0) return { coveredSeconds: 0, rangeSeconds, gaps: [] };
  const interval = typicalInterval(list);
  const threshold = Math.max(MIN_GAP_MS, 3 * interval);
  const gaps: Gap[] = [];
  const gap = (fromMs: number, toMs: number, reason: Gap["reason"]) =>
    gaps.push({
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      seconds: Math.round((toMs - fromMs) / 1000),
      reason,
    });
  if (list[0].from - range.from > threshold) gap(range.from, list[0].from, "unknown");
  for (let i = 1; i < list.length; i++) {
    const prev = list[i - 1];
    const next = list[i];
    if (next.from - prev.to <= threshold) continue;
    const before = bootTime(prev.t);
    const after = bootTime(next.t);
    const reason = before === undefined || after === undefined
      ? "unknown"
      : after > before + 60
      ? "reboot"
      : "downtime";
    gap(prev.to, next.from, reason);
  }
  const last = list[list.length - 1];
  if (range.to - last.to > threshold && range.to <= Date.now()) gap(last.to, range.to, "unknown");
  const gapSeconds = gaps.reduce((s, g) => s + g.seconds, 0);
  return { coveredSeconds: Math.max(0, rangeSeconds - gapSeconds), rangeSeconds, gaps };
}

/** The median spacing of samples inside buckets (ms); 10 s when no bucket holds two. */
function typicalInterval(list: (BucketInfo & { t: number })[]): number {
  const spacings = list.filter((b) => b.n > 1).map((b) => (b.to - b.from) / (b.n - 1)).sort((
    a,
    b,
  ) => a - b);
  return spacings.length ? spacings[Math.floor(spacings.length / 2)] : 10_000;
}
