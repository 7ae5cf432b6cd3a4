import { parsePressure, type PressureData, pressureFamily } from "../src/collect/pressure.ts";
import type { Roots } from "../src/collect/types.ts";
import { TextExposition } from "../src/expose/writer.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertGolden, fixtureRoots, FIXTURES, SHAPES, testContext } from "./helpers.ts";

const at = (data: PressureData, mono = 0) => ({ data, mono, wall: mono });
const read = (roots: Roots) => pressureFamily.create(testContext(roots)).read();

/** A throw-away procfs root; `{ failsWith }` makes a file that fails to read, as fixtures do. */
function tempProc(files: Record<string, string | { failsWith: string }>): string {
  const dir = Deno.makeTempDirSync();
  Deno.mkdirSync(dir + "/pressure");
  for (const [name, content] of Object.entries(files)) {
    const path = `${dir}/pressure/${name}`;
    if (typeof content === "string") Deno.writeTextFileSync(path, content);
    else {
      Deno.mkdirSync(path);
      Deno.writeTextFileSync(path + "/FAILS_TO_READ", `reading fails with ${content.failsWith}\n`);
    }
  }
  return dir;
}

const rootsAt = (dir: string): Roots => ({ procfs: dir, sysfs: dir, rootfs: "/" });

Deno.test("parsePressure reads the captured 6.18 cpu file", () => {
  const text = Deno.readTextFileSync(FIXTURES + "linux-6.18-vm/proc/pressure/cpu");
  assertEquals(parsePressure(text), {
    some: { avg10: 0, avg60: 0.04, avg300: 0.2, total: 1938000 },
    full: { avg10: 0, avg60: 0, avg300: 0, total: 0 },
  });
});

Deno.test("parsePressure: cpu before 5.13 has no full line", () => {
  const s = parsePressure("some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n");
  assertEquals(s.full, null);
  const m = pressureFamily.derive(undefined, at({ resources: { cpu: s } })).metrics ?? {};
  assertEquals(m, {
    pressure_cpu_some_avg10: 1,
    pressure_cpu_some_avg60: 2,
    pressure_cpu_some_avg300: 3,
    pressure_cpu_some_total: 0.000004, // 4 µs
  });
});

Deno.test("parsePressure: malformed input names the file and the line", () => {
  const src = "/host/proc/pressure/io";
  assertThrows(
    () => parsePressure("some avg10=0.00 avg60=x avg300=0.00 total=1\n", src),
    `${src}: malformed line 1 "some avg10=0.00 avg60=x avg300=0.00 total=1": "avg60=x" is not key=number`,
  );
  assertThrows(
    () =>
      parsePressure("some avg10=0 avg60=0 avg300=0 total=1\nfull avg10=0 avg60=0 avg300=0\n", src),
    `${src}: malformed line 2`,
  );
  assertThrows(() => parsePressure("partial avg10=0\n", src), "not some/full");
  assertThrows(
    () => parsePressure("full avg10=0 avg60=0 avg300=0 total=0\n", src),
    'no "some" line',
  );
  assertThrows(
    () => parsePressure("some avg10 avg60=0 avg300=0 total=0\n", src),
    "is not key=number",
  );
});

Deno.test("derive: the 5.15 tree, averages as printed and totals in seconds", async () => {
  const cur = await read(fixtureRoots("linux-5.15-hotplug", "later"));
  const m = pressureFamily.derive(undefined, at(cur)).metrics ?? {};
  assertEquals(Object.keys(m).length, 24); // 3 resources × some/full × (3 averages + total)
  assertEquals(m.pressure_cpu_some_avg10, 1.48);
  assertEquals(m.pressure_cpu_some_total, 18.886562); // 18886562 µs
  assertEquals(m.pressure_cpu_full_total, 0);
  assertEquals(m.pressure_io_full_avg300, 1.13);
  assertEquals(m.pressure_io_full_total, 76.83821); // 76838210 µs
  assertEquals(m.pressure_memory_some_total, 2.345678);
});

