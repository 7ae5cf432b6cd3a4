/**
 * A tiny schema DSL for configuration files: typed nodes with defaults, descriptions (which become the
 * comments of config/default.yaml and of `config init`), constraints, and `secret` marks (which drive
 * masking in `config show`). `validate` collects every problem at once, each naming its key path, the
 * bad value and what is allowed; the caller adds the file and line.
 */
import { formatDuration, parseDuration } from "../core/duration.ts";

/** A key path into the configuration: mapping keys and list indexes. */
export type Path = readonly (string | number)[];

/** Settings every node accepts. */
export interface Meta {
  /** One or more sentences; the comment above the setting in default.yaml and the starter file. */
  description?: string;
  /** The value must never be shown: `config show` prints "********", errors never echo it. */
  secret?: boolean;
}

export interface StringNode extends Meta {
  kind: "string";
  default?: string;
  /** An extra rule on the text, with the words describing what is allowed. */
  check?: { test: (value: string) => boolean; expected: string };
}
export interface NumberNode extends Meta {
  kind: "number" | "integer";
  default?: number;
  min?: number;
  max?: number;
}
export interface BooleanNode extends Meta {
  kind: "boolean";
  default?: boolean;
}
export interface EnumNode<V extends string = string> extends Meta {
  kind: "enum";
  values: readonly V[];
  default?: V;
}
/** Written as 500ms, 10s, 5m, 1h, 7d; held in seconds. */
export interface DurationNode extends Meta {
  kind: "duration";
  default?: number;
  min?: number;
  max?: number;
}
/** A regular-expression source that must compile; "" conventionally means "no filter". */
export interface RegexNode extends Meta {
  kind: "regex";
  default?: string;
}
export interface NullableNode<N extends SchemaNode = SchemaNode> extends Meta {
  kind: "nullable";
  of: N;
  /** Typed by the constructor (`s.nullable`); stored untyped to keep the node types shallow. */
  default?: unknown;
  /** What null stands for, e.g. "inherit collectors.interval"; shown in docs and error messages. */
  nullMeans?: string;
}
export interface ArrayNode<N extends SchemaNode = SchemaNode> extends Meta {
  kind: "array";
  of: N;
  default?: unknown[];
  min?: number;
  max?: number;
}
export type Fields = { readonly [key: string]: SchemaNode };
export interface ObjectNode<F extends Fields = Fields> extends Meta {
  kind: "object";
  fields: F;
}
/** A mapping with free keys (e.g. named rules); each entry is validated whole, and replaces whole. */
export interface RecordNode<N extends SchemaNode = SchemaNode> extends Meta {
  kind: "record";
  of: N;
  default?: Record<string, unknown>;
}

export type SchemaNode =
  | StringNode
  | NumberNode
  | BooleanNode
  | EnumNode
  | DurationNode
  | RegexNode
  | NullableNode
  | ArrayNode
  | ObjectNode
  | RecordNode;

/** The TypeScript type of the values a node accepts (after conversion: durations are seconds). */
export type Infer<N> = [SchemaNode] extends [N] ? unknown // the wide union: nothing to infer
  : N extends ObjectNode<infer F>
    ? string extends keyof F ? Record<string, unknown> : { -readonly [K in keyof F]: Infer<F[K]> }
  : N extends RecordNode<infer V> ? Record<string, Infer<V>>
  : N extends ArrayNode<infer V> ? Infer<V>[]
  : N extends NullableNode<infer V> ? Infer<V> | null
  : N extends EnumNode<infer V> ? V
  : N extends StringNode | RegexNode ? string
  : N extends NumberNode | DurationNode ? number
  : N extends BooleanNode ? boolean
  : never;

function durationSeconds(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    throw new Error(`schema: ${what} ${JSON.stringify(text)} is not a duration`);
  }
  return seconds;
}

