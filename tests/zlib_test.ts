/**
 * gzip through the system's zlib (src/core/zlib.ts) and the CompressionStream fallback of
 * src/api/respond.ts. The fallback needs a process without FFI, so this file doubles as a script:
 *   deno run --allow-read tests/zlib_test.ts --probe no-ffi
 */
import { gzip } from "../src/api/respond.ts";
import { gzipSync } from "../src/core/zlib.ts";
import { assert, assertEquals } from "./assert.ts";

const THIS_FILE = new URL(import.meta.url).pathname;
const encoder = new TextEncoder();

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** An exposition-like body: repetitive, as /metrics is, with a value that changes per line. */
function exposition(lines: number): string {
  let text = "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n";
  for (let i = 0; i < lines; i++) {
    text += `node_cpu_seconds_total{cpu="${i % 64}",mode="idle"} ${(i * 7919.13) % 100003}\n`;
  }
  return text;
}

/** Bytes no compressor can shrink: gzip must still round-trip them (stored blocks). */
function noise(n: number): string {
  let x = 2463534242;
  let s = "";
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += String.fromCharCode(32 + ((x >>> 0) % 95));
  }
  return s;
}

Deno.test("gzipSync: gzip that DecompressionStream reads back, for empty, small, large and incompressible bodies", async () => {
  const bodies = [
    "",
    "up 1\n",
    "température °C — ✓ 温度\n".repeat(50),
    exposition(20_000), // ≈ 1 MB
    noise(100_000),
  ];
  for (const body of bodies) {
    const bytes = gzipSync(encoder.encode(body));
    assert(bytes !== null, "zlib is expected on this machine (zlib1g)");
    assertEquals([bytes[0], bytes[1]], [0x1f, 0x8b], "gzip magic");
    assertEquals(await gunzip(bytes), body);
  }
});

Deno.test("gzipSync: compresses an exposition to well under a third", () => {
  const body = encoder.encode(exposition(1000));
  const bytes = gzipSync(body)!;
  assert(bytes.length < body.length / 3, `${bytes.length} of ${body.length} bytes`);
});

Deno.test("gzipSync: the shared stream is reset between bodies", async () => {
  // A stream that kept state would emit a back-reference into the previous body, or its trailer.
  const first = gzipSync(encoder.encode(exposition(500)))!.slice();
  const second = gzipSync(encoder.encode("node_load1 0.5\n"))!;
  assertEquals(await gunzip(second), "node_load1 0.5\n");
  assertEquals(await gunzip(first), exposition(500));
});

Deno.test("gzip without FFI falls back to CompressionStream", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", THIS_FILE, "--probe", "no-ffi"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, `probe failed: ${stderr}`);
  assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
    zlib: null,
    roundTrip: true,
  });
});

if (import.meta.main && Deno.args.includes("--probe")) {
  const body = exposition(300);
  const zlib = gzipSync(encoder.encode(body));
  const roundTrip = await gunzip(await gzip(body)) === body;
  console.log(JSON.stringify({ zlib, roundTrip }));
}
