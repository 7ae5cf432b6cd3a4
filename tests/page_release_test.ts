/**
 * Giving back the executable's start-up pages (src/core/page_release.ts).
 *
 * The release itself runs in a process of its own, so this file doubles as a script:
 *   deno run -A tests/page_release_test.ts --probe release   (release, then serve and fetch)
 *   deno run --allow-read tests/page_release_test.ts --probe no-ffi
 */
import {
  keepExecutablePagesReleased,
  releasableRanges,
  releaseExecutablePages,
} from "../src/core/page_release.ts";
import { memoryLogger } from "../src/log.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";

const THIS_FILE = new URL(import.meta.url).pathname;
const EXE = "/opt/deno/bin/deno";

/** One smaps entry in the layout of Documentation/filesystems/proc.rst (fields sysmon ignores kept). */
function entry(range: string, perms: string, path: string, rssKiB: number, anonKiB: number) {
  return [
    `${range} ${perms} 00000000 fe:00 5308429                    ${path}`,
    `Size:               8192 kB`,
    `KernelPageSize:        4 kB`,
    `MMUPageSize:           4 kB`,
    `Rss:             ${String(rssKiB).padStart(7)} kB`,
    `Pss:             ${String(rssKiB).padStart(7)} kB`,
    `Shared_Clean:          0 kB`,
    `Shared_Dirty:          0 kB`,
    `Private_Clean:   ${String(rssKiB - anonKiB).padStart(7)} kB`,
    `Private_Dirty:   ${String(anonKiB).padStart(7)} kB`,
    `Referenced:      ${String(rssKiB).padStart(7)} kB`,
    `Anonymous:       ${String(anonKiB).padStart(7)} kB`,
    `KSM:                   0 kB`,
    `LazyFree:              0 kB`,
    `AnonHugePages:         0 kB`,
    `Swap:                  0 kB`,
    `SwapPss:               0 kB`,
    `Locked:                0 kB`,
    `THPeligible:           0`,
    `VmFlags: rd ex mr mw me sd`,
  ].join("\n");
}

Deno.test("releasableRanges: only clean, read-only mappings of the executable with pages resident", () => {
  const smaps = [
    entry("55d000000000-55d000800000", "r--p", EXE, 6000, 0), // read-only data
    entry("55d000800000-55d002000000", "r-xp", EXE, 11600, 0), // code
    entry("55d002000000-55d002001000", "r--p", EXE, 4, 4), // relocated data (RELRO): a private copy
    entry("55d002001000-55d002003000", "rw-p", EXE, 8, 8), // writable data
    entry("55d002003000-55d002005000", "r--p", EXE, 0, 0), // nothing resident
    entry("7f0000000000-7f0000100000", "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6", 900, 0),
    entry("7f0000200000-7f0000300000", "rw-p", "", 512, 512), // anonymous memory
    entry("7f1000000000-7f1000226000", "r-xp", `${EXE} (deleted)`, 1664, 0), // replaced on disk
  ].join("\n") + "\n";
  const got = releasableRanges(smaps, EXE).map((r) => ({
    start: r.start.toString(16),
    end: r.end.toString(16),
    kib: r.residentKiB,
  }));
  assertEquals(got, [
    { start: "55d000000000", end: "55d000800000", kib: 6000 },
    { start: "55d000800000", end: "55d002000000", kib: 11600 },
    { start: "7f1000000000", end: "7f1000226000", kib: 1664 },
  ]);
});

Deno.test("releasableRanges: an entry without an Anonymous line is left alone", () => {
  const smaps = `55d000000000-55d000800000 r-xp 00000000 fe:00 1 ${EXE}\nRss: 400 kB\n`;
  assertEquals(releasableRanges(smaps, EXE), []);
  assertEquals(releasableRanges(entry("1000-2000", "r-xp", EXE, 4, 0), "/other/deno"), []);
});

async function probe(mode: string, permissions: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, THIS_FILE, "--probe", mode],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, `probe ${mode} failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("releaseExecutablePages: RssFile drops and the process keeps working", async () => {
  const r = await probe("release", ["-A"]);
  // Deno's start-up alone faults in over 20 MiB of the executable (bare Deno.serve: 23 MB).
  assert(r.releasedKiB >= 5 * 1024, `released only ${r.releasedKiB} KiB`);
  assert(
    r.fileAfter <= r.fileBefore - 5 * 1024,
    `RssFile ${r.fileBefore} → ${r.fileAfter} KiB after releasing ${r.releasedKiB} KiB`,
  );
  // The code and data came back on use: a server answered and a regular expression ran.
  assertEquals(r.answer, "pong 42");
  assertEquals(r.refused, 0);
});

Deno.test("keepExecutablePagesReleased: without FFI it says why at debug level and does nothing", async () => {
  const r = await probe("no-ffi", ["--allow-read"]);
  assertEquals(r.lines.length, 1);
  assertMatch(r.lines[0], /page release: giving back start-up memory needs FFI access/);
});

// ---------------------------------------------------------------------------------------------
// The probes

function rssFileKiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/RssFile:\s+(\d+)/.exec(status)![1]);
}

async function releaseProbe() {
  const fileBefore = rssFileKiB();
  const outcome = releaseExecutablePages();
  const fileAfter = rssFileKiB();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => new Response(`pong ${new URL(req.url).searchParams.get("n")}`),
  );
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/?n=${"4x2".replace(/x/, "")}`);
  const answer = await res.text();
  await server.shutdown();
  console.log(JSON.stringify({ ...outcome, fileBefore, fileAfter, answer }));
}

function noFfiProbe() {
  const log = memoryLogger("debug");
  keepExecutablePagesReleased(log)();
  console.log(JSON.stringify({ lines: log.lines }));
}

if (import.meta.main) {
  const mode = Deno.args[Deno.args.indexOf("--probe") + 1];
  if (mode === "release") await releaseProbe();
  else if (mode === "no-ffi") noFfiProbe();
  else throw new Error(`unknown probe "${mode}"`);
}
