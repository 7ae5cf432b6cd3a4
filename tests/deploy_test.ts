/**
 * deploy/: the systemd units pass `systemd-analyze verify` against a scratch root, and the lines
 * the sandbox and the `sysmon record` contract depend on are there (and stay the same in both
 * services). The cron example is checked for the format /etc/cron.d needs.
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "./assert.ts";

const DEPLOY = new URL("../deploy/", import.meta.url).pathname;
const DAEMON = "sysmon-record.service";
const ONCE = "sysmon-record-once.service";
const TIMER = "sysmon-record-once.timer";
const UNITS = [DAEMON, ONCE, TIMER];
const BINARY = "/usr/local/bin/sysmon";

// ---------------------------------------------------------------------------------------------
// A small unit-file reader: sections of key=value entries, repeated keys kept in order
// ---------------------------------------------------------------------------------------------

type Entry = { key: string; value: string };
type UnitFile = Map<string, Entry[]>;

/** Parses systemd's ini dialect: `#`/`;` comments, `[Section]`, `Key=Value`, `\` continuations. */
function parseUnit(text: string, name: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Entry[] | undefined;
  let pending = "";
  for (const [i, raw] of text.split("\n").entries()) {
    const line = pending + raw.trim();
    pending = "";
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) {
      pending = line.slice(0, -1) + " ";
      continue;
    }
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = [];
      unit.set(header[1], section);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0 || section === undefined) throw new Error(`${name}:${i + 1}: cannot parse ${line}`);
    section.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return unit;
}

function readUnit(name: string): UnitFile {
  return parseUnit(Deno.readTextFileSync(DEPLOY + "systemd/" + name), name);
}

/** Every value of `key` in `section`, in order. */
function values(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter((e) => e.key === key).map((e) => e.value);
}

/** The single value of `key`; fails when it is missing or set more than once. */
function value(unit: UnitFile, section: string, key: string): string {
  const all = values(unit, section, key);
  assertEquals(all.length, 1, `${section}/${key} should be set exactly once, found ${all.length}`);
  return all[0];
}

// ---------------------------------------------------------------------------------------------
// systemd-analyze verify
// ---------------------------------------------------------------------------------------------

function findOnPath(program: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const st = Deno.statSync(`${dir}/${program}`);
      if (st.isFile && (st.mode ?? 0) & 0o111) return `${dir}/${program}`;
    } catch { /* not in this directory */ }
  }
  return undefined;
}

const ANALYZE = findOnPath("systemd-analyze");
// Skipped only on a developer machine without systemd; under CI a missing binary is a failure.
const SKIP_VERIFY = ANALYZE === undefined && Deno.env.get("CI") !== "true";

/** The distribution's unit directory: default dependencies (sysinit.target…) must resolve. */
function systemUnitDir(): string {
  for (const dir of ["/usr/lib/systemd/system", "/lib/systemd/system"]) {
    try {
      if (Deno.statSync(`${dir}/sysinit.target`).isFile) return dir;
    } catch { /* try the next one */ }
  }
  throw new Error("no systemd unit directory with sysinit.target (/usr/lib/systemd/system)");
}

async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * A scratch root holding what verify looks at: the distribution's units (copied: symlinks out of
 * --root would be followed inside it), ours in /etc/systemd/system, and an executable stand-in at
 * the ExecStart path, since verify fails a unit whose program does not exist.
 */
async function scratchRoot(units: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "sysmon-deploy-" });
  await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
  const cp = await run("cp", ["-a", systemUnitDir(), `${root}/usr/lib/systemd/system`]);
  assertEquals(cp.code, 0, `copying the system units failed: ${cp.stderr}`);
  await Deno.mkdir(`${root}/usr/local/bin`, { recursive: true });
  await Deno.writeTextFile(`${root}${BINARY}`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  await Deno.chmod(`${root}${BINARY}`, 0o755);
  await Deno.mkdir(`${root}/etc/systemd/system`, { recursive: true });
  for (const [name, text] of Object.entries(units)) {
    await Deno.writeTextFile(`${root}/etc/systemd/system/${name}`, text);
  }
  return root;
}

