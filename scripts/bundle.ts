/**
 * `deno task bundle [OUT]`: one self-contained JavaScript file (default dist/sysmon.js) that runs
 * offline with `deno run -A dist/sysmon.js …`. The defaults are compiled in (src/config/defaults.gen.ts).
 */
const out = Deno.args[0] ?? "dist/sysmon.js";
const root = new URL("..", import.meta.url).pathname;
await Deno.mkdir(out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".", { recursive: true });
const cmd = new Deno.Command(Deno.execPath(), {
  args: ["bundle", "--quiet", "--platform", "deno", "-o", out, `${root}main.ts`],
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
const { code } = await cmd.output();
if (code !== 0) {
  console.error(`bundle failed (deno bundle exited ${code})`);
  Deno.exit(code);
}
const size = (await Deno.stat(out)).size;
console.log(`wrote ${out} (${(size / 1024).toFixed(0)} KiB)`);
