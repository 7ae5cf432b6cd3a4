/**
 * The persistent outbox: every delivery waits here until its channel accepted it. A channel that is
 * down keeps its deliveries (in order) and is retried with exponential backoff; a delivery the
 * channel refuses for good (a 4xx: the payload will not get better) is dropped and reported. The
 * file is rewritten atomically after every change, so a crash or restart loses nothing queued.
 * Delivery is at least once: a channel that took a message but whose answer was lost gets it again.
 * A channel's `max_per_hour` holds further deliveries back (queued, not dropped) once reached.
 * The file also keeps the grouped channels' group state (../grouping.ts): a message leaves its
 * group and enters the queue in one atomic write, so a crash neither loses nor repeats it.
 */
import { writeJsonAtomic } from "../store/fsutil.ts";
import type { PostResult } from "./channels/http.ts";
import type { GroupingState, GroupMessage } from "./grouping.ts";
import type { AlertNotification } from "./types.ts";

/** What one delivery carries: one alert's notification (Alertmanager) or a group message. */
export type Delivery = { notification: AlertNotification; group?: undefined } | {
  group: GroupMessage;
  notification?: undefined;
};

export interface OutboxEntry {
  id: string;
  channel: string;
  notification?: AlertNotification;
  group?: GroupMessage;
  /** Epoch ms it was queued. */
  queuedAt: number;
  attempts: number;
  /** Epoch ms of the next attempt. */
  due: number;
  lastError?: string;
}

export type Sender = (d: Delivery) => Promise<PostResult>;

/** "firing cpu_busy", or "group {alertname=\"fs\"} (2 firing, 1 resolved)": for log lines. */
export function describeDelivery(d: Pick<OutboxEntry, "notification" | "group">): string {
  if (d.group) {
    return `group ${d.group.groupKey} (${d.group.firing.length} firing, ` +
      `${d.group.resolved.length} resolved)`;
  }
  return d.notification ? `${d.notification.kind} ${d.notification.key}` : "an empty delivery";
}

export interface DeliveryReport {
  delivered: OutboxEntry[];
  dropped: { entry: OutboxEntry; error: string }[];
  /** Channels that failed and will be retried, with their error. */
  failing: Map<string, string>;
}

/** Backoff after the n-th failed attempt: 5 s, 10 s, 20 s … capped at 5 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(5000 * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

/** Most deliveries kept per channel; beyond it the oldest go (counted and reported). */
export const MAX_PER_CHANNEL = 10_000;

export class Outbox {
  private entries: OutboxEntry[] = [];
  private seq = 0;
  /** The grouped channels' state by channel name, as last loaded or saved. */
  groups: Record<string, GroupingState> = {};

  constructor(private readonly path: string) {}

  /** Loads the saved queue; a corrupt file is an error naming it (never silently emptied). */
  async load(): Promise<number> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return 0;
      throw new Error(`outbox ${this.path}: ${(err as Error).message}`);
    }
    try {
      const saved = JSON.parse(text) as {
        entries: OutboxEntry[];
        groups?: Record<string, GroupingState>;
      };
      if (!Array.isArray(saved.entries)) throw new Error("no entries list");
      const empty = saved.entries.findIndex((e) => !e?.notification && !e?.group);
      if (empty >= 0) throw new Error(`entry ${empty + 1} carries nothing to deliver`);
      this.entries = saved.entries;
      this.groups = saved.groups ?? {};
    } catch (err) {
      throw new Error(`outbox ${this.path} is not readable JSON: ${(err as Error).message}`);
    }
    return this.entries.length;
  }

  size(channel?: string): number {
    return channel ? this.entries.filter((e) => e.channel === channel).length : this.entries.length;
  }

  /** Queues `d` for `channel`; returns the deliveries dropped to stay within MAX_PER_CHANNEL. */
  add(channel: string, d: Delivery, now: number): OutboxEntry[] {
    this.entries.push({
      id: `${now.toString(36)}-${(this.seq++).toString(36)}`,
      channel,
      ...(d.group ? { group: d.group } : { notification: d.notification }),
      queuedAt: now,
      attempts: 0,
      due: now,
    });
    const mine = this.entries.filter((e) => e.channel === channel);
    if (mine.length <= MAX_PER_CHANNEL) return [];
    const drop = new Set(mine.slice(0, mine.length - MAX_PER_CHANNEL));
    this.entries = this.entries.filter((e) => !drop.has(e));
    return [...drop];
  }

  /**
   * Tries every due delivery, oldest first, one channel at a time; a channel's first failure stops
   * its queue until the backoff ends, so deliveries reach a channel in order.
   */
  async deliver(
    senders: ReadonlyMap<string, Sender>,
    now: number,
    limits: ReadonlyMap<string, number> = new Map(),
  ): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: [], dropped: [], failing: new Map() };
    const blocked = new Set<string>();
    const keep: OutboxEntry[] = [];
    for (const e of this.entries) {
      const send = senders.get(e.channel);
      if (!send) {
        // A channel removed from the configuration: nothing can deliver it any more.
        report.dropped.push({ entry: e, error: `channel ${e.channel} is no longer configured` });
        continue;
      }
      if (blocked.has(e.channel) || e.due > now || !this.allowed(e.channel, now, limits)) {
        blocked.add(e.channel);
        keep.push(e);
        continue;
      }
      const result = await send(e.group ? { group: e.group } : { notification: e.notification! });
      if (result.ok) {
        this.sent(e.channel, now);
        report.delivered.push(e);
        continue;
      }
      const error = result.error ?? `HTTP ${result.status}`;
      if (!result.retryable) {
        report.dropped.push({ entry: e, error });
        continue;
      }
      e.attempts++;
      e.lastError = error;
      e.due = now + Math.max(backoffMs(e.attempts), result.retryAfterMs ?? 0);
      blocked.add(e.channel);
      report.failing.set(e.channel, error);
      keep.push(e);
    }
    this.entries = keep;
    return report;
  }

  /** Send times per channel over the last hour, for `max_per_hour`. */
  private readonly recent = new Map<string, number[]>();

  /** Under the channel's hourly limit (0 or absent: no limit)? Waiting deliveries stay queued. */
  private allowed(channel: string, now: number, limits: ReadonlyMap<string, number>): boolean {
    const limit = limits.get(channel) ?? 0;
    if (limit <= 0) return true;
    const times = (this.recent.get(channel) ?? []).filter((t) => now - t < 3600_000);
    this.recent.set(channel, times);
    return times.length < limit;
  }

  private sent(channel: string, now: number) {
    const times = this.recent.get(channel) ?? [];
    times.push(now);
    this.recent.set(channel, times);
  }

  async save(): Promise<void> {
    // The first save of a fresh data directory may come before anything else created state/.
    const dir = this.path.slice(0, this.path.lastIndexOf("/"));
    if (dir) await Deno.mkdir(dir, { recursive: true });
    await writeJsonAtomic(this.path, { entries: this.entries, groups: this.groups });
  }
}
