import { compileRules, observe, type RuleConfig } from "../src/alert/rules.ts";
import {
  formatValue,
  parseTemplate,
  renderTemplate,
  TEMPLATE_VARIABLES,
} from "../src/alert/template.ts";
import type { ThresholdRule } from "../src/alert/types.ts";
import { defaultConfig } from "../src/config/load.ts";
import { emptySample, type Sample } from "../src/core/model.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";

/** A rule with the schema's defaults, overridden by `patch`. */
function rc(patch: Partial<RuleConfig>): RuleConfig {
  return {
    enabled: true,
    type: "threshold",
    metric: "cpu_usage_percent",
    entity: "",
    match: {},
    direction: "above",
    warning: null,
    critical: null,
    clear_warning: null,
    clear_critical: null,
    target: null,
    warning_within: null,
    critical_within: null,
    window: null,
    min_history: 172800,
    sensitivity: 1,
    for: 0,
    keep_firing_for: 0,
    labels: {},
    summary: "{{rule}}: {{metric}} {{entity}} is {{value}} (threshold {{threshold}})",
    description: "",
    why: "",
    ...patch,
  };
}

/** Compiles one rule next to a good one, and returns the bad rule's messages. */
function problemsOf(patch: Partial<RuleConfig>): string[] {
  const { rules, errors } = compileRules({
    good: rc({ warning: 90 }),
    bad: rc(patch),
  });
  // The good rule compiles whatever happens to the bad one, and the bad one is left out.
  assertEquals(rules.map((r) => r.name), ["good"]);
  assert(errors.length > 0, "expected at least one error");
  for (const e of errors) assert(e.startsWith("alert.rules.bad: "), `not naming the rule: ${e}`);
  return errors;
}

function oneProblem(patch: Partial<RuleConfig>, ...fragments: string[]): string {
  const errors = problemsOf(patch);
  assertEquals(errors.length, 1, `expected one error, got:\n${errors.join("\n")}`);
  for (const f of fragments) assertStringIncludes(errors[0], f);
  return errors[0];
}

// ---- compileRules: good rules ----

Deno.test("compileRules: a scalar rule with hysteresis", () => {
  const { rules, errors } = compileRules({
    cpu_busy: rc({
      warning: 90,
      critical: 98,
      clear_warning: 80,
      clear_critical: 90,
      for: 600,
      keep_firing_for: 300,
      labels: { team: "ops" },
      summary: "CPU {{ value }} on {{host}} ({{labels.team}})",
    }),
  });
  assertEquals(errors, []);
  assertEquals(rules, [
    {
      type: "threshold",
      name: "cpu_busy",
      metric: "cpu_usage_percent",
      scope: "metrics",
      match: {},
      labels: { team: "ops" },
      summary: "CPU {{ value }} on {{host}} ({{labels.team}})",
      description: "",
      direction: "above",
      warning: { raise: 90, clear: 80 },
      critical: { raise: 98, clear: 90 },
      for: 600,
      keepFiringFor: 300,
    } satisfies ThresholdRule,
  ]);
});

Deno.test("compileRules: clear thresholds default to the raise values; one level is enough", () => {
  const { rules, errors } = compileRules({
    warn_only: rc({ warning: 90 }),
    crit_only: rc({ critical: 95, clear_critical: 90 }),
    both: rc({ warning: 80, critical: 95 }),
  });
  assertEquals(errors, []);
  assertEquals(rules[0].warning, { raise: 90, clear: 90 });
  assertEquals(rules[0].critical, undefined);
  assert(!("critical" in rules[0]), "an unset level is absent, not undefined");
  assertEquals(rules[1].warning, undefined);
  assertEquals(rules[1].critical, { raise: 95, clear: 90 });
  assertEquals(rules[2].warning, { raise: 80, clear: 80 });
  assertEquals(rules[2].critical, { raise: 95, clear: 95 });
});

