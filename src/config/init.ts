/**
 * Documented YAML generated from the schema: config/default.yaml (every setting with its default)
 * and the starter file of `sysmon config init` (the same, every setting commented out). The comments
 * are the schema's descriptions plus the allowed values taken from its constraints, so they cannot
 * disagree with what validation accepts.
 */
import { defaultOf, expected, type ObjectNode, type SchemaNode } from "./schema.ts";
import { renderValue, yamlString } from "./show.ts";
import { sysmonSchema } from "./sysmon_schema.ts";

const WIDTH = 100;

const MERGE_ORDER = [
  "Files are merged in this order, later ones winning: built-in defaults,",
  "/etc/sysmon/config.yaml, $XDG_CONFIG_HOME/sysmon/config.yaml (~/.config/sysmon/config.yaml),",
  "then --config FILE; command-line flags beat them all. A file needs only the settings it changes.",
  "Durations are written 500ms, 10s, 5m, 1h, 7d.",
];

export const DEFAULTS_HEADER = [
  "sysmon: built-in defaults, every setting with its default value.",
  "",
  "GENERATED from src/config/sysmon_schema.ts by `deno task gen-defaults`: edit the schema, not this",
  "file. sysmon carries these values inside it and never reads this file; copy the settings you",
  "want to change into /etc/sysmon/config.yaml or ~/.config/sysmon/config.yaml.",
  "",
  ...MERGE_ORDER,
];

export const STARTER_HEADER = [
  "sysmon configuration, written by `sysmon config init`.",
  "",
  "Every setting is listed with its default, commented out: uncomment a line to change it.",
  ...MERGE_ORDER,
  "Check a file with `sysmon config validate FILE`; `sysmon config show` prints the result.",
];

/** Greedy word wrap of a comment to `width` columns. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

function comment(text: string, pad: string): string[] {
  return wrap(text, WIDTH - pad.length - 2).map((l) => `${pad}# ${l}`);
}

/** The comment under a setting's description: what it accepts, unless that says nothing. */
function allowedLine(node: SchemaNode): string | undefined {
  if (node.kind === "string" && !node.check) return undefined;
  if (node.kind === "object" || node.kind === "record") return undefined;
  return `Allowed: ${expected(node)}.`;
}

/**
 * Every setting of `schema` with its default value and its comment.
 * `commentOut` turns the settings (not the section headers) into comments: a file that sets nothing.
 */
export function documentedYaml(
  schema: ObjectNode,
  opts: { header: string[]; commentOut: boolean },
): string {
  const out = opts.header.map((l) => (l === "" ? "#" : `# ${l}`));
  const values = defaultOf(schema);
  const emit = (node: ObjectNode, obj: Record<string, unknown>, pad: string) => {
    Object.entries(node.fields).forEach(([key, field], i) => {
      const described = field.description !== undefined;
      // A blank line before each section and documented setting, but not right after a header.
      if (pad === "" || (i > 0 && (described || field.kind === "object"))) out.push("");
      if (field.description) out.push(...comment(field.description, pad));
      if (field.kind === "object") {
        out.push(`${pad}${yamlString(key)}:`);
        emit(field, obj[key] as Record<string, unknown>, pad + "  ");
        return;
      }
      const allowed = allowedLine(field);
      if (allowed) out.push(...comment(allowed, pad));
      const lines = renderValue(oneSetting(key, field), { [key]: obj[key] }, pad.length, false);
      out.push(...(opts.commentOut ? lines.map((l) => `${pad}# ${l.slice(pad.length)}`) : lines));
    });
  };
  emit(schema, values as Record<string, unknown>, "");
  return out.join("\n") + "\n";
}

/** A one-field object node, to render a single setting with its key. */
function oneSetting(key: string, node: SchemaNode): ObjectNode {
  return { kind: "object", fields: { [key]: node } };
}

/** config/default.yaml's text. */
export function defaultsYaml(): string {
  return documentedYaml(sysmonSchema, { header: DEFAULTS_HEADER, commentOut: false });
}

/** The starter file `sysmon config init` writes: every setting commented out, so it changes nothing. */
export function starterConfig(): string {
  return documentedYaml(sysmonSchema, { header: STARTER_HEADER, commentOut: true });
}
