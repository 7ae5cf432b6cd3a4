/**
 * YAML text → plain data plus the line of every key and value, for messages that name file:line.
 * The only module that touches the `yaml` package, and only through a dynamic import when a config
 * file actually exists: the parser costs about 10 MB of RSS, which a default run never pays.
 */
import { ConfigError, type Path } from "./schema.ts";

export interface YamlSource {
  /** The parsed data; null for an empty file or one holding only comments. */
  value: unknown;
  /** The 1-based line of the key or value at `path`, or of its nearest ancestor in the file. */
  lineOf(path: Path, at: "key" | "value"): number | undefined;
}

let imported = false;

/** True once the yaml package has been loaded into this process (tests check it stays false). */
export function yamlWasImported(): boolean {
  return imported;
}

interface Lines {
  key: number;
  value: number;
}

const pathKey = (path: Path) => path.join("\u0000");

/** Parses one config file; invalid YAML throws a ConfigError with one line: file:line:col. */
export async function parseYaml(text: string, file: string): Promise<YamlSource> {
  const YAML = await import("yaml");
  imported = true;
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, {
    lineCounter,
    prettyErrors: false, // keep messages to one line; the position is added here
    logLevel: "silent",
  });
  const invalid = (offset: number, reason: string): ConfigError => {
    const { line, col } = lineCounter.linePos(offset);
    return new ConfigError([`${file}:${line}:${col}: invalid YAML: ${reason}`]);
  };
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw invalid(problem.pos[0], problem.message);

  const lines = new Map<string, Lines>();
  const lineAt = (offset: number | undefined, fallback: number) =>
    offset === undefined ? fallback : lineCounter.linePos(offset).line;

  // Records where each key and value starts; finds aliases that point nowhere (toJS would throw).
  const walk = (node: unknown, path: Path, keyLine: number): void => {
    if (YAML.isAlias(node)) {
      if (node.resolve(doc) === undefined) {
        throw invalid(node.range?.[0] ?? 0, `unknown alias *${node.source}`);
      }
      return;
    }
    if (YAML.isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as { range?: [number, number, number] } | null;
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const kLine = lineAt(keyNode?.range?.[0], keyLine);
        walk(pair.value, [...path, key], kLine);
      }
    } else if (YAML.isSeq(node)) {
      node.items.forEach((item, i) => {
        const itemLine = lineAt((item as { range?: number[] } | null)?.range?.[0], keyLine);
        walk(item, [...path, i], itemLine);
      });
    }
    // An empty value (`key:` and nothing) has no text of its own: report the key's line.
    const range = (node as { range?: number[] } | null)?.range;
    const empty = YAML.isScalar(node) && node.value === null && node.source === "";
    const valueLine = node && range && !empty ? lineAt(range[0], keyLine) : keyLine;
    lines.set(pathKey(path), { key: keyLine, value: valueLine });
  };
  walk(doc.contents, [], 1);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // e.g. an alias expanded too many times (a "billion laughs" file).
    throw new ConfigError([`${file}: invalid YAML: ${(err as Error).message}`]);
  }

  return {
    value,
    lineOf(path, at) {
      for (let n = path.length; n >= 0; n--) {
        const found = lines.get(pathKey(path.slice(0, n)));
        if (found) return n === path.length ? found[at] : found.value;
      }
      return undefined;
    },
  };
}
