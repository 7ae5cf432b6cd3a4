/** The REST API under /api/v1: current snapshot, range queries, metric list, alerts, status. */
import { catalog } from "../core/catalog.ts";
import { ENTITY_FAMILIES, type EntityFamily, type Sample } from "../core/model.ts";
import { formatDuration } from "../core/duration.ts";
import { type Aggregation, AGGREGATIONS, type Point } from "../store/types.ts";
import { VERSION } from "../version.ts";
import type { SeriesAnalysis } from "../alert/engine.ts";
import type { ServeContext } from "./context.ts";
import { ApiError } from "./errors.ts";
import { afterLargeResponse } from "./memory.ts";
import { jsonResponse } from "./respond.ts";
import type { Route } from "./routes.ts";

export const SAMPLE_REF = { $ref: "#/components/schemas/Sample" };
const SNAPSHOT_FAMILIES = ["metrics", ...ENTITY_FAMILIES] as const;

function latest(ctx: ServeContext): Sample {
  const s = ctx.sampler.latestSample();
  if (!s) {
    throw new ApiError(503, "not_ready", "no sample yet: the sampler has not completed a reading");
  }
  return s;
}

const snapshotRoute: Route = {
  path: "/api/v1/snapshot",
  tag: "api",
  access: "api",
  summary: "Current sample",
  description:
    "The sampler's latest sample in the version-1 JSON model (docs/schema/sample-v1.json), " +
    "as `sysmon snapshot --json` prints it. Rates cover the sampler's last completed interval.",
  params: {},
  responses: {
    200: { description: "The latest sample.", contentType: "application/json", schema: SAMPLE_REF },
    503: { description: "No sample yet (just started).", contentType: "application/json" },
  },
  handle: (req, _p, ctx) => jsonResponse(req, 200, latest(ctx)),
};

const snapshotFamilyRoute: Route = {
  path: "/api/v1/snapshot/{family}",
  tag: "api",
  access: "api",
  summary: "One family of the current sample, or one entity",
  description: "`metrics` (the scalar metrics) or one entity family (cores, disks, interfaces, " +
    "filesystems) of the latest sample, with the sample's version, timestamp, host and interval. " +
    "`entity` narrows an entity family to one entity (a mount point such as /var, a device).",
  pathParams: {
    family: {
      kind: "enum",
      values: SNAPSHOT_FAMILIES,
      description: "metrics, cores, disks, interfaces or filesystems.",
    },
  },
  params: {
    entity: {
      kind: "string",
      description: "One entity of the family: cpu0, sda, eth0, /var …",
      example: "/",
    },
  },
  responses: {
    200: { description: "The family (or entity).", contentType: "application/json" },
    404: { description: "No such entity.", contentType: "application/json" },
  },
  handle(req, params, ctx) {
    const s = latest(ctx);
    const family = params.family as (typeof SNAPSHOT_FAMILIES)[number];
    const head = { version: s.version, timestamp: s.timestamp, host: s.host, interval: s.interval };
    const entity = params.entity as string | undefined;
    if (entity === undefined) return jsonResponse(req, 200, { ...head, [family]: s[family] });
    if (family === "metrics") {
      throw new ApiError(400, "bad_parameter", "entity: the scalar metrics have no entities", {
        parameter: "entity",
      });
    }
    const entities = s[family as EntityFamily];
    const record = Object.hasOwn(entities, entity) ? entities[entity] : undefined;
    if (!record) {
      const known = Object.keys(s[family as EntityFamily]);
      throw new ApiError(
        404,
        "not_found",
        `no ${family} entity ${JSON.stringify(entity)} in the latest sample; known: ${
          known.slice(0, 20).join(", ") || "none"
        }${known.length > 20 ? ", …" : ""}`,
      );
    }
    return jsonResponse(req, 200, { ...head, [family]: { [entity]: record } });
  },
};

/** Steps the automatic choice picks from: round numbers people expect on a chart axis. */
const NICE_STEPS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  21600,
  43200,
  86400,
];
const AUTO_POINTS = 1000;

/** The smallest round step that gives at most `points` points over the range. */
export function roundStep(rangeSeconds: number, points: number): number {
  const want = rangeSeconds / points;
  return NICE_STEPS.find((s) => s >= want) ?? Math.ceil(want / 86400) * 86400;
}

export const autoStep = (rangeSeconds: number) => roundStep(rangeSeconds, AUTO_POINTS);