Deno.test("compileRules: a per-entity rule with entity and match regexes", () => {
  const { rules, errors } = compileRules({
    fs: rc({
      metric: "filesystem_usage_percent",
      entity: "^/(home|var)?$",
      match: { fstype: "^(ext4|xfs)$", device: "^/dev/" },
      warning: 85,
      summary: "{{entity}} on {{labels.device}} is {{value}} full",
    }),
  });
  assertEquals(errors, []);
  const r = rules[0];
  assertEquals(r.scope, "filesystems");
  assertEquals(r.entity?.source, "^\\/(home|var)?$");
  assert(r.entity?.test("/") && r.entity.test("/var") && !r.entity.test("/boot"));
  assertEquals(Object.keys(r.match), ["fstype", "device"]);
  assert(r.match.fstype.test("xfs") && !r.match.fstype.test("tmpfs"));
});

Deno.test("compileRules: direction below wants warning above critical and clears above raise", () => {
  const { rules, errors } = compileRules({
    carrier: rc({
      metric: "filesystem_available",
      direction: "below",
      warning: 10e9,
      critical: 2e9,
      clear_warning: 12e9,
      clear_critical: 3e9,
    }),
  });
  assertEquals(errors, []);
  assertEquals(rules[0].direction, "below");
  assertEquals(rules[0].warning, { raise: 10e9, clear: 12e9 });
  assertEquals(rules[0].critical, { raise: 2e9, clear: 3e9 });
});

Deno.test("compileRules: disabled rules are skipped, even broken ones", () => {
  const { rules, errors } = compileRules({
    off: rc({ enabled: false, metric: "no_such_metric" }),
    on: rc({ warning: 1 }),
  });
  assertEquals(errors, []);
  assertEquals(rules.map((r) => r.name), ["on"]);
});

Deno.test("compileRules: entity family labels a metric by its catalogue scope", () => {
  const { rules, errors } = compileRules({
    d: rc({ metric: "disk_util_percent", warning: 90 }),
    n: rc({ metric: "net_rx_errors_per_second", warning: 1 }),
    c: rc({ metric: "core_usage_percent", warning: 99 }),
  });
  assertEquals(errors, []);
  assertEquals(rules.map((r) => r.scope), ["disks", "interfaces", "cores"]);
});

// ---- compileRules: every error names the rule, the others still compile ----

Deno.test("compileRules: unknown metric suggests the closest catalogue name", () => {
  oneProblem(
    { metric: "cpu_usage_percnt", warning: 1 },
    'metric "cpu_usage_percnt" is not a model metric',
    '(did you mean "cpu_usage_percent"?)',
  );
  oneProblem({ metric: "filesystem_usage", warning: 1 }, 'did you mean "filesystem_usage_percent"');
  oneProblem({ metric: "memroy_used", warning: 1 }, 'did you mean "memory_used"');
  const far = oneProblem({ metric: "banana", warning: 1 }, "is not a model metric");
  assert(!far.includes("did you mean"), far);
  oneProblem({ metric: "", warning: 1 }, "metric is not set");
});

Deno.test("compileRules: a label metric is not something to compare", () => {
  oneProblem({ metric: "fstype", warning: 1 }, 'metric "fstype" is a text label');
});

Deno.test("compileRules: bad regexes in entity and match carry the regex error", () => {
  oneProblem(
    { metric: "disk_util_percent", entity: "sd(a", warning: 1 },
    'entity: "sd(a" is not a valid regular expression: Unterminated group',
  );
  oneProblem(
    { metric: "filesystem_usage_percent", match: { fstype: "[ext" }, warning: 1 },
    'match.fstype: "[ext" is not a valid regular expression',
  );
});

Deno.test("compileRules: entity and match on a scalar metric", () => {
  oneProblem({ entity: "x", warning: 1 }, "per-entity metrics only", "cpu_usage_percent");
  oneProblem({ match: { fstype: "x" }, warning: 1 }, "per-entity metrics only");
});

Deno.test("compileRules: match on a field the entity family does not have", () => {
  oneProblem(
    { metric: "filesystem_usage_percent", match: { fs_type: "ext4" }, warning: 1 },
    'match.fs_type: filesystems have no string field "fs_type"',
    "fields: device, fstype",
  );
  oneProblem(
    { metric: "disk_util_percent", match: { device: "^sd" }, warning: 1 },
    "use entity to select by name",
  );
});

