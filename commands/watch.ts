/** `sysmon watch`: the live full-screen view (or a replay of recorded data), plain text on a pipe. */
import { buildCommand } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { UsageError } from "../src/cli/errors.ts";
import { durationFlag, globalFlags } from "../src/cli/globals.ts";
import type { WatchFlags } from "../src/ui/watch/run.ts";

async function watch(this: SysmonContext, flags: WatchFlags): Promise<void> {
  // Loaded on use: the other commands need neither the renderer nor the terminal layer.
  const { runWatch } = await import("../src/ui/watch/run.ts");
  await runWatch(flags, this.env);
}

function speedFlag(input: string): number {
  const n = Number(input.replace(/x$/i, ""));
  if (!Number.isFinite(n) || n <= 0 || n > 86400) {
    throw new UsageError(`"${input}" is not a replay speed (a number from 0.1 to 86400, e.g. 60)`);
  }
  return n;
}

function intervalFlag(input: string): number {
  const s = durationFlag(input);
  if (s < 0.25 || s > 3600) {
    throw new UsageError(`--interval ${input}: use 250ms to 1h`);
  }
  return s;
}

export const watchCommand = buildCommand({
  func: watch,
  parameters: {
    flags: {
      ...globalFlags,
      interval: {
        kind: "parsed",
        parse: intervalFlag,
        brief:
          "Time between screens: samples live, frames in a replay (default 1s; + and - change it)",
        optional: true,
        placeholder: "DUR",
      },
      ascii: {
        kind: "boolean",
        brief: "Draw with 7-bit characters only (terminals whose font lacks box-drawing glyphs)",
        optional: true,
      },
      bits: {
        kind: "boolean",
        brief: "Network rates in bits/s (decimal units) instead of bytes/s",
        optional: true,
      },
      replay: {
        kind: "boolean",
        brief: "Play back what sysmon record stored instead of live data",
        optional: true,
      },
      data: {
        kind: "parsed",
        parse: String,
        brief: "Data directory of the recording (default: as sysmon record); live: its alert state",
        optional: true,
        placeholder: "DIR",
      },
      from: {
        kind: "parsed",
        parse: String,
        brief: "With --replay: start here (ISO 8601, Unix seconds, or relative like -2h)",
        optional: true,
        placeholder: "T",
      },
      speed: {
        kind: "parsed",
        parse: speedFlag,
        brief: "With --replay: recorded seconds played per second (default 60; < and > change it)",
        optional: true,
        placeholder: "N",
      },
      duration: {
        kind: "parsed",
        parse: durationFlag,
        brief: "Stop after this long (with --replay on a pipe: this much recorded time)",
        optional: true,
        placeholder: "DUR",
      },
    },
  },
  docs: {
    brief: "Live full-screen view with charts (or a replay of recorded data)",
    fullDescription: [
      "Shows CPU (total, per core, history, pressure), memory and swap, disks, network,",
      "filesystems and the top processes, refreshed every --interval. Values past an alert rule's",
      "warning or critical threshold are coloured; the header lists firing alerts (a running",
      "`sysmon alert run` on the same data directory is picked up).",
      "",
      "Keys: q or Ctrl-C quit · ? or F1 help · p or space pause · + / - refresh faster / slower",
      "1-6 toggle panels (cpu, memory, disks, network, filesystems, processes) · Tab next table",
      "s sort column · ↑ ↓ PgUp PgDn Home End scroll · c / m processes by CPU / memory",
      "Replay: ← → one sample · [ ] one hour · { } one day · < > speed",
      "",
      "Not on a terminal (piped or redirected) it prints one plain text block per interval, with",
      "no escape codes: `sysmon watch | tee log` works. NO_COLOR and --no-color turn colour off.",
      "With --replay on a pipe, every recorded sample from --from on is printed at once.",
    ].join("\n"),
  },
});
