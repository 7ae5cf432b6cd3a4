/**
 * The report for a terminal (and for `--format md`): aligned tables of the main series, the time
 * spent past alert thresholds, the busiest entities, gaps, capacity forecasts, anomaly events and
 * charts. `--format json` and `csv` carry every series; this shows the ones people read first.
 */
import { formatValue } from "../alert/template.ts";
import { formatDuration } from "../core/duration.ts";
import { type Column, renderTable } from "../ui/text_table.ts";
import type { CapacityRow, ReportModel, SummaryRow } from "./model.ts";
import { chartLines } from "./text_chart.ts";

/** The series shown in the terminal summary, in this order (per entity where they have one). */
const MAIN_METRICS = [
  "cpu_usage_percent",
  "cpu_iowait_percent",
  "load_average_1m",
  "memory_usage_percent",
  "swap_usage_percent",
  "pressure_cpu_some_avg60",
  "pressure_memory_some_avg60",
  "pressure_io_some_avg60",
  "disk_util_percent",
  "disk_read_bytes_per_second",
  "disk_write_bytes_per_second",
  "net_rx_bytes_per_second",
  "net_tx_bytes_per_second",
  "filesystem_usage_percent",
  "filesystem_inodes_usage_percent",
];

const v = (x: number | null, unit: string) => (x === null ? "—" : formatValue(x, unit));
const time = (iso: string | null) => (iso === null ? "—" : iso.slice(0, 16).replace("T", " "));

export interface TextOptions {
  width: number;
  markdown?: boolean;
}

