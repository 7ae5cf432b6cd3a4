/**
 * `sysmon alert export`: the configured threshold rules as Prometheus alerting rules over
 * node_exporter's metric names (`--format prometheus`), or a starting Alertmanager configuration
 * (`--format alertmanager`). The translators are pure; `runExport` adds config loading and output.
 *
 * What does not translate is said in the output as YAML comments, never silently dropped:
 * - hysteresis (a clear threshold apart from the raise threshold) has no Prometheus equivalent: the
 *   alert fires at the raise threshold, with `for` and `keep_firing_for` (Prometheus ≥ 2.42);
 * - a regular expression Go's RE2 cannot run (lookarounds, back-references) becomes no matcher,
 *   except the `^(?!(a|b)$)` shape ("anything but a or b"), which is exactly `label!~"a|b"`;
 * - a rule on a metric without a node_exporter equivalent (PSI averages…) is left out.
 */
import { Document, type YAMLMap } from "yaml";
import type { GlobalFlags } from "../cli/globals.ts";
import type { AlertChannelConfig } from "../config/sysmon_schema.ts";
import { writeOutputFile } from "../cli/output_file.ts";
import { writeStdout } from "../cli/io.ts";
import { setupRuntime } from "../cli/runtime.ts";
import { catalog } from "../core/catalog.ts";
import { formatDuration } from "../core/duration.ts";
import type { EntityFamily } from "../core/model.ts";
import { VERSION } from "../version.ts";
import { compileRules } from "./rules.ts";
import { formatValue, parseTemplate } from "./template.ts";
import type { Level, Rule, Severity, ThresholdRule } from "./types.ts";
import { SEVERITIES } from "./types.ts";

export interface AlertExportFlags extends GlobalFlags {
  readonly format: "prometheus" | "alertmanager";
  readonly output?: string;
}

/** Loads the configuration, translates, and writes the YAML to stdout or `--output FILE`. */
export async function runExport(
  flags: AlertExportFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  const rt = await setupRuntime(flags, env);
  let text: string;
  if (flags.format === "prometheus") {
    const { rules, errors } = compileRules(rt.config.alert.rules);
    for (const e of errors) rt.log.error(e);
    const exported = exportPrometheusRules(rules);
    // The same notes are comments in the file; stderr tells whoever does not read it.
    for (const n of exported.notes) rt.log.warn(`alert export: ${n}`);
    text = exported.text;
  } else {
    text = alertmanagerConfig(alertmanagerOptionsFrom(rt.config.alert.channels));
  }
  if (flags.output === undefined) writeStdout(text);
  else await writeOutputFile(flags.output, text);
}

// ---------------------------------------------------------------------------------------------
// Model metric → PromQL over node_exporter names (formulas from docs/metrics.md)
// ---------------------------------------------------------------------------------------------

/** The window of every rate(): long enough for a 1-minute scrape, short enough to alert promptly. */
export const RATE_WINDOW = "5m";

/** Builds a metric's expression with extra label matchers on every selector in it. */
type ExprBuilder = (matchers: readonly string[]) => string;

/** `name{a="b", c=~"d"}`. */
function sel(name: string, matchers: readonly string[]): string {
  return matchers.length === 0 ? name : `${name}{${matchers.join(", ")}}`;
}

const rate = (selector: string) => `rate(${selector}[${RATE_WINDOW}])`;
const gauge = (name: string): ExprBuilder => (m) => sel(name, m);
const rateOf = (name: string): ExprBuilder => (m) => rate(sel(name, m));
/** A per-entity difference, e.g. size − free; `a - b` keeps every label both share. */
const diff = (a: string, b: string, m: readonly string[]) => `${sel(a, m)} - ${sel(b, m)}`;

const CPU = "node_cpu_seconds_total";
const IDLE_MODES = 'mode=~"idle|iowait"';
/** node_cpu_seconds_total's modes; their sum is the model's Δtotal (guest is inside user/nice). */
const CPU_MODES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
const CORE_MODES = ["user", "system", "iowait", "idle", "steal"] as const;

