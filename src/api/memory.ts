/**
 * Keeps a long-running server's memory flat. Response bodies (gzip input and output, range answers)
 * live in ArrayBuffers outside V8's heap; V8 frees them only when it collects. So: a young-generation
 * collection after every large answer — measured: collecting only once per megabyte of bodies let
 * RSS climb by 30 MB over 3000 scrapes — and a compacting full one after 500 of them or five minutes
 * (after 64 MiB of bodies instead, RSS settled 10 MB higher). See ../core/gc_pacer.ts.
 */
import { GcPacer } from "../core/gc_pacer.ts";

const pacer = new GcPacer(500, 5 * 60_000);

/** Call after answering with a large body (a scrape, a range answer). */
export function afterLargeResponse(): void {
  pacer.afterWork();
}
