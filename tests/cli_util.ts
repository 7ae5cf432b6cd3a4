/** Runs the real CLI (`deno run -A main.ts …`) as a user would, capturing output and exit code. */
const MAIN = new URL("../main.ts", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function sysmon(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; entry?: string } = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", opts.entry ?? MAIN, ...args],
    env: {
      NO_COLOR: "1",
      // HOME stays real (Deno's module cache lives there); XDG_CONFIG_HOME hides any user config.
      XDG_CONFIG_HOME: "/nonexistent-xdg",
      ...opts.env,
    },
    cwd: opts.cwd,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
