import { assert, assertEquals } from "./assert.ts";
import { formatDuration, parseDuration } from "../src/core/duration.ts";
import { createLogger } from "../src/log.ts";
import { hoistGlobalFlags } from "../src/cli/globals.ts";
import { renderSnapshotTable } from "../src/ui/snapshot_view.ts";
import { formatBytes } from "../src/ui/format.ts";
import { Sampler } from "../src/core/sampler.ts";
import { ALL_FAMILIES } from "../src/collect/index.ts";
import { fixtureRoots, testContext } from "./helpers.ts";

Deno.test("durations: the forms users write, and nonsense rejected", () => {
  assertEquals(parseDuration("500ms"), 0.5);
  assertEquals(parseDuration("10s"), 10);
  assertEquals(parseDuration("5m"), 300);
  assertEquals(parseDuration("1h30m"), 5400);
  assertEquals(parseDuration("7d"), 604800);
  for (const bad of ["", "10", "1x", "s", "-5s", "10 s"]) {
    assertEquals(parseDuration(bad), undefined, bad);
  }
  assertEquals(formatDuration(0.5), "500ms");
  assertEquals(formatDuration(5400), "1h30m");
});

Deno.test("logger: levels filter, text and JSON lines", () => {
  const lines: string[] = [];
  const now = () => new Date("2026-01-02T03:04:05.000Z");
  const text = createLogger({ level: "info", format: "text", sink: (l) => lines.push(l), now });
  text.debug("hidden");
  text.warn("disk slow", { device: "sda", note: "two words" });
  assertEquals(lines, ['2026-01-02T03:04:05.000Z WARN  disk slow device=sda note="two words"']);
  const json = createLogger({ level: "debug", format: "json", sink: (l) => lines.push(l), now });
  json.debug("x", { n: 1 });
  assertEquals(JSON.parse(lines[1]), {
    time: "2026-01-02T03:04:05.000Z",
    level: "debug",
    msg: "x",
    n: 1,
  });
});

Deno.test("global flags written before the command move after it (before --)", () => {
  assertEquals(hoistGlobalFlags(["--procfs", "/p", "--no-color", "snapshot", "--json"]), [
    "snapshot",
    "--json",
    "--procfs",
    "/p",
    "--no-color",
  ]);
  assertEquals(hoistGlobalFlags(["--config=/c.yaml", "config", "show"]), [
    "config",
    "show",
    "--config=/c.yaml",
  ]);
  assertEquals(hoistGlobalFlags(["snapshot", "--procfs", "/p"]), ["snapshot", "--procfs", "/p"]);
});

Deno.test("snapshot table: every fixture shape renders within 80 columns, no colour when off", async () => {
  for (
    const shape of ["linux-6.18-vm", "linux-4.9-old", "linux-5.15-hotplug", "linux-6.1-container"]
  ) {
    const ctx = testContext(fixtureRoots(shape));
    const families = ALL_FAMILIES.filter((f) => f.name !== "filesystem");
    const sampler = new Sampler({ families, ctx, host: "fixture" });
    await sampler.collect();
    const sample = await sampler.collect();
    const text = renderSnapshotTable(sample, { color: false, width: 80 });
    for (const line of text.split("\n")) {
      assert(line.length <= 80, `${shape}: ${line.length} cols: ${line}`);
    }
    assert(!text.includes("\x1b["), "escape codes with colour off");
    assert(text.includes("Memory"), text);
    const coloured = renderSnapshotTable(
      { ...sample, metrics: { ...sample.metrics, memory_usage_percent: 95 } },
      { color: true },
    );
    assert(coloured.includes("\x1b[31m95.0%"), "≥ 90 % is red");
  }
  assertEquals(formatBytes(1536), "1.50 KiB");
  assertEquals(formatBytes(0), "0 B");
});
