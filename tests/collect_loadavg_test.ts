import { type LoadavgData, loadavgFamily, parseLoadavg } from "../src/collect/loadavg.ts";
import { TextExposition } from "../src/expose/writer.ts";
import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertGolden, fixtureRoots, FIXTURES, SHAPES, testContext } from "./helpers.ts";

const at = (data: LoadavgData) => ({ data, mono: 0, wall: 0 });

Deno.test("parseLoadavg reads the captured file", () => {
  const text = Deno.readTextFileSync(FIXTURES + "linux-6.18-vm/proc/loadavg");
  assertEquals(text, "0.06 0.08 0.04 1/77 3589\n");
  assertEquals(parseLoadavg(text), { load1: 0.06, load5: 0.08, load15: 0.04 });
});

Deno.test("parseLoadavg: malformed input names the file", () => {
  assertThrows(
    () => parseLoadavg("0.10 0.20\n", "/host/proc/loadavg"),
    '/host/proc/loadavg: malformed "0.10 0.20": expected three load averages',
  );
  assertThrows(() => parseLoadavg("0.1 x 0.3 1/2 3\n"), "/proc/loadavg: malformed");
  assertThrows(() => parseLoadavg("0.1  0.2 0.3 1/2 3\n"), "/proc/loadavg: malformed");
  assertThrows(() => parseLoadavg("-1 0.2 0.3 1/2 3\n"), "/proc/loadavg: malformed");
  assertThrows(() => parseLoadavg(""), "/proc/loadavg: malformed");
});

Deno.test("derive: the file's exact values", () => {
  const part = loadavgFamily.derive(undefined, at(parseLoadavg("12.50 3.07 0.00 9/100 7\n")));
  assertEquals(part, {
    metrics: { load_average_1m: 12.5, load_average_5m: 3.07, load_average_15m: 0 },
  });
});

Deno.test("expose: node_load1/5/15 gauges", () => {
  const out = new TextExposition();
  loadavgFamily.expose(parseLoadavg("1.07 0.93 0.88 3/245 31337\n"), out);
  assertEquals(
    out.text(),
    "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 1.07\n" +
      "# HELP node_load5 5m load average.\n# TYPE node_load5 gauge\nnode_load5 0.93\n" +
      "# HELP node_load15 15m load average.\n# TYPE node_load15 gauge\nnode_load15 0.88\n",
  );
});

Deno.test("reader: a missing file is an error naming it", async () => {
  const ctx = testContext({ procfs: "/nonexistent/proc", sysfs: "/nonexistent/sys", rootfs: "/" });
  await assertRejects(
    () => loadavgFamily.create(ctx).read(),
    "cannot read /nonexistent/proc/loadavg: not found",
  );
});

for (const shape of SHAPES) {
  Deno.test(`golden: loadavg derive and exposition for ${shape}`, async () => {
    const data = await loadavgFamily.create(testContext(fixtureRoots(shape))).read();
    const part = loadavgFamily.derive(undefined, at(data));
    await assertGolden(`${shape}/loadavg.json`, JSON.stringify(part, null, 2) + "\n");
    const out = new TextExposition();
    loadavgFamily.expose(data, out);
    await assertGolden(`${shape}/loadavg.prom`, out.text());
  });
}

Deno.test("live: load averages equal /proc/loadavg as cat prints it", async () => {
  const reader = loadavgFamily.create(testContext({ procfs: "/proc", sysfs: "/sys", rootfs: "/" }));
  const cat = async () => {
    const { stdout } = await new Deno.Command("cat", { args: ["/proc/loadavg"] }).output();
    // Parsed independently: "a b c r/t pid" → the first three numbers.
    const m = /^(\d+\.\d+) (\d+\.\d+) (\d+\.\d+) /.exec(new TextDecoder().decode(stdout));
    if (!m) throw new Error("unexpected /proc/loadavg");
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  };
  // The kernel updates the averages every 5 s: retry when an update fell between the reads.
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await cat();
    const m = loadavgFamily.derive(undefined, at(await reader.read())).metrics ?? {};
    const after = await cat();
    if (before.join() !== after.join()) continue;
    assertEquals([m.load_average_1m, m.load_average_5m, m.load_average_15m], before);
    return;
  }
  throw new Error("/proc/loadavg kept changing");
});
