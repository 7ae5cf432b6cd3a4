/** `sysmon report`: summaries, capacity forecasts and anomalies over recorded history. */
import { buildCommand } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { UsageError } from "../src/cli/errors.ts";
import { globalFlags } from "../src/cli/globals.ts";
import type { ReportFlags } from "../src/report/run.ts";

async function report(this: SysmonContext, flags: ReportFlags): Promise<void> {
  // Loaded on use: the store, the analyses and the renderers are this command's alone.
  const { runReport } = await import("../src/report/run.ts");
  await runReport(flags, this.env);
}

function positiveNumber(input: string): number {
  const n = Number(input);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`"${input}" is not a positive number`);
  return n;
}

export const reportCommand = buildCommand({
  func: report,
  parameters: {
    flags: {
      ...globalFlags,
      from: {
        kind: "parsed",
        parse: String,
        brief:
          "Start: ISO 8601, Unix seconds or relative like -7d (default --to − 24h; with --capacity −30d)",
        optional: true,
        placeholder: "T",
      },
      to: {
        kind: "parsed",
        parse: String,
        brief: "End of the range (default: now)",
        optional: true,
        placeholder: "T",
      },
      data: {
        kind: "parsed",
        parse: String,
        brief: "Data directory that sysmon record wrote (default: as sysmon record)",
        optional: true,
        placeholder: "DIR",
      },
      capacity: {
        kind: "boolean",
        brief: "Forecast when filesystems, inodes, memory, swap, CPU and links reach 80/90/100 %",
        optional: true,
      },
      anomalies: {
        kind: "boolean",
        brief: "Find anomaly windows (statistical and k-means detectors by consensus)",
        optional: true,
      },
      online: {
        kind: "boolean",
        brief: "With --anomalies: judge each point only from the points before it (as alerts do)",
        optional: true,
      },
      format: {
        kind: "enum",
        values: ["table", "json", "csv", "md", "html"],
        brief:
          "Output: table (terminal), json, csv (one value per row), md, html (one offline file)",
        optional: true,
      },
      json: { kind: "boolean", brief: "Same as --format json", optional: true },
      output: {
        kind: "parsed",
        parse: String,
        brief: "Write to this file instead of stdout (written whole, then renamed into place)",
        optional: true,
        placeholder: "FILE",
      },
      input: {
        kind: "parsed",
        parse: String,
        brief: "Analyse a timestamp,value CSV instead of recorded data (header optional)",
        optional: true,
        placeholder: "FILE",
      },
      max: {
        kind: "parsed",
        parse: positiveNumber,
        brief: "With --input: the value that means full, for --capacity (default 100)",
        optional: true,
        placeholder: "N",
      },
    },
  },
  docs: {
    brief: "Summaries, capacity forecasts and anomalies over recorded history",
    fullDescription: [
      "Reads what sysmon record stored for a time range (default the last 24 hours; minute rollups",
      "up to 3 days, hourly beyond) and prints per series min / mean / p95 / max, the time spent",
      "past the alert rules' thresholds, the busiest cores, disks and interfaces, and the gaps in",
      "the recording (reboot or downtime).",
      "",
      "--capacity adds, per filesystem (space and inodes), memory, swap, CPU and network link, the",
      "growth per day and when 80, 90 and 100 % are reached with a confidence interval, or why",
      "there is no date (not growing, too little history); it looks back 30 days unless --from is",
      "given. --anomalies adds anomaly windows (on 1-minute data: the last 3 days of longer ranges).",
      "--input FILE.csv analyses a plain timestamp,value series instead (ISO 8601 or Unix seconds).",
      "See docs/analysis.md for the methods and their measured accuracy.",
    ].join("\n"),
  },
});
