/** `sysmon snapshot`: one reading (two, --interval apart, for rates) printed once. */
import { buildCommand } from "@stricli/core";
import { enabledFamilies } from "../src/collect/index.ts";
import type { SysmonContext } from "../src/cli/context.ts";
import { RuntimeFailure, UsageError } from "../src/cli/errors.ts";
import { durationFlag, type GlobalFlags, globalFlags } from "../src/cli/globals.ts";
import { stdoutIsTTY, writeStdout } from "../src/cli/io.ts";
import { collectorContext, setupRuntime } from "../src/cli/runtime.ts";
import { Sampler } from "../src/core/sampler.ts";
import { ENTITY_FAMILIES } from "../src/core/model.ts";
import { renderExposition } from "../src/expose/render.ts";

type Format = "table" | "json" | "prometheus";

interface SnapshotFlags extends GlobalFlags {
  readonly json?: boolean;
  readonly format?: Format;
  readonly interval: number;
}

async function snapshot(this: SysmonContext, flags: SnapshotFlags): Promise<void> {
  if (flags.json && flags.format && flags.format !== "json") {
    throw new UsageError(`--json and --format ${flags.format} contradict each other`);
  }
  const format: Format = flags.json ? "json" : flags.format ?? (stdoutIsTTY() ? "table" : "json");
  const rt = await setupRuntime(flags, this.env);
  const ctx = collectorContext(rt);
  const families = enabledFamilies(rt.config.collectors);
  if (families.length === 0) {
    throw new UsageError("every collector is disabled in the configuration");
  }
  const sampler = new Sampler({ families, ctx, host: Deno.hostname() });

  await sampler.collect();
  await new Promise((r) => setTimeout(r, flags.interval * 1000));
  const sample = await sampler.collect();

  if (format === "json") writeStdout(JSON.stringify(sample, null, 2) + "\n");
  else if (format === "table") {
    const { renderSnapshotTable } = await import("../src/ui/snapshot_view.ts");
    const width = stdoutIsTTY() ? Deno.consoleSize().columns : 80;
    writeStdout(renderSnapshotTable(sample, { color: rt.color, width }));
  } else {
    const readings = new Map();
    for (const f of families) {
      const data = sampler.latestReading(f.name);
      if (data) readings.set(f.name, data);
    }
    writeStdout(renderExposition({
      families,
      readings,
      sample,
      statuses: sampler.statuses(),
      dropped: ctx.dropped,
    }));
  }
  // Exit 1 only when nothing at all was measured (an absent feature such as PSI is not a failure).
  const measured = Object.keys(sample.metrics).length > 0 ||
    ENTITY_FAMILIES.some((f) => Object.keys(sample[f]).length > 0);
  if (!measured) {
    const failed = sampler.statuses().filter((s) => !s.success).map((s) => s.name);
    throw new RuntimeFailure(
      `every collector failed (${failed.join(", ")}); ` +
        `check --procfs (${rt.roots.procfs}) and --sysfs (${rt.roots.sysfs})`,
    );
  }
}

export const snapshotCommand = buildCommand({
  func: snapshot,
  parameters: {
    flags: {
      ...globalFlags,
      json: {
        kind: "boolean",
        brief: "Print the version-1 JSON model (same as --format json)",
        optional: true,
      },
      format: {
        kind: "enum",
        values: ["table", "json", "prometheus"],
        brief: "Output format (default: table on a terminal, json otherwise)",
        optional: true,
      },
      interval: {
        kind: "parsed",
        parse: durationFlag,
        brief: "Time between the two readings that rates come from",
        default: "1s",
        placeholder: "DUR",
      },
    },
  },
  docs: {
    brief: "Print one reading of every metric",
    fullDescription: [
      "Reads every enabled collector twice, --interval apart, and prints the result once:",
      "  table       a summary for people (default on a terminal), readable at 80 columns;",
      "  json        the versioned JSON model (docs/schema/sample-v1.json) for scripts;",
      "  prometheus  node_exporter-compatible text exposition plus sysmon_ ratios.",
      "Exit status 1 only when every collector failed; per-collector errors are listed in the output.",
    ].join("\n"),
  },
});
