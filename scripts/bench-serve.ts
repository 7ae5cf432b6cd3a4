/**
 * `sysmon serve`'s /metrics next to Debian's prometheus-node-exporter, scraped in the same run
 * (figures for docs/performance.md, "Serving /metrics").
 *
 *   deno run -A scripts/bench-serve.ts [--scrapes 1000] [--soak 10000] [--warmup 100]
 *     [--access-log] [--no-reference] [--json]
 *
 * 1. Starts node_exporter (collectors SHARED_COLLECTORS) and `deno run -A --v8-flags=… main.ts serve`
 *    — the `deno` executable itself, so its /proc/PID is sysmon's — with a configuration file that
 *    turns the access log off (on with --access-log).
 * 2. Scrapes them in turn, one keep-alive fetch client per target, `Accept-Encoding: gzip` as
 *    Prometheus sends it, whole body read: median and p99 latency. CPU seconds per scrape from
 *    /proc/PID/stat utime+stime over the scrape phase, minus the process's CPU rate over an idle
 *    window just before (as long as the phase is expected to take, at least 10 s for the 10 ms
 *    ticks; sysmon's sampler ticks in it) times the phase's length.
 * 3. Bytes per scrape: gzip body on the wire from a raw HTTP/1.1 request (fetch decompresses), and
 *    the decompressed body.
 * 4. Soak: sysmon alone, N scrapes back to back; VmRSS (with RssAnon/RssFile) at N/2 and N.
 * 5. Reference: the RSS of a bare `Deno.serve` with the same V8 flags (--no-reference skips it).
 *
 * Checks the targets and always exits 0 once the measurement ran (it is a measurement, not a
 * test); 1 when setup fails, 2 for bad flags.
 */
import { SHARED_COLLECTORS, startNodeExporter } from "./node_exporter.ts";

const TICK = 100; // USER_HZ
/** The flags of `deno task sysmon` plus --expose-gc, which lets serve free response buffers. */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded,--expose-gc";
/** As `deno task sysmon`: V8's code cache is a 2–2.5 MB file mapping, for ~20 ms of start-up. */
const NO_CODE_CACHE = "--no-code-cache";
const MB = 1e6;
const MIB = 1048576;
const TARGETS = {
  cpuRatio: 0.5,
  rssBytes: 60 * MB,
  rssGrowthBytes: 1 * MB,
};

class SetupFailure extends Error {}

function fail(message: string, code: number): never {
  console.error(`bench-serve: ${message}`);
  Deno.exit(code);
}

function intFlag(name: string, dflt: number, min: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(Deno.args[i + 1]);
  if (!Number.isInteger(n) || n < min) {
    fail(`--${name} needs a whole number ≥ ${min}, got "${Deno.args[i + 1] ?? ""}"`, 2);
  }
  return n;
}

const SCRAPES = intFlag("scrapes", 1000, 300);
const SOAK = intFlag("soak", 10000, 0);
const WARMUP = intFlag("warmup", 100, 10);
const REFERENCE_REQUESTS = 2000;
const JSON_OUT = Deno.args.includes("--json");
const ACCESS_LOG = Deno.args.includes("--access-log");
const REFERENCE = !Deno.args.includes("--no-reference");
if (SOAK % 2 !== 0) fail(`--soak needs an even number (RSS is read at N/2), got ${SOAK}`, 2);

// ---------------------------------------------------------------------------------------------
// /proc readers

