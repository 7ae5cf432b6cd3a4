/**
 * The terminal I/O of `sysmon watch` (src/ui/term/terminal.ts): over fake streams, and for real on a
 * pty — tests/fixtures/watch_term/child.ts run under util-linux `script`, which gives it a pty and
 * copies everything written to it to our pipe.
 */
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import {
  Terminal,
  type TerminalInput,
  type TerminalOutput,
  type TerminalSize,
} from "../src/ui/term/terminal.ts";
import { ENTER_SCREEN, LEAVE_SCREEN } from "../src/ui/term/screen.ts";
import type { Key } from "../src/ui/term/keys.ts";

const ESC = "\x1b";
const LEAVE_ALT_THEN_SHOW_CURSOR = `${ESC}[?1049l${ESC}[?25h`;
const REPO = new URL("../", import.meta.url).pathname;
const CHILD = new URL("./fixtures/watch_term/child.ts", import.meta.url).pathname;

// ---- over fake streams ---------------------------------------------------------------------

class FakeOutput implements TerminalOutput {
  text = "";
  calls = 0;
  /** Accepts at most `chunk` bytes per call, as a busy pty may. */
  constructor(private chunk = Infinity) {}
  writeSync(p: Uint8Array): number {
    this.calls++;
    const n = Math.min(p.length, this.chunk);
    this.text += new TextDecoder().decode(p.subarray(0, n));
    return n;
  }
}

