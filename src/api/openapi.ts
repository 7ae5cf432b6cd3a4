/** The OpenAPI 3.1 document, built from the route table and the same parameter specs that validate. */
import { catalog } from "../core/catalog.ts";
import { sampleJsonSchema } from "../core/json_schema.ts";
import { VERSION } from "../version.ts";
import { ERROR_SCHEMA } from "./errors.ts";
import { openApiParams } from "./params.ts";
import type { Route } from "./routes.ts";

const RANGE_ANSWER = {
  type: "object",
  required: ["start", "end", "step", "aggregation", "series", "points"],
  properties: {
    start: { type: "integer", description: "Epoch ms, inclusive." },
    end: { type: "integer", description: "Epoch ms, exclusive." },
    step: { type: "number", description: "Seconds per point (0: as recorded)." },
    aggregation: { type: "string" },
    series: { type: "array", items: { type: "string" }, description: "metric or metric[entity]" },
    points: {
      type: "array",
      items: {
        type: "object",
        required: ["time", "values"],
        properties: {
          time: { type: "integer", description: "Epoch ms of the step's start." },
          values: { type: "object", additionalProperties: { type: ["number", "null"] } },
        },
      },
    },
  },
};

export function openApiDocument(routes: readonly Route[], protectedAccess: Set<string>) {
  const paths: Record<string, unknown> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [code, res] of Object.entries(r.responses)) {
      const isError = Number(code) >= 400;
      const contentType = isError ? "application/json" : res.contentType;
      const schema = isError ? { $ref: "#/components/schemas/Error" } : res.schema;
      responses[code] = {
        description: res.description,
        content: { [contentType]: schema ? { schema } : {} },
      };
    }
    const secured = protectedAccess.has(r.access);
    if (secured) {
      responses["401"] = {
        description: "Missing or wrong bearer token.",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      };
    }
    paths[r.path] = {
      get: {
        operationId: r.path.replace(/[^a-zA-Z0-9]+/g, "_").replace(/^_|_$/g, "") || "index",
        tags: [r.tag],
        summary: r.summary,
        description: r.description,
        parameters: [
          ...openApiParams(r.pathParams ?? {}, "path"),
          ...openApiParams(r.params),
        ],
        responses,
        security: secured ? [{ bearer: [] }] : [],
      },
    };
  }
  // The sample schema's internal "#/$defs/…" references must point into this document instead.
  const sample = JSON.parse(
    JSON.stringify(sampleJsonSchema(catalog())).replaceAll(
      '"#/$defs/',
      '"#/components/schemas/Sample/$defs/',
    ),
  ) as Record<string, unknown>;
  delete sample.$schema;
  delete sample.$id;
  return {
    openapi: "3.1.0",
    info: {
      title: "sysmon",
      version: VERSION,
      description: "Linux host metrics: a node_exporter-compatible /metrics endpoint and a REST " +
        "API over the current sample and recorded history. Errors share one shape " +
        '({"error": {"status", "code", "message"}}).',
    },
    paths,
    components: {
      schemas: { Sample: sample, Error: ERROR_SCHEMA, RangeAnswer: RANGE_ANSWER },
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "A token made by `sysmon token`; its hash goes in serve.auth.token_hashes.",
        },
      },
    },
  };
}