/** utime + stime of every thread of the process, exited ones included. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK;
}

interface Memory {
  rss: number;
  anon: number;
  file: number;
  shmem: number;
  hwm: number;
}

/** Resident memory in bytes, from /proc/PID/status (kB there means KiB). */
function memory(pid: number): Memory {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (field: string) => {
    const m = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return {
    rss: kib("VmRSS"),
    anon: kib("RssAnon"),
    file: kib("RssFile"),
    shmem: kib("RssShmem"),
    hwm: kib("VmHWM"),
  };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

// ---------------------------------------------------------------------------------------------
// Clients

interface Target {
  name: string;
  url: string;
  pid: number;
  client: Deno.HttpClient;
}

function target(name: string, url: string, pid: number): Target {
  // One pooled connection per target, kept alive between scrapes as Prometheus does.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 1, http2: false });
  return { name, url, pid, client };
}

interface Scrape {
  ms: number;
  /** Body after fetch's transparent gzip decoding. */
  bytes: number;
}

async function scrape(t: Target): Promise<Scrape> {
  const t0 = performance.now();
  let res: Response;
  let body: ArrayBuffer;
  try {
    res = await fetch(t.url, { client: t.client, headers: { "accept-encoding": "gzip" } });
    body = await res.arrayBuffer();
  } catch (err) {
    throw new SetupFailure(`${t.name}: ${t.url}: ${(err as Error).message}`);
  }
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new SetupFailure(`${t.name}: ${t.url} answered ${res.status}`);
  return { ms, bytes: body.byteLength };
}

interface Wire {
  /** Body bytes as sent (gzip), without headers or chunk framing. */
  body: number;
  /** Everything the server sent: status line, headers, framing, body. */
  total: number;
  encoding: string;
  /** Body bytes after gunzip. */
  decoded: number;
}

/**
 * One scrape over a raw socket: fetch always decodes gzip and hides the encoded size, so this reads
 * the response as the server sent it (Connection: close, chunked or Content-Length).
 */
async function wire(url: string): Promise<Wire> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const req = `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAccept-Encoding: gzip\r\n` +
    "Connection: close\r\n\r\n";
  await conn.write(new TextEncoder().encode(req));
  const raw = new Uint8Array(await new Response(conn.readable).arrayBuffer());
  let headEnd = -1;
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) {
      headEnd = i + 4;
      break;
    }
  }
  if (headEnd < 0) throw new SetupFailure(`${url}: no HTTP header in the raw response`);
  const head = new TextDecoder().decode(raw.subarray(0, headEnd)).toLowerCase();
  const header = (name: string) => head.match(new RegExp(`\\r\\n${name}:\\s*([^\\r]*)`))?.[1];
  let body = raw.subarray(headEnd);
  if (header("transfer-encoding")?.includes("chunked")) body = dechunk(body);
  const encoding = header("content-encoding") ?? "identity";
  const decoded = encoding === "gzip"
    ? (await new Response(
      new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).arrayBuffer()).byteLength
    : body.length;
  return { body: body.length, total: raw.length, encoding, decoded };
}

function dechunk(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    let eol = at;
    while (eol + 1 < data.length && !(data[eol] === 13 && data[eol + 1] === 10)) eol++;
    const size = parseInt(new TextDecoder().decode(data.subarray(at, eol)), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Spawned {
  child: Deno.ChildProcess;
  pid: number;
  exited: () => boolean;
  stderrTail: () => string;
  stop: () => Promise<void>;
}

/** Spawns `deno` itself (no wrapper, so pid is the server) and keeps the last lines of stderr. */
function spawnDeno(args: string[], cwd: string, env: Record<string, string>): Spawned {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let done = false;
  child.status.then(() => done = true);
  let tail = "";
  // Drain stderr (the access log can be long) so the server never blocks on a full pipe.
  const drained = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) tail = (tail + dec.decode(chunk)).slice(-4000);
  })();
  return {
    child,
    pid: child.pid,
    exited: () => done,
    stderrTail: () => tail.trim(),
    stop: async () => {
      if (!done) child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}

async function waitReady(url: string, p: Spawned, what: string, seconds = 60): Promise<void> {
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    if (p.exited()) {
      throw new SetupFailure(`${what} exited at start-up:\n${p.stderrTail()}`);
    }
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new SetupFailure(`${what} did not answer ${url} within ${seconds} s`);
}

// ---------------------------------------------------------------------------------------------
// Phases

interface PhaseResult {
  latencies: number[];
  bytes: number[];
  cpuS: number;
  wallS: number;
}

/** Scrapes every target in turn, `rounds` times; CPU of each process over the whole phase. */
async function alternate(targets: Target[], rounds: number): Promise<Map<Target, PhaseResult>> {
  const out = new Map<Target, PhaseResult>();
  for (const t of targets) out.set(t, { latencies: [], bytes: [], cpuS: 0, wallS: 0 });
  const cpu0 = targets.map((t) => cpuSeconds(t.pid));
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    for (const t of targets) {
      const s = await scrape(t);
      const r = out.get(t)!;
      r.latencies.push(s.ms);
      r.bytes.push(s.bytes);
    }
  }
  const wallS = (performance.now() - t0) / 1000;
  targets.forEach((t, i) => {
    const r = out.get(t)!;
    r.cpuS = cpuSeconds(t.pid) - cpu0[i];
    r.wallS = wallS;
  });
  return out;
}

