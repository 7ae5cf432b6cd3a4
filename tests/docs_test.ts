/** docs/metrics.md and the JSON Schema are generated from the code: they must be up to date. */
import { assert, assertEquals } from "./assert.ts";
import { catalog } from "../src/core/catalog.ts";
import { sampleJsonSchema } from "../src/core/json_schema.ts";
import { metricsMarkdown } from "../src/core/metrics_doc.ts";
import { sysmon } from "./cli_util.ts";
import { VERSION } from "../src/version.ts";

const root = new URL("..", import.meta.url).pathname;

Deno.test("docs: metrics.md and sample-v1.json match the code (deno task gen-docs)", async () => {
  const defs = catalog();
  assertEquals(await Deno.readTextFile(`${root}docs/metrics.md`), metricsMarkdown(defs));
  assertEquals(
    await Deno.readTextFile(`${root}docs/schema/sample-v1.json`),
    JSON.stringify(sampleJsonSchema(defs), null, 2) + "\n",
  );
  const names = defs.map((d) => `${d.scope}.${d.name}`);
  assertEquals(new Set(names).size, names.length, "a metric is defined twice");
});

Deno.test("docs: every seed metric name is in the catalogue verbatim", () => {
  const names = new Set(catalog().map((d) => d.name));
  for (
    const n of [
      "cpu_usage_percent",
      "cpu_user_time",
      "cpu_system_time",
      "cpu_idle_time",
      "cpu_iowait_time",
      "load_average_1m",
      "load_average_5m",
      "load_average_15m",
      "memory_total",
      "memory_used",
      "memory_free",
      "memory_available",
      "memory_usage_percent",
      "memory_cached",
      "memory_buffers",
      "swap_total",
      "swap_used",
      "swap_free",
      "swap_usage_percent",
    ]
  ) assert(names.has(n), `seed metric ${n} missing`);
});

/** A small validator for the JSON Schema subset the generator emits (types, bounds, keys, $ref). */
function validate(
  schema: Record<string, unknown>,
  value: unknown,
  path: string,
  defs: Record<string, unknown>,
): string[] {
  const s = schema.$ref
    ? defs[(schema.$ref as string).split("/").pop()!] as Record<string, unknown>
    : schema;
  const errs: string[] = [];
  if ("const" in s && value !== s.const) errs.push(`${path}: expected ${s.const}`);
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  const typeOf = (v: unknown) => v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
  if (types.length && !types.includes(typeOf(value))) {
    errs.push(`${path}: ${typeOf(value)} is not ${types}`);
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) {
      errs.push(`${path}: ${value} < ${s.minimum}`);
    }
    if (typeof s.maximum === "number" && value > s.maximum) {
      errs.push(`${path}: ${value} > ${s.maximum}`);
    }
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const k of (s.required as string[] | undefined) ?? []) {
      if (!(k in obj)) errs.push(`${path}.${k}: missing`);
    }
    const props = (s.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errs.push(...validate(props[k], v, `${path}.${k}`, defs));
      else if (s.additionalProperties === false) errs.push(`${path}.${k}: not in the schema`);
      else if (typeof s.additionalProperties === "object") {
        errs.push(
          ...validate(s.additionalProperties as Record<string, unknown>, v, `${path}.${k}`, defs),
        );
      }
    }
  }
  if (Array.isArray(value) && s.items) {
    value.forEach((v, i) =>
      errs.push(...validate(s.items as Record<string, unknown>, v, `${path}[${i}]`, defs))
    );
  }
  return errs;
}

Deno.test("docs: a live snapshot --json validates against docs/schema/sample-v1.json", async () => {
  const schema = JSON.parse(await Deno.readTextFile(`${root}docs/schema/sample-v1.json`));
  const r = await sysmon(["snapshot", "--json", "--interval", "200ms"]);
  assertEquals(r.code, 0, r.stderr);
  const sample = JSON.parse(r.stdout);
  assertEquals(validate(schema, sample, "$", schema.$defs), []);
  // The validator itself must be able to fail.
  sample.metrics.memory_usage_percent = 150;
  sample.metrics.not_a_metric = 1;
  assertEquals(validate(schema, sample, "$", schema.$defs).length, 2);
});

Deno.test("version: src/version.ts equals deno.json's version", async () => {
  const cfg = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  assertEquals(cfg.version, VERSION);
});
