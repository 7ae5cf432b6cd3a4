/** What `sysmon record` does (its flags and help are in commands/record.ts): daemon, bounded, one-shot. */
import { enabledFamilies } from "../collect/index.ts";
import { RuntimeFailure, UsageError } from "../cli/errors.ts";
import type { GlobalFlags } from "../cli/globals.ts";
import { collectorContext, type Runtime, setupRuntime } from "../cli/runtime.ts";
import { formatDuration } from "../core/duration.ts";
import { bootClock, Sampler } from "../core/sampler.ts";
import { loadState, saveState } from "../record/once.ts";
import { openRecorder, resolveRecordDir, takeRecordLock } from "../record/recorder.ts";
import { createFileStore, retentionPolicy } from "../record/store_open.ts";
import { checkStoreFormat, describeRetention, StoreFormatError } from "../store/file_store.ts";
import { ioReason } from "../store/fsutil.ts";
import type { FileFormat } from "../store/layout.ts";
import { type HeldLock, LockBusyError } from "../store/lock.ts";
import { keepExecutablePagesReleased, releaseLoadingPages } from "../core/page_release.ts";

export interface RecordFlags extends GlobalFlags {
  readonly alert?: boolean;
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
    // Under cron each run evaluates one sample; the engine's state carries `for` across runs.
    if (flags.alert) {
      const alerts = await openAlerts(rt, dir);
      await alerts.onSample(sample);
      await alerts.close();
    }
  } finally {
    lock.release();
  }
}

async function recordLoop(flags: RecordFlags, s: Setup): Promise<void> {
  const { rt, dir } = s;
  releaseLoadingPages(rt.log);
  const recorder = await openRecorder(rt, dir, s.format);
  const alerts = flags.alert ? await openAlerts(rt, dir) : undefined;
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

  sampler.start(async (sample) => {
    await recorder.write(sample);
    // The alerts fail alone: a rule or channel problem never costs a recorded sample.
    await alerts?.onSample(sample).catch((err) => rt.log.error(`record --alert: ${err.message}`));
  });
  const stopReleasing = keepExecutablePagesReleased(rt.log);
  const why = await stopped;
  stopReleasing();
  sampler.stop();
  if (timer !== undefined) clearTimeout(timer);
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  try {
    await alerts?.close();
  } finally {
    await recorder.close(why);
  }
}

async function openAlerts(rt: Runtime, dir: string) {
  const { AlertRunner } = await import("../alert/run.ts");
  return await AlertRunner.open(rt, dir, { stdout: false });
}

export async function runRecord(
  flags: RecordFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  const setup = await prepare(flags, env);
  if (flags.once) await recordOnce(flags, setup);
  else await recordLoop(flags, setup);
}