Deno.test("reader: no /proc/pressure (4.9) and EOPNOTSUPP (psi=0) are an absent feature, not an error", async () => {
  for (const shape of ["linux-4.9-old", "linux-6.1-container"]) {
    const data = await read(fixtureRoots(shape));
    assertEquals(data, { resources: {} }, shape);
    assertEquals(pressureFamily.derive(undefined, at(data)), { metrics: {} });
    const out = new TextExposition();
    pressureFamily.expose(data, out);
    assertEquals(out.text(), "");
  }
});

Deno.test("reader: a resource found absent is not read again", async () => {
  const dir = tempProc({ cpu: "some avg10=0 avg60=0 avg300=0 total=5\n" });
  try {
    const reader = pressureFamily.create(testContext(rootsAt(dir)));
    assertEquals(Object.keys((await reader.read()).resources), ["cpu"]);
    // PSI cannot appear at run time; a file showing up later is not looked at.
    Deno.writeTextFileSync(dir + "/pressure/io", "some avg10=0 avg60=0 avg300=0 total=5\n");
    assertEquals(Object.keys((await reader.read()).resources), ["cpu"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("reader: other read errors and malformed files are errors naming the file", async () => {
  const dir = tempProc({ cpu: { failsWith: "EIO" }, io: "some avg10=0 avg60=0\n" });
  try {
    await assertRejects(() => read(rootsAt(dir)), `cannot read ${dir}/pressure/cpu`);
    Deno.removeSync(dir + "/pressure/cpu", { recursive: true });
    await assertRejects(() => read(rootsAt(dir)), `${dir}/pressure/io: malformed line 1`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("expose: node_exporter's five pressure counters, in seconds", async () => {
  const out = new TextExposition();
  pressureFamily.expose(await read(fixtureRoots("linux-5.15-hotplug")), out);
  const samples = out.text().split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  assertEquals(samples, [
    "node_pressure_cpu_waiting_seconds_total 18.734562",
    "node_pressure_io_waiting_seconds_total 98.765432",
    "node_pressure_io_stalled_seconds_total 76.54321",
    "node_pressure_memory_waiting_seconds_total 2.345678",
    "node_pressure_memory_stalled_seconds_total 1.234567",
  ]);
  assert(out.text().includes("# TYPE node_pressure_io_stalled_seconds_total counter\n"));
});

for (const shape of SHAPES) {
  Deno.test(`golden: pressure derive and exposition for ${shape}`, async () => {
    const prev = await read(fixtureRoots(shape));
    // Only the hand-written trees carry pressure files in later/; PSI needs no previous reading.
    let hasLater = true;
    try {
      Deno.statSync(FIXTURES + shape + "/later/proc/pressure");
    } catch {
      hasLater = false;
    }
    const cur = hasLater ? await read(fixtureRoots(shape, "later")) : prev;
    const part = pressureFamily.derive(at(prev, 0), at(cur, 10_000));
    await assertGolden(`${shape}/pressure.json`, JSON.stringify(part, null, 2) + "\n");
    const out = new TextExposition();
    pressureFamily.expose(prev, out);
    await assertGolden(`${shape}/pressure.prom`, out.text());
  });
}

Deno.test("live: cpu some total lies between two independent reads of /proc/pressure/cpu", async () => {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/pressure/cpu");
  } catch {
    // This kernel has no PSI: the reader must then report none, without an error.
    assertEquals(await read({ procfs: "/proc", sysfs: "/sys", rootfs: "/" }), { resources: {} });
    return;
  }
  const total = (t: string) => Number(/^some .* total=(\d+)$/m.exec(t)![1]) / 1e6;
  const before = total(text);
  const data = await read({ procfs: "/proc", sysfs: "/sys", rootfs: "/" });
  const after = total(Deno.readTextFileSync("/proc/pressure/cpu"));
  const m = pressureFamily.derive(undefined, at(data)).metrics ?? {};
  const ours = m.pressure_cpu_some_total as number;
  assert(ours >= before && ours <= after, `${before} ≤ ${ours} ≤ ${after}`);
  assert("pressure_io_full_avg10" in m && "pressure_memory_some_avg300" in m);
});
