/**
 * `sysmon watch`: the live (or replayed) full-screen view on a terminal, or one plain text block
 * per interval when stdout is not a terminal (`sysmon watch | tee log`). Rendering is
 * render.ts's pure function; this module owns the state, the timers, the keys and the feeds.
 */
import type { EngineState } from "../../alert/engine.ts";
import { alertPaths } from "../../alert/paths.ts";
import { compileRules } from "../../alert/rules.ts";
import type { ThresholdRule } from "../../alert/types.ts";
import { UsageError } from "../../cli/errors.ts";
import type { GlobalFlags } from "../../cli/globals.ts";
import { writeStdout } from "../../cli/io.ts";
import { type Runtime, setupRuntime } from "../../cli/runtime.ts";
import { parseTimeFlag } from "../../cli/time_flag.ts";
import { GcPacer } from "../../core/gc_pacer.ts";
import { keepExecutablePagesReleased, releaseLoadingPages } from "../../core/page_release.ts";
import { resolveRecordDir } from "../../record/data_dir.ts";
import { isInteractive, Terminal } from "../term/terminal.ts";
import { applyKey, DEFAULT_REPLAY_SPEED, PAGE_ROWS } from "./controller.ts";
import { type FeedUpdate, LiveFeed, ReplayFeed } from "./feed.ts";
import { createGrader } from "./grader.ts";
import { renderFrame, scrollInfo } from "./render.ts";
import { focusedTable, type PanelId, type RenderOptions, type WatchState } from "./state.ts";

export interface WatchFlags extends GlobalFlags {
  /** Seconds between samples (live) or between replay frames. */
  readonly interval?: number;
  readonly ascii?: boolean;
  readonly bits?: boolean;
  readonly replay?: boolean;
  readonly data?: string;
  readonly from?: string;
  readonly speed?: number;
  /** Seconds: stop after this long (live), or after this much recorded time (replay). */
  readonly duration?: number;
}

export const DEFAULT_INTERVAL_MS = 1000;
/** A status message stays this long. */
const MESSAGE_MS = 3000;
/** The plain (not a terminal) block: wide enough for the tables, tall enough for every panel. */
const PLAIN_WIDTH = 100;
const PLAIN_HEIGHT = 40;
/** Most process rows read: more than any terminal shows. */
const PROCESS_ROWS = 100;
/**
 * A compacting collection every minute: without it RSS grew by about 1 MB every 15 s (V8 postpones
 * old-space collection with the small young generation). Measured: one every 20 s lowered RSS no
 * further and cost 0.1–0.15 % of a core; a minor collection after each frame cost CPU for nothing.
 */
const gcPacer = new GcPacer(60, 60_000, false);

interface Setup {
  rt: Runtime;
  rules: ThresholdRule[];
  intervalMs: number;
  ascii: boolean;
  bits: boolean;
  color: boolean;
  kernel: string;
  replay?: ReplayFeed;
  live?: LiveFeed;
}

export async function runWatch(
  flags: WatchFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  if (!flags.replay) {
    for (const name of ["from", "speed"] as const) {
      if (flags[name] !== undefined) throw new UsageError(`--${name} needs --replay`);
    }
  }
  const rt = await setupRuntime(flags, env);
  releaseLoadingPages(rt.log);
  const compiled = compileRules(rt.config.alert.rules);
  for (const e of compiled.errors) rt.log.warn(`${e} (watch colours and alerts leave it out)`);
  // Colours and the alerts panel use the threshold rules; forecast and anomaly rules need hours
  // of history: their alerts come from the alert daemon (alert run, serve/record --alert).
  const rules = compiled.rules.filter((r) => r.type === "threshold");
  const analysed = new Set(compiled.rules.filter((r) => r.type !== "threshold").map((r) => r.name));
  const setup: Setup = {
    rt,
    rules,
    intervalMs: (flags.interval ?? DEFAULT_INTERVAL_MS / 1000) * 1000,
    ascii: flags.ascii ?? false,
    bits: flags.bits ?? false,
    // rt.color already says no on a pipe, with NO_COLOR or --no-color.
    color: rt.color,
    kernel: flags.replay ? "" : await kernelRelease(rt),
  };
  if (flags.replay) {
    setup.replay = await openReplay(flags, rt, rules);
  } else {
    const dir = dataDirOf(flags, rt);
    setup.live = new LiveFeed(
      rt,
      rules,
      await daemonAlertState(dir),
      dir && analysed.size > 0 ? { statePath: alertPaths(dir).state, rules: analysed } : undefined,
    );
  }
  if (isInteractive()) await runInteractive(setup, flags);
  else await runPlain(setup, flags);
}

