/**
 * Writes a command's `--output FILE`: whole, via a temporary file renamed into place, so a crash or
 * a full disk leaves the previous file rather than half of one. Anything that is not a regular file
 * (/dev/null, /dev/stdout, a FIFO) is written to directly: renaming onto it would replace the
 * device or pipe with a plain file.
 */
import { ioReason } from "../store/fsutil.ts";
import { RuntimeFailure } from "./errors.ts";

export async function writeOutputFile(path: string, text: string): Promise<void> {
  let special = false;
  try {
    special = !(await Deno.stat(path)).isFile;
  } catch {
    // Not there yet: a new regular file.
  }
  try {
    if (special) {
      await Deno.writeTextFile(path, text);
      return;
    }
    const tmp = `${path}.tmp-${Deno.pid}`;
    try {
      await Deno.writeTextFile(tmp, text);
      await Deno.rename(tmp, path);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
  } catch (err) {
    throw new RuntimeFailure(`cannot write ${path}: ${ioReason(err)}`);
  }
}
