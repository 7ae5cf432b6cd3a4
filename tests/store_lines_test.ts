/**
 * Line I/O of the file store: streaming reads (plain and gzip, torn and damaged files), torn-tail
 * repair, crash-safe compression and cleanup of its leftovers. node:zlib is the independent oracle
 * for gzip content.
 */
import { constants, gunzipSync, gzipSync } from "node:zlib";
import {
  cleanupPartial,
  compressFile,
  type LineProblem,
  readLines,
  repairTornTail,
  useExternalGunzip,
} from "../src/store/lines.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";

const KiB = 1024;
const enc = new TextEncoder();

/** Paths under `dir` this process holds open (Linux /proc): a leaked file shows up here. */
async function openFilesUnder(dir: string): Promise<string[]> {
  const real = await Deno.realPath(dir);
  const open: string[] = [];
  for await (const fd of Deno.readDir("/proc/self/fd")) {
    const target = await Deno.readLink(`/proc/self/fd/${fd.name}`).catch(() => "");
    if (target.startsWith(real + "/")) open.push(target);
  }
  return open;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sysmon_lines_" });
  try {
    await fn(dir);
    // Every path (early exits, errors, damaged files) must leave nothing open.
    assertEquals(await openFilesUnder(dir), [], "files left open");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function collect(
  path: string,
  gzip: boolean,
): Promise<{ lines: string[]; problems: LineProblem[] }> {
  const lines: string[] = [];
  const problems: LineProblem[] = [];
  for await (const line of readLines(path, { gzip, onProblem: (p) => problems.push(p) })) {
    lines.push(line);
  }
  return { lines, problems };
}

/** Varied lines: JSON-ish, multi-byte characters (which chunk boundaries can split), empty lines. */
function sampleLines(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => i % 97 === 0 ? "" : `{"t":${i},"host":"hôst-${i % 7}","v":"${"é€😀".repeat(i % 5)}"}`,
  );
}

const joinLines = (lines: string[]) => lines.map((l) => l + "\n").join("");

// ---------------------------------------------------------------------------------------------
// readLines

Deno.test("readLines yields every line of a plain file, in order, without the newline", async () => {
  await withTempDir(async (dir) => {
    const lines = sampleLines(50_000);
    const path = `${dir}/2026-11-26.001.jsonl`;
    await Deno.writeTextFile(path, joinLines(lines));
    const got = await collect(path, false);
    assertEquals(got.lines.length, lines.length);
    assertEquals(got.lines, lines);
    assertEquals(got.problems, []);
  });
});

Deno.test("readLines decompresses a gzip file line by line", async () => {
  await withTempDir(async (dir) => {
    const lines = sampleLines(50_000);
    const path = `${dir}/2026-11-25.001.jsonl.gz`;
    await Deno.writeFile(path, gzipSync(enc.encode(joinLines(lines))));
    const got = await collect(path, true);
    assertEquals(got.lines, lines);
    assertEquals(got.problems, []);
  });
});

Deno.test("readLines keeps lines longer than a read chunk whole (plain and gzip)", async () => {
  await withTempDir(async (dir) => {
    // 300 KiB-ish lines of 3- and 4-byte characters: chunk edges fall inside lines and characters.
    const long1 = "€".repeat(100 * KiB);
    const long2 = "a" + "😀".repeat(70 * KiB) + "z";
    const lines = ["short", long1, "", long2, "end"];
    assert(enc.encode(long1).length > 64 * KiB && enc.encode(long2).length > 64 * KiB);
    const text = joinLines(lines);
    await Deno.writeTextFile(`${dir}/long.jsonl`, text);
    await Deno.writeFile(`${dir}/long.jsonl.gz`, gzipSync(enc.encode(text)));
    for (const [name, gzip] of [["long.jsonl", false], ["long.jsonl.gz", true]] as const) {
      const got = await collect(`${dir}/${name}`, gzip);
      assertEquals(got.lines.length, lines.length, name);
      assert(got.lines[1] === long1 && got.lines[3] === long2, `${name}: long lines differ`);
      assertEquals(got.lines, lines, name);
      assertEquals(got.problems, [], name);
    }
  });
});

Deno.test("readLines does not yield a torn last line and reports it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/torn.jsonl`;
    await Deno.writeTextFile(path, 'a\n{"b":1}\n{"c":2, "hé');
    const got = await collect(path, false);
    assertEquals(got.lines, ["a", '{"b":1}']);
    assertEquals(got.problems.length, 1);
    assertEquals(got.problems[0].kind, "torn");
    assertEquals(got.problems[0].path, path);
    // 12 bytes: `{"c":2, "hé` with é taking two.
    assertMatch(got.problems[0].message, /\b12 bytes\b/);
  });
});

