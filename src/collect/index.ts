/** The registry of collector families, in the order samples and exposition list them. */
import type { CollectorsConfig, Family, PartialErrors } from "./types.ts";
import { cpuFamily } from "./cpu.ts";
import { loadavgFamily } from "./loadavg.ts";
import { meminfoFamily } from "./meminfo.ts";
import { pressureFamily } from "./pressure.ts";
import { diskstatsFamily } from "./diskstats.ts";
import { netdevFamily } from "./netdev.ts";
import { netclassFamily } from "./netclass.ts";
import { filesystemFamily } from "./filesystem.ts";

export const ALL_FAMILIES: readonly Family<PartialErrors>[] = [
  cpuFamily,
  loadavgFamily,
  meminfoFamily,
  pressureFamily,
  diskstatsFamily,
  netdevFamily,
  netclassFamily,
  filesystemFamily,
] as unknown as Family<PartialErrors>[];

export function enabledFamilies(config: CollectorsConfig): Family<PartialErrors>[] {
  return ALL_FAMILIES.filter((f) => config[f.name].enabled);
}