/**
 * Δ(modes) / Δtotal per `by`, as the model computes it: independent of USER_HZ and of the number
 * of CPUs. (iowait can go backwards, which rate() reads as a reset; the model clamps it at 0.)
 */
function cpuShare(modeMatcher: string, by: string, m: readonly string[]): string {
  return `sum by (${by}) (${rate(sel(CPU, [modeMatcher, ...m]))}) / ` +
    `sum by (${by}) (${rate(sel(CPU, m))})`;
}

const MEM = (field: string) => `node_memory_${field}_bytes`;

const EXPRESSIONS: Record<string, ExprBuilder> = {
  cpu_usage_percent: (m) => `100 * (1 - ${cpuShare(IDLE_MODES, "instance", m)})`,
  ...Object.fromEntries(CPU_MODES.map((mode) => [
    `cpu_${mode}_percent`,
    (m: readonly string[]) => `100 * ${cpuShare(`mode="${mode}"`, "instance", m)}`,
  ])),
  ...Object.fromEntries(CPU_MODES.map((mode) => [
    `cpu_${mode}_time`,
    (m: readonly string[]) => `sum by (instance) (${sel(CPU, [`mode="${mode}"`, ...m])})`,
  ])),
  // /proc/stat lists online CPUs only, so each has exactly one idle series.
  cpu_cores_online: (m) => `count by (instance) (${sel(CPU, ['mode="idle"', ...m])})`,
  cpu_context_switches_per_second: rateOf("node_context_switches_total"),
  cpu_interrupts_per_second: rateOf("node_intr_total"),
  processes_forks_per_second: rateOf("node_forks_total"),
  processes_running: gauge("node_procs_running"),
  processes_blocked: gauge("node_procs_blocked"),
  boot_time: gauge("node_boot_time_seconds"),
  load_average_1m: gauge("node_load1"),
  load_average_5m: gauge("node_load5"),
  load_average_15m: gauge("node_load15"),

  memory_total: gauge(MEM("MemTotal")),
  memory_used: (m) => diff(MEM("MemTotal"), MEM("MemAvailable"), m),
  memory_free: gauge(MEM("MemFree")),
  // Kernels before 3.14 lack MemAvailable (sysmon estimates it; node_exporter has no series).
  memory_available: gauge(MEM("MemAvailable")),
  memory_usage_percent: (m) =>
    `100 * (${diff(MEM("MemTotal"), MEM("MemAvailable"), m)}) / ${sel(MEM("MemTotal"), m)}`,
  memory_cached: (m) => `${sel(MEM("Cached"), m)} + ${sel(MEM("SReclaimable"), m)}`,
  memory_buffers: gauge(MEM("Buffers")),
  swap_total: gauge(MEM("SwapTotal")),
  swap_used: (m) => diff(MEM("SwapTotal"), MEM("SwapFree"), m),
  swap_free: gauge(MEM("SwapFree")),
  // Without swap this is NaN (no alert either way) where the model says 0.
  swap_usage_percent: (m) =>
    `100 * (${diff(MEM("SwapTotal"), MEM("SwapFree"), m)}) / ${sel(MEM("SwapTotal"), m)}`,

  // node_exporter exposes PSI totals only; the kernel's avg10/60/300 have no series.
  pressure_cpu_some_total: gauge("node_pressure_cpu_waiting_seconds_total"),
  pressure_memory_some_total: gauge("node_pressure_memory_waiting_seconds_total"),
  pressure_memory_full_total: gauge("node_pressure_memory_stalled_seconds_total"),
  pressure_io_some_total: gauge("node_pressure_io_waiting_seconds_total"),
  pressure_io_full_total: gauge("node_pressure_io_stalled_seconds_total"),

  core_usage_percent: (m) => `100 * (1 - ${cpuShare(IDLE_MODES, "instance, cpu", m)})`,
  ...Object.fromEntries(CORE_MODES.map((mode) => [
    `core_${mode}_percent`,
    (m: readonly string[]) => `100 * ${cpuShare(`mode="${mode}"`, "instance, cpu", m)}`,
  ])),

  disk_read_bytes_per_second: rateOf("node_disk_read_bytes_total"),
  disk_write_bytes_per_second: rateOf("node_disk_written_bytes_total"),
  disk_reads_per_second: rateOf("node_disk_reads_completed_total"),
  disk_writes_per_second: rateOf("node_disk_writes_completed_total"),
  // NaN when no I/O completed (the model says 0): no alert either way for "above" rules.
  disk_read_await_seconds: (m) =>
    `${rate(sel("node_disk_read_time_seconds_total", m))} / ` +
    rate(sel("node_disk_reads_completed_total", m)),
  disk_write_await_seconds: (m) =>
    `${rate(sel("node_disk_write_time_seconds_total", m))} / ` +
    rate(sel("node_disk_writes_completed_total", m)),
  disk_util_percent: (m) =>
    `clamp_max(100 * ${rate(sel("node_disk_io_time_seconds_total", m))}, 100)`,
  disk_queue_size: rateOf("node_disk_io_time_weighted_seconds_total"),
  disk_io_in_progress: gauge("node_disk_io_now"),
  disk_read_bytes: gauge("node_disk_read_bytes_total"),
  disk_written_bytes: gauge("node_disk_written_bytes_total"),

  net_rx_bytes_per_second: rateOf("node_network_receive_bytes_total"),
  net_tx_bytes_per_second: rateOf("node_network_transmit_bytes_total"),
  net_rx_packets_per_second: rateOf("node_network_receive_packets_total"),
  net_tx_packets_per_second: rateOf("node_network_transmit_packets_total"),
  net_rx_errors_per_second: rateOf("node_network_receive_errs_total"),
  net_tx_errors_per_second: rateOf("node_network_transmit_errs_total"),
  net_rx_drops_per_second: rateOf("node_network_receive_drop_total"),
  net_tx_drops_per_second: rateOf("node_network_transmit_drop_total"),
  net_speed_bytes_per_second: gauge("node_network_speed_bytes"),
  net_up: gauge("node_network_up"),
  net_carrier: gauge("node_network_carrier"),
  net_mtu: gauge("node_network_mtu_bytes"),
  // bytes/s ÷ speed in bytes/s = bits ÷ bits; no series when the speed is unknown, as the model.
  net_rx_utilization_percent: (m) =>
    `clamp_max(100 * ${rate(sel("node_network_receive_bytes_total", m))} / ` +
    `${sel("node_network_speed_bytes", m)}, 100)`,
  net_tx_utilization_percent: (m) =>
    `clamp_max(100 * ${rate(sel("node_network_transmit_bytes_total", m))} / ` +
    `${sel("node_network_speed_bytes", m)}, 100)`,

  filesystem_size: gauge("node_filesystem_size_bytes"),
  filesystem_used: (m) => diff("node_filesystem_size_bytes", "node_filesystem_free_bytes", m),
  filesystem_free: gauge("node_filesystem_free_bytes"),
  filesystem_available: gauge("node_filesystem_avail_bytes"),
  // df's Use%: used ÷ (used + avail), with used = size − free (root's reserve counts as used).
  filesystem_usage_percent: (m) => {
    const used = diff("node_filesystem_size_bytes", "node_filesystem_free_bytes", m);
    return `100 * (${used}) / (${used} + ${sel("node_filesystem_avail_bytes", m)})`;
  },
  filesystem_inodes_total: gauge("node_filesystem_files"),
  filesystem_inodes_used: (m) => diff("node_filesystem_files", "node_filesystem_files_free", m),
  filesystem_inodes_free: gauge("node_filesystem_files_free"),
  // NaN on filesystems without inodes (vfat, btrfs) where the model says 0.
  filesystem_inodes_usage_percent: (m) =>
    `100 * (${diff("node_filesystem_files", "node_filesystem_files_free", m)}) / ` +
    sel("node_filesystem_files", m),
  filesystem_readonly: gauge("node_filesystem_readonly"),
};

