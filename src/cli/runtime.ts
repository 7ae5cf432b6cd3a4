/** What every command needs before it works: the merged config, a logger and the kernel roots. */
import { applyOverrides, loadConfig } from "../config/load.ts";
import type { SysmonConfig } from "../config/sysmon_schema.ts";
import type { CollectorContext, Roots } from "../collect/types.ts";
import { createLogger, type Logger } from "../log.ts";
import type { GlobalFlags } from "./globals.ts";
import { useColor } from "./io.ts";

export interface Runtime {
  config: SysmonConfig;
  /** Config files that were read, in merge order. */
  files: string[];
  log: Logger;
  roots: Roots;
  color: boolean;
  env: Record<string, string | undefined>;
  /** The data directory from the configuration (storage.path, $STATE_DIRECTORY, XDG…). */
  dataDir: string | undefined;
}

export interface RuntimeOverrides {
  interval?: number;
}

export async function setupRuntime(
  flags: GlobalFlags,
  env: Record<string, string | undefined>,
  extra: RuntimeOverrides = {},
): Promise<Runtime> {
  const loaded = await loadConfig({
    configFile: flags.config,
    env,
    home: env.HOME ?? "",
    isRoot: Deno.uid() === 0,
  });
  const config = applyOverrides(loaded.config, {
    procfs: flags.procfs,
    sysfs: flags.sysfs,
    rootfs: flags.rootfs,
    logLevel: flags.logLevel,
    interval: extra.interval,
  });
  const log = createLogger({ level: config.log.level, format: config.log.format });
  return {
    config,
    files: loaded.files,
    log,
    roots: { ...config.paths },
    color: useColor(flags.color, env),
    env,
    dataDir: loaded.dataDir,
  };
}

export function collectorContext(rt: Runtime): CollectorContext {
  return { roots: rt.roots, config: rt.config.collectors, log: rt.log, dropped: new Map() };
}
