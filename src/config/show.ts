/**
 * The effective configuration as YAML (`sysmon config show`), secrets masked by the schema's own
 * `secret` marks. A small emitter for plain data, so showing a config never loads the YAML parser;
 * its quoting is what `deno fmt` keeps, and its output parses back to the same configuration.
 */
import { formatDuration } from "../core/duration.ts";
import type { SchemaNode } from "./schema.ts";

/** What a set secret is shown as: fixed, so nothing reveals the secret's length. */
export const MASK = "********";

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+-]*$/;
/** Words some YAML parsers (1.1) read as booleans or null: always quoted. */
const RESERVED = /^(true|false|null|yes|no|on|off|y|n)$/i;
/** Printable and safe inside quotes: no control characters, no line or paragraph separators, no BOM. */
const PRINTABLE = /^[^\p{Cc}\u2028\u2029\ufeff]*$/u;

/** A string as a YAML scalar: plain when unambiguous, else quoted (regexes keep their backslashes). */
export function yamlString(text: string): string {
  if (PLAIN.test(text) && !RESERVED.test(text)) return text;
  if (PRINTABLE.test(text)) {
    if (!/["\\]/.test(text)) return `"${text}"`;
    return `'${text.replaceAll("'", "''")}'`; // single quotes: no escapes, `\d` stays `\d`
  }
  // Control characters need double-quoted escapes; JSON's are valid YAML, plus the ones JSON leaves raw.
  return JSON.stringify(text).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A scalar of any plain type. */
export function yamlScalar(v: string | number | boolean | null): string {
  if (typeof v === "string") return yamlString(v);
  if (typeof v === "number") return Object.is(v, -0) ? "0" : String(v);
  return String(v);
}

const isSet = (v: unknown) => v !== null && v !== undefined && v !== "";

/**
 * Renders `value` as the YAML lines of `node`'s entries. `mask: false` shows secrets (for documenting
 * defaults, which are never real secrets).
 */
export function renderValue(node: SchemaNode, value: unknown, indent = 0, mask = true): string[] {
  return renderEntries(node, value, " ".repeat(indent), mask && node.secret === true, mask);
}

/** The entries of a mapping or list, one line each (nested ones indented), or one scalar line. */
function renderEntries(
  node: SchemaNode,
  value: unknown,
  pad: string,
  secret: boolean,
  mask: boolean,
): string[] {
  switch (node.kind) {
    case "object":
      return Object.entries(node.fields).flatMap(([key, field]) =>
        renderPair(key, field, (value as Record<string, unknown>)[key], pad, secret, mask)
      );
    case "record":
      return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) =>
        renderPair(key, node.of, v, pad, secret, mask)
      );
    case "array":
      return (value as unknown[]).flatMap((item) => {
        const body = renderInline(node.of, item, pad + "  ", secret, mask);
        if (typeof body === "string") return [`${pad}- ${body}`];
        // A mapping item: its first entry shares the dash's line.
        return [`${pad}- ${body[0].slice(pad.length + 2)}`, ...body.slice(1)];
      });
    default:
      return [renderInline(node, value, pad, secret, mask) as string];
  }
}

/** A scalar's text, or the indented lines of a non-empty collection. */
function renderInline(
  node: SchemaNode,
  value: unknown,
  pad: string,
  secret: boolean,
  mask: boolean,
): string | string[] {
  secret ||= mask && node.secret === true;
  if (node.kind === "nullable") {
    return value === null ? "null" : renderInline(node.of, value, pad, secret, mask);
  }
  if (node.kind === "object" || node.kind === "record") {
    if (Object.keys(value as object).length === 0) return "{}";
    return renderEntries(node, value, pad, secret, mask);
  }
  if (node.kind === "array") {
    if ((value as unknown[]).length === 0) return "[]";
    return renderEntries(node, value, pad, secret, mask);
  }
  if (secret && isSet(value)) return `"${MASK}"`;
  if (node.kind === "duration") return formatDuration(value as number);
  return yamlScalar(value as string | number | boolean | null);
}

function renderPair(
  key: string,
  node: SchemaNode,
  value: unknown,
  pad: string,
  secret: boolean,
  mask: boolean,
): string[] {
  const body = renderInline(node, value, pad + "  ", secret, mask);
  const k = yamlString(key);
  return typeof body === "string" ? [`${pad}${k}: ${body}`] : [`${pad}${k}:`, ...body];
}

/** A copy of `value` with every set secret replaced by MASK (for `config show --json`). */
export function maskSecrets<T>(value: T, schema: SchemaNode): T {
  return maskValue(schema, value, false) as T;
}

function maskValue(node: SchemaNode, value: unknown, secret: boolean): unknown {
  secret ||= node.secret === true;
  switch (node.kind) {
    case "object":
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map((
          [key, v],
        ) => [key, Object.hasOwn(node.fields, key) ? maskValue(node.fields[key], v, secret) : v]),
      );
    case "record":
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map((
          [key, v],
        ) => [key, maskValue(node.of, v, secret)]),
      );
    case "array":
      return (value as unknown[]).map((v) => maskValue(node.of, v, secret));
    case "nullable":
      return value === null ? null : maskValue(node.of, value, secret);
    default:
      return secret && isSet(value) ? MASK : value;
  }
}

/** The whole configuration as YAML text, keys in schema order, secrets masked. */
export function renderConfig(config: unknown, schema: SchemaNode, header: string[] = []): string {
  const comments = header.map((line) => (line === "" ? "#" : `# ${line}`));
  return [...comments, ...renderValue(schema, config)].join("\n") + "\n";
}
