/** GET /metrics: node_exporter-compatible exposition read fresh, plus sysmon_ extras. */
import { renderExposition } from "../expose/render.ts";
import {
  type ProcessStats,
  readProcessStats,
  writeProcessMetrics,
} from "../expose/self_process.ts";
import type { ExpositionWriter } from "../expose/writer.ts";
import type { ActiveAlert, SeriesAnalysis } from "../alert/engine.ts";
import type { ServeContext } from "./context.ts";
import { ApiError } from "./errors.ts";
import { afterLargeResponse } from "./memory.ts";
import { textResponse } from "./respond.ts";
import type { Route } from "./routes.ts";
import { selectCollectors } from "./scrape.ts";

export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Counters of this server, for its own exposition. */
export const httpStats = { requests: 0, unauthorized: 0 };

function writeExtras(ctx: ServeContext, out: ExpositionWriter, self: ProcessStats | undefined) {
  if (self) writeProcessMetrics(self, out);
  out.family(
    "sysmon_self_metrics_success",
    "gauge",
    "1 when sysmon could read its own process statistics (/proc/self).",
    [[undefined, self ? 1 : 0]],
  );
  if (ctx.alerts) writeAlerts(ctx.alerts(), out);
  if (ctx.analyses) writeAnalyses(ctx.analyses(), out);
  const sampler = ctx.sampler.stats;
  out.family(
    "sysmon_sampler_collections_total",
    "counter",
    "Ticks of the shared sampler (its readings feed the ratios, the API and recording).",
    [[undefined, sampler.collections]],
  );
  out.family(
    "sysmon_sampler_missed_ticks_total",
    "counter",
    "Sampler ticks skipped because a collection ran late.",
    [[undefined, sampler.missedTicks]],
  );
  out.family(
    "sysmon_http_requests_total",
    "counter",
    "HTTP requests answered, all routes.",
    [[undefined, httpStats.requests]],
  );
  out.family(
    "sysmon_http_unauthorized_total",
    "counter",
    "Requests refused for a missing or wrong token.",
    [[undefined, httpStats.unauthorized]],
  );
  if (ctx.recording && ctx.store) {
    const st = ctx.store.stats();
    out.family(
      "sysmon_store_samples_written_total",
      "counter",
      "Samples written to the data directory by serve --record.",
      [[undefined, st.samplesWritten]],
    );
    out.family(
      "sysmon_store_samples_buffered",
      "gauge",
      "Samples waiting in memory because the data directory is not writable.",
      [[undefined, st.samplesBuffered]],
    );
    out.family(
      "sysmon_store_dropped_samples_total",
      "counter",
      "Samples lost because the in-memory buffer overflowed while writes failed.",
      [[undefined, st.samplesDropped]],
    );
    out.family(
      "sysmon_store_write_errors_total",
      "counter",
      "Failed writes to the data directory.",
      [[undefined, st.writeErrors]],
    );
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Like Prometheus's ALERTS: one series per pending or firing alert, value 1. */
function writeAlerts(active: ActiveAlert[], out: ExpositionWriter) {
  out.family(
    "sysmon_alerts",
    "gauge",
    "Pending and firing alerts of sysmon's alert engine (1 per alert), as Prometheus's ALERTS.",
    active.map((a) => {
      const labels: Record<string, string> = { alertstate: a.phase };
      for (const [k, v] of Object.entries(a.labels)) if (LABEL_NAME.test(k)) labels[k] = v;
      return [labels, 1];
    }),
  );
}

type Point = [Record<string, string>, number];

/**
 * The forecast and anomaly rules' analyses, one series per rule and entity, so Grafana can draw
 * what the alerts judge. A series without an answer yet (too little history) is left out.
 */
function writeAnalyses(analyses: SeriesAnalysis[], out: ExpositionWriter) {
  const toTarget: Point[] = [];
  const growth: Point[] = [];
  const score: Point[] = [];
  const rate: Point[] = [];
  for (const a of analyses) {
    const labels: Record<string, string> = { rule: a.rule, metric: a.metric };
    for (const [k, v] of Object.entries(a.labels)) {
      if (LABEL_NAME.test(k) && !(k in labels)) labels[k] = v;
    }
    const s = a.analysis;
    if (s.kind === "forecast") {
      if (s.secondsToTarget !== null) toTarget.push([labels, s.secondsToTarget]);
      if (s.growthPerSecond !== null) growth.push([labels, s.growthPerSecond]);
    } else {
      if (s.judged > 0) score.push([labels, s.score]);
      if (s.rate !== null) rate.push([labels, s.rate]);
    }
  }
  if (toTarget.length > 0) {
    out.family(
      "sysmon_forecast_seconds_to_target",
      "gauge",
      "Forecast rules: seconds until the metric's trend reaches the rule's target (+Inf: not " +
        "heading there, 0: reached), as report --capacity computes it.",
      toTarget,
    );
  }
  if (growth.length > 0) {
    out.family(
      "sysmon_forecast_growth_per_second",
      "gauge",
      "Forecast rules: the robust trend's growth of the metric, in its unit per second.",
      growth,
    );
  }
  if (score.length > 0) {
    out.family(
      "sysmon_anomaly_score",
      "gauge",
      "Anomaly rules: the latest judged minute's score (1 or more: anomalous; two detectors " +
        "agree at this multiple of their thresholds).",
      score,
    );
  }
  if (rate.length > 0) {
    out.family(
      "sysmon_anomaly_rate",
      "gauge",
      "Anomaly rules: fraction (0-1) of the rule's window's judged minutes flagged anomalous.",
      rate,
    );
  }
}

export const metricsRoute: Route = {
  path: "/metrics",
  tag: "exporter",
  access: "metrics",
  summary: "Prometheus exposition",
  description:
    "node_exporter-compatible families (cpu, loadavg, meminfo, pressure, diskstats, netdev, " +
    "netclass, filesystem) read fresh on every scrape, sysmon_*_ratio gauges (0-1) from the " +
    "sampler's last completed interval, and sysmon's self metrics. Text format 0.0.4; gzip when " +
    "the client accepts it.",
  params: {
    "collect[]": {
      kind: "string",
      repeated: true,
      description:
        "Only these collectors (node_exporter names), e.g. collect[]=cpu&collect[]=meminfo.",
      example: "cpu",
    },
    "exclude[]": {
      kind: "string",
      repeated: true,
      description: "Every collector but these.",
      example: "filesystem",
    },
  },
  responses: {
    200: { description: "The exposition.", contentType: EXPOSITION_TYPE },
    400: { description: "Unknown collector, or collect[] with exclude[].", contentType: "" },
  },
  async handle(req, params, ctx) {
    const available = ctx.scraper.families.map((f) => f.name);
    const choice = selectCollectors(
      available,
      params["collect[]"] as string[],
      params["exclude[]"] as string[],
    );
    if (choice.error) {
      const param = (params["exclude[]"] as string[]).length > 0 &&
          (params["collect[]"] as string[]).length === 0
        ? "exclude[]"
        : "collect[]";
      throw new ApiError(400, "bad_parameter", choice.error, { parameter: param });
    }
    const [scrape, self] = await Promise.all([
      ctx.scraper.scrape(choice.names),
      // The process's own /proc, whatever --procfs says (that may be a host's tree).
      readProcessStats("/proc").catch((err) => {
        ctx.log.debug(`self metrics: ${(err as Error).message}`);
        return undefined;
      }),
    ]);
    const text = renderExposition({
      families: scrape.families,
      readings: scrape.readings,
      sample: ctx.sampler.latestSample(),
      statuses: scrape.statuses,
      dropped: ctx.dropped,
      selected: choice.names,
      extra: (out) => writeExtras(ctx, out, self),
    });
    const res = await textResponse(req, 200, text, EXPOSITION_TYPE);
    afterLargeResponse();
    return res;
  },
};
