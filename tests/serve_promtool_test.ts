/**
 * `promtool` against `sysmon serve`: `check metrics` over a live /metrics reports nothing but the
 * camelCase `node_memory_*` names node_exporter keeps too (and nothing at all for collect[]=cpu),
 * and `check config` accepts the scrape configurations in deploy/prometheus/, the commented HTTPS
 * job included.
 */
import { freePort } from "./helpers.ts";
import { parse as parseYaml } from "yaml";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DEPLOY = new URL("../deploy/prometheus/", import.meta.url).pathname;
const PROMTOOL = "/usr/bin/promtool";
const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded,--expose-gc";
/** The names promtool may flag: node_exporter's meminfo names keep /proc/meminfo's camelCase. */
const NODE_EXPORTER_CAMEL_CASE = /^node_memory_\w*[a-z][A-Z]/;

const installed = (() => {
  try {
    return Deno.statSync(PROMTOOL).isFile;
  } catch {
    return false;
  }
})();
// Deno prints no reason for an ignored test, so the name carries it.
const SKIP_NOTE = installed
  ? ""
  : ` (ignored: ${PROMTOOL} is not installed; apt-get install prometheus, as .ci/run does)`;

// ---------------------------------------------------------------------------------------------
// Running promtool and sysmon serve
// ---------------------------------------------------------------------------------------------

interface PromtoolResult {
  code: number;
  /** Its non-empty output lines, stdout then stderr. */
  lines: string[];
}

