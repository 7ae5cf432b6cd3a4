/**
 * Fresh readings for /metrics. Every scrape reads the kernel's counters anew (as node_exporter
 * does); nothing from an earlier scrape is reused. Scrapes that arrive while a family is being read
 * share that one in-flight read, so concurrent scrapes cost one read and see the same numbers.
 */
import type {
  CollectorContext,
  CollectorName,
  Family,
  PartialErrors,
  Reader,
} from "../collect/types.ts";
import type { FamilyStatus } from "../core/sampler.ts";

interface FamilyRead {
  data?: PartialErrors;
  status: FamilyStatus;
}

export interface ScrapeResult {
  families: Family<PartialErrors>[];
  readings: Map<string, PartialErrors>;
  statuses: FamilyStatus[];
}

export class Scraper {
  private readonly readers = new Map<string, Reader<PartialErrors>>();
  private readonly inFlight = new Map<string, Promise<FamilyRead>>();

  constructor(
    readonly families: readonly Family<PartialErrors>[],
    ctx: CollectorContext,
    private readonly interval: (name: CollectorName) => number,
  ) {
    // Readers of their own (not the sampler's): their caches of failing files and stuck mounts
    // are kept, but no reading is.
    for (const f of families) this.readers.set(f.name, f.create(ctx));
  }

  /** Reads the selected families now (all when `names` is omitted). */
  async scrape(names?: ReadonlySet<string>): Promise<ScrapeResult> {
    const families = names ? this.families.filter((f) => names.has(f.name)) : [...this.families];
    const reads = await Promise.all(families.map((f) => this.read(f)));
    const readings = new Map<string, PartialErrors>();
    reads.forEach((r, i) => {
      if (r.data) readings.set(families[i].name, r.data);
    });
    return { families, readings, statuses: reads.map((r) => r.status) };
  }

  private read(f: Family<PartialErrors>): Promise<FamilyRead> {
    let p = this.inFlight.get(f.name);
    if (!p) {
      p = this.readOnce(f).finally(() => this.inFlight.delete(f.name));
      this.inFlight.set(f.name, p);
    }
    return p;
  }

  private async readOnce(f: Family<PartialErrors>): Promise<FamilyRead> {
    const t0 = performance.now();
    const base = { name: f.name, interval: this.interval(f.name) };
    try {
      const data = await this.readers.get(f.name)!.read();
      return {
        data,
        status: { ...base, success: true, duration: (performance.now() - t0) / 1000 },
      };
    } catch (err) {
      return {
        status: {
          ...base,
          success: false,
          duration: (performance.now() - t0) / 1000,
          error: (err as Error).message ?? String(err),
        },
      };
    }
  }
}

/**
 * node_exporter's `collect[]` / `exclude[]` query filters. Returns the selected names, or an error
 * message naming the unknown collector. Both lists at once are refused, as node_exporter does.
 */
export function selectCollectors(
  available: readonly string[],
  collect: readonly string[],
  exclude: readonly string[],
): { names?: Set<string>; error?: string } {
  if (collect.length > 0 && exclude.length > 0) {
    return { error: "collect[] and exclude[] cannot be used together" };
  }
  const known = new Set(available);
  for (const name of [...collect, ...exclude]) {
    if (!known.has(name)) {
      return {
        error: `unknown or disabled collector "${name}"; enabled: ${available.join(", ")}`,
      };
    }
  }
  if (collect.length > 0) return { names: new Set(collect) };
  if (exclude.length > 0) return { names: new Set(available.filter((n) => !exclude.includes(n))) };
  return {};
}