/** Node constructors: `s.object({...})`, `s.duration({ default: "10s", min: "100ms" })`, … */
export const s = {
  object<F extends Fields>(fields: F, meta: Meta = {}): ObjectNode<F> {
    return { kind: "object", fields, ...meta };
  },
  record<N extends SchemaNode>(
    of: N,
    opts: Meta & { default?: Record<string, Infer<N>> } = {},
  ): RecordNode<N> {
    return { kind: "record", of, ...opts };
  },
  string(opts: Omit<StringNode, "kind"> = {}): StringNode {
    return { kind: "string", ...opts };
  },
  number(opts: Omit<NumberNode, "kind"> = {}): NumberNode {
    return { kind: "number", ...opts };
  },
  integer(opts: Omit<NumberNode, "kind"> = {}): NumberNode {
    return { kind: "integer", ...opts };
  },
  boolean(opts: Omit<BooleanNode, "kind"> = {}): BooleanNode {
    return { kind: "boolean", ...opts };
  },
  enum<const V extends string>(
    values: readonly V[],
    opts: Meta & { default?: V } = {},
  ): EnumNode<V> {
    return { kind: "enum", values, ...opts };
  },
  /** Defaults and bounds are written as durations ("10s") and held in seconds. */
  duration(opts: Meta & { default?: string; min?: string; max?: string } = {}): DurationNode {
    const { default: def, min, max, ...meta } = opts;
    return {
      kind: "duration",
      ...meta,
      default: durationSeconds(def, "default"),
      min: durationSeconds(min, "min"),
      max: durationSeconds(max, "max"),
    };
  },
  regex(opts: Omit<RegexNode, "kind"> = {}): RegexNode {
    if (opts.default !== undefined) new RegExp(opts.default); // a bad default is a programming error
    return { kind: "regex", ...opts };
  },
  nullable<N extends SchemaNode>(
    of: N,
    opts: Meta & { default?: Infer<N> | null; nullMeans?: string } = {},
  ): NullableNode<N> {
    return { kind: "nullable", of, default: null, ...opts };
  },
  array<N extends SchemaNode>(
    of: N,
    opts: Meta & { default?: Infer<N>[]; min?: number; max?: number } = {},
  ): ArrayNode<N> {
    return { kind: "array", of, ...opts };
  },
};

/** The built-in value of a node; undefined for a leaf without a default (a required setting). */
export function defaultOf<N extends SchemaNode>(node: N): Infer<N> {
  return defaultValue(node) as Infer<N>;
}

function defaultValue(node: SchemaNode): unknown {
  switch (node.kind) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(node.fields)) {
        const v = defaultValue(field);
        if (v !== undefined) out[key] = v;
      }
      return out;
    }
    case "record":
      return structuredClone(declaredDefault(node) ?? {});
    case "array":
      return structuredClone(declaredDefault(node) ?? []);
    case "nullable":
      return structuredClone(declaredDefault(node) ?? null);
    default:
      return declaredDefault(node);
  }
}

/** The `default` a node was declared with (read untyped: its inferred type is deeply recursive). */
const declaredDefault = (node: SchemaNode): unknown => (node as { default?: unknown }).default;

// ---------------------------------------------------------------------------------------------
// Errors

/** A configuration problem: one user-facing line each (file:line: key: what is wrong). Exit 2. */
export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "ConfigError";
  }
}

/** One validation problem; `at` says whether the line to report is the key's or the value's. */
export interface Issue {
  path: Path;
  at: "key" | "value";
  text: string;
}

/** `collectors.diskstats.exclude`, `rules[0].expr`, `labels["a b"]`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** "/etc/sysmon/config.yaml:12: text", or without the line when it is unknown. */
export function formatIssue(file: string, line: number | undefined, text: string): string {
  return line === undefined ? `${file}: ${text}` : `${file}:${line}: ${text}`;
}

// ---------------------------------------------------------------------------------------------
// Validation

/**
 * "partial": only the keys present are returned (a file layered over defaults); a null mapping means
 * "nothing set here". "full": missing keys get their defaults (entries of records and lists, which
 * replace whole).
 */
export type Mode = "partial" | "full";

export interface Validated {
  value: unknown;
  issues: Issue[];
}

interface Ctx {
  issues: Issue[];
  /** Used as the path text when the path is empty (e.g. "--log-level" for a flag). */
  label?: string;
}

