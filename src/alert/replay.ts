/**
 * `sysmon alert check [--replay]`: validates the alert rules and, with --replay, runs them over the
 * recorded history to show how often each would have fired — the way to tune thresholds, `for` and
 * `keep_firing_for` before an alert reaches anyone. The replay itself (`replay`) is pure over a
 * Storage: a fresh engine sees every stored sample in time order, at the sample's own time.
 */
import { UsageError } from "../cli/errors.ts";
import type { GlobalFlags } from "../cli/globals.ts";
import { writeStderr, writeStdout } from "../cli/io.ts";
import { setupRuntime } from "../cli/runtime.ts";
import { catalog } from "../core/catalog.ts";
import { formatDuration } from "../core/duration.ts";
import type { Sample } from "../core/model.ts";
import { resolveRecordDir } from "../record/data_dir.ts";
import { openRecordedStore } from "../record/store_open.ts";
import { parseTimeFlag } from "../cli/time_flag.ts";
import type { Storage } from "../store/types.ts";
import { renderTable } from "../ui/text_table.ts";
import { AlertEngine } from "./engine.ts";
import { compileRules, observe, type RuleConfig } from "./rules.ts";
import { formatValue } from "./template.ts";
import type { AlertNotification, Rule, Severity } from "./types.ts";

export interface AlertCheckFlags extends GlobalFlags {
  readonly replay?: boolean;
  readonly data?: string;
  readonly from?: string;
  readonly to?: string;
  readonly rule?: readonly string[];
  readonly json?: boolean;
}

/** One stretch of one series firing: from its "firing" notification to its "resolved" one. */
export interface ReplayEpisode {
  /** The series: the rule name, plus "/" and the entity for per-entity rules. */
  key: string;
  entity?: string;
  /** ISO 8601 UTC. */
  start: string;
  /** When it resolved or, when `ongoing`, the last replayed sample's time. */
  end: string;
  seconds: number;
  /** The highest severity reached (fired at, or escalated to). */
  peak: Severity;
  /**
   * The worst reading of the metric while firing: highest for direction above, lowest for below;
   * forecast and anomaly rules: the metric's highest reading (not the time left or the rate).
   */
  peakValue: number | null;
  /** The notification's summary as the channels would have sent it when it began firing. */
  summary: string;
  /** Still firing at the end of the replayed data. */
  ongoing: boolean;
}

export interface RuleReplay {
  rule: string;
  metric: string;
  /** "firing" notifications: one per episode. */
  fired: number;
  /** "firing" notifications by the severity they fired at. */
  firedBySeverity: Record<Severity, number>;
  escalations: number;
  deescalations: number;
  /** Episodes that reached critical, by firing at it or escalating to it. */
  criticalEpisodes: number;
  /** Seconds during which at least one series of the rule fired (overlapping series count once). */
  firingSeconds: number;
  /** firingSeconds as a share of the covered span, 0–100 (two decimals). */
  firingPercent: number;
  longestSeconds: number;
  /** Every episode, in start order. */
  episodes: ReplayEpisode[];
}

/** Consecutive samples further apart than GAP_FACTOR × the median interval: the engine saw nothing. */
export interface ReplayGap {
  /** ISO 8601 UTC: the sample before the gap and the one after it. */
  from: string;
  to: string;
  seconds: number;
}

export interface ReplayReport {
  /** The range asked for: ISO 8601 UTC, `to` exclusive. */
  range: { from: string; to: string };
  /** The first and last sample replayed; null when there was none. */
  covered: { from: string; to: string; seconds: number } | null;
  samples: number;
  hosts: string[];
  medianIntervalSeconds: number | null;
  gaps: ReplayGap[];
  gapSeconds: number;
  /** Most fired first, then longest firing, then by name. */
  rules: RuleReplay[];
}

export interface ReplayOptions {
  /** Epoch ms; `to` exclusive. */
  from: number;
  to: number;
  /** Replays only this host's samples (and names it in the texts); all samples when omitted. */
  host?: string;
  /** Called every PROGRESS_EVERY samples with the time reached, for a progress line. */
  onProgress?: (time: number) => void;
}