Deno.test("compileRules: no threshold at all", () => {
  oneProblem({}, "neither warning nor critical is set");
});

Deno.test("compileRules: warning and critical in the wrong order for the direction", () => {
  oneProblem(
    { warning: 95, critical: 90 },
    "critical (90) must be above warning (95) for direction above",
  );
  oneProblem({ warning: 90, critical: 90 }, "must be above warning");
  oneProblem(
    { direction: "below", warning: 10, critical: 20 },
    "critical (20) must be below warning (10) for direction below",
  );
});

Deno.test("compileRules: clear thresholds on the wrong side of their raise", () => {
  oneProblem(
    { warning: 90, clear_warning: 95 },
    "clear_warning (95) must not be above warning (90) for direction above",
  );
  oneProblem(
    { direction: "below", critical: 5, clear_critical: 4 },
    "clear_critical (4) must not be below critical (5) for direction below",
  );
  oneProblem({ critical: 90, clear_warning: 80 }, "clear_warning is set but warning is not");
  // Clear equal to raise is allowed: no hysteresis.
  assertEquals(compileRules({ r: rc({ warning: 90, clear_warning: 90 }) }).errors, []);
});

Deno.test("compileRules: bad templates", () => {
  oneProblem(
    { warning: 1, summary: "{{value}} on {{hots}}" },
    "summary: unknown variable {{hots}}",
    "known: rule, metric",
  );
  oneProblem(
    { warning: 1, description: "value {{value" },
    'description: unclosed "{{" at character 7',
  );
  oneProblem(
    { warning: 1, summary: "{{labels.team}}", labels: { owner: "x" } },
    "summary: {{labels.team}} names no label of this rule (labels: owner)",
  );
  // The entity's own labels are known to per-entity rules.
  const { errors } = compileRules({
    r: rc({
      metric: "filesystem_usage_percent",
      warning: 1,
      summary: "{{labels.mountpoint}} {{labels.device}} {{labels.fstype}}",
    }),
  });
  assertEquals(errors, []);
});

Deno.test("compileRules: a rule label may not overwrite an entity's identifying label", () => {
  oneProblem(
    { metric: "disk_util_percent", warning: 1, labels: { device: "x" } },
    'labels.device: "device" is set from each entity (disks)',
  );
});

Deno.test("compileRules: negative durations", () => {
  oneProblem({ warning: 1, for: -1 }, "for must be a duration of 0s or more");
  oneProblem({ warning: 1, keep_firing_for: -5 }, "keep_firing_for must be a duration");
});

Deno.test("compileRules: several problems of one rule are each reported", () => {
  const errors = problemsOf({ warning: 95, critical: 90, for: -1, summary: "{{x}}" });
  assertEquals(errors.length, 3, errors.join("\n"));
});

Deno.test("compileRules: a custom catalogue", () => {
  const defs = [{
    name: "widgets",
    scope: "metrics" as const,
    unit: "count" as const,
    kind: "gauge" as const,
    source: "",
    formula: "",
    help: "",
  }];
  assertEquals(compileRules({ w: rc({ metric: "widgets", warning: 3 }) }, defs).errors, []);
  assertStringIncludes(
    compileRules({ w: rc({ warning: 3 }) }, defs).errors[0],
    'metric "cpu_usage_percent" is not a model metric',
  );
});

// ---- observe ----

function sample(): Sample {
  const s = emptySample("2026-01-01T00:00:00Z", "web1", 10);
  s.metrics.cpu_usage_percent = 93.4;
  s.metrics.memory_usage_percent = null;
  s.filesystems = {
    "/": { device: "/dev/sda1", fstype: "ext4", filesystem_usage_percent: 91 },
    "/run": { device: "tmpfs", fstype: "tmpfs", filesystem_usage_percent: 2 },
    "/data": { device: "/dev/sdb1", fstype: "xfs", filesystem_usage_percent: null },
    "/mnt/nfs": { device: "srv:/x", fstype: "nfs4", filesystem_usage_percent: 40 },
    "/odd": { filesystem_usage_percent: 50 }, // no device/fstype read
  };
  s.disks = {
    sda: { disk_util_percent: 12.5 },
    sdb: { disk_util_percent: Number.NaN },
    nvme0n1: {},
  };
  s.cores = { cpu0: { core_usage_percent: 99 } };
  return s;
}