class FakeInput implements TerminalInput {
  rawCalls: boolean[] = [];
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly readable = new ReadableStream<Uint8Array>({ start: (c) => void (this.#controller = c) });
  constructor(private terminal = true) {}
  setRaw(mode: boolean) {
    this.rawCalls.push(mode);
  }
  isTerminal() {
    return this.terminal;
  }
  type(s: string) {
    this.#controller.enqueue(new TextEncoder().encode(s));
  }
}

function fakeTerminal(opts: { chunk?: number; size?: TerminalSize; tty?: boolean } = {}) {
  const stdin = new FakeInput(opts.tty ?? true);
  const stdout = new FakeOutput(opts.chunk);
  let size = opts.size ?? { columns: 20, rows: 3 };
  const term = Terminal.open({ stdin, stdout, size: () => size, processHandlers: false });
  return { term, stdin, stdout, resize: (s: TerminalSize) => (size = s) };
}

Deno.test("Terminal: open enters raw mode and the alternate screen; restore undoes both, once", () => {
  const { term, stdin, stdout } = fakeTerminal();
  assertEquals(stdin.rawCalls, [true]);
  assertEquals(stdout.text, ENTER_SCREEN);
  term.restore();
  term.restore();
  term.close();
  assertEquals(stdin.rawCalls, [true, false]);
  assertEquals(stdout.text, ENTER_SCREEN + LEAVE_SCREEN);
});

Deno.test("Terminal: stdin that is not a terminal is never put in raw mode", () => {
  const { term, stdin } = fakeTerminal({ tty: false });
  term.close();
  assertEquals(stdin.rawCalls, []);
});

Deno.test("Terminal: write sends all of a string through partial writes; nothing after restore", async () => {
  const { term, stdout } = fakeTerminal({ chunk: 7 });
  const frame = "x".repeat(50) + "日本語" + "y".repeat(50);
  await term.write(frame);
  assertEquals(stdout.text, ENTER_SCREEN + frame);
  term.close();
  await term.write("late");
  assertEquals(stdout.text, ENTER_SCREEN + frame + LEAVE_SCREEN);
});

Deno.test("Terminal: draw sends a full frame, then only changes, then a full frame after a width change", async () => {
  const { term, stdout, resize } = fakeTerminal();
  const at = () => stdout.text.length;
  let mark = at();
  await term.draw(["a", "b", "c"]);
  assertStringIncludes(stdout.text.slice(mark), `${ESC}[2J`);
  mark = at();
  await term.draw(["a", "B", "c"]);
  const partial = stdout.text.slice(mark);
  // deno-lint-ignore no-control-regex -- escape sequences are what this matches
  assertEquals([...partial.matchAll(/\x1b\[(\d+);1H/g)].map((m) => m[1]), ["2"]);
  mark = at();
  await term.draw(["a", "B", "c"]);
  assertEquals(at(), mark, "an unchanged frame writes nothing");
  resize({ columns: 30, rows: 3 });
  await term.draw(["a", "B", "c"]);
  assertStringIncludes(stdout.text.slice(mark), `${ESC}[2J`);
  mark = at();
  term.invalidate();
  await term.draw(["a", "B", "c"]);
  assertStringIncludes(stdout.text.slice(mark), `${ESC}[2J`);
  term.close();
});

Deno.test("Terminal: size falls back to 80x24 when the terminal reports none", () => {
  const { term } = fakeTerminal({ size: { columns: 0, rows: 0 } });
  assertEquals(term.size, { columns: 80, rows: 24 });
  term.close();
});

Deno.test("Terminal: keys arrive decoded, sequences split across reads included", async () => {
  const { term, stdin } = fakeTerminal();
  const got: Key[][] = [];
  let wake = () => {};
  term.onKeys((keys) => {
    got.push(keys);
    wake();
  });
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  let arrived = next();
  stdin.type(`q${ESC}[`);
  await arrived;
  arrived = next();
  stdin.type(`6~${ESC}OA`);
  await arrived;
  assertEquals(got, [["q"], ["pgdn", "up"]]);
  // A lone ESC becomes the Escape key once no more bytes follow (after the short escape timeout).
  arrived = next();
  stdin.type(ESC);
  await arrived;
  assertEquals(got.at(-1), ["escape"]);
  term.close();
});

// ---- on a real pty -------------------------------------------------------------------------

async function hasScript(): Promise<boolean> {
  try {
    const out = await new Deno.Command("script", { args: ["--version"], stdout: "piped" }).output();
    return out.success && new TextDecoder().decode(out.stdout).includes("util-linux");
  } catch {
    return false;
  }
}

const PTY = await hasScript();
if (!PTY) {
  console.warn(
    "watch_terminal_test: util-linux `script` is not installed: the pty tests are skipped",
  );
}

/** The child on a pty; `text` is everything it wrote to the terminal, as the user's terminal got it. */
class PtyChild {
  text = "";
  #proc: Deno.ChildProcess;
  #out: ReadableStreamDefaultReader<string>;
  #in: WritableStreamDefaultWriter<Uint8Array>;

  constructor(mode: string) {
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    const command = [Deno.execPath(), "run", "-A", CHILD, mode].map(quote).join(" ");
    // -q: no banner; -f: flush each write; -e: the child's exit status; -c: the command.
    this.#proc = new Deno.Command("script", {
      args: ["-qfec", command, "/dev/null"],
      cwd: REPO,
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#out = this.#proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#in = this.#proc.stdin.getWriter();
  }

  /** Reads until `what` has been written; fails with everything written if the child ends first. */
  async waitFor(what: string): Promise<void> {
    while (!this.text.includes(what)) {
      const { done, value } = await this.#out.read();
      if (done) throw new Error(`child ended before writing ${JSON.stringify(what)}: ${this.text}`);
      this.text += value;
    }
  }

  async type(s: string): Promise<void> {
    await this.#in.write(new TextEncoder().encode(s));
  }

  /** Waits for the child to end: its exit code and all it wrote. */
  async finish(): Promise<{ code: number; text: string }> {
    await this.#in.close();
    for (;;) {
      const { done, value } = await this.#out.read();
      if (done) break;
      this.text += value;
    }
    const { code } = await this.#proc.status;
    return { code, text: this.text };
  }
}

async function runToEnd(mode: string) {
  return await new PtyChild(mode).finish();
}

/** What came after the terminal was given back (the last restore). */
function afterRestore(text: string): string {
  const at = text.lastIndexOf(LEAVE_SCREEN);
  assert(at >= 0, `no restore in ${JSON.stringify(text)}`);
  return text.slice(at + LEAVE_SCREEN.length);
}

function assertRestoredOnce(text: string) {
  assert(
    text.startsWith(ENTER_SCREEN),
    `no alternate screen at the start: ${JSON.stringify(text)}`,
  );
  assertEquals(text.split(LEAVE_SCREEN).length - 1, 1, "restore writes once (it is idempotent)");
  assert(
    text.lastIndexOf("frame line two") < text.lastIndexOf(LEAVE_SCREEN),
    "the restore comes after the frame",
  );
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130], ["SIGHUP", 129]] as const) {
  Deno.test({
    name: `Terminal on a pty: ${signal} restores the terminal, then exits ${code}`,
    ignore: !PTY,
    fn: async () => {
      const { code: actual, text } = await runToEnd(signal);
      assertStringIncludes(text, "frame line one");
      assert(
        text.endsWith(LEAVE_ALT_THEN_SHOW_CURSOR),
        `output does not end by leaving the alternate screen and showing the cursor: ${
          JSON.stringify(text.slice(-80))
        }`,
      );
      assertRestoredOnce(text);
      assertEquals(actual, code);
    },
  });
}

for (
  const [mode, message] of [["error", "boom from a timer"], ["rejection", "boom from a promise"]]
) {
  Deno.test({
    name:
      `Terminal on a pty: an uncaught ${mode} restores the terminal, prints the message, exits 1`,
    ignore: !PTY,
    fn: async () => {
      const { code, text } = await runToEnd(mode);
      assertRestoredOnce(text);
      // The message goes to the user's screen (after leaving the alternate one), on its own line.
      assertEquals(
        afterRestore(text),
        `sysmon: internal error: ${message} (set SYSMON_DEBUG=1 for details)\r\n`,
      );
      assertEquals(code, 1);
    },
  });
}

Deno.test({
  name: "Terminal on a pty: close() restores the tty settings and lets the process end",
  ignore: !PTY,
  fn: async () => {
    const { code, text } = await runToEnd("close");
    assertRestoredOnce(text);
    assertEquals(afterRestore(text), "closed normally; raw while open: true; restored: true\r\n");
    assertEquals(code, 0);
  },
});

Deno.test({
  name: "Terminal on a pty: keys typed in raw mode arrive decoded; Ctrl-C is a key, not a signal",
  ignore: !PTY,
  fn: async () => {
    const child = new PtyChild("keys");
    await child.waitFor("READY");
    await child.type(`${ESC}[A${ESC}OB${ESC}[5~x?\x03`);
    await child.waitFor("KEYS up down pgup help ctrl-c;");
    await child.type(ESC);
    await child.waitFor("KEYS up down pgup help ctrl-c escape;");
    await child.type("q");
    const { code, text } = await child.finish();
    assertEquals(
      afterRestore(text),
      'RESULT ["up","down","pgup","help","ctrl-c","escape","q"]\r\n',
    );
    assertEquals(code, 0);
  },
});

Deno.test({
  name: "Terminal on a pty: a window size change reaches onResize with the new size",
  ignore: !PTY,
  fn: async () => {
    const { code, text } = await runToEnd("resize");
    assertStringIncludes(text, "SIZE 100x30");
    assertEquals(afterRestore(text), 'RESULT {"columns":100,"rows":30}\r\n');
    assertEquals(code, 0);
  },
});