/**
 * The PromQL for a model metric with extra label matchers on each selector, or undefined when
 * node_exporter has no faithful equivalent.
 */
export function metricExpression(
  metric: string,
  matchers: readonly string[] = [],
): string | undefined {
  return EXPRESSIONS[metric]?.(matchers);
}

// ---------------------------------------------------------------------------------------------
// JavaScript regular expressions → Prometheus label matchers (Go RE2, fully anchored)
// ---------------------------------------------------------------------------------------------

export type MatcherTranslation =
  | { matcher: string }
  /** Not expressible in RE2: why, for a YAML comment. */
  | { skipped: string };

interface Token {
  kind: "char" | "escape" | "class" | "open" | "close" | "alt" | "start" | "end";
  text: string;
}

/** Splits a JS pattern into the tokens that matter for anchoring and RE2 compatibility. */
function tokenize(source: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === "\\") {
      if (i + 1 >= source.length) return "a trailing backslash";
      tokens.push({ kind: "escape", text: source.slice(i, i + 2) });
      i += 2;
    } else if (c === "[") {
      // JS reads "[]" as an empty class and "[^]" as any character; RE2 reads "]" there literally.
      const first = source[i + 1] === "^" ? i + 2 : i + 1;
      if (source[first] === "]") return "an empty class [] or [^]";
      // RE2 reads "[:alpha:]" inside a class as a POSIX class; JS as the characters.
      let j = first;
      while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
      if (j >= source.length) return "an unterminated character class";
      if (source.slice(i + 1, j).includes("[:")) return 'a "[:" in a character class';
      tokens.push({ kind: "class", text: source.slice(i, j + 1) });
      i = j + 1;
    } else if (c === "(") {
      const group = /^\((?:\?(?:<[=!]|[=!:]|<[A-Za-z_$][\w$]*>))?/.exec(source.slice(i))![0];
      tokens.push({ kind: "open", text: group });
      i += group.length;
    } else {
      const kind = c === ")"
        ? "close"
        : c === "|"
        ? "alt"
        : c === "^"
        ? "start"
        : c === "$"
        ? "end"
        : "char";
      tokens.push({ kind, text: c });
      i += 1;
    }
  }
  return tokens;
}

