/**
 * `sysmon serve` scraped by a real Prometheus (Debian's /usr/bin/prometheus): the scrape succeeds,
 * PromQL works on the node_exporter families, and with serve.auth.metrics a scrape carrying the
 * right bearer token succeeds while a wrong or missing token gets 401. The scrape jobs come from
 * deploy/prometheus/*.yml (only target and token path replaced), so the shipped examples are what
 * is tested.
 */
import { type Daemon as BaseDaemon, spawnDaemon } from "./daemon_util.ts";
import { freePort, withTempDir } from "./helpers.ts";
import { parse as parseYaml } from "yaml";
import { newToken } from "../src/api/auth.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { sysmon } from "./cli_util.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DEPLOY = new URL("../deploy/prometheus/", import.meta.url).pathname;
const PROMETHEUS = "/usr/bin/prometheus";
/** The flags the systemd units and deno.json's task run sysmon with (small heap, no JIT tiers). */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded,--expose-gc";
/** How long Prometheus gets to show every expected result once both servers are up. */
const QUERY_DEADLINE_MS = 30_000;

const installed = (() => {
  try {
    return Deno.statSync(PROMETHEUS).isFile;
  } catch {
    return false;
  }
})();
// Deno prints no reason for an ignored test, so the name carries it.
const SKIP_NOTE = installed
  ? ""
  : ` (ignored: ${PROMETHEUS} is not installed; apt-get install prometheus, as .ci/run does)`;

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/** A daemon that answers HTTP at `url`. */
interface Daemon extends BaseDaemon {
  readonly url: string;
}

function spawnServer(
  name: string,
  url: string,
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Daemon {
  return { ...spawnDaemon(name, cmd, args, env), url };
}

/** Polls `url` until it answers 200; fails early when the process exits. */
async function waitForOk(daemon: Daemon, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    const status = daemon.exited();
    if (status) {
      throw new Error(`${daemon.name} exited (code ${status.code}):\n${daemon.output()}`);
    }
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === 200) return;
      last = `${res.status} ${body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${daemon.name}: ${url} not ready within ${timeoutMs} ms (last: ${last}):\n${daemon.output()}`,
  );
}