Deno.test("readLines reports a torn last line inside a complete gzip stream", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/torn.jsonl.gz`;
    await Deno.writeFile(path, gzipSync(enc.encode("one\ntwo\nthr")));
    const got = await collect(path, true);
    assertEquals(got.lines, ["one", "two"]);
    assertEquals(got.problems.map((p) => p.kind), ["torn"]);
  });
});

Deno.test("readLines on a truncated .gz yields the complete lines before the cut, then reports", async () => {
  await withTempDir(async (dir) => {
    const lines = sampleLines(20_000);
    const gz = gzipSync(enc.encode(joinLines(lines)));
    for (const cut of [Math.floor(gz.length / 3), Math.floor(gz.length / 2), gz.length - 4]) {
      const path = `${dir}/cut-${cut}.jsonl.gz`;
      await Deno.writeFile(path, gz.subarray(0, cut));
      // What zlib can decode from the same bytes: its complete lines are what must come out.
      const decodable = new TextDecoder().decode(
        gunzipSync(gz.subarray(0, cut), { finishFlush: constants.Z_SYNC_FLUSH }),
      );
      const expected = decodable.split("\n").slice(0, -1);
      assert(expected.length > 0, "the cut should leave some complete lines");

      const got = await collect(path, true); // must not throw
      assertEquals(got.lines.length, expected.length, `cut at ${cut}`);
      assertEquals(got.lines, lines.slice(0, expected.length), `cut at ${cut}`);
      assertEquals(got.problems.length, 1, `cut at ${cut}`);
      assertEquals(got.problems[0].kind, "gzip");
      assertEquals(got.problems[0].path, path);
      assertMatch(got.problems[0].message, /gzip/);
    }
    // Cut before the end of the last line: fewer lines than the whole file.
    const half = await collect(`${dir}/cut-${Math.floor(gz.length / 2)}.jsonl.gz`, true);
    assert(half.lines.length < lines.length);
  });
});

Deno.test("readLines on garbage or an empty .gz reports a gzip problem without throwing", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/garbage.jsonl.gz`, "this is not gzip\nat all\n");
    await Deno.writeFile(`${dir}/empty.jsonl.gz`, new Uint8Array(0));
    for (const name of ["garbage.jsonl.gz", "empty.jsonl.gz"]) {
      const got = await collect(`${dir}/${name}`, true);
      assertEquals(got.lines, [], name);
      assertEquals(got.problems.map((p) => p.kind), ["gzip"], name);
    }
  });
});