/** CPU seconds per wall second of each process while nothing scrapes it. */
async function idleRates(targets: Target[], seconds: number): Promise<number[]> {
  const cpu0 = targets.map((t) => cpuSeconds(t.pid));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  return targets.map((t, i) => (cpuSeconds(t.pid) - cpu0[i]) / wall);
}

/** RSS of a `Deno.serve` that answers "ok", same flags: what Deno itself costs. */
async function bareDenoServe(tmp: string, env: Record<string, string>) {
  const port = freePort();
  const file = `${tmp}/bare_serve.ts`;
  await Deno.writeTextFile(
    file,
    `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, () => new Response("ok\\n"));\n`,
  );
  const p = spawnDeno(["run", NO_CODE_CACHE, "-A", V8_FLAGS, file], tmp, env);
  try {
    const url = `http://127.0.0.1:${port}/`;
    await waitReady(url, p, "bare Deno.serve");
    const start = memory(p.pid);
    const t = target("bare Deno.serve", url, p.pid);
    for (let i = 0; i < REFERENCE_REQUESTS; i++) await scrape(t);
    t.client.close();
    return { start, after: memory(p.pid), requests: REFERENCE_REQUESTS };
  } finally {
    await p.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const ms = (s: number) => s * 1000;
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const mem = (b: number) => `${(b / MB).toFixed(1)} MB (${(b / MIB).toFixed(1)} MiB)`;
const signedMem = (b: number) => {
  const sign = b >= 0 ? "+" : "−";
  return `${sign}${(Math.abs(b) / MB).toFixed(2)} MB (${sign}${
    (Math.abs(b) / MIB).toFixed(2)
  } MiB)`;
};
/** Where resident memory is: anonymous (heaps) or file-backed (mostly the deno executable). */
const split = (m: Memory) =>
  `anon ${(m.anon / MB).toFixed(1)} + file ${(m.file / MB).toFixed(1)} MB`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
    return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
  }).join("\n");
}

