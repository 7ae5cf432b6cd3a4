/**
 * The sampler: one scheduler for every collector family. It keeps each family's previous raw reading,
 * turns consecutive readings into rates over the monotonic clock, and assembles version-1 samples.
 */
import type {
  CollectorContext,
  Family,
  PartialErrors,
  Reader,
  Reading,
  Roots,
  SamplePart,
} from "../collect/types.ts";
import { procPath, readOptional } from "../collect/procfs.ts";
import { type CollectorError, emptySample, type EntityFamily, type Sample } from "./model.ts";
import { joinDerived } from "./join.ts";

export interface Clock {
  /** Monotonic milliseconds (performance.now): rates use only this. */
  mono(): number;
  /** Wall-clock milliseconds since the epoch: timestamps and tick alignment. */
  wall(): number;
}

export const systemClock: Clock = { mono: () => performance.now(), wall: () => Date.now() };

/**
 * A clock whose monotonic part is the time since boot (/proc/uptime), so readings persisted by one
 * process give rates in the next: what `record --once` under cron needs. 10 ms resolution.
 */
export function bootClock(roots: Roots): Clock {
  return {
    mono: () => {
      const text = Deno.readTextFileSync(procPath(roots, "uptime"));
      return Number(text.split(" ")[0]) * 1000;
    },
    wall: () => Date.now(),
  };
}

/** The previous readings of every family, to carry rates across processes (record --once). */
export interface SamplerState {
  bootId?: string;
  readings: Record<string, Reading<PartialErrors>>;
}

export interface FamilyStatus {
  name: string;
  /** Seconds between scheduled readings. */
  interval: number;
  success: boolean;
  /** Wall time the last read took, in seconds. */
  duration: number;
  error?: string;
}

interface FamilyState {
  family: Family<PartialErrors>;
  reader: Reader<PartialErrors>;
  interval: number;
  prev?: Reading<PartialErrors>;
  part: SamplePart;
  partialErrors: string[];
  status: FamilyStatus;
  nextDue: number;
}

export interface SamplerOptions {
  families: readonly Family<PartialErrors>[];
  ctx: CollectorContext;
  host: string;
  clock?: Clock;
}

export interface SamplerStats {
  collections: number;
  missedTicks: number;
}

const ENTITY_KEYS: readonly EntityFamily[] = ["cores", "disks", "interfaces", "filesystems"];

export class Sampler {
  readonly stats: SamplerStats = { collections: 0, missedTicks: 0 };
  private readonly states: FamilyState[];
  private readonly clock: Clock;
  private bootId: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private lastSample: Sample | undefined;

  constructor(private readonly opts: SamplerOptions) {
    this.clock = opts.clock ?? systemClock;
    const base = opts.ctx.config.interval;
    this.states = opts.families.map((family) => {
      const own = opts.ctx.config[family.name].interval;
      const interval = own ?? base;
      return {
        family,
        reader: family.create(opts.ctx),
        interval,
        part: {},
        partialErrors: [],
        status: { name: family.name, interval, success: true, duration: 0 },
        nextDue: 0,
      };
    });
  }

  /** Families in collection order with their last status (for self metrics and readiness). */
  statuses(): FamilyStatus[] {
    return this.states.map((s) => ({ ...s.status }));
  }

  /** The last raw reading of a family (what `expose` renders), if it has one. */
  latestReading(name: string): PartialErrors | undefined {
    return this.states.find((s) => s.family.name === name)?.prev?.data;
  }

  latestSample(): Sample | undefined {
    return this.lastSample;
  }

  /** The boot id read at the last collection. */
  currentBootId(): string | undefined {
    return this.bootId;
  }

  exportState(): SamplerState {
    const readings: Record<string, Reading<PartialErrors>> = {};
    for (const s of this.states) if (s.prev) readings[s.family.name] = s.prev;
    return { bootId: this.bootId, readings };
  }

  /**
   * Seeds previous readings from another process. Readings from another boot are ignored (the
   * first collection then yields no rates, as after a reboot).
   */
  importState(state: SamplerState): boolean {
    this.checkBoot();
    if (!state.bootId || state.bootId !== this.bootId) return false;
    for (const s of this.states) {
      const prev = state.readings[s.family.name];
      if (prev) s.prev = prev;
    }
    return true;
  }

  /** Reads the named families (all when omitted) now and returns the assembled sample. */
  async collect(names?: ReadonlySet<string>): Promise<Sample> {
    const wall = this.clock.wall();
    this.checkBoot();
    const due = names ? this.states.filter((s) => names.has(s.family.name)) : this.states;
    let interval: number | null = null;
    await Promise.all(due.map(async (s) => {
      const dt = await this.readFamily(s);
      if (dt !== null) interval = Math.max(interval ?? 0, dt);
    }));
    this.stats.collections++;
    const sample = this.assemble(wall, interval);
    this.lastSample = sample;
    return sample;
  }

