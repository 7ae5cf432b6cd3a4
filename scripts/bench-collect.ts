/**
 * Collection cost next to node_exporter, measured in the same run (figures for docs/performance.md).
 *
 *   deno run -A --v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded scripts/bench-collect.ts [--collections 2000] [--scrapes 300] [--rss-collections 10000]
 *
 * 1. sysmon: CPU time of one full collection of every default collector (statfs included), from the
 *    main thread's /proc/thread-self/schedstat (ns) around each collection → median and p99; plus the
 *    whole process's CPU (/proc/self/stat, all threads, statfs workers included) per collection.
 * 2. node_exporter (Debian prometheus-node-exporter, collectors cpu, stat, loadavg, meminfo, diskstats,
 *    netdev, netclass, filesystem, pressure) on 127.0.0.1: CPU seconds per scrape from /proc/PID/stat
 *    over N scrapes.
 * 3. RSS of a sampler with the default configuration (no config file) after 10 000 collections, in a
 *    child process so this script's own memory does not count.
 */
import { enabledFamilies } from "../src/collect/index.ts";
import { loadConfig } from "../src/config/load.ts";
import { Sampler } from "../src/core/sampler.ts";
import { createLogger } from "../src/log.ts";
import { startNodeExporter } from "./node_exporter.ts";

const arg = (name: string, dflt: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
};
const COLLECTIONS = arg("collections", 2000);
const SCRAPES = arg("scrapes", 300);
const RSS_COLLECTIONS = arg("rss-collections", 10000);
const TICK = 100; // USER_HZ
/** The V8 flags sysmon ships with (deno task sysmon, deno compile): a small young generation. */
const V8_FLAGS = ["--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded"];

function procCpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
}
const threadCpuNs = () =>
  Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function benchSysmon() {
  const { config } = await loadConfig({ env: {}, home: "/nonexistent", isRoot: false });
  const log = createLogger({ level: "error", format: "text" });
  const ctx = { roots: config.paths, config: config.collectors, log, dropped: new Map() };
  const sampler = new Sampler({ families: enabledFamilies(config.collectors), ctx, host: "bench" });
  for (let i = 0; i < 200; i++) await sampler.collect(); // warm up the JIT
  const perCollection: number[] = [];
  const cpu0 = procCpuSeconds("self");
  for (let i = 0; i < COLLECTIONS; i++) {
    const t0 = threadCpuNs();
    await sampler.collect();
    perCollection.push((threadCpuNs() - t0) / 1e6);
  }
  const processMs = ((procCpuSeconds("self") - cpu0) / COLLECTIONS) * 1000;
  return {
    median: quantile(perCollection, 0.5),
    p99: quantile(perCollection, 0.99),
    processMs,
    families: sampler.statuses().map((s) => s.name).join(","),
  };
}

async function benchNodeExporter() {
  const ne = await startNodeExporter();
  if (!ne) return undefined;
  try {
    for (let i = 0; i < 20; i++) await (await fetch(ne.url)).text(); // warm up
    const cpu0 = procCpuSeconds(ne.pid);
    const lat: number[] = [];
    for (let i = 0; i < SCRAPES; i++) {
      const t0 = performance.now();
      await (await fetch(ne.url)).text();
      lat.push(performance.now() - t0);
    }
    const cpuMs = ((procCpuSeconds(ne.pid) - cpu0) / SCRAPES) * 1000;
    return { cpuMs, median: quantile(lat, 0.5) };
  } finally {
    await ne.stop();
  }
}

async function rssAfterCollections() {
  const script = `
    import { enabledFamilies } from "${new URL("../src/collect/index.ts", import.meta.url)}";
    import { loadConfig } from "${new URL("../src/config/load.ts", import.meta.url)}";
    import { Sampler } from "${new URL("../src/core/sampler.ts", import.meta.url)}";
    import { createLogger } from "${new URL("../src/log.ts", import.meta.url)}";
    const { config } = await loadConfig({ env: {}, home: "/nonexistent", isRoot: false });
    const log = createLogger({ level: "error", format: "text" });
    const ctx = { roots: config.paths, config: config.collectors, log, dropped: new Map() };
    const s = new Sampler({ families: enabledFamilies(config.collectors), ctx, host: "rss" });
    const rss = () => Number(Deno.readTextFileSync("/proc/self/status").match(/VmRSS:\\s+(\\d+)/)[1]) / 1024;
    const at = {};
    for (let i = 1; i <= ${RSS_COLLECTIONS}; i++) {
      await s.collect();
      if (i === 1 || i === ${RSS_COLLECTIONS / 2} || i === ${RSS_COLLECTIONS}) at[i] = rss();
    }
    console.log(JSON.stringify(at));`;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...V8_FLAGS,
      "--config",
      new URL("../deno.json", import.meta.url).pathname,
      file,
    ],
    env: { HOME: "/nonexistent", XDG_CONFIG_HOME: "/nonexistent" },
  }).output();
  await Deno.remove(file);
  if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>;
}

const s = await benchSysmon();
const ne = await benchNodeExporter();
const rss = await rssAfterCollections();
const f = (x: number) => x.toFixed(3);
console.log(`sysmon full collection (${s.families}), ${COLLECTIONS} runs:`);
console.log(`  main-thread CPU per collection: median ${f(s.median)} ms, p99 ${f(s.p99)} ms`);
console.log(`  whole-process CPU per collection (all threads, mean): ${f(s.processMs)} ms`);
if (ne) {
  console.log(`node_exporter 1.5 (same collector set), ${SCRAPES} scrapes:`);
  console.log(
    `  CPU per scrape (mean): ${f(ne.cpuMs)} ms; scrape latency median ${f(ne.median)} ms`,
  );
  console.log(
    `  ratio sysmon/node_exporter (whole-process CPU): ${(s.processMs / ne.cpuMs).toFixed(3)}`,
  );
} else {
  console.log(
    "node_exporter: /usr/bin/prometheus-node-exporter not installed (apt-get install prometheus-node-exporter)",
  );
}
console.log(
  `sysmon sampler RSS (default config, no config file): ${
    Object.entries(rss).map(([n, mb]) => `${mb.toFixed(1)} MB after ${n}`).join(", ")
  }`,
);
