/** record --once carries raw readings between processes as JSON: they must survive it unchanged. */
import { assert, assertEquals } from "./assert.ts";
import { enabledFamilies } from "../src/collect/index.ts";
import { Sampler } from "../src/core/sampler.ts";
import { fixtureRoots, SHAPES, testContext } from "./helpers.ts";

for (const shape of SHAPES) {
  Deno.test(`sampler state (${shape}): every family's reading survives a JSON round trip`, async () => {
    const ctx = testContext(fixtureRoots(shape));
    const families = enabledFamilies(ctx.config);
    const a = new Sampler({ families, ctx, host: "h" });
    await a.collect();
    const state = a.exportState();
    assert(Object.keys(state.readings).length >= 4, Object.keys(state.readings).join(","));
    const copy = JSON.parse(JSON.stringify(state));
    assertEquals(copy, state);

    // A second process seeded with the copy derives the same sample as the first one.
    const b = new Sampler({ families, ctx, host: "h" });
    const imported = b.importState(copy);
    assert(state.bootId, "every fixture shape has a boot id");
    assertEquals(imported, true);
    const next = await a.collect();
    const fromCopy = await b.collect();
    assertEquals({ ...fromCopy, timestamp: "", interval: null }, {
      ...next,
      timestamp: "",
      interval: null,
    });
  });
}

Deno.test("sampler state: readings from another boot are not imported", async () => {
  const ctx = testContext(fixtureRoots(SHAPES[0]));
  const families = enabledFamilies(ctx.config);
  const a = new Sampler({ families, ctx, host: "h" });
  await a.collect();
  const state = { ...a.exportState(), bootId: "another-boot" };
  const b = new Sampler({ families, ctx, host: "h" });
  assertEquals(b.importState(state), false);
  const first = await b.collect();
  assertEquals(first.interval, null);
});