Deno.test("readLines on an empty plain file yields nothing and reports nothing", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/empty.jsonl`, new Uint8Array(0));
    assertEquals(await collect(`${dir}/empty.jsonl`, false), { lines: [], problems: [] });
  });
});

Deno.test("readLines on a missing file throws NotFound", async () => {
  await withTempDir(async (dir) => {
    const err = await assertRejects(() => collect(`${dir}/missing.jsonl`, false));
    assert(err instanceof Deno.errors.NotFound, `got ${err}`);
  });
});

Deno.test("readLines closes the file when the consumer stops early", async () => {
  await withTempDir(async (dir) => {
    const lines = sampleLines(10_000);
    await Deno.writeTextFile(`${dir}/a.jsonl`, joinLines(lines));
    await Deno.writeFile(`${dir}/a.jsonl.gz`, gzipSync(enc.encode(joinLines(lines))));
    for (const [name, gzip] of [["a.jsonl", false], ["a.jsonl.gz", true]] as const) {
      const seen: string[] = [];
      for await (const line of readLines(`${dir}/${name}`, { gzip })) {
        seen.push(line);
        if (seen.length === 3) break;
      }
      assertEquals(seen, lines.slice(0, 3));
    }
    assertEquals(await openFilesUnder(dir), []);
  });
});

// ---------------------------------------------------------------------------------------------
// repairTornTail

Deno.test("repairTornTail truncates a torn file to just after its last newline", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/torn.jsonl`;
    await Deno.writeTextFile(path, "a\nbb\nccc");
    assertEquals(await repairTornTail(path), 3);
    assertEquals(await Deno.readTextFile(path), "a\nbb\n");
  });
});

Deno.test("repairTornTail finds the last newline several 64 KiB chunks back", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/long-torn.jsonl`;
    const head = "x".repeat(1000) + "\n" + "y".repeat(10) + "\n";
    // A fragment of 2 × 64 KiB + 5 bytes: the newline sits in the third chunk read backwards.
    const fragment = "z".repeat(2 * 64 * KiB + 5);
    await Deno.writeTextFile(path, head + fragment);
    assertEquals(await repairTornTail(path), fragment.length);
    assertEquals(await Deno.readTextFile(path), head);
  });
});

Deno.test("repairTornTail leaves an intact file alone and returns 0", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ok.jsonl`;
    const text = "a\n" + "b".repeat(70 * KiB) + "\nc\n";
    await Deno.writeTextFile(path, text);
    assertEquals(await repairTornTail(path), 0);
    assertEquals(await Deno.readTextFile(path), text);
    await Deno.writeFile(`${dir}/empty.jsonl`, new Uint8Array(0));
    assertEquals(await repairTornTail(`${dir}/empty.jsonl`), 0);
  });
});

