/**
 * Shared helpers of the live cross-check tests (tests/live_disk_test.ts, tests/live_net_test.ts):
 * running commands, the measurement window shared with sysstat, parsers for iostat and sar output,
 * and the tolerance check that prints every measured difference.
 */
import type { Sampler } from "../src/core/sampler.ts";
import type { Sample } from "../src/core/model.ts";

/** The environment sysstat runs in: C locale (English "Average:", dot decimals, 24-hour times), no colours. */
export function sysstatEnv(): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    LC_ALL: "C",
    S_COLORS: "never",
  };
}

/** Throws a clear error when a program the test needs is not installed. */
export function requireCommand(name: string, debianPackage: string): void {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  for (const dir of dirs) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `'${name}' is not installed: the live cross-check needs it (apt-get install ${debianPackage}; ` +
      `scripts/test.sh installs it on CI)`,
  );
}

/** Runs a command to completion; throws with its stderr when it fails. Returns stdout. */
export async function run(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env,
    clearEnv: env !== undefined,
  }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}): ${dec.decode(out.stderr).trim()}`,
    );
  }
  return dec.decode(out.stdout);
}

/** Like run() but a failure is ignored (clean-up steps that may find nothing to remove). */
export async function runQuietly(cmd: string, args: string[]): Promise<void> {
  await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
}

// ---------------------------------------------------------------------------------------------
// The shared window

export interface Window {
  /** sysmon's sample with the rates over the window (the second reading). */
  sample: Sample;
  /** What the sysstat command printed. */
  stdout: string;
  /** Length of sysmon's window in seconds. */
  seconds: number;
}

/**
 * Takes sysmon's readings around one run of a sysstat command (`iostat … N 1`, `sar … N 1`):
 * reading 1 right after the command is spawned (sysstat's own first read follows within a few ms,
 * once it has started), reading 2 right after it exits (its second read came just before it printed).
 * The two windows therefore differ by a few ms at each end; with a steady load over a window of
 * seconds that shifts the rates by well under 1 % (the tests print sysmon's window length).
 */
export async function measureAlongside(
  sampler: Sampler,
  cmd: string,
  args: string[],
): Promise<Window> {
  const child = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: sysstatEnv(),
    clearEnv: true,
  }).spawn();
  const first = await sampler.collect();
  const t0 = performance.now();
  const out = await child.output();
  const sample = await sampler.collect();
  const seconds = (performance.now() - t0) / 1000;
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}): ${dec.decode(out.stderr)}`,
    );
  }
  if (first.interval !== null) {
    throw new Error("sampler was not fresh: reading 1 already had rates");
  }
  return { sample, stdout: dec.decode(out.stdout), seconds };
}

// ---------------------------------------------------------------------------------------------
// Child processes that signal readiness on stdout

export interface Helper {
  /** The first stdout line (the child's "ready" message). */
  firstLine: string;
  /** Stops the child (SIGTERM) and waits for it; returns its stderr for diagnostics. */
  stop(): Promise<string>;
}

/**
 * Spawns a helper process and waits until it prints its first line. Rejects if it exits first or
 * stays silent for `timeoutMs`. Output after the first line is drained so the child never blocks.
 */
export async function startHelper(
  cmd: string,
  args: string[],
  timeoutMs = 10_000,
): Promise<Helper> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
  const dec = new TextDecoder();
  let stdout = "";
  let stderr = "";
  let onLine: (line: string) => void = () => {};
  const lineSeen = new Promise<string>((resolve) => (onLine = resolve));
  const drainOut = (async () => {
    for await (const chunk of child.stdout) {
      stdout += dec.decode(chunk, { stream: true });
      const nl = stdout.indexOf("\n");
      if (nl >= 0) onLine(stdout.slice(0, nl));
    }
  })();
  const drainErr = (async () => {
    for await (const chunk of child.stderr) stderr += dec.decode(chunk, { stream: true });
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const finish = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited in between
      }
    }
    await status;
    await drainOut;
    await drainErr;
    return stderr;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((
    resolve,
  ) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  const exitedFirst = status.then(() => "exited" as const);
  const first = await Promise.race([lineSeen, timeout, exitedFirst]);
  clearTimeout(timer);
  if (first === "timeout" || first === "exited") {
    const err = await finish();
    throw new Error(
      `${cmd} ${args.slice(0, 3).join(" ")} … did not start (${first}): ${err.trim()}`,
    );
  }
  return { firstLine: first, stop: finish };
}

