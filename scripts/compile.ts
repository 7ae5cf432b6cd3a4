/**
 * `deno task compile [x86_64|aarch64|all]`: single binaries dist/sysmon-linux-<arch> via `deno compile`.
 *
 * deno compile needs the `denort` base binary of the target. It is downloaded from Deno's release
 * servers unless DENORT_BIN points at one (DENORT_BIN_X86_64 / DENORT_BIN_AARCH64 select per target;
 * plain DENORT_BIN is used for the machine's own architecture). Without network access and without
 * these variables the build cannot succeed, and this script says so instead of failing obscurely.
 */
const TARGETS = {
  x86_64: "x86_64-unknown-linux-gnu",
  aarch64: "aarch64-unknown-linux-gnu",
} as const;
type Arch = keyof typeof TARGETS;

const want = Deno.args[0] ?? "all";
if (want !== "all" && !(want in TARGETS)) {
  console.error(`unknown target "${want}" (use x86_64, aarch64 or all)`);
  Deno.exit(2);
}
const arches = (want === "all" ? Object.keys(TARGETS) : [want]) as Arch[];
const root = new URL("..", import.meta.url).pathname;
const hostArch = Deno.build.arch as string;
let failed = 0;

for (const arch of arches) {
  const denort = Deno.env.get(`DENORT_BIN_${arch.toUpperCase()}`) ??
    (arch === hostArch ? Deno.env.get("DENORT_BIN") : undefined);
  if (denort) {
    const isFile = await Deno.stat(denort).then((st) => st.isFile, () => false);
    if (!isFile) {
      console.error(`${arch}: DENORT_BIN points at ${denort}, which is not a file`);
      failed++;
      continue;
    }
  }
  const out = `${root}dist/sysmon-linux-${arch}`;
  const env: Record<string, string> = denort ? { DENORT_BIN: denort } : {};
  const res = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "-A",
      "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded,--expose-gc",
      "--target",
      TARGETS[arch],
      "-o",
      out,
      `${root}main.ts`,
    ],
    cwd: root,
    env,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(res.stderr);
  if (res.code === 0) {
    console.log(`${arch}: wrote ${out}`);
    continue;
  }
  failed++;
  if (!denort && /download|denort|dl\.deno|connect|network|dns/i.test(err)) {
    console.error(
      `${arch}: deno compile could not download the denort base binary for ${TARGETS[arch]}.\n` +
        `  Build on a machine that can reach Deno's release downloads, or set ` +
        `DENORT_BIN_${arch.toUpperCase()}=/path/to/denort (same Deno version, ${Deno.version.deno}).`,
    );
  } else {
    console.error(`${arch}: deno compile failed:\n${err.trim()}`);
  }
}
Deno.exit(failed ? 1 : 0);