const INVALID: unique symbol = Symbol("invalid");
type Checked = unknown | typeof INVALID;

/** Validates and converts raw parsed data (durations → seconds), collecting every problem. */
export function validate(
  node: SchemaNode,
  raw: unknown,
  mode: Mode = "full",
  label?: string,
): Validated {
  const ctx: Ctx = { issues: [], label };
  const value = check(node, raw, [], mode === "full", false, undefined, ctx);
  return { value: value === INVALID ? undefined : value, issues: ctx.issues };
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function check(
  node: SchemaNode,
  raw: unknown,
  path: Path,
  full: boolean,
  secret: boolean,
  nullMeans: string | undefined,
  ctx: Ctx,
): Checked {
  secret ||= node.secret === true;
  const where = () => (path.length === 0 && ctx.label ? ctx.label : formatPath(path));
  const fail: Fail = (problem, allowed = "", kind = "type") => {
    // Where null is allowed too, a value of the wrong type may have meant null: say so.
    const withNull = nullMeans !== undefined && kind === "type";
    const extra = [allowed, withNull ? `or null to ${nullMeans}` : ""].filter((x) => x !== "")
      .join("; ");
    const subject = path.length === 0 && !ctx.label ? "" : `${where()}: `;
    ctx.issues.push({
      path,
      at: "value",
      text: `${subject}${problem}${extra ? ` (${extra})` : ""}`,
    });
    return INVALID;
  };
  const shown = showValue(raw, secret);

  switch (node.kind) {
    case "object":
      if (raw === null || raw === undefined) return full ? defaultValue(node) : {};
      if (!isMapping(raw)) {
        if (path.length === 0 && !ctx.label) {
          return fail(`the file must be a mapping of settings, not ${article(raw)}`);
        }
        return fail(
          `${shown} is not a mapping`,
          `expected keys: ${Object.keys(node.fields).join(", ")}`,
        );
      }
      return checkObject(node, raw, path, full, secret, ctx);
    case "record": {
      if (raw === null || raw === undefined) return full ? defaultValue(node) : {};
      if (!isMapping(raw)) return fail(`${shown} is not a mapping`);
      const out: Record<string, unknown> = {};
      let ok = true;
      // Entries that are mappings layer like sections (only the keys given; mergeOver fills the
      // rest from the entry below or the defaults), so `rules.cpu_busy: {warning: 95}` changes one
      // threshold of a shipped rule. Other entries are whole values.
      const entryFull = full || node.of.kind !== "object";
      for (const [key, v] of Object.entries(raw)) {
        const r = check(node.of, v, [...path, key], entryFull, secret, undefined, ctx);
        if (r === INVALID) ok = false;
        else out[key] = r;
        // Keys without a default must still be named in every entry that gives one.
        if (!entryFull && node.of.kind === "object" && isMapping(v)) {
          for (const [field, fieldNode] of Object.entries(node.of.fields)) {
            if (field in v || defaultValue(fieldNode) !== undefined) continue;
            const at = [...path, key];
            ctx.issues.push({
              path: at,
              at: "value",
              text: `missing key ${formatPath([...at, field])}`,
            });
            ok = false;
          }
        }
      }
      return ok ? out : INVALID;
    }
    case "array": {
      if (!Array.isArray(raw)) {
        return raw === null
          ? fail("no value given", "expected a list")
          : fail(`${shown} is not a list`);
      }
      const out: unknown[] = [];
      let ok = true;
      raw.forEach((v, i) => {
        const r = check(node.of, v, [...path, i], true, secret, undefined, ctx);
        if (r === INVALID) ok = false;
        else out.push(r);
      });
      if (!ok) return INVALID;
      if (!inRange(raw.length, node.min, node.max)) {
        return fail(
          `a list of ${raw.length} items`,
          `allowed: ${rangeText(node.min, node.max, String)} items`,
        );
      }
      return out;
    }
    case "nullable":
      if (raw === null) return null;
      // A nullable value replaces whole, so it is complete on its own.
      return check(node.of, raw, path, true, secret, node.nullMeans ?? "leave it unset", ctx);
    default:
      if (raw === null || raw === undefined) {
        return fail("no value given", `expected ${expected(node)}`);
      }
      return checkLeaf(node, raw, shown, fail);
  }
}

function checkObject(
  node: ObjectNode,
  raw: Record<string, unknown>,
  path: Path,
  full: boolean,
  secret: boolean,
  ctx: Ctx,
): Checked {
  const known = Object.keys(node.fields);
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const [key, v] of Object.entries(raw)) {
    const field = Object.hasOwn(node.fields, key) ? node.fields[key] : undefined;
    if (!field) {
      const near = suggest(key, known);
      const hint = near ? ` (did you mean ${near}?)` : "";
      ctx.issues.push({
        path: [...path, key],
        at: "key",
        text: `unknown key ${formatPath([...path, key])}${hint}; known keys: ${known.join(", ")}`,
      });
      ok = false;
      continue;
    }
    const r = check(field, v, [...path, key], full, secret, undefined, ctx);
    if (r === INVALID) ok = false;
    else out[key] = r;
  }
  if (full) {
    for (const key of known) {
      if (key in out || key in raw) continue;
      const def = defaultValue(node.fields[key]);
      if (def === undefined) {
        ctx.issues.push({ path, at: "value", text: `missing key ${formatPath([...path, key])}` });
        ok = false;
      } else out[key] = def;
    }
  }
  return ok ? out : INVALID;
}

