/**
 * Notification grouping with Alertmanager's semantics, for the channels sysmon delivers itself.
 * Pure: no I/O, the caller passes the clock and persists `exportState()` (plain JSON).
 *
 * - Group key: the values of the `groupBy` labels (a missing label counts as ""). `[]` puts every
 *   alert in one group; `["..."]` gives each series (its notification key) a group of its own.
 * - group_wait: a new group's first message ("initial") goes out group_wait after its first alert,
 *   carrying every alert that joined meanwhile.
 * - group_interval: after a message, a changed group gets its next message ("update") no sooner
 *   than group_interval after that message. Changes are judged by content, as Alertmanager's
 *   notification log does: a firing alert not in the last message, a different severity, or a
 *   resolved alert that was in it. An alert that escalates and falls back before the next message
 *   is no change. Every message carries the group's whole firing set.
 * - repeat_interval: an unchanged group with firing alerts is sent again ("repeat") every
 *   repeat_interval.
 * - A group whose alerts have all resolved gets one last message with them, then is deleted; its
 *   next alert starts a new group (with a new group_wait).
 * - A resolved alert that never appeared in a sent message (fired and resolved within group_wait
 *   or between two messages) is dropped silently, as Alertmanager does: receivers never heard of
 *   it. Whether resolved alerts are delivered at all (send_resolved) is the caller's business.
 * - An alert whose group-by labels change (an escalation when grouping by severity) moves: its old
 *   group gets it as resolved (as Alertmanager would see the old label set end), the new one as
 *   firing.
 *
 * Differences from Alertmanager: it re-checks a group on a fixed group_interval tick, so an update
 * after a quiet spell waits for the next tick; here it goes out at once (still never sooner than
 * group_interval after the previous message), and repeats fall exactly on repeat_interval. An alert
 * does not shorten group_wait when its startsAt is old: state persists across restarts instead.
 */
import type { AlertNotification, Severity } from "./types.ts";

export interface GroupingOptions {
  /** Label names; ["..."] = every series its own group; [] = one group for all. */
  groupBy: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

export type GroupMessageReason = "initial" | "update" | "repeat";

export interface GroupMessage {
  groupKey: string;
  groupLabels: Record<string, string>;
  /** The latest notification of each alert of the group currently firing, by key. */
  firing: AlertNotification[];
  /** Alerts resolved since the group's previous message (that appeared in it), by key. */
  resolved: AlertNotification[];
  reason: GroupMessageReason;
}

/** One group's memory; plain JSON. */
export interface GroupState {
  labels: Record<string, string>;
  /** Epoch ms of the group's first alert (group_wait counts from here). */
  createdAt: number;
  /** Epoch ms of the last message; absent until the first. */
  lastSentAt?: number;
  /** The latest notification per alert key: firing ones, and resolved ones awaiting a message. */
  alerts: Record<string, AlertNotification>;
  /** The firing set of the last message: key → severity. */
  sent: Record<string, Severity>;
}

export interface GroupingState {
  groups: Record<string, GroupState>;
}

/** Alertmanager's group_by value for "every alert its own group". */
export const GROUP_BY_ALL = "...";

export class Grouper {
  private readonly groups: Record<string, GroupState>;

  constructor(private readonly opts: GroupingOptions, state?: GroupingState) {
    validateOptions(opts);
    this.groups = state ? structuredClone(state.groups) : {};
  }

  /** Records `n` in its group, creating the group (and its group_wait) if needed. */
  add(n: AlertNotification, now: number): void {
    const groupKey = this.groupKeyOf(n);
    this.moveFromOtherGroups(n, groupKey);
    let group = this.groups[groupKey];
    if (n.kind === "resolved") {
      if (!group || !(n.key in group.alerts)) return;
      if (n.key in group.sent) group.alerts[n.key] = n;
      else delete group.alerts[n.key]; // never announced: receivers need not hear it ended
      this.dropIfEmpty(groupKey);
      return;
    }
    if (!group) {
      group = this.groups[groupKey] = {
        labels: this.groupLabelsOf(n),
        createdAt: now,
        alerts: {},
        sent: {},
      };
    }
    if (this.opts.groupBy[0] === GROUP_BY_ALL) group.labels = { ...n.labels };
    group.alerts[n.key] = n;
  }

  /** Whether some group holds the alert with this key (firing, or resolved awaiting a message). */
  has(key: string): boolean {
    return Object.values(this.groups).some((g) => key in g.alerts || key in g.sent);
  }