/** The JS pattern in RE2 syntax, or why it cannot be. */
function toRe2(tokens: Token[]): string | { skipped: string } {
  let out = "";
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === "open") {
      depth++;
      if (/^\(\?<?[=!]$/.test(t.text)) {
        return { skipped: "a lookaround, which Prometheus' RE2 lacks" };
      }
      // RE2 as in Prometheus' Go wants (?P<name>…).
      out += t.text.startsWith("(?<") ? "(?P" + t.text.slice(2) : t.text;
      continue;
    }
    if (t.kind === "close" && --depth < 0) return { skipped: 'an unbalanced ")"' };
    if (t.kind === "escape") {
      if (/^\\[1-9k]$/.test(t.text)) return { skipped: "a back-reference" };
      if (/^\\[cu]$/.test(t.text)) return { skipped: `the JavaScript escape ${t.text}` };
      // RegExp.source writes "/" as "\/"; RE2 needs no escape for it.
      out += t.text === "\\/" ? "/" : t.text;
      continue;
    }
    out += t.kind === "class" ? t.text.replaceAll("\\/", "/") : t.text;
  }
  return depth === 0 ? out : { skipped: 'an unbalanced "("' };
}

function hasTopLevelAlternation(tokens: Token[]): boolean {
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === "open") depth++;
    else if (t.kind === "close") depth--;
    else if (t.kind === "alt" && depth === 0) return true;
  }
  return false;
}

/** "anything but exactly (a|b)": `^(?!(a|b)$)` or `^(?!(?:a|b)$)`, optionally followed by `.*`. */
const NEGATIVE_SHAPE = /^\^\(\?!\((?:\?:)?(.*)\)\$\)(?:\.\*)?$/s;

