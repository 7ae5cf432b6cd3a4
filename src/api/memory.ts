/**
 * Keeps a long-running server's memory flat. Response bodies (gzip input and output, range answers)
 * live in ArrayBuffers outside V8's heap; V8 frees them only when it collects, and with the small
 * young generation sysmon runs with it lets tens of megabytes of them pile up first (together with
 * the native buffers of the response objects that hold them). So: a young-generation collection
 * (~0.1 ms) after every large answer — measured: collecting only once per megabyte of bodies let
 * RSS climb by 30 MB over 3000 scrapes — and a compacting full one (~10 ms, returns heap pages to
 * the system) after 500 of them or five minutes (after 64 MiB of bodies instead, RSS settled 10 MB
 * higher).
 * Both need `--expose-gc` (the sysmon task and binary pass it); without it this does nothing.
 */
// deno-lint-ignore no-explicit-any
const gc = (globalThis as any).gc as
  | ((opts?: { type: "minor" | "major"; flavor?: "regular" | "last-resort" }) => void)
  | undefined;

const FULL_EVERY_RESPONSES = 500;
const FULL_EVERY_MS = 5 * 60_000;

let sinceFull = 0;
let lastFull = performance.now();
let scheduled = false;

/** Call after answering with a large body (a scrape, a range answer). */
export function afterLargeResponse(): void {
  if (!gc) return;
  sinceFull++;
  if (scheduled) return;
  scheduled = true;
  // After the response is handed over, so the client is not kept waiting.
  setTimeout(() => {
    scheduled = false;
    const now = performance.now();
    if (sinceFull >= FULL_EVERY_RESPONSES || now - lastFull >= FULL_EVERY_MS) {
      gc({ type: "major", flavor: "last-resort" });
      lastFull = now;
      sinceFull = 0;
    } else {
      gc({ type: "minor" });
    }
  }, 0);
}
