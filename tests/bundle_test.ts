/** The bundled artifact runs offline from another directory, defaults and YAML parser inside it. */
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";

Deno.test("bundle: dist/sysmon.js runs snapshot from another directory, with and without a config file", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/sysmon.js`;
  const root = new URL("..", import.meta.url).pathname;
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}scripts/bundle.ts`, out],
    cwd: root,
  }).output();
  assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));

  const plain = await sysmon(["snapshot", "--json", "--interval", "200ms"], {
    entry: out,
    cwd: dir,
  });
  assertEquals(plain.code, 0, plain.stderr);
  const s = JSON.parse(plain.stdout);
  assertEquals(s.version, 1);
  assert(s.metrics.memory_total > 0);
  assert(typeof s.metrics.cpu_usage_percent === "number");

  await Deno.writeTextFile(`${dir}/c.yaml`, "collectors:\n  meminfo:\n    enabled: false\n");
  const withConfig = await sysmon([
    "snapshot",
    "--json",
    "--interval",
    "200ms",
    "--config",
    "c.yaml",
  ], {
    entry: out,
    cwd: dir,
  });
  assertEquals(withConfig.code, 0, withConfig.stderr);
  assert(!("memory_total" in JSON.parse(withConfig.stdout).metrics));

  const show = await sysmon(["config", "show"], { entry: out, cwd: dir });
  assertEquals(show.code, 0, show.stderr);
  assertStringIncludes(show.stdout, "max_entities: 256");
});
