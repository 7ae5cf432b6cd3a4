/**
 * One-shot recording for cron and systemd timers, the way sadc does it: the raw counters of the
 * previous run are kept in a state file, so each run writes rates over the time since the last one.
 * A different boot id (or no state) makes this run's sample a baseline: no rates, interval null.
 */
import type { Sampler, SamplerState } from "../core/sampler.ts";
import type { Logger } from "../log.ts";
import { writeJsonAtomic } from "../store/fsutil.ts";

export const STATE_FORMAT = 1;

interface StateFile extends SamplerState {
  format: number;
  written: string;
}

/** Reads the state file; a missing or unreadable one means "no previous run" (logged when unreadable). */
export async function loadState(path: string, log: Logger): Promise<SamplerState | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    log.warn(`record: cannot read state file ${path}: ${(err as Error).message}; starting over`);
    return undefined;
  }
  try {
    const state = JSON.parse(text) as StateFile;
    if (state.format !== STATE_FORMAT || typeof state.readings !== "object") {
      throw new Error("unknown layout");
    }
    return state;
  } catch (err) {
    log.warn(`record: state file ${path} is unreadable (${(err as Error).message}); starting over`);
    return undefined;
  }
}

export async function saveState(path: string, sampler: Sampler): Promise<void> {
  const state: StateFile = {
    format: STATE_FORMAT,
    written: new Date().toISOString(),
    ...sampler.exportState(),
  };
  await writeJsonAtomic(path, state);
}
