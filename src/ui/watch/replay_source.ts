/**
 * Recorded samples for `watch --replay`, read through the Storage interface around a cursor: a
 * window of samples before it (the charts' history) and after it (the next steps) is kept, and
 * moved when the cursor leaves it, so memory stays bounded whatever the length of the recording.
 */
import type { Sample } from "../../core/model.ts";
import type { Storage } from "../../store/types.ts";

/** Samples kept before the cursor (chart history) and read ahead of it. */
export const KEEP_BEFORE = 400;
export const READ_AHEAD = 400;
/** How far back a reload starts reading to find the history (longer gaps give shorter charts). */
const LOOKBACK_MS = 2 * 3600_000;

export interface ReplayRange {
  /** Epoch ms of the first and last stored sample (raw tier). */
  first: number;
  last: number;
}

export class ReplaySource {
  private window: Sample[] = [];
  private times: number[] = [];
  private index = 0;

  private constructor(private readonly store: Storage, private range: ReplayRange) {}

  /** A source positioned at `start` (clamped to the recording), or undefined when nothing is recorded. */
  static async open(store: Storage, start?: number): Promise<ReplaySource | undefined> {
    const range = await recordedRange(store);
    if (!range) return undefined;
    const source = new ReplaySource(store, range);
    await source.seek(start ?? range.first);
    if (source.window.length === 0) return undefined;
    return source;
  }

  /** The sample at the cursor. */
  current(): Sample {
    return this.window[this.index];
  }

  /** Epoch ms of the sample at the cursor. */
  time(): number {
    return this.times[this.index];
  }

  /** Up to `max` samples ending at the cursor, oldest first (what the charts draw). */
  history(max: number): Sample[] {
    return this.window.slice(Math.max(0, this.index - max + 1), this.index + 1);
  }

  /** True when the cursor is on the last sample recorded (as of the last read). */
  atEnd(): boolean {
    return this.time() >= this.range.last;
  }

  atStart(): boolean {
    return this.time() <= this.range.first;
  }

  /** One sample back or forward; false at either end of the recording. */
  async step(by: 1 | -1): Promise<boolean> {
    const target = this.index + by;
    if (target >= 0 && target < this.window.length) {
      this.index = target;
      return true;
    }
    const from = this.time();
    if (by < 0) {
      if (this.atStart()) return false;
      await this.seek(from - 1);
      return this.time() < from;
    }
    await this.refreshRange();
    if (this.atEnd()) return false;
    await this.seek(from + 1, "after");
    return this.time() > from;
  }

  /** Moves to the last sample at or before `t` (the first one when `t` is earlier). */
  async seek(t: number, bias: "before" | "after" = "before"): Promise<void> {
    const clamped = Math.min(Math.max(t, this.range.first), this.range.last);
    if (this.covers(clamped)) {
      this.index = this.position(clamped, bias);
      return;
    }
    await this.load(clamped);
    this.index = this.position(clamped, bias);
  }

  /** Playback: advance the cursor to time `t` (later samples recorded meanwhile are found). */
  async advanceTo(t: number): Promise<void> {
    if (t > this.range.last) await this.refreshRange();
    await this.seek(t);
  }

  /** The recording's extent, re-read (a `record` running meanwhile extends it). */
  async refreshRange(): Promise<void> {
    const range = await recordedRange(this.store);
    if (range) this.range = range;
  }

  getRange(): ReplayRange {
    return { ...this.range };
  }

  /** Whether the loaded window can answer for `t` without reading (with history before it). */
  private covers(t: number): boolean {
    const n = this.times.length;
    if (n === 0) return false;
    const lastLoaded = this.times[n - 1];
    const complete = lastLoaded >= this.range.last || t < lastLoaded;
    return t >= this.times[0] && complete;
  }

  /** Index of the last sample ≤ t ("before"), or of the first ≥ t ("after"). */
  private position(t: number, bias: "before" | "after"): number {
    let lo = 0;
    let hi = this.times.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid] <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (bias === "after" && this.times[found] < t && found + 1 < this.times.length) {
      return found + 1;
    }
    return found;
  }

  /** Reads the window around `t`: up to KEEP_BEFORE samples at or before it, READ_AHEAD after. */
  private async load(t: number): Promise<void> {
    let lookback = LOOKBACK_MS;
    let read = await this.read(t, lookback);
    // A gap longer than the lookback: look further back until a sample or the recording's start.
    while (read.before.length === 0 && t - lookback > this.range.first) {
      lookback *= 4;
      read = await this.read(t, lookback);
    }
    this.window = [...read.before, ...read.after];
    this.times = this.window.map((s) => Date.parse(s.timestamp));
  }

  private async read(t: number, lookback: number): Promise<{ before: Sample[]; after: Sample[] }> {
    const before: Sample[] = [];
    const after: Sample[] = [];
    for await (const s of this.store.samples(t - lookback, this.range.last + 1)) {
      const at = Date.parse(s.timestamp);
      if (!Number.isFinite(at)) continue;
      if (at <= t) {
        before.push(s);
        if (before.length > KEEP_BEFORE) before.shift();
      } else {
        after.push(s);
        if (after.length >= READ_AHEAD) break;
      }
    }
    return { before, after };
  }
}

/** The raw tier's first and last sample times, or undefined when it holds none. */
async function recordedRange(store: Storage): Promise<ReplayRange | undefined> {
  const raw = (await store.info()).tiers.find((t) => t.name === "raw");
  if (raw?.from === undefined || raw.to === undefined) return undefined;
  return { first: raw.from, last: raw.to };
}