type LeafNode = StringNode | NumberNode | BooleanNode | EnumNode | DurationNode | RegexNode;
/** Reports a problem; "range" problems (right type, wrong value) get no "or null" hint. */
type Fail = (problem: string, allowed?: string, kind?: "type" | "range") => typeof INVALID;

function checkLeaf(node: LeafNode, raw: unknown, shown: string, fail: Fail): Checked {
  switch (node.kind) {
    case "string":
      if (typeof raw !== "string") {
        const scalar = typeof raw === "number" || typeof raw === "boolean";
        return fail(`${shown} is not a string`, scalar ? "put text in quotes" : "");
      }
      if (node.check && !node.check.test(raw)) {
        return fail(`${shown} is not allowed`, `expected ${node.check.expected}`, "range");
      }
      return raw;
    case "number":
    case "integer": {
      const range = node.min !== undefined || node.max !== undefined
        ? `allowed: ${rangeText(node.min, node.max, String)}`
        : "";
      if (typeof raw !== "number" || !Number.isFinite(raw)) {
        return fail(`${shown} is not a${node.kind === "integer" ? "n integer" : " number"}`, range);
      }
      if (node.kind === "integer" && !Number.isInteger(raw)) {
        return fail(`${shown} is not an integer`, range);
      }
      if (!inRange(raw, node.min, node.max)) {
        return fail(`${shown} is out of range`, range, "range");
      }
      return raw;
    }
    case "boolean":
      if (typeof raw !== "boolean") return fail(`${shown} is not a boolean`, "use true or false");
      return raw;
    case "enum": {
      if (typeof raw === "string" && node.values.includes(raw)) return raw;
      const near = typeof raw === "string" ? suggest(raw, node.values) : undefined;
      return fail(
        `${shown} is not one of ${node.values.join(", ")}`,
        near ? `did you mean ${near}?` : "",
      );
    }
    case "duration": {
      const seconds = typeof raw === "string" ? parseDuration(raw) : undefined;
      if (seconds === undefined) return fail(`${shown} is not a duration`, DURATION_HINT);
      if (!inRange(seconds, node.min, node.max)) {
        return fail(
          `${shown} is out of range`,
          `allowed: ${rangeText(node.min, node.max, formatDuration)}`,
          "range",
        );
      }
      return seconds;
    }
    case "regex": {
      if (typeof raw !== "string") {
        const scalar = typeof raw === "number" || typeof raw === "boolean";
        return fail(`${shown} is not a regular expression`, scalar ? "put it in quotes" : "");
      }
      const reason = regexProblem(raw);
      if (reason !== undefined) {
        return fail(`${shown} is not a valid regular expression`, reason, "range");
      }
      return raw;
    }
  }
}

