/** `sysmon alert run|list|check|silence`: alert rules on the shared sampler and their tools. */
import { buildCommand, buildRouteMap } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { durationFlag, globalFlags } from "../src/cli/globals.ts";
import type { AlertListFlags, AlertRunFlags, AlertTestFlags } from "../src/alert/run.ts";
import type { AlertCheckFlags } from "../src/alert/replay.ts";
import type { AlertExportFlags } from "../src/alert/export.ts";
import type {
  SilenceAddFlags,
  SilenceListFlags,
  SilenceRemoveFlags,
} from "../src/alert/silences.ts";

async function run(this: SysmonContext, flags: AlertRunFlags): Promise<void> {
  const { runAlerts } = await import("../src/alert/run.ts");
  await runAlerts(flags, this.env);
}

async function list(this: SysmonContext, flags: AlertListFlags): Promise<void> {
  const { listAlerts } = await import("../src/alert/run.ts");
  await listAlerts(flags, this.env);
}

const dataFlag = {
  kind: "parsed",
  parse: String,
  brief: "Data directory holding the alert state and log (default storage.path)",
  optional: true,
  placeholder: "DIR",
} as const;

const runCommand = buildCommand({
  func: run,
  parameters: {
    flags: {
      ...globalFlags,
      data: dataFlag,
      interval: {
        kind: "parsed",
        parse: durationFlag,
        brief: "Sampler interval (default collectors.interval)",
        optional: true,
        placeholder: "DUR",
      },
      duration: {
        kind: "parsed",
        parse: durationFlag,
        brief: "Stop after this long (default: until SIGTERM/SIGINT)",
        optional: true,
        placeholder: "DUR",
      },
      quiet: {
        kind: "boolean",
        brief: "Do not print notifications on stdout (the alert log still has them)",
        optional: true,
      },
    },
  },
  docs: {
    brief: "Evaluate the alert rules on every sample until stopped",
    fullDescription: [
      "Reads every enabled collector each interval and evaluates alert.rules (config/default.yaml",
      "lists the shipped rules and why each is set as it is). A rule fires after its condition held",
      "for `for`, keeps firing for keep_firing_for after it clears (a value hovering at the",
      "threshold notifies once) and clears at its own, safer threshold (hysteresis). Forecast rules",
      "judge the time until a metric's trend reaches a target, anomaly rules the share of recent",
      "minutes the anomaly detector flagged; both start from DATA's recordings when there are some",
      "(docs/alerts.md). Notifications go to stdout (one line each) and to",
      "DATA/alerts/alerts.jsonl (JSON lines, rotated at 10 MiB, 5 kept). States are kept in",
      "DATA/state/alert.state.json, so a restart neither notifies again nor forgets a firing",
      "alert. A rule with a mistake is reported by name and the others run. Exit status: 0 after SIGTERM/SIGINT or --duration, 1 when the state",
      "could not be saved, 2 for bad flags or configuration.",
    ].join("\n"),
  },
});

const listCommand = buildCommand({
  func: list,
  parameters: {
    flags: {
      ...globalFlags,
      data: dataFlag,
      json: { kind: "boolean", brief: "Print JSON", optional: true },
    },
  },
  docs: {
    brief: "List pending and firing alerts (from the state `alert run` keeps)",
  },
});

async function check(this: SysmonContext, flags: AlertCheckFlags): Promise<void> {
  const { runCheck } = await import("../src/alert/replay.ts");
  await runCheck(flags, this.env);
}

const checkCommand = buildCommand({
  func: check,
  parameters: {
    flags: {
      ...globalFlags,
      replay: {
        kind: "boolean",
        brief: "Run the rules over recorded history and report how often each would have fired",
        optional: true,
      },
      data: dataFlag,
      from: {
        kind: "parsed",
        parse: String,
        brief: "Start of the replay (default: the first recorded sample)",
        optional: true,
        placeholder: "T",
      },
      to: {
        kind: "parsed",
        parse: String,
        brief: "End of the replay (default: now)",
        optional: true,
        placeholder: "T",
      },
      rule: {
        kind: "parsed",
        parse: String,
        brief: "Only this rule (repeatable; a disabled rule can be checked too)",
        optional: true,
        variadic: true,
        placeholder: "NAME",
      },
      json: { kind: "boolean", brief: "Print the full report as JSON", optional: true },
    },
  },
  docs: {
    brief: "Check the rules; with --replay, replay recorded history through them",
    fullDescription: [
      "Without --replay: compiles alert.rules and prints ok, or each problem naming its rule",
      "(exit 2). With --replay: feeds every sample recorded in --data between --from and --to",
      "(ISO 8601, Unix seconds, now, or -7d) to a fresh engine and reports per rule how often it",
      "would have fired, at which severity, for how long in all and at most, the episodes, and",
      "the gaps in the recording (the engine saw no data there). The way to tune thresholds",
      "before going live.",
    ].join("\n"),
  },
});

async function silenceAdd(
  this: SysmonContext,
  flags: SilenceAddFlags,
  ...matchers: string[]
): Promise<void> {
  const { runSilenceAdd } = await import("../src/alert/silences.ts");
  await runSilenceAdd(flags, matchers, this.env);
}

async function silenceList(this: SysmonContext, flags: SilenceListFlags): Promise<void> {
  const { runSilenceList } = await import("../src/alert/silences.ts");
  await runSilenceList(flags, this.env);
}