/** A PromQL double-quoted string. */
const promString = (s: string) =>
  `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;

/**
 * A label matcher with the meaning of the JS regular expression `source` tested against the
 * label's value. JS searches (unanchored) where Prometheus matches the whole value, so anchors are
 * dropped or `.*` added.
 */
export function labelMatcher(label: string, source: string): MatcherTranslation {
  const negative = NEGATIVE_SHAPE.exec(source);
  if (negative) {
    const inner = tokenize(negative[1]);
    const re2 = typeof inner === "string" ? { skipped: inner } : toRe2(inner);
    // The inner part must be one balanced expression ("a)|(b" is not), free of lookarounds.
    if (typeof re2 === "string") return { matcher: `${label}!~${promString(re2)}` };
  }
  const tokens = tokenize(source);
  if (typeof tokens === "string") return { skipped: `${source} has ${tokens}` };
  const re2 = toRe2(tokens);
  if (typeof re2 !== "string") return { skipped: `${source} uses ${re2.skipped}` };
  if (hasTopLevelAlternation(tokens)) {
    // ^ and $ inside still anchor at the ends of the value in RE2, so .*(?:…).* keeps the meaning.
    return { matcher: `${label}=~${promString(`.*(?:${re2}).*`)}` };
  }
  // toRe2 writes a leading ^ and a trailing $ as themselves, one character each.
  const anchoredStart = tokens[0]?.kind === "start";
  const anchoredEnd = tokens.at(-1)?.kind === "end";
  const body = re2.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  return {
    matcher: `${label}=~${
      promString(`${anchoredStart ? "" : ".*"}${body}${anchoredEnd ? "" : ".*"}`)
    }`,
  };
}

// ---------------------------------------------------------------------------------------------
// A rule's selectors: entity regex and match.<field> as label matchers or info-metric joins
// ---------------------------------------------------------------------------------------------

/** The label node_exporter names each entity by. */
const ENTITY_LABEL: Record<EntityFamily, string> = {
  filesystems: "mountpoint",
  disks: "device",
  interfaces: "device",
  cores: "cpu",
};

/** Entity string fields: a label of the metric itself, or of an info metric joined by device. */
const FIELD_LABELS: Record<string, { label: string; info?: string }> = {
  device: { label: "device" },
  fstype: { label: "fstype" },
  net_operstate: { label: "operstate", info: "node_network_info" },
};

interface RuleSelection {
  matchers: string[];
  /** `and on (…) info{…}` clauses, appended after the comparison. */
  joins: string[];
  notes: string[];
}

function ruleSelection(rule: ThresholdRule): RuleSelection {
  const out: RuleSelection = { matchers: [], joins: [], notes: [] };
  if (rule.scope === "metrics") return out;
  if (rule.entity) {
    let source = rule.entity.source;
    let translatable = true;
    if (rule.scope === "cores") {
      // The model names cores "cpu0"; node_exporter's cpu label holds "0".
      translatable = source.startsWith("^cpu");
      source = "^" + source.slice(4);
    }
    const t = translatable ? labelMatcher(ENTITY_LABEL[rule.scope], source) : {
      skipped: `${rule.entity.source} is not anchored at "^cpu" (the cpu label holds the number)`,
    };
    if ("skipped" in t) {
      out.notes.push(`entity: ${t.skipped}: no matcher, so all ${rule.scope} are watched`);
    } else out.matchers.push(t.matcher);
  }
  for (const [field, re] of Object.entries(rule.match)) {
    const where = FIELD_LABELS[field];
    const t = where
      ? labelMatcher(where.label, re.source)
      : { skipped: `node_exporter has no label for ${field}` };
    if (!("matcher" in t)) {
      out.notes.push(`match.${field}: ${t.skipped}: no matcher, so every ${field} is watched`);
    } else if (where.info) {
      out.joins.push(`and on (instance, device) ${where.info}{${t.matcher}}`);
    } else out.matchers.push(t.matcher);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// sysmon templates → Prometheus (Go text/template) annotations
// ---------------------------------------------------------------------------------------------

/** Literal text for Go templates: "{{" (or a "{" right before an action) must not open one. */
function goLiteral(text: string): string {
  const escaped = text.replaceAll("{{", '{{ "{{" }}');
  return escaped.endsWith("{") ? escaped.slice(0, -1) + '{{ "{" }}' : escaped;
}

/** $value printed as sysmon's formatValue prints the unit ("93.4%", "1.5GiB", "2.0/s"). */
function valueTemplate(unit: string): string {
  switch (unit) {
    case "percent":
      return '{{ printf "%.1f" $value }}%';
    case "1/s":
      return '{{ printf "%.1f" $value }}/s';
    case "bytes":
      return "{{ $value | humanize1024 }}B";
    case "bytes/s":
      return "{{ $value | humanize1024 }}B/s";
    case "seconds":
      return "{{ $value | humanizeDuration }}";
    default:
      return "{{ $value | humanize }}";
  }
}

/** What {{entity}} stands for: the label naming the entity ("" for a scalar, as sysmon). */
function entityTemplate(scope: ThresholdRule["scope"]): string {
  if (scope === "metrics") return "";
  const label = `{{ $labels.${ENTITY_LABEL[scope]} }}`;
  return scope === "cores" ? `cpu${label}` : label;
}

/**
 * A sysmon summary/description as a Prometheus annotation. The threshold, rule, metric, unit,
 * severity and the rule's own labels are known per alert and written literally (annotation
 * templates see the series' labels, not the rule's).
 */
export function annotationTemplate(
  text: string,
  rule: ThresholdRule,
  severity: Severity,
  unit: string,
): string {
  const compiled = parseTemplate(text);
  const vars: Record<string, string> = {
    rule: goLiteral(rule.name),
    metric: goLiteral(rule.metric),
    entity: entityTemplate(rule.scope),
    value: valueTemplate(unit),
    threshold: goLiteral(formatValue(rule[severity]?.raise ?? null, unit)),
    severity,
    host: "{{ $labels.instance }}",
    unit: goLiteral(unit),
  };
  let out = "";
  for (const part of compiled.parts) {
    if (part.kind === "text") out += goLiteral(part.text);
    else if (part.kind === "variable") out += vars[part.name] ?? "";
    else {
      out += part.name in rule.labels
        ? goLiteral(rule.labels[part.name])
        : `{{ $labels.${part.name} }}`;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prometheus rules file
// ---------------------------------------------------------------------------------------------

/** A number as PromQL and YAML read it back exactly. */
const promNumber = (n: number) => String(n);

interface PrometheusExport {
  text: string;
  /** One line per rule left out or matcher dropped (also comments in `text`). */
  notes: string[];
}

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

function hysteresisNote(rule: ThresholdRule, level: Level, unit: string): string | undefined {
  if (level.clear === level.raise) return undefined;
  const raise = formatValue(level.raise, unit);
  const side = rule.direction === "above" ? "below" : "above";
  const hold = rule.keepFiringFor > 0
    ? `keep_firing_for (${formatDuration(rule.keepFiringFor)}) holding it against flapping`
    : "with no keep_firing_for to hold it against flapping";
  return `hysteresis: sysmon raises at ${raise} and clears ${side} ${
    formatValue(level.clear, unit)
  }; Prometheus has no equivalent: this alert fires and clears at ${raise}, ${hold}`;
}

function exportPrometheusRules(all: Rule[]): PrometheusExport {
  const units = new Map(catalog().map((d) => [d.name, d.unit as string]));
  const alerts: { rule: AlertRule; comments: string[] }[] = [];
  const notes: string[] = [];
  const leftOut: string[] = [];
  const rules: ThresholdRule[] = [];
  for (const rule of all) {
    if (rule.type === "threshold") rules.push(rule);
    else {
      // PromQL's predict_linear is the short-window extrapolation sysmon's forecast avoids.
      leftOut.push(
        `${rule.name}: a ${rule.type} rule is evaluated by sysmon itself; with \`serve --alert\` ` +
          `Prometheus can alert on ${
            rule.type === "forecast" ? "sysmon_forecast_seconds_to_target" : "sysmon_anomaly_rate"
          }{rule="${rule.name}"}`,
      );
    }
  }
  for (const rule of rules) {
    const sel = ruleSelection(rule);
    const expr = metricExpression(rule.metric, sel.matchers);
    if (expr === undefined) {
      leftOut.push(`${rule.name}: ${rule.metric} has no node_exporter equivalent`);
      continue;
    }
    const unit = units.get(rule.metric) ?? "count";
    notes.push(...sel.notes.map((n) => `${rule.name}: ${n}`));
    for (const severity of SEVERITIES) {
      const level = rule[severity];
      if (!level) continue;
      const op = rule.direction === "above" ? ">=" : "<=";
      // Severity last: it must tell the two alerts of a rule apart even if a label says otherwise.
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(rule.labels)) labels[k] = goLiteral(v);
      const annotations: Record<string, string> = {};
      for (const key of ["summary", "description"] as const) {
        if (rule[key] !== "") {
          annotations[key] = annotationTemplate(rule[key], rule, severity, unit);
        }
      }
      const alert: AlertRule = {
        alert: rule.name,
        expr: [`${expr} ${op} ${promNumber(level.raise)}`, ...sel.joins].join(" "),
        ...(rule.for > 0 ? { for: formatDuration(rule.for) } : {}),
        ...(rule.keepFiringFor > 0 ? { keep_firing_for: formatDuration(rule.keepFiringFor) } : {}),
        labels: { ...labels, severity },
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      };
      const hysteresis = hysteresisNote(rule, level, unit);
      alerts.push({ rule: alert, comments: [...sel.notes, ...(hysteresis ? [hysteresis] : [])] });
    }
  }
  notes.push(...leftOut.map((l) => `rule ${l}: left out`));

  const doc = new Document({ groups: [{ name: "sysmon", rules: alerts.map((a) => a.rule) }] });
  doc.commentBefore = [
    ` Prometheus alerting rules generated by \`sysmon alert export --format prometheus\` (sysmon ${VERSION})`,
    " from alert.rules. They use node_exporter's metric names, so they work on the /metrics of",
    " `sysmon serve` and of node_exporter alike. keep_firing_for needs Prometheus 2.42 or later.",
    " Check with `promtool check rules FILE`; load with rule_files in prometheus.yml.",
    ...(leftOut.length > 0 ? [" Left out:", ...leftOut.map((l) => `   ${l}`)] : []),
  ].join("\n");
  alerts.forEach((a, i) => {
    if (a.comments.length === 0) return;
    const node = doc.getIn(["groups", 0, "rules", i], true) as YAMLMap;
    node.commentBefore = a.comments.map((c) => wrapComment(c)).join("\n");
  });
  return { text: doc.toString({ lineWidth: 0 }), notes };
}

