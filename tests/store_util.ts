/** Writing a recording for tests: samples into a fresh data directory as `sysmon record` would. */
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import type { SysmonConfig } from "../src/config/sysmon_schema.ts";
import type { Sample } from "../src/core/model.ts";
import { memoryLogger } from "../src/log.ts";
import { createFileStore } from "../src/record/store_open.ts";
import type { FileFormat } from "../src/store/layout.ts";

export interface Recorded {
  /** Samples the store counted as written. */
  written: number;
  /** The configuration it was written with (flush every sample, no fsync): read it back alike. */
  config: SysmonConfig;
}

/**
 * Writes `samples` (in time order) into a new store in `dir`. The store's clock reads each sample's
 * time plus 50 ms when it is written, as a recorder's would, and `closeAt` when the store closes
 * (so the rollup buckets up to then are complete).
 */
export async function recordSamples(
  dir: string,
  samples: Iterable<Sample>,
  opts: { host: string; closeAt: number; format?: FileFormat },
): Promise<Recorded> {
  const config = structuredClone(EMBEDDED_DEFAULTS);
  config.storage.flush_interval = 0;
  config.storage.fsync = "never";
  const it = samples[Symbol.iterator]();
  let next = it.next();
  const clock = { now: next.done ? opts.closeAt : Date.parse(next.value.timestamp) };
  const store = createFileStore(config, dir, memoryLogger(), {
    host: opts.host,
    ...(opts.format ? { format: opts.format } : {}),
    now: () => clock.now,
  });
  await store.openForWriting();
  for (; !next.done; next = it.next()) {
    clock.now = Date.parse(next.value.timestamp) + 50;
    await store.write(next.value);
  }
  clock.now = opts.closeAt;
  await store.close();
  return { written: store.stats().samplesWritten, config };
}
