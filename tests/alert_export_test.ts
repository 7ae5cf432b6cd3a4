/**
 * `sysmon alert export`: the PromQL of each shipped rule (string comparison), the translation of
 * JavaScript regular expressions into label matchers (lookahead shape included), the annotation
 * templates, `promtool check rules` and `promtool test rules` (tests/fixtures/alert-export/) on the
 * exported default rules, and `amtool check-config` on the Alertmanager configuration.
 */
import { parse as parseYaml } from "yaml";
import {
  alertmanagerConfig,
  alertmanagerOptionsFrom,
  annotationTemplate,
  labelMatcher,
  metricExpression,
  prometheusRules,
  runExport,
} from "../src/alert/export.ts";
import { compileRules } from "../src/alert/rules.ts";
import type { ThresholdRule } from "../src/alert/types.ts";
import { RuntimeFailure } from "../src/cli/errors.ts";
import { defaultConfig } from "../src/config/load.ts";
import type { AlertRuleConfig } from "../src/config/sysmon_schema.ts";
import { catalog } from "../src/core/catalog.ts";
import { channelConfig } from "./alert_fixtures.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { FIXTURES } from "./helpers.ts";

const PROMTOOL = "/usr/bin/promtool";
const AMTOOL = "/usr/bin/amtool";
const UNIT_TESTS = `${FIXTURES}alert-export/rules_test.yml`;

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

// Deno prints no reason for an ignored test, so the name carries it.
const promtoolNote = installed(PROMTOOL)
  ? ""
  : ` (ignored: ${PROMTOOL} is not installed; apt-get install prometheus)`;
const amtoolNote = installed(AMTOOL)
  ? ""
  : ` (ignored: ${AMTOOL} is not installed; apt-get install prometheus-alertmanager)`;

async function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-export-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function shippedRules(): ThresholdRule[] {
  const { rules, errors } = compileRules(defaultConfig().alert.rules);
  assertEquals(errors, []);
  return rules.filter((r) => r.type === "threshold");
}

/** A rule as configured, with the schema's defaults for what `over` leaves out. */
function ruleConfig(over: Partial<AlertRuleConfig> & { metric: string }): AlertRuleConfig {
  return {
    enabled: true,
    type: "threshold",
    entity: "",
    match: {},
    direction: "above",
    warning: 80,
    critical: null,
    clear_warning: null,
    clear_critical: null,
    target: null,
    warning_within: null,
    critical_within: null,
    window: null,
    min_history: 172800,
    sensitivity: 1,
    for: 60,
    keep_firing_for: 0,
    labels: {},
    summary: "",
    description: "",
    why: "",
    ...over,
  };
}

function compile(rules: Record<string, AlertRuleConfig>): ThresholdRule[] {
  const compiled = compileRules(rules);
  assertEquals(compiled.errors, []);
  return compiled.rules.filter((r) => r.type === "threshold");
}

