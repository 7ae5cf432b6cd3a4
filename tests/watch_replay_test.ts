/**
 * `watch --replay`'s sample source over a real file store: positioning, stepping across its read
 * window and across a long gap, history for the charts, the ends of the recording, bounded memory.
 */
import { recordSamples } from "./store_util.ts";
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import { emptySample, type Sample } from "../src/core/model.ts";
import { memoryLogger } from "../src/log.ts";
import { createFileStore } from "../src/record/store_open.ts";
import { KEEP_BEFORE, READ_AHEAD, ReplaySource } from "../src/ui/watch/replay_source.ts";
import { assert, assertEquals } from "./assert.ts";

const T0 = Date.parse("2026-11-20T00:00:00Z");
const STEP = 10_000;
const MIN = 60_000;
/** Two recorded stretches: 90 minutes, a 3-hour gap (longer than the reader's lookback), 30 minutes. */
const SEG1 = { from: T0, to: T0 + 90 * MIN };
const SEG2 = { from: T0 + 270 * MIN, to: T0 + 300 * MIN };

function sampleAt(t: number): Sample {
  const s = emptySample(new Date(t).toISOString(), "replayhost", 10);
  // A value that tells the time: minutes since T0.
  s.metrics.cpu_usage_percent = (t - T0) / MIN;
  return s;
}

async function record(dir: string): Promise<void> {
  function* samples() {
    for (const seg of [SEG1, SEG2]) {
      for (let t = seg.from; t < seg.to; t += STEP) yield sampleAt(t);
    }
  }
  await recordSamples(dir, samples(), { host: "replayhost", closeAt: SEG2.to + MIN });
}

async function withRecording(fn: (source: ReplaySource) => Promise<void>, start?: number) {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-watch-replay-" });
  try {
    await record(dir);
    const store = createFileStore(structuredClone(EMBEDDED_DEFAULTS), dir, memoryLogger());
    const source = await ReplaySource.open(store, start);
    assert(source !== undefined, "the recording was found");
    await fn(source);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const minutes = (s: Sample) => s.metrics.cpu_usage_percent;
const at = (s: Sample) => Date.parse(s.timestamp);

Deno.test("replay source: an empty data directory has nothing to replay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-watch-replay-" });
  try {
    const store = createFileStore(structuredClone(EMBEDDED_DEFAULTS), dir, memoryLogger());
    await store.openForWriting();
    await store.close();
    assertEquals(await ReplaySource.open(store), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replay source: starts at the first sample, steps both ways, stops at the ends", async () => {
  await withRecording(async (src) => {
    assertEquals([src.time(), minutes(src.current()), src.atStart()], [T0, 0, true]);
    assertEquals(await src.step(-1), false, "nothing before the first sample");
    assertEquals(await src.step(1), true);
    assertEquals(src.time(), T0 + STEP);
    await src.seek(SEG2.to);
    assertEquals([src.time(), src.atEnd()], [SEG2.to - STEP, true]);
    assertEquals(await src.step(1), false, "nothing after the last sample");
    await src.advanceTo(SEG2.to + 3600_000);
    assertEquals(src.time(), SEG2.to - STEP, "playback stops at the end");
  });
});

Deno.test("replay source: --from positions at the last sample at or before it", async () => {
  await withRecording((src) => {
    assertEquals(src.time(), T0 + 45 * MIN);
    const h = src.history(50);
    assertEquals(h.length, 50);
    assertEquals(at(h[49]), T0 + 45 * MIN);
    assertEquals(at(h[0]), T0 + 45 * MIN - 49 * STEP);
    return Promise.resolve();
  }, T0 + 45 * MIN + 5000);
});

Deno.test("replay source: stepping through more than a read window is continuous", async () => {
  await withRecording(async (src) => {
    const times = [src.time()];
    for (let i = 0; i < 530; i++) {
      assert(await src.step(1), `step ${i}`);
      times.push(src.time());
    }
    assert(times.every((t, i) => i === 0 || t - times[i - 1] === STEP), "one sample at a time");
    assert(src.history(10_000).length <= KEEP_BEFORE + READ_AHEAD, "the window stays bounded");
    for (let i = 0; i < 500; i++) assert(await src.step(-1), `back ${i}`);
    assertEquals(src.time(), T0 + 30 * STEP);
  });
});

Deno.test("replay source: steps across a 3-hour gap in both directions; jumps land in the gap's edges", async () => {
  await withRecording(async (src) => {
    await src.seek(SEG1.to - STEP);
    assert(await src.step(1));
    assertEquals(src.time(), SEG2.from);
    assert(await src.step(-1));
    assertEquals(src.time(), SEG1.to - STEP);
    // A jump into the gap shows the last sample before it; history reaches back over it.
    await src.seek(SEG1.to + 60 * MIN);
    assertEquals(src.time(), SEG1.to - STEP);
    await src.seek(SEG2.from + 5 * MIN);
    // 31 samples of the second stretch (0 s to 300 s), then 9 from before the gap.
    assertEquals(at(src.history(40)[0]), SEG1.to - 9 * STEP);
  });
});
