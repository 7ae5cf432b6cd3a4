/**
 * Helpers of the fault tests of `sysmon record` (tests/record_fault_test.ts): a seeded PRNG, a
 * recorder child process whose log can be awaited line by line, a whole-directory readability check
 * that does not use the store's own reader, gap detection, and a small tmpfs for full-disk tests.
 */
import { gunzipSync } from "node:zlib";
import { mulberry32 } from "./synth.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Seeded randomness (mulberry32) to spread kill moments reproducibly. */
export const seededRandom = mulberry32;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One log line of the recorder, with the time its own logger stamped on it. */
export interface LogLine {
  time: number;
  text: string;
}

/** A running `sysmon record` whose stderr is collected as it comes. */
export class Recorder {
  readonly spawnedAt = Date.now();
  private readonly child: Deno.ChildProcess;
  private text = "";
  private readonly drained: Promise<void>;

  constructor(args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "record", ...args],
      env: { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.drained = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) this.text += dec.decode(chunk, { stream: true });
    })();
  }

  get stderr(): string {
    return this.text;
  }

  lines(): LogLine[] {
    return this.text.split("\n").filter((l) => l !== "").map((text) => ({
      time: Date.parse(text.slice(0, 24)),
      text,
    }));
  }

  /** Waits until a log line matches; throws with the log so far after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<LogLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines().find((l) => re.test(l.text));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no log line matching ${re} in:\n${this.text}`);
      await sleep(20);
    }
  }

  /** Sends `signal` and waits for the exit; returns the exit code and when the signal was sent. */
  async stop(
    signal: Deno.Signal,
  ): Promise<{ code: number; signal: Deno.Signal | null; at: number }> {
    const at = Date.now();
    try {
      this.child.kill(signal);
    } catch { /* already exited */ }
    const status = await this.child.status;
    await this.drained;
    return { code: status.code, signal: status.signal, at };
  }
}

/** What a look at every file of the raw, 1m and 1h tiers found, without the store's reader. */
export interface DirCheck {
  files: string[];
  /** Plain files whose last line has no "\n" (a write cut by the kill), with the torn byte count. */
  tornTails: { path: string; bytes: number }[];
  /** Complete lines that are not JSON (or, in .gz files, a stream that does not decompress). */
  unreadable: { path: string; problem: string }[];
  /** `X.gz.tmp` leftovers, and plain files that also exist compressed. */
  leftovers: string[];
  /** Data lines (after the header) of raw/. */
  raw: string[];
  /**
   * Data lines of the rollup tiers per directory: "1m" and "1h", or "1m/<group>"… when rollups are
   * kept in one subdirectory per series group.
   */
  rollups: Map<string, string[]>;
}

const TIER_DIRS = ["raw", "1m", "1h"] as const;

/** Reads every file under raw/, 1m/ and 1h/ (subdirectories included) and notes what is wrong. */
export function checkDataDir(dir: string): DirCheck {
  const out: DirCheck = {
    files: [],
    tornTails: [],
    unreadable: [],
    leftovers: [],
    raw: [],
    rollups: new Map(),
  };
  for (const tier of TIER_DIRS) checkTree(dir, tier, out);
  return out;
}

