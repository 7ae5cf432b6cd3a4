/**
 * The terminal I/O of `sysmon watch`: raw mode, the alternate screen, key input, resize, frame
 * writes, and a restore that runs whatever way the process ends (close, signal, uncaught error,
 * unload), so the user's shell never stays in raw mode on a blank screen.
 */
import { decodeKeys, ESCAPE_TIMEOUT_MS, flushPending, type Key } from "./keys.ts";
import { diffFrame, ENTER_SCREEN, LEAVE_SCREEN } from "./screen.ts";

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** What the terminal reads keys from; `Deno.stdin` is one. */
export interface TerminalInput {
  /** A stream rather than read(): cancelling its reader is what lets close() end a pending read. */
  readonly readable: ReadableStream<Uint8Array>;
  setRaw(mode: boolean): void;
  isTerminal(): boolean;
}

/** What the terminal writes to; `Deno.stdout` is one. Writes are synchronous on purpose (see write). */
export interface TerminalOutput {
  writeSync(p: Uint8Array): number;
}

export interface TerminalOptions {
  stdin?: TerminalInput;
  stdout?: TerminalOutput;
  /** The screen size; `Deno.consoleSize()` by default. */
  size?: () => TerminalSize;
  /**
   * Install the process-wide restore handlers (SIGTERM/SIGINT/SIGHUP, uncaught errors, unload).
   * Default true; false only for tests that drive a Terminal over fake streams.
   */
  processHandlers?: boolean;
}

/** The size used when the terminal reports none (0×0 from a pty nobody sized). */
export const FALLBACK_SIZE: TerminalSize = { columns: 80, rows: 24 };
/** SIGWINCH comes in bursts while a window is dragged: one callback per burst. */
export const RESIZE_COALESCE_MS = 30;

/** Exit status for death by a signal, as a shell reports it: 128 + the signal number. */
const SIGNAL_EXIT: ReadonlyArray<[Deno.Signal, number]> = [
  ["SIGHUP", 128 + 1],
  ["SIGINT", 128 + 2],
  ["SIGTERM", 128 + 15],
];

const encoder = new TextEncoder();

/** Both ends are terminals: the only case where `watch` can take over the screen. */
export function isInteractive(): boolean {
  return Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
}

export class Terminal {
  #stdin: TerminalInput;
  #stdout: TerminalOutput;
  #sizeOf: () => TerminalSize;
  #restored = false;
  #closed = false;
  #raw = false;
  #prevFrame: string[] | null = null;
  #prevWidth = -1;
  #keyListeners: ((keys: Key[]) => void)[] = [];
  #resizeListeners: ((size: TerminalSize) => void)[] = [];
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #escapeTimer: ReturnType<typeof setTimeout> | undefined;
  #resizeTimer: ReturnType<typeof setTimeout> | undefined;
  #cleanups: (() => void)[] = [];

  private constructor(opts: TerminalOptions) {
    this.#stdin = opts.stdin ?? Deno.stdin;
    this.#stdout = opts.stdout ?? Deno.stdout;
    this.#sizeOf = opts.size ?? (() => Deno.consoleSize());
  }

  /**
   * Takes over the terminal: restore handlers first (so a signal arriving at any later point still
   * restores), then raw mode and the alternate screen with a hidden cursor.
   */
  static open(opts: TerminalOptions = {}): Terminal {
    const term = new Terminal(opts);
    if (opts.processHandlers ?? true) term.#installProcessHandlers();
    try {
      if (term.#stdin.isTerminal()) {
        term.#stdin.setRaw(true);
        term.#raw = true;
      }
      term.#writeAll(ENTER_SCREEN);
    } catch (err) {
      term.close(); // half-open: give back what was taken, and the handlers
      throw err;
    }
    return term;
  }

  /** The current size, read from the terminal each time (cheap: one ioctl). */
  get size(): TerminalSize {
    try {
      const { columns, rows } = this.#sizeOf();
      if (columns > 0 && rows > 0) return { columns, rows };
    } catch {
      // Not a terminal after all: fall through.
    }
    return { ...FALLBACK_SIZE };
  }

  /** `cb` gets the new size once per burst of SIGWINCH; the next draw() is a full redraw. */
  onResize(cb: (size: TerminalSize) => void): void {
    this.#resizeListeners.push(cb);
    if (this.#resizeListeners.length > 1 || this.#closed) return;
    const onWinch = () => {
      if (this.#resizeTimer !== undefined || this.#closed) return;
      this.#resizeTimer = setTimeout(() => {
        this.#resizeTimer = undefined;
        this.#prevFrame = null;
        const size = this.size;
        for (const listener of this.#resizeListeners) listener(size);
      }, RESIZE_COALESCE_MS);
    };
    Deno.addSignalListener("SIGWINCH", onWinch);
    this.#cleanups.push(() => {
      Deno.removeSignalListener("SIGWINCH", onWinch);
      clearTimeout(this.#resizeTimer);
    });
  }