/** A data directory that `record` has written holds its FORMAT marker. */
async function hasRecordedData(dir: string): Promise<boolean> {
  return await Deno.stat(`${dir}/FORMAT`).then(() => true, () => false);
}

const KNOWN_METRICS = new Set(catalog().map((d) => d.name));

const queryRangeRoute: Route = {
  path: "/api/v1/query_range",
  tag: "api",
  access: "api",
  summary: "Recorded history of some metrics",
  description: "Reads what `sysmon record` (or `serve --record`) stored, through the storage " +
    "interface. Each point is the step's start time (epoch ms) and the aggregated value of every " +
    "selected series (`metric` or `metric[entity]`). Steps of a minute or more are answered from " +
    "the rollup tiers. Stored precision: integers exact, other numbers 6 significant digits.",
  params: {
    metric: {
      kind: "string",
      repeated: true,
      required: true,
      pattern: "[a-z0-9_]+",
      description: "Model metric names (docs/metrics.md); repeat or separate with commas.",
      example: "cpu_usage_percent",
    },
    entity: { kind: "regex", description: "Keep only entities matching this regular expression." },
    start: { kind: "time", default: "-1h", description: "First time (inclusive)." },
    end: { kind: "time", default: "now", description: "Last time (exclusive)." },
    step: {
      kind: "duration",
      min: 0,
      max: 366 * 86400,
      description: "Seconds per point; 0 returns samples as recorded. Default: a round step " +
        `giving at most ${AUTO_POINTS} points.`,
    },
    aggregation: {
      kind: "enum",
      values: AGGREGATIONS,
      default: "avg",
      description: "How values inside one step are reduced.",
    },
  },
  responses: {
    200: {
      description: "The points.",
      contentType: "application/json",
      schema: { $ref: "#/components/schemas/RangeAnswer" },
    },
    400: { description: "Bad parameter, or too many points.", contentType: "application/json" },
    404: { description: "No data directory.", contentType: "application/json" },
  },
  async handle(req, params, ctx) {
    const metrics = params.metric as string[];
    for (const m of metrics) {
      if (!KNOWN_METRICS.has(m)) {
        throw new ApiError(
          400,
          "bad_parameter",
          `metric: unknown metric ${JSON.stringify(m)} (GET /api/v1/metrics lists them)`,
          { parameter: "metric" },
        );
      }
    }
    const from = params.start as number;
    const to = params.end as number;
    if (!(to > from)) {
      throw new ApiError(400, "bad_parameter", "end: must be after start", { parameter: "end" });
    }
    const rangeSeconds = (to - from) / 1000;
    const step = (params.step as number | undefined) ?? autoStep(rangeSeconds);
    const max = ctx.serve.max_points;
    if (step > 0 && rangeSeconds / step > max) {
      throw new ApiError(
        400,
        "too_many_points",
        `${formatDuration(rangeSeconds)} at step ${formatDuration(step)} is ${
          Math.ceil(rangeSeconds / step)
        } points per series; the limit is ${max} (serve.max_points): use step >= ${
          formatDuration(roundStep(rangeSeconds, max))
        } or a shorter range`,
        { parameter: "step" },
      );
    }
    if (!ctx.store) {
      throw new ApiError(404, "no_data", "no data directory: pass --data DIR or set storage.path");
    }
    if (!ctx.recording && ctx.dataDir && !(await hasRecordedData(ctx.dataDir))) {
      throw new ApiError(
        404,
        "no_data",
        `nothing recorded in ${ctx.dataDir} yet: run \`sysmon record\` or \`sysmon serve --record\``,
      );
    }
    const deadline = performance.now() + ctx.serve.request_timeout * 1000;
    const points: Point[] = [];
    const series = new Set<string>();
    let values = 0;
    for await (
      const p of ctx.store.query({
        from,
        to,
        metrics,
        entity: params.entity as RegExp | undefined,
        step,
        aggregation: params.aggregation as Aggregation,
      })
    ) {
      if (step === 0 && points.length >= max) {
        throw new ApiError(
          400,
          "too_many_points",
          `more than ${max} recorded samples in this range (serve.max_points): pass a step ` +
            `(e.g. step=${formatDuration(autoStep(rangeSeconds))}) or a shorter range`,
          { parameter: "step" },
        );
      }
      for (const k in p.values) series.add(k);
      values += Object.keys(p.values).length;
      if (values > ctx.serve.max_values) {
        throw new ApiError(
          400,
          "too_many_points",
          `the answer would hold more than ${ctx.serve.max_values} values (serve.max_values): ` +
            "select fewer metrics, narrow entity, or use a larger step",
        );
      }
      if (performance.now() > deadline) {
        throw new ApiError(503, "timeout", "the query took longer than serve.request_timeout");
      }
      points.push(p);
    }
    const res = await jsonResponse(req, 200, {
      start: from,
      end: to,
      step,
      aggregation: params.aggregation,
      series: [...series].sort(),
      points,
    });
    afterLargeResponse();
    return res;
  },
};

