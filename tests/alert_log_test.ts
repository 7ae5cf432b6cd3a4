/** The alert log: JSON lines appended whole, rotated by size, torn tails repaired. */
import { ALERT_LOG, AlertLog } from "../src/alert/channels/alert_log.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-alertlog-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const lines = async (path: string) =>
  (await Deno.readTextFile(path)).split("\n").filter(Boolean).map((l) => JSON.parse(l));

Deno.test("alert log: one JSON object per line, in order", async () => {
  await withDir(async (dir) => {
    const log = new AlertLog({ dir, maxBytes: 1 << 20, keep: 3 });
    for (let i = 0; i < 5; i++) await log.append({ n: i, kind: "firing", rule: "cpu_busy" });
    assertEquals((await lines(`${dir}/${ALERT_LOG}`)).map((r) => r.n), [0, 1, 2, 3, 4]);
  });
});

Deno.test("alert log: rotates before exceeding maxBytes and keeps `keep` old files", async () => {
  await withDir(async (dir) => {
    const record = { rule: "filesystem_space", text: "x".repeat(80) }; // ~110 bytes a line
    const log = new AlertLog({ dir, maxBytes: 400, keep: 2 });
    for (let i = 0; i < 20; i++) await log.append({ ...record, n: i });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(names, [ALERT_LOG, `${ALERT_LOG}.1`, `${ALERT_LOG}.2`]);
    for (const name of names) assert(Deno.statSync(`${dir}/${name}`).size <= 400, name);
    // Newest in the live file, the ones before in .1 then .2, nothing out of order or twice.
    const all = [
      ...await lines(`${dir}/${ALERT_LOG}.2`),
      ...await lines(`${dir}/${ALERT_LOG}.1`),
      ...await lines(`${dir}/${ALERT_LOG}`),
    ].map((r) => r.n);
    assertEquals(all, Array.from({ length: all.length }, (_, i) => 20 - all.length + i));
  });
});

Deno.test("alert log: a torn last line from a crash is cut before appending", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${ALERT_LOG}`, '{"n":1}\n{"n":2,"to');
    const log = new AlertLog({ dir, maxBytes: 1 << 20, keep: 1 });
    await log.append({ n: 3 });
    assertEquals((await lines(`${dir}/${ALERT_LOG}`)).map((r) => r.n), [1, 3]);
  });
});

Deno.test("alert log: an unwritable directory is an error naming the file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/blocker`, "a file where the directory should be");
    const log = new AlertLog({ dir: `${dir}/blocker/alerts`, maxBytes: 1000, keep: 1 });
    const err = await assertRejects(() => log.append({ n: 1 }));
    assertStringIncludes((err as Error).message, `${dir}/blocker/alerts/${ALERT_LOG}`);
  });
});