function rule(patch: Partial<RuleConfig>): ThresholdRule {
  const { rules, errors } = compileRules({ r: rc({ warning: 1, ...patch }) });
  assertEquals(errors, []);
  assertEquals(rules[0].type, "threshold");
  return rules[0] as ThresholdRule;
}

Deno.test("observe: a scalar rule gives one series keyed by the rule name", () => {
  assertEquals(observe(rule({ labels: { team: "ops" } }), sample()), [
    { rule: "r", key: "r", labels: { team: "ops" }, value: 93.4 },
  ]);
  assertEquals(observe(rule({ metric: "memory_usage_percent" }), sample())[0].value, null);
  assertEquals(observe(rule({ metric: "swap_usage_percent" }), sample())[0].value, null);
});

Deno.test("observe: filesystems filtered by match, with their identifying labels", () => {
  const r = rule({
    metric: "filesystem_usage_percent",
    match: { fstype: "^(?!(tmpfs|ramfs)$)" },
    labels: { team: "ops" },
  });
  const obs = observe(r, sample());
  // tmpfs excluded; /odd has no fstype, so a matcher on it fails.
  assertEquals(obs.map((o) => o.key), ["r//", "r//data", "r//mnt/nfs"]);
  assertEquals(obs[0], {
    rule: "r",
    key: "r//",
    entity: "/",
    labels: { team: "ops", mountpoint: "/", device: "/dev/sda1", fstype: "ext4" },
    value: 91,
  });
  assertEquals(obs[1].value, null, "a null reading stays null");
});

Deno.test("observe: entity regex and several matchers must all match", () => {
  const all = observe(rule({ metric: "filesystem_usage_percent" }), sample());
  assertEquals(all.length, 5, "no entity and no match watches every filesystem");
  assertEquals(all[4].labels, { mountpoint: "/odd" }, "missing string fields give no label");

  const r = rule({
    metric: "filesystem_usage_percent",
    entity: "^/(data|run)?$",
    match: { device: "^/dev/", fstype: "^(ext4|xfs)$" },
  });
  assertEquals(observe(r, sample()).map((o) => o.entity), ["/", "/data"]);
});

Deno.test("observe: disks carry device, missing and non-finite values are null", () => {
  const obs = observe(rule({ metric: "disk_util_percent" }), sample());
  assertEquals(obs, [
    { rule: "r", key: "r/sda", entity: "sda", labels: { device: "sda" }, value: 12.5 },
    { rule: "r", key: "r/sdb", entity: "sdb", labels: { device: "sdb" }, value: null },
    { rule: "r", key: "r/nvme0n1", entity: "nvme0n1", labels: { device: "nvme0n1" }, value: null },
  ]);
  assertEquals(observe(rule({ metric: "disk_util_percent", entity: "^nvme" }), sample()).length, 1);
});

Deno.test("observe: cores carry node_exporter's cpu label; an empty family gives nothing", () => {
  const obs = observe(rule({ metric: "core_usage_percent" }), sample());
  assertEquals(obs.map((o) => [o.key, o.labels, o.value]), [["r/cpu0", { cpu: "0" }, 99]]);
  assertEquals(observe(rule({ metric: "net_rx_errors_per_second" }), sample()), []);
});

// ---- templates ----

