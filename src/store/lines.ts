/**
 * Line-level file I/O for the store: streaming line reads (plain or gzip), repair of a torn last line
 * after a crash, and crash-safe gzip compression of closed files. Memory stays bounded by the longest
 * line, never by the file size.
 */
import { utf8Length } from "../core/utf8.ts";
import { writeAll } from "./fsutil.ts";

/** Something a reader noticed and skipped instead of throwing. */
export interface LineProblem {
  path: string;
  /** "torn": a last line without "\n" (a write cut off by a crash); "gzip": a truncated or corrupt .gz. */
  kind: "torn" | "gzip";
  message: string;
}

export interface ReadLinesOptions {
  gzip: boolean;
  /** Called at most once per read, after the last yielded line; the problem's data is not yielded. */
  onProblem?: (problem: LineProblem) => void;
}

/**
 * Bytes decoded at a time. DecompressionStream can emit megabytes per chunk (a 64 KiB read of
 * repetitive JSONL inflates ~70×); decoding in slices keeps the strings small enough for V8's young
 * generation, so memory stays flat instead of waiting for an old-generation collection.
 */
const DECODE_SLICE = 64 * 1024;

/**
 * Yields every complete ("\n"-terminated) line of a file, without the "\n"; empty lines are yielded
 * as "". A final fragment without "\n" is reported as "torn" and not yielded. A gzip stream that is
 * cut off or corrupt yields the complete lines decoded before the damage, reports "gzip" and ends.
 * A missing file throws Deno.errors.NotFound on the first iteration; other I/O errors also throw.
 */
export async function* readLines(path: string, opts: ReadLinesOptions): AsyncGenerator<string> {
  // Disposing a file its stream already closed (at the end, or on cancel) is a no-op.
  using file = await Deno.open(path, { read: true });
  const child = opts.gzip && externalGunzip ? startGunzip(file) : undefined;
  const bytes = child
    ? child.stdout
    : opts.gzip
    ? file.readable.pipeThrough(new DecompressionStream("gzip"))
    : file.readable;
  const reader = bytes.getReader();
  const decoder = new TextDecoder();
  const splitter = new LineSplitter();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        // Deno's DecompressionStream fails with a TypeError (bad header, checksum, cut-off stream);
        // I/O errors are Deno.errors.* and go to the caller.
        if (!opts.gzip || !(err instanceof TypeError)) throw err;
        const rest = splitter.remainderBytes();
        const dropped = rest > 0 ? ` (an incomplete last line of ${rest} bytes dropped)` : "";
        opts.onProblem?.({
          path,
          kind: "gzip",
          message: `truncated or corrupt gzip: ${err.message}${dropped}`,
        });
        return;
      }
      if (chunk.done) break;
      const data = chunk.value;
      for (let at = 0; at < data.length; at += DECODE_SLICE) {
        const text = decoder.decode(data.subarray(at, at + DECODE_SLICE), { stream: true });
        for (const line of splitter.push(text)) yield line;
      }
    }
    if (child) {
      const status = await child.status;
      if (!status.success) {
        const rest = splitter.remainderBytes();
        const dropped = rest > 0 ? ` (an incomplete last line of ${rest} bytes dropped)` : "";
        opts.onProblem?.({
          path,
          kind: "gzip",
          message: `truncated or corrupt gzip: gzip -d exited ${status.code}${dropped}`,
        });
        return;
      }
    }
    // A multi-byte character cut at the very end decodes to U+FFFD and stays in the torn fragment.
    for (const line of splitter.push(decoder.decode())) yield line;
    const rest = splitter.remainderBytes();
    if (rest > 0) {
      opts.onProblem?.({
        path,
        kind: "torn",
        message: `torn last line (${rest} bytes without a trailing newline) skipped`,
      });
    }
  } finally {
    // Also runs when the consumer stops early: cancelling releases the pipeline and closes the file.
    await reader.cancel().catch(() => {});
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.status;
    }
  }
}

/**
 * Long-running processes (serve) decompress in a child `gzip -dc`: DecompressionStream's native
 * buffers grow the process by 10–25 MB that the allocator never returns. Off by default: one-shot
 * commands exit soon anyway, and a child costs a few milliseconds per file.
 */
let externalGunzip = false;

export function useExternalGunzip(on: boolean): void {
  externalGunzip = on && gunzipAvailable();
}

