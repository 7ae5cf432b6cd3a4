/**
 * The whole exposition: node_exporter-compatible families rendered by each collector from a raw
 * reading, then sysmon's extras — usage ratios (0–1) from the sampler's last completed interval and
 * self metrics. `snapshot --format prometheus` and `serve`'s /metrics both use this.
 */
import type { Family, PartialErrors } from "../collect/types.ts";
import type { Sample } from "../core/model.ts";
import type { FamilyStatus } from "../core/sampler.ts";
import { VERSION } from "../version.ts";
import { type ExpositionWriter, type Labels, TextExposition } from "./writer.ts";

export interface ExpositionInput {
  families: readonly Family<PartialErrors>[];
  /** Raw readings by family name; a family without one (it failed) renders nothing but its status. */
  readings: ReadonlyMap<string, PartialErrors>;
  /** The last sample with rates, for the sysmon_ ratios; omitted before the first interval completes. */
  sample?: Sample;
  statuses: readonly FamilyStatus[];
  dropped: ReadonlyMap<string, number>;
  /** Collectors a scrape asked for (collect[]/exclude[]); ratios of the others are left out. */
  selected?: ReadonlySet<string>;
  /** More sysmon_ families (process, store, HTTP), written after the built-in self metrics. */
  extra?: (out: ExpositionWriter) => void;
}

export function renderExposition(input: ExpositionInput): string {
  const out = new TextExposition();
  for (const family of input.families) {
    const data = input.readings.get(family.name);
    if (data) family.expose(data, out);
  }
  if (input.sample) writeRatios(input.sample, out, input.selected);
  writeSelf(input, out);
  input.extra?.(out);
  return out.text();
}

const ratio = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v / 100 : undefined);

function* scalar(v: unknown): Iterable<[Labels | undefined, number]> {
  const r = ratio(v);
  if (r !== undefined) yield [undefined, r];
}

function* perEntity(
  entities: Record<string, Record<string, unknown>>,
  key: string,
  labels: (name: string, e: Record<string, unknown>) => Labels,
): Iterable<[Labels | undefined, number]> {
  for (const name in entities) {
    const r = ratio(entities[name][key]);
    if (r !== undefined) yield [labels(name, entities[name]), r];
  }
}

function writeRatios(s: Sample, out: ExpositionWriter, selected?: ReadonlySet<string>) {
  const m = s.metrics;
  // A scrape filtered to some collectors gets only the ratios those collectors feed.
  const wanted = (...collectors: string[]) => !selected || collectors.some((c) => selected.has(c));
  if (wanted("cpu")) writeCpuRatios(s, out);
  if (wanted("meminfo")) writeMemoryRatios(m, out);
  if (wanted("diskstats")) {
    out.family(
      "sysmon_disk_utilization_ratio",
      "gauge",
      "Share of the last interval the disk was busy (io_ticks), as iostat %util (0-1).",
      perEntity(s.disks, "disk_util_percent", (n) => ({ device: n })),
    );
  }
  if (wanted("netdev", "netclass")) writeNetworkRatios(s, out);
  if (wanted("filesystem")) writeFilesystemRatios(s, out);
}

function writeCpuRatios(s: Sample, out: ExpositionWriter) {
  const m = s.metrics;
  out.family(
    "sysmon_cpu_usage_ratio",
    "gauge",
    "Share of CPU time not idle or iowait over the last sampler interval (0-1).",
    scalar(m.cpu_usage_percent),
  );
  out.family(
    "sysmon_cpu_core_usage_ratio",
    "gauge",
    "Per-core share of time not idle or iowait over the last sampler interval (0-1).",
    perEntity(s.cores, "core_usage_percent", (n) => ({ cpu: n.replace(/^cpu/, "") })),
  );
}

function writeMemoryRatios(m: Sample["metrics"], out: ExpositionWriter) {
  out.family(
    "sysmon_memory_usage_ratio",
    "gauge",
    "(MemTotal - MemAvailable) / MemTotal, as procps free computes used (0-1).",
    scalar(m.memory_usage_percent),
  );
  out.family(
    "sysmon_swap_usage_ratio",
    "gauge",
    "(SwapTotal - SwapFree) / SwapTotal; 0 without swap (0-1).",
    scalar(m.swap_usage_percent),
  );
}

function writeNetworkRatios(s: Sample, out: ExpositionWriter) {
  out.family(
    "sysmon_network_receive_utilization_ratio",
    "gauge",
    "Received bits per second over link speed; absent when the speed is unknown (0-1).",
    perEntity(s.interfaces, "net_rx_utilization_percent", (n) => ({ device: n })),
  );
  out.family(
    "sysmon_network_transmit_utilization_ratio",
    "gauge",
    "Transmitted bits per second over link speed; absent when the speed is unknown (0-1).",
    perEntity(s.interfaces, "net_tx_utilization_percent", (n) => ({ device: n })),
  );
}

function writeFilesystemRatios(s: Sample, out: ExpositionWriter) {
  const fsLabels = (n: string, e: Record<string, unknown>): Labels => ({
    device: String(e.device ?? ""),
    fstype: String(e.fstype ?? ""),
    mountpoint: n,
  });
  out.family(
    "sysmon_filesystem_usage_ratio",
    "gauge",
    "used / (used + avail), the share df reports as Use% (0-1).",
    perEntity(s.filesystems, "filesystem_usage_percent", fsLabels),
  );
  out.family(
    "sysmon_filesystem_inodes_usage_ratio",
    "gauge",
    "Used inodes over total inodes (0-1).",
    perEntity(s.filesystems, "filesystem_inodes_usage_percent", fsLabels),
  );
}

function writeSelf(input: ExpositionInput, out: ExpositionWriter) {
  out.family(
    "sysmon_collector_success",
    "gauge",
    "1 when the collector's last read succeeded, 0 when it failed.",
    input.statuses.map((s) => [{ collector: s.name }, s.success ? 1 : 0]),
  );
  out.family(
    "sysmon_collector_duration_seconds",
    "gauge",
    "Wall time the collector's last read took.",
    input.statuses.map((s) => [{ collector: s.name }, s.duration]),
  );
  out.family(
    "sysmon_collector_entities_dropped",
    "gauge",
    "Entities left out because the family exceeded collectors.max_entities.",
    input.statuses.map((s) => [{ collector: s.name }, input.dropped.get(s.name) ?? 0]),
  );
  out.family(
    "sysmon_build_info",
    "gauge",
    "sysmon's version and the Deno runtime it runs on (always 1).",
    [[{ version: VERSION, deno: Deno.version.deno }, 1]],
  );
}
