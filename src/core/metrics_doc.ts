/** docs/metrics.md, generated from the catalogue so the document cannot drift from the code. */
import type { MetricDef } from "./model.ts";
import { ENTITY_KEYS } from "./catalog.ts";

const INTRO = `# Metrics

Generated from the collectors' own definitions by \`deno task gen-docs\`; \`tests/docs_test.ts\` fails when
this file is out of date. The JSON Schema of a sample is [schema/sample-v1.json](schema/sample-v1.json).

## Conventions
- Units: bytes, seconds (await too; screens show ms), percent on a 0–100 scale, \`1/s\` for event rates.
- *rate* metrics come from two readings of a cumulative counter divided by the time between them on the
  monotonic clock. They are \`null\` on the first reading, when a counter went backwards (reset,
  wrap, device replaced), across a reboot (boot id or \`btime\` changed) and, for CPU, when the set of
  online CPUs changed. They are never negative and percentages never exceed 100.
- *cumulative* metrics are totals since boot (\`cpu_*_time\` in seconds, as psutil reports them).
- A metric that is absent was not collected (feature missing on this kernel, collector disabled or failed
  — the sample's \`errors\` says which).
- CPU times are read in USER_HZ (100 per second on every Linux architecture sysmon supports).
- Definitions follow the tools people compare against: \`memory_used\` = MemTotal − MemAvailable (procps
  \`free\` 4.x), \`memory_cached\` = Cached + SReclaimable (psutil; add Buffers for free's buff/cache),
  filesystem use % = used ÷ (used + avail) as \`df\` (df rounds it up to an integer; sysmon keeps the
  exact value), disk util % from io_ticks and await from ticks per completed I/O (\`iostat -x\`).
- The seed's \`cpu_usage_per_core\` is \`cores.<cpuN>.core_usage_percent\`.

## Prometheus exposition
\`snapshot --format prometheus\` and \`serve\`'s /metrics carry node_exporter's families (names, types,
labels, base units) for cpu, stat, loadavg, meminfo, pressure, diskstats, netdev, netclass and filesystem,
as raw counters — rates are PromQL's job. sysmon's extras use the \`sysmon_\` prefix: usage ratios on a
0–1 scale from the sampler's last interval (\`sysmon_cpu_usage_ratio\`, \`sysmon_cpu_core_usage_ratio\`,
\`sysmon_memory_usage_ratio\`, \`sysmon_swap_usage_ratio\`, \`sysmon_disk_utilization_ratio\`,
\`sysmon_network_receive_utilization_ratio\`, \`sysmon_network_transmit_utilization_ratio\`,
\`sysmon_filesystem_usage_ratio\`, \`sysmon_filesystem_inodes_usage_ratio\`) and self metrics
(\`sysmon_collector_success\`, \`sysmon_collector_duration_seconds\`, \`sysmon_collector_entities_dropped\`,
\`sysmon_build_info\`).
`;

const SCOPES: [string, string][] = [
  ["metrics", "Scalar metrics (`metrics`)"],
  ["cores", "Per CPU core (`cores`)"],
  ["disks", "Per disk (`disks`)"],
  ["interfaces", "Per network interface (`interfaces`)"],
  ["filesystems", "Per filesystem (`filesystems`)"],
];

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function metricsMarkdown(defs: readonly MetricDef[]): string {
  const parts = [INTRO];
  for (const [scope, title] of SCOPES) {
    const rows = defs.filter((d) => d.scope === scope);
    if (rows.length === 0) continue;
    parts.push(`\n## ${title}\n`);
    if (scope !== "metrics") {
      parts.push(`Keyed by ${ENTITY_KEYS[scope as keyof typeof ENTITY_KEYS]}.\n`);
    }
    parts.push(
      "\n| metric | unit | kind | source | formula | meaning |\n|---|---|---|---|---|---|\n",
    );
    for (const d of rows) {
      parts.push(
        `| \`${d.name}\` | ${d.unit} | ${d.kind} | ${cell(d.source)} | ${cell(d.formula)} | ${
          cell(d.help)
        } |\n`,
      );
    }
  }
  return parts.join("");
}