/** verify's whole output for one unit of the scratch root; clean means exit 0 and no output. */
async function verify(root: string, unit: string) {
  if (ANALYZE === undefined) {
    throw new Error(
      "systemd-analyze is not installed (Debian package `systemd`; scripts/test.sh installs it)",
    );
  }
  const res = await run(ANALYZE, [
    "verify",
    `--root=${root}`,
    "--man=no", // no man: links to check, and none of the host's man pages matter here
    "--generators=no", // the host's generators are no part of these units
    `${root}/etc/systemd/system/${unit}`,
  ]);
  return { code: res.code, output: (res.stdout + res.stderr).trim() };
}

function ourUnits(): Record<string, string> {
  return Object.fromEntries(
    UNITS.map((name) => [name, Deno.readTextFileSync(DEPLOY + "systemd/" + name)]),
  );
}

Deno.test({
  name: "deploy: systemd-analyze verify reports nothing for each unit",
  ignore: SKIP_VERIFY,
  async fn(t) {
    const root = await scratchRoot(ourUnits());
    try {
      for (const unit of UNITS) {
        await t.step(unit, async () => {
          const res = await verify(root, unit);
          assertEquals(res.output, "", `systemd-analyze verify ${unit} said:\n${res.output}`);
          assertEquals(res.code, 0, `systemd-analyze verify ${unit} exited ${res.code}`);
        });
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "deploy: the verify harness does report a broken unit (unknown key, missing program)",
  ignore: SKIP_VERIFY,
  async fn() {
    const units = ourUnits();
    units[DAEMON] = units[DAEMON].replace("[Service]\n", "[Service]\nNoSuchSetting=yes\n");
    units[ONCE] = units[ONCE].replace(BINARY, "/usr/local/bin/not-there");
    const root = await scratchRoot(units);
    try {
      const unknownKey = await verify(root, DAEMON);
      assertMatch(unknownKey.output, /Unknown key 'NoSuchSetting'/);
      const missing = await verify(root, ONCE);
      assertMatch(missing.output, /not-there/);
      assertNotEquals(missing.code, 0);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------------------------------------
// The lines that matter
// ---------------------------------------------------------------------------------------------

/** ExecStart as argv, and a check that it runs the installed binary. */
function execStart(unit: UnitFile): string[] {
  const argv = value(unit, "Service", "ExecStart").split(/\s+/);
  assertEquals(argv[0], BINARY);
  return argv.slice(1);
}

Deno.test("deploy: the daemon runs `sysmon record` hardened, restarts on failure", () => {
  const daemon = readUnit(DAEMON);
  const args = execStart(daemon);
  assertEquals(args[0], "record");
  assert(!args.includes("--once"), "the daemon must not pass --once");
  assert(["simple", "exec"].includes(value(daemon, "Service", "Type")));
  assertEquals(value(daemon, "Service", "Restart"), "on-failure");
  assertEquals(value(daemon, "Service", "KillSignal"), "SIGTERM");
  assertMatch(value(daemon, "Service", "TimeoutStopSec"), /^\d+s$/);
  assertEquals(value(daemon, "Install", "WantedBy"), "multi-user.target");
});

Deno.test("deploy: the one-shot service runs `sysmon record --once`", () => {
  const once = readUnit(ONCE);
  const args = execStart(once);
  assertEquals(args[0], "record");
  assert(args.includes("--once"), `ExecStart should pass --once: ${args.join(" ")}`);
  assertEquals(value(once, "Service", "Type"), "oneshot");
  // Started by the timer only: enabling it alone would record once per boot.
  assertEquals(once.get("Install"), undefined);
});

Deno.test("deploy: both services carry the sandbox the record contract relies on", () => {
  for (const name of [DAEMON, ONCE]) {
    const unit = readUnit(name);
    const expect = (key: string, want: string) =>
      assertEquals(value(unit, "Service", key), want, `${name}: ${key}`);
    expect("DynamicUser", "yes");
    // sysmon's default data directory is $STATE_DIRECTORY, i.e. /var/lib/sysmon.
    expect("StateDirectory", "sysmon");
    expect("ProtectSystem", "strict");
    // yes or tmpfs would replace /home with a stand-in and statfs would measure that.
    expect("ProtectHome", "read-only");
    expect("PrivateTmp", "yes");
    expect("NoNewPrivileges", "yes");
    expect("ProtectKernelTunables", "yes");
    expect("ProtectControlGroups", "yes");
    expect("RestrictAddressFamilies", "AF_UNIX");
    expect("LockPersonality", "yes");
    expect("SystemCallArchitectures", "native");
    expect("CapabilityBoundingSet", "");
    assertMatch(value(unit, "Service", "MemoryMax"), /^\d+[MG]$/, `${name}: MemoryMax`);
    // V8 needs writable+executable memory; each of the others hides what sysmon measures.
    for (const key of ["MemoryDenyWriteExecute", "PrivateNetwork", "ProtectProc", "ProcSubset"]) {
      assertEquals(values(unit, "Service", key), [], `${name} must not set ${key}`);
    }
  }
});

Deno.test("deploy: the two services share one sandbox, line for line", () => {
  // What differs between a daemon and a one-shot run; everything else must be identical.
  const runControl = new Set([
    "Type",
    "ExecStart",
    "Restart",
    "RestartSec",
    "RestartPreventExitStatus",
    "TimeoutStartSec",
    "TimeoutStopSec",
    "KillSignal",
  ]);
  const sandbox = (name: string) =>
    (readUnit(name).get("Service") ?? [])
      .filter((e) => !runControl.has(e.key))
      .map((e) => `${e.key}=${e.value}`);
  const daemon = sandbox(DAEMON);
  assert(daemon.length >= 20, `expected a full sandbox, found ${daemon.length} lines`);
  assertEquals(sandbox(ONCE), daemon);
});

Deno.test("deploy: the timer starts the one-shot service every minute and excludes the daemon", () => {
  const timer = readUnit(TIMER);
  assertEquals(value(timer, "Timer", "Unit"), ONCE);
  assertEquals(value(timer, "Timer", "AccuracySec"), "1s");
  assertEquals(value(timer, "Timer", "Persistent"), "false");
  // The jitter is sysmon's own (--jitter), not systemd's.
  assertEquals(value(timer, "Timer", "RandomizedDelaySec"), "0");
  assertEquals(value(timer, "Timer", "OnCalendar"), "*-*-* *:*:00");
  assertEquals(value(timer, "Install", "WantedBy"), "timers.target");
  // Two recorders cannot share the data directory: systemd stops one when the other starts.
  assertEquals(value(timer, "Unit", "Conflicts"), DAEMON);
  assertEquals(value(readUnit(DAEMON), "Unit", "Conflicts"), TIMER);
});

Deno.test("deploy: the cron example is a valid /etc/cron.d line running record --once as sysmon", () => {
  const name = "sysmon-record";
  // cron ignores /etc/cron.d files whose names contain a dot, and a last line without a newline.
  assertMatch(name, /^[A-Za-z0-9_-]+$/);
  const text = Deno.readTextFileSync(DEPLOY + "cron/" + name);
  assert(text.endsWith("\n"), "the file must end with a newline");
  const jobs = text.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  assertEquals(jobs.length, 1, `expected one job line, found:\n${jobs.join("\n")}`);
  const fields = jobs[0].trim().split(/\s+/);
  // minute hour day-of-month month day-of-week user command…; every minute, like the timer.
  assertEquals(fields.slice(0, 5), ["*", "*", "*", "*", "*"]);
  assertEquals(fields[5], "sysmon");
  assertEquals(fields[6], BINARY);
  const args = fields.slice(7);
  assertEquals(args.slice(0, 2), ["record", "--once"]);
  // Not root, so sysmon would not choose /var/lib/sysmon by itself.
  const data = args.indexOf("--data");
  assert(data >= 0, "the cron job must pass --data");
  assertEquals(args[data + 1], "/var/lib/sysmon");
});