export const GAP_FACTOR = 3;
const PROGRESS_EVERY = 2000;
/** Episodes listed per rule in the text output; --json has them all. */
export const EPISODES_SHOWN = 20;

interface OpenEpisode {
  episode: ReplayEpisode;
  startMs: number;
}

interface RuleTally {
  rule: Rule;
  firedBySeverity: Record<Severity, number>;
  escalations: number;
  deescalations: number;
  open: Map<string, OpenEpisode>;
  closed: { episode: ReplayEpisode; startMs: number; endMs: number }[];
}

const isoOf = (ms: number) => new Date(ms).toISOString();

/** Keeps the worse of two values for the rule's direction. */
function worse(rule: Rule, a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  const direction = rule.type === "threshold" ? rule.direction : "above";
  return direction === "above" ? Math.max(a, b) : Math.min(a, b);
}

function tallyNotification(t: RuleTally, n: AlertNotification, now: number): void {
  switch (n.kind) {
    case "firing": {
      t.firedBySeverity[n.severity]++;
      // A series fires again only after it resolved; close a leftover defensively.
      const left = t.open.get(n.key);
      if (left) closeEpisode(t, n.key, left, now, false);
      t.open.set(n.key, {
        startMs: now,
        episode: {
          key: n.key,
          ...(n.entity !== undefined ? { entity: n.entity } : {}),
          start: isoOf(now),
          end: isoOf(now),
          seconds: 0,
          peak: n.severity,
          peakValue: t.rule.type === "threshold" ? n.value : null,
          summary: n.summary,
          ongoing: false,
        },
      });
      return;
    }
    case "escalated": {
      t.escalations++;
      const open = t.open.get(n.key);
      if (open) open.episode.peak = "critical";
      return;
    }
    case "deescalated":
      t.deescalations++;
      return;
    case "resolved": {
      const open = t.open.get(n.key);
      if (open) closeEpisode(t, n.key, open, now, false);
    }
  }
}

function closeEpisode(t: RuleTally, key: string, open: OpenEpisode, end: number, ongoing: boolean) {
  t.open.delete(key);
  open.episode.end = isoOf(end);
  open.episode.seconds = (end - open.startMs) / 1000;
  open.episode.ongoing = ongoing;
  t.closed.push({ episode: open.episode, startMs: open.startMs, endMs: end });
}

/** Seconds covered by the union of [start, end] intervals. */
function unionSeconds(spans: { startMs: number; endMs: number }[]): number {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const s of sorted) {
    if (s.startMs > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s.startMs;
      curEnd = s.endMs;
    } else curEnd = Math.max(curEnd, s.endMs);
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total / 1000;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Gaps between consecutive sample times, measured against the median interval. */
function findGaps(times: number[]): { median: number | null; gaps: ReplayGap[] } {
  const deltas: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const d = times[i] - times[i - 1];
    if (d > 0) deltas.push(d);
  }
  const med = median(deltas);
  const gaps: ReplayGap[] = [];
  if (med !== null) {
    for (let i = 1; i < times.length; i++) {
      const d = times[i] - times[i - 1];
      if (d > GAP_FACTOR * med) {
        gaps.push({ from: isoOf(times[i - 1]), to: isoOf(times[i]), seconds: d / 1000 });
      }
    }
  }
  return { median: med === null ? null : med / 1000, gaps };
}

/**
 * Runs `rules` over the stored samples in [from, to) with a fresh engine, each sample evaluated at
 * its own timestamp, and tallies what the engine would have sent. An alert still firing at the
 * last sample ends there (`ongoing`): nothing is known after it.
 */
