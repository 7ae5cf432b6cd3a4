/**
 * Retention: which stored files to delete, and why. The planner is pure (files, policy and `now` in,
 * a list out) so every rule is testable without a disk; the executor only deletes and logs.
 */
import { formatDuration } from "../core/duration.ts";
import { formatBytes } from "../ui/format.ts";
import { periodBounds, type StoredFile, type TierName, TIERS } from "./layout.ts";

export interface RetentionPolicy {
  /** Seconds each tier is kept, counted from the end of a file's period (Infinity = forever). */
  maxAge: Record<TierName, number>;
  /** Total bytes over all tiers; 0 = unlimited. */
  maxBytes: number;
}

export interface FileEntry {
  tier: TierName;
  name: string;
  period: string;
  part: number;
  bytes: number;
  /** Epoch ms of the newest data the file can hold = end of its period. */
  end: number;
  /** The file currently written: never deleted. */
  open: boolean;
}

export interface PlannedDeletion {
  file: FileEntry;
  /** Human-readable, for the log line: "older than 30d (raw retention)". */
  reason: string;
}

/** A FileEntry for a parsed file name, its size and whether the recorder is writing it. */
export function fileEntry(file: StoredFile, bytes: number, open: boolean): FileEntry {
  return {
    tier: file.tier,
    name: file.name,
    period: file.period,
    part: file.part,
    bytes,
    end: periodBounds(file.period).end,
    open,
  };
}

/** Raw goes first under the byte limit: the rollups are what long reports read. */
const TIER_ORDER: Record<TierName, number> = Object.fromEntries(
  TIERS.map((t, i) => [t.name, i]),
) as Record<TierName, number>;

function oldestFirst(a: FileEntry, b: FileEntry): number {
  return TIER_ORDER[a.tier] - TIER_ORDER[b.tier] ||
    (a.period < b.period ? -1 : a.period > b.period ? 1 : 0) || a.part - b.part;
}

/**
 * The files to delete, age deletions first, then byte deletions; each in tier order (raw, 1m, 1h),
 * oldest period first. Open files are never planned.
 *
 * By age: a file goes once its whole period is older than the tier's limit, i.e. when
 * `end <= now - maxAge` (`end` is exclusive, so all its data is then older than the limit).
 * By bytes: while the total of the remaining files exceeds `maxBytes`, the oldest raw file goes, then
 * 1m, then 1h; when only open files remain the planner stops, even if still over the limit.
 */
export function planRetention(
  files: readonly FileEntry[],
  policy: RetentionPolicy,
  now: number,
): PlannedDeletion[] {
  const plan: PlannedDeletion[] = [];
  const kept: FileEntry[] = [];
  for (const file of [...files].sort(oldestFirst)) {
    const maxAge = policy.maxAge[file.tier];
    if (!file.open && file.end <= now - maxAge * 1000) {
      plan.push({ file, reason: `older than ${formatDuration(maxAge)} (${file.tier} retention)` });
    } else {
      kept.push(file);
    }
  }

  if (policy.maxBytes > 0) {
    let total = kept.reduce((sum, f) => sum + f.bytes, 0);
    for (const file of kept) {
      if (total <= policy.maxBytes) break;
      if (file.open) continue;
      plan.push({
        file,
        reason: `total ${formatBytes(total)} over the ${formatBytes(policy.maxBytes)} limit`,
      });
      total -= file.bytes;
    }
  }
  return plan;
}

export interface RetentionLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * Deletes `${dir}/${tier}/${name}` for each planned file: one info line per deleted file with its
 * reason, one warn line per file that could not be deleted (and it carries on). Returns the bytes
 * freed, as sized in the plan.
 */
export async function applyRetention(
  dir: string,
  plan: readonly PlannedDeletion[],
  log: RetentionLog,
): Promise<number> {
  let freed = 0;
  for (const { file, reason } of plan) {
    const rel = `${file.tier}/${file.name}`;
    try {
      await Deno.remove(`${dir}/${rel}`);
    } catch (err) {
      log.warn(`retention: could not delete ${rel}: ${(err as Error).message}`);
      continue;
    }
    freed += file.bytes;
    log.info(`retention: deleted ${rel}: ${reason}`);
  }
  return freed;
}
