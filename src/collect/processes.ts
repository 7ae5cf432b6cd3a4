/**
 * processes: the top processes by CPU or by memory for `watch` (issue 6), read from /proc/[pid]/stat
 * (proc.rst §1.1, table 1-4), with /proc/[pid]/status (table 1-2) and /proc/[pid]/cmdline read only
 * for the rows shown. This is not a sampler family: only watch uses it, and it keeps its own state.
 *
 * Units and scales:
 * - CPU % is per core, as top (Irix mode) and htop show it: Δ(utime + stime) / (USER_HZ × Δt) × 100,
 *   so one busy thread is 100 % and a process can exceed 100 % on several cores. A call less than
 *   200 ms after the last measured one keeps the last figures (one tick over a few ms would read as
 *   hundreds of %), so an extra call, e.g. on a change of sort key, does not spoil them.
 * - RSS is stat field 24 (pages) × the page size, 4096 by default: right on x86-64 and most arm64
 *   kernels, not on 16K/64K-page ones (Deno has no sysconf; the caller may pass the real size).
 * - The user is the effective uid (the second number of status's Uid line), as top and ps show it.
 *   The owner of /proc/[pid] would be one read cheaper, but the kernel gives non-dumpable processes
 *   (ssh-agent, setuid programs) to root there; for the ≤ N rows shown the difference is noise.
 *
 * Cost (watch's CPU budget is 1 % of a core at a 1 s interval, for the whole process): the scan reads
 * one file per pid, synchronously, into one reused buffer: open, one read, close. Measured on the
 * development VM (benchmarks/processes.bench.ts): 6–10 µs a file, against about 40 µs for
 * `await Deno.readTextFile` (each async op hops through a thread pool) and a third more for
 * Deno.readTextFileSync (statx, lseek, then reads growing from 32 bytes). stat and status do not
 * wait on the target's memory: the kernel takes no mmap lock for them. cmdline does (it is read
 * from the process's memory under that lock), so a process stuck with the lock held would freeze a
 * synchronous reader, the classic "ps hangs": it is read asynchronously, for the rows shown only,
 * under a timeout, and a read that did not return is not issued again until it does.
 */
import { USER_HZ } from "./cpu.ts";
import { ReadError } from "./procfs.ts";

/** One row of the process view (the renderer's structural type). */
export interface ProcessRow {
  pid: number;
  /** comm: the kernel's short name (15 bytes for user processes), control characters as "?". */
  name: string;
  /** The effective user's name from the passwd file, or the numeric uid when it has none. */
  user: string;
  /** One letter: R running, S sleeping, D disk sleep, Z zombie, T stopped, t traced, I idle… */
  state: string;
  /** Per-core CPU % since the previous call; null on the first call and for new or reused pids. */
  cpuPercent: number | null;
  rssBytes: number;
  /** 100 × rssBytes / MemTotal; null when /proc/meminfo cannot be read. */
  memPercent: number | null;
  threads: number;
  /** The command line joined with spaces, or "[comm]" when it is empty (kernel threads, zombies). */
  command: string;
}

/** The fields of /proc/[pid]/stat the view needs; the comments give proc.rst's 1-based numbers. */
export interface ProcStat {
  /** 1 */
  pid: number;
  /** 2, without its parentheses; may itself contain spaces and parentheses. */
  comm: string;
  /** 3 */
  state: string;
  /** 14, USER_HZ ticks. */
  utimeTicks: number;
  /** 15, USER_HZ ticks. */
  stimeTicks: number;
  /** 20 */
  threads: number;
  /** 22, USER_HZ ticks after boot: with the pid, what identifies a process. */
  starttimeTicks: number;
  /** 24, pages. */
  rssPages: number;
}

export interface ProcessReaderOptions {
  /** --procfs, e.g. "/proc". */
  procRoot: string;
  /** Bytes per page; 4096 by default (see the module comment). */
  pageSize?: number;
  /** Ticks per second of the stat times; USER_HZ (100) by default. */
  clockTicks?: number;
  /** The passwd file for uid → name, read once; "/etc/passwd" by default (pass it for --rootfs). */
  passwdPath?: string;
  /** Calls a process's user and command line are reused before being read again (DETAILS_ROUNDS). */
  detailsRounds?: number;
  /** How long to wait for one /proc/[pid]/cmdline before showing "[comm]"; 100 ms by default. */
  cmdlineTimeoutMs?: number;
}