function gunzipAvailable(): boolean {
  for (const dir of ["/usr/bin", "/bin", "/usr/local/bin"]) {
    try {
      if (Deno.statSync(`${dir}/gzip`).isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** `gzip -dc` reading the open file on stdin (no path quoting, and a file renamed meanwhile still reads). */
function startGunzip(file: Deno.FsFile): Deno.ChildProcess {
  const child = new Deno.Command("gzip", {
    args: ["-dc"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  file.readable.pipeTo(child.stdin).catch(() => {});
  return child;
}

/** Cuts decoded text into lines, keeping the unfinished tail between pushes. */
class LineSplitter {
  // Pieces of the line being assembled: a long line spanning many slices is joined once, not per slice.
  #pending: string[] = [];

  /** The lines completed by `text`. */
  push(text: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const piece = text.slice(start, nl);
      if (this.#pending.length > 0) {
        this.#pending.push(piece);
        lines.push(this.#pending.join(""));
        this.#pending = [];
      } else {
        lines.push(piece);
      }
      start = nl + 1;
    }
    if (start < text.length) this.#pending.push(text.slice(start));
    return lines;
  }

  /** UTF-8 size of the unfinished tail (0 when the text so far ended with "\n"). */
  remainderBytes(): number {
    let n = 0;
    for (const piece of this.#pending) n += utf8Length(piece);
    return n;
  }
}

const TAIL_CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Cuts an uncompressed file back to just after its last "\n" (to empty when it has none), dropping a
 * line torn by a crash so later appends start on a line boundary. Reads only the tail, backwards in
 * 64 KiB chunks. Returns the number of bytes removed (0 when the file already ends with "\n").
 */
export async function repairTornTail(path: string): Promise<number> {
  using file = await Deno.open(path, { read: true, write: true });
  const size = (await file.stat()).size;
  if (size === 0) return 0;
  const buf = new Uint8Array(TAIL_CHUNK);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - TAIL_CHUNK);
    const chunk = buf.subarray(0, end - start);
    await readExactlyAt(file, start, chunk);
    const nl = chunk.lastIndexOf(NEWLINE);
    if (nl >= 0) return await truncateTo(file, size, start + nl + 1);
    end = start;
  }
  return await truncateTo(file, size, 0);
}

async function truncateTo(file: Deno.FsFile, size: number, keep: number): Promise<number> {
  if (keep === size) return 0;
  await file.truncate(keep);
  await file.syncData();
  return size - keep;
}

async function readExactlyAt(file: Deno.FsFile, offset: number, into: Uint8Array): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < into.length) {
    const n = await file.read(into.subarray(filled));
    if (n === null) throw new Error(`unexpected end of file at ${offset + filled}`);
    filled += n;
  }
}

/**
 * Gzips `src` into `dest` crash-safely, then removes `src`. The data goes to `dest + ".tmp"`, which
 * is fsynced (unless `opts.fsync === false`) and renamed to `dest`; the directory is then fsynced
 * where the platform allows it, and only then is `src` removed.
 *
 * After a crash at any point the directory holds one of:
 *  - `src` intact, perhaps with a partial `dest.tmp`: remove the .tmp (cleanupPartial) and retry;
 *  - `src` intact and a complete `dest` (it is only renamed into place once complete): remove `src`.
 * It never holds a partial `dest`. On an error the .tmp is removed and `src` is left intact.
 */
export async function compressFile(
  src: string,
  dest: string,
  opts?: { fsync?: boolean; inProcess?: boolean },
): Promise<void> {
  const fsync = opts?.fsync !== false;
  const tmp = dest + ".tmp";
  await Deno.stat(src); // a missing source is Deno.errors.NotFound, whichever gzip runs
  try {
    if (opts?.inProcess || !(await gzipExternally(src, tmp))) await gzipInProcess(src, tmp);
    if (fsync) {
      using out = await Deno.open(tmp, { read: true, write: true });
      await out.sync();
    }
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await Deno.rename(tmp, dest);
  if (fsync) syncDirectory(dirName(dest));
  await Deno.remove(src);
}

/**
 * Compresses with the system's gzip in a child process when there is one: the data never passes
 * through this process, whose memory would otherwise grow by 10–25 MB per compressed file (Deno's
 * CompressionStream buffers natively and the allocator keeps the pages); -9 is ~10 % smaller than
 * -6 for ~0.1 s more CPU per 4 MiB part. Returns false when no
 * /bin/sh or gzip is available; throws when gzip ran and failed (e.g. the disk is full).
 */
async function gzipExternally(src: string, dest: string): Promise<boolean> {
  if (gzipMissing) return false;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("/bin/sh", {
      args: [
        "-c",
        'command -v gzip >/dev/null || exit 127; exec gzip -c -n -9 -- "$1" > "$2"',
        "sysmon-gzip",
        src,
        dest,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) {
      gzipMissing = true;
      return false;
    }
    throw err;
  }
  if (out.code === 127) {
    gzipMissing = true;
    return false;
  }
  if (out.code !== 0) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ||
      `exit ${out.code}`;
    throw new Error(`gzip failed: ${why}`);
  }
  return true;
}

let gzipMissing = false;

async function gzipInProcess(src: string, dest: string): Promise<void> {
  using input = await Deno.open(src, { read: true });
  using out = await Deno.open(dest, { write: true, create: true, truncate: true });
  for await (const chunk of input.readable.pipeThrough(new CompressionStream("gzip"))) {
    await writeAll(out, chunk);
  }
}

/** Makes a rename durable; best effort, since some platforms refuse to open or sync a directory. */
function syncDirectory(dir: string): void {
  try {
    using d = Deno.openSync(dir, { read: true });
    d.syncSync();
  } catch {
    // Not supported here: the rename is still atomic, only its durability on power loss is weaker.
  }
}

function dirName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/**
 * Removes leftover `*.tmp` files (from a compression interrupted by a crash) in `dir`; returns their
 * names, sorted. A missing directory has nothing to clean and returns [].
 */
export async function cleanupPartial(dir: string): Promise<string[]> {
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".tmp")) continue;
      await Deno.remove(`${dir}/${entry.name}`);
      removed.push(entry.name);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return removed.sort();
}