async function openReplay(
  flags: WatchFlags,
  rt: Runtime,
  rules: ThresholdRule[],
): Promise<ReplayFeed> {
  const dir = resolveRecordDir(flags.data, rt);
  // Loaded for a replay only: live watch needs neither the store nor its memory.
  const { openRecordedStore } = await import("../../record/store_open.ts");
  const { ReplaySource } = await import("./replay_source.ts");
  const store = await openRecordedStore(rt.config, dir, rt.log);
  const start = flags.from !== undefined
    ? parseTimeFlag("from", flags.from, Date.now())
    : undefined;
  const source = await ReplaySource.open(store, start);
  if (!source) {
    throw new UsageError(
      `no recorded data in ${dir}: the raw tier holds no samples (record some with sysmon record)`,
    );
  }
  if (start !== undefined) {
    const { first, last } = source.getRange();
    if (start < first || start > last) {
      rt.log.warn(
        `--from ${new Date(start).toISOString()} is outside the recording ` +
          `(${new Date(first).toISOString()} – ${
            new Date(last).toISOString()
          }); starting at its edge`,
      );
    }
  }
  return new ReplayFeed(source, rules);
}

/** The alert engine state a running `alert run` (or serve/record --alert) saved, if readable. */
/** The data directory an alert daemon would use, if one can be named. */
function dataDirOf(flags: WatchFlags, rt: Runtime): string | undefined {
  try {
    return resolveRecordDir(flags.data, rt);
  } catch {
    return undefined;
  }
}

async function daemonAlertState(dir: string | undefined): Promise<EngineState | undefined> {
  if (dir === undefined) return undefined;
  try {
    return JSON.parse(await Deno.readTextFile(alertPaths(dir).state)) as EngineState;
  } catch {
    return undefined; // No engine has run here: watch's own engine starts afresh.
  }
}

async function kernelRelease(rt: Runtime): Promise<string> {
  try {
    return (await Deno.readTextFile(`${rt.roots.procfs}/sys/kernel/osrelease`)).trim();
  } catch {
    return Deno.osRelease();
  }
}

function initialState(setup: Setup): WatchState {
  return {
    sample: null,
    history: [],
    processes: null,
    processSort: "cpu",
    firingAlerts: [],
    intervalMs: setup.intervalMs,
    paused: false,
    helpVisible: false,
    // The process table is not recorded: a replay starts without its panel.
    hidden: new Set<PanelId>(setup.replay ? ["processes"] : []),
    sortColumn: { disks: 0, network: 0, filesystems: 0 },
    scroll: 0,
    kernel: setup.kernel,
    uptimeSeconds: null,
  };
}

function renderOptions(setup: Setup, state: WatchState, width: number, height: number) {
  return {
    width,
    height,
    color: setup.color,
    ascii: setup.ascii,
    bits: setup.bits,
    grader: createGrader(setup.rules, state.sample),
    now: new Date(),
  } satisfies RenderOptions;
}

/** Options for layout questions only (scrollInfo): no colours, so no grader is built per tick. */
function layoutOptions(setup: Setup, width: number, height: number): RenderOptions {
  return {
    width,
    height,
    color: false,
    ascii: setup.ascii,
    bits: setup.bits,
    grader: () => "ok",
    now: new Date(0),
  };
}

// ---------------------------------------------------------------------------------------------
// Not a terminal: one plain block per interval

