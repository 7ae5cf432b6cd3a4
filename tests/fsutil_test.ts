/** writeJsonAtomic (src/store/fsutil.ts): whole files only, and overlapping writes to one path. */
import { writeJsonAtomic } from "../src/store/fsutil.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { withTempDir } from "./helpers.ts";

Deno.test("writeJsonAtomic: overlapping writes to one path all succeed; the last call's value stays", async () => {
  await withTempDir("sysmon-fsutil-", async (dir) => {
    const path = `${dir}/state.json`;
    // Not awaited one by one: a tick's save and the final save on stop overlap like this.
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeJsonAtomic(path, { n: i })));
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { n: 19 });
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names, ["state.json"], "no temporary file is left behind");
  });
});

Deno.test("writeJsonAtomic: the value is taken at the call, not when the write's turn comes", async () => {
  await withTempDir("sysmon-fsutil-", async (dir) => {
    const path = `${dir}/state.json`;
    const value = { alerts: ["a"] };
    const first = writeJsonAtomic(path, { other: true });
    const second = writeJsonAtomic(path, value);
    value.alerts.push("changed after the call");
    await Promise.all([first, second]);
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { alerts: ["a"] });
  });
});

Deno.test("writeJsonAtomic: a failed write rejects without stopping the next one to the same path", async () => {
  await withTempDir("sysmon-fsutil-", async (dir) => {
    const path = `${dir}/state.json`;
    const blocked = `${dir}/missing/state.json`;
    const err = await assertRejects(() => writeJsonAtomic(blocked, { n: 1 }));
    assert(err instanceof Deno.errors.NotFound, String(err));
    await Deno.mkdir(`${dir}/missing`);
    await writeJsonAtomic(blocked, { n: 2 });
    assertEquals(JSON.parse(await Deno.readTextFile(blocked)), { n: 2 });
    await writeJsonAtomic(path, { n: 3 });
    assertEquals(JSON.parse(await Deno.readTextFile(path)), { n: 3 });
  });
});