// ---------------------------------------------------------------------------------------------
// Parsers (pure)

/** One device's columns from an iostat -x report, keyed as iostat names them without a leading '%'. */
export type IostatRow = Record<string, number>;

/** iostat -o JSON: the last report's entry for `device`. Keys as iostat writes them ("w/s", "util"). */
export function parseIostatJson(text: string, device: string): IostatRow {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`iostat JSON output is not JSON: ${(err as Error).message}`);
  }
  // deno-lint-ignore no-explicit-any
  const stats: any[] | undefined = (doc as any)?.sysstat?.hosts?.[0]?.statistics;
  if (!Array.isArray(stats)) {
    throw new Error("iostat JSON output has no sysstat.hosts[0].statistics");
  }
  for (let i = stats.length - 1; i >= 0; i--) {
    const disks = stats[i]?.disk;
    if (!Array.isArray(disks)) continue;
    const entry = disks.find((d: Record<string, unknown>) => d.disk_device === device);
    if (!entry) continue;
    const row: IostatRow = {};
    for (const [k, v] of Object.entries(entry)) {
      if (typeof v === "number") row[k.replace(/^%/, "")] = v;
    }
    return row;
  }
  throw new Error(`iostat JSON output has no report for device ${device}`);
}

const words = (line: string) => line.trim().split(/\s+/);

/** iostat -x text: the last "Device …" header and the row of `device` below it. */
export function parseIostatText(text: string, device: string): IostatRow {
  let header: string[] | undefined;
  let row: IostatRow | undefined;
  for (const line of text.split("\n")) {
    const w = words(line);
    if (w[0] === "Device" || w[0] === "Device:") header = w;
    else if (header && w[0] === device) {
      if (w.length !== header.length) {
        throw new Error(
          `iostat row for ${device} has ${w.length} columns, header ${header.length}`,
        );
      }
      row = {};
      for (let i = 1; i < w.length; i++) row[header[i].replace(/^%/, "")] = Number(w[i]);
    }
  }
  if (!row) throw new Error(`iostat output has no row for device ${device}:\n${text}`);
  return row;
}

/** One interface's columns from sar -n DEV's "Average:" block (rxpck/s, txkB/s, %ifutil → ifutil …). */
export function parseSarDev(text: string, iface: string): Record<string, number> {
  let header: string[] | undefined;
  for (const line of text.split("\n")) {
    const w = words(line);
    if (w[0] !== "Average:") continue;
    if (w[1] === "IFACE") header = w;
    else if (header && w[1] === iface) {
      if (w.length !== header.length) {
        throw new Error(`sar row for ${iface} has ${w.length} columns, header ${header.length}`);
      }
      const row: Record<string, number> = {};
      for (let i = 2; i < w.length; i++) row[header[i].replace(/^%/, "")] = Number(w[i]);
      return row;
    }
  }
  throw new Error(`sar -n DEV output has no Average row for interface ${iface}:\n${text}`);
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Check {
  metric: string;
  sysmon: number | null | undefined;
  sysstat: number;
  /** Allowed relative difference (0.05 = 5 % of sysstat's value). */
  rel: number;
  /** Allowed absolute difference for tiny values, in `unit` (justified where the check is built). */
  floor: number;
  unit: string;
}

/**
 * Checks every pair against max(rel × |sysstat|, floor), prints all measured differences (the
 * record the issue asks for), and returns the failures as readable lines.
 */
export function compare(title: string, checks: Check[]): string[] {
  const failures: string[] = [];
  const lines = [`${title}:`];
  for (const c of checks) {
    const allowed = Math.max(c.rel * Math.abs(c.sysstat), c.floor);
    const v = c.sysmon;
    const diff = typeof v === "number" ? v - c.sysstat : NaN;
    const pct = c.sysstat !== 0 ? (diff / c.sysstat * 100).toFixed(2) + " %" : "n/a";
    const line = `  ${c.metric.padEnd(22)} sysmon ${fmt(v)} sysstat ${fmt(c.sysstat)} ${c.unit}` +
      `  diff ${fmt(diff)} (${pct}), allowed ±${fmt(allowed)}`;
    lines.push(line);
    if (!(Math.abs(diff) <= allowed)) failures.push(line.trim());
  }
  console.log(lines.join("\n"));
  return failures;
}

function fmt(v: number | null | undefined): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
