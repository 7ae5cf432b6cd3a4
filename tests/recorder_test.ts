/** openRecorder: what `record` and `serve --record` share — write, read back, the lock, the format. */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { RuntimeFailure, UsageError } from "../src/cli/errors.ts";
import type { Runtime } from "../src/cli/runtime.ts";
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { memoryLogger } from "../src/log.ts";
import { openRecorder, resolveRecordDir } from "../src/record/recorder.ts";
import { createFileStore } from "../src/record/store_open.ts";
import { SampleSynth, templateSample } from "./synth.ts";

function testRuntime(dataDir?: string) {
  const config = structuredClone(EMBEDDED_DEFAULTS);
  config.storage.flush_interval = 0;
  const log = memoryLogger();
  const rt: Runtime = {
    config,
    files: [],
    log,
    roots: { ...config.paths },
    color: false,
    env: {},
    dataDir,
  };
  return { rt, log };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

Deno.test("openRecorder: written samples are read back, and close logs the summary", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-recorder-" });
  try {
    const { rt, log } = testRuntime();
    const synth = new SampleSynth(templateSample(Deno.hostname()), 3);
    // Recent times: retention must not treat them as old.
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const written = [synth.at(t0), synth.at(t0 + 10_000), synth.at(t0 + 20_000)];

    const recorder = await openRecorder(rt, dir, "jsonl");
    assertEquals(recorder.dir, dir);
    for (const s of written) await recorder.write(s);
    await recorder.close("test over");

    assert(log.lines.some((l) => l.includes("record: stopped (test over) after 3 sample(s)")));
    assertEquals(recorder.store.stats().samplesWritten, 3);
    const fromRecorder = await collect(recorder.store.samples(t0, t0 + 60_000));
    assertEquals(fromRecorder.map((s) => s.timestamp), written.map((s) => s.timestamp));
    assertEquals(fromRecorder[1].metrics.cpu_cores_online, 2);

    // A fresh store over the same directory sees the same samples.
    const fresh = createFileStore(rt.config, dir, rt.log, { format: "jsonl" });
    const again = await collect(fresh.samples(t0, t0 + 60_000));
    assertEquals(again.map((s) => s.timestamp), written.map((s) => s.timestamp));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecorder: a second recorder on the same directory is refused by the lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-recorder-" });
  try {
    const { rt } = testRuntime();
    const first = await openRecorder(rt, dir, "jsonl");
    try {
      const err = await assertRejects(
        () => openRecorder(rt, dir, "jsonl", "serve --record"),
        "another sysmon record is running on this data directory",
      );
      assert(err instanceof RuntimeFailure, `expected RuntimeFailure, got ${err.name}`);
      assertMatch(err.message, /^serve --record: another sysmon record is running/);
      assertMatch(err.message, /state\/record\.lock/);
    } finally {
      await first.close("test over");
    }
    // Released on close: the directory can be recorded to again.
    const next = await openRecorder(rt, dir, "jsonl");
    await next.close("test over");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openRecorder: a directory of another store format is a usage error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-recorder-" });
  try {
    await Deno.writeTextFile(`${dir}/FORMAT`, JSON.stringify({ sysmon_store: 999 }));
    const { rt } = testRuntime();
    const err = await assertRejects(
      () => openRecorder(rt, dir, "jsonl"),
      "holds data of sysmon store format 999",
    );
    assert(err instanceof UsageError, `expected UsageError, got ${err.name}`);
    // Refused before anything was written or locked.
    assertEquals(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), ["FORMAT"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveRecordDir: --data beats the configuration; relative made absolute; no slash at the end", () => {
  const { rt } = testRuntime("/var/lib/sysmon/");
  assertEquals(resolveRecordDir(undefined, rt), "/var/lib/sysmon");
  assertEquals(resolveRecordDir("/srv/data//", rt), "/srv/data");
  assertEquals(resolveRecordDir("data/", rt), `${Deno.cwd()}/data`);
  assertEquals(resolveRecordDir("///", rt), "/");
  const none = testRuntime(undefined).rt;
  let thrown: unknown;
  try {
    resolveRecordDir(undefined, none);
  } catch (err) {
    thrown = err;
  }
  assert(thrown instanceof UsageError, "expected a UsageError without --data or storage.path");
  assertMatch(thrown.message, /^no data directory: pass --data DIR/);
});
