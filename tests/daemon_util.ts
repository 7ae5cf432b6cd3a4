/** Long-running child processes for end-to-end tests: output kept, stopped for sure. */

/** One stdout line and when the test read it (epoch ms): for "within N seconds" checks. */
export interface Line {
  text: string;
  receivedAt: number;
}

/** A child process whose output is kept for assertions and failure messages. */
export interface Daemon {
  readonly name: string;
  /** Every complete stdout line so far (and a last unterminated one at exit), with its time. */
  readonly lines: Line[];
  /** Everything the process printed on stdout. */
  stdout(): string;
  /** Everything the process printed on stderr. */
  stderr(): string;
  /** The last lines of both, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; waits for the exit and the output pipes. */
  stop(): Promise<Deno.CommandStatus>;
  /** The exit status once the process has ended, else undefined. */
  exited(): Deno.CommandStatus | undefined;
}

export function spawnDaemon(
  name: string,
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Daemon {
  const child = new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  const err: string[] = [];
  const both: string[] = [];
  const sink = (into: string[], also?: (c: string) => void) =>
    new WritableStream<string>({
      write: (c) => {
        into.push(c);
        both.push(c);
        also?.(c);
      },
    });
  const lines: Line[] = [];
  let rest = "";
  const splitLines = (chunk: string) => {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      lines.push({ text: rest.slice(0, nl), receivedAt: Date.now() });
      rest = rest.slice(nl + 1);
    }
  };
  const drained = Promise.all([
    child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(sink(out, splitLines)),
    child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(sink(err)),
  ]).then(() => {
    if (rest) lines.push({ text: rest, receivedAt: Date.now() });
  });
  let status: Deno.CommandStatus | undefined;
  const ended = child.status.then((s) => status = s);
  return {
    name,
    lines,
    stdout: () => out.join(""),
    stderr: () => err.join(""),
    output: () => `--- ${name}:\n` + (both.join("").slice(-4000).trim() || "(no output)"),
    exited: () => status,
    async stop() {
      if (!status) {
        try {
          child.kill("SIGTERM");
        } catch { /* exited meanwhile */ }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* exited meanwhile */ }
        }, 10_000);
        await ended;
        clearTimeout(timer);
      }
      await drained;
      return status!;
    },
  };
}