async function promtool(args: string[], stdin?: string): Promise<PromtoolResult> {
  const child = new Deno.Command(PROMTOOL, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  const text = dec.decode(out.stdout) + "\n" + dec.decode(out.stderr);
  return { code: out.code, lines: text.split("\n").map((l) => l.trim()).filter((l) => l !== "") };
}

/** One lint of `promtool check metrics`: "<metric name> <what is wrong>". */
interface Lint {
  metric: string;
  problem: string;
}

function parseLints(lines: string[]): Lint[] {
  return lines.map((line) => {
    const m = /^(\S+)\s+(.+)$/.exec(line);
    return m ? { metric: m[1], problem: m[2] } : { metric: line, problem: "" };
  });
}

/**
 * `promtool check metrics` exits 0 when clean and 3 when it only lints; 1 is a parse error, which
 * is never acceptable.
 */
async function checkMetrics(exposition: string): Promise<Lint[]> {
  const res = await promtool(["check", "metrics"], exposition);
  assert(
    res.code === 0 || res.code === 3,
    `promtool check metrics exited ${res.code}:\n${res.lines.join("\n")}`,
  );
  const lints = parseLints(res.lines);
  assertEquals(res.code === 0, lints.length === 0, `exit ${res.code} with ${lints.length} lints`);
  return lints;
}

/**
 * Runs `fn` with the base URL of a `sysmon serve` on a free loopback port, once /readyz says ready;
 * stops it with SIGTERM afterwards and removes its data directory.
 */
async function withServe(fn: (url: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-promtool-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", V8_FLAGS, MAIN, "serve", "--listen", `127.0.0.1:${port}`, "--interval"]
      .concat(["1s", "--data", `${dir}/data`, "--log-level", "warn"]),
    env: { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  try {
    const deadline = Date.now() + 20_000;
    let last = "no answer";
    while (true) {
      if (exited) throw new Error(`sysmon serve exited early:\n${await stderr}`);
      try {
        const res = await fetch(`${url}/readyz`);
        last = `${res.status} ${await res.text()}`;
        if (res.status === 200) break;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`sysmon serve not ready in 20 s: ${last}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await fn(url);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* exited already */ }
    await status;
    await stderr;
    await Deno.remove(dir, { recursive: true });
  }
}

async function getMetrics(url: string): Promise<string> {
  const res = await fetch(url);
  const body = await res.text();
  assertEquals(res.status, 200, `GET ${url}: ${body.slice(0, 300)}`);
  assertMatch(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return body;
}

// ---------------------------------------------------------------------------------------------
// check metrics
// ---------------------------------------------------------------------------------------------

Deno.test({
  name: "serve+promtool: check metrics flags only node_exporter's camelCase node_memory_ names, " +
    "and nothing for collect[]=cpu" + SKIP_NOTE,
  ignore: !installed,
  async fn(t) {
    await withServe(async (url) => {
      await t.step("the whole /metrics", async () => {
        const body = await getMetrics(`${url}/metrics`);
        // The lints below mean something only if promtool saw a full exposition.
        for (const family of ["node_cpu_seconds_total", "node_memory_MemAvailable_bytes"]) {
          assertMatch(body, new RegExp(`^${family}[{ ]`, "m"), `${family} missing from /metrics`);
        }
        const lints = await checkMetrics(body);
        for (const lint of lints) {
          assertMatch(
            lint.metric,
            NODE_EXPORTER_CAMEL_CASE,
            `promtool lint on a name node_exporter does not share: ${lint.metric} ${lint.problem}`,
          );
          assertStringIncludes(lint.problem, "camelCase", `${lint.metric}: ${lint.problem}`);
        }
        // promtool did read the memory families: it names the one everybody graphs.
        assert(
          lints.some((l) => l.metric === "node_memory_MemAvailable_bytes"),
          `promtool did not flag node_memory_MemAvailable_bytes; it said:\n` +
            lints.map((l) => `${l.metric} ${l.problem}`).join("\n"),
        );
      });

      await t.step("/metrics?collect[]=cpu", async () => {
        const body = await getMetrics(`${url}/metrics?collect[]=cpu`);
        assertMatch(body, /^node_cpu_seconds_total\{/m);
        assert(!/^node_memory_/m.test(body), "collect[]=cpu still carries node_memory_ families");
        const lints = await checkMetrics(body);
        assertEquals(lints.map((l) => `${l.metric} ${l.problem}`), []);
      });
    });
  },
});

// ---------------------------------------------------------------------------------------------
// check config: the files in deploy/prometheus/
// ---------------------------------------------------------------------------------------------

type Job = Record<string, unknown> & { job_name: string };
interface PromConfig {
  global?: Record<string, unknown>;
  scrape_configs: Job[];
}

/** The `sysmon` job of an example file (the uncommented one). */
function sysmonJob(config: PromConfig, file: string): Job {
  const jobs = config.scrape_configs.filter((j) => j.job_name === "sysmon");
  assertEquals(jobs.length, 1, `${file}: expected one job named sysmon`);
  return jobs[0];
}

/**
 * The commented-out job at the end of prometheus-token.yml, uncommented: the block of `  # `
 * lines that starts at `  # - job_name:`.
 */
function commentedJob(text: string): Job[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("  # - job_name:"));
  assert(start >= 0, "prometheus-token.yml: no commented `  # - job_name:` block");
  const block: string[] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith("  #")) break;
    block.push(line.slice(4));
  }
  return parseYaml(block.join("\n")) as Job[];
}

async function checkConfig(dir: string, name: string, config: PromConfig): Promise<void> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
  const res = await promtool(["check", "config", path]);
  assertEquals(res.code, 0, `promtool check config ${name}:\n${res.lines.join("\n")}`);
  assert(res.lines.some((l) => l.startsWith("SUCCESS")), res.lines.join("\n"));
}

Deno.test({
  name: "serve+promtool: the deploy/prometheus examples pass promtool check config" + SKIP_NOTE,
  ignore: !installed,
  async fn() {
    const openText = Deno.readTextFileSync(DEPLOY + "prometheus.yml");
    const tokenText = Deno.readTextFileSync(DEPLOY + "prometheus-token.yml");
    const open = parseYaml(openText) as PromConfig;
    const withToken = parseYaml(tokenText) as PromConfig;

    const openJob = sysmonJob(open, "prometheus.yml");
    assertEquals(openJob.static_configs, [{ targets: ["127.0.0.1:10191"] }]);
    assertEquals(openJob.authorization, undefined, "prometheus.yml sends no token");

    const tokenJob = sysmonJob(withToken, "prometheus-token.yml");
    assertEquals(tokenJob.static_configs, [{ targets: ["127.0.0.1:10191"] }]);
    assertEquals(tokenJob.authorization, {
      type: "Bearer",
      credentials_file: "/etc/prometheus/sysmon.token",
    });

    const https = commentedJob(tokenText);
    assertEquals(https.length, 1);
    assertEquals(https[0].scheme, "https");
    assertEquals(https[0].authorization, tokenJob.authorization);
    const tls = https[0].tls_config as Record<string, string> | undefined;
    assert(tls?.ca_file, "the HTTPS job's tls_config names no ca_file");

    const dir = await Deno.makeTempDir({ prefix: "sysmon-promtool-config-" });
    try {
      // The open example checks as shipped.
      const shipped = await promtool(["check", "config", DEPLOY + "prometheus.yml"]);
      assertEquals(shipped.code, 0, shipped.lines.join("\n"));

      // promtool insists that the referenced files exist: point them at stand-ins.
      const tokenFile = `${dir}/sysmon.token`;
      const caFile = `${dir}/sysmon-ca.pem`;
      await Deno.writeTextFile(tokenFile, "sysmon_0123456789abcdef0123456789abcdef0123456\n");
      await Deno.writeTextFile(caFile, "");
      const auth = { type: "Bearer", credentials_file: tokenFile };
      await checkConfig(dir, "token.yml", {
        ...withToken,
        scrape_configs: [{ ...tokenJob, authorization: auth }],
      });
      await checkConfig(dir, "https.yml", {
        ...withToken,
        scrape_configs: [{
          ...https[0],
          authorization: auth,
          tls_config: { ...tls, ca_file: caFile },
        }],
      });

      // And the check does fail a job whose token file is not there.
      const broken = `${dir}/broken.yml`;
      const missing = { type: "Bearer", credentials_file: `${dir}/missing.token` };
      await Deno.writeTextFile(
        broken,
        JSON.stringify({ scrape_configs: [{ ...tokenJob, authorization: missing }] }),
      );
      const bad = await promtool(["check", "config", broken]);
      assert(bad.code !== 0, `promtool accepted a missing token file:\n${bad.lines.join("\n")}`);
      assert(bad.lines.some((l) => l.includes("missing.token")), bad.lines.join("\n"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