/** One comment as lines of at most ~96 characters (each yaml comment line gets "#"). */
function wrapComment(text: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + word.length + 1 > 96) {
      lines.push(line);
      line = "";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines.join("\n");
}

/**
 * The rules as a Prometheus rule file: one group "sysmon", one alert per rule and severity
 * (alertname = the rule's name, label severity), over node_exporter metric names.
 */
export function prometheusRules(rules: Rule[]): string {
  return exportPrometheusRules(rules).text;
}

// ---------------------------------------------------------------------------------------------
// Alertmanager configuration
// ---------------------------------------------------------------------------------------------

export interface AlertmanagerOptions {
  /** Labels whose equal values put alerts into one notification. */
  groupBy?: readonly string[];
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  emailTo?: string;
  emailFrom?: string;
  /** host:port of the SMTP relay. */
  smarthost?: string;
  /** A file holding the Slack webhook URL, so the secret stays out of this configuration. */
  slackApiUrlFile?: string;
  slackChannel?: string;
}

/** Placeholders (example.org) and the usual timings; the sysmon config will provide them later. */
export const ALERTMANAGER_DEFAULTS: Required<AlertmanagerOptions> = {
  // An alert series is a rule on a host: one notification per rule and host, all entities in it.
  groupBy: ["alertname", "instance"],
  groupWait: "30s",
  groupInterval: "5m",
  repeatInterval: "4h",
  emailTo: "ops@example.org",
  emailFrom: "alertmanager@example.org",
  smarthost: "smtp.example.org:587",
  slackApiUrlFile: "/etc/prometheus/alertmanager_slack_api_url",
  slackChannel: "#alerts",
};

