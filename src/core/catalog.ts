/** Every model metric in one list: the source for docs/metrics.md and the JSON Schema. */
import { ALL_FAMILIES } from "../collect/index.ts";
import { joinedDefs } from "./join.ts";
import type { EntityFamily, MetricDef } from "./model.ts";

export function catalog(): MetricDef[] {
  return [...ALL_FAMILIES.flatMap((f) => f.defs), ...joinedDefs];
}

/** Entity families with the label that names an entity in each (for docs and CSV columns). */
export const ENTITY_KEYS: Record<EntityFamily, string> = {
  cores: "kernel CPU name (cpu0, cpu1, …)",
  disks: "kernel device name (sda, nvme0n1, vda, …)",
  interfaces: "interface name (eth0, wlan0, …)",
  filesystems: "mount point (/, /var, …)",
};
