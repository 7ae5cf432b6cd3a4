/**
 * Silences for maintenance windows, with Alertmanager's semantics: a silence is a set of label
 * matchers and a time window [startsAt, endsAt); an alert whose labels match every matcher while
 * the window is open is silenced. "Removing" a silence expires it (endsAt = now) so it stays
 * visible with `ls --all` until pruned. Kept in DATA/state/silences.json.
 *
 * Parsers and matching are pure; SilenceStore does the file I/O; run* are the `alert silence`
 * commands (their flags and help live in commands/alert.ts).
 */
import { RuntimeFailure, UsageError } from "../cli/errors.ts";
import type { GlobalFlags } from "../cli/globals.ts";
import { stdoutIsTTY, writeStdout } from "../cli/io.ts";
import { setupRuntime } from "../cli/runtime.ts";
import { formatDuration } from "../core/duration.ts";
import { parseTimePoint } from "../core/time_point.ts";
import { resolveRecordDir } from "../record/data_dir.ts";
import { ioReason, writeJsonAtomic } from "../store/fsutil.ts";
import { renderTable } from "../ui/text_table.ts";

// ---------------------------------------------------------------------------------------------
// Matchers

export type MatchOp = "=" | "!=" | "=~" | "!~";

/** One label matcher in Alertmanager's syntax: alertname="cpu_busy", mountpoint=~"/var.*". */
export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

const OPS: readonly MatchOp[] = ["=", "!=", "=~", "!~"];
/** The earliest operator in the text; two-character operators win at the same position. */
const OP_SEARCH = /=~|!~|!=|=/;
/** Prometheus label names (Alertmanager's classic matcher syntax). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FORMS =
  'write NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX (e.g. alertname="cpu_busy", mountpoint=~"/var.*")';

function badMatcher(text: string, why: string): UsageError {
  return new UsageError(`bad matcher ${JSON.stringify(text)}: ${why}`);
}

/**
 * Parses one matcher. The value may be double-quoted (needed for spaces at its ends or a `"`
 * inside); as in Alertmanager, \" \\ and \n are escapes and any other backslash is kept, so regex
 * escapes such as \d pass through. Regex values must compile and match the whole label value.
 */
export function parseMatcher(text: string): Matcher {
  const found = OP_SEARCH.exec(text);
  if (!found) throw badMatcher(text, `no operator; ${FORMS}`);
  const op = found[0] as MatchOp;
  const name = text.slice(0, found.index).trim();
  const raw = text.slice(found.index + op.length).trim();
  if (name === "") throw badMatcher(text, `no label name before "${op}"; ${FORMS}`);
  if (!LABEL_NAME.test(name)) {
    throw badMatcher(
      text,
      `label name "${name}" is not valid (letters, digits and _, not starting with a digit); ${FORMS}`,
    );
  }
  // `a==b` or `a!=~b` are typos far more often than values that really start with = or ~.
  if (raw.startsWith("=") || raw.startsWith("~")) {
    throw badMatcher(
      text,
      `the value starts with "${raw[0]}": the operators are =, !=, =~ and !~; ` +
        `quote the value ("${raw}") if it really starts with "${raw[0]}"`,
    );
  }
  const matcher: Matcher = { name, op, value: unquote(text, raw) };
  checkRegex(matcher, (why) => badMatcher(text, why));
  return matcher;
}

function unquote(text: string, raw: string): string {
  const quoted = raw.startsWith('"');
  const body = quoted ? raw.slice(1) : raw;
  let out = "";
  let closed = !quoted;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\" && i < body.length - 1) {
      const next = body[++i];
      out += next === "n" ? "\n" : next === '"' || next === "\\" ? next : "\\" + next;
    } else if (c === '"') {
      if (quoted && i === body.length - 1) closed = true;
      else if (quoted) throw badMatcher(text, "text after the closing quote of the value");
      else throw badMatcher(text, 'a " inside an unquoted value (quote the value and write \\")');
    } else {
      out += c;
    }
  }
  if (!closed) throw badMatcher(text, "the value's opening quote is never closed");
  return out;
}