async function runPlain(setup: Setup, flags: WatchFlags): Promise<void> {
  let state = initialState(setup);
  const width = Number(setup.rt.env.COLUMNS) > 0 ? Number(setup.rt.env.COLUMNS) : PLAIN_WIDTH;
  const block = () => {
    const lines = renderFrame(state, renderOptions(setup, state, width, PLAIN_HEIGHT))
      .map((l) => l.trimEnd());
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    // The last line is the key help of the interactive view: nothing to press here.
    lines.pop();
    return lines.join("\n") + "\n\n";
  };
  if (setup.replay) {
    // Every recorded sample from --from on, without waiting: a dump to read or to grep.
    const feed = setup.replay;
    const end = flags.duration !== undefined ? feed.cursor + flags.duration * 1000 : Infinity;
    do {
      state = { ...state, ...feed.update(1) };
      writeStdout(block());
    } while (await feed.step(1) && feed.cursor <= end);
    return;
  }
  const live = setup.live!;
  const stop = stopSignal(flags.duration);
  let stopReleasing: (() => void) | undefined;
  try {
    while (!stop.stopped) {
      state = await liveUpdate(live, state, processRowsFor(setup, width, PLAIN_HEIGHT));
      writeStdout(block());
      gcPacer.afterWork();
      stopReleasing ??= keepExecutablePagesReleased(setup.rt.log);
      await stop.sleep(untilNextTick(state.intervalMs));
    }
  } finally {
    stopReleasing?.();
    stop.dispose();
  }
}

