/**
 * The collector contract. A family reads one area of /proc or /sys (a pure `parse` plus a reader),
 * turns two consecutive readings into model metrics (`derive`), and renders its raw counters as
 * node_exporter-compatible exposition (`expose`). Families know nothing about consumers.
 */
import type { EntityPart, MetricDef } from "../core/model.ts";
import type { ExpositionWriter } from "../expose/writer.ts";
import type { Logger } from "../log.ts";

/** Where the kernel's trees are; resolved from --procfs/--sysfs/--rootfs. */
export interface Roots {
  procfs: string;
  sysfs: string;
  rootfs: string;
}

/** node_exporter's collector names, so `collect[]` filters and docs speak one language. */
export type CollectorName =
  | "cpu"
  | "loadavg"
  | "meminfo"
  | "pressure"
  | "diskstats"
  | "netdev"
  | "netclass"
  | "filesystem";

export const COLLECTOR_NAMES: readonly CollectorName[] = [
  "cpu",
  "loadavg",
  "meminfo",
  "pressure",
  "diskstats",
  "netdev",
  "netclass",
  "filesystem",
];

/** Settings every collector has; `interval: null` inherits `collectors.interval`. */
export interface CollectorCommon {
  enabled: boolean;
  interval: number | null;
}

/** Include/exclude are regular-expression sources; "" means "no filter". */
export interface EntityFilter {
  include: string;
  exclude: string;
}

/** The `collectors` section of the configuration (durations already in seconds). */
export interface CollectorsConfig {
  interval: number;
  max_entities: number;
  cpu: CollectorCommon;
  loadavg: CollectorCommon;
  meminfo: CollectorCommon;
  pressure: CollectorCommon;
  diskstats: CollectorCommon & EntityFilter;
  netdev: CollectorCommon & EntityFilter;
  netclass: CollectorCommon;
  filesystem: CollectorCommon & {
    fstypes_exclude: string;
    mountpoints_exclude: string;
    statfs_timeout: number;
  };
}

/** Counts of entities cut by `max_entities`, per family; exported as a self metric. */
export type DroppedEntities = Map<string, number>;

export interface CollectorContext {
  roots: Roots;
  config: CollectorsConfig;
  log: Logger;
  dropped: DroppedEntities;
}

/** A reading with the clocks it was taken at. `mono` (ms, performance.now) is the only clock rates use. */
export interface Reading<R> {
  data: R;
  mono: number;
  wall: number;
}

/** What `derive` contributes to a sample. Every key is optional; the sampler merges parts. */
export interface SamplePart {
  metrics?: Record<string, number | null>;
  cores?: Record<string, EntityPart>;
  disks?: Record<string, EntityPart>;
  interfaces?: Record<string, EntityPart>;
  filesystems?: Record<string, EntityPart>;
}

/** Per-entity problems (one mount failing, one NIC's file unreadable) that do not fail the family. */
export interface PartialErrors {
  errors?: string[];
}

export interface Reader<R> {
  read(): Promise<R>;
}

export interface Family<R extends PartialErrors = PartialErrors> {
  readonly name: CollectorName;
  /** Catalogue entries for the model metrics this family produces (docs, schema, CSV, rules). */
  readonly defs: readonly MetricDef[];
  /** A stateful reader (caches of failing files, stuck mounts live here). */
  create(ctx: CollectorContext): Reader<R>;
  /** Model metrics from the current reading; rates need `prev` (absent, or from another boot: none). */
  derive(prev: Reading<R> | undefined, cur: Reading<R>): SamplePart;
  /** node_exporter-compatible raw exposition of one reading. */
  expose(data: R, out: ExpositionWriter): void;
}