Deno.test("repairTornTail empties a file without any newline", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/nonl.jsonl`;
    await Deno.writeTextFile(path, "q".repeat(100 * KiB));
    assertEquals(await repairTornTail(path), 100 * KiB);
    assertEquals((await Deno.stat(path)).size, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// compressFile / cleanupPartial

Deno.test("compressFile gzips, removes the source and leaves no .tmp", async () => {
  await withTempDir(async (dir) => {
    const text = joinLines(sampleLines(30_000));
    // The system's gzip in a child process (the default) and Deno's own CompressionStream (the
    // fallback where there is no gzip) must give the same data back.
    for (const [fsync, inProcess] of [[true, false], [false, false], [true, true]]) {
      const src = `${dir}/2026-11-25.001.jsonl`;
      const dest = `${src}.gz`;
      await Deno.writeTextFile(src, text);
      await compressFile(src, dest, { fsync, inProcess });
      const packed = await Deno.readFile(dest);
      assert(packed.length < enc.encode(text).length, "gzip output should be smaller");
      assertEquals(new TextDecoder().decode(gunzipSync(packed)), text);
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      assertEquals(names, ["2026-11-25.001.jsonl.gz"]);
      await Deno.remove(dest);
    }
  });
});

Deno.test("compressFile output reads back through readLines", async () => {
  await withTempDir(async (dir) => {
    const lines = sampleLines(5_000);
    await Deno.writeTextFile(`${dir}/a.jsonl`, joinLines(lines));
    await compressFile(`${dir}/a.jsonl`, `${dir}/a.jsonl.gz`);
    assertEquals(await collect(`${dir}/a.jsonl.gz`, true), { lines, problems: [] });
  });
});

Deno.test("compressFile with a missing source rejects and creates nothing", async () => {
  await withTempDir(async (dir) => {
    const err = await assertRejects(() =>
      compressFile(`${dir}/none.jsonl`, `${dir}/none.jsonl.gz`)
    );
    assert(err instanceof Deno.errors.NotFound, `got ${err}`);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names, []);
  });
});

Deno.test("cleanupPartial removes only *.tmp files and names them", async () => {
  await withTempDir(async (dir) => {
    // What a crash mid-compression leaves: the source and a partial .tmp.
    await Deno.writeTextFile(`${dir}/2026-11-25.001.jsonl`, "a\n");
    await Deno.writeFile(`${dir}/2026-11-25.001.jsonl.gz.tmp`, new Uint8Array([0x1f, 0x8b]));
    await Deno.writeTextFile(`${dir}/b.tmp`, "");
    await Deno.writeTextFile(`${dir}/c.jsonl.gz`, "");
    await Deno.mkdir(`${dir}/d.tmp`);
    assertEquals(await cleanupPartial(dir), ["2026-11-25.001.jsonl.gz.tmp", "b.tmp"]);
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assertEquals(left.sort(), ["2026-11-25.001.jsonl", "c.jsonl.gz", "d.tmp"]);
    assertEquals(await cleanupPartial(dir), []);
    assertEquals(await cleanupPartial(`${dir}/missing`), []);
    // The interrupted compression can then simply be redone.
    await compressFile(`${dir}/2026-11-25.001.jsonl`, `${dir}/2026-11-25.001.jsonl.gz`);
    assertEquals(
      new TextDecoder().decode(gunzipSync(await Deno.readFile(`${dir}/2026-11-25.001.jsonl.gz`))),
      "a\n",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// readLines through an external `gzip -dc` (what serve uses)

Deno.test("readLines with external gunzip: same lines and problems as the in-process decoder", async () => {
  await withTempDir(async (dir) => {
    const lines = sampleLines(20_000);
    const gz = gzipSync(enc.encode(joinLines(lines)));
    await Deno.writeFile(`${dir}/whole.jsonl.gz`, gz);
    await Deno.writeFile(`${dir}/torn.jsonl.gz`, gzipSync(enc.encode("one\ntwo\nthr")));
    await Deno.writeFile(`${dir}/cut.jsonl.gz`, gz.subarray(0, Math.floor(gz.length / 2)));
    await Deno.writeTextFile(`${dir}/garbage.jsonl.gz`, "this is not gzip\n");
    await Deno.writeFile(`${dir}/empty.jsonl.gz`, new Uint8Array(0));
    const inProcess = new Map<string, Awaited<ReturnType<typeof collect>>>();
    for (const name of ["whole", "torn", "cut", "garbage", "empty"]) {
      inProcess.set(name, await collect(`${dir}/${name}.jsonl.gz`, true));
    }
    useExternalGunzip(true);
    try {
      for (const name of ["whole", "torn", "garbage", "empty"]) {
        const got = await collect(`${dir}/${name}.jsonl.gz`, true);
        const want = inProcess.get(name)!;
        assertEquals(got.lines, want.lines, name);
        assertEquals(got.problems.map((p) => p.kind), want.problems.map((p) => p.kind), name);
      }
      // A cut stream: complete lines before the damage, never a partial one, then one problem.
      const cut = await collect(`${dir}/cut.jsonl.gz`, true);
      assert(cut.lines.length > 0 && cut.lines.length < lines.length, `${cut.lines.length}`);
      assertEquals(cut.lines, lines.slice(0, cut.lines.length));
      assertEquals(cut.problems.map((p) => p.kind), ["gzip"]);
      // Stopping early kills the child and closes the file.
      const seen: string[] = [];
      for await (const line of readLines(`${dir}/whole.jsonl.gz`, { gzip: true })) {
        seen.push(line);
        if (seen.length === 3) break;
      }
      assertEquals(seen, lines.slice(0, 3));
      assertEquals(await openFilesUnder(dir), []);
    } finally {
      useExternalGunzip(false);
    }
  });
});