/** Resolves sleeps early and reports `stopped` on SIGINT/SIGTERM or after `durationSec`. */
function stopSignal(durationSec?: number) {
  let wake: () => void = () => {};
  const state = { stopped: false };
  const stop = () => {
    state.stopped = true;
    wake();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  const limit = durationSec !== undefined ? setTimeout(stop, durationSec * 1000) : undefined;
  return {
    get stopped() {
      return state.stopped;
    },
    sleep(ms: number): Promise<void> {
      if (state.stopped) return Promise.resolve();
      return new Promise((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    },
    dispose() {
      for (const s of signals) Deno.removeSignalListener(s, stop);
      if (limit !== undefined) clearTimeout(limit);
    },
  };
}

/** Ticks fall on multiples of the interval (as the sampler's do), so samples are evenly spaced. */
function untilNextTick(intervalMs: number): number {
  const now = Date.now();
  return Math.ceil((now + 1) / intervalMs) * intervalMs - now;
}

/**
 * The next live sample, and the process rows the screen can show (each row shown costs a
 * command-line read: reading only those keeps the process table cheap).
 */
async function liveUpdate(
  feed: LiveFeed,
  state: WatchState,
  processRows: (s: WatchState) => number,
): Promise<WatchState> {
  const update: FeedUpdate = await feed.next();
  const next = { ...state, ...update };
  if (state.hidden.has("processes")) return next;
  const processes = await feed.topProcesses(processRows(next), state.processSort);
  return { ...next, processes, processCount: feed.processCount() };
}

/** Rows of the processes panel in this layout, plus those scrolled past. */
function processRowsFor(setup: Setup, width: number, height: number) {
  return (state: WatchState): number => {
    const probe = { ...state, processes: null, focus: "processes" as const };
    const info = scrollInfo(probe, layoutOptions(setup, width, height));
    // A page more than shown, so ↓ and PgDn have rows to move to before the next read.
    return Math.min(PROCESS_ROWS, Math.max(1, info.visibleRows) + state.scroll + PAGE_ROWS);
  };
}

// ---------------------------------------------------------------------------------------------
// A terminal: the full-screen view

async function runInteractive(setup: Setup, flags: WatchFlags): Promise<void> {
  const term = Terminal.open();
  let state = initialState(setup);
  let messageAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let messageTimer: ReturnType<typeof setTimeout> | undefined;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => finish = resolve);
  let speed = flags.speed ?? DEFAULT_REPLAY_SPEED;
  let stopReleasing = () => {};
  let work = Promise.resolve();
  /** Ticks, keys and redraws run one at a time, in order. */
  const serial = (job: () => Promise<void> | void) => {
    work = work.then(job).catch((err) => {
      state = { ...state, message: `error: ${(err as Error).message}` };
      messageAt = Date.now();
    });
    return work;
  };

  const draw = async () => {
    if (state.message !== undefined && Date.now() - messageAt >= MESSAGE_MS) {
      state = { ...state, message: undefined };
    }
    const { columns, rows } = term.size;
    await term.draw(renderFrame(state, renderOptions(setup, state, columns, rows)));
    gcPacer.afterWork();
  };

  const say = (message: string) => {
    state = { ...state, message };
    messageAt = Date.now();
    clearTimeout(messageTimer);
    messageTimer = setTimeout(() => serial(draw), MESSAGE_MS);
  };

  const tick = async () => {
    if (setup.replay) {
      const feed = setup.replay;
      if (!state.paused && state.sample !== null) {
        const wasAtEnd = feed.atEnd();
        await feed.play(speed * state.intervalMs);
        if (feed.atEnd() && !wasAtEnd) say("end of the recording: ← step back, [ { jump back");
      }
      state = { ...state, ...feed.update(speed) };
    } else if (!state.paused || state.sample === null) {
      const { columns, rows } = term.size;
      state = await liveUpdate(setup.live!, state, processRowsFor(setup, columns, rows));
    }
    await draw();
  };

  const schedule = () => {
    clearTimeout(timer);
    // Replay frames come every interval; live samples on the interval's wall-clock multiples.
    const delay = setup.replay ? state.intervalMs : untilNextTick(state.intervalMs);
    timer = setTimeout(() => serial(tick).then(schedule), delay);
  };

  const onKey = async (key: Parameters<typeof applyKey>[1]) => {
    const before = state.message;
    const out = applyKey(state, key);
    state = out.state;
    if (state.message !== before && state.message !== undefined) say(state.message);
    if (out.quit) return finish();
    if (state.replay && state.replay.speed !== speed) speed = state.replay.speed;
    if (out.redraw) term.invalidate();
    if (out.replay && setup.replay) {
      const feed = setup.replay;
      const moved = out.replay.kind === "step"
        ? await feed.step(out.replay.by)
        : await feed.jump(out.replay.ms);
      if (!moved) {
        say(out.replay.kind === "step" ? "no more samples that way" : "the recording ends there");
      }
      state = { ...state, ...feed.update(speed) };
    }
    const scrolledProcesses = focusedTable(state) === "processes" &&
      (key === "down" || key === "pgdn" || key === "end");
    if ((out.refreshProcesses || scrolledProcesses) && setup.live) {
      state = {
        ...state,
        processes: await setup.live.topProcesses(PROCESS_ROWS, state.processSort),
      };
    }
    // The renderer clamps the scroll when drawing; keeping it clamped here makes ↑ work after End.
    const { columns, rows } = term.size;
    const info = scrollInfo(state, layoutOptions(setup, columns, rows));
    if (state.scroll > info.maxScroll) state = { ...state, scroll: info.maxScroll };
    if (out.retime) schedule();
    await draw();
  };

  try {
    term.onKeys((keys) => {
      for (const key of keys) serial(() => onKey(key));
    });
    term.onResize(() => serial(draw));
    if (setup.replay) {
      state = {
        ...state,
        ...setup.replay.update(speed),
        message: `replay at ${speed}× — ? for keys`,
      };
      messageAt = Date.now();
    }
    await serial(tick);
    schedule();
    stopReleasing = keepExecutablePagesReleased(setup.rt.log);
    const limit = flags.duration !== undefined
      ? setTimeout(finish, flags.duration * 1000)
      : undefined;
    await finished;
    clearTimeout(limit);
  } finally {
    stopReleasing();
    clearTimeout(timer);
    clearTimeout(messageTimer);
    term.close();
  }
}