export function renderText(m: ReportModel, o: TextOptions): string {
  const out: string[] = [];
  const h = (title: string) => out.push("", o.markdown ? `## ${title}` : title, "");
  const table = (columns: Column[], rows: string[][]) =>
    out.push(o.markdown ? markdownTable(columns, rows) : renderTable(columns, rows, o.width));

  const span = formatDuration((Date.parse(m.range.to) - Date.parse(m.range.from)) / 1000);
  const title = `sysmon report: ${m.hosts.join(", ") || "?"}, ${time(m.range.from)} to ` +
    `${time(m.range.to)} UTC (${span}, ${resolutionName(m.range.resolutionSeconds)})`;
  out.push(o.markdown ? `# ${title}` : title);
  out.push(`source: ${m.range.source}`);

  const c = m.coverage;
  const share = c.rangeSeconds > 0 ? (100 * c.coveredSeconds) / c.rangeSeconds : 0;
  h("Coverage");
  out.push(
    `${formatDuration(Math.round(c.coveredSeconds))} of ${
      formatDuration(Math.round(c.rangeSeconds))
    }` +
      ` recorded (${share.toFixed(1)}%), ${c.gaps.length} gap${c.gaps.length === 1 ? "" : "s"}`,
  );
  if (c.gaps.length) {
    table(
      [{ header: "FROM" }, { header: "TO" }, { header: "LENGTH", align: "right" }, {
        header: "REASON",
      }],
      c.gaps.map((g) => [time(g.from), time(g.to), formatDuration(g.seconds), g.reason]),
    );
  }

  const main = m.summary.filter((r) => MAIN_METRICS.includes(r.metric))
    .sort((a, b) => MAIN_METRICS.indexOf(a.metric) - MAIN_METRICS.indexOf(b.metric));
  h("Summary");
  table(
    [
      { header: "METRIC" },
      { header: "ENTITY", flexible: true },
      { header: "MIN", align: "right" },
      { header: "MEAN", align: "right" },
      { header: "P95", align: "right" },
      { header: "MAX", align: "right" },
      { header: "PAST WARN/CRIT", align: "right" },
    ],
    main.map((r) => [
      r.metric,
      r.entity ?? "",
      v(r.min, r.unit),
      v(r.mean, r.unit),
      v(r.p95, r.unit),
      v(r.max, r.unit),
      pastThresholds(r),
    ]),
  );
  const more = m.summary.length - main.length;
  if (more > 0) out.push(`(${more} more series in --format json or csv)`);

  const busy = [
    ...m.busiest.cores.map((b) => ["core", b.entity, v(b.mean, b.unit), v(b.max, b.unit)]),
    ...m.busiest.disks.map((b) => ["disk busy", b.entity, v(b.mean, b.unit), v(b.max, b.unit)]),
    ...m.busiest.interfaces.map((b) => ["received", b.entity, v(b.mean, b.unit), v(b.max, b.unit)]),
  ];
  if (busy.length) {
    h("Busiest");
    table(
      [{ header: "WHAT" }, { header: "ENTITY" }, { header: "MEAN", align: "right" }, {
        header: "MAX",
        align: "right",
      }],
      busy,
    );
  }

  if (m.capacity) {
    h("Capacity");
    if (m.capacity.length === 0) out.push("nothing to forecast in this range");
    else {
      table(
        [
          { header: "RESOURCE" },
          { header: "ENTITY", flexible: true },
          { header: "NOW", align: "right" },
          { header: "GROWTH/DAY", align: "right" },
          ...m.capacity[0].etas.map((e) => ({
            header: `${e.threshold}%`,
            align: "right" as const,
          })),
          { header: "VERDICT" },
          { header: "FIT R²", align: "right" },
        ],
        m.capacity.map((r) => [
          r.resource,
          r.entity ?? "",
          v(r.current, r.unit),
          growth(r),
          ...r.etas.map((e) => (e.at ? time(e.at) : "—")),
          r.verdict,
          r.fit.r2 === null ? "—" : r.fit.r2.toFixed(2),
        ]),
      );
      out.push("");
      for (const r of m.capacity) {
        out.push(
          `${o.markdown ? "- " : "  "}${r.resource}${
            r.entity ? ` ${r.entity}` : ""
          }: ${r.recommendation}`,
        );
      }
    }
  }

  if (m.anomalies) {
    h("Anomalies");
    if (m.anomalies.length === 0) out.push("no anomaly windows in this range");
    else {
      table(
        [{ header: "FROM" }, { header: "TO" }, { header: "SCORE", align: "right" }, {
          header: "SERIES",
          flexible: true,
        }],
        m.anomalies.map((a) => [
          time(a.from),
          time(a.to),
          a.score.toFixed(2),
          a.series.map((s) => `${s.metric}${s.entity ? `[${s.entity}]` : ""} ${v(s.peak, s.unit)}`)
            .join(", "),
        ]),
      );
    }
  }

  if (m.charts.length) {
    h("Charts");
    for (const chart of m.charts) {
      const lines = chartLines(chart, Math.min(o.width, 120), 8);
      out.push(...(o.markdown ? ["```", ...lines, "```"] : lines), "");
    }
  }
  if (m.notes.length) {
    h("Notes");
    for (const n of m.notes) out.push(`${o.markdown ? "- " : ""}${n}`);
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n") + "\n";
}

function pastThresholds(r: SummaryRow): string {
  const w = r.thresholds.filter((t) => t.severity === "warning");
  const c = r.thresholds.filter((t) => t.severity === "critical");
  if (!w.length && !c.length) return "";
  const part = (ts: typeof w) =>
    ts.length ? roughDuration(Math.max(...ts.map((t) => t.seconds))) : "—";
  return `${part(w)} / ${part(c)}`;
}

/** A duration to the minute past an hour ("1d21h13m", not "1d21h12m50s"). */
function roughDuration(seconds: number): string {
  return formatDuration(seconds >= 3600 ? Math.round(seconds / 60) * 60 : seconds);
}

function growth(r: CapacityRow): string {
  if (r.growthPerDay === null) return "—";
  const g = formatValue(r.growthPerDay, r.unit);
  return r.growthCi
    ? `${g} (${formatValue(r.growthCi[0], r.unit)}…${formatValue(r.growthCi[1], r.unit)})`
    : g;
}

function resolutionName(seconds: number): string {
  return seconds === 0
    ? "raw samples"
    : seconds === 60
    ? "1-minute rollups"
    : seconds === 3600
    ? "1-hour rollups"
    : `${formatDuration(seconds)} steps`;
}

function markdownTable(columns: Column[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const head = `| ${columns.map((c) => esc(c.header)).join(" | ")} |`;
  const rule = `| ${columns.map((c) => (c.align === "right" ? "---:" : "---")).join(" | ")} |`;
  return [head, rule, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}
