/**
 * `deno task bench`: per-family read+derive cost on this machine and a full collection. For the
 * comparison with node_exporter in one run, see scripts/bench-collect.ts.
 */
import { ALL_FAMILIES } from "../src/collect/index.ts";
import { Sampler } from "../src/core/sampler.ts";
import { testContext } from "../tests/helpers.ts";

const roots = { procfs: "/proc", sysfs: "/sys", rootfs: "/" };

for (const family of ALL_FAMILIES) {
  const reader = family.create(testContext(roots));
  let prev = { data: await reader.read(), mono: performance.now(), wall: Date.now() };
  Deno.bench(`${family.name}: read + derive`, { group: "families" }, async () => {
    const cur = { data: await reader.read(), mono: performance.now(), wall: Date.now() };
    family.derive(prev, cur);
    prev = cur;
  });
}

const sampler = new Sampler({ families: ALL_FAMILIES, ctx: testContext(roots), host: "bench" });
await sampler.collect();
Deno.bench("full collection (all families, statfs included)", { baseline: true }, async () => {
  await sampler.collect();
});