/** The matcher in Alertmanager's notation, value always quoted; parseMatcher reads it back. */
export function formatMatcher(m: Matcher): string {
  const value = m.value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `${m.name}${m.op}"${value}"`;
}

const anchored = new Map<string, RegExp>();

/** The regex anchored at both ends, as Alertmanager does: =~"/var" does not match "/var/log". */
function fullMatchRegex(value: string): RegExp {
  let re = anchored.get(value);
  if (!re) {
    re = new RegExp(`^(?:${value})$`);
    anchored.set(value, re);
  }
  return re;
}

function checkRegex(m: Matcher, fail: (why: string) => Error): void {
  if (m.op !== "=~" && m.op !== "!~") return;
  try {
    // Alone first: a value like `a)|(b` would compile once wrapped, but unanchored.
    new RegExp(m.value);
    fullMatchRegex(m.value);
  } catch (err) {
    throw fail(`regex ${JSON.stringify(m.value)} does not compile: ${(err as Error).message}`);
  }
}

/** Whether one matcher matches the labels; a missing label has the value "". */
export function matcherMatches(m: Matcher, labels: Record<string, string>): boolean {
  const value = Object.hasOwn(labels, m.name) ? labels[m.name] : "";
  switch (m.op) {
    case "=":
      return value === m.value;
    case "!=":
      return value !== m.value;
    case "=~":
      return fullMatchRegex(m.value).test(value);
    case "!~":
      return !fullMatchRegex(m.value).test(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Silences

export interface Silence {
  /** 16 hex digits (8 random bytes). */
  id: string;
  matchers: Matcher[];
  /** ISO 8601 UTC: the window is [startsAt, endsAt). */
  startsAt: string;
  endsAt: string;
  createdAt: string;
  comment: string;
  author: string;
}

export type SilenceState = "pending" | "active" | "expired";

export function silenceState(s: Silence, now: number): SilenceState {
  if (now < Date.parse(s.startsAt)) return "pending";
  return now < Date.parse(s.endsAt) ? "active" : "expired";
}

/**
 * The active silence (startsAt <= now < endsAt, every matcher matching) that covers the labels,
 * or undefined. When several do, the one ending last: it says how long the alert stays quiet.
 */
export function isSilenced(
  labels: Record<string, string>,
  silences: readonly Silence[],
  now: number,
): Silence | undefined {
  let best: Silence | undefined;
  for (const s of silences) {
    if (silenceState(s, now) !== "active") continue;
    if (!s.matchers.every((m) => matcherMatches(m, labels))) continue;
    if (!best || Date.parse(s.endsAt) > Date.parse(best.endsAt)) best = s;
  }
  return best;
}

/**
 * What Alertmanager refuses too: no matcher, or only matchers that an absent label satisfies
 * (severity!=warning alone would silence nearly everything), or a window that ends before it starts
 * or has already ended.
 */
export function validateSilence(s: Omit<Silence, "id" | "createdAt">, now: number): void {
  if (s.matchers.length === 0) {
    throw new UsageError(`a silence needs at least one matcher; ${FORMS}`);
  }
  for (const m of s.matchers) {
    if (!OPS.includes(m.op) || !LABEL_NAME.test(m.name)) {
      throw new UsageError(`bad matcher ${formatMatcher(m)}; ${FORMS}`);
    }
    checkRegex(m, (why) => new UsageError(`bad matcher ${formatMatcher(m)}: ${why}`));
  }
  if (s.matchers.every((m) => matcherMatches(m, {}))) {
    throw new UsageError(
      "every matcher also matches alerts without that label, so the silence would cover " +
        'almost every alert: add one that needs a value, e.g. alertname="cpu_busy"',
    );
  }
  const starts = Date.parse(s.startsAt);
  const ends = Date.parse(s.endsAt);
  if (!Number.isFinite(starts) || !Number.isFinite(ends)) {
    throw new UsageError(`a silence needs valid startsAt and endsAt times`);
  }
  if (ends <= now) {
    throw new UsageError(`the silence would end at ${s.endsAt}, which is not after now`);
  }
  if (ends <= starts) {
    throw new UsageError(`the silence ends (${s.endsAt}) before it starts (${s.startsAt})`);
  }
}

// ---------------------------------------------------------------------------------------------
// The file

export const SILENCES_VERSION = 1;
/** Expired silences are kept this long for `ls --all` (Alertmanager's default retention, 120h). */
export const EXPIRED_RETENTION_MS = 120 * 3600_000;

export function silencesPath(dataDir: string): string {
  return `${dataDir}/state/silences.json`;
}

function isIsoTime(v: unknown): v is string {
  return typeof v === "string" && Number.isFinite(Date.parse(v));
}

/** Why one stored silence is malformed, or "" when it is fine. */
function silenceProblem(v: unknown): string {
  if (typeof v !== "object" || v === null) return "not an object";
  const s = v as Record<string, unknown>;
  if (typeof s.id !== "string" || s.id === "") return "no id";
  if (!Array.isArray(s.matchers) || s.matchers.length === 0) return `${s.id}: no matchers`;
  for (const m of s.matchers as Record<string, unknown>[]) {
    if (
      typeof m !== "object" || m === null || typeof m.name !== "string" ||
      !LABEL_NAME.test(m.name) || !OPS.includes(m.op as MatchOp) || typeof m.value !== "string"
    ) {
      return `${s.id}: a matcher is not {name, op, value}`;
    }
    try {
      checkRegex(m as unknown as Matcher, (why) => new Error(why));
    } catch (err) {
      return `${s.id}: ${(err as Error).message}`;
    }
  }
  for (const k of ["startsAt", "endsAt", "createdAt"]) {
    if (!isIsoTime(s[k])) return `${s.id}: ${k} is not a time`;
  }
  for (const k of ["comment", "author"]) {
    if (typeof s[k] !== "string") return `${s.id}: ${k} is not a string`;
  }
  return "";
}

/** Reads the file's text; a malformed file is an error naming it (never silently emptied). */
export function decodeSilences(text: string, path: string): Silence[] {
  const fail = (why: string) =>
    new RuntimeFailure(`${path} is not a valid silences file (${why}); fix or remove it`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const d = doc as { version?: unknown; silences?: unknown };
  if (typeof doc !== "object" || doc === null || !Array.isArray(d.silences)) {
    throw fail('no "silences" list');
  }
  if (d.version !== SILENCES_VERSION) {
    throw fail(`version ${JSON.stringify(d.version)}, this sysmon reads ${SILENCES_VERSION}`);
  }
  for (const s of d.silences) {
    const problem = silenceProblem(s);
    if (problem) throw fail(problem);
  }
  return d.silences as Silence[];
}

function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The silences file. Reads need no lock (writes are atomic renames); changes read, modify and write
 * under an flock on a sibling .lock file, so two `silence add` at once both land.
 */
export class SilenceStore {
  constructor(readonly path: string) {}

  async list(): Promise<Silence[]> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw new RuntimeFailure(`cannot read silences ${this.path}: ${ioReason(err)}`);
    }
    return decodeSilences(text, this.path);
  }

  /** Validates (UsageError) and stores a new silence; returns it with its id. */
  async add(s: Omit<Silence, "id" | "createdAt">, now: number): Promise<Silence> {
    validateSilence(s, now);
    const silence: Silence = {
      id: newId(),
      matchers: s.matchers.map((m) => ({ name: m.name, op: m.op, value: m.value })),
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      createdAt: new Date(now).toISOString(),
      comment: s.comment,
      author: s.author,
    };
    await this.change((all) => [...all, silence]);
    return silence;
  }

  /**
   * Expires the silence with this exact id as Alertmanager does: an active one ends now, a pending
   * one starts and ends now. False when there is no such id or it had already expired.
   */
  async remove(id: string, now: number): Promise<boolean> {
    let done = false;
    const at = new Date(now).toISOString();
    await this.change((all) =>
      all.map((s) => {
        if (s.id !== id) return s;
        const state = silenceState(s, now);
        if (state === "expired") return s;
        done = true;
        return state === "pending" ? { ...s, startsAt: at, endsAt: at } : { ...s, endsAt: at };
      })
    );
    return done;
  }

  /** Drops silences that expired more than keepExpiredMs ago; returns how many. */
  async prune(now: number, keepExpiredMs: number): Promise<number> {
    let dropped = 0;
    await this.change((all) => {
      const kept = all.filter((s) => Date.parse(s.endsAt) >= now - keepExpiredMs);
      dropped = all.length - kept.length;
      return kept;
    });
    return dropped;
  }

  /** Read-modify-write under the lock; writes only when something changed. */
  private async change(update: (all: Silence[]) => Silence[]): Promise<void> {
    const dir = this.path.slice(0, this.path.lastIndexOf("/")) || "/";
    let lock: Deno.FsFile;
    try {
      await Deno.mkdir(dir, { recursive: true });
      lock = await Deno.open(`${this.path}.lock`, { read: true, write: true, create: true });
    } catch (err) {
      throw new RuntimeFailure(`cannot open ${this.path}.lock: ${ioReason(err)}`);
    }
    try {
      await lock.lock(true);
      const before = await this.list();
      const after = update(before);
      if (JSON.stringify(after) === JSON.stringify(before)) return;
      try {
        await writeJsonAtomic(this.path, { version: SILENCES_VERSION, silences: after });
      } catch (err) {
        throw new RuntimeFailure(`cannot write silences ${this.path}: ${ioReason(err)}`);
      }
    } finally {
      lock.close(); // closing drops the flock
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

type Env = Record<string, string | undefined>;

export interface SilenceAddFlags extends GlobalFlags {
  /** Seconds the silence lasts from now. */
  readonly for?: number;
  /** When it ends: a time point (ISO 8601, Unix seconds). */
  readonly until?: string;
  readonly comment?: string;
  readonly author?: string;
  readonly data?: string;
}

export interface SilenceListFlags extends GlobalFlags {
  readonly all?: boolean;
  readonly json?: boolean;
  readonly data?: string;
}

export interface SilenceRemoveFlags extends GlobalFlags {
  readonly data?: string;
}

async function openStore(flags: GlobalFlags & { readonly data?: string }, env: Env) {
  const rt = await setupRuntime(flags, env);
  return new SilenceStore(silencesPath(resolveRecordDir(flags.data, rt)));
}

/** Epoch ms the silence ends, from exactly one of --for and --until. */
export function silenceEnd(flags: Pick<SilenceAddFlags, "for" | "until">, now: number): number {
  if (flags.for !== undefined && flags.until !== undefined) {
    throw new UsageError("--for and --until both given; give one of them");
  }
  if (flags.for !== undefined) {
    if (!(flags.for > 0) || !Number.isFinite(flags.for)) {
      throw new UsageError("--for must be a positive duration (e.g. 30m, 2h, 1d)");
    }
    return now + flags.for * 1000;
  }
  if (flags.until !== undefined) {
    const end = parseTimePoint(flags.until, now);
    if (end === undefined) {
      throw new UsageError(
        `--until "${flags.until}" is not a time (use ISO 8601 such as 2026-11-27T10:00:00Z, ` +
          "or Unix seconds; --for DUR gives a length instead)",
      );
    }
    if (end <= now) {
      throw new UsageError(
        `--until "${flags.until}" (${new Date(end).toISOString()}) is not in the future`,
      );
    }
    return end;
  }
  throw new UsageError("say how long the silence lasts: --for DUR (e.g. 2h) or --until TIME");
}

export async function runSilenceAdd(
  flags: SilenceAddFlags,
  matchers: string[],
  env: Env,
): Promise<void> {
  if (matchers.length === 0) {
    throw new UsageError(`give at least one matcher; ${FORMS}`);
  }
  const parsed = matchers.map(parseMatcher);
  const now = Date.now();
  const end = silenceEnd(flags, now);
  const store = await openStore(flags, env);
  const silence = await store.add({
    matchers: parsed,
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(end).toISOString(),
    comment: flags.comment ?? "",
    author: flags.author ?? env.USER ?? env.LOGNAME ?? "",
  }, now);
  await store.prune(now, EXPIRED_RETENTION_MS);
  writeStdout(silence.id + "\n");
}

const STATE_ORDER: Record<SilenceState, number> = { active: 0, pending: 1, expired: 2 };

/** A span for people, two units at most: 1h59m, 3d4h, 45s. */
function roughSpan(ms: number): string {
  const text = formatDuration(Math.max(0, Math.floor(ms / 1000)));
  return (text.match(/\d+[a-z]+/g) ?? [text]).slice(0, 2).join("");
}

function endsIn(s: Silence, now: number): string {
  const ends = Date.parse(s.endsAt);
  return ends <= now ? `ended ${roughSpan(now - ends)} ago` : `in ${roughSpan(ends - now)}`;
}

/**
 * The `ls` table (pure): active first, then pending, then expired; soonest end first in each. The
 * comment gives way to fit the width; the rest is never cut (--json has every field).
 */
export function renderSilenceTable(silences: readonly Silence[], now: number, width = 80): string {
  const rows = [...silences]
    .map((s) => ({ s, state: silenceState(s, now) }))
    .sort((a, b) =>
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      Date.parse(a.s.endsAt) - Date.parse(b.s.endsAt)
    )
    .map(({ s, state }) => [
      s.id,
      state,
      s.matchers.map(formatMatcher).join(" "),
      endsIn(s, now),
      s.author,
      s.comment.replace(/\s+/g, " "),
    ]);
  return renderTable(
    [
      { header: "ID" },
      { header: "STATE" },
      { header: "MATCHERS" },
      { header: "ENDS" },
      { header: "AUTHOR" },
      { header: "COMMENT", flexible: true },
    ],
    rows,
    width,
  );
}

export async function runSilenceList(flags: SilenceListFlags, env: Env): Promise<void> {
  const store = await openStore(flags, env);
  const now = Date.now();
  const shown = (await store.list()).filter((s) => flags.all || silenceState(s, now) !== "expired");
  if (flags.json) {
    const out = shown.map((s) => ({ ...s, state: silenceState(s, now) }));
    writeStdout(JSON.stringify(out, null, 2) + "\n");
    return;
  }
  if (shown.length === 0) {
    writeStdout(flags.all ? "no silence\n" : "no active or pending silence\n");
    return;
  }
  // Fitted to a terminal; whole lines for pipes (grep, less -S), where cutting the comment helps nobody.
  const width = stdoutIsTTY() ? Deno.consoleSize().columns : Infinity;
  writeStdout(renderSilenceTable(shown, now, width) + "\n");
}

const MIN_PREFIX = 6;

/** The one silence an id or unique prefix (≥ 6 characters) names; UsageError otherwise. */
export function resolveSilenceId(given: string, silences: readonly Silence[]): Silence {
  const id = given.trim().toLowerCase();
  const exact = silences.find((s) => s.id === id);
  if (exact) return exact;
  const hint = "`sysmon alert silence ls --all` lists the ids";
  if (id.length < MIN_PREFIX) {
    throw new UsageError(
      `no silence has the id "${given}" (an id prefix needs at least ${MIN_PREFIX} characters); ${hint}`,
    );
  }
  const found = silences.filter((s) => s.id.startsWith(id));
  if (found.length === 0) throw new UsageError(`no silence has the id "${given}"; ${hint}`);
  if (found.length > 1) {
    throw new UsageError(
      `"${given}" begins ${found.length} silence ids; give more of the id (${hint})`,
    );
  }
  return found[0];
}

export async function runSilenceRemove(
  flags: SilenceRemoveFlags,
  id: string,
  env: Env,
): Promise<void> {
  const store = await openStore(flags, env);
  const now = Date.now();
  const silence = resolveSilenceId(id, await store.list());
  if (!await store.remove(silence.id, now)) {
    throw new UsageError(`silence ${silence.id} already expired at ${silence.endsAt}`);
  }
  await store.prune(now, EXPIRED_RETENTION_MS);
  writeStdout(`expired silence ${silence.id}\n`);
}
