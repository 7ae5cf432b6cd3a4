/** `sysmon record` as users run it: cron one-shots, the lock, bad input, daemon stop on SIGTERM. */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";
import { acquireLock } from "../src/store/lock.ts";
import { decodeJsonSample } from "../src/store/codec.ts";
import type { Sample } from "../src/core/model.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Every sample stored in the plain raw files of `dir`. */
async function rawSamples(dir: string): Promise<Sample[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${dir}/raw`)) {
    if (e.name.endsWith(".jsonl")) names.push(e.name);
  }
  const out: Sample[] = [];
  for (const n of names.sort()) {
    const lines = (await Deno.readTextFile(`${dir}/raw/${n}`)).split("\n").slice(1);
    for (const l of lines) if (l) out.push(decodeJsonSample(l));
  }
  return out;
}

Deno.test("record --once: the first run is a baseline, the next one (2 s later) has rates", async () => {
  const dir = await Deno.makeTempDir();
  const first = await sysmon(["record", "--once", "--data", dir]);
  assertEquals(first.code, 0, first.stderr);
  assertStringIncludes(first.stderr, "baseline");
  await new Promise((r) => setTimeout(r, 2000));
  const second = await sysmon(["record", "--once", "--data", dir]);
  assertEquals(second.code, 0, second.stderr);
  const samples = await rawSamples(dir);
  assertEquals(samples.length, 2);
  assertEquals(samples[0].interval, null);
  assertEquals(samples[0].metrics.cpu_usage_percent, null);
  const dt = samples[1].interval!;
  assert(dt > 1.5 && dt < 6, `interval ${dt}`);
  const cpu = samples[1].metrics.cpu_usage_percent!;
  assert(typeof cpu === "number" && cpu >= 0 && cpu <= 100, `cpu ${cpu}`);
  const state = JSON.parse(await Deno.readTextFile(`${dir}/state/record.state.json`));
  assertEquals(state.bootId, (await Deno.readTextFile("/proc/sys/kernel/random/boot_id")).trim());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record --once: a reboot since the last run gives a baseline, not a rate", async () => {
  const dir = await Deno.makeTempDir();
  assertEquals((await sysmon(["record", "--once", "--data", dir])).code, 0);
  const path = `${dir}/state/record.state.json`;
  const state = JSON.parse(await Deno.readTextFile(path));
  state.bootId = "00000000-0000-0000-0000-000000000000";
  await Deno.writeTextFile(path, JSON.stringify(state));
  const again = await sysmon(["record", "--once", "--data", dir]);
  assertEquals(again.code, 0, again.stderr);
  assertStringIncludes(again.stderr, "rebooted");
  const samples = await rawSamples(dir);
  assertEquals(samples.map((s) => s.interval), [null, null]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record --once: a concurrent run is refused by the lock", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/state`, { recursive: true });
  const lock = await acquireLock(`${dir}/state/record.lock`);
  try {
    const r = await sysmon(["record", "--once", "--data", dir]);
    assertEquals(r.code, 1);
    assertMatch(r.stderr, /another sysmon record is running on this data directory/);
    assert(!r.stderr.includes("    at "), "no stack trace");
  } finally {
    lock.release();
  }
  assertEquals((await sysmon(["record", "--once", "--data", dir])).code, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record: bad input gives one clear line and the right exit code", async () => {
  const bad = await sysmon(["record", "--interval", "fast"]);
  assertEquals(bad.code, 2);
  assertStringIncludes(bad.stderr, '"fast" is not a duration');
  const both = await sysmon(["record", "--once", "--duration", "1m", "--data", "/tmp/x"]);
  assertEquals(both.code, 2);

  const other = await Deno.makeTempDir();
  await Deno.writeTextFile(`${other}/FORMAT`, '{"sysmon_store":9}\n');
  const version = await sysmon(["record", "--once", "--data", other]);
  assertEquals(version.code, 2);
  assertStringIncludes(version.stderr, "store format 9");
  await Deno.remove(other, { recursive: true });

  const file = await Deno.makeTempFile();
  const unwritable = await sysmon(["record", "--once", "--data", `${file}/data`]);
  assertEquals(unwritable.code, 1);
  assertStringIncludes(unwritable.stderr, `cannot use data directory ${file}/data`);
  for (const r of [bad, both, version, unwritable]) assert(!r.stderr.includes("    at "), r.stderr);
  await Deno.remove(file);
});

Deno.test("record: a corrupt file in the data directory is reported and recording goes on", async () => {
  const dir = await Deno.makeTempDir();
  assertEquals((await sysmon(["record", "--once", "--data", dir])).code, 0);
  const [name] = [...Deno.readDirSync(`${dir}/raw`)].map((e) => e.name);
  // A file that is not a sysmon file at all, for the current day: a new part is started beside it.
  const day = name.slice(0, 10);
  await Deno.writeTextFile(`${dir}/raw/${day}.002.jsonl`, "garbage\nmore garbage\n");
  const r = await sysmon(["record", "--once", "--data", dir]);
  assertEquals(r.code, 0, r.stderr);
  assertStringIncludes(r.stderr, "header is unreadable");
  const names = [...Deno.readDirSync(`${dir}/raw`)].map((e) => e.name).sort();
  assert(names.includes(`${day}.003.jsonl`), names.join(" "));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record (daemon): SIGTERM flushes what was sampled and exits 0", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "record", "--data", dir, "--interval", "500ms"],
    env: { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await new Promise((r) => setTimeout(r, 3500));
  child.kill("SIGTERM");
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  assertMatch(stderr, /stopped \(SIGTERM\) after (\d+) sample/);
  const n = Number(/after (\d+) sample/.exec(stderr)![1]);
  const samples = await rawSamples(dir);
  assertEquals(samples.length, n, "every sample taken was flushed");
  assert(n >= 4, `only ${n} samples in 3.5 s at 500ms`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record --duration stops by itself after the given time", async () => {
  const dir = await Deno.makeTempDir();
  const r = await sysmon([
    "record",
    "--data",
    dir,
    "--interval",
    "200ms",
    "--duration",
    "1s",
    "--format",
    "csv",
  ]);
  assertEquals(r.code, 0, r.stderr);
  assertStringIncludes(r.stderr, "duration reached");
  const names = [...Deno.readDirSync(`${dir}/raw`)].map((e) => e.name);
  assert(names.length === 1 && names[0].endsWith(".csv"), names.join(" "));
  const rows = (await Deno.readTextFile(`${dir}/raw/${names[0]}`)).trim().split("\n");
  assertMatch(rows[0], /^# \{"sysmon_store":1/);
  assertMatch(rows[1], /^timestamp,host,interval,cpu_usage_percent/);
  assert(rows.length - 2 >= 3 && rows.length - 2 <= 6, `${rows.length - 2} rows`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("record (daemon): an unwritable data directory is one clear error; samples kept, exit 1", async () => {
  const file = await Deno.makeTempFile();
  const r = await sysmon([
    "record",
    "--data",
    `${file}/d`,
    "--interval",
    "200ms",
    "--duration",
    "1s",
  ]);
  assertEquals(r.code, 1);
  const errors = r.stderr.split("\n").filter((l) => / ERROR /.test(l));
  assertEquals(errors.length, 1, r.stderr);
  assertStringIncludes(errors[0], `cannot prepare data directory ${file}/d`);
  assertStringIncludes(errors[0], "keeping samples in memory");
  assertMatch(r.stderr, /sample\(s\) could not be written/);
  assert(!r.stderr.includes("    at "), r.stderr);
  await Deno.remove(file);
});
