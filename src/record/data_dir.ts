/** The data directory a recording command uses: --data, else the configuration's. */
import { UsageError } from "../cli/errors.ts";
import type { Runtime } from "../cli/runtime.ts";

/**
 * The data directory from `--data` or the configuration, absolute and without trailing slashes.
 * UsageError when neither names one.
 */
export function resolveRecordDir(flag: string | undefined, rt: Runtime): string {
  const dataDir = flag ?? rt.dataDir;
  if (!dataDir) {
    throw new UsageError(
      "no data directory: pass --data DIR or set storage.path (HOME and XDG_DATA_HOME are unset)",
    );
  }
  const dir = dataDir.startsWith("/") ? dataDir : `${Deno.cwd()}/${dataDir}`;
  return dir.replace(/\/+$/, "") || "/";
}