export async function replay(
  store: Storage,
  rules: Rule[],
  opts: ReplayOptions,
): Promise<ReplayReport> {
  const tallies = rules.map((rule): RuleTally => ({
    rule,
    firedBySeverity: { warning: 0, critical: 0 },
    escalations: 0,
    deescalations: 0,
    open: new Map(),
    closed: [],
  }));
  const byName = new Map(tallies.map((t) => [t.rule.name, t]));
  const times: number[] = [];
  const hosts = new Set<string>();
  let engine: AlertEngine | undefined;

  for await (const sample of store.samples(opts.from, opts.to)) {
    if (opts.host !== undefined && sample.host !== opts.host) continue;
    const now = Date.parse(sample.timestamp);
    if (!Number.isFinite(now)) continue;
    engine ??= new AlertEngine({ rules, host: opts.host ?? sample.host });
    hosts.add(sample.host);
    times.push(now);
    for (const n of engine.evaluate(sample, now)) {
      const t = byName.get(n.rule);
      if (t) tallyNotification(t, n, now);
    }
    trackPeaks(tallies, sample);
    if (opts.onProgress && times.length % PROGRESS_EVERY === 0) opts.onProgress(now);
  }

  const first = times.length > 0 ? times[0] : undefined;
  const last = times.length > 0 ? times[times.length - 1] : undefined;
  if (last !== undefined) {
    for (const t of tallies) {
      for (const [key, open] of [...t.open]) closeEpisode(t, key, open, last, true);
    }
  }
  const coveredSeconds = first !== undefined && last !== undefined ? (last - first) / 1000 : 0;
  const { median: med, gaps } = findGaps(times);

  const ruleReports = tallies.map((t): RuleReplay => {
    const closed = [...t.closed].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
    const firingSeconds = unionSeconds(closed);
    return {
      rule: t.rule.name,
      metric: t.rule.metric,
      fired: t.firedBySeverity.warning + t.firedBySeverity.critical,
      firedBySeverity: t.firedBySeverity,
      escalations: t.escalations,
      deescalations: t.deescalations,
      criticalEpisodes: closed.filter((c) => c.episode.peak === "critical").length,
      firingSeconds,
      firingPercent: coveredSeconds > 0
        ? Math.round(Math.min(100, (firingSeconds / coveredSeconds) * 100) * 100) / 100
        : 0,
      longestSeconds: closed.reduce((m, c) => Math.max(m, c.episode.seconds), 0),
      episodes: closed.map((c) => c.episode),
    };
  });
  ruleReports.sort((a, b) =>
    b.fired - a.fired || b.firingSeconds - a.firingSeconds ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)
  );

  return {
    range: { from: isoOf(opts.from), to: isoOf(opts.to) },
    covered: first !== undefined && last !== undefined
      ? { from: isoOf(first), to: isoOf(last), seconds: coveredSeconds }
      : null,
    samples: times.length,
    hosts: [...hosts].sort(),
    medianIntervalSeconds: med,
    gaps,
    gapSeconds: gaps.reduce((a, g) => a + g.seconds, 0),
    rules: ruleReports,
  };
}

