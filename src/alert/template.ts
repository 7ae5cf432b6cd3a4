/**
 * Alert text templates: `{{name}}` placeholders in a rule's summary and description, and the
 * human formatting of the values that fill them. Pure: no I/O.
 */
import { formatDuration } from "../core/duration.ts";

/** What a template may name; `labels.<name>` stands for any of the alert's labels. */
export const TEMPLATE_VARIABLES: readonly string[] = [
  "rule",
  "metric",
  "entity",
  "value",
  "threshold",
  "severity",
  "host",
  "unit",
  "current",
  "target",
  "labels.<name>",
];

const PLAIN_VARIABLES = new Set(TEMPLATE_VARIABLES.filter((v) => !v.includes("<")));
/** Prometheus label-name syntax, so `{{labels.x}}` names a label Alertmanager can carry. */
const LABEL_VARIABLE = /^labels\.([A-Za-z_][A-Za-z0-9_]*)$/;

export type TemplatePart =
  | { kind: "text"; text: string }
  | { kind: "variable"; name: string }
  | { kind: "label"; name: string };

export interface CompiledTemplate {
  parts: TemplatePart[];
  /** Set when the text is not a valid template; `parts` then renders the text verbatim. */
  error?: string;
}

/** Splits `text` into literal text and placeholders; `{{ name }}` with spaces is allowed. */
export function parseTemplate(text: string): CompiledTemplate {
  const parts: TemplatePart[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf("{{", pos);
    if (open < 0) break;
    if (open > pos) parts.push({ kind: "text", text: text.slice(pos, open) });
    const close = text.indexOf("}}", open + 2);
    if (close < 0) {
      return invalid(text, `unclosed "{{" at character ${open + 1} (no "}}" after it)`);
    }
    const name = text.slice(open + 2, close).trim();
    const label = LABEL_VARIABLE.exec(name);
    if (label) parts.push({ kind: "label", name: label[1] });
    else if (PLAIN_VARIABLES.has(name)) parts.push({ kind: "variable", name });
    else {
      return invalid(
        text,
        `unknown variable {{${name}}} (known: ${TEMPLATE_VARIABLES.join(", ")})`,
      );
    }
    pos = close + 2;
  }
  if (pos < text.length) parts.push({ kind: "text", text: text.slice(pos) });
  return { parts };
}

// A broken template still renders as its raw text: a notification with a literal "{{x}}" beats none.
const invalid = (text: string, error: string): CompiledTemplate => ({
  parts: text === "" ? [] : [{ kind: "text", text }],
  error,
});

/** The label names a template refers to through `{{labels.<name>}}`. */
export function templateLabels(compiled: CompiledTemplate): string[] {
  return compiled.parts.flatMap((p) => p.kind === "label" ? [p.name] : []);
}

/** Fills the placeholders; a variable or label without a value renders as "". */
export function renderTemplate(
  compiled: CompiledTemplate,
  vars: Record<string, string>,
  labels: Record<string, string>,
): string {
  let out = "";
  for (const part of compiled.parts) {
    if (part.kind === "text") out += part.text;
    else if (part.kind === "variable") out += vars[part.name] ?? "";
    else out += labels[part.name] ?? "";
  }
  return out;
}

const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** A model value for people in its catalogue unit (a Unit): "93.4%", "1.5 GiB", "12 ms"; null → "n/a". */
export function formatValue(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  switch (unit) {
    case "percent":
      return `${fixed(value, 1)}%`;
    case "bytes":
      return iecBytes(value);
    case "bytes/s":
      return `${iecBytes(value)}/s`;
    case "1/s":
      return `${fixed(value, 1)}/s`;
    case "seconds":
      return seconds(value);
    case "ratio":
      return plain(value, 3);
    default: // count, and anything new: the number itself
      return plain(value, 2);
  }
}

/** toFixed without "-0.0". */
function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return Number(s) === 0 ? (0).toFixed(digits) : s;
}

/** At most `digits` decimals, trailing zeros dropped: 1.07, 3, 0.5. */
const plain = (v: number, digits: number) => String(Number(fixed(v, digits)));

/** IEC sizes with one decimal above bytes: 512 B, 1.5 GiB, 12.0 MiB. */
function iecBytes(n: number): string {
  let v = Math.abs(n);
  let i = 0;
  // Compare the rounded value so 1048575 B shows as "1.0 MiB", not "1024.0 KiB".
  while (i < IEC.length - 1 && Number(v.toFixed(i === 0 ? 0 : 1)) >= 1024) {
    v /= 1024;
    i++;
  }
  const sign = n < 0 && Number(v.toFixed(1)) !== 0 ? "-" : "";
  return `${sign}${v.toFixed(i === 0 ? 0 : 1)} ${IEC[i]}`;
}

/** Latencies in ms below a second, "3.4 s" below a minute, then a duration ("5m30s"). */
function seconds(v: number): string {
  if (v < 0) return `-${seconds(-v)}`;
  const ms = v * 1000;
  if (Number(ms.toFixed(ms < 10 ? 1 : 0)) < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (Number(v.toFixed(1)) < 60) return `${v.toFixed(1)} s`;
  return formatDuration(Math.round(v));
}
