/**
 * Finding, parsing, validating and merging configuration files (DESIGN.md §5):
 * built-in defaults < /etc/sysmon/config.yaml < $XDG_CONFIG_HOME/sysmon/config.yaml < --config FILE,
 * and flags over all (applyOverrides). Every problem of every file is reported at once, as
 * "file:line: key: what is wrong" lines in a ConfigError (exit 2).
 */
import { formatDuration } from "../core/duration.ts";
import { EMBEDDED_DEFAULTS } from "./defaults.gen.ts";
import { ConfigError, formatIssue, type Issue, mergeOver, validate } from "./schema.ts";
import { type SysmonConfig, sysmonSchema } from "./sysmon_schema.ts";

export { ConfigError } from "./schema.ts";
export type { SysmonConfig } from "./sysmon_schema.ts";

export const SYSTEM_CONFIG_FILE = "/etc/sysmon/config.yaml";

export type Env = Record<string, string | undefined>;

/** Reads a file's text; undefined when it does not exist. Other failures throw. */
export type ReadFile = (path: string) => Promise<string | undefined>;

export interface LoadOptions {
  /** The --config FILE: read last, and an error when missing. */
  configFile?: string;
  env: Env;
  /** The home directory; defaults to env.HOME. */
  home?: string;
  isRoot: boolean;
  readFile?: ReadFile;
}

export interface LoadedConfig {
  config: SysmonConfig;
  /** The files that existed and were merged, in merge order. */
  files: string[];
  /** The automatic data directory (resolveDataDir), or undefined when none can be chosen. */
  dataDir: string | undefined;
}

/** One validated file: only the settings it contains (durations in seconds). */
export interface ConfigLayer {
  file: string;
  values: Record<string, unknown>;
}

/** A fresh copy of the built-in defaults (embedded: no YAML is parsed for them). */
export function defaultConfig(): SysmonConfig {
  return structuredClone(EMBEDDED_DEFAULTS);
}

const trimSlash = (p: string) => (p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p);

/** An XDG base directory: the variable when set to an absolute path (the spec ignores relative ones). */
function xdgDir(env: Env, variable: string, home: string | undefined, fallback: string) {
  const v = env[variable];
  if (v && v.startsWith("/")) return trimSlash(v);
  return home ? `${trimSlash(home)}/${fallback}` : undefined;
}

/** The per-user config file, $XDG_CONFIG_HOME/sysmon/config.yaml (~/.config by default). */
export function userConfigFile(env: Env, home = env.HOME): string | undefined {
  const dir = xdgDir(env, "XDG_CONFIG_HOME", home, ".config");
  return dir ? `${dir}/sysmon/config.yaml` : undefined;
}

/** Where `config init` writes by default: the system file for root, the user file otherwise. */
export function initTarget(env: Env, isRoot: boolean, home = env.HOME): string | undefined {
  return isRoot ? SYSTEM_CONFIG_FILE : userConfigFile(env, home);
}

async function defaultReadFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