  /** The messages due at `now`, oldest due first; they are marked sent. */
  due(now: number): GroupMessage[] {
    const ready = Object.entries(this.groups)
      .map(([groupKey, group]) => ({ groupKey, group, at: this.dueAt(group) }))
      .filter((g) => g.at <= now)
      .sort((a, b) => a.at - b.at || compare(a.groupKey, b.groupKey));
    return ready.map(({ groupKey, group }) => this.send(groupKey, group, now));
  }

  /** Epoch ms of the next message (possibly already past: call due() then); undefined when idle. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const group of Object.values(this.groups)) {
      const at = this.dueAt(group);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  exportState(): GroupingState {
    return { groups: structuredClone(this.groups) };
  }

  private send(groupKey: string, group: GroupState, now: number): GroupMessage {
    const reason: GroupMessageReason = group.lastSentAt === undefined
      ? "initial"
      : isChanged(group)
      ? "update"
      : "repeat";
    const all = Object.values(group.alerts).sort((a, b) => compare(a.key, b.key));
    const firing = all.filter((n) => n.kind !== "resolved");
    const resolved = all.filter((n) => n.kind === "resolved");
    for (const n of resolved) delete group.alerts[n.key];
    group.sent = Object.fromEntries(firing.map((n) => [n.key, n.severity]));
    group.lastSentAt = now;
    if (firing.length === 0) delete this.groups[groupKey];
    return { groupKey, groupLabels: { ...group.labels }, firing, resolved, reason };
  }

  private dueAt(group: GroupState): number {
    const { groupWaitMs, groupIntervalMs, repeatIntervalMs } = this.opts;
    if (group.lastSentAt === undefined) return group.createdAt + groupWaitMs;
    if (isChanged(group)) return group.lastSentAt + Math.min(groupIntervalMs, repeatIntervalMs);
    return group.lastSentAt + repeatIntervalMs;
  }

  /** An alert now in `groupKey` leaves any other group, ending there as Alertmanager would see it. */
  private moveFromOtherGroups(n: AlertNotification, groupKey: string): void {
    for (const [otherKey, other] of Object.entries(this.groups)) {
      if (otherKey === groupKey) continue;
      const old = other.alerts[n.key];
      if (!old) continue;
      if (n.key in other.sent && old.kind !== "resolved") {
        other.alerts[n.key] = {
          ...old,
          kind: "resolved",
          previous: old.severity,
          at: n.at,
          endsAt: n.endsAt ?? n.at,
        };
      } else if (!(n.key in other.sent)) {
        delete other.alerts[n.key];
        this.dropIfEmpty(otherKey);
      }
    }
  }

  /** A group nobody has heard of and with nothing left to say is forgotten. */
  private dropIfEmpty(groupKey: string): void {
    const group = this.groups[groupKey];
    if (group && Object.keys(group.alerts).length === 0 && Object.keys(group.sent).length === 0) {
      delete this.groups[groupKey];
    }
  }

  private groupKeyOf(n: AlertNotification): string {
    if (this.opts.groupBy[0] === GROUP_BY_ALL) return `{}/${n.key}`;
    return formatLabels(this.groupLabelsOf(n));
  }

  private groupLabelsOf(n: AlertNotification): Record<string, string> {
    if (this.opts.groupBy[0] === GROUP_BY_ALL) return { ...n.labels };
    const names = [...this.opts.groupBy].sort(compare);
    return Object.fromEntries(names.map((name) => [name, n.labels[name] ?? ""]));
  }
}

/** Content change since the last message: the firing set (key → severity) differs, or one resolved. */
function isChanged(group: GroupState): boolean {
  const firing = Object.values(group.alerts).filter((n) => n.kind !== "resolved");
  const sentKeys = Object.keys(group.sent);
  if (firing.length !== sentKeys.length) return true;
  return firing.some((n) => group.sent[n.key] !== n.severity);
}

/** `{name="value",…}` in Alertmanager's group-key style; values JSON-escaped. */
function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `{${parts.join(",")}}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validateOptions(opts: GroupingOptions): void {
  if (opts.groupBy.includes(GROUP_BY_ALL) && opts.groupBy.length > 1) {
    throw new Error(`group_by "${GROUP_BY_ALL}" cannot be combined with other labels`);
  }
  const durations: [string, number, boolean][] = [
    ["group_wait", opts.groupWaitMs, true],
    ["group_interval", opts.groupIntervalMs, false],
    ["repeat_interval", opts.repeatIntervalMs, false],
  ];
  for (const [name, ms, zeroOk] of durations) {
    if (!Number.isFinite(ms) || ms < 0 || (!zeroOk && ms === 0)) {
      throw new Error(`${name} must be ${zeroOk ? "zero or more" : "more than zero"}, got ${ms}`);
    }
  }
}