const DURATION_HINT = "use e.g. 500ms, 10s, 5m, 1h, 7d";

function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    // V8: "Invalid regular expression: /(/: Unterminated group" → keep the reason.
    const msg = (err as Error).message;
    return msg.slice(msg.lastIndexOf(": ") + 2) || msg;
  }
}

const inRange = (v: number, min?: number, max?: number) =>
  (min === undefined || v >= min) && (max === undefined || v <= max);

function rangeText(
  min: number | undefined,
  max: number | undefined,
  fmt: (n: number) => string,
): string {
  if (min !== undefined && max !== undefined) return `${fmt(min)} to ${fmt(max)}`;
  if (min !== undefined) return `${fmt(min)} or more`;
  if (max !== undefined) return `up to ${fmt(max)}`;
  return "any";
}

/** " from 1 to 10", " of 1 or more", " up to 10" or "". */
function rangePhrase(min: number | undefined, max: number | undefined, fmt: (n: number) => string) {
  if (min !== undefined && max !== undefined) return ` from ${fmt(min)} to ${fmt(max)}`;
  if (min !== undefined) return ` of ${fmt(min)} or more`;
  if (max !== undefined) return ` up to ${fmt(max)}`;
  return "";
}

/** What a leaf accepts, in words ("a duration from 100ms to 1d"); used in messages and docs. */
export function expected(node: SchemaNode): string {
  switch (node.kind) {
    case "string":
      return node.check?.expected ?? "a string";
    case "number":
    case "integer": {
      const what = node.kind === "integer" ? "an integer" : "a number";
      return `${what}${rangePhrase(node.min, node.max, String)}`;
    }
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${node.values.join(", ")}`;
    case "duration":
      return `a duration${rangePhrase(node.min, node.max, formatDuration)}`;
    case "regex":
      return 'a regular expression ("" for none)';
    case "nullable":
      return `${expected(node.of)}, or null to ${node.nullMeans ?? "leave it unset"}`;
    case "array":
      return `a list of ${expected(node.of)}`;
    case "object":
    case "record":
      return "a mapping";
  }
}

function article(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return "a number";
  if (typeof v === "boolean") return "a boolean";
  return "a mapping";
}

/** A value as shown in a message: quoted strings, short; a secret is never shown. */
function showValue(v: unknown, secret: boolean): string {
  if (secret) return "the value";
  if (typeof v === "string") {
    const s = JSON.stringify(v);
    return s.length > 60 ? s.slice(0, 56) + '…"' : s;
  }
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (v === undefined) return "nothing";
  return article(v);
}

/** The closest candidate within a small edit distance, for did-you-mean hints. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  const limit = Math.min(2, Math.floor((best?.length ?? 0) / 3) || 1);
  return bestDist <= limit ? best : undefined;
}

/** Edits (insert, delete, substitute, swap two neighbours) between two words: "levle" → "level" is 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

// ---------------------------------------------------------------------------------------------
// Merging

/**
 * Layers a partial value (from `validate(..., "partial")`) over a full one: mappings merge key by key
 * (record entries that are mappings too, new ones over the defaults), everything else (lists,
 * scalars, other record entries, nullable values) replaces. Returns a new value.
 */
export function mergeOver<T>(node: SchemaNode, base: T, partial: unknown): T {
  if (partial === undefined) return base;
  if (node.kind === "object" && isMapping(base) && isMapping(partial)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, v] of Object.entries(partial)) {
      out[key] = mergeOver(node.fields[key], base[key], v);
    }
    return out as T;
  }
  if (node.kind === "record" && isMapping(base) && isMapping(partial)) {
    if (node.of.kind !== "object") return { ...base, ...partial } as T;
    const out: Record<string, unknown> = { ...base };
    for (const [key, v] of Object.entries(partial)) {
      out[key] = mergeOver(node.of, key in base ? base[key] : defaultValue(node.of), v);
    }
    return out as T;
  }
  return partial as T;
}