function readFailure(path: string, err: unknown): ConfigError {
  let reason: string;
  if (err instanceof Deno.errors.PermissionDenied) reason = "permission denied";
  else if (err instanceof Deno.errors.IsADirectory) reason = "it is a directory";
  else if (err instanceof TypeError && /utf-?8/i.test(err.message)) reason = "it is not UTF-8 text";
  // Deno's messages look like "Is a directory (os error 21): readfile '/x'"; keep the cause only.
  else reason = ((err as Error)?.message ?? String(err)).split(/[(:]/)[0].trim();
  return new ConfigError([`cannot read config file ${path}: ${reason}`]);
}

/** Parses and validates one file's text. Throws a ConfigError listing every problem. */
export async function parseConfigText(text: string, file: string): Promise<ConfigLayer> {
  // Only comments and blank lines: all defaults, and no need to load the parser.
  if (onlyComments(text)) return { file, values: {} };
  const { parseYaml } = await import("./yaml_source.ts");
  const source = await parseYaml(text, file);
  const { value, issues } = validate(sysmonSchema, source.value, "partial");
  if (issues.length > 0) {
    throw new ConfigError(sortByLine(issues, (i) => source.lineOf(i.path, i.at), file));
  }
  return { file, values: value as Record<string, unknown> };
}

function onlyComments(text: string): boolean {
  return text.split("\n").every((line) => {
    const t = line.trim();
    return t === "" || t.startsWith("#");
  });
}

function sortByLine(issues: Issue[], lineOf: (i: Issue) => number | undefined, file: string) {
  return issues
    .map((issue, order) => ({ issue, order, line: lineOf(issue) }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || a.order - b.order)
    .map(({ issue, line }) => formatIssue(file, line, issue.text));
}

/**
 * Reads and validates one file (`config validate FILE`). A missing file is an error here.
 * Returns undefined only when `optional` and the file does not exist.
 */
export async function loadConfigFile(
  path: string,
  opts: { optional?: boolean; readFile?: ReadFile } = {},
): Promise<ConfigLayer | undefined> {
  let text: string | undefined;
  try {
    text = await (opts.readFile ?? defaultReadFile)(path);
  } catch (err) {
    throw readFailure(path, err);
  }
  if (text === undefined) {
    if (opts.optional) return undefined;
    throw new ConfigError([`config file not found: ${path}`]);
  }
  return await parseConfigText(text, path);
}

/** The files to read, in merge order. */
export function configFiles(opts: Pick<LoadOptions, "configFile" | "env" | "home">) {
  const user = userConfigFile(opts.env, opts.home ?? opts.env.HOME);
  const files: { path: string; optional: boolean }[] = [{
    path: SYSTEM_CONFIG_FILE,
    optional: true,
  }];
  if (user) files.push({ path: user, optional: true });
  if (opts.configFile !== undefined) files.push({ path: opts.configFile, optional: false });
  return files;
}

/** Layers validated files over a base configuration (defaults when omitted). */
export function mergeLayers(
  layers: ConfigLayer[],
  base: SysmonConfig = defaultConfig(),
): SysmonConfig {
  return layers.reduce((acc, layer) => mergeOver(sysmonSchema, acc, layer.values), base);
}

/** Loads the effective configuration. Throws a ConfigError naming every problem in every file. */
export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  const layers: ConfigLayer[] = [];
  const errors: string[] = [];
  for (const { path, optional } of configFiles(opts)) {
    try {
      const layer = await loadConfigFile(path, { optional, readFile: opts.readFile });
      if (layer) layers.push(layer);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(...err.lines);
    }
  }
  if (errors.length > 0) throw new ConfigError(errors);
  const config = mergeLayers(layers);
  let dataDir: string | undefined;
  try {
    dataDir = resolveDataDir(
      config,
      { ...opts.env, HOME: opts.home ?? opts.env.HOME },
      opts.isRoot,
    );
  } catch {
    dataDir = undefined;
  }
  return { config, files: layers.map((l) => l.file), dataDir };
}

/**
 * The data directory: storage.path when set; else $STATE_DIRECTORY under systemd (its first entry),
 * /var/lib/sysmon as root, else $XDG_DATA_HOME/sysmon (default ~/.local/share/sysmon).
 */
export function resolveDataDir(config: SysmonConfig, env: Env, isRoot: boolean): string {
  if (config.storage.path !== "") return trimSlash(config.storage.path);
  const state = env.STATE_DIRECTORY?.split(":")[0];
  if (state) return trimSlash(state);
  if (isRoot) return "/var/lib/sysmon";
  const data = xdgDir(env, "XDG_DATA_HOME", env.HOME, ".local/share");
  if (data) return `${data}/sysmon`;
  throw new ConfigError([
    "cannot choose a data directory: HOME and XDG_DATA_HOME are not set; set storage.path or pass --data DIR",
  ]);
}

/** Command-line flags that beat every file. */
export interface Overrides {
  procfs?: string;
  sysfs?: string;
  rootfs?: string;
  logLevel?: string;
  /** collectors.interval: seconds, or a duration text as typed ("10s"). */
  interval?: number | string;
}

/**
 * Applies flags over a loaded configuration (a new object is returned). Values are checked with the
 * schema's own rules, so `--interval 50ms` fails like the same setting in a file would.
 */
export function applyOverrides(config: SysmonConfig, flags: Overrides): SysmonConfig {
  const out = structuredClone(config);
  const errors: string[] = [];
  const checked = <T>(
    node: Parameters<typeof validate>[0],
    raw: unknown,
    flag: string,
  ): T | undefined => {
    const { value, issues } = validate(node, raw, "full", flag);
    errors.push(...issues.map((i) => i.text));
    return issues.length === 0 ? value as T : undefined;
  };
  const f = sysmonSchema.fields;
  if (flags.procfs !== undefined) out.paths.procfs = flags.procfs;
  if (flags.sysfs !== undefined) out.paths.sysfs = flags.sysfs;
  if (flags.rootfs !== undefined) out.paths.rootfs = flags.rootfs;
  if (flags.logLevel !== undefined) {
    const level = checked<SysmonConfig["log"]["level"]>(
      f.log.fields.level,
      flags.logLevel,
      "--log-level",
    );
    if (level !== undefined) out.log.level = level;
  }
  if (flags.interval !== undefined) {
    const text = typeof flags.interval === "number"
      ? formatDuration(flags.interval)
      : flags.interval;
    const seconds = checked<number>(f.collectors.fields.interval, text, "--interval");
    if (seconds !== undefined) out.collectors.interval = seconds;
  }
  if (errors.length > 0) throw new ConfigError(errors);
  return out;
}
