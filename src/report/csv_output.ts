/**
 * `report --format csv`: the report as tidy data, one value per row —
 * `section,metric,entity,field,value` — so every part (summary, thresholds, gaps, capacity,
 * anomalies) fits one table that a spreadsheet or `csv-parse` reads without knowing its shape.
 * Numbers are in the model's units; times are ISO 8601; fields follow --format json's names.
 */
import type { ReportModel } from "./model.ts";

type Cell = string | number | null | undefined;

export function renderCsv(m: ReportModel): string {
  const rows: Cell[][] = [["section", "metric", "entity", "field", "value"]];
  const add = (
    section: string,
    metric: string,
    entity: string | undefined,
    field: string,
    value: Cell,
  ) => rows.push([section, metric, entity ?? "", field, value]);

  add("range", "", "", "from", m.range.from);
  add("range", "", "", "to", m.range.to);
  add("range", "", "", "resolution_seconds", m.range.resolutionSeconds);
  add("coverage", "", "", "covered_seconds", m.coverage.coveredSeconds);
  add("coverage", "", "", "range_seconds", m.coverage.rangeSeconds);
  m.coverage.gaps.forEach((g, i) => {
    add("gap", "", String(i + 1), "from", g.from);
    add("gap", "", String(i + 1), "to", g.to);
    add("gap", "", String(i + 1), "reason", g.reason);
  });
  for (const r of m.summary) {
    for (const field of ["min", "mean", "p95", "max", "count"] as const) {
      add("summary", r.metric, r.entity, field, r[field]);
    }
    add("summary", r.metric, r.entity, "unit", r.unit);
    for (const t of r.thresholds) {
      add("summary", r.metric, r.entity, `seconds_past_${t.severity}_${t.value}`, t.seconds);
    }
  }
  for (const r of m.capacity ?? []) {
    add("capacity", r.metric, r.entity, "verdict", r.verdict);
    add("capacity", r.metric, r.entity, "current", r.current);
    add("capacity", r.metric, r.entity, "growth_per_day", r.growthPerDay);
    add("capacity", r.metric, r.entity, "growth_per_day_low", r.growthCi?.[0]);
    add("capacity", r.metric, r.entity, "growth_per_day_high", r.growthCi?.[1]);
    for (const e of r.etas) {
      add("capacity", r.metric, r.entity, `reaches_${e.threshold}`, e.at ?? e.reason ?? "");
      add("capacity", r.metric, r.entity, `reaches_${e.threshold}_earliest`, e.earliest);
      add("capacity", r.metric, r.entity, `reaches_${e.threshold}_latest`, e.latest);
    }
    add("capacity", r.metric, r.entity, "fit_r2", r.fit.r2);
    add("capacity", r.metric, r.entity, "recommendation", r.recommendation);
  }
  (m.anomalies ?? []).forEach((a, i) => {
    for (const s of a.series) {
      const id = `${i + 1}`;
      add("anomaly", s.metric, s.entity, `event_${id}_from`, a.from);
      add("anomaly", s.metric, s.entity, `event_${id}_to`, a.to);
      add("anomaly", s.metric, s.entity, `event_${id}_score`, a.score);
      add("anomaly", s.metric, s.entity, `event_${id}_peak`, s.peak);
    }
  });
  for (const n of m.notes) add("note", "", "", "text", n);
  return rows.map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

/** RFC 4180: quote when needed; null and undefined are empty. */
function cell(v: Cell): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
