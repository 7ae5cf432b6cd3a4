/**
 * Query parameters declared once: the same spec validates requests and becomes the parameter list
 * of the OpenAPI document, so the two cannot drift apart.
 */
import { parseDuration } from "../core/duration.ts";
import { parseTimePoint, TIME_POINT_FORMS } from "../core/time_point.ts";
import { ApiError } from "./errors.ts";

interface Base {
  description: string;
  required?: boolean;
  /** May be given more than once (`collect[]=cpu&collect[]=meminfo`); values also split on commas. */
  repeated?: boolean;
  example?: string;
}

export type ParamSpec =
  | Base & { kind: "string"; pattern?: string; maxLength?: number }
  | Base & { kind: "enum"; values: readonly string[]; default?: string }
  | Base & { kind: "time"; default?: string }
  | Base & { kind: "duration"; min?: number; max?: number; default?: string }
  | Base & { kind: "regex" };

export type ParamSpecs = Record<string, ParamSpec>;

/** Parsed values: times in epoch ms, durations in seconds, regexes compiled, repeated as arrays. */
export type ParamValue = string | number | RegExp | string[] | undefined;

const MAX_VALUE_LENGTH = 1024;

function bad(param: string, message: string): never {
  throw new ApiError(400, "bad_parameter", `${param}: ${message}`, { parameter: param });
}

function parseOne(name: string, spec: ParamSpec, raw: string, now: number): ParamValue {
  if (raw.length > MAX_VALUE_LENGTH) bad(name, `longer than ${MAX_VALUE_LENGTH} characters`);
  switch (spec.kind) {
    case "string":
      if (spec.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(raw)) {
        bad(name, `${JSON.stringify(raw)} does not match ${spec.pattern}`);
      }
      return raw;
    case "enum":
      if (!spec.values.includes(raw)) {
        bad(name, `${JSON.stringify(raw)} is not one of ${spec.values.join(", ")}`);
      }
      return raw;
    case "time": {
      const t = parseTimePoint(raw, now);
      if (t === undefined) {
        bad(name, `${JSON.stringify(raw)} is not a time: use ${TIME_POINT_FORMS}`);
      }
      return t;
    }
    case "duration": {
      const d = parseDuration(raw) ?? (/^\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined);
      if (d === undefined) {
        bad(name, `${JSON.stringify(raw)} is not a duration (e.g. 0, 15s, 5m, 1h or seconds)`);
      }
      if (spec.min !== undefined && d < spec.min) bad(name, `must be at least ${spec.min}s`);
      if (spec.max !== undefined && d > spec.max) bad(name, `must be at most ${spec.max}s`);
      return d;
    }
    case "regex":
      try {
        return new RegExp(raw);
      } catch (err) {
        bad(name, `not a regular expression: ${(err as Error).message}`);
      }
  }
}

/** Validates a query string against the specs; unknown parameters are refused (typos show up). */
export function parseParams(
  specs: ParamSpecs,
  query: URLSearchParams,
  now: number,
): Record<string, ParamValue> {
  for (const key of new Set(query.keys())) {
    if (!Object.hasOwn(specs, key)) {
      const known = Object.keys(specs);
      bad(key, `unknown parameter; ${known.length ? `known: ${known.join(", ")}` : "none taken"}`);
    }
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const all = query.getAll(name);
    if (spec.repeated) {
      const values = all.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
      if (spec.required && values.length === 0) bad(name, "required");
      for (const v of values) parseOne(name, spec, v, now);
      out[name] = values;
      continue;
    }
    if (all.length > 1) bad(name, "given more than once");
    const raw = all[0] ?? ("default" in spec ? spec.default : undefined);
    if (raw === undefined || raw === "") {
      if (spec.required) bad(name, "required");
      out[name] = undefined;
      continue;
    }
    out[name] = parseOne(name, spec, raw, now);
  }
  return out;
}

/** The OpenAPI 3.1 parameter objects of a spec list. */
export function openApiParams(specs: ParamSpecs, location: "query" | "path" = "query") {
  return Object.entries(specs).map(([name, spec]) => {
    // deno-lint-ignore no-explicit-any
    const schema: Record<string, any> = { type: "string" };
    switch (spec.kind) {
      case "string":
        if (spec.pattern) schema.pattern = `^(?:${spec.pattern})$`;
        break;
      case "enum":
        schema.enum = [...spec.values];
        if (spec.default) schema.default = spec.default;
        break;
      case "time":
        schema.description = TIME_POINT_FORMS;
        if (spec.default) schema.default = spec.default;
        break;
      case "duration":
        schema.description = "a duration such as 15s, 5m, 1h, or a number of seconds";
        if (spec.default) schema.default = spec.default;
        break;
      case "regex":
        schema.format = "regex";
        break;
    }
    const param: Record<string, unknown> = {
      name,
      in: location,
      required: location === "path" || !!spec.required,
      description: spec.description,
      schema: spec.repeated ? { type: "array", items: schema } : schema,
    };
    if (spec.repeated) {
      param.style = "form";
      param.explode = true;
    }
    if (spec.example) param.example = spec.repeated ? [spec.example] : spec.example;
    return param;
  });
}