interface ExportedAlert {
  alert: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertsOf(yaml: string): ExportedAlert[] {
  const doc = parseYaml(yaml) as { groups: { name: string; rules: ExportedAlert[] }[] };
  assertEquals(doc.groups.map((g) => g.name), ["sysmon"]);
  return doc.groups[0].rules;
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

const NOT_MEMORY_BACKED = 'fstype!~"tmpfs|ramfs|squashfs|iso9660|udf"';
const CPU_BUSY = "100 * (1 - " +
  'sum by (instance) (rate(node_cpu_seconds_total{mode=~"idle|iowait"}[5m])) / ' +
  "sum by (instance) (rate(node_cpu_seconds_total[5m])))";
const MEMORY_USED = "100 * (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes) / " +
  "node_memory_MemTotal_bytes";
const SWAP_USED = "100 * (node_memory_SwapTotal_bytes - node_memory_SwapFree_bytes) / " +
  "node_memory_SwapTotal_bytes";
const fs = (name: string) => `${name}{${NOT_MEMORY_BACKED}}`;
const FS_USED = `${fs("node_filesystem_size_bytes")} - ${fs("node_filesystem_free_bytes")}`;
const FS_SPACE = `100 * (${FS_USED}) / (${FS_USED} + ${fs("node_filesystem_avail_bytes")})`;
const FS_INODES = `100 * (${fs("node_filesystem_files")} - ${fs("node_filesystem_files_free")}) / ${
  fs("node_filesystem_files")
}`;

/** The expression each shipped rule and severity must export to. */
const SHIPPED_EXPRESSIONS: [alert: string, severity: string, expr: string][] = [
  ["cpu_busy", "warning", `${CPU_BUSY} >= 90`],
  ["cpu_busy", "critical", `${CPU_BUSY} >= 98`],
  ["memory_low", "warning", `${MEMORY_USED} >= 90`],
  ["memory_low", "critical", `${MEMORY_USED} >= 95`],
  ["swap_full", "warning", `${SWAP_USED} >= 80`],
  ["swap_full", "critical", `${SWAP_USED} >= 95`],
  ["filesystem_space", "warning", `${FS_SPACE} >= 85`],
  ["filesystem_space", "critical", `${FS_SPACE} >= 95`],
  ["filesystem_inodes", "warning", `${FS_INODES} >= 85`],
  ["filesystem_inodes", "critical", `${FS_INODES} >= 95`],
  [
    "disk_saturated",
    "warning",
    "clamp_max(100 * rate(node_disk_io_time_seconds_total[5m]), 100) >= 90",
  ],
  ["network_receive_errors", "warning", "rate(node_network_receive_errs_total[5m]) >= 1"],
  ["network_transmit_errors", "warning", "rate(node_network_transmit_errs_total[5m]) >= 1"],
];

Deno.test("export: each shipped rule and severity becomes its node_exporter expression", () => {
  const alerts = alertsOf(prometheusRules(shippedRules()));
  assertEquals(
    alerts.map((a) => [a.alert, a.labels.severity, a.expr]),
    SHIPPED_EXPRESSIONS,
  );
});

Deno.test("export: for, keep_firing_for, labels and annotations of a shipped rule", () => {
  const alerts = alertsOf(prometheusRules(shippedRules()));
  const fsSpace = alerts.filter((a) => a.alert === "filesystem_space");
  assertEquals(fsSpace.map((a) => [a.for, a.keep_firing_for, a.labels]), [
    ["5m", "10m", { severity: "warning" }],
    ["5m", "10m", { severity: "critical" }],
  ]);
  assertEquals(fsSpace.map((a) => a.annotations), [
    {
      summary: '{{ $labels.mountpoint }} is {{ printf "%.1f" $value }}% full on ' +
        "{{ $labels.instance }} (threshold 85.0%)",
    },
    {
      summary: '{{ $labels.mountpoint }} is {{ printf "%.1f" $value }}% full on ' +
        "{{ $labels.instance }} (threshold 95.0%)",
    },
  ]);
});

/** Each YAML comment block (consecutive "#" lines) as one line of text. */
function commentBlocks(yaml: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  for (const line of yaml.split("\n")) {
    const m = /^\s*# ?(.*)$/.exec(line);
    if (m) current.push(m[1]);
    else if (current.length > 0) {
      blocks.push(current.join(" "));
      current = [];
    }
  }
  return blocks;
}

Deno.test("export: every shipped alert carries a comment on the hysteresis it cannot keep", () => {
  const text = prometheusRules(shippedRules());
  const hysteresis = commentBlocks(text).filter((c) => c.startsWith("hysteresis: "));
  // Every shipped level clears apart from where it raises: 13 alerts, 13 comments.
  assertEquals(hysteresis.length, SHIPPED_EXPRESSIONS.length);
  assertEquals(
    hysteresis[0],
    "hysteresis: sysmon raises at 90.0% and clears below 80.0%; Prometheus has no equivalent: " +
      "this alert fires and clears at 90.0%, keep_firing_for (5m) holding it against flapping",
  );
  assert(hysteresis.every((h) => h.includes("keep_firing_for")), hysteresis.join("\n"));
});

Deno.test("export: no hysteresis comment where clear equals raise; below uses <=", () => {
  const text = prometheusRules(compile({
    carrier_lost: ruleConfig({
      metric: "net_carrier",
      direction: "below",
      warning: 0,
      critical: null,
    }),
  }));
  assert(!text.includes("hysteresis"), text);
  const [alert] = alertsOf(text);
  assertEquals([alert.expr, alert.for, alert.keep_firing_for], [
    "node_network_carrier <= 0",
    "1m",
    undefined,
  ]);
});

Deno.test("export: a rule on a metric node_exporter lacks is left out, named in a comment", () => {
  const text = prometheusRules(compile({
    cpu_pressure: ruleConfig({ metric: "pressure_cpu_some_avg60", warning: 50 }),
    load: ruleConfig({ metric: "load_average_5m", warning: 8 }),
  }));
  assertEquals(alertsOf(text).map((a) => a.alert), ["load"]);
  assertStringIncludes(
    text,
    "# Left out:\n" +
      "#   cpu_pressure: pressure_cpu_some_avg60 has no node_exporter equivalent\n",
  );
});

/** The model metrics without a faithful node_exporter series (kernel EWMAs, procps' estimate…). */
const UNMAPPED = [
  "memory_available_estimated",
  ...["cpu", "memory", "io"].flatMap((r) =>
    ["some", "full"].flatMap((k) =>
      ["avg10", "avg60", "avg300"].map((a) => `pressure_${r}_${k}_${a}`)
    )
  ),
  "pressure_cpu_full_total",
].sort();

Deno.test("export: every numeric catalogue metric has an expression except the known few", () => {
  const numeric = catalog().filter((d) => d.kind !== "label").map((d) => d.name);
  const unmapped = numeric.filter((m) => metricExpression(m) === undefined).sort();
  assertEquals(unmapped, UNMAPPED);
});

Deno.test("export: model formulas as PromQL (df use %, memory, per-core, utilisation)", () => {
  assertEquals(
    metricExpression("filesystem_usage_percent"),
    "100 * (node_filesystem_size_bytes - node_filesystem_free_bytes) / " +
      "(node_filesystem_size_bytes - node_filesystem_free_bytes + node_filesystem_avail_bytes)",
  );
  assertEquals(
    metricExpression("core_usage_percent", ['cpu=~"0|1"']),
    "100 * (1 - " +
      'sum by (instance, cpu) (rate(node_cpu_seconds_total{mode=~"idle|iowait", cpu=~"0|1"}[5m])) / ' +
      'sum by (instance, cpu) (rate(node_cpu_seconds_total{cpu=~"0|1"}[5m])))',
  );
  assertEquals(
    metricExpression("cpu_steal_percent"),
    '100 * sum by (instance) (rate(node_cpu_seconds_total{mode="steal"}[5m])) / ' +
      "sum by (instance) (rate(node_cpu_seconds_total[5m]))",
  );
  assertEquals(
    metricExpression("memory_cached"),
    "node_memory_Cached_bytes + node_memory_SReclaimable_bytes",
  );
  assertEquals(
    metricExpression("net_rx_utilization_percent", ['device="eth0"']),
    'clamp_max(100 * rate(node_network_receive_bytes_total{device="eth0"}[5m]) / ' +
      'node_network_speed_bytes{device="eth0"}, 100)',
  );
});

// ---------------------------------------------------------------------------------------------
// Regular expressions → label matchers
// ---------------------------------------------------------------------------------------------

Deno.test("export: the shipped negative lookahead becomes a negative matcher", () => {
  assertEquals(labelMatcher("fstype", "^(?!(tmpfs|ramfs|squashfs|iso9660|udf)$)"), {
    matcher: 'fstype!~"tmpfs|ramfs|squashfs|iso9660|udf"',
  });
  assertEquals(labelMatcher("fstype", "^(?!(?:tmpfs|ramfs)$).*"), {
    matcher: 'fstype!~"tmpfs|ramfs"',
  });
});

Deno.test("export: other lookarounds and back-references are skipped with a reason", () => {
  for (
    const [source, reason] of [
      ["^(?!tmp)", "lookaround"],
      ["^(?!(a)|(b)$)", "lookaround"], // not one group: not the "anything but" shape
      ["(?<=/)var", "lookaround"],
      ["^(a)\\1$", "back-reference"],
      ["[^]", "empty class"],
      ["^[[:alpha:]]", '"[:"'],
    ]
  ) {
    const t = labelMatcher("mountpoint", source);
    assert("skipped" in t, `${source} → ${JSON.stringify(t)}`);
    assertStringIncludes(t.skipped, reason);
  }
});

/** The same question asked of the JS regex (search) and of the matcher (whole value, as RE2). */
function matcherAgrees(source: string, value: string): boolean {
  const t = labelMatcher("l", source);
  if (!("matcher" in t)) throw new Error(`${source}: ${t.skipped}`);
  const m = /^l(=~|!~)"(.*)"$/.exec(t.matcher)!;
  const pattern = m[2].replace(/\\(["\\n])/g, (_, c) => c === "n" ? "\n" : c);
  const whole = new RegExp(`^(?:${pattern})$`).test(value);
  return new RegExp(source).test(value) === (m[1] === "=~" ? whole : !whole);
}

Deno.test("export: translated matchers select the same values as the JS regex", () => {
  const values = [
    "/",
    "/var",
    "/var/log",
    "/srv/var",
    "tmpfs",
    "ext4",
    "tmpfsx",
    "sda",
    "sda1",
    "",
  ];
  const sources = [
    "^(?!(tmpfs|ramfs|squashfs|iso9660|udf)$)",
    "^/var$",
    "^/var",
    "var$",
    "var",
    "^/$|^/var",
    "^sd[a-z]$",
    "\\/",
    "^(?!(?:ext4)$).*",
  ];
  for (const source of sources) {
    for (const value of values) {
      assert(matcherAgrees(source, value), `${source} on ${JSON.stringify(value)}`);
    }
  }
});

Deno.test("export: anchors, escapes and named groups as Prometheus writes them", () => {
  assertEquals(labelMatcher("mountpoint", "^/var$"), { matcher: 'mountpoint=~"/var"' });
  assertEquals(labelMatcher("mountpoint", new RegExp("^/home/").source), {
    matcher: 'mountpoint=~"/home/.*"',
  });
  assertEquals(labelMatcher("device", "^sd|^nvme"), { matcher: 'device=~".*(?:^sd|^nvme).*"' });
  assertEquals(labelMatcher("device", "^nvme\\d+n\\d+$"), {
    matcher: 'device=~"nvme\\\\d+n\\\\d+"',
  });
  assertEquals(labelMatcher("device", '^(?<kind>sd|vd)"x$'), {
    matcher: 'device=~"(?P<kind>sd|vd)\\"x"',
  });
});

Deno.test("export: entity and match selectors, the operstate join and what cannot translate", () => {
  const text = prometheusRules(compile({
    var_space: ruleConfig({
      metric: "filesystem_usage_percent",
      entity: "^/var$",
      match: { device: "^/dev/sd", fstype: "^(?!xfs)" },
    }),
    up_errors: ruleConfig({
      metric: "net_rx_errors_per_second",
      entity: "^eth",
      match: { net_operstate: "^up$" },
    }),
    hot_cores: ruleConfig({ metric: "core_usage_percent", entity: "^cpu[01]$" }),
    any_core: ruleConfig({ metric: "core_iowait_percent", entity: "1" }),
  }));
  const alerts = alertsOf(text);
  const sel = 'mountpoint=~"/var", device=~"/dev/sd.*"';
  assertEquals(alerts.map((a) => a.expr), [
    `100 * (node_filesystem_size_bytes{${sel}} - node_filesystem_free_bytes{${sel}}) / ` +
    `(node_filesystem_size_bytes{${sel}} - node_filesystem_free_bytes{${sel}} + ` +
    `node_filesystem_avail_bytes{${sel}}) >= 80`,
    'rate(node_network_receive_errs_total{device=~"eth.*"}[5m]) >= 80 ' +
    'and on (instance, device) node_network_info{operstate=~"up"}',
    "100 * (1 - " +
    'sum by (instance, cpu) (rate(node_cpu_seconds_total{mode=~"idle|iowait", cpu=~"[01]"}[5m])) / ' +
    'sum by (instance, cpu) (rate(node_cpu_seconds_total{cpu=~"[01]"}[5m]))) >= 80',
    '100 * sum by (instance, cpu) (rate(node_cpu_seconds_total{mode="iowait"}[5m])) / ' +
    "sum by (instance, cpu) (rate(node_cpu_seconds_total[5m])) >= 80",
  ]);
  assertStringIncludes(
    text,
    "# match.fstype: ^(?!xfs) uses a lookaround, which Prometheus' RE2 lacks: no matcher, so " +
      "every\n      # fstype is watched\n      - alert: var_space",
  );
  assertStringIncludes(text, '# entity: 1 is not anchored at "^cpu"');
});

// ---------------------------------------------------------------------------------------------
// Annotations
// ---------------------------------------------------------------------------------------------

Deno.test("export: every template variable has its Prometheus form", () => {
  const [rule] = compile({
    disk_slow: ruleConfig({
      metric: "disk_write_bytes_per_second",
      labels: { team: "{{storage{" },
      warning: 1048576,
    }),
  });
  const text = "{{rule}} {{metric}} {{entity}} {{value}} {{threshold}} {{severity}} {{host}} " +
    "{{unit}} {{labels.team}} {{ labels.device }} {{labels.team}}{{value}}";
  assertEquals(
    annotationTemplate(text, rule, "warning", "bytes/s"),
    "disk_slow disk_write_bytes_per_second {{ $labels.device }} {{ $value | humanize1024 }}B/s " +
      '1.0 MiB/s warning {{ $labels.instance }} bytes/s {{ "{{" }}storage{{ "{" }} ' +
      '{{ $labels.device }} {{ "{{" }}storage{{ "{" }}{{ $value | humanize1024 }}B/s',
  );
  const [alert] = alertsOf(prometheusRules([rule]));
  assertEquals(alert.labels, { team: '{{ "{{" }}storage{{ "{" }}', severity: "warning" });
});

Deno.test("export: a core's entity keeps the model's cpuN name", () => {
  const [rule] = compile({
    core: ruleConfig({ metric: "core_usage_percent", summary: "{{entity}} at {{value}}" }),
  });
  assertEquals(
    annotationTemplate(rule.summary, rule, "warning", "percent"),
    'cpu{{ $labels.cpu }} at {{ printf "%.1f" $value }}%',
  );
});

// ---------------------------------------------------------------------------------------------
// promtool and amtool
// ---------------------------------------------------------------------------------------------

Deno.test({
  name: `export: promtool check rules accepts the exported default rules${promtoolNote}`,
  ignore: promtoolNote !== "",
  async fn() {
    await withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/rules.yml`, prometheusRules(shippedRules()));
      const r = await run(PROMTOOL, ["check", "rules", `${dir}/rules.yml`]);
      assertEquals(r.code, 0, r.output);
      assertStringIncludes(r.output, `SUCCESS: ${SHIPPED_EXPRESSIONS.length} rules found`);
    });
  },
});

Deno.test({
  name: `export: promtool check rules accepts an alert on every mapped metric${promtoolNote}`,
  ignore: promtoolNote !== "",
  async fn() {
    const mapped = catalog().filter((d) => d.kind !== "label" && !UNMAPPED.includes(d.name));
    const configs = Object.fromEntries(mapped.map((d) => [
      d.name,
      ruleConfig({
        metric: d.name,
        ...(d.scope === "interfaces" ? { match: { net_operstate: "^up$" } } : {}),
        ...(d.scope === "filesystems" ? { match: { fstype: "^(?!(tmpfs)$)" } } : {}),
      }),
    ]));
    await withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/rules.yml`, prometheusRules(compile(configs)));
      const r = await run(PROMTOOL, ["check", "rules", `${dir}/rules.yml`]);
      assertEquals(r.code, 0, r.output);
      assertStringIncludes(r.output, `SUCCESS: ${mapped.length} rules found`);
    });
  },
});

Deno.test({
  name: `export: promtool test rules: shipped rules fire and stay quiet on cue${promtoolNote}`,
  ignore: promtoolNote !== "",
  async fn() {
    await withDir(async (dir) => {
      // rule_files in the unit-test file are relative to it: both go into one directory.
      await Deno.copyFile(UNIT_TESTS, `${dir}/rules_test.yml`);
      await Deno.writeTextFile(`${dir}/sysmon-rules.yml`, prometheusRules(shippedRules()));
      const r = await run(PROMTOOL, ["test", "rules", `${dir}/rules_test.yml`]);
      assertEquals(r.code, 0, r.output);
      assertStringIncludes(r.output, "SUCCESS");
    });
  },
});

Deno.test({
  name:
    `export: promtool test rules fails on a wrong expression (the tests can fail)${promtoolNote}`,
  ignore: promtoolNote !== "",
  async fn() {
    // Averaging idle and iowait series (instead of dividing by all modes) misreads CPU use.
    const wrong = prometheusRules(shippedRules()).replaceAll(
      CPU_BUSY,
      '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode=~"idle|iowait"}[5m])))',
    );
    await withDir(async (dir) => {
      await Deno.copyFile(UNIT_TESTS, `${dir}/rules_test.yml`);
      await Deno.writeTextFile(`${dir}/sysmon-rules.yml`, wrong);
      const r = await run(PROMTOOL, ["test", "rules", `${dir}/rules_test.yml`]);
      assertEquals(r.code, 1, r.output);
      assertStringIncludes(r.output, "alertname: cpu_busy");
    });
  },
});

Deno.test({
  name: `export: amtool check-config accepts the Alertmanager configuration${amtoolNote}`,
  ignore: amtoolNote !== "",
  async fn() {
    await withDir(async (dir) => {
      for (const opts of [{}, alertmanagerOptionsFrom(CHANNELS)]) {
        await Deno.writeTextFile(`${dir}/alertmanager.yml`, alertmanagerConfig(opts));
        const r = await run(AMTOOL, ["check-config", `${dir}/alertmanager.yml`]);
        assertEquals(r.code, 0, r.output);
        assertStringIncludes(r.output, "SUCCESS");
        assertStringIncludes(r.output, "1 inhibit rules");
      }
    });
  },
});

Deno.test("export: Alertmanager routing, receivers and inhibition; no secret in it", () => {
  const text = alertmanagerConfig();
  // deno-lint-ignore no-explicit-any
  const am = parseYaml(text) as any;
  assertEquals(am.route, {
    receiver: "ops",
    group_by: ["alertname", "instance"],
    group_wait: "30s",
    group_interval: "5m",
    repeat_interval: "4h",
  });
  assertEquals(am.receivers.length, 1);
  assertEquals(am.receivers[0].email_configs[0].to, "ops@example.org");
  assertEquals(am.receivers[0].email_configs[0].smarthost, "smtp.example.org:587");
  assertEquals(
    am.receivers[0].slack_configs[0].api_url_file,
    "/etc/prometheus/alertmanager_slack_api_url",
  );
  assertEquals(am.inhibit_rules, [{
    source_matchers: ['severity="critical"'],
    target_matchers: ['severity="warning"'],
    equal: ["alertname", "instance", "mountpoint", "device", "cpu"],
  }]);
  // Secrets are named by file only: no inline webhook URL, password or token.
  for (const key of ["api_url:", "auth_password:", "hooks.slack.com", "http_config"]) {
    assert(!text.includes(key), `${key} in:\n${text}`);
  }
  const custom = parseYaml(alertmanagerConfig({ emailTo: "a@b.example", groupBy: ["alertname"] }));
  assertEquals(custom.route.group_by, ["alertname"]);
  assertEquals(custom.receivers[0].email_configs[0].to, "a@b.example");
});

/** sysmon channels whose grouping and addresses the Alertmanager export takes over. */
const CHANNELS = {
  hook: channelConfig({ url: "http://127.0.0.1:1/h", group_by: ["..."] }),
  chat: channelConfig({
    type: "slack",
    url: "https://hooks.slack.com/services/T/B/SECRET",
    url_file: "",
    group_by: ["alertname", "host", "mountpoint"],
    group_wait: 10,
    group_interval: 90,
    repeat_interval: 86400 + 3600,
  }),
  mail: channelConfig({
    type: "email",
    smtp_host: "mail.example.net",
    smtp_port: 465,
    password: "hunter2-secret",
    from: "sysmon@example.net",
    to: ["a@example.net", "b@example.net"],
    group_by: ["alertname", "host"],
    group_wait: 45,
    group_interval: 600,
    repeat_interval: 7200,
  }),
};

Deno.test("export: the Alertmanager route groups as sysmon's channels do; addresses but no secrets", () => {
  const text = alertmanagerConfig(alertmanagerOptionsFrom(CHANNELS));
  // deno-lint-ignore no-explicit-any
  const am = parseYaml(text) as any;
  // The e-mail channel wins; host is Prometheus's instance.
  assertEquals(am.route, {
    receiver: "ops",
    group_by: ["alertname", "instance"],
    group_wait: "45s",
    group_interval: "10m",
    repeat_interval: "2h",
  });
  assertEquals(am.receivers[0].email_configs[0].to, "a@example.net, b@example.net");
  assertEquals(am.receivers[0].email_configs[0].from, "sysmon@example.net");
  assertEquals(am.receivers[0].email_configs[0].smarthost, "mail.example.net:465");
  for (const secret of ["hunter2-secret", "SECRET", "hooks.slack.com"]) {
    assert(!text.includes(secret), `${secret} copied into the Alertmanager configuration`);
  }
  // Without e-mail, Slack's grouping (instance added once, timings as Alertmanager writes them).
  const slack = alertmanagerOptionsFrom({ chat: CHANNELS.chat, hook: CHANNELS.hook });
  assertEquals(slack, {
    groupBy: ["alertname", "instance", "mountpoint"],
    groupWait: "10s",
    groupInterval: "1m30s",
    repeatInterval: "1d1h",
  });
  // "..." stays alone; no channels: the defaults.
  assertEquals(alertmanagerOptionsFrom({ hook: CHANNELS.hook }).groupBy, ["..."]);
  assertEquals(alertmanagerOptionsFrom({}), {});
});

// ---------------------------------------------------------------------------------------------
// runExport: configuration in, file out
// ---------------------------------------------------------------------------------------------

Deno.test("runExport: exports the configured rules to --output; a broken rule is left out", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `alert:
  rules:
    load_high:
      metric: load_average_5m
      warning: 16
      for: 2m
    typo:
      metric: load_avg
      warning: 1
`,
    );
    const env = { HOME: dir, XDG_CONFIG_HOME: `${dir}/xdg` };
    await runExport(
      { format: "prometheus", config: `${dir}/c.yaml`, output: `${dir}/rules.yml` },
      env,
    );
    const names = alertsOf(await Deno.readTextFile(`${dir}/rules.yml`)).map((a) => a.alert);
    assert(names.includes("load_high"), names.join(" "));
    assert(!names.includes("typo"), names.join(" "));
    assert(names.includes("cpu_busy"), "the shipped rules stay in");

    await runExport(
      { format: "alertmanager", config: `${dir}/c.yaml`, output: `${dir}/am.yml` },
      env,
    );
    assertEquals(await Deno.readTextFile(`${dir}/am.yml`), alertmanagerConfig());
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "am.yml",
      "c.yaml",
      "rules.yml",
    ]);
  });
});

Deno.test("runExport: an unwritable --output is a one-line runtime failure", async () => {
  await withDir(async (dir) => {
    const err = await assertRejects(
      () =>
        runExport(
          { format: "alertmanager", output: `${dir}/missing/am.yml` },
          { HOME: dir, XDG_CONFIG_HOME: `${dir}/xdg` },
        ),
      `cannot write ${dir}/missing/am.yml: `,
    );
    assert(err instanceof RuntimeFailure);
    assert(!err.message.includes("\n"), err.message);
  });
});
