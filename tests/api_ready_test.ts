/**
 * /readyz's rule: a family failing alone or a per-device read failure (a NIC without a link speed)
 * leaves the server ready; a stopped sampler, no sample, every collector failing, or an unwritable
 * store while recording does not.
 */
import type { ServeContext } from "../src/api/context.ts";
import { readiness } from "../src/api/routes_health.ts";
import { emptySample, type Sample } from "../src/core/model.ts";
import type { FamilyStatus } from "../src/core/sampler.ts";
import type { Storage } from "../src/store/types.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";

function ctxWith(opts: {
  sample?: Sample;
  statuses: FamilyStatus[];
  running?: boolean;
  store?: Partial<Storage>;
}): ServeContext {
  const sampler = { latestSample: () => opts.sample, statuses: () => opts.statuses };
  return {
    sampler,
    recording: opts.store !== undefined,
    store: opts.store,
    samplerRunning: () => opts.running ?? true,
  } as unknown as ServeContext;
}

const ok = (name: string): FamilyStatus => ({ name, interval: 10, success: true, duration: 0.001 });
const failed = (name: string): FamilyStatus => ({ ...ok(name), success: false, error: "EACCES" });

function sampleWithNicWithoutSpeed(): Sample {
  const s = emptySample("2026-11-27T03:00:00.000Z", "h", 10);
  s.interfaces.eth1 = { net_speed_bytes: null };
  s.errors.push({ collector: "netclass", message: "eth1: speed: Invalid argument (link down)" });
  return s;
}

Deno.test("readiness: per-device errors and one failing family keep it ready", () => {
  const checks = readiness(ctxWith({
    sample: sampleWithNicWithoutSpeed(),
    statuses: [ok("cpu"), ok("netclass"), failed("pressure")],
  }));
  assert(Object.values(checks).every((c) => c.ok), JSON.stringify(checks));
  assertStringIncludes(checks.collectors.detail, "failing alone: pressure");
});

Deno.test("readiness: no sample, a stopped sampler, or every collector failing is not ready", () => {
  const none = readiness(ctxWith({ statuses: [ok("cpu")] }));
  assertEquals(none.sampler.ok, false);
  const stopped = readiness(
    ctxWith({ sample: emptySample("t", "h", 1), statuses: [ok("cpu")], running: false }),
  );
  assertEquals(stopped.sampler, { ok: false, detail: "stopped" });
  const allFailed = readiness(ctxWith({
    sample: emptySample("t", "h", 1),
    statuses: [failed("cpu"), failed("meminfo")],
  }));
  assertEquals(allFailed.collectors.ok, false);
  assertStringIncludes(allFailed.collectors.detail, "cpu, meminfo");
});

Deno.test("readiness: recording into an unwritable store is not ready, and says why", () => {
  const checks = readiness(ctxWith({
    sample: emptySample("t", "h", 1),
    statuses: [ok("cpu")],
    store: {
      writable: () => false,
      stats: () => ({
        samplesWritten: 3,
        samplesBuffered: 2,
        samplesDropped: 0,
        writeErrors: 1,
        linesSkipped: 0,
        lastError: "No space left on device",
      }),
    },
  }));
  assertEquals(checks.storage.ok, false);
  assertStringIncludes(checks.storage.detail, "No space left on device");
});