async function main() {
  const root = new URL("..", import.meta.url).pathname;
  const tmp = await Deno.makeTempDir({ prefix: "bench-serve-" });
  const cleanups: (() => Promise<void>)[] = [() => Deno.remove(tmp, { recursive: true })];
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    DENO_NO_UPDATE_CHECK: "1",
    NO_COLOR: "1",
    // No user or system config beyond ours, and no data directory: /metrics only.
    XDG_CONFIG_HOME: `${tmp}/config`,
    XDG_DATA_HOME: `${tmp}/data`,
  };
  try {
    const ne = await startNodeExporter();
    if (!ne) {
      throw new SetupFailure(
        "/usr/bin/prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)",
      );
    }
    cleanups.unshift(() => ne.stop());

    // The default configuration: no config file (one would load the YAML parser, ~6 MB of RSS).
    // Without --access-log, --log-level warn keeps the per-request lines out of the measurement.
    const port = freePort();
    const sysmonArgs = [
      "run",
      NO_CODE_CACHE,
      "-A",
      V8_FLAGS,
      "main.ts",
      "serve",
      "--listen",
      `127.0.0.1:${port}`,
      ...(ACCESS_LOG ? [] : ["--log-level", "warn"]),
    ];
    const sysmon = spawnDeno(sysmonArgs, root, env);
    cleanups.unshift(() => sysmon.stop());
    await waitReady(`http://127.0.0.1:${port}/healthz`, sysmon, "sysmon serve");
    const exe = Deno.readLinkSync(`/proc/${sysmon.pid}/exe`);
    if (!exe.endsWith("/deno")) throw new SetupFailure(`pid ${sysmon.pid} is ${exe}, not deno`);

    const memStart = { sysmon: memory(sysmon.pid), node_exporter: memory(ne.pid) };
    const s = target("sysmon", `http://127.0.0.1:${port}/metrics`, sysmon.pid);
    const n = target("node_exporter", ne.url, ne.pid);
    // node_exporter first: its scrape lands between two of sysmon's, as sysmon's between its.
    const both = [n, s];
    // Progress only where someone watches; the report itself goes to stdout.
    const log = (line: string) => {
      if (Deno.stderr.isTerminal()) console.error(line);
    };

    log(`warm-up: ${WARMUP} scrapes each`);
    const warm = await alternate(both, WARMUP);
    const roundS = warm.get(s)!.wallS / WARMUP;
    const idleS = Math.min(300, Math.max(10, roundS * SCRAPES));
    log(`idle window: ${idleS.toFixed(1)} s`);
    const [neIdle, sysmonIdle] = await idleRates(both, idleS);
    log(`scrape phase: ${SCRAPES} scrapes each, in turn`);
    const phase = await alternate(both, SCRAPES);
    const memAfterPhase = { sysmon: memory(sysmon.pid), node_exporter: memory(ne.pid) };

    const wires = { sysmon: [] as Wire[], node_exporter: [] as Wire[] };
    for (let i = 0; i < 5; i++) {
      wires.sysmon.push(await wire(s.url));
      wires.node_exporter.push(await wire(n.url));
    }
    n.client.close();
    await ne.stop(); // the cleanup's second stop fails harmlessly

    const soakMem: { scrapes: number; mem: Memory }[] = [];
    let soakPhase: PhaseResult | undefined;
    if (SOAK > 0) {
      log(`soak: ${SOAK} scrapes of sysmon alone`);
      const step = Math.min(500, SOAK / 2);
      const cpu0 = cpuSeconds(sysmon.pid);
      const t0 = performance.now();
      const latencies: number[] = [];
      const bytes: number[] = [];
      for (let i = 1; i <= SOAK; i++) {
        const r = await scrape(s);
        latencies.push(r.ms);
        bytes.push(r.bytes);
        if (i % step === 0 || i === SOAK / 2 || i === SOAK) {
          soakMem.push({ scrapes: i, mem: memory(sysmon.pid) });
        }
      }
      soakPhase = {
        latencies,
        bytes,
        cpuS: cpuSeconds(sysmon.pid) - cpu0,
        wallS: (performance.now() - t0) / 1000,
      };
    }
    s.client.close();
    const sysmonHwm = memory(sysmon.pid).hwm;
    await sysmon.stop();
    const reference = REFERENCE ? await bareDenoServe(tmp, env) : undefined;

    // --- figures
    const perScrape = (r: PhaseResult, idleRate: number, count: number) =>
      Math.max(0, r.cpuS - idleRate * r.wallS) / count;
    const side = (name: "sysmon" | "node_exporter", t: Target, idleRate: number) => {
      const r = phase.get(t)!;
      const w = wires[name];
      return {
        scrapes: r.latencies.length,
        latencyMs: { median: quantile(r.latencies, 0.5), p99: quantile(r.latencies, 0.99) },
        cpuSecondsPerScrape: perScrape(r, idleRate, r.latencies.length),
        cpuSecondsPerScrapeGross: r.cpuS / r.latencies.length,
        idleCpuSecondsPerSecond: idleRate,
        bytesPerScrape: {
          gzip: mean(w.map((x) => x.body)),
          wireTotal: mean(w.map((x) => x.total)),
          uncompressed: mean(r.bytes),
          encoding: w[0].encoding,
        },
        rss: { start: memStart[name], afterScrapePhase: memAfterPhase[name] },
      };
    };
    const sys = side("sysmon", s, sysmonIdle);
    const nex = side("node_exporter", n, neIdle);
    const half = soakMem.find((m) => m.scrapes === SOAK / 2)?.mem;
    const end = soakMem.find((m) => m.scrapes === SOAK)?.mem;
    const soak = soakPhase && half && end
      ? {
        scrapes: SOAK,
        latencyMs: {
          median: quantile(soakPhase.latencies, 0.5),
          p99: quantile(soakPhase.latencies, 0.99),
        },
        cpuSecondsPerScrape: perScrape(soakPhase, sysmonIdle, SOAK),
        wallS: soakPhase.wallS,
        rssHalf: half,
        rssEnd: end,
        rssGrowth: end.rss - half.rss,
        series: soakMem.map((m) => ({ scrapes: m.scrapes, rss: m.mem.rss, anon: m.mem.anon })),
      }
      : undefined;
    const cpuRatio = sys.cpuSecondsPerScrape / nex.cpuSecondsPerScrape;
    const latencyRatio = sys.latencyMs.median / nex.latencyMs.median;
    const rssPoints = [sys.rss.start.rss, sys.rss.afterScrapePhase.rss];
    if (soak) rssPoints.push(soak.rssHalf.rss, soak.rssEnd.rss);
    const rssMax = Math.max(...rssPoints);
    const checks = [
      {
        name: "CPU per scrape ≤ 0.5 × node_exporter's",
        value: `ratio ${f3(cpuRatio)}`,
        met: cpuRatio <= TARGETS.cpuRatio,
      },
      {
        name: "median latency ≤ node_exporter's",
        value: `ratio ${f3(latencyRatio)}`,
        met: latencyRatio <= 1,
      },
      {
        name: "RSS ≤ 60 MB (60·10⁶ bytes), highest reading",
        value: mem(rssMax),
        met: rssMax <= TARGETS.rssBytes,
      },
      ...(soak
        ? [{
          name: `RSS growth < 1 MB, soak scrape ${SOAK / 2} → ${SOAK}`,
          value: signedMem(soak.rssGrowth),
          met: soak.rssGrowth < TARGETS.rssGrowthBytes,
        }]
        : []),
    ];
    const report = {
      date: new Date().toISOString(),
      deno: Deno.version.deno,
      cores: navigator.hardwareConcurrency,
      kernel: Deno.osRelease(),
      accessLog: ACCESS_LOG,
      sysmonCommand: `deno ${sysmonArgs.join(" ")}`,
      collectors: SHARED_COLLECTORS,
      idleWindowS: idleS,
      scrapePhaseS: phase.get(s)!.wallS,
      sysmon: { ...sys, soak, vmHwm: sysmonHwm },
      node_exporter: nex,
      ratios: { cpuPerScrape: cpuRatio, medianLatency: latencyRatio },
      reference,
      checks,
    };

    if (JSON_OUT) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(
      `sysmon: pid ${sysmon.pid} = ${exe} ${sysmonArgs.join(" ")} (access log ${ACCESS_LOG})`,
    );
    console.log(
      `node_exporter: pid ${ne.pid}, ${ne.url}, collectors ${SHARED_COLLECTORS.join(",")}`,
    );
    const rows = [
      ["figure", "sysmon", "node_exporter", "sysmon/node_exporter"],
      [
        `scrape latency, median of ${SCRAPES}`,
        `${f3(sys.latencyMs.median)} ms`,
        `${f3(nex.latencyMs.median)} ms`,
        f3(latencyRatio),
      ],
      [
        "scrape latency, p99",
        `${f3(sys.latencyMs.p99)} ms`,
        `${f3(nex.latencyMs.p99)} ms`,
        f3(sys.latencyMs.p99 / nex.latencyMs.p99),
      ],
      [
        "CPU per scrape, idle subtracted",
        `${f3(ms(sys.cpuSecondsPerScrape))} ms`,
        `${f3(ms(nex.cpuSecondsPerScrape))} ms`,
        f3(cpuRatio),
      ],
      [
        "CPU per scrape, gross",
        `${f3(ms(sys.cpuSecondsPerScrapeGross))} ms`,
        `${f3(ms(nex.cpuSecondsPerScrapeGross))} ms`,
        f3(sys.cpuSecondsPerScrapeGross / nex.cpuSecondsPerScrapeGross),
      ],
      [
        "idle CPU",
        `${f3(ms(sysmonIdle))} ms/s`,
        `${f3(ms(neIdle))} ms/s`,
        "",
      ],
      [
        "bytes per scrape, gzip body",
        `${sys.bytesPerScrape.gzip.toFixed(0)} (${sys.bytesPerScrape.encoding})`,
        `${nex.bytesPerScrape.gzip.toFixed(0)} (${nex.bytesPerScrape.encoding})`,
        f2(sys.bytesPerScrape.gzip / nex.bytesPerScrape.gzip),
      ],
      [
        "bytes per scrape, uncompressed",
        sys.bytesPerScrape.uncompressed.toFixed(0),
        nex.bytesPerScrape.uncompressed.toFixed(0),
        f2(sys.bytesPerScrape.uncompressed / nex.bytesPerScrape.uncompressed),
      ],
      ["RSS at start", mem(sys.rss.start.rss), mem(nex.rss.start.rss), ""],
      ["", split(sys.rss.start), split(nex.rss.start), ""],
      [
        `RSS after the scrape phase`,
        mem(sys.rss.afterScrapePhase.rss),
        mem(nex.rss.afterScrapePhase.rss),
        "",
      ],
      ["", split(sys.rss.afterScrapePhase), split(nex.rss.afterScrapePhase), ""],
    ];
    if (soak) {
      rows.push(
        [`RSS after soak scrape ${SOAK / 2}`, mem(soak.rssHalf.rss), "", ""],
        ["", split(soak.rssHalf), "", ""],
        [`RSS after soak scrape ${SOAK}`, mem(soak.rssEnd.rss), "", ""],
        ["", split(soak.rssEnd), "", ""],
        [`RSS growth ${SOAK / 2} → ${SOAK}`, signedMem(soak.rssGrowth), "", ""],
      );
    }
    rows.push(["VmHWM (peak RSS)", mem(sysmonHwm), "", ""]);
    console.log(
      `${
        new Date().toISOString().slice(0, 10)
      }, ${navigator.hardwareConcurrency} cores, Linux ${Deno.osRelease()}, Deno ${Deno.version.deno}; ` +
        `scrape phase ${report.scrapePhaseS.toFixed(1)} s, idle window ${idleS.toFixed(1)} s`,
    );
    console.log(table(rows));
    if (soak) {
      console.log(
        `soak (sysmon alone, ${SOAK} scrapes in ${soak.wallS.toFixed(1)} s): latency median ${
          f3(soak.latencyMs.median)
        } ms, p99 ${f3(soak.latencyMs.p99)} ms; CPU per scrape ${
          f3(ms(soak.cpuSecondsPerScrape))
        } ms`,
      );
    }
    if (reference) {
      console.log(
        `reference, bare Deno.serve with the same flags: RSS ${
          mem(reference.start.rss)
        } at start ` +
          `(${split(reference.start)}), ${mem(reference.after.rss)} after ${reference.requests} ` +
          `requests (${split(reference.after)})`,
      );
    }
    console.log("targets:");
    for (const c of checks) console.log(`  ${c.met ? "met   " : "MISSED"}  ${c.name}: ${c.value}`);
  } finally {
    for (const c of cleanups) await c().catch(() => {});
  }
}

try {
  await main();
} catch (err) {
  if (err instanceof SetupFailure) fail(err.message, 1);
  throw err;
}