/** Updates the worst value of every firing episode from this sample's observations. */
function trackPeaks(tallies: RuleTally[], sample: Sample): void {
  for (const t of tallies) {
    if (t.open.size === 0) continue;
    for (const obs of observe(t.rule, sample)) {
      const open = t.open.get(obs.key);
      if (open) open.episode.peakValue = worse(t.rule, open.episode.peakValue, obs.value);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The command

/**
 * The configured rules to check: all of them, or those named with --rule. A rule named with --rule
 * is checked even when disabled, so a rule can be tuned before it is switched on.
 */
export function selectRules(
  all: Record<string, RuleConfig>,
  names: readonly string[] | undefined,
): Record<string, RuleConfig> {
  if (!names || names.length === 0) return all;
  const unknown = names.filter((n) => !Object.hasOwn(all, n));
  if (unknown.length > 0) {
    const known = Object.keys(all).sort();
    throw new UsageError(
      `--rule: no alert rule named ${unknown.map((n) => `"${n}"`).join(", ")} ` +
        `(known: ${known.length > 0 ? known.join(", ") : "none configured"})`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, { ...all[n], enabled: true }]));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Validation only: every selected rule compiles, or each problem is named (exit 2). */
function validate(flags: AlertCheckFlags, selected: Record<string, RuleConfig>): void {
  const { rules, errors } = compileRules(selected);
  if (flags.json) {
    writeStdout(
      JSON.stringify(
        { ok: errors.length === 0, rules: rules.map((r) => r.name), errors },
        null,
        2,
      ) +
        "\n",
    );
    if (errors.length > 0) {
      throw new UsageError(`${plural(errors.length, "problem")} in alert.rules`);
    }
    return;
  }
  if (errors.length > 0) {
    throw new UsageError([
      ...errors,
      `${plural(errors.length, "problem")} in alert.rules (${plural(rules.length, "rule")} ok)`,
    ]);
  }
  const off = Object.keys(selected).filter((name) => !selected[name].enabled);
  writeStdout(
    `ok: ${plural(rules.length, "rule")}` +
      (off.length > 0 ? ` (disabled, not checked: ${off.join(", ")})` : "") + "\n",
  );
}

/** The data directory's store, read-only: never opened for writing, so nothing is created or pruned. */
/** A progress line on stderr, on a terminal only, once the replay has run for a second. */
function progress(from: number, to: number): { update: (t: number) => void; done: () => void } {
  if (!Deno.stderr.isTerminal()) return { update: () => {}, done: () => {} };
  const started = Date.now();
  let shown = false;
  return {
    update: (t) => {
      if (Date.now() - started < 1000) return;
      const pct = Math.min(100, Math.max(0, ((t - from) / Math.max(1, to - from)) * 100));
      writeStderr(`\rreplaying… ${pct.toFixed(0)}% (${localTime(t)})`);
      shown = true;
    },
    done: () => {
      if (shown) writeStderr("\r\x1b[K");
    },
  };
}

export async function runCheck(
  flags: AlertCheckFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  const rt = await setupRuntime(flags, env);
  const selected = selectRules(rt.config.alert.rules, flags.rule);
  if (!flags.replay) {
    for (const flag of ["data", "from", "to"] as const) {
      if (flags[flag] !== undefined) throw new UsageError(`--${flag} needs --replay`);
    }
    return validate(flags, selected);
  }

  const { rules, errors } = compileRules(selected);
  if (flags.rule && flags.rule.length > 0 && errors.length > 0) {
    // A rule asked for by name must be replayed as written: no silent partial answer.
    throw new UsageError(errors);
  }
  for (const e of errors) rt.log.error(e);
  if (rules.length === 0) {
    throw new UsageError(
      errors.length > 0
        ? `no usable alert rule (${errors.length} with errors, listed above)`
        : "no alert rule is enabled (alert.rules); name one with --rule to replay it anyway",
    );
  }

  const dir = resolveRecordDir(flags.data, rt);
  const store = await openRecordedStore(rt.config, dir, rt.log);
  const raw = (await store.info()).tiers.find((t) => t.name === "raw");
  if (raw?.from === undefined) {
    throw new UsageError(`no recorded data in ${dir}: the raw tier holds no samples`);
  }
  const now = Date.now();
  const from = flags.from !== undefined ? parseTimeFlag("from", flags.from, now) : raw.from;
  const to = flags.to !== undefined ? parseTimeFlag("to", flags.to, now) : now;
  if (from >= to) {
    throw new UsageError(
      `--from (${isoOf(from)}) must be before --to (${isoOf(to)})`,
    );
  }

  const bar = progress(from, to);
  let report: ReplayReport;
  try {
    report = await replay(store, rules, { from, to, onProgress: bar.update });
  } finally {
    bar.done();
  }
  if (report.samples === 0) {
    const span = raw.to !== undefined
      ? ` (${dir} holds ${isoOf(raw.from)} – ${isoOf(raw.to)})`
      : "";
    throw new UsageError(`no recorded samples from ${isoOf(from)} to ${isoOf(to)}${span}`);
  }
  if (flags.json) {
    writeStdout(JSON.stringify({ ...report, ruleErrors: errors }, null, 2) + "\n");
    return;
  }
  writeStdout(renderReport(report));
}

// ---------------------------------------------------------------------------------------------
// Text output

/** Local time as the other screens show it: "2026-11-27 10:00:00". */
function localTime(ms: number): string {
  return new Date(ms).toLocaleString("sv-SE");
}

const localIso = (iso: string) => localTime(Date.parse(iso));
const duration = (seconds: number) => formatDuration(Math.round(seconds));

/** The report for people: what was replayed, the gaps, one row per rule, then its episodes. */
export function renderReport(report: ReplayReport, maxEpisodes = EPISODES_SHOWN): string {
  const out: string[] = [];
  const c = report.covered;
  if (c) {
    const every = report.medianIntervalSeconds !== null
      ? `, every ${duration(report.medianIntervalSeconds)}`
      : "";
    out.push(
      `replayed ${plural(report.samples, "sample")} of ${report.hosts.join(", ")} from ` +
        `${localIso(c.from)} to ${localIso(c.to)} (${duration(c.seconds)}${every})`,
    );
  }
  if (report.hosts.length > 1) {
    out.push(`note: the data holds ${report.hosts.length} host names; they were replayed as one`);
  }
  if (report.gaps.length === 0) out.push("no gaps in the data");
  else {
    out.push(
      `${plural(report.gaps.length, "gap")} (${duration(report.gapSeconds)} without data: ` +
        "nothing could fire, escalate or resolve there):",
    );
    for (const g of report.gaps.slice(0, maxEpisodes)) {
      out.push(`  ${localIso(g.from)} → ${localIso(g.to)}  ${duration(g.seconds)}`);
    }
    if (report.gaps.length > maxEpisodes) {
      out.push(`  … ${report.gaps.length - maxEpisodes} more (--json lists them all)`);
    }
  }
  out.push("");
  out.push(renderTable(
    [
      { header: "RULE", flexible: true },
      { header: "FIRED", align: "right" },
      { header: "CRITICAL", align: "right" },
      { header: "FIRING", align: "right" },
      { header: "LONGEST", align: "right" },
    ],
    report.rules.map((r) => [
      r.rule,
      String(r.fired),
      String(r.criticalEpisodes),
      `${r.firingPercent.toFixed(1)}%`,
      r.fired > 0 ? duration(r.longestSeconds) : "—",
    ]),
  ));

  const units = new Map(catalog().map((d) => [d.name, d.unit as string]));
  for (const r of report.rules) {
    if (r.episodes.length === 0) continue;
    out.push("");
    const esc = r.escalations > 0 ? `, ${plural(r.escalations, "escalation")}` : "";
    out.push(`${r.rule}: ${plural(r.episodes.length, "episode")}${esc}`);
    // Scalar rules have no entity: the column is left out for them.
    const entities = r.episodes.some((e) => e.entity !== undefined);
    const rows = r.episodes.slice(0, maxEpisodes).map((e) => [
      `${localIso(e.start)} → ${localIso(e.end)}`,
      duration(e.seconds),
      e.peak,
      formatValue(e.peakValue, units.get(r.metric) ?? "count"),
      ...(entities ? [e.entity ?? ""] : []),
      e.ongoing ? "still firing" : "",
    ]);
    const table = renderTable(
      [
        { header: "WHEN" },
        { header: "FOR", align: "right" },
        { header: "PEAK" },
        { header: "WORST", align: "right" },
        ...(entities ? [{ header: "ENTITY", flexible: true }] : []),
        { header: "" },
      ],
      rows,
      120,
    );
    out.push(...table.split("\n").map((l) => `  ${l}`));
    if (r.episodes.length > maxEpisodes) {
      out.push(`  … ${r.episodes.length - maxEpisodes} more (--json lists them all)`);
    }
  }
  return out.join("\n") + "\n";
}
