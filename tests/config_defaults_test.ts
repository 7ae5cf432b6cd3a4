/**
 * The three homes of the defaults cannot drift: the schema's own defaults, config/default.yaml and the
 * embedded (pre-parsed) src/config/defaults.gen.ts. And the embedded copy really spares the parser.
 */
import { assert, assertEquals } from "./assert.ts";
import { testCollectorsConfig } from "./helpers.ts";
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { defaultsYaml } from "../src/config/init.ts";
import { defaultConfig } from "../src/config/load.ts";
import {
  defaultOf,
  formatPath,
  type Path,
  type SchemaNode,
  validate,
} from "../src/config/schema.ts";
import { sysmonSchema } from "../src/config/sysmon_schema.ts";
import { parseYaml } from "../src/config/yaml_source.ts";
import { generate } from "../scripts/gen-defaults.ts";

const ROOT = new URL("../", import.meta.url);
const DEFAULT_YAML = new URL("config/default.yaml", ROOT);
const STALE = "out of date: run `deno task gen-defaults`";

Deno.test("embedded defaults equal the schema's defaults", () => {
  assertEquals(EMBEDDED_DEFAULTS, defaultOf(sysmonSchema));
  assertEquals(defaultConfig(), EMBEDDED_DEFAULTS);
  assert(defaultConfig() !== EMBEDDED_DEFAULTS, "defaultConfig() must hand out a copy");
});

Deno.test("embedded defaults equal config/default.yaml, which writes out every setting", async () => {
  const text = await Deno.readTextFile(DEFAULT_YAML);
  const { value } = await parseYaml(text, "config/default.yaml");
  const full = validate(sysmonSchema, value, "full");
  assertEquals(full.issues, []);
  assertEquals(full.value, EMBEDDED_DEFAULTS);
  // "partial" keeps only what the file contains: equal to the full defaults means nothing is left out.
  assertEquals(validate(sysmonSchema, value, "partial").value, EMBEDDED_DEFAULTS);
});

Deno.test("config/default.yaml and defaults.gen.ts are exactly what gen-defaults writes", async () => {
  const { yaml, ts } = await generate();
  assertEquals(await Deno.readTextFile(DEFAULT_YAML), yaml, `config/default.yaml ${STALE}`);
  assertEquals(defaultsYaml(), yaml);
  const embedded = await Deno.readTextFile(new URL("src/config/defaults.gen.ts", ROOT));
  assertEquals(embedded, ts, `src/config/defaults.gen.ts ${STALE}`);
});

Deno.test("the collector defaults are the ones the collector tests are written against", () => {
  assertEquals(EMBEDDED_DEFAULTS.collectors, testCollectorsConfig());
});

Deno.test("every setting and section of the schema is described (the comments of default.yaml)", () => {
  const undocumented: string[] = [];
  const walk = (node: SchemaNode, path: Path) => {
    if (path.length > 0 && !node.description) undocumented.push(formatPath(path));
    if (node.kind === "object") {
      for (const [key, field] of Object.entries(node.fields)) walk(field, [...path, key]);
    }
  };
  walk(sysmonSchema, []);
  assertEquals(undocumented, []);
});

/** Loads the config in a fresh process and reports whether the yaml package got loaded. */
async function yamlLoadedInChild(
  configText?: string,
): Promise<{ flag: boolean; inModuleCache: boolean }> {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-config-test-" });
  try {
    const configFile = configText === undefined ? "" : `${dir}/config.yaml`;
    if (configText !== undefined) await Deno.writeTextFile(configFile, configText);
    const load = new URL("src/config/load.ts", ROOT).href;
    const source = new URL("src/config/yaml_source.ts", ROOT).href;
    const code = `
      import { createRequire } from "node:module";
      import { loadConfig } from "${load}";
      import { yamlWasImported } from "${source}";
      const configFile = Deno.env.get("CONFIG_FILE") || undefined;
      // An empty HOME, and /etc/sysmon/config.yaml treated as absent whatever this machine has.
      const readFile = (p) => p.startsWith("/etc/")
        ? Promise.resolve(undefined)
        : Deno.readTextFile(p).catch((e) => e instanceof Deno.errors.NotFound ? undefined : Promise.reject(e));
      const env = { HOME: Deno.env.get("TEST_HOME") };
      await loadConfig({ configFile, env, isRoot: false, readFile });
      // The npm package is CommonJS: once loaded, its files sit in the require cache.
      const cached = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        flag: yamlWasImported(),
        inModuleCache: cached.some((f) => f.includes("/yaml@")),
      }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=js", code],
      cwd: ROOT.pathname,
      // The child's own HOME stays (Deno's cache lives under it); the config sees an empty one.
      env: { TEST_HOME: dir, CONFIG_FILE: configFile },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert(out.success, `child failed: ${stderr}`);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("with no config file the yaml package is never loaded; with one it is", async () => {
  assertEquals(await yamlLoadedInChild(), { flag: false, inModuleCache: false });
  // The control: the same probe does see the parser when a file needs it.
  assertEquals(await yamlLoadedInChild("log:\n  level: warn\n"), {
    flag: true,
    inModuleCache: true,
  });
});