/** What the last scan met, for a status line or a self metric. */
export interface ScanCounts {
  /** Processes read and parsed. */
  processes: number;
  /** Processes listed by readdir that exited before their files were read (skipped). */
  vanished: number;
  /** Processes whose stat failed to read for another reason, e.g. EACCES (skipped). */
  unreadable: number;
  /** Processes whose stat did not parse (skipped). */
  malformed: number;
}

export const DEFAULT_PAGE_SIZE = 4096;
const DEFAULT_PASSWD = "/etc/passwd";
const DEFAULT_CMDLINE_TIMEOUT_MS = 100;
/** Longer command lines (some JVMs print tens of kB) are cut: no screen shows more. */
const MAX_COMMAND_BYTES = 4096;

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

/** Scan position shared by the helpers below, so that they return a number without allocating. */
let at = 0;

/** The unsigned decimal at `at` (advancing past it), or -1 when there is no digit there. */
function countAt(text: string): number {
  let c = text.charCodeAt(at);
  if (!(c >= 48 && c <= 57)) return -1;
  let value = 0;
  do {
    value = value * 10 + (c - 48);
    c = text.charCodeAt(++at);
  } while (c >= 48 && c <= 57);
  return value;
}

/** A count followed by one space (the kernel's separator), or -1. */
function fieldAt(text: string): number {
  const v = countAt(text);
  if (v < 0 || text.charCodeAt(at) !== 32) return -1;
  at++;
  return v;
}

/** Steps over `n` space-terminated fields of any content (some are signed); false at the end. */
function skipFields(text: string, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const sp = text.indexOf(" ", at);
    if (sp < 0) return false;
    at = sp + 1;
  }
  return true;
}

/**
 * Parses /proc/[pid]/stat into `out`, reusing `out.comm` when the name is unchanged; false when
 * malformed. comm is found between the first "(" and the LAST ")": it may hold spaces and ")" but
 * no field after it can, so counting from the last ")" never shifts the fields.
 */
function parseStatInto(text: string, out: ProcStat): boolean {
  at = 0;
  const pid = countAt(text);
  if (pid < 0 || text.charCodeAt(at) !== 32 || text.charCodeAt(at + 1) !== 40) return false;
  const open = at + 1;
  const close = text.lastIndexOf(")");
  if (close <= open) return false;
  // Field 3, the state: one letter between single spaces.
  const stateCode = text.charCodeAt(close + 2);
  if (
    text.charCodeAt(close + 1) !== 32 || text.charCodeAt(close + 3) !== 32 ||
    !((stateCode >= 65 && stateCode <= 90) || (stateCode >= 97 && stateCode <= 122))
  ) {
    return false;
  }
  at = close + 4; // field 4
  if (!skipFields(text, 10)) return false; // 4..13: ppid … cmajflt
  const utime = fieldAt(text); // 14
  const stime = fieldAt(text); // 15
  if (utime < 0 || stime < 0 || !skipFields(text, 4)) return false; // 16..19: cutime … nice
  const threads = fieldAt(text); // 20
  if (threads < 0 || !skipFields(text, 1)) return false; // 21: itrealvalue
  const starttime = fieldAt(text); // 22
  if (starttime < 0 || !skipFields(text, 1)) return false; // 23: vsize
  const rss = countAt(text); // 24, the last field this needs: a space, a newline or the end follows
  const after = text.charCodeAt(at);
  if (rss < 0 || !(after === 32 || after === 10 || Number.isNaN(after))) return false;

  const commLength = close - open - 1;
  if (out.comm.length !== commLength || !text.startsWith(out.comm, open + 1)) {
    out.comm = text.slice(open + 1, close);
  }
  out.pid = pid;
  out.state = text[close + 2];
  out.utimeTicks = utime;
  out.stimeTicks = stime;
  out.threads = threads;
  out.starttimeTicks = starttime;
  out.rssPages = rss;
  return true;
}

const emptyStat = (): ProcStat => ({
  pid: 0,
  comm: "",
  state: "",
  utimeTicks: 0,
  stimeTicks: 0,
  threads: 0,
  starttimeTicks: 0,
  rssPages: 0,
});

