/**
 * Keeps a long-running server's memory flat. Response bodies (gzip input and output, range answers)
 * live in ArrayBuffers outside V8's heap; V8 frees them only when it collects, and with the small
 * young generation sysmon runs with it waits for tens of megabytes of them. A young-generation
 * collection after a large answer (~0.1 ms) frees them at once; a full one at most every few minutes
 * returns what was promoted
 * (~8 ms, so at most once per 200 large answers or five minutes). Both need `--expose-gc` (the sysmon task and binary pass it); without
 * it this does nothing.
 */
// deno-lint-ignore no-explicit-any
const gc = (globalThis as any).gc as
  | ((opts?: { type: "minor" | "major"; flavor?: "regular" | "last-resort" }) => void)
  | undefined;

/** A full collection after this many large answers, or this long after the last one. */
const FULL_EVERY_RESPONSES = 200;
const FULL_EVERY_MS = 5 * 60_000;
let lastFull = performance.now();
let sinceFull = 0;

export function afterLargeResponse(): void {
  if (!gc) return;
  sinceFull++;
  // After the response is handed over, so the client is not kept waiting.
  setTimeout(() => {
    const now = performance.now();
    if (sinceFull >= FULL_EVERY_RESPONSES || (sinceFull > 0 && now - lastFull >= FULL_EVERY_MS)) {
      gc({ type: "major", flavor: "last-resort" });
      lastFull = now;
      sinceFull = 0;
    } else {
      gc({ type: "minor" });
    }
  }, 0);
}

export const gcExposed = (): boolean => gc !== undefined;
