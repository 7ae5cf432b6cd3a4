/**
 * Starts Debian's prometheus-node-exporter on 127.0.0.1 with the collector set sysmon covers, for the
 * benchmark and the compatibility test. Returns undefined when the package is not installed.
 */
export const NODE_EXPORTER = "/usr/bin/prometheus-node-exporter";
export const SHARED_COLLECTORS = [
  "cpu",
  "stat",
  "loadavg",
  "meminfo",
  "diskstats",
  "netdev",
  "netclass",
  "filesystem",
  "pressure",
];

export interface RunningExporter {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startNodeExporter(): Promise<RunningExporter | undefined> {
  const installed = await Deno.stat(NODE_EXPORTER).then(() => true, () => false);
  if (!installed) return undefined;
  const port = 19100 + Math.floor(Math.random() * 800);
  const child = new Deno.Command(NODE_EXPORTER, {
    args: [
      `--web.listen-address=127.0.0.1:${port}`,
      "--collector.disable-defaults",
      ...SHARED_COLLECTORS.map((c) => `--collector.${c}`),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
  };
  const url = `http://127.0.0.1:${port}/metrics`;
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(url)).text();
      return { url, pid: child.pid, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await stop();
  throw new Error(`node_exporter did not answer on ${url} within 5 s`);
}
