/**
 * Paced garbage collection for long-running commands. With the small young generation sysmon runs
 * with (--max-semi-space-size=1), V8 lets old-space and ArrayBuffers pile up for a long while before
 * it collects on its own, and RSS climbs by megabytes. A young-generation collection (~0.1 ms) after
 * each unit of work, and a compacting full one (~10 ms, which returns heap pages to the system)
 * every `fullEvery` units or `fullEveryMs`, keep it flat. Needs `--expose-gc` (the sysmon task and
 * binary pass it); without it this does nothing.
 */
// deno-lint-ignore no-explicit-any
const gc = (globalThis as any).gc as
  | ((opts?: { type: "minor" | "major"; flavor?: "regular" | "last-resort" }) => void)
  | undefined;

export class GcPacer {
  private sinceFull = 0;
  private lastFull = performance.now();
  private scheduled = false;

  /**
   * `minor: false` leaves young-generation collections to V8: right where each unit of work leaves
   * little garbage outside the heap (a frame's strings), unlike response bodies in ArrayBuffers.
   */
  constructor(
    private readonly fullEvery: number,
    private readonly fullEveryMs: number,
    private readonly minor = true,
  ) {}

  /** Call after a unit of work (a response, a frame); collects once the caller's turn is over. */
  afterWork(): void {
    if (!gc) return;
    this.sinceFull++;
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      const now = performance.now();
      if (this.sinceFull >= this.fullEvery || now - this.lastFull >= this.fullEveryMs) {
        gc!({ type: "major", flavor: "last-resort" });
        this.lastFull = now;
        this.sinceFull = 0;
      } else if (this.minor) {
        gc!({ type: "minor" });
      }
    }, 0);
  }
}

/**
 * One compacting collection after a one-off burst of work (reading recorded history at start), so
 * its garbage does not stay resident until V8 gets round to it. Needs `--expose-gc`.
 */
export function collectOnce(): void {
  gc?.({ type: "major", flavor: "last-resort" });
}