  /**
   * `cb` gets the keys of each read (see keys.ts), in order. A lone ESC is reported as `escape`
   * after {@link ESCAPE_TIMEOUT_MS} without further input. The first call starts reading stdin.
   */
  onKeys(cb: (keys: Key[]) => void): void {
    this.#keyListeners.push(cb);
    if (this.#reader === undefined && !this.#closed) {
      const reader = this.#stdin.readable.getReader();
      this.#reader = reader;
      // Without the cancel a pending read would keep the process alive after close().
      this.#cleanups.push(() => reader.cancel().catch(() => {}));
      this.#readLoop(reader);
    }
  }

  /**
   * Writes `s` whole, as one piece. Synchronous underneath on purpose: a signal handler's restore
   * can then never land in the middle of a frame (or a frame after the restore). After restore()
   * nothing more is written: the screen is the user's again.
   */
  write(s: string): Promise<void> {
    if (!this.#restored) this.#writeAll(s);
    return Promise.resolve();
  }

  /**
   * Draws a frame (exactly `rows` lines of at most `columns` cells) as the difference from the last
   * one; a full redraw after a resize, a width change or invalidate().
   */
  draw(lines: string[]): Promise<void> {
    const width = this.size.columns;
    if (width !== this.#prevWidth) this.#prevFrame = null;
    const out = diffFrame(this.#prevFrame, lines, width);
    this.#prevFrame = lines;
    this.#prevWidth = width;
    return out === "" ? Promise.resolve() : this.write(out);
  }

  /** Makes the next draw() a full redraw (Ctrl-L, or after something else wrote to the screen). */
  invalidate(): void {
    this.#prevFrame = null;
  }

  /**
   * Gives the terminal back: leaves the alternate screen, shows the cursor, resets colours, ends
   * raw mode. Synchronous and idempotent, so any handler may call it, any number of times.
   */
  restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    try {
      this.#writeAll(LEAVE_SCREEN);
    } catch {
      // The terminal is gone (hangup): nothing left to restore on it.
    }
    if (this.#raw) {
      try {
        this.#stdin.setRaw(false);
      } catch {
        // Same.
      }
      this.#raw = false;
    }
  }

  /** The normal end: restore() and remove every handler and timer this Terminal installed. */
  close(): void {
    this.restore();
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#escapeTimer);
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }

  #writeAll(s: string): void {
    writeAllSync(this.#stdout, s);
  }

  #emitKeys(keys: Key[]): void {
    if (keys.length === 0 || this.#closed) return;
    for (const listener of this.#keyListeners) listener(keys);
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    let pending: Uint8Array = new Uint8Array(0);
    while (!this.#closed) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (this.#closed) return; // the read was cut short by close(): expected
        throw err;
      }
      if (chunk.done || this.#closed) return;
      clearTimeout(this.#escapeTimer);
      const decoded = decodeKeys(chunk.value, pending);
      pending = decoded.rest;
      this.#emitKeys(decoded.keys);
      if (pending.length > 0) {
        this.#escapeTimer = setTimeout(() => {
          const keys = flushPending(pending);
          pending = new Uint8Array(0);
          this.#emitKeys(keys);
        }, ESCAPE_TIMEOUT_MS);
      }
    }
  }

  #installProcessHandlers(): void {
    for (const [signal, code] of SIGNAL_EXIT) {
      const onSignal = () => {
        this.restore();
        Deno.exit(code);
      };
      Deno.addSignalListener(signal, onSignal);
      this.#cleanups.push(() => Deno.removeSignalListener(signal, onSignal));
    }
    const onError = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#die(ev.error ?? ev.message);
    };
    const onRejection = (ev: PromiseRejectionEvent) => {
      ev.preventDefault();
      this.#die(ev.reason);
    };
    const onUnload = () => this.restore();
    globalThis.addEventListener("error", onError);
    globalThis.addEventListener("unhandledrejection", onRejection);
    globalThis.addEventListener("unload", onUnload);
    this.#cleanups.push(() => {
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onRejection);
      globalThis.removeEventListener("unload", onUnload);
    });
  }

  /** An uncaught error: restore first, so the message lands on the user's screen, not the alternate one. */
  #die(err: unknown): never {
    this.restore();
    try {
      writeAllSync(Deno.stderr, `sysmon: ${describeError(err)}\n`);
    } catch {
      // stderr is gone too.
    }
    Deno.exit(1);
  }
}

function writeAllSync(out: TerminalOutput, s: string): void {
  let bytes = encoder.encode(s);
  while (bytes.length > 0) bytes = bytes.subarray(out.writeSync(bytes));
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `internal error: ${String(err)}`;
  let debug = false;
  try {
    debug = Boolean(Deno.env.get("SYSMON_DEBUG"));
  } catch {
    // No env permission: the short form.
  }
  if (debug && err.stack) return err.stack;
  return `internal error: ${err.message} (set SYSMON_DEBUG=1 for details)`;
}
