/** The JSON Schema (draft 2020-12) of the version-1 sample, generated from the metric catalogue. */
import { ENTITY_FAMILIES, type MetricDef } from "./model.ts";
import { ENTITY_KEYS } from "./catalog.ts";

type Json = Record<string, unknown>;

function metricSchema(d: MetricDef): Json {
  if (d.kind === "label") return { type: "string", description: d.help };
  const s: Json = {
    type: ["number", "null"],
    description: `${d.help} [${d.unit}] — ${d.formula}`,
  };
  if (d.unit === "percent") Object.assign(s, { minimum: 0, maximum: 100 });
  else if (d.unit !== "label") s.minimum = 0;
  return s;
}

export function sampleJsonSchema(defs: readonly MetricDef[]): Json {
  const props = (scope: string) =>
    Object.fromEntries(defs.filter((d) => d.scope === scope).map((d) => [d.name, metricSchema(d)]));
  const $defs: Json = {};
  for (const fam of ENTITY_FAMILIES) {
    $defs[fam] = {
      type: "object",
      description: `One record per entity, keyed by ${ENTITY_KEYS[fam]}.`,
      properties: props(fam),
      additionalProperties: false,
    };
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://github.com/sysmon/sysmon/docs/schema/sample-v1.json",
    title: "sysmon sample, model version 1",
    description:
      "One reading as printed by `sysmon snapshot --json` and stored by `sysmon record`. Metrics absent " +
      "from an object were not collected (feature missing, collector disabled or failed); null means " +
      "collected but not computable this interval (e.g. a rate on the first reading).",
    type: "object",
    required: [
      "version",
      "timestamp",
      "host",
      "interval",
      "metrics",
      ...ENTITY_FAMILIES,
      "errors",
    ],
    additionalProperties: false,
    properties: {
      version: { const: 1 },
      timestamp: { type: "string", format: "date-time", description: "UTC time of the reading" },
      host: { type: "string" },
      interval: {
        type: ["number", "null"],
        minimum: 0,
        description: "Seconds between the two readings rates came from; null without rates",
      },
      metrics: { type: "object", properties: props("metrics"), additionalProperties: false },
      ...Object.fromEntries(
        ENTITY_FAMILIES.map((
          f,
        ) => [f, { type: "object", additionalProperties: { $ref: `#/$defs/${f}` } }]),
      ),
      errors: {
        type: "array",
        items: {
          type: "object",
          required: ["collector", "message"],
          additionalProperties: false,
          properties: { collector: { type: "string" }, message: { type: "string" } },
        },
      },
    },
    $defs,
  };
}
