/**
 * Synthetic samples for store tests and benchmarks: a template sample (a fixture, or this machine's
 * own `snapshot --json`) whose numbers move plausibly over time. Seeded, so runs repeat exactly.
 * Values that are zero in the template stay zero and totals stay constant, as on a real host.
 */
import { enabledFamilies } from "../src/collect/index.ts";
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { catalog } from "../src/core/catalog.ts";
import { Sampler } from "../src/core/sampler.ts";
import { createLogger } from "../src/log.ts";
import { ENTITY_FAMILIES, type MetricDef, type Sample } from "../src/core/model.ts";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal deviate from two uniform ones (Box–Muller). */
export function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** This machine's own sample (two readings 1 s apart, default configuration): a realistic template. */
export async function liveTemplate(): Promise<Sample> {
  const config = structuredClone(EMBEDDED_DEFAULTS);
  const log = createLogger({ level: "warn", format: "text" });
  const ctx = { roots: config.paths, config: config.collectors, log, dropped: new Map() };
  const sampler = new Sampler({
    families: enabledFamilies(config.collectors),
    ctx,
    host: Deno.hostname(),
  });
  await sampler.collect();
  await new Promise((r) => setTimeout(r, 1000));
  return await sampler.collect();
}

const CONSTANT = /total|size|speed|mtu|boot_time|cores_online|_up$|carrier|readonly/;

export class SampleSynth {
  private readonly defs = new Map<string, MetricDef>(catalog().map((d) => [d.name, d]));
  private readonly state = new Map<string, number>();
  private readonly rand: () => number;

  constructor(private readonly template: Sample, seed = 1) {
    this.rand = mulberry32(seed);
  }

  /** The sample at epoch-ms `time`, `interval` seconds after the previous one. */
  at(time: number, interval = 10): Sample {
    const move = (key: string, name: string, v: number | null): number | null => {
      if (v === null || v === 0) return v;
      const def = this.defs.get(name);
      if (!def || CONSTANT.test(name)) return v;
      const prev = this.state.get(key) ?? v;
      let next: number;
      if (def.kind === "cumulative") next = prev + Math.abs(v) * 1e-5 * interval * this.rand();
      else if (def.unit === "percent") {
        next = Math.min(100, Math.max(0, prev + (this.rand() - 0.5) * 4));
      } else if (def.kind === "rate") next = Math.abs(v) * Math.exp((this.rand() - 0.5) * 3);
      else next = prev * (1 + (this.rand() - 0.5) * 0.002);
      this.state.set(key, next);
      return next;
    };
    const out: Sample = {
      ...this.template,
      timestamp: new Date(time).toISOString(),
      interval,
      metrics: {},
      errors: [],
    };
    for (const k in this.template.metrics) out.metrics[k] = move(k, k, this.template.metrics[k]);
    for (const f of ENTITY_FAMILIES) {
      out[f] = {};
      for (const [entity, part] of Object.entries(this.template[f])) {
        const p: Record<string, number | string | null> = {};
        for (const [name, v] of Object.entries(part)) {
          p[name] = typeof v === "number" ? move(`${name}[${entity}]`, name, v) : v;
        }
        out[f][entity] = p;
      }
    }
    return out;
  }
}

/** A small but complete template: two cores, a disk, an interface, two filesystems. */
export function templateSample(host = "testhost"): Sample {
  return {
    version: 1,
    timestamp: "2026-01-01T00:00:00.000Z",
    host,
    interval: 10,
    metrics: {
      cpu_usage_percent: 12.5,
      cpu_user_percent: 8.25,
      cpu_system_percent: 4.25,
      cpu_iowait_percent: 0,
      cpu_cores_online: 2,
      load_average_1m: 0.42,
      memory_total: 25276510208,
      memory_used: 462446592,
      memory_usage_percent: 1.83,
      swap_usage_percent: 0,
      boot_time: 1795712030,
    },
    cores: {
      cpu0: { core_usage_percent: 10.5, core_user_percent: 7.5 },
      cpu1: { core_usage_percent: 14.5, core_user_percent: 9 },
    },
    disks: {
      vda: {
        disk_read_bytes_per_second: 40960,
        disk_util_percent: 1.5,
        disk_read_bytes: 123456789,
      },
    },
    interfaces: {
      eth0: { net_rx_bytes_per_second: 1234.5, net_operstate: "up", net_mtu: 1500 },
    },
    filesystems: {
      "/": {
        device: "/dev/vda1",
        fstype: "ext4",
        filesystem_size: 270000000000,
        filesystem_usage_percent: 61.2,
      },
      '/mnt/a,b "q"': {
        device: "tmpfs",
        fstype: "tmpfs",
        filesystem_size: 1048576,
        filesystem_usage_percent: 5,
      },
    },
    errors: [],
  };
}
