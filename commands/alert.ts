/** `sysmon alert run|list`: threshold alerts on the shared sampler (more tools come with issue 5). */
import { buildCommand, buildRouteMap } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { durationFlag, globalFlags } from "../src/cli/globals.ts";
import type { AlertListFlags, AlertRunFlags } from "../src/alert/run.ts";

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
      "threshold notifies once) and clears at its own, safer threshold (hysteresis).",
      "Notifications go to stdout (one line each) and to DATA/alerts/alerts.jsonl (JSON lines,",
      "rotated at 10 MiB, 5 kept). States are kept in DATA/state/alert.state.json, so a restart",
      "neither notifies again nor forgets a firing alert. A rule with a mistake is reported by name",
      "and the others run. Exit status: 0 after SIGTERM/SIGINT or --duration, 1 when the state",
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

export const alertRoutes = buildRouteMap({
  routes: { run: runCommand, list: listCommand },
  docs: { brief: "Threshold alerts: run the engine, list what is pending or firing" },
});
