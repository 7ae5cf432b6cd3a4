/**
 * One recorder per data directory: an exclusive flock on state/record.lock. The kernel drops the lock
 * when the process dies (even by kill -9), so a crash never leaves a stale lock behind. The file's
 * text (pid, start time) is only for the message that names the holder.
 */
import { writeAll } from "./fsutil.ts";

export class LockBusyError extends Error {
  constructor(readonly path: string, readonly holder: string) {
    super(`another sysmon record is running on this data directory (${holder}; lock ${path})`);
    this.name = "LockBusyError";
  }
}

export interface HeldLock {
  path: string;
  release(): void;
}

export async function acquireLock(path: string): Promise<HeldLock> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } catch (err) {
    file.close();
    throw err;
  }
  if (!locked) {
    let holder = "holder unknown";
    try {
      const text = (await Deno.readTextFile(path)).trim();
      if (text) holder = text;
    } catch { /* the message is still clear without it */ }
    file.close();
    throw new LockBusyError(path, holder);
  }
  // The flock is the lock; the holder text only helps messages, so failing to write it (a full
  // disk) must not turn a held lock into a reported failure.
  try {
    await file.truncate(0);
    await writeAll(
      file,
      new TextEncoder().encode(`pid ${Deno.pid} since ${new Date().toISOString()}\n`),
    );
  } catch { /* best effort */ }
  return {
    path,
    release() {
      try {
        file.unlockSync();
        file.close();
      } catch { /* already closed */ }
    },
  };
}