async function silenceRemove(
  this: SysmonContext,
  flags: SilenceRemoveFlags,
  id: string,
): Promise<void> {
  const { runSilenceRemove } = await import("../src/alert/silences.ts");
  await runSilenceRemove(flags, id, this.env);
}

async function exportRules(this: SysmonContext, flags: AlertExportFlags): Promise<void> {
  const { runExport } = await import("../src/alert/export.ts");
  await runExport(flags, this.env);
}

const exportCommand = buildCommand({
  func: exportRules,
  parameters: {
    flags: {
      ...globalFlags,
      format: {
        kind: "enum",
        values: ["prometheus", "alertmanager"],
        brief: "prometheus: alerting rules over node_exporter names; alertmanager: a config",
      },
      output: {
        kind: "parsed",
        parse: String,
        brief: "Write to FILE instead of stdout",
        optional: true,
        placeholder: "FILE",
      },
    },
  },
  docs: {
    brief: "Export the rules as Prometheus alerting rules, or an Alertmanager configuration",
    fullDescription: [
      "--format prometheus: one alert per rule and severity over node_exporter's metric names,",
      "with for and keep_firing_for; hysteresis has no Prometheus equivalent, so each such rule",
      "uses the raise threshold and a comment says so (promtool check rules accepts the output).",
      "Forecast and anomaly rules are left out with a note (alert on their sysmon_ gauges).",
      "--format alertmanager: routing, grouping and throttling as sysmon's defaults, e-mail and",
      "Slack receivers with placeholders, critical inhibiting warning (amtool check-config).",
    ].join("\n"),
  },
});

async function testAlerts(this: SysmonContext, flags: AlertTestFlags): Promise<void> {
  const { testChannels } = await import("../src/alert/run.ts");
  await testChannels(flags, this.env);
}

const testCommand = buildCommand({
  func: testAlerts,
  parameters: {
    flags: {
      ...globalFlags,
      channel: {
        kind: "parsed",
        parse: String,
        brief: "Only this channel (a name under alert.channels)",
        optional: true,
        placeholder: "NAME",
      },
    },
  },
  docs: {
    brief: "Send a test notification to the channels, now, and say which worked",
    fullDescription: [
      "Sends one notification (alertname sysmon_test, severity warning) straight to every",
      "channel in alert.channels, or to --channel NAME, without the outbox and without routing,",
      "and prints ok or the error for each. Exit status 1 when a channel failed or could not be",
      "set up, 2 for an unknown channel name.",
    ].join("\n"),
  },
});

const silenceRoutes = buildRouteMap({
  routes: {
    add: buildCommand({
      func: silenceAdd,
      parameters: {
        flags: {
          ...globalFlags,
          data: dataFlag,
          for: {
            kind: "parsed",
            parse: durationFlag,
            brief: "How long from now (e.g. 2h)",
            optional: true,
            placeholder: "DUR",
          },
          until: {
            kind: "parsed",
            parse: String,
            brief: "When it ends (ISO 8601 or Unix seconds)",
            optional: true,
            placeholder: "T",
          },
          comment: {
            kind: "parsed",
            parse: String,
            brief: "Why (shown by silence ls)",
            optional: true,
            placeholder: "TEXT",
          },
          author: {
            kind: "parsed",
            parse: String,
            brief: "Who (default $USER)",
            optional: true,
            placeholder: "NAME",
          },
        },
        positional: {
          kind: "array",
          parameter: {
            brief:
              'Label matchers as Alertmanager writes them: alertname=cpu_busy, mountpoint=~"/var.*"',
            parse: String,
            placeholder: "MATCHER",
          },
        },
      },
      docs: {
        brief: "Silence matching alerts for a time (a maintenance window); prints the id",
        fullDescription: [
          "Alerts whose labels match every matcher are not sent to stdout or the channels sysmon",
          "delivers itself (webhook, Slack) while the silence is active; they are still written",
          "to the alert log, marked silenced. Alertmanager receives them as before: silence them",
          "there with amtool. Operators: = != =~ !~ (regexes match the whole value).",
        ].join("\n"),
      },
    }),
    ls: buildCommand({
      func: silenceList,
      parameters: {
        flags: {
          ...globalFlags,
          data: dataFlag,
          all: { kind: "boolean", brief: "Include expired silences", optional: true },
          json: { kind: "boolean", brief: "Print JSON", optional: true },
        },
      },
      docs: { brief: "List active and pending silences" },
    }),
    rm: buildCommand({
      func: silenceRemove,
      parameters: {
        flags: { ...globalFlags, data: dataFlag },
        positional: {
          kind: "tuple",
          parameters: [{
            brief: "Silence id (a unique prefix of 6+ characters)",
            parse: String,
            placeholder: "ID",
          }],
        },
      },
      docs: { brief: "Expire a silence now" },
    }),
  },
  docs: { brief: "Silence alerts for a maintenance window: add, ls, rm" },
});

export const alertRoutes = buildRouteMap({
  routes: {
    run: runCommand,
    list: listCommand,
    check: checkCommand,
    silence: silenceRoutes,
    export: exportCommand,
    test: testCommand,
  },
  docs: { brief: "Threshold alerts: run the engine, list, check or replay rules, silences" },
});
