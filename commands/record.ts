/** `sysmon record`: samples written to the data directory (daemon, bounded, or one-shot for cron). */
import { buildCommand } from "@stricli/core";
import { enabledFamilies } from "../src/collect/index.ts";
import type { SysmonContext } from "../src/cli/context.ts";
import { RuntimeFailure, UsageError } from "../src/cli/errors.ts";
import { durationFlag, type GlobalFlags, globalFlags } from "../src/cli/globals.ts";
import { collectorContext, type Runtime, setupRuntime } from "../src/cli/runtime.ts";
import { formatDuration } from "../src/core/duration.ts";
import { bootClock, Sampler } from "../src/core/sampler.ts";
import { loadState, saveState } from "../src/record/once.ts";
import { openRecorder, resolveRecordDir, takeRecordLock } from "../src/record/recorder.ts";
import { createFileStore, retentionPolicy } from "../src/record/store_open.ts";
import { checkStoreFormat, describeRetention, StoreFormatError } from "../src/store/file_store.ts";
import { ioReason } from "../src/store/fsutil.ts";
import type { FileFormat } from "../src/store/layout.ts";
import { type HeldLock, LockBusyError } from "../src/store/lock.ts";

interface RecordFlags extends GlobalFlags {
  readonly data?: string;
  readonly format?: FileFormat;
  readonly interval?: number;
  readonly once?: boolean;
  readonly duration?: number;
  readonly jitter?: number;
}

interface Setup {
  rt: Runtime;
  dir: string;
  format: FileFormat;
}

async function prepare(
  flags: RecordFlags,
  env: Record<string, string | undefined>,
): Promise<Setup> {
  if (flags.once && flags.duration !== undefined) {
    throw new UsageError("--once records one sample; it cannot be combined with --duration");
  }
  if (flags.jitter !== undefined && !flags.once) {
    throw new UsageError("--jitter applies to --once (cron and timer runs) only");
  }
  const rt = await setupRuntime(flags, env, { interval: flags.interval });
  if (flags.interval === undefined && rt.config.record.interval !== null) {
    rt.config.collectors.interval = rt.config.record.interval;
  }
  return {
    rt,
    dir: resolveRecordDir(flags.data, rt),
    format: flags.format ?? rt.config.storage.format,
  };
}

function families(rt: Runtime) {
  const list = enabledFamilies(rt.config.collectors);
  if (list.length === 0) throw new UsageError("every collector is disabled in the configuration");
  return list;
}

async function recordOnce(flags: RecordFlags, s: Setup): Promise<void> {
  const { rt, dir } = s;
  const jitter = flags.jitter ?? rt.config.record.jitter;
  if (jitter > 0) await new Promise((r) => setTimeout(r, Math.random() * jitter * 1000));
  let lock: HeldLock;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await checkStoreFormat(dir, true);
    lock = await takeRecordLock(dir);
  } catch (err) {
    if (err instanceof StoreFormatError) throw new UsageError(err.message);
    if (err instanceof LockBusyError) throw new RuntimeFailure(`record --once: ${err.message}`);
    throw new RuntimeFailure(`cannot use data directory ${dir}: ${ioReason(err)}`);
  }
  try {
    const ctx = collectorContext(rt);
    const sampler = new Sampler({
      families: families(rt),
      ctx,
      host: Deno.hostname(),
      clock: bootClock(rt.roots),
    });
    const statePath = `${dir}/state/record.state.json`;
    const state = await loadState(statePath, rt.log);
    const continued = state ? sampler.importState(state) : false;
    const sample = await sampler.collect();
    if (!continued) {
      rt.log.info(
        state
          ? "record: the system rebooted since the last run: this sample is a baseline (no rates)"
          : "record: no previous run: this sample is a baseline; rates start with the next run",
      );
    }
    const store = createFileStore(rt.config, dir, rt.log, { format: s.format });
    await store.openForWriting();
    await store.write(sample);
    await store.close();
    if (store.pendingCount() > 0) {
      throw new RuntimeFailure(
        `record --once: the sample could not be written to ${dir}: ${store.stats().lastError}`,
      );
    }
    // Only after the sample is on disk: a failed run leaves the old state, so the next run's rates
    // cover both intervals and nothing is lost.
    await saveState(statePath, sampler);
  } finally {
    lock.release();
  }
}

async function recordLoop(flags: RecordFlags, s: Setup): Promise<void> {
  const { rt, dir } = s;
  const recorder = await openRecorder(rt, dir, s.format);
  const ctx = collectorContext(rt);
  const sampler = new Sampler({ families: families(rt), ctx, host: Deno.hostname() });
  const interval = rt.config.collectors.interval;
  rt.log.info(
    `record: every ${formatDuration(interval)} to ${dir} (${s.format}` +
      `${flags.duration ? `, for ${formatDuration(flags.duration)}` : ""}; keeps ${
        describeRetention(retentionPolicy(rt.config))
      })`,
  );

  let finish: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => finish = resolve);
  const onSignal = (name: string) => () => finish(name);
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGTERM", onSignal("SIGTERM")],
    ["SIGINT", onSignal("SIGINT")],
  ];
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const timer = flags.duration
    ? setTimeout(() => finish("duration reached"), flags.duration * 1000)
    : undefined;

  sampler.start((sample) => recorder.write(sample));
  const why = await stopped;
  sampler.stop();
  if (timer !== undefined) clearTimeout(timer);
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  await recorder.close(why);
}

async function record(this: SysmonContext, flags: RecordFlags): Promise<void> {
  const setup = await prepare(flags, this.env);
  if (flags.once) await recordOnce(flags, setup);
  else await recordLoop(flags, setup);
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
      "One recorder per data directory (state/record.lock): an overlapping run exits 1 saying so.",
      "When the disk is full or the directory unwritable, samples wait in memory",
      "(storage.buffer_samples) and are written once writing works again.",
      "Exit status: 0 ok, 1 samples could not be written or another recorder holds the lock,",
      "2 bad flags, configuration, or a data directory of another format version.",
    ].join("\n"),
  },
});
