/** The bundled artifact runs offline from another directory, defaults, YAML parser and hono inside it. */
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";
import { freePort } from "./helpers.ts";

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

  // serve from the bundle: hono, the lazily loaded OpenAPI module and /metrics are inside it.
  const port = freePort();
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", out, "serve", "--listen", `127.0.0.1:${port}`, "--data", dir],
    cwd: dir,
    env: { XDG_CONFIG_HOME: `${dir}/none` },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let metrics = "";
    for (let i = 0; i < 100 && !metrics; i++) {
      metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => "");
      if (!metrics) await new Promise((r) => setTimeout(r, 100));
    }
    assertStringIncludes(metrics, "node_cpu_seconds_total");
    const doc = await (await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`)).json();
    assertEquals(doc.openapi, "3.1.0");
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await Deno.remove(dir, { recursive: true });
  }
});