/**
 * The Alertmanager settings that match sysmon's own channels: grouping and timings from the first
 * e-mail or Slack channel (else webhook), recipients and relay from the e-mail channel, the Slack
 * URL's file from the Slack channel. sysmon groups per host by nature (one process per host);
 * Alertmanager hears many hosts, so `instance` joins group_by (sysmon's `host` label is
 * Prometheus's `instance`). Nothing secret is copied: a URL or password written inline stays out.
 */
export function alertmanagerOptionsFrom(
  channels: Record<string, AlertChannelConfig>,
): AlertmanagerOptions {
  const list = Object.values(channels);
  const email = list.find((c) => c.type === "email");
  const slack = list.find((c) => c.type === "slack");
  const grouped = email ?? slack ?? list.find((c) => c.type === "webhook");
  const opts: AlertmanagerOptions = {};
  if (grouped) {
    const by = grouped.group_by.map((l) => (l === "host" ? "instance" : l));
    opts.groupBy = by[0] === "..." ? by : [...new Set([...by, "instance"])];
    opts.groupWait = formatDuration(grouped.group_wait);
    opts.groupInterval = formatDuration(grouped.group_interval);
    opts.repeatInterval = formatDuration(grouped.repeat_interval);
  }
  if (email) {
    if (email.to.length) opts.emailTo = email.to.join(", ");
    if (email.from) opts.emailFrom = email.from;
    if (email.smtp_host) opts.smarthost = `${email.smtp_host}:${email.smtp_port}`;
  }
  if (slack?.url_file) opts.slackApiUrlFile = slack.url_file;
  return opts;
}

