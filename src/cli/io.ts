/** Process I/O for commands: whole writes, quiet exit on a closed pipe, TTY and colour detection. */

const encoder = new TextEncoder();

/** Thrown when stdout's reader went away (`sysmon snapshot | head`): the command ends quietly. */
export class ClosedPipe extends Error {
  constructor() {
    super("stdout closed");
    this.name = "ClosedPipe";
  }
}

function writeAllSync(w: { writeSync(p: Uint8Array): number }, text: string) {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) {
    const n = w.writeSync(bytes);
    bytes = bytes.subarray(n);
  }
}

export function writeStdout(text: string): void {
  try {
    writeAllSync(Deno.stdout, text);
  } catch (err) {
    if (err instanceof Deno.errors.BrokenPipe) throw new ClosedPipe();
    throw err;
  }
}

export function writeStderr(text: string): void {
  try {
    writeAllSync(Deno.stderr, text);
  } catch {
    // Nothing sensible left to do when stderr is gone.
  }
}

export const stdoutIsTTY = (): boolean => Deno.stdout.isTerminal();

/** Colour only on a terminal, never with NO_COLOR set (any value) or --no-color. */
export function useColor(flagColor: boolean | undefined, env: Record<string, string | undefined>) {
  if (flagColor === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stdoutIsTTY();
}