const metricsListRoute: Route = {
  path: "/api/v1/metrics",
  tag: "api",
  access: "api",
  summary: "Metrics: the catalogue and what is recorded",
  description: "Every model metric with its unit, kind and meaning, and the store's summary: " +
    "which metrics the newest data holds, the tiers with their time spans, and the hosts.",
  params: {},
  responses: {
    200: { description: "Catalogue and store summary.", contentType: "application/json" },
  },
  async handle(req, _p, ctx) {
    const info = ctx.store ? await ctx.store.info().catch(() => undefined) : undefined;
    return jsonResponse(req, 200, {
      catalog: catalog().map((d) => ({
        name: d.name,
        scope: d.scope,
        unit: d.unit,
        kind: d.kind,
        help: d.help,
      })),
      recorded: info ?? null,
    });
  },
};

const alertsRoute: Route = {
  path: "/api/v1/alerts",
  tag: "api",
  access: "api",
  summary: "Current alerts",
  description: "Pending and firing alerts of the alert engine when it runs in this process " +
    '(`serve --alert`), firing first; `engine` is "not running" otherwise and the lists empty. ' +
    "`analyses` has what forecast and anomaly rules judge per series: `seconds_to_target` " +
    '(null with `status` "not heading there" or "no forecast", `reason` says why), ' +
    "`growth_per_second`, or the anomaly `score` and `rate` (0-1, null before a judged minute).",
  params: {},
  responses: { 200: { description: "Alert states.", contentType: "application/json" } },
  handle: (req, _p, ctx) =>
    jsonResponse(
      req,
      200,
      ctx.alerts
        ? {
          engine: "running",
          alerts: ctx.alerts(),
          analyses: (ctx.analyses?.() ?? []).map(analysisJson),
        }
        : { engine: "not running", alerts: [], analyses: [] },
    ),
};

/** An analysis as JSON, which has no Infinity: "not heading there" says it in words. */
function analysisJson(a: SeriesAnalysis) {
  const { analysis: s, ...series } = a;
  if (s.kind === "anomaly") {
    return { ...series, kind: s.kind, score: s.score, rate: s.rate, judged_minutes: s.judged };
  }
  const seconds = s.secondsToTarget;
  return {
    ...series,
    kind: s.kind,
    status: seconds === null
      ? "no forecast"
      : seconds === Infinity
      ? "not heading there"
      : seconds === 0
      ? "reached"
      : "forecast",
    seconds_to_target: seconds !== null && Number.isFinite(seconds) ? seconds : null,
    growth_per_second: s.growthPerSecond,
    reason: s.reason,
    history_seconds: s.historySeconds,
  };
}

const statusRoute: Route = {
  path: "/api/v1/status",
  tag: "api",
  access: "api",
  summary: "Server status",
  description: "Version, uptime, sampler interval and per-collector status, recording state.",
  params: {},
  responses: { 200: { description: "Status.", contentType: "application/json" } },
  handle(req, _p, ctx) {
    const store = ctx.recording && ctx.store ? ctx.store.stats() : undefined;
    return jsonResponse(req, 200, {
      version: VERSION,
      deno: Deno.version.deno,
      listen: ctx.listen,
      started: new Date(ctx.startedAt).toISOString(),
      uptime_seconds: Math.round((ctx.now() - ctx.startedAt) / 1000),
      interval_seconds: ctx.interval,
      sampler: { ...ctx.sampler.stats, collectors: ctx.sampler.statuses() },
      data_dir: ctx.dataDir ?? null,
      recording: ctx.recording,
      store: store ?? null,
      memory: Deno.memoryUsage(),
    });
  },
};

export const apiRoutes: Route[] = [
  snapshotRoute,
  snapshotFamilyRoute,
  queryRangeRoute,
  metricsListRoute,
  alertsRoute,
  statusRoute,
];
