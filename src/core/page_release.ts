/**
 * Gives back the pages of the `deno` executable that start-up touched and steady state does not use.
 *
 * Starting the runtime, loading and type-stripping sysmon's modules and resolving its npm packages
 * fault in ≈ 40 MB of the executable (measured: RssFile 38–43 MB); a collection loop or a scrape
 * uses about half of that. Those pages are file-backed and clean, so dropping them from this
 * process's page tables (madvise MADV_DONTNEED) loses nothing: they stay in the page cache, shared
 * with any other `deno` process, and the next use faults them back in without reading the disk.
 * Only mappings that hold no private copy are touched (not writable, smaps `Anonymous: 0 kB`):
 * dropping a private copy, such as relocated data, would replace it with the file's bytes.
 * Without FFI (no --allow-ffi, no libc) nothing is released and nothing else changes.
 */
import type { Logger } from "../log.ts";
import { LibcUnavailableError, openLibc } from "./libc.ts";

/** A mapping whose resident pages may be dropped. */
export interface PageRange {
  start: bigint;
  end: bigint;
  residentKiB: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/;

/** "Rss:   1234 kB" → 1234. */
function kib(line: string): number {
  return Number.parseInt(line.slice(line.indexOf(":") + 1), 10);
}

/**
 * The mappings of `exe` in /proc/self/smaps text that can be dropped: not writable, no anonymous
 * (copied-on-write) pages, something resident. A replaced executable shows as "PATH (deleted)".
 */
export function releasableRanges(smaps: string, exe: string): PageRange[] {
  const ranges: PageRange[] = [];
  let current: { start: string; end: string; rss?: number; anonymous?: number } | null = null;
  const finish = () => {
    if (current && current.anonymous === 0 && current.rss !== undefined && current.rss > 0) {
      ranges.push({
        start: BigInt("0x" + current.start),
        end: BigInt("0x" + current.end),
        residentKiB: current.rss,
      });
    }
  };
  for (const line of smaps.split("\n")) {
    const head = HEADER.exec(line);
    if (head) {
      finish();
      const [, start, end, perms, path] = head;
      const ours = path === exe || path === `${exe} (deleted)`;
      current = ours && perms[1] !== "w" ? { start, end } : null;
    } else if (current) {
      if (line.startsWith("Rss:")) current.rss = kib(line);
      else if (line.startsWith("Anonymous:")) current.anonymous = kib(line);
    }
  }
  finish();
  return ranges;
}

const SYMBOLS = {
  madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
} as const;
/** <sys/mman.h>; the same value on x86_64 and aarch64. */
const MADV_DONTNEED = 4;

let libc: Deno.DynamicLibrary<typeof SYMBOLS> | LibcUnavailableError | undefined;

export interface ReleaseOutcome {
  /** Resident KiB of the mappings released (pages the process had mapped just before). */
  releasedKiB: number;
  ranges: number;
  /** Mappings madvise refused (locked memory, for one). */
  refused: number;
  /** The process's file-backed resident KiB (RssFile) before and after the pass. */
  rssFileBeforeKiB: number;
  rssFileAfterKiB: number;
}

function rssFileKiB(): number {
  const match = /^RssFile:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"));
  return match ? Number(match[1]) : NaN;
}

/**
 * Drops the releasable pages of the running executable once. Synchronous on purpose: reading this
 * process's own smaps cannot hang, takes a few milliseconds, and a release that finishes before
 * the next request or tick is what start-up wants. Throws LibcUnavailableError when FFI cannot be
 * had, and the read error when /proc/self/smaps cannot be read.
 */
export function releaseExecutablePages(): ReleaseOutcome {
  libc ??= openLibc(SYMBOLS, "page release", "giving back start-up memory");
  if (libc instanceof LibcUnavailableError) throw libc;
  const rssFileBeforeKiB = rssFileKiB();
  const ranges = releasableRanges(Deno.readTextFileSync("/proc/self/smaps"), Deno.execPath());
  let releasedKiB = 0;
  let released = 0;
  let refused = 0;
  for (const r of ranges) {
    if (libc.symbols.madvise(r.start, r.end - r.start, MADV_DONTNEED) === 0) {
      releasedKiB += r.residentKiB;
      released++;
    } else {
      refused++;
    }
  }
  return {
    releasedKiB,
    ranges: released,
    refused,
    rssFileBeforeKiB,
    rssFileAfterKiB: rssFileKiB(),
  };
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

/** One pass, reported at debug level; never throws. False when FFI cannot be had. */
function releaseAndLog(log: Logger): boolean {
  try {
    const o = releaseExecutablePages();
    log.debug(
      `page release: ${mib(o.releasedKiB)} MiB of the executable's pages given back ` +
        `(${o.ranges} mappings${o.refused ? `, ${o.refused} refused` : ""}; ` +
        `RssFile ${mib(o.rssFileBeforeKiB)} → ${mib(o.rssFileAfterKiB)} MiB)`,
    );
  } catch (err) {
    if (err instanceof LibcUnavailableError) {
      log.debug(err.message);
      return false;
    }
    log.debug(`page release: ${(err as Error).message}`);
  }
  return true;
}

/**
 * One pass as soon as a long-running command's modules are loaded, before its own start-up work
 * (the first sample, the terminal, the listener): start-up's peak RSS is then module loading's or
 * that work's, not both together (watch: 62.5 → 57.4–58.8 MB).
 */
export function releaseLoadingPages(log: Logger): void {
  if (Deno.build.os === "linux") releaseAndLog(log);
}

/**
 * For long-running commands, once start-up is over: releases now, a minute later (after the first
 * samples' one-off work) and then every `everyMs` (pages of rare work: a day's compression, a range
 * query). A pass takes 4–7 ms; the working set faults back in within a tick. Returns a function that
 * stops it. The timers never keep the process alive.
 */
export function keepExecutablePagesReleased(log: Logger, everyMs = 10 * 60_000): () => void {
  if (Deno.build.os !== "linux") return () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pass = (next: number) => {
    if (!releaseAndLog(log)) return;
    Deno.unrefTimer(timer = setTimeout(() => pass(everyMs), next));
  };
  pass(60_000);
  return () => clearTimeout(timer);
}
