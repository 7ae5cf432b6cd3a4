/** `sysmon record`: samples written to the data directory (daemon, bounded, or one-shot for cron). */
import { buildCommand } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { durationFlag, globalFlags } from "../src/cli/globals.ts";
import type { RecordFlags } from "../src/record/run.ts";

async function record(this: SysmonContext, flags: RecordFlags): Promise<void> {
  // Loaded on use: the store is not needed by the other commands (nor their memory).
  const { runRecord } = await import("../src/record/run.ts");
  await runRecord(flags, this.env);
}

export const recordCommand = buildCommand({
  func: record,
  parameters: {
    flags: {
      ...globalFlags,
      data: {
        kind: "parsed",
        parse: String,
        brief:
          "Data directory (default: storage.path, $STATE_DIRECTORY, /var/lib/sysmon or ~/.local/share/sysmon)",
        optional: true,
        placeholder: "DIR",
      },
      format: {
        kind: "enum",
        values: ["jsonl", "csv"],
        brief: "File format of raw samples (default: storage.format, jsonl)",
        optional: true,
      },
      interval: {
        kind: "parsed",
        parse: durationFlag,
        brief: "Time between samples (default: record.interval, else collectors.interval, 10s)",
        optional: true,
        placeholder: "DUR",
      },
      alert: {
        kind: "boolean",
        brief: "Also evaluate the alert rules on each sample (as sysmon alert run)",
        optional: true,
      },
      once: {
        kind: "boolean",
        brief: "Record one sample and exit (cron, systemd timers): rates against the previous run",
        optional: true,
      },
      duration: {
        kind: "parsed",
        parse: durationFlag,
        brief: "Stop after this long (default: run until SIGTERM or SIGINT)",
        optional: true,
        placeholder: "DUR",
      },
      jitter: {
        kind: "parsed",
        parse: durationFlag,
        brief: "With --once: wait a random time up to DUR first (default: record.jitter)",
        optional: true,
        placeholder: "DUR",
      },
    },
  },
  docs: {
    brief: "Record samples to files (JSON Lines or CSV) with rotation, rollups and retention",
    fullDescription: [
      "Writes one sample per interval to the data directory: raw samples in daily files cut into",
      "parts of storage.max_file_mib (raw/),",
      "1-minute and 1-hour rollups (1m/, 1h/) kept longer for reports, closed files gzip-compressed,",
      "old files deleted by storage.retention. See docs/storage.md for the format.",
      "",
      "Modes:",
      "  record                  run until SIGTERM/SIGINT (systemd service), flushing on exit;",
      "  record --duration 1h    run for a bounded time;",
      "  record --once           one sample for cron or a systemd timer: raw counters are kept in",
      "                          state/record.state.json so each run writes rates since the previous",
      "                          run; the first run after a boot writes a baseline (no rates).",
      "--alert evaluates the alert rules on every sample too (as `sysmon alert run`, with the",
      "same state and alert log), also with --once: the rules' `for` then spans cron runs.",
      "One recorder per data directory (state/record.lock): an overlapping run exits 1 saying so.",
      "When the disk is full or the directory unwritable, samples wait in memory",
      "(storage.buffer_samples) and are written once writing works again.",
      "Exit status: 0 ok, 1 samples could not be written or another recorder holds the lock,",
      "2 bad flags, configuration, or a data directory of another format version.",
    ].join("\n"),
  },
});
