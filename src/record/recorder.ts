/**
 * The store side of continuous recording, shared by `sysmon record` and `sysmon serve --record`:
 * a format-checked data directory, the one-recorder lock (state/record.lock) and a FileStore open
 * for writing. The caller owns the sampler and hands each sample to `write`; `close` drains, unlocks
 * and turns lost or dropped samples into a RuntimeFailure, so both commands exit the same way.
 */
import type { Sample } from "../core/model.ts";
import { RuntimeFailure, UsageError } from "../cli/errors.ts";
import type { Runtime } from "../cli/runtime.ts";
import { checkStoreFormat, type FileStore, StoreFormatError } from "../store/file_store.ts";
import { ioReason } from "../store/fsutil.ts";
import type { FileFormat } from "../store/layout.ts";
import { acquireLock, type HeldLock, LockBusyError } from "../store/lock.ts";
import type { Storage } from "../store/types.ts";
import { createFileStore } from "./store_open.ts";

export interface Recorder {
  readonly dir: string;
  /** For reads (range queries), /readyz (`writable()`) and self metrics (`stats()`); close through the recorder. */
  readonly store: Storage;
  /** Queues one sample and counts it. */
  write(sample: Sample): Promise<void>;
  /**
   * Drains the rollups, releases the lock and logs a summary naming `why`; throws RuntimeFailure
   * when samples could not be written or were dropped. A second call does nothing.
   */
  close(why: string): Promise<void>;
}

export { resolveRecordDir } from "./data_dir.ts";

/** Takes the one-recorder-per-directory lock (state/record.lock); LockBusyError when it is held. */
export async function takeRecordLock(dir: string): Promise<HeldLock> {
  await Deno.mkdir(`${dir}/state`, { recursive: true });
  return await acquireLock(`${dir}/state/record.lock`);
}

/**
 * Opens `dir` for continuous recording. A directory of another store format is a UsageError, a
 * lock held by another recorder a RuntimeFailure; an unwritable directory is not an error: the
 * store buffers in memory and retries. `label` prefixes every message ("record" by default).
 */
export async function openRecorder(
  rt: Runtime,
  dir: string,
  format: FileFormat,
  label = "record",
): Promise<Recorder> {
  let lock: HeldLock | undefined;
  let usable = false;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await checkStoreFormat(dir, true);
    usable = true;
    lock = await takeRecordLock(dir);
  } catch (err) {
    if (err instanceof StoreFormatError) throw new UsageError(err.message);
    if (err instanceof LockBusyError) throw new RuntimeFailure(`${label}: ${err.message}`);
    // An unwritable directory is reported by the store, which buffers in memory and retries, so
    // recording goes on; only a lock that fails in a usable directory needs its own line.
    if (usable) rt.log.warn(`${label}: cannot take the lock in ${dir}/state: ${ioReason(err)}`);
  }
  const store = createFileStore(rt.config, dir, rt.log, { format });
  try {
    await store.openForWriting();
  } catch (err) {
    lock?.release();
    if (err instanceof StoreFormatError) throw new UsageError(err.message);
    throw err;
  }
  return new OpenRecorder(rt, dir, store, lock, label);
}

class OpenRecorder implements Recorder {
  private samples = 0;
  private closed = false;

  constructor(
    private readonly rt: Runtime,
    readonly dir: string,
    private readonly fileStore: FileStore,
    private readonly lock: HeldLock | undefined,
    private readonly label: string,
  ) {}

  get store(): Storage {
    return this.fileStore;
  }

  async write(sample: Sample): Promise<void> {
    this.samples++;
    await this.fileStore.write(sample);
  }

  async close(why: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const store = this.fileStore;
    try {
      await store.close({ drain: true });
    } finally {
      this.lock?.release();
    }
    const st = store.stats();
    const lost = store.pendingCount();
    this.rt.log.info(
      `${this.label}: stopped (${why}) after ${this.samples} sample(s)` +
        (st.samplesDropped > 0 ? `; ${st.samplesDropped} dropped while the buffer was full` : ""),
    );
    if (lost > 0) {
      throw new RuntimeFailure(
        `${this.label}: ${lost} sample(s) could not be written to ${this.dir}: ${st.lastError}`,
      );
    }
    if (st.samplesDropped > 0) {
      // Logged when it happened; the exit status tells systemd or a script that data was lost.
      throw new RuntimeFailure(
        `${this.label}: ${st.samplesDropped} sample(s) were dropped while ${this.dir} was not writable`,
      );
    }
  }
}