/** `sysmon serve` on a free loopback port with a 1 s sampler; resolves once /readyz says ready. */
async function startSysmon(dir: string, config?: string): Promise<Daemon> {
  const port = freePort();
  const daemon = spawnServer("sysmon serve", `http://127.0.0.1:${port}`, Deno.execPath(), [
    "run",
    "-A",
    V8_FLAGS,
    MAIN,
    "serve",
    "--listen",
    `127.0.0.1:${port}`,
    "--interval",
    "1s",
    "--data",
    `${dir}/sysmon-data`,
    "--log-level",
    "warn",
    ...(config ? ["--config", config] : []),
  ], { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" });
  try {
    await waitForOk(daemon, `${daemon.url}/readyz`, 20_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return daemon;
}

/** Prometheus with `scrapeConfigs`, scraping and evaluating every second, its TSDB under `dir`. */
async function startPrometheus(dir: string, scrapeConfigs: unknown[]): Promise<Daemon> {
  const port = freePort();
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    scrape_configs: scrapeConfigs,
  };
  // JSON is YAML: no hand-written indentation to get wrong.
  await Deno.writeTextFile(`${dir}/prometheus.yml`, JSON.stringify(config, null, 2));
  const daemon = spawnServer("prometheus", `http://127.0.0.1:${port}`, PROMETHEUS, [
    `--config.file=${dir}/prometheus.yml`,
    `--storage.tsdb.path=${dir}/tsdb`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
    // Nothing in the test is old: a short look-back keeps stale series out of the answers.
    "--query.lookback-delta=30s",
  ]);
  try {
    await waitForOk(daemon, `${daemon.url}/-/ready`, 20_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return daemon;
}

// ---------------------------------------------------------------------------------------------
// Prometheus's HTTP API
// ---------------------------------------------------------------------------------------------

interface VectorItem {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(prom: Daemon, expr: string): Promise<VectorItem[]> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await res.json();
  if (body.status !== "success") throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
  assertEquals(body.data.resultType, "vector", `query ${expr}`);
  return body.data.result as VectorItem[];
}

/** job → lastError of its (single) target, "" when the last scrape succeeded. */
async function targetErrors(prom: Daemon): Promise<Record<string, string>> {
  const res = await fetch(`${prom.url}/api/v1/targets?state=active`);
  const body = await res.json();
  const out: Record<string, string> = {};
  for (const t of body.data?.activeTargets ?? []) {
    out[t.labels.job] = `${t.health}: ${t.lastError || "(no error)"}`;
  }
  return out;
}

interface Expectation {
  /** What is expected, in words, for the failure message. */
  what: string;
  expr: string;
  holds(result: VectorItem[]): boolean;
}

const single = (value: string) => (r: VectorItem[]) => r.length === 1 && r[0].value[1] === value;
const nonEmpty = (r: VectorItem[]) => r.length > 0;

/**
 * Queries until every expectation holds at once; on the deadline fails naming each one that does
 * not, with its last result, the targets' scrape errors and both processes' output.
 */
async function expectEventually(
  prom: Daemon,
  serve: Daemon,
  expectations: Expectation[],
): Promise<void> {
  const deadline = Date.now() + QUERY_DEADLINE_MS;
  let failing: string[] = [];
  while (true) {
    failing = [];
    for (const e of expectations) {
      const result = await query(prom, e.expr);
      if (!e.holds(result)) {
        failing.push(`${e.what}: ${e.expr} → ${JSON.stringify(result).slice(0, 300)}`);
      }
    }
    if (failing.length === 0) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `after ${QUERY_DEADLINE_MS / 1000} s, still not true:\n  ${failing.join("\n  ")}\n` +
      `targets: ${JSON.stringify(await targetErrors(prom))}\n` +
      `--- sysmon serve:\n${serve.output()}\n--- prometheus:\n${prom.output()}`,
  );
}

// ---------------------------------------------------------------------------------------------
// The shipped scrape jobs
// ---------------------------------------------------------------------------------------------

type Job = Record<string, unknown> & { job_name: string };

/** The (uncommented) `sysmon` job of a deploy/prometheus file, pointed at `target`. */
function exampleJob(file: string, target: string): Job {
  const config = parseYaml(Deno.readTextFileSync(DEPLOY + file)) as { scrape_configs: Job[] };
  const jobs = config.scrape_configs.filter((j) => j.job_name === "sysmon");
  assertEquals(jobs.length, 1, `${file}: expected one job named sysmon`);
  return { ...structuredClone(jobs[0]), static_configs: [{ targets: [target] }] };
}

/** A copy of `job` under another name, sending the token in `tokenFile` (or none). */
function withToken(job: Job, name: string, tokenFile: string | undefined): Job {
  const copy: Job = { ...structuredClone(job), job_name: name };
  if (tokenFile === undefined) delete copy.authorization;
  else copy.authorization = { type: "Bearer", credentials_file: tokenFile };
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

Deno.test({
  name: "serve+prometheus: Prometheus scrapes /metrics and PromQL sees the node_* families" +
    SKIP_NOTE,
  ignore: !installed,
  async fn() {
    await withTempDir("sysmon-prometheus-", async (dir) => {
      const serve = await startSysmon(dir);
      let prom: Daemon | undefined;
      try {
        const target = new URL(serve.url).host;
        prom = await startPrometheus(dir, [exampleJob("prometheus.yml", target)]);
        await expectEventually(prom, serve, [
          { what: "the scrape succeeds", expr: 'up{job="sysmon"}', holds: single("1") },
          {
            what: "CPU counters give rates",
            expr: 'rate(node_cpu_seconds_total{job="sysmon"}[10s])',
            holds: nonEmpty,
          },
          {
            what: "filesystems are exposed",
            expr: 'node_filesystem_avail_bytes{job="sysmon"}',
            holds: nonEmpty,
          },
          {
            what: "network interfaces are exposed",
            expr: 'node_network_receive_bytes_total{job="sysmon"}',
            holds: nonEmpty,
          },
        ]);
        // The rates are per CPU and mode, as on node_exporter; a user mode rate is within 0..1 s/s.
        const user = await query(
          prom,
          'rate(node_cpu_seconds_total{job="sysmon",mode="user"}[10s])',
        );
        assert(user.length > 0, "no user-mode CPU rate");
        for (const item of user) {
          assertMatch(item.metric.cpu, /^\d+$/);
          const v = Number(item.value[1]);
          assert(v >= 0 && v <= 1.05, `cpu ${item.metric.cpu} user rate ${v} is not 0..1`);
        }
      } finally {
        await prom?.stop();
        await serve.stop();
      }
    });
  },
});

Deno.test({
  name: "serve+prometheus: with serve.auth.metrics the right bearer token scrapes, a wrong or " +
    "missing one gets 401" + SKIP_NOTE,
  ignore: !installed,
  async fn() {
    await withTempDir("sysmon-prometheus-", async (dir) => {
      const made = await sysmon(["token", "--json"]);
      assertEquals(made.code, 0, made.stderr);
      const { token, hash } = JSON.parse(made.stdout) as { token: string; hash: string };
      const config = `${dir}/sysmon.yaml`;
      await Deno.writeTextFile(
        config,
        `serve:\n  auth:\n    token_hashes: ["${hash}"]\n    metrics: true\n`,
      );
      // Prometheus trims the file's content, as people write it with a trailing newline.
      const goodFile = `${dir}/sysmon.token`;
      const wrongFile = `${dir}/wrong.token`;
      await Deno.writeTextFile(goodFile, token + "\n", { mode: 0o600 });
      await Deno.writeTextFile(wrongFile, newToken() + "\n", { mode: 0o600 });

      const serve = await startSysmon(dir, config);
      let prom: Daemon | undefined;
      try {
        // Without a token, sysmon itself refuses the scrape.
        const open = await fetch(`${serve.url}/metrics`);
        await open.body?.cancel();
        assertEquals(open.status, 401, "GET /metrics without a token");

        const job = exampleJob("prometheus-token.yml", new URL(serve.url).host);
        prom = await startPrometheus(dir, [
          withToken(job, "sysmon", goodFile),
          withToken(job, "sysmon-wrong-token", wrongFile),
          withToken(job, "sysmon-no-token", undefined),
        ]);
        await expectEventually(prom, serve, [
          { what: "the right token scrapes", expr: 'up{job="sysmon"}', holds: single("1") },
          {
            what: "its samples arrive",
            expr: 'node_cpu_seconds_total{job="sysmon"}',
            holds: nonEmpty,
          },
          {
            what: "a wrong token fails",
            expr: 'up{job="sysmon-wrong-token"}',
            holds: single("0"),
          },
          { what: "no token fails", expr: 'up{job="sysmon-no-token"}', holds: single("0") },
        ]);
        // up == 0 alone could be a refused connection: the failures must be sysmon's 401.
        const errors = await targetErrors(prom);
        assertMatch(errors["sysmon"], /^up: \(no error\)$/);
        assertMatch(errors["sysmon-wrong-token"], /401 Unauthorized/);
        assertMatch(errors["sysmon-no-token"], /401 Unauthorized/);
        assert(
          !serve.output().includes(token),
          `sysmon serve logged the token:\n${serve.output()}`,
        );
      } finally {
        await prom?.stop();
        await serve.stop();
      }
    });
  },
});