function checkTree(root: string, rel: string, out: DirCheck): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${root}/${rel}`)].sort((a, b) => a.name < b.name ? -1 : 1);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  const names = entries.map((e) => e.name);
  for (const entry of entries) {
    const path = `${rel}/${entry.name}`;
    if (entry.isDirectory) {
      checkTree(root, path, out);
      continue;
    }
    out.files.push(path);
    if (entry.name.endsWith(".tmp") || names.includes(`${entry.name}.gz`)) {
      out.leftovers.push(path);
      continue;
    }
    const lines = fileLines(root, path, out);
    if (lines === undefined) continue;
    if (rel === "raw") out.raw.push(...lines);
    else out.rollups.set(rel, [...out.rollups.get(rel) ?? [], ...lines]);
  }
}

/** The data lines of one file, checking that each is JSON; undefined when it cannot be read. */
function fileLines(root: string, path: string, out: DirCheck): string[] | undefined {
  let bytes = Deno.readFileSync(`${root}/${path}`);
  const gzip = path.endsWith(".gz");
  if (gzip) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes));
    } catch (err) {
      out.unreadable.push({ path, problem: `gunzip: ${(err as Error).message}` });
      return undefined;
    }
  }
  const lines = new TextDecoder().decode(bytes).split("\n");
  const tail = lines.pop()!;
  if (tail !== "") {
    // A compressed file was complete when it was compressed: a torn tail there is damage.
    if (gzip) out.unreadable.push({ path, problem: "torn last line in .gz" });
    else out.tornTails.push({ path, bytes: new TextEncoder().encode(tail).length });
  }
  lines.forEach((line, i) => {
    try {
      JSON.parse(line);
    } catch {
      out.unreadable.push({ path, problem: `line ${i + 1} is not JSON: ${line.slice(0, 80)}` });
    }
  });
  if (lines.length > 0 && !lines[0].startsWith('{"sysmon_store":1')) {
    out.unreadable.push({ path, problem: "no sysmon header line" });
  }
  return lines.slice(1);
}

/** Epoch-ms timestamps of raw JSON Lines records. */
export function sampleTimes(rawLines: string[]): number[] {
  return rawLines.map((l) => Date.parse(JSON.parse(l).timestamp));
}

/** Pairs of consecutive times further apart than 1.5 intervals, with the ticks missing between them. */
export function findGaps(
  times: number[],
  intervalMs: number,
): { after: number; before: number; missing: number }[] {
  const gaps = [];
  for (let i = 1; i < times.length; i++) {
    const dt = times[i] - times[i - 1];
    if (dt > 1.5 * intervalMs) {
      gaps.push({
        after: times[i - 1],
        before: times[i],
        missing: Math.round(dt / intervalMs) - 1,
      });
    }
  }
  return gaps;
}

/** Ticks the sampler reported as missed (a collection that ran late), from its log lines. */
export function missedTickLines(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => /tick\(s\) missed/.test(l.text));
}

/**
 * Mounts a tmpfs of `bytes` on a new temporary directory, runs `fn` with its path, and always
 * unmounts and removes it, even when `fn` throws.
 */
export async function withTmpfs<T>(bytes: number, fn: (mnt: string) => Promise<T>): Promise<T> {
  const mnt = await Deno.makeTempDir({ prefix: "sysmon-fault-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", mnt],
    stderr: "piped",
  }).output();
  if (!mount.success) {
    await Deno.remove(mnt);
    throw new Error(`mount tmpfs failed: ${new TextDecoder().decode(mount.stderr)}`);
  }
  try {
    return await fn(mnt);
  } finally {
    const umount = await new Deno.Command("umount", { args: [mnt], stderr: "piped" }).output();
    if (!umount.success) {
      // Busy: a recorder still running would keep it; lazy unmount never leaves it mounted.
      await new Deno.Command("umount", { args: ["-l", mnt] }).output();
    }
    await Deno.remove(mnt);
  }
}

/**
 * Fills the file system holding `path` until writes fail, then gives back `leaveBytes`: the file
 * system is left with about that much free space. Returns the filler's size.
 */
export function fillDisk(path: string, leaveBytes: number): number {
  const chunk = new Uint8Array(4096).fill(0x78);
  let size = 0;
  using file = Deno.openSync(path, { write: true, createNew: true });
  for (;;) {
    try {
      const n = file.writeSync(chunk);
      size += n;
      if (n < chunk.length) break;
    } catch (err) {
      if (!/os error 28/.test(String(err))) throw err; // ENOSPC: full, as wanted
      break;
    }
  }
  const keep = Math.max(0, size - leaveBytes);
  file.truncateSync(keep);
  return keep;
}

/** Writes a YAML config file next to the data and returns its path. */
export function writeConfig(dir: string, name: string, yaml: string): string {
  const path = `${dir}/${name}`;
  Deno.writeTextFileSync(path, yaml);
  return path;
}
