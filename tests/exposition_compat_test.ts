/**
 * The exposition against the real references on this machine: `promtool check metrics` and Debian's
 * prometheus-node-exporter 1.5 scraped in the same test (names, types and label sets of shared families).
 */
import { assert, assertEquals } from "./assert.ts";
import { sysmon } from "./cli_util.ts";
import { startNodeExporter } from "../scripts/node_exporter.ts";

interface Family {
  type: string;
  labelSets: Set<string>;
}

/** Family name → type and the distinct label-name sets of its samples. */
function parseExposition(text: string): Map<string, Family> {
  const fams = new Map<string, Family>();
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      fams.set(name, { type, labelSets: new Set() });
    } else if (line && !line.startsWith("#")) {
      const name = line.match(/^[a-zA-Z_:][a-zA-Z0-9_:]*/)![0];
      const labels = [...line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((m) => m[1]).sort().join(
        ",",
      );
      fams.get(name)?.labelSets.add(labels);
    }
  }
  return fams;
}

async function which(bin: string): Promise<boolean> {
  return (await new Deno.Command("sh", { args: ["-c", `command -v ${bin}`] }).output()).code === 0;
}

Deno.test("exposition: promtool check metrics reports only node_exporter's own camelCase memory names", async () => {
  assert(
    await which("promtool"),
    "promtool is missing: apt-get install prometheus (scripts/test.sh does)",
  );
  const r = await sysmon(["snapshot", "--format", "prometheus", "--interval", "200ms"]);
  assertEquals(r.code, 0, r.stderr);
  const check = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const w = check.stdin.getWriter();
  await w.write(new TextEncoder().encode(r.stdout));
  await w.close();
  const out = await check.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const problems = text.split("\n").filter((l) => l.trim() !== "");
  for (const p of problems) {
    assert(
      /^node_memory_\S+ metric names should be written in 'snake_case' not 'camelCase'$/.test(
        p.trim(),
      ),
      `promtool lint that is not a node_exporter camelCase memory name: ${p}`,
    );
  }
  // promtool exits 3 on lints (the camelCase names) and 1 on parse errors; never accept a parse error.
  assert(out.code === 0 || out.code === 3, `promtool exit ${out.code}: ${text}`);
});

Deno.test("exposition: shared families have node_exporter's names, types and labels", async () => {
  const ne = await startNodeExporter();
  assert(ne, "prometheus-node-exporter is missing (scripts/test.sh installs it)");
  let reference: string;
  try {
    reference = await (await fetch(ne.url)).text();
  } finally {
    await ne.stop();
  }
  assert(reference.includes("node_cpu_seconds_total"), "node_exporter did not answer");
  // lo is included so both sides expose the same devices' label sets.
  const cfg = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(cfg, "collectors:\n  netdev:\n    exclude: ''\n");
  const r = await sysmon([
    "snapshot",
    "--format",
    "prometheus",
    "--interval",
    "200ms",
    "--config",
    cfg,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const ours = parseExposition(r.stdout);
  const theirs = parseExposition(reference);

  const mustShare = [
    "node_cpu_seconds_total",
    "node_load1",
    "node_load5",
    "node_load15",
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_boot_time_seconds",
    "node_context_switches_total",
    "node_procs_running",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_disk_io_time_seconds_total",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_network_up",
    "node_network_mtu_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_files_free",
    "node_pressure_cpu_waiting_seconds_total",
  ];
  for (const name of mustShare) {
    assert(theirs.has(name), `reference lacks ${name} (the test's list is wrong)`);
    assert(ours.has(name), `sysmon lacks ${name}`);
  }
  for (const [name, fam] of ours) {
    if (!name.startsWith("node_")) continue;
    const ref = theirs.get(name);
    assert(ref, `sysmon exposes ${name}, which node_exporter 1.5 does not have`);
    assertEquals(fam.type, ref.type, `TYPE of ${name}`);
    // Our label names must appear in node_exporter's (its _info series carry a few more labels).
    for (const ls of fam.labelSets) {
      const mine = ls.split(",");
      const found = [...ref.labelSets].some((r) => mine.every((l) => r.split(",").includes(l)));
      assert(found, `${name}: labels {${ls}} not among node_exporter's ${[...ref.labelSets]}`);
    }
  }
});