Deno.test("templates: render variables and labels, spaces inside braces allowed", () => {
  const t = parseTemplate("{{rule}}: {{ entity }} is {{value}} (>{{threshold}}) [{{labels.team}}]");
  assertEquals(t.error, undefined);
  assertEquals(
    renderTemplate(t, { rule: "fs", entity: "/var", value: "93.4%", threshold: "90.0%" }, {
      team: "ops",
    }),
    "fs: /var is 93.4% (>90.0%) [ops]",
  );
  // Missing values render empty; text without placeholders and stray "}}" pass through.
  assertEquals(renderTemplate(parseTemplate("a {{host}} b }}"), {}, {}), "a  b }}");
  assertEquals(renderTemplate(parseTemplate(""), {}, {}), "");
  assertEquals(
    parseTemplate("x{{\tseverity  }}y").parts,
    [{ kind: "text", text: "x" }, { kind: "variable", name: "severity" }, {
      kind: "text",
      text: "y",
    }],
  );
});

Deno.test("templates: every documented plain variable parses", () => {
  for (const v of TEMPLATE_VARIABLES) {
    const name = v.replace("<name>", "team");
    assertEquals(parseTemplate(`{{${name}}}`).error, undefined, name);
  }
});

Deno.test("templates: unknown variable and unclosed braces are errors naming them", () => {
  const unknown = parseTemplate("a {{ valeu }} b");
  assertStringIncludes(unknown.error ?? "", "unknown variable {{valeu}}");
  // A broken template still renders its raw text rather than nothing.
  assertEquals(renderTemplate(unknown, { value: "1" }, {}), "a {{ valeu }} b");
  assertStringIncludes(parseTemplate("{{}}").error ?? "", "unknown variable {{}}");
  assertStringIncludes(parseTemplate("{{labels.}}").error ?? "", "unknown variable");
  assertStringIncludes(parseTemplate("{{labels.a-b}}").error ?? "", "unknown variable");
  assertStringIncludes(
    parseTemplate("ok {{value}} then {{rule").error ?? "",
    'unclosed "{{" at character 19',
  );
});

Deno.test("formatValue: per unit", () => {
  const cases: [number | null, string, string][] = [
    [93.44, "percent", "93.4%"],
    [0, "percent", "0.0%"],
    [100, "percent", "100.0%"],
    [512, "bytes", "512 B"],
    [1536, "bytes", "1.5 KiB"],
    [1.5 * 2 ** 30, "bytes", "1.5 GiB"],
    [2 ** 20 - 1, "bytes", "1.0 MiB"],
    [12 * 2 ** 20, "bytes/s", "12.0 MiB/s"],
    [0, "bytes/s", "0 B/s"],
    [3.21, "1/s", "3.2/s"],
    [0.012, "seconds", "12 ms"],
    [0.0025, "seconds", "2.5 ms"],
    [0.9996, "seconds", "1.0 s"],
    [3.4, "seconds", "3.4 s"],
    [330, "seconds", "5m30s"],
    [42, "count", "42"],
    [1.07, "count", "1.07"],
    [0.5, "ratio", "0.5"],
    [null, "percent", "n/a"],
    [Number.NaN, "bytes", "n/a"],
    [Infinity, "count", "n/a"],
  ];
  for (const [value, unit, want] of cases) {
    assertEquals(formatValue(value, unit), want, `${value} ${unit}`);
  }
});

Deno.test("compileRules: the shipped default rules all compile", () => {
  const shipped = defaultConfig().alert.rules;
  const { rules, errors } = compileRules(shipped);
  assertEquals(errors, []);
  assertEquals(rules.map((r) => r.name), Object.keys(shipped).filter((n) => shipped[n].enabled));
  assert(rules.length > 0);
});

Deno.test("compileRules: rule labels must be valid names and may not override alertname, severity, host", () => {
  const base = defaultConfig().alert.rules.cpu_busy;
  const { rules, errors } = compileRules({
    bad_name: { ...base, labels: { "team-name": "x" } },
    reserved: { ...base, labels: { severity: "page" } },
    fine: { ...base, labels: { team: "ops" } },
  });
  assertEquals(rules.map((r) => r.name), ["fine"]);
  assertEquals(errors, [
    "alert.rules.bad_name: labels.team-name: not a valid label name (letters, digits and _, not first a digit)",
    'alert.rules.reserved: labels.severity: "severity" is set by sysmon on every alert',
  ]);
});
