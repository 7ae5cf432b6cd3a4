/** Builds the configured Storage for a data directory (the one place that knows the backends). */
import type { SysmonConfig } from "../config/sysmon_schema.ts";
import type { Logger } from "../log.ts";
import { RuntimeFailure, UsageError } from "../cli/errors.ts";
import { checkStoreFormat, FileStore, StoreFormatError } from "../store/file_store.ts";
import type { FileFormat } from "../store/layout.ts";
import type { RetentionPolicy } from "../store/retention.ts";

export function retentionPolicy(config: SysmonConfig): RetentionPolicy {
  const r = config.storage.retention;
  return {
    maxAge: { raw: r.raw, "1m": r.rollup_1m, "1h": r.rollup_1h },
    maxBytes: r.max_total_mib * 1048576,
  };
}

export function createFileStore(
  config: SysmonConfig,
  dir: string,
  log: Logger,
  opts: { host?: string; format?: FileFormat; now?: () => number } = {},
): FileStore {
  const st = config.storage;
  return new FileStore({
    dir,
    host: opts.host ?? Deno.hostname(),
    format: opts.format ?? st.format,
    flushInterval: st.flush_interval,
    fsync: st.fsync === "always",
    maxFileBytes: st.max_file_mib * 1048576,
    bufferSamples: st.buffer_samples,
    retention: retentionPolicy(config),
    log,
    now: opts.now,
  });
}

/**
 * The store of a data directory that `record` wrote, for reading (replay, reports). A directory
 * without data, or of a format this version cannot read, is a usage error that says what to do.
 */
export async function openRecordedStore(
  config: SysmonConfig,
  dir: string,
  log: Logger,
): Promise<FileStore> {
  const hasFormat = await Deno.stat(`${dir}/FORMAT`).then(() => true, () => false);
  if (!hasFormat) {
    throw new UsageError(
      `no recorded data in ${dir}: record some first (sysmon record --data ${dir}), ` +
        "or name the data directory with --data",
    );
  }
  try {
    await checkStoreFormat(dir, false);
  } catch (err) {
    if (err instanceof StoreFormatError) throw new UsageError(err.message);
    throw new RuntimeFailure(`cannot read ${dir}: ${(err as Error).message}`);
  }
  return createFileStore(config, dir, log);
}