/**
 * Labels an inhibited warning must share with the critical alert: the rule and host, and for
 * per-entity rules the entity (a full / must not hide a filling /home). Absent labels are equal.
 */
const INHIBIT_EQUAL = ["alertname", "instance", "mountpoint", "device", "cpu"];

/** A starting Alertmanager configuration for the exported rules; nothing secret in it. */
export function alertmanagerConfig(opts: AlertmanagerOptions = {}): string {
  const o = { ...ALERTMANAGER_DEFAULTS, ...opts };
  const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar
  const list = (xs: readonly string[]) => `[${xs.map(q).join(", ")}]`;
  return `# Alertmanager configuration generated by \`sysmon alert export --format alertmanager\` (sysmon ${VERSION}),
# for the rules of \`sysmon alert export --format prometheus\`. A starting point: replace the
# example.org placeholders, then check with \`amtool check-config FILE\` (Alertmanager 0.22 or later).
# Secrets stay out of this file: the Slack webhook URL goes into the file named by api_url_file, an
# SMTP password into auth_password_file (Alertmanager 0.25 or later).
route:
  receiver: "ops"
  # As sysmon's own channels group (alert.channels: group_by, plus instance: Alertmanager hears many
  # hosts). sysmon's max_per_hour has no Alertmanager equivalent: group_interval is the throttle.
  group_by: ${list(o.groupBy)}
  # Wait for the other alerts of a group before the first notification.
  group_wait: ${q(o.groupWait)}
  # A changed group (new or resolved alerts) is notified at most this often.
  group_interval: ${q(o.groupInterval)}
  # An unchanged, still firing group is notified again after this long.
  repeat_interval: ${q(o.repeatInterval)}

receivers:
  - name: "ops"
    email_configs:
      - to: ${q(o.emailTo)}
        from: ${q(o.emailFrom)}
        smarthost: ${q(o.smarthost)}
        # auth_username: "alertmanager"
        # auth_password_file: "/etc/prometheus/alertmanager_smtp_password"
        send_resolved: true
    slack_configs:
      - api_url_file: ${q(o.slackApiUrlFile)}
        channel: ${q(o.slackChannel)}
        send_resolved: true
        title: '{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} on {{ .CommonLabels.instance }}'
        text: '{{ range .Alerts }}{{ .Labels.severity }}: {{ .Annotations.summary }}{{ "\\n" }}{{ end }}'

inhibit_rules:
  # Each rule exports a warning and a critical alert; while critical fires, its warning is noise.
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: ${list(INHIBIT_EQUAL)}
`;
}
