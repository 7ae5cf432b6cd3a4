/** Configuration: validation messages, merge order, environment, flags, masking, show and init. */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "./assert.ts";
import { FIXTURES, testCollectorsConfig } from "./helpers.ts";
import { starterConfig } from "../src/config/init.ts";
import {
  applyOverrides,
  ConfigError,
  defaultConfig,
  type Env,
  loadConfig,
  loadConfigFile,
  parseConfigText,
  type ReadFile,
  resolveDataDir,
  type SysmonConfig,
  SYSTEM_CONFIG_FILE,
  userConfigFile,
} from "../src/config/load.ts";
import { defaultOf, formatPath, mergeOver, s, suggest, validate } from "../src/config/schema.ts";
import { MASK, maskSecrets, renderConfig, yamlString } from "../src/config/show.ts";
import { sysmonSchema } from "../src/config/sysmon_schema.ts";
import { parseYaml } from "../src/config/yaml_source.ts";

const DIR = FIXTURES + "config/";

/** The lines of the ConfigError that `fn` rejects with. */
async function errorLines(fn: () => Promise<unknown>): Promise<string[]> {
  const err = await assertRejects(fn);
  assert(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
  return err.lines;
}

const fileErrors = (name: string) => errorLines(() => loadConfigFile(DIR + name));

/** A file system of in-memory files; records every path asked for. */
function memoryFiles(files: Record<string, string>): ReadFile & { asked: string[] } {
  const asked: string[] = [];
  const read = (path: string) => {
    asked.push(path);
    return Promise.resolve(Object.hasOwn(files, path) ? files[path] : undefined);
  };
  return Object.assign(read, { asked });
}

/** Parses YAML text with the real parser and validates it in full (as a whole config). */
async function parseFull(text: string): Promise<SysmonConfig> {
  const { value } = await parseYaml(text, "test.yaml");
  const { value: config, issues } = validate(sysmonSchema, value, "full");
  assertEquals(issues.map((i) => i.text), []);
  return config as SysmonConfig;
}

// --- every error kind, with its exact text -------------------------------------------------------

Deno.test("a missing --config file is an error naming it", async () => {
  const lines = await errorLines(() =>
    loadConfig({
      configFile: "/nonexistent/sysmon.yaml",
      env: {},
      isRoot: false,
      readFile: memoryFiles({}),
    })
  );
  assertEquals(lines, ["config file not found: /nonexistent/sysmon.yaml"]);
});

Deno.test("missing /etc and user files are not errors: defaults", async () => {
  const read = memoryFiles({});
  const loaded = await loadConfig({ env: { HOME: "/home/ann" }, isRoot: false, readFile: read });
  assertEquals(loaded.config, defaultConfig());
  assertEquals(loaded.files, []);
  assertEquals(read.asked, [SYSTEM_CONFIG_FILE, "/home/ann/.config/sysmon/config.yaml"]);
});

Deno.test("invalid YAML gives one line with file:line:col and the parser's reason", async () => {
  assertEquals(await fileErrors("invalid_yaml.yaml"), [
    // line 3 is `  cpu: enabled: false`; column 8 is where `enabled:` starts.
    `${DIR}invalid_yaml.yaml:3:8: invalid YAML: Nested mappings are not allowed in compact mappings`,
  ]);
  assertEquals(
    await errorLines(() => parseConfigText("log:\n  level: info\n  level: warn\n", "dup.yaml")),
    ["dup.yaml:3:3: invalid YAML: Map keys must be unique"],
  );
  assertEquals(
    await errorLines(() => parseConfigText("log: *nowhere\n", "alias.yaml")),
    ["alias.yaml:1:6: invalid YAML: unknown alias *nowhere"],
  );
  assertEquals(
    await errorLines(() => parseConfigText("log:\n  level: !loud info\n", "tag.yaml")),
    ["tag.yaml:2:10: invalid YAML: Unresolved tag: !loud"],
  );
});

Deno.test("a bad duration names file, line, key, value and the accepted forms", async () => {
  assertEquals(await fileErrors("bad_duration.yaml"), [
    `${DIR}bad_duration.yaml:12: collectors.interval: "10x" is not a duration (use e.g. 500ms, 10s, 5m, 1h, 7d)`,
  ]);
  // Where null is allowed, the message says what null means.
  assertEquals(
    await errorLines(() => parseConfigText("collectors:\n  cpu:\n    interval: soon\n", "n.yaml")),
    [
      'n.yaml:3: collectors.cpu.interval: "soon" is not a duration (use e.g. 500ms, 10s, 5m, 1h, 7d; ' +
      "or null to inherit collectors.interval)",
    ],
  );
});

Deno.test("out-of-range values name the allowed range", async () => {
  assertEquals(await fileErrors("out_of_range.yaml"), [
    `${DIR}out_of_range.yaml:2: collectors.max_entities: 0 is out of range (allowed: 1 to 100000)`,
    `${DIR}out_of_range.yaml:4: collectors.netdev.interval: "50ms" is out of range (allowed: 100ms to 1d)`,
  ]);
  assertEquals(
    await errorLines(() => parseConfigText("collectors:\n  interval: 2d\n", "x.yaml")),
    ['x.yaml:2: collectors.interval: "2d" is out of range (allowed: 100ms to 1d)'],
  );
});

Deno.test("an unknown key lists the known ones and suggests the closest", async () => {
  assertEquals(await fileErrors("unknown_key.yaml"), [
    `${DIR}unknown_key.yaml:2: unknown key collectors.cpux (did you mean cpu?); known keys: interval, ` +
    "max_entities, cpu, loadavg, meminfo, pressure, diskstats, netdev, netclass, filesystem",
  ]);
  // Nothing close: no suggestion.
  assertEquals(
    await errorLines(() => parseConfigText("widgets: {}\n", "x.yaml")),
    ["x.yaml:1: unknown key widgets; known keys: log, paths, storage, record, serve, alert, collectors"],
  );
});

Deno.test("a regex that does not compile is reported with the engine's reason", async () => {
  assertEquals(await fileErrors("bad_regex.yaml"), [
    `${DIR}bad_regex.yaml:3: collectors.diskstats.exclude: "^(loop|ram" is not a valid regular ` +
    "expression (Unterminated group)",
  ]);
});

Deno.test("values of the wrong type say what was expected", async () => {
  assertEquals(await fileErrors("wrong_type.yaml"), [
    `${DIR}wrong_type.yaml:2: log.level: 3 is not one of debug, info, warn, error`,
    `${DIR}wrong_type.yaml:4: collectors.max_entities: "many" is not an integer (allowed: 1 to 100000)`,
    `${DIR}wrong_type.yaml:6: collectors.cpu.enabled: "yes" is not a boolean (use true or false)`,
  ]);
  assertEquals(
    await errorLines(() => parseConfigText("log:\n  level: INFO\n  format:\n", "x.yaml")),
    [
      'x.yaml:2: log.level: "INFO" is not one of debug, info, warn, error (did you mean info?)',
      "x.yaml:3: log.format: no value given (expected one of text, json)",
    ],
  );
});

Deno.test("all problems of a file are reported at once, in line order", async () => {
  const f = `${DIR}many_errors.yaml`;
  assertEquals(await fileErrors("many_errors.yaml"), [
    `${f}:2: log.level: "verbos" is not one of debug, info, warn, error`,
    `${f}:3: unknown key log.colour; known keys: level, format`,
    `${f}:5: paths.procfs: "proc" is not allowed (expected an absolute path)`,
    `${f}:7: collectors.interval: 10 is not a duration (use e.g. 500ms, 10s, 5m, 1h, 7d)`,
    `${f}:8: collectors.max_entities: 2.5 is not an integer (allowed: 1 to 100000)`,
    `${f}:10: collectors.diskstats.include: "[" is not a valid regular expression ` +
    "(Unterminated character class)",
    `${f}:12: collectors.filesystem: a list is not a mapping (expected keys: enabled, interval, ` +
    "fstypes_exclude, mountpoints_exclude, statfs_timeout)",
    `${f}:13: unknown key storag (did you mean storage?); known keys: log, paths, storage, record, serve, alert, collectors`,
  ]);
});

Deno.test("a file that is not a mapping, or cannot be read, is one clear line", async () => {
  assertEquals(await fileErrors("not_a_mapping.yaml"), [
    `${DIR}not_a_mapping.yaml:1: the file must be a mapping of settings, not a list`,
  ]);
  const denied: ReadFile = () => Promise.reject(new Deno.errors.PermissionDenied("nope"));
  assertEquals(
    await errorLines(() => loadConfigFile("/etc/sysmon/config.yaml", { readFile: denied })),
    ["cannot read config file /etc/sysmon/config.yaml: permission denied"],
  );
  assertEquals(await errorLines(() => loadConfigFile(DIR)), [
    `cannot read config file ${DIR}: it is a directory`,
  ]);
});

Deno.test("errors from several files are all reported", async () => {
  const read = memoryFiles({
    [SYSTEM_CONFIG_FILE]: "collectors:\n  interval: 0s\n",
    "/home/ann/.config/sysmon/config.yaml": "log:\n  levle: debug\n",
  });
  const lines = await errorLines(() =>
    loadConfig({ env: { HOME: "/home/ann" }, isRoot: false, readFile: read })
  );
  assertEquals(lines, [
    '/etc/sysmon/config.yaml:2: collectors.interval: "0s" is out of range (allowed: 100ms to 1d)',
    "/home/ann/.config/sysmon/config.yaml:2: unknown key log.levle (did you mean level?); known keys: " +
    "level, format",
  ]);
});

// --- valid files ---------------------------------------------------------------------------------

Deno.test("empty files, comment-only files and empty sections are valid: all defaults", async () => {
  for (const name of ["empty.yaml", "comments_only.yaml", "empty_sections.yaml"]) {
    const loaded = await loadConfig({ configFile: DIR + name, env: {}, isRoot: false });
    assertEquals(loaded.config, defaultConfig(), name);
    assertEquals(loaded.files, [DIR + name]);
  }
});

Deno.test("CRLF line endings and flow style are read like any YAML", async () => {
  const layer = await parseConfigText(
    "log:\r\n  level: warn\r\ncollectors: {interval: 1m}\r\n",
    "w.yaml",
  );
  assertEquals(layer.values, { log: { level: "warn" }, collectors: { interval: 60 } });
});

Deno.test("a good file is converted: durations in seconds, the rest kept", async () => {
  const { config } = await loadConfig({ configFile: DIR + "good.yaml", env: {}, isRoot: false });
  const expected = defaultConfig();
  expected.log = { level: "debug", format: "json" };
  expected.paths = { procfs: "/host/proc", sysfs: "/host/sys", rootfs: "/host/root" };
  expected.storage.path = "/srv/sysmon";
  expected.collectors.interval = 5;
  expected.collectors.max_entities = 64;
  expected.collectors.pressure.enabled = false;
  expected.collectors.diskstats.interval = 1;
  expected.collectors.diskstats.exclude = "^(loop|ram|zram|sr)\\d+$";
  expected.collectors.netdev.include = "^(eth|en)";
  expected.collectors.netdev.exclude = "";
  expected.collectors.filesystem.statfs_timeout = 2.5; // 2500ms
  assertEquals(config, expected);
});

// --- merge order and environment -----------------------------------------------------------------

const ETC = "collectors:\n  interval: 20s\n  cpu:\n    enabled: false\n  diskstats:\n" +
  '    exclude: "^sr"\nlog:\n  level: warn\n';
const USER =
  "collectors:\n  interval: 30s\n  cpu:\n    interval: 1s\n  netdev:\n    include: ^eth\n";
const CLI = "collectors:\n  interval: 40s\n";

Deno.test("merge order: defaults < /etc < user < --config; mappings merge deeply", async () => {
  const read = memoryFiles({
    [SYSTEM_CONFIG_FILE]: ETC,
    "/home/ann/.config/sysmon/config.yaml": USER,
    "/tmp/cli.yaml": CLI,
  });
  const env = { HOME: "/home/ann" };
  const all = await loadConfig({ configFile: "/tmp/cli.yaml", env, isRoot: false, readFile: read });
  assertEquals(all.files, [
    SYSTEM_CONFIG_FILE,
    "/home/ann/.config/sysmon/config.yaml",
    "/tmp/cli.yaml",
  ]);
  const c = all.config.collectors;
  assertEquals(c.interval, 40); // --config beats both
  assertEquals(all.config.log.level, "warn"); // only /etc sets it
  assertEquals(c.cpu, { enabled: false, interval: 1 }); // /etc's enabled and the user's interval
  assertEquals(c.diskstats.exclude, "^sr");
  assertEquals(c.netdev.include, "^eth");
  assertEquals(c.netdev.exclude, "^lo$"); // untouched: default
  assertEquals(c.filesystem, testCollectorsConfig().filesystem);

  const noCli = await loadConfig({ env, isRoot: false, readFile: read });
  assertEquals(noCli.config.collectors.interval, 30); // the user file beats /etc
  const onlyEtc = await loadConfig({ env: {}, isRoot: false, readFile: read });
  assertEquals(onlyEtc.config.collectors.interval, 20);
  assertEquals(onlyEtc.files, [SYSTEM_CONFIG_FILE]);
});

Deno.test("lists and scalars replace, mappings merge, record entries merge like mappings", () => {
  const schema = s.object({
    tags: s.array(s.string(), { default: ["a", "b"] }),
    opts: s.object({ x: s.integer({ default: 1 }), y: s.integer({ default: 2 }) }),
    rules: s.record(s.object({ expr: s.string(), for: s.duration({ default: "1m" }) })),
  });
  const base = defaultOf(schema);
  const first = validate(schema, { rules: { hot: { expr: "cpu > 90", for: "5m" } } }, "partial");
  const second = validate(schema, {
    tags: ["c"],
    opts: { y: 3 },
    rules: { hot: { expr: "cpu > 95" } },
  }, "partial");
  assertEquals(first.issues, []);
  assertEquals(second.issues, []);
  const merged = mergeOver(schema, mergeOver(schema, base, first.value), second.value);
  // `hot` keeps the first file's `for` (5m) and takes the second file's expr.
  assertEquals(merged, {
    tags: ["c"],
    opts: { x: 1, y: 3 },
    rules: { hot: { expr: "cpu > 95", for: 300 } },
  });
  // A new entry gets the defaults for what it does not say.
  const third = validate(schema, { rules: { cold: { expr: "cpu < 1" } } }, "partial");
  assertEquals(mergeOver(schema, base, third.value).rules, { cold: { expr: "cpu < 1", for: 60 } });
  assertEquals(base, { tags: ["a", "b"], opts: { x: 1, y: 2 }, rules: {} }); // not mutated
});

Deno.test("XDG_CONFIG_HOME is used when absolute; relative or unset falls back to ~/.config", async () => {
  const cases: [Env, string | undefined, string | undefined][] = [
    [{ HOME: "/home/ann", XDG_CONFIG_HOME: "/cfg/" }, undefined, "/cfg/sysmon/config.yaml"],
    [
      { HOME: "/home/ann", XDG_CONFIG_HOME: "relative" },
      undefined,
      "/home/ann/.config/sysmon/config.yaml",
    ],
    [{ HOME: "/home/ann", XDG_CONFIG_HOME: "" }, undefined, "/home/ann/.config/sysmon/config.yaml"],
    [{ HOME: "/ignored" }, "/home/bob", "/home/bob/.config/sysmon/config.yaml"], // `home` wins
    [{}, undefined, undefined], // no home at all: only /etc is read
  ];
  for (const [env, home, expected] of cases) {
    assertEquals(userConfigFile(env, home ?? env.HOME), expected, JSON.stringify(env));
    const read = memoryFiles({});
    await loadConfig({ env, home, isRoot: false, readFile: read });
    assertEquals(read.asked, expected ? [SYSTEM_CONFIG_FILE, expected] : [SYSTEM_CONFIG_FILE]);
  }
});

Deno.test("the data directory: storage.path, $STATE_DIRECTORY, root, XDG_DATA_HOME, ~/.local/share", () => {
  const auto = defaultConfig();
  const set = defaultConfig();
  set.storage.path = "/srv/sysmon/";
  assertEquals(resolveDataDir(set, { STATE_DIRECTORY: "/var/lib/x" }, true), "/srv/sysmon");
  // systemd passes several directories separated by ':' when StateDirectory= names several.
  assertEquals(
    resolveDataDir(auto, { STATE_DIRECTORY: "/var/lib/sysmon2:/var/lib/other" }, false),
    "/var/lib/sysmon2",
  );
  assertEquals(resolveDataDir(auto, { HOME: "/root" }, true), "/var/lib/sysmon");
  assertEquals(
    resolveDataDir(auto, { HOME: "/home/ann", XDG_DATA_HOME: "/data" }, false),
    "/data/sysmon",
  );
  assertEquals(
    resolveDataDir(auto, { HOME: "/home/ann", XDG_DATA_HOME: "rel" }, false),
    "/home/ann/.local/share/sysmon",
  );
  assertEquals(resolveDataDir(auto, { HOME: "/home/ann" }, false), "/home/ann/.local/share/sysmon");
  const err = assertThrows(() => resolveDataDir(auto, {}, false));
  assert(err instanceof ConfigError);
  assertStringIncludes(err.lines[0], "set storage.path or pass --data DIR");
});

Deno.test("loadConfig reports the data directory it resolved", async () => {
  const read = memoryFiles({});
  const user = await loadConfig({ env: {}, home: "/home/ann", isRoot: false, readFile: read });
  assertEquals(user.dataDir, "/home/ann/.local/share/sysmon");
  const root = await loadConfig({ env: { HOME: "/root" }, isRoot: true, readFile: read });
  assertEquals(root.dataDir, "/var/lib/sysmon");
  const none = await loadConfig({ env: {}, isRoot: false, readFile: read });
  assertEquals(none.dataDir, undefined);
});

Deno.test("storage.path must be absolute or empty", async () => {
  assertEquals(
    await errorLines(() => parseConfigText("storage:\n  path: data\n", "x.yaml")),
    ['x.yaml:2: storage.path: "data" is not allowed (expected an absolute path, or "" for automatic)'],
  );
});

// --- flags ---------------------------------------------------------------------------------------

Deno.test("applyOverrides: flags beat files, checked by the schema's own rules", () => {
  const base = defaultConfig();
  const out = applyOverrides(base, {
    procfs: "/host/proc",
    sysfs: "/host/sys",
    rootfs: "/host",
    logLevel: "debug",
    interval: "2s",
  });
  assertEquals(out.paths, { procfs: "/host/proc", sysfs: "/host/sys", rootfs: "/host" });
  assertEquals(out.log.level, "debug");
  assertEquals(out.collectors.interval, 2);
  assertEquals(out.collectors.filesystem.interval, 60); // own interval kept
  assertEquals(base, defaultConfig()); // input untouched
  assertEquals(applyOverrides(base, { interval: 0.5 }).collectors.interval, 0.5);
  assertEquals(applyOverrides(base, {}), base);

  const err = assertThrows(() => applyOverrides(base, { logLevel: "loud", interval: 0.05 }));
  assert(err instanceof ConfigError);
  assertEquals(err.lines, [
    '--log-level: "loud" is not one of debug, info, warn, error',
    '--interval: "50ms" is out of range (allowed: 100ms to 1d)',
  ]);
  const bad = assertThrows(() => applyOverrides(base, { interval: "10x" })) as ConfigError;
  assertEquals(bad.lines, [
    '--interval: "10x" is not a duration (use e.g. 500ms, 10s, 5m, 1h, 7d)',
  ]);
});

// --- secrets, show -------------------------------------------------------------------------------

/** A schema with secrets in every kind of place, as later issues will add them. */
const secretSchema = s.object({
  smtp: s.object({
    host: s.string({ default: "localhost" }),
    password: s.string({ default: "", secret: true }),
  }),
  token: s.nullable(s.string(), { secret: true }),
  webhooks: s.record(s.object({ url: s.string(), key: s.string({ default: "", secret: true }) })),
  vault: s.object({ role: s.string({ default: "" }), pin: s.string({ default: "" }) }, {
    secret: true,
  }),
});

Deno.test("show masks every field the schema marks secret, revealing nothing of its length", async () => {
  const config = {
    smtp: { host: "mail.example.org", password: "hunter2" },
    token: "t0ken-with-a-much-longer-value-than-the-mask-itself",
    webhooks: {
      ops: { url: "https://hooks.example.org/x", key: "k" },
      dev: { url: "https://d", key: "" },
    },
    vault: { role: "reader", pin: "1234" },
  };
  const text = renderConfig(config, secretSchema);
  assertEquals(
    text,
    [
      "smtp:",
      "  host: mail.example.org",
      `  password: "${MASK}"`,
      `token: "${MASK}"`,
      "webhooks:",
      "  ops:",
      '    url: "https://hooks.example.org/x"',
      `    key: "${MASK}"`,
      "  dev:",
      '    url: "https://d"',
      '    key: ""', // unset: shown as unset
      "vault:",
      `  role: "${MASK}"`, // the whole section is secret
      `  pin: "${MASK}"`,
      "",
    ].join("\n"),
  );
  for (const secret of ["hunter2", "t0ken", "reader", "1234"]) {
    assert(!text.includes(secret), secret);
  }
  // One character or fifty: the same output.
  const short = renderConfig({ ...config, token: "x" }, secretSchema);
  assertEquals(short, text);
  // Unset secrets (null, "") are shown as unset, so users can see that they are.
  const unset = renderConfig(
    { ...config, token: null, smtp: { host: "h", password: "" } },
    secretSchema,
  );
  assertStringIncludes(unset, "token: null\n");
  assertStringIncludes(unset, '  password: ""\n');
  // The masked text still parses and validates (masked strings are strings).
  const parsed = await parseYaml(unset, "shown.yaml");
  assertEquals(validate(secretSchema, parsed.value, "full").issues, []);
});

Deno.test("maskSecrets masks the same fields for JSON output, without touching its input", () => {
  const config = {
    smtp: { host: "mail", password: "hunter2" },
    token: null,
    webhooks: { ops: { url: "https://h", key: "k" } },
    vault: { role: "", pin: "1234" },
  };
  const before = structuredClone(config);
  assertEquals(maskSecrets(config, secretSchema), {
    smtp: { host: "mail", password: MASK },
    token: null,
    webhooks: { ops: { url: "https://h", key: MASK } },
    vault: { role: "", pin: MASK },
  });
  assertEquals(config, before);
  assertEquals(maskSecrets(defaultConfig(), sysmonSchema), defaultConfig()); // no secrets yet
});

Deno.test("error messages never echo a secret value", () => {
  const { issues } = validate(secretSchema, { smtp: { password: 12345 }, token: ["x"] }, "partial");
  assertEquals(issues.map((i) => i.text), [
    "smtp.password: the value is not a string (put text in quotes)",
    "token: the value is not a string (or null to leave it unset)",
  ]);
});

Deno.test("show prints the effective config in schema order, and it parses back to the same", async () => {
  const { config } = await loadConfig({ configFile: DIR + "good.yaml", env: {}, isRoot: false });
  const text = renderConfig(config, sysmonSchema);
  const lines = text.split("\n");
  // Schema order, not file order; durations back as duration text; regexes quoted without escapes.
  assertEquals(lines.filter((l) => /^\S/.test(l)), [
    "log:",
    "paths:",
    "storage:",
    "record:",
    "serve:",
    "alert:",
    "collectors:",
  ]);
  assertStringIncludes(text, "\ncollectors:\n  interval: 5s\n  max_entities: 64\n  cpu:\n");
  assertStringIncludes(text, "    exclude: '^(loop|ram|zram|sr)\\d+$'\n");
  assertStringIncludes(text, '    include: "^(eth|en)"\n');
  assertStringIncludes(text, "    interval: 1m\n"); // filesystem: 60 s
  assertStringIncludes(text, "    statfs_timeout: 2s500ms\n");
  assertEquals(await parseFull(text), config);
  assertEquals(await parseFull(renderConfig(defaultConfig(), sysmonSchema)), defaultConfig());
});

Deno.test("yamlString quotes whatever a YAML parser would read as something else", async () => {
  const cases: [string, string][] = [
    ["/proc", "/proc"],
    ["eth0", "eth0"],
    ["", '""'],
    ["true", '"true"'],
    ["no", '"no"'],
    ["10", '"10"'],
    ["10s", '"10s"'],
    ["a: b", '"a: b"'],
    ["#x", '"#x"'],
    ["-x", '"-x"'],
    [" lead", '" lead"'],
    ["^lo$", '"^lo$"'],
    ["\\d+", "'\\d+'"],
    ["it's \\d", "'it''s \\d'"],
    ['say "hi"', `'say "hi"'`],
    ["tab\there\n", '"tab\\there\\n"'],
    ["del\u007f", '"del\\u007f"'],
    ["ünï", '"ünï"'],
  ];
  for (const [input, expected] of cases) {
    assertEquals(yamlString(input), expected, JSON.stringify(input));
    const { value } = await parseYaml(`k: ${expected}\n`, "q.yaml");
    assertEquals((value as { k: unknown }).k, input, `round trip of ${JSON.stringify(input)}`);
  }
});

// --- init ----------------------------------------------------------------------------------------

Deno.test("the starter file validates, sets nothing, and documents every setting", async () => {
  const text = starterConfig();
  const layer = await parseConfigText(text, "starter.yaml");
  const loaded = await loadConfig({
    configFile: "starter.yaml",
    env: {},
    isRoot: false,
    readFile: memoryFiles({ "starter.yaml": text }),
  });
  assertEquals(loaded.config, defaultConfig());
  assertEquals(layer.values, {
    log: {},
    paths: {},
    storage: { retention: {} },
    record: {},
    serve: { tls: {}, auth: {} },
    alert: {},
    collectors: {
      cpu: {},
      loadavg: {},
      meminfo: {},
      pressure: {},
      diskstats: {},
      netdev: {},
      netclass: {},
      filesystem: {},
    },
  });
  // Uncommenting every setting gives a file that validates and holds exactly the defaults.
  const uncommented = text.replace(/^(\s*)# ([a-z_]+: .*)$/gm, "$1$2");
  assertEquals(await parseFull(uncommented), defaultConfig());
  assertStringIncludes(text, "\n  # level: info\n");
  assertStringIncludes(text, "\n    # exclude: '^(loop|ram|zram)\\d+$'\n");
});

// --- the DSL itself ------------------------------------------------------------------------------

Deno.test("schema DSL: records, lists, required keys and paths in messages", () => {
  const schema = s.object({
    rules: s.record(
      s.object({ expr: s.string(), severity: s.enum(["warn", "crit"], { default: "warn" }) }),
    ),
    ports: s.array(s.integer({ min: 1, max: 65535 }), { max: 2 }),
    ratio: s.number({ min: 0, max: 1, default: 0.5 }),
  });
  const { issues } = validate(schema, {
    rules: { "disk full": { severity: "crti" }, ok: { expr: "x" } },
    ports: [80, 0, "http"],
    ratio: Infinity,
  }, "partial");
  assertEquals(issues.map((i) => [formatPath(i.path), i.text]), [
    [
      'rules["disk full"].severity',
      'rules["disk full"].severity: "crti" is not one of warn, crit (did you mean crit?)',
    ],
    ['rules["disk full"]', 'missing key rules["disk full"].expr'],
    ["ports[1]", "ports[1]: 0 is out of range (allowed: 1 to 65535)"],
    ["ports[2]", 'ports[2]: "http" is not an integer (allowed: 1 to 65535)'],
    ["ratio", "ratio: Infinity is not a number (allowed: 0 to 1)"],
  ]);
  assertEquals(
    validate(schema, { ports: [1, 2, 3] }, "partial").issues.map((i) => i.text),
    ["ports: a list of 3 items (allowed: up to 2 items)"],
  );
  const ok = validate(schema, { rules: { r: { expr: "y" } } }, "full");
  assertEquals(ok.value, { rules: { r: { expr: "y", severity: "warn" } }, ports: [], ratio: 0.5 });
});

Deno.test("did-you-mean only suggests close names", () => {
  assertEquals(suggest("cpux", ["cpu", "loadavg"]), "cpu");
  assertEquals(suggest("maxentities", ["max_entities", "interval"]), "max_entities");
  assertEquals(suggest("Interval", ["interval"]), "interval");
  assertEquals(suggest("disk", ["diskstats", "netdev"]), undefined);
  assertEquals(suggest("x", ["cpu"]), undefined);
});

Deno.test("messages point at the key for unknown keys and at the value otherwise", async () => {
  const text = "collectors:\n  diskstats:\n    exclude:\n      - a\n  netdevs: {}\n";
  assertEquals(await errorLines(() => parseConfigText(text, "p.yaml")), [
    "p.yaml:4: collectors.diskstats.exclude: a list is not a regular expression",
    "p.yaml:5: unknown key collectors.netdevs (did you mean netdev?); known keys: interval, " +
    "max_entities, cpu, loadavg, meminfo, pressure, diskstats, netdev, netclass, filesystem",
  ]);
});