/** Parses one /proc/[pid]/stat line; null when it is malformed. */
export function parseProcStat(text: string): ProcStat | null {
  const out = emptyStat();
  return parseStatInto(text, out) ? out : null;
}

/** The effective uid: the second number of status's "Uid:" line (real, effective, saved, fs). */
export function parseStatusEuid(text: string): number | null {
  const m = /^Uid:[ \t]+\d+[ \t]+(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** MemTotal of /proc/meminfo in bytes; null when the line is missing or malformed. */
export function parseMemTotalBytes(text: string): number | null {
  const m = /^MemTotal:[ \t]*(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** uid → name from passwd(5) lines "name:password:uid:gid:…"; a uid's first entry wins (getpwuid). */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split("\n")) {
    const f = line.split(":");
    // NIS "+"/"-" entries and comments name no local user.
    if (f.length < 4 || f[0] === "" || /^[+\-#]/.test(f[0]) || !/^\d+$/.test(f[2])) continue;
    const uid = Number(f[2]);
    if (!users.has(uid)) users.set(uid, f[0]);
  }
  return users;
}

// deno-lint-ignore no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Replaces control characters (C0, DEL, C1) with "?", as ps does: a process chooses its own name and
 * arguments, and an escape sequence in them must not reach the terminal.
 */
export function printable(s: string): string {
  return s.replace(CONTROL_CHARACTERS, "?");
}

/**
 * The command shown for a process: cmdline's NUL-separated arguments joined with spaces, or "[comm]"
 * (ps' notation) when it is empty — kernel threads and zombies have none.
 */
export function commandLine(cmdline: string, comm: string): string {
  let end = cmdline.length;
  while (end > 0 && cmdline.charCodeAt(end - 1) === 0) end--;
  if (end === 0) return `[${printable(comm)}]`;
  return printable(cmdline.slice(0, end).replaceAll("\0", " "));
}

/** True for the errors of a process that exited: ENOENT on open, ESRCH on read of an open file. */
export function isGoneError(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound ||
    (err instanceof Error && /\(os error 3\)|\bESRCH\b/.test(err.message));
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Calls closer than this to an entry's last measurement keep its CPU %. */
const MIN_CPU_INTERVAL_MS = 200;

/** A process as last seen, updated in place each round (no allocation for a known pid). */
interface Entry extends ProcStat {
  /** utime + stime. */
  ticks: number;
  /** ticks and the clock (ms) at the last CPU % measurement, or when first seen. */
  baseTicks: number;
  baseMs: number;
  cpuPercent: number | null;
  /** The round it was last read in; entries not read in a round are dropped at its end. */
  round: number;
  /**
   * User and command as last read, and the round they were read in: kept for a few rounds, since
   * reading them is most of a scan's cost and they rarely change (a new process under a reused
   * pid is a new entry, so it never inherits them).
   */
  user?: string;
  command?: string;
  detailsRound?: number;
}

/** Rounds a process's user and command line are reused before being read again. */
export const DETAILS_ROUNDS = 10;

const byCpu = (a: Entry, b: Entry) =>
  (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || b.ticks - a.ticks || a.pid - b.pid;
const byMemory = (a: Entry, b: Entry) => b.rssPages - a.rssPages || a.pid - b.pid;

/** Resolves to `fallback` after `ms` unless `p` (which must not reject) settles first. */
function withTimeout<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

export class ProcessReader {
  readonly #procRoot: string;
  readonly #pageSize: number;
  readonly #clockTicks: number;
  readonly #passwdPath: string;
  readonly #cmdlineTimeoutMs: number;
  readonly #detailsRounds: number;
  readonly #entries = new Map<number, Entry>();
  /** The entries of the current round, sorted in place. */
  readonly #order: Entry[] = [];
  readonly #scratch = emptyStat();
  readonly #decoder = new TextDecoder();
  #buffer = new Uint8Array(4096);
  #round = 0;
  #users: Map<number, string> | undefined;
  /** cmdline reads that outlived their timeout, by pid: not issued again until they settle. */
  readonly #stuckCmdlines = new Map<number, Promise<unknown>>();
  #counts: ScanCounts = { processes: 0, vanished: 0, unreadable: 0, malformed: 0 };

  constructor(opts: ProcessReaderOptions) {
    this.#procRoot = opts.procRoot.endsWith("/") ? opts.procRoot.slice(0, -1) : opts.procRoot;
    this.#pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    this.#clockTicks = opts.clockTicks ?? USER_HZ;
    this.#passwdPath = opts.passwdPath ?? DEFAULT_PASSWD;
    this.#cmdlineTimeoutMs = opts.cmdlineTimeoutMs ?? DEFAULT_CMDLINE_TIMEOUT_MS;
    this.#detailsRounds = Math.max(1, opts.detailsRounds ?? DETAILS_ROUNDS);
  }

  /** What the last call met (processes read, skipped ones by cause). */
  get lastScan(): ScanCounts {
    return { ...this.#counts };
  }

  /**
   * Reads all processes, computes CPU % since the previous call (null on the first call or for
   * new/reused pids), returns the top `limit` by `sortBy` with cmdline/user filled. memPercent uses
   * MemTotal from <procRoot>/meminfo. `nowMs` (performance.now() by default) times the interval.
   */
  async top(
    limit: number,
    sortBy: "cpu" | "memory",
    nowMs: number = performance.now(),
  ): Promise<ProcessRow[]> {
    this.#scan(nowMs);
    if (limit <= 0) return [];
    const order = this.#order;
    order.sort(sortBy === "cpu" ? byCpu : byMemory);
    const memTotal = this.#memTotalBytes();

    // Rows are complete but for the command before the await: a call overlapping this one may
    // update the entries meanwhile. A process gone since the scan gives its row to the next one.
    const shown: Entry[] = [];
    const rows: ProcessRow[] = [];
    const round = this.#round;
    for (let i = 0; i < order.length && rows.length < limit; i++) {
      const e = order[i];
      const fresh = e.detailsRound !== undefined && round - e.detailsRound < this.#detailsRounds;
      const user = fresh && e.user !== undefined ? e.user : this.#user(e.pid);
      if (user === undefined) continue;
      if (!fresh) {
        e.user = user;
        e.command = undefined;
        e.detailsRound = round;
      }
      const rssBytes = e.rssPages * this.#pageSize;
      shown.push(e);
      rows.push({
        pid: e.pid,
        name: printable(e.comm),
        user,
        state: e.state,
        cpuPercent: e.cpuPercent,
        rssBytes,
        memPercent: memTotal ? (rssBytes / memTotal) * 100 : null,
        threads: e.threads,
        command: "",
      });
    }
    const commands = await this.#commands(shown);
    for (let i = 0; i < rows.length; i++) rows[i].command = commands[i];
    return rows;
  }

  /** One pass over <procRoot>/[pid]/stat: updates the entries and fills #order with this round's. */
  #scan(nowMs: number): void {
    const round = ++this.#round;
    const counts: ScanCounts = { processes: 0, vanished: 0, unreadable: 0, malformed: 0 };
    this.#counts = counts;
    const order = this.#order;
    order.length = 0;
    const scratch = this.#scratch;
    let dir: Iterable<Deno.DirEntry>;
    try {
      dir = Deno.readDirSync(this.#procRoot);
    } catch (err) {
      throw readError(this.#procRoot, err);
    }
    for (const d of dir) {
      const c = d.name.charCodeAt(0);
      if (!(c >= 49 && c <= 57)) continue; // pids are decimal, never 0 or 0-padded
      const pid = Number(d.name);
      let e = this.#entries.get(pid);
      scratch.comm = e?.comm ?? ""; // an unchanged name is then kept, not sliced again
      let text: string;
      try {
        text = this.#readSync(`${this.#procRoot}/${d.name}/stat`);
      } catch (err) {
        if (isGoneError(err)) counts.vanished++;
        else counts.unreadable++;
        continue;
      }
      if (!parseStatInto(text, scratch) || scratch.pid !== pid) {
        counts.malformed++;
        continue;
      }
      counts.processes++;
      const ticks = scratch.utimeTicks + scratch.stimeTicks;
      if (e === undefined || e.starttimeTicks !== scratch.starttimeTicks) {
        // A new process, or a new one under a reused pid: its ticks have no predecessor.
        e = { ...scratch, ticks, baseTicks: ticks, baseMs: nowMs, cpuPercent: null, round };
        this.#entries.set(e.pid, e);
      } else {
        // The entry was read last round too (one missed is dropped below), so its base is recent.
        const elapsedMs = nowMs - e.baseMs;
        if (elapsedMs >= MIN_CPU_INTERVAL_MS) {
          const delta = ticks - e.baseTicks;
          e.cpuPercent = delta >= 0 ? (delta / (this.#clockTicks * elapsedMs / 1000)) * 100 : null;
          e.baseTicks = ticks;
          e.baseMs = nowMs;
        }
        e.comm = scratch.comm;
        e.state = scratch.state;
        e.utimeTicks = scratch.utimeTicks;
        e.stimeTicks = scratch.stimeTicks;
        e.threads = scratch.threads;
        e.rssPages = scratch.rssPages;
        e.ticks = ticks;
        e.round = round;
      }
      order.push(e);
    }
    for (const [pid, e] of this.#entries) if (e.round !== round) this.#entries.delete(pid);
  }

  /** The effective user's name; undefined when the process has exited. */
  #user(pid: number): string | undefined {
    let euid: number | null;
    try {
      euid = parseStatusEuid(this.#readSync(`${this.#procRoot}/${pid}/status`));
    } catch (err) {
      if (!isGoneError(err)) return "?";
      this.#counts.vanished++;
      return undefined;
    }
    if (euid === null) return "?";
    this.#users ??= this.#readPasswd();
    return this.#users.get(euid) ?? String(euid);
  }

  #readPasswd(): Map<number, string> {
    try {
      return parsePasswd(Deno.readTextFileSync(this.#passwdPath));
    } catch {
      return new Map(); // no passwd file (a scratch container): numeric uids
    }
  }

  /**
   * The command lines of the rows shown, read concurrently under one timeout: "[comm]" when empty,
   * unreadable or not in time. A read that timed out is not issued again for that pid until it
   * settles, so a process stuck with its mmap lock held costs one blocked read, not one a second.
   */
  async #commands(rows: Entry[]): Promise<string[]> {
    const commands = rows.map((e) => e.command ?? `[${printable(e.comm)}]`);
    const settled = rows.map(() => false);
    const reads = rows.map((e, i) => {
      if (e.command !== undefined || this.#stuckCmdlines.has(e.pid)) return undefined;
      return Deno.readFile(`${this.#procRoot}/${e.pid}/cmdline`).then(
        (bytes) => {
          const cut = bytes.length > MAX_COMMAND_BYTES
            ? bytes.subarray(0, MAX_COMMAND_BYTES)
            : bytes;
          commands[i] = e.command = commandLine(this.#decoder.decode(cut), e.comm);
        },
        () => {}, // exited or unreadable: "[comm]"
      ).then(() => {
        settled[i] = true;
      });
    });
    await withTimeout(Promise.all(reads), this.#cmdlineTimeoutMs, undefined);
    for (let i = 0; i < rows.length; i++) {
      const read = reads[i];
      if (read === undefined || settled[i]) continue; // a late one: the row keeps "[comm]"
      const pid = rows[i].pid;
      this.#stuckCmdlines.set(pid, read);
      read.then(() => this.#stuckCmdlines.delete(pid));
    }
    return commands;
  }

  #memTotalBytes(): number | null {
    try {
      return parseMemTotalBytes(this.#readSync(`${this.#procRoot}/meminfo`));
    } catch {
      return null;
    }
  }

  /**
   * Reads a small generated file into the reused buffer. A short read is the end: seq_file hands a
   * whole stat/status/meminfo record to one read() that has room for it (a regular fixture file
   * too), so only a full buffer needs another read (and a bigger buffer).
   */
  #readSync(path: string): string {
    const file = Deno.openSync(path);
    try {
      let length = 0;
      for (;;) {
        const n = file.readSync(length === 0 ? this.#buffer : this.#buffer.subarray(length));
        if (n === null || n === 0) break;
        length += n;
        if (length < this.#buffer.length) break;
        const bigger = new Uint8Array(this.#buffer.length * 2);
        bigger.set(this.#buffer);
        this.#buffer = bigger;
      }
      return this.#decoder.decode(this.#buffer.subarray(0, length));
    } finally {
      file.close();
    }
  }
}

function readError(path: string, err: unknown): ReadError {
  if (err instanceof Deno.errors.NotFound) return new ReadError(path, "ENOENT", "not found");
  if (err instanceof Deno.errors.PermissionDenied) {
    return new ReadError(path, "EACCES", "permission denied");
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ReadError(path, "EIO", message.split(/[:(]/)[0].trim() || "EIO");
}