  /** Runs on wall-clock-aligned ticks until stop(); each tick's sample goes to `onSample`. */
  start(onSample: (s: Sample) => void | Promise<void>): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.wall();
    // The first tick reads every family, so the first sample is complete (a family with a longer
    // interval, such as filesystem's minute, would otherwise be missing until its own tick).
    const first = Math.min(...this.states.map((s) => alignUp(now, s.interval * 1000)));
    for (const s of this.states) s.nextDue = first;
    const loop = () => {
      if (!this.running || this.states.length === 0) return;
      const due = Math.min(...this.states.map((s) => s.nextDue));
      const delay = Math.max(0, due - this.clock.wall());
      this.timer = setTimeout(async () => {
        const dueStates = this.states.filter((s) => s.nextDue <= due);
        try {
          const sample = await this.collect(new Set(dueStates.map((s) => s.family.name)));
          if (this.running) await onSample(sample);
        } catch (err) {
          this.opts.ctx.log.error(`sample consumer failed: ${(err as Error).message}`);
        }
        this.advance(dueStates);
        loop();
      }, delay);
    };
    loop();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** After a tick: next aligned time; ticks that passed while we were late are counted, not run. */
  private advance(states: FamilyState[]) {
    const now = this.clock.wall();
    for (const s of states) {
      const step = s.interval * 1000;
      let next = alignUp(s.nextDue + 1, step);
      if (next <= now) {
        const missed = Math.floor((now - s.nextDue) / step);
        this.stats.missedTicks += missed;
        this.opts.ctx.log.warn(`${s.family.name}: ${missed} tick(s) missed (collection ran late)`);
        next = alignUp(now + 1, step);
      }
      s.nextDue = next;
    }
  }

  /** A different boot id means every stored counter belongs to another boot: no rates across it. */
  private checkBoot() {
    let id: string | undefined;
    try {
      id = readOptional(procPath(this.opts.ctx.roots, "sys/kernel/random/boot_id"))?.trim();
    } catch {
      id = undefined;
    }
    if (id && this.bootId && id !== this.bootId) {
      this.opts.ctx.log.info(
        "boot id changed: previous readings discarded, no rates this interval",
      );
      for (const s of this.states) s.prev = undefined;
    }
    if (id) this.bootId = id;
  }

  /** Reads one family; returns the rate window in seconds (null when there was no previous reading). */
  private async readFamily(s: FamilyState): Promise<number | null> {
    const t0 = performance.now();
    const mono = this.clock.mono();
    const wall = this.clock.wall();
    try {
      const data = await s.reader.read();
      const cur: Reading<PartialErrors> = { data, mono, wall };
      s.part = s.family.derive(s.prev, cur);
      s.partialErrors = data.errors ?? [];
      const dt = s.prev ? (mono - s.prev.mono) / 1000 : null;
      s.prev = cur;
      s.status = {
        name: s.family.name,
        interval: s.interval,
        success: true,
        duration: (performance.now() - t0) / 1000,
      };
      return dt;
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      // Stale data would mislead: a failed family contributes nothing until it reads again.
      s.part = {};
      s.partialErrors = [];
      if (s.status.error !== message) {
        this.opts.ctx.log.warn(`collector ${s.family.name} failed: ${message}`);
      }
      s.status = {
        name: s.family.name,
        interval: s.interval,
        success: false,
        duration: (performance.now() - t0) / 1000,
        error: message,
      };
      return null;
    }
  }

  private assemble(wall: number, interval: number | null): Sample {
    const sample = emptySample(new Date(wall).toISOString(), this.opts.host, interval);
    const errors: CollectorError[] = sample.errors;
    for (const s of this.states) {
      if (s.status.error) errors.push({ collector: s.family.name, message: s.status.error });
      for (const message of s.partialErrors) errors.push({ collector: s.family.name, message });
      if (s.part.metrics) Object.assign(sample.metrics, s.part.metrics);
      for (const key of ENTITY_KEYS) {
        const entities = s.part[key];
        if (!entities) continue;
        const target = sample[key];
        for (const name in entities) target[name] = { ...target[name], ...entities[name] };
      }
    }
    joinDerived(sample);
    return sample;
  }
}

/** The first multiple of `stepMs` at or after `t`. */
export function alignUp(t: number, stepMs: number): number {
  return Math.ceil(t / stepMs) * stepMs;
}
