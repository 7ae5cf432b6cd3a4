/** Small file-system helpers shared by the store's writers. */

/** Writes every byte (a single write may be short). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/** Per path, the write in progress: writes to one path share its temporary file. */
const pendingWrites = new Map<string, Promise<void>>();

/**
 * Writes JSON atomically: a crash leaves the old file or the new one, never half of either. Writes
 * to the same path from this process run one after the other, in call order: two at once would
 * share the temporary file, and the second rename would fail (seen when `alert run` stopped during
 * a tick: the tick's state save and the final one overlapped).
 */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value) + "\n";
  const previous = pendingWrites.get(path) ?? Promise.resolve();
  const write = previous.catch(() => {}).then(() => writeTextAtomic(path, text));
  pendingWrites.set(path, write);
  const forget = () => {
    if (pendingWrites.get(path) === write) pendingWrites.delete(path);
  };
  write.then(forget, forget);
  return write;
}

async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    await writeAll(file, new TextEncoder().encode(text));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

/** The reason of an I/O error in a few words, e.g. "No space left on device (os error 28)". */
export function ioReason(err: unknown): string {
  const e = err as Error;
  return e?.message ?? String(err);
}

export async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Entry names of a directory, or [] when it does not exist. */
export async function listNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return out;
}
