import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";
import { FIXTURES } from "./helpers.ts";
import { VERSION } from "../src/version.ts";

const noStack = (s: string) => assert(!/\n\s+at /.test(s), `stack trace printed:\n${s}`);

/** One clear line on stderr, exit 2: the contract for every user mistake. */
function assertUsageError(r: { code: number; stderr: string; stdout: string }, includes: string) {
  assertEquals(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assertStringIncludes(r.stderr, includes);
  noStack(r.stderr);
  assertEquals(r.stdout, "");
}

Deno.test("cli: --version prints the version", async () => {
  const r = await sysmon(["--version"]);
  assertEquals(r.code, 0);
  assertEquals(r.stdout.trim(), VERSION);
});

Deno.test("cli: --help lists the commands and global options", async () => {
  const r = await sysmon(["--help"]);
  assertEquals(r.code, 0);
  for (const word of ["snapshot", "config", "completion"]) assertStringIncludes(r.stdout, word);
  const sub = await sysmon(["snapshot", "--help"]);
  for (const flag of ["--format", "--interval", "--procfs", "--config", "--no-color", "--json"]) {
    assertStringIncludes(sub.stdout, flag);
  }
});

Deno.test("cli: an unknown flag is one line and exit 2", async () => {
  const r = await sysmon(["snapshot", "--bogus"]);
  assertUsageError(r, "--bogus");
  assertEquals(r.stderr.trim().split("\n").length, 1);
});

Deno.test("cli: an unknown command is one line and exit 2", async () => {
  assertUsageError(await sysmon(["snapsht"]), "snapsht");
});

Deno.test("cli: a bad duration is one line and exit 2", async () => {
  const r = await sysmon(["snapshot", "--interval", "1x"]);
  assertUsageError(r, '"1x" is not a duration');
  assertEquals(r.stderr.trim().split("\n").length, 1);
});

Deno.test("cli: a missing --config file is one line and exit 2", async () => {
  const r = await sysmon(["snapshot", "--config", "/nonexistent/sysmon.yaml"]);
  assertUsageError(r, "/nonexistent/sysmon.yaml");
  assertEquals(r.stderr.trim().split("\n").length, 1);
});

Deno.test("cli: invalid YAML, an out-of-range value and an unknown key: file, line, key; exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const cases: [string, RegExp][] = [
    ["collectors:\n  interval: [10s\n", /bad\.yaml:\d+/],
    ["collectors:\n  max_entities: 0\n", /bad\.yaml:2.*collectors\.max_entities/],
    ["collectors:\n  cpux:\n    enabled: true\n", /bad\.yaml:2.*collectors\.cpux/],
    ["collectors:\n  interval: 10x\n", /bad\.yaml:2.*collectors\.interval.*10x/],
  ];
  for (const [text, re] of cases) {
    await Deno.writeTextFile(`${dir}/bad.yaml`, text);
    const r = await sysmon(["snapshot", "--config", `${dir}/bad.yaml`]);
    assertEquals(r.code, 2, `${text}: ${r.stderr}`);
    assertMatch(r.stderr, re);
    noStack(r.stderr);
    const v = await sysmon(["config", "validate", `${dir}/bad.yaml`]);
    assertEquals(v.code, 2);
    assertMatch(v.stderr, re);
  }
});

Deno.test("cli: global options work before and after the command", async () => {
  const root = `${FIXTURES}linux-6.18-vm`;
  const before = await sysmon([
    "--procfs",
    `${root}/proc`,
    "--sysfs",
    `${root}/sys`,
    "snapshot",
    "--json",
    "--interval",
    "100ms",
  ]);
  const after = await sysmon([
    "snapshot",
    "--json",
    "--interval",
    "100ms",
    "--procfs",
    `${root}/proc`,
    "--sysfs",
    `${root}/sys`,
  ]);
  for (const r of [before, after]) {
    assertEquals(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    // The fixture's MemTotal (kB × 1024), not this machine's.
    const memTotal = Number(
      Deno.readTextFileSync(`${root}/proc/meminfo`).match(/MemTotal:\s+(\d+)/)![1],
    ) * 1024;
    assertEquals(s.metrics.memory_total, memTotal);
  }
});

Deno.test("cli: --procfs at an empty directory gives per-collector errors; exit 1 only if all failed", async () => {
  const empty = await Deno.makeTempDir();
  const some = await sysmon(["snapshot", "--json", "--interval", "100ms", "--procfs", empty]);
  assertEquals(some.code, 0, some.stderr);
  const s = JSON.parse(some.stdout);
  const failed = s.errors.map((e: { collector: string }) => e.collector);
  for (const c of ["cpu", "loadavg", "meminfo", "diskstats", "netdev", "filesystem"]) {
    assert(failed.includes(c), `${c} should report an error: ${JSON.stringify(s.errors)}`);
  }
  for (const e of s.errors) assertStringIncludes(e.message, empty);
  noStack(some.stderr);

  const all = await sysmon([
    "snapshot",
    "--json",
    "--interval",
    "100ms",
    "--procfs",
    empty,
    "--sysfs",
    empty,
  ]);
  assertEquals(all.code, 1, all.stderr);
  assertStringIncludes(all.stderr, "every collector failed");
  noStack(all.stderr);
});

Deno.test("cli: snapshot | head ends quietly", async () => {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `set -o pipefail; "${Deno.execPath()}" run -A "${main}" snapshot --format prometheus --interval 100ms | head -n 1`,
    ],
    env: { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent", PATH: Deno.env.get("PATH") ?? "" },
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(stderr, "");
  assertEquals(out.code, 0);
  assertMatch(new TextDecoder().decode(out.stdout), /^# HELP /);
});

Deno.test("cli: completion scripts are valid shell and know the commands", async () => {
  const bash = await sysmon(["completion", "bash"]);
  assertEquals(bash.code, 0);
  assertStringIncludes(bash.stdout, "complete -o default -F _sysmon sysmon");
  const file = await Deno.makeTempFile();
  await Deno.writeTextFile(file, bash.stdout);
  const check = await new Deno.Command("bash", { args: ["-n", file] }).output();
  assertEquals(check.code, 0, new TextDecoder().decode(check.stderr));
  // Drive the bash function: `sysmon snapshot --format <TAB>` offers the formats.
  const drive = await new Deno.Command("bash", {
    args: [
      "-c",
      `source ${file}; COMP_WORDS=(sysmon snapshot --format ""); COMP_CWORD=3; _sysmon; echo "\${COMPREPLY[*]}";` +
      ` COMP_WORDS=(sysmon con); COMP_CWORD=1; _sysmon; echo "\${COMPREPLY[*]}";` +
      ` COMP_WORDS=(sysmon config ""); COMP_CWORD=2; _sysmon; echo "\${COMPREPLY[*]}"`,
    ],
  }).output();
  const lines = new TextDecoder().decode(drive.stdout).trim().split("\n");
  assertEquals(lines, ["table json prometheus", "config", "validate show init"]);
  const zsh = await sysmon(["completion", "zsh"]);
  assertEquals(zsh.code, 0);
  assertStringIncludes(zsh.stdout, "#compdef sysmon");
  const bad = await sysmon(["completion", "fish"]);
  assertEquals(bad.code, 2);
  assertStringIncludes(bad.stderr, "fish");
});
