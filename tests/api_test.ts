/**
 * The HTTP app of `sysmon serve` through `app.request()` (no socket): every route's happy path,
 * auth, errors, limits, range queries over a real file store, the OpenAPI document, CORS.
 * Numbers come from the linux-6.18-vm fixture read twice 10 s apart (tests/api_util.ts).
 */
import { recordSamples } from "./store_util.ts";
import { AlertEngine } from "../src/alert/engine.ts";
import { compileRules } from "../src/alert/rules.ts";
import { defaultConfig } from "../src/config/load.ts";
import { assert, assertAlmostEquals, assertEquals, assertStringIncludes } from "./assert.ts";
import {
  buildTestServe,
  NOW,
  SAMPLE_TIME,
  type ServeContextOptions,
  stubStore,
  TEST_HOST,
  type TestServe,
} from "./api_util.ts";
import { FIXTURES } from "./helpers.ts";
import { gaussian, mulberry32, SampleSynth, templateSample } from "./synth.ts";
import { allRoutes } from "../src/api/app.ts";
import { hashToken } from "../src/api/auth.ts";
import { EXPOSITION_TYPE } from "../src/api/routes_metrics.ts";
import { catalog } from "../src/core/catalog.ts";
import { ENTITY_FAMILIES, type Sample } from "../src/core/model.ts";
import { memoryLogger } from "../src/log.ts";
import { createFileStore } from "../src/record/store_open.ts";
import type { Storage } from "../src/store/types.ts";
import { VERSION } from "../src/version.ts";

const TOKEN_A = "sysmon_aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN_B = "sysmon_bbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SHAPE_DIR = `${FIXTURES}linux-6.18-vm`;

// deno-lint-ignore no-explicit-any
type Json = any;

async function withServe(
  opts: ServeContextOptions,
  fn: (t: TestServe) => Promise<void>,
): Promise<void> {
  const t = await buildTestServe(opts);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** Checks the one error shape and returns the inner object. */
async function expectError(res: Response, status: number, code: string): Promise<Json> {
  const text = await res.text();
  assertEquals(res.status, status, `status of ${text.slice(0, 300)}`);
  assertStringIncludes(res.headers.get("content-type") ?? "", "application/json");
  const body = JSON.parse(text);
  assertEquals(Object.keys(body), ["error"], text);
  assertEquals(body.error.status, status, text);
  assertEquals(body.error.code, code, text);
  assert(
    typeof body.error.message === "string" && body.error.message.length > 0,
    `no message in ${text}`,
  );
  return body.error;
}

async function json(res: Response, status = 200): Promise<Json> {
  const text = await res.text();
  assertEquals(res.status, status, text);
  assertStringIncludes(res.headers.get("content-type") ?? "", "application/json");
  return JSON.parse(text);
}

/** Sample lines of an exposition (no comments), and the metric name of each. */
function sampleLines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}
const metricName = (line: string) => line.split(/[{ ]/)[0];

/** The value of one exposition line, found by its name and labels as printed. */
function expositionValue(text: string, series: string): number | undefined {
  const line = sampleLines(text).find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** cpu0 user seconds and the all-CPU busy share from a fixture /proc/stat pair (USER_HZ 100). */
async function fixtureCpu(): Promise<{ cpu0UserLater: number; usagePercent: number }> {
  const fields = async (path: string, cpu: string) =>
    (await Deno.readTextFile(path)).split("\n").find((l) => l.startsWith(cpu + " "))!
      .trim().split(/\s+/).slice(1, 9).map(Number);
  const before = await fields(`${SHAPE_DIR}/proc/stat`, "cpu");
  const after = await fields(`${SHAPE_DIR}/later/proc/stat`, "cpu");
  const delta = after.map((v, i) => v - before[i]);
  const total = delta.reduce((a, b) => a + b, 0);
  const idle = delta[3] + delta[4]; // idle + iowait
  const cpu0 = await fields(`${SHAPE_DIR}/later/proc/stat`, "cpu0");
  return { cpu0UserLater: cpu0[0] / 100, usagePercent: ((total - idle) / total) * 100 };
}

async function fixtureMemTotalBytes(): Promise<number> {
  const text = await Deno.readTextFile(`${SHAPE_DIR}/proc/meminfo`);
  return Number(/^MemTotal:\s+(\d+) kB$/m.exec(text)![1]) * 1024;
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

// ---------------------------------------------------------------------------------------------
// /metrics

Deno.test("GET /metrics: node_exporter families read fresh, sysmon ratios and self metrics", async () => {
  await withServe({}, async (t) => {
    const res = await t.request("/metrics");
    const text = await res.text();
    assertEquals(res.status, 200, text);
    assertEquals(res.headers.get("content-type"), EXPOSITION_TYPE);
    assertStringIncludes(text, "# TYPE node_cpu_seconds_total counter\n");
    assertStringIncludes(text, "# TYPE sysmon_build_info gauge\n");
    assertStringIncludes(
      text,
      `sysmon_build_info{version="${VERSION}",deno="${Deno.version.deno}"} 1\n`,
    );
    const cpu = await fixtureCpu();
    // The scrape reads the tree as it is now (the later/ counters), not the sampler's old reading.
    assertEquals(
      expositionValue(text, 'node_cpu_seconds_total{cpu="0",mode="user"}'),
      cpu.cpu0UserLater,
    );
    assertEquals(expositionValue(text, "node_memory_MemTotal_bytes"), await fixtureMemTotalBytes());
    // Ratios come from the sampler's last interval: (2000 - 1940 idle - 3 iowait) / 2000 ticks.
    assertAlmostEquals(
      expositionValue(text, "sysmon_cpu_usage_ratio")!,
      cpu.usagePercent / 100,
      1e-12,
    );
    // statfs.json of "/": 66053021 blocks of 4096 bytes.
    assertEquals(
      expositionValue(
        text,
        'node_filesystem_size_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"}',
      ),
      66053021 * 4096,
    );
    for (const name of ["node_load1", "node_disk_read_bytes_total", "sysmon_collector_success"]) {
      assert(sampleLines(text).some((l) => metricName(l) === name), `${name} missing`);
    }
    assertEquals(res.headers.get("content-length"), String(new TextEncoder().encode(text).length));
  });
});

Deno.test("GET /metrics?collect[]=meminfo: only node_memory_*, memory ratios and self metrics", async () => {
  await withServe({}, async (t) => {
    const res = await t.request("/metrics?collect[]=meminfo");
    const text = await res.text();
    assertEquals(res.status, 200, text);
    const names = new Set(sampleLines(text).map(metricName));
    assert(names.has("node_memory_MemTotal_bytes"));
    assert(names.has("sysmon_memory_usage_ratio"));
    assert(names.has("sysmon_swap_usage_ratio"));
    assert(names.has("sysmon_build_info"));
    for (const name of names) {
      assert(
        name.startsWith("node_memory_") || name.startsWith("sysmon_"),
        `${name} should not be in a meminfo-only scrape`,
      );
      if (name.endsWith("_ratio")) {
        assert(
          name === "sysmon_memory_usage_ratio" || name === "sysmon_swap_usage_ratio",
          `ratio ${name} belongs to another collector`,
        );
      }
    }
    // Collector self metrics name only the collector that was scraped.
    const success = sampleLines(text).filter((l) => metricName(l) === "sysmon_collector_success");
    assertEquals(success, ['sysmon_collector_success{collector="meminfo"} 1']);
    // Repeated or comma-separated values select the union.
    const two = await (await t.request("/metrics?collect[]=meminfo&collect[]=loadavg")).text();
    assert(sampleLines(two).some((l) => metricName(l) === "node_load1"));
    const comma = await (await t.request("/metrics?collect[]=meminfo,loadavg")).text();
    assert(sampleLines(comma).some((l) => metricName(l) === "node_load1"));
    assert(!sampleLines(comma).some((l) => metricName(l).startsWith("node_cpu_")));
  });
});

Deno.test("GET /metrics?exclude[]=filesystem: drops node_filesystem_* and the filesystem ratios", async () => {
  await withServe({}, async (t) => {
    const full = await (await t.request("/metrics")).text();
    assert(sampleLines(full).some((l) => metricName(l).startsWith("node_filesystem_")));
    const res = await t.request("/metrics?exclude[]=filesystem");
    const text = await res.text();
    assertEquals(res.status, 200, text);
    const names = new Set(sampleLines(text).map(metricName));
    for (const name of names) {
      assert(!name.startsWith("node_filesystem_"), `${name} after exclude[]=filesystem`);
      assert(!name.startsWith("sysmon_filesystem_"), `${name} after exclude[]=filesystem`);
    }
    assert(names.has("node_cpu_seconds_total"));
    assert(names.has("node_memory_MemTotal_bytes"));
    assert(names.has("sysmon_build_info"));
  });
});

/** Series (name and labels) of an exposition, without the values that move between scrapes. */
const seriesOf = (text: string) => sampleLines(text).map((l) => l.replace(/ [^ ]+$/, ""));

Deno.test("GET /metrics with Accept-Encoding: gzip is gzip of the same exposition", async () => {
  await withServe({}, async (t) => {
    const plain = await (await t.request("/metrics")).text();
    const res = await t.request("/metrics", { headers: { "accept-encoding": "gzip, deflate" } });
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-encoding"), "gzip");
    assertStringIncludes(res.headers.get("vary") ?? "", "Accept-Encoding");
    const bytes = new Uint8Array(await res.arrayBuffer());
    assertEquals(res.headers.get("content-length"), String(bytes.length));
    assert(bytes.length < plain.length / 3, `gzip ${bytes.length} B vs plain ${plain.length} B`);
    const text = await gunzip(bytes);
    assert(text.startsWith("# HELP "), text.slice(0, 80));
    assertEquals(seriesOf(text), seriesOf(plain));
    // q=0 means "not gzip"; a small answer is never compressed.
    const refused = await t.request("/metrics", { headers: { "accept-encoding": "gzip;q=0" } });
    assertEquals(refused.headers.get("content-encoding"), null);
    assert((await refused.text()).startsWith("# HELP "));
    const small = await t.request("/healthz", { headers: { "accept-encoding": "gzip" } });
    assertEquals(small.headers.get("content-encoding"), null);
    assertEquals(await small.json(), { status: "ok" });
    // JSON answers are compressed too.
    const snap = await t.request("/api/v1/snapshot", { headers: { "accept-encoding": "gzip" } });
    assertEquals(snap.headers.get("content-encoding"), "gzip");
    const sample = JSON.parse(await gunzip(new Uint8Array(await snap.arrayBuffer())));
    assertEquals(sample.host, TEST_HOST);
  });
});

Deno.test("HEAD: same status and headers as GET, no body", async () => {
  await withServe({}, async (t) => {
    for (const path of ["/metrics", "/healthz", "/api/v1/snapshot", "/api/v1/status", "/"]) {
      const res = await t.request(path, { method: "HEAD" });
      assertEquals(res.status, 200, path);
      assertEquals(await res.text(), "", `HEAD ${path} has a body`);
      const length = Number(res.headers.get("content-length"));
      assert(length > 0, `HEAD ${path}: content-length ${length}`);
    }
    // Deterministic answers: HEAD's length is GET's length.
    const get = await (await t.request("/api/v1/snapshot")).text();
    const head = await t.request("/api/v1/snapshot", { method: "HEAD" });
    assertEquals(head.headers.get("content-length"), String(new TextEncoder().encode(get).length));
    assertEquals(
      (await t.request("/metrics", { method: "HEAD" })).headers.get("content-type"),
      EXPOSITION_TYPE,
    );
    // Errors keep their status on HEAD.
    assertEquals((await t.request("/api/v1/snapshot/bogus", { method: "HEAD" })).status, 400);
    assertEquals((await t.request("/nowhere", { method: "HEAD" })).status, 404);
  });
});

// ---------------------------------------------------------------------------------------------
// health

Deno.test("GET /healthz: 200 {status: ok}", async () => {
  await withServe({}, async (t) => {
    assertEquals(await json(await t.request("/healthz")), { status: "ok" });
    // Liveness does not depend on the sampler.
    await withServe({ samplerRunning: () => false }, async (u) => {
      assertEquals(await json(await u.request("/healthz")), { status: "ok" });
    });
  });
});

Deno.test("GET /readyz: 200 with a sample; 503 once the sampler stopped", async () => {
  let running = true;
  await withServe({ samplerRunning: () => running }, async (t) => {
    const ready = await json(await t.request("/readyz"));
    assertEquals(ready.status, "ready");
    assertEquals(ready.checks.sampler.ok, true);
    assertStringIncludes(ready.checks.sampler.detail, new Date(SAMPLE_TIME).toISOString());
    assertEquals(ready.checks.collectors.ok, true);
    assertEquals(ready.checks.storage, undefined, "no storage check without --record");
    running = false;
    const stopped = await json(await t.request("/readyz"), 503);
    assertEquals(stopped.status, "not ready");
    assertEquals(stopped.checks.sampler, { ok: false, detail: "stopped" });
  });
});

Deno.test("GET /readyz while recording: 503 when the store is not writable, 200 when it is", async () => {
  await withServe(
    { recording: true, store: stubStore(false, "No space left on device (os error 28)") },
    async (t) => {
      const body = await json(await t.request("/readyz"), 503);
      assertEquals(body.status, "not ready");
      assertEquals(body.checks.storage.ok, false);
      assertStringIncludes(body.checks.storage.detail, "No space left on device");
      assertEquals(body.checks.sampler.ok, true);
    },
  );
  await withServe({ recording: true, store: stubStore(true) }, async (t) => {
    const body = await json(await t.request("/readyz"));
    assertEquals(body.checks.storage.ok, true);
  });
  // A read-only store (serve without --record) is not a readiness condition.
  await withServe({ recording: false, store: stubStore(false) }, async (t) => {
    assertEquals((await t.request("/readyz")).status, 200);
  });
});

// ---------------------------------------------------------------------------------------------
// snapshot

Deno.test("GET /api/v1/snapshot: the sampler's latest sample with rates", async () => {
  await withServe({}, async (t) => {
    const body = await json(await t.request("/api/v1/snapshot"));
    const sample = t.ctx.sampler.latestSample()!;
    assertEquals(body, JSON.parse(JSON.stringify(sample)));
    assertEquals(body.version, 1);
    assertEquals(body.host, TEST_HOST);
    assertEquals(body.timestamp, new Date(SAMPLE_TIME).toISOString());
    assertEquals(body.interval, 10);
    assertAlmostEquals(body.metrics.cpu_usage_percent, (await fixtureCpu()).usagePercent, 1e-9);
    assertEquals(body.metrics.memory_total, await fixtureMemTotalBytes());
    assertEquals(typeof body.disks.vda.disk_read_bytes_per_second, "number");
    assertEquals(body.errors, []);
    for (const f of ENTITY_FAMILIES) {
      assert(Object.keys(body[f]).length > 0, `no ${f} in the fixture sample`);
    }
  });
});

Deno.test("GET /api/v1/snapshot/{family}: each family, one entity, and a missing entity", async () => {
  await withServe({}, async (t) => {
    const sample = JSON.parse(JSON.stringify(t.ctx.sampler.latestSample()!)) as Sample;
    const head = {
      version: sample.version,
      timestamp: sample.timestamp,
      host: sample.host,
      interval: sample.interval,
    };
    for (const family of ["metrics", ...ENTITY_FAMILIES] as const) {
      const body = await json(await t.request(`/api/v1/snapshot/${family}`));
      assertEquals(body, { ...head, [family]: sample[family] }, family);
    }
    for (const family of ENTITY_FAMILIES) {
      const entity = Object.keys(sample[family])[0];
      const res = await t.request(
        `/api/v1/snapshot/${family}?entity=${encodeURIComponent(entity)}`,
      );
      assertEquals(
        await json(res),
        { ...head, [family]: { [entity]: sample[family][entity] } },
        `${family} ${entity}`,
      );
      const miss = await expectError(
        await t.request(`/api/v1/snapshot/${family}?entity=no-such-entity`),
        404,
        "not_found",
      );
      assertStringIncludes(miss.message, "no-such-entity");
      assertStringIncludes(miss.message, entity, "the message lists known entities");
    }
    // A mount point with slashes, as users type it.
    const var_ = await json(await t.request("/api/v1/snapshot/filesystems?entity=/"));
    assertEquals(Object.keys(var_.filesystems), ["/"]);
    // The scalar metrics have no entities.
    const err = await expectError(
      await t.request("/api/v1/snapshot/metrics?entity=cpu0"),
      400,
      "bad_parameter",
    );
    assertEquals(err.parameter, "entity");
  });
});

// ---------------------------------------------------------------------------------------------
// metrics list, alerts, status, docs

Deno.test("GET /api/v1/metrics: the catalogue; recorded is null without a data directory", async () => {
  await withServe({}, async (t) => {
    const body = await json(await t.request("/api/v1/metrics"));
    assertEquals(body.recorded, null);
    assertEquals(body.catalog.length, catalog().length);
    const cpu = body.catalog.find((d: Json) => d.name === "cpu_usage_percent");
    assertEquals(cpu.unit, "percent");
    assertEquals(cpu.scope, "metrics");
    for (const d of body.catalog) {
      assertEquals(Object.keys(d).sort(), ["help", "kind", "name", "scope", "unit"], d.name);
    }
  });
});

Deno.test("GET /api/v1/alerts: empty, and says the engine is not running", async () => {
  await withServe({}, async (t) => {
    assertEquals(await json(await t.request("/api/v1/alerts")), {
      engine: "not running",
      alerts: [],
      analyses: [],
    });
  });
});

Deno.test("serve --alert: /api/v1/alerts lists the engine's alerts, /metrics has sysmon_alerts", async () => {
  await withServe({}, async (t) => {
    const engine = new AlertEngine({
      rules: compileRules({
        ...defaultConfig().alert.rules,
        cpu_busy: { ...defaultConfig().alert.rules.cpu_busy, warning: 0, clear_warning: 0, for: 0 },
      }).rules,
      host: "testhost",
    });
    const sample = t.ctx.sampler.latestSample()!;
    engine.evaluate(sample, Date.parse(sample.timestamp));
    t.ctx.alerts = () => engine.active();
    const body = await json(await t.request("/api/v1/alerts"));
    assertEquals(body.engine, "running");
    assertEquals(
      body.alerts.map((a: { key: string; phase: string; severity: string }) => [
        a.key,
        a.phase,
        a.severity,
      ]),
      [["cpu_busy", "firing", "warning"]],
    );
    const metrics = await (await t.request("/metrics")).text();
    assertStringIncludes(
      metrics,
      'sysmon_alerts{alertstate="firing",alertname="cpu_busy",severity="warning",host="testhost"} 1\n',
    );
  });
});

Deno.test("serve --alert: forecast and anomaly rules' analyses are gauges on /metrics", async () => {
  await withServe({}, async (t) => {
    const shipped = defaultConfig().alert.rules;
    const { rules, errors } = compileRules({
      filesystem_will_fill: shipped.filesystem_will_fill,
      cpu_unusual: { ...shipped.cpu_unusual, enabled: true },
    });
    assertEquals(errors, []);
    const engine = new AlertEngine({ rules, host: "testhost" });
    // Three recorded days: /data grows 0.5 %/h to 86 % now; the CPU is quiet.
    const now = Date.parse(t.ctx.sampler.latestSample()!.timestamp);
    const minutes = 3 * 1440;
    const from = Math.floor(now / 60_000) * 60_000 - minutes * 60_000;
    const rnd = mulberry32(4);
    const history = (value: (i: number) => number) => {
      const mean = Float64Array.from({ length: minutes }, (_, i) => value(i));
      return { from, mean, min: mean, max: mean, count: new Uint32Array(minutes).fill(6) };
    };
    const fs = history((i) => 86 - 0.5 * ((minutes - i) / 60) + 0.1 * gaussian(rnd));
    const cpu = history(() => 20 + 2 * gaussian(rnd));
    engine.seedHistory((metric, entity) =>
      metric === "cpu_usage_percent" ? cpu : entity === "/data" ? fs : undefined
    );
    const sample = templateSample("testhost");
    sample.timestamp = new Date(now).toISOString();
    sample.metrics.cpu_usage_percent = 21;
    sample.filesystems = {
      "/data": { device: "/dev/sdb1", fstype: "ext4", filesystem_usage_percent: 86 },
    };
    engine.evaluate(sample, now);
    t.ctx.analyses = () => engine.analyses();
    const metrics = await (await t.request("/metrics")).text();
    assertStringIncludes(metrics, "# TYPE sysmon_forecast_seconds_to_target gauge\n");
    const eta = metrics.match(
      /^sysmon_forecast_seconds_to_target\{rule="filesystem_will_fill",metric="filesystem_usage_percent",mountpoint="\/data",device="\/dev\/sdb1",fstype="ext4"\} (\S+)$/m,
    );
    assert(eta, metrics.split("\n").filter((l) => l.startsWith("sysmon_")).join("\n"));
    // 14 % left at 0.5 %/h: 28 hours.
    assertAlmostEquals(Number(eta[1]) / 3600, 28, 2.8);
    const growth = metrics.match(/^sysmon_forecast_growth_per_second\{[^}]*\} (\S+)$/m);
    assertAlmostEquals(Number(growth![1]) * 3600, 0.5, 0.05);
    assertStringIncludes(
      metrics,
      'sysmon_anomaly_rate{rule="cpu_unusual",metric="cpu_usage_percent"} 0\n',
    );
    assert(
      /^sysmon_anomaly_score\{rule="cpu_unusual",metric="cpu_usage_percent"\} \S+$/m.test(metrics),
    );
    // The same in /api/v1/alerts, as JSON (no Infinity: a status in words).
    t.ctx.alerts = () => engine.active();
    const body = await json(await t.request("/api/v1/alerts"));
    const byRule = new Map<string, Record<string, unknown>>(
      body.analyses.map((a: Record<string, unknown>) => [a.rule as string, a]),
    );
    const fc = byRule.get("filesystem_will_fill")!;
    assertEquals([fc.kind, fc.status, fc.entity], ["forecast", "forecast", "/data"]);
    assertAlmostEquals(Number(fc.seconds_to_target) / 3600, 28, 2.8);
    const an = byRule.get("cpu_unusual")!;
    assertEquals([an.kind, an.rate], ["anomaly", 0]);
    assert(Number(an.judged_minutes) >= 15, JSON.stringify(an));
  });
});

Deno.test("GET /api/v1/status: version, uptime, interval, collectors, recording", async () => {
  await withServe({}, async (t) => {
    const body = await json(await t.request("/api/v1/status"));
    assertEquals(body.version, VERSION);
    assertEquals(body.listen, "127.0.0.1:10191");
    assertEquals(body.started, new Date(SAMPLE_TIME - 20_000).toISOString());
    assertEquals(body.uptime_seconds, (NOW - (SAMPLE_TIME - 20_000)) / 1000);
    assertEquals(body.interval_seconds, 10);
    assertEquals(body.sampler.collections, 2);
    assertEquals(
      body.sampler.collectors.map((c: Json) => c.name),
      ["cpu", "loadavg", "meminfo", "pressure", "diskstats", "netdev", "netclass", "filesystem"],
    );
    assert(body.sampler.collectors.every((c: Json) => c.success === true));
    assertEquals(body.recording, false);
    assertEquals(body.data_dir, null);
    assertEquals(body.store, null);
  });
  await withServe(
    { recording: true, store: stubStore(true), dataDir: "/var/lib/sysmon" },
    async (t) => {
      const body = await json(await t.request("/api/v1/status"));
      assertEquals(body.recording, true);
      assertEquals(body.data_dir, "/var/lib/sysmon");
      assertEquals(body.store.samplesWritten, 3);
    },
  );
});

Deno.test("GET /api/v1/docs and /: HTML pages linking the API", async () => {
  await withServe({}, async (t) => {
    const docs = await t.request("/api/v1/docs");
    assertEquals(docs.status, 200);
    assertStringIncludes(docs.headers.get("content-type") ?? "", "text/html");
    const page = await docs.text();
    for (const route of allRoutes(t.ctx)) assertStringIncludes(page, route.path);
    for (const param of ["collect[]", "aggregation", "entity", "step"]) {
      assertStringIncludes(page, param);
    }
    assert(!/<script/i.test(page), "the docs page has no scripts");
    const index = await t.request("/");
    assertEquals(index.status, 200);
    assertStringIncludes(index.headers.get("content-type") ?? "", "text/html");
    const html = await index.text();
    for (const href of ["/metrics", "/api/v1/docs", "/healthz", "/readyz"]) {
      assertStringIncludes(html, `href="${href}"`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// OpenAPI

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Resolves a local JSON pointer ("#/a/b~1c") inside `doc`; undefined when it leads nowhere. */
function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  const path = ref.slice(1);
  if (path === "") return doc;
  if (!path.startsWith("/")) return undefined;
  let at: Json = doc;
  for (const raw of path.slice(1).split("/")) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (at === null || typeof at !== "object" || !(key in at)) return undefined;
    at = at[key];
  }
  return at;
}

function collectRefs(node: unknown, where: string, out: [string, string][]): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => collectRefs(v, `${where}/${i}`, out));
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push([where, v]);
      else collectRefs(v, `${where}/${k}`, out);
    }
  }
}

/** The structural rules of OpenAPI 3.1 that matter to clients; returns every problem found. */
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  const need = (cond: unknown, what: string) => {
    if (!cond) problems.push(what);
  };
  need(doc?.openapi === "3.1.0", `openapi is ${JSON.stringify(doc?.openapi)}, not "3.1.0"`);
  need(typeof doc?.info?.title === "string" && doc.info.title !== "", "info.title missing");
  need(typeof doc?.info?.version === "string" && doc.info.version !== "", "info.version missing");
  need(doc?.paths && typeof doc.paths === "object", "paths is not an object");
  const schemes = doc?.components?.securitySchemes ?? {};
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc?.paths ?? {})) {
    need(path.startsWith("/"), `path ${path} does not start with /`);
    need(item && typeof item === "object", `paths["${path}"] is not an object`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of Object.keys(item)) {
      if (!HTTP_METHODS.includes(method)) continue;
      const op = item[method];
      const at = `${method.toUpperCase()} ${path}`;
      need(op && typeof op === "object", `${at} is not an object`);
      if (op.operationId !== undefined) {
        need(!operationIds.has(op.operationId), `${at}: operationId ${op.operationId} repeated`);
        operationIds.add(op.operationId);
      }
      need(
        op.responses && typeof op.responses === "object" && Object.keys(op.responses).length > 0,
        `${at}: no responses`,
      );
      for (const [code, res] of Object.entries<Json>(op.responses ?? {})) {
        need(/^([1-5]\d\d|[1-5]XX|default)$/.test(code), `${at}: response code ${code}`);
        need(
          typeof res?.description === "string" && res.description !== "",
          `${at} ${code}: no description`,
        );
        if (res?.content !== undefined) {
          for (const [type, media] of Object.entries<Json>(res.content)) {
            need(/^[\w.+-]+\/[\w.+-]+/.test(type), `${at} ${code}: media type "${type}"`);
            need(media && typeof media === "object", `${at} ${code} ${type}: not an object`);
          }
        }
      }
      const params: Json[] = op.parameters ?? [];
      need(Array.isArray(params), `${at}: parameters is not an array`);
      const seen = new Set<string>();
      for (const p of params) {
        const name = p?.name;
        need(typeof name === "string" && name !== "", `${at}: a parameter without a name`);
        need(["query", "header", "path", "cookie"].includes(p?.in), `${at} ${name}: in=${p?.in}`);
        need(p?.schema && typeof p.schema === "object", `${at} ${name}: no schema`);
        need(!seen.has(`${p?.in}:${name}`), `${at} ${name}: listed twice`);
        seen.add(`${p?.in}:${name}`);
        if (p?.in === "path") {
          need(p.required === true, `${at} ${name}: a path parameter must be required`);
          need(templated.includes(name), `${at} ${name}: not in the path template`);
        }
      }
      for (const name of templated) {
        need(seen.has(`path:${name}`), `${at}: {${name}} has no path parameter`);
      }
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) {
          need(scheme in schemes, `${at}: security scheme ${scheme} is not defined`);
        }
      }
    }
  }
  const refs: [string, string][] = [];
  collectRefs(doc, "#", refs);
  for (const [where, ref] of refs) {
    need(resolvePointer(doc, ref) !== undefined, `${where}: $ref ${ref} does not resolve`);
  }
  return problems;
}

Deno.test("openapi validator: finds what it is meant to find", () => {
  const good = {
    openapi: "3.1.0",
    info: { title: "t", version: "1" },
    paths: {
      "/a/{x}": {
        get: {
          parameters: [{ name: "x", in: "path", required: true, schema: { type: "string" } }],
          responses: { 200: { description: "ok", content: { "application/json": {} } } },
        },
      },
    },
    components: { schemas: { A: { $ref: "#/components/schemas/B" }, B: { type: "string" } } },
  };
  assertEquals(openApiProblems(good), []);
  const bad = structuredClone(good) as Json;
  bad.openapi = "3.0.0";
  delete bad.info.version;
  bad.paths["/a/{x}"].get.parameters = [{ name: "y", in: "query" }];
  bad.paths["/a/{x}"].get.responses[200].description = "";
  bad.components.schemas.A.$ref = "#/$defs/B";
  const problems = openApiProblems(bad);
  for (
    const part of [
      "openapi",
      "info.version",
      "y: no schema",
      "{x} has no path parameter",
      "no description",
      "#/$defs/B does not resolve",
    ]
  ) {
    assert(problems.some((p) => p.includes(part)), `${part} not found in ${problems.join("; ")}`);
  }
});

Deno.test("GET /api/v1/openapi.json: OpenAPI 3.1 of every route and every query parameter", async () => {
  await withServe({}, async (t) => {
    const doc = await json(await t.request("/api/v1/openapi.json"));
    assertEquals(doc.openapi, "3.1.0");
    assertEquals(doc.info.version, VERSION);
    const routes = allRoutes(t.ctx);
    assertEquals(Object.keys(doc.paths).sort(), routes.map((r) => r.path).sort());
    for (const route of routes) {
      const op = doc.paths[route.path]?.get;
      assert(op, `${route.path} has no get operation`);
      const listed = (op.parameters as Json[]).map((p) => `${p.in}:${p.name}`).sort();
      const declared = [
        ...Object.keys(route.params).map((n) => `query:${n}`),
        ...Object.keys(route.pathParams ?? {}).map((n) => `path:${n}`),
      ].sort();
      assertEquals(listed, declared, route.path);
      for (const code of Object.keys(route.responses)) {
        assert(code in op.responses, `${route.path}: response ${code} missing`);
      }
      // Without tokens nothing asks for one.
      assertEquals(op.security, [], route.path);
    }
    const family = doc.paths["/api/v1/snapshot/{family}"].get.parameters
      .find((p: Json) => p.name === "family");
    assertEquals(family.schema.enum, ["metrics", ...ENTITY_FAMILIES]);
    const problems = openApiProblems(doc);
    assertEquals(problems, [], `OpenAPI problems:\n${problems.join("\n")}`);
  });
});

Deno.test("GET /api/v1/openapi.json with tokens: protected operations declare bearer and 401", async () => {
  await withServe({ tokens: [TOKEN_A] }, async (t) => {
    const doc = await json(await t.request("/api/v1/openapi.json"));
    assertEquals(doc.components.securitySchemes.bearer.scheme, "bearer");
    for (const route of allRoutes(t.ctx)) {
      const op = doc.paths[route.path].get;
      const secured = route.access === "api";
      assertEquals(op.security, secured ? [{ bearer: [] }] : [], route.path);
      assertEquals("401" in op.responses, secured, route.path);
    }
    assertEquals(openApiProblems(doc).filter((p) => !p.includes("$ref")), []);
  });
});

// ---------------------------------------------------------------------------------------------
// auth

Deno.test("auth: the API needs a configured token; either of two tokens works (rotation)", async () => {
  await withServe({ tokens: [TOKEN_A, TOKEN_B] }, async (t) => {
    const none = await t.request("/api/v1/status");
    assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="sysmon"');
    await expectError(none, 401, "unauthorized");
    for (
      const header of [
        "Bearer sysmon_wrongwrongwrongwrongwrongwron",
        `Bearer ${TOKEN_A}x`,
        `Basic ${btoa("user:" + TOKEN_A)}`,
        `Bearer ${await hashToken(TOKEN_A)}`,
        TOKEN_A,
      ]
    ) {
      const res = await t.request("/api/v1/status", { headers: { authorization: header } });
      assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="sysmon"', header);
      const err = await expectError(res, 401, "unauthorized");
      assert(!err.message.includes(TOKEN_A), "the error quotes the token");
    }
    for (const token of [TOKEN_A, TOKEN_B]) {
      const res = await t.request("/api/v1/status", {
        headers: { authorization: `Bearer ${token}` },
      });
      assertEquals(res.status, 200, token);
      await res.body?.cancel();
    }
    const lower = await t.request("/api/v1/snapshot/metrics", {
      headers: { authorization: `bearer ${TOKEN_B}` },
    });
    assertEquals(lower.status, 200, "the scheme is case-insensitive");
    await lower.body?.cancel();
    for (const path of ["/api/v1/snapshot", "/api/v1/query_range?metric=cpu_usage_percent"]) {
      await expectError(await t.request(path), 401, "unauthorized");
    }
    assert(!t.log.lines.some((l) => l.includes(TOKEN_A) || l.includes(TOKEN_B)), "token logged");
  });
});

Deno.test("auth: /metrics is open unless serve.auth.metrics; health and docs always open", async () => {
  await withServe({ tokens: [TOKEN_A] }, async (t) => {
    const res = await t.request("/metrics");
    assertEquals(res.status, 200);
    await res.body?.cancel();
    for (const path of ["/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/docs", "/"]) {
      const r = await t.request(path);
      assertEquals(r.status, 200, path);
      await r.body?.cancel();
    }
  });
  await withServe({ tokens: [TOKEN_A], serve: (s) => s.auth.metrics = true }, async (t) => {
    const none = await t.request("/metrics");
    assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="sysmon"');
    await expectError(none, 401, "unauthorized");
    const ok = await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN_A}` } });
    assertEquals(ok.status, 200);
    assertStringIncludes(await ok.text(), "node_cpu_seconds_total");
    for (const path of ["/healthz", "/readyz"]) {
      const r = await t.request(path);
      assertEquals(r.status, 200, path);
      await r.body?.cancel();
    }
  });
  // serve.auth.api = false leaves the API open even with tokens.
  await withServe({ tokens: [TOKEN_A], serve: (s) => s.auth.api = false }, async (t) => {
    const r = await t.request("/api/v1/status");
    assertEquals(r.status, 200);
    await r.body?.cancel();
  });
});

// ---------------------------------------------------------------------------------------------
// 400, 404, 405, 414

Deno.test("400 bad_parameter: unknown, malformed or contradictory parameters", async () => {
  await withServe({}, async (t) => {
    const q = "/api/v1/query_range?metric=cpu_usage_percent";
    const cases: [string, string | undefined, string][] = [
      ["/api/v1/snapshot?foo=1", "foo", "unknown parameter"],
      ["/metrics?foo=1", "foo", "unknown parameter"],
      [`${q}&start=yesterday`, "start", "not a time"],
      [`${q}&start=2026-13-45T99:00:00Z`, "start", "not a time"],
      [`${q}&step=fast`, "step", "not a duration"],
      [`${q}&step=-5s`, "step", "not a duration"],
      [`${q}&step=400d`, "step", "at most"],
      [`${q}&start=2000&end=1000`, "end", "after start"],
      [`${q}&start=2026-03-01T00:00:00Z&end=2026-03-01T00:00:00Z`, "end", "after start"],
      ["/api/v1/query_range?metric=no_such_metric", "metric", "no_such_metric"],
      ["/api/v1/query_range?metric=Bad-Name", "metric", "does not match"],
      ["/api/v1/query_range", "metric", "required"],
      [`${q}&aggregation=median`, "aggregation", "median"],
      [`${q}&entity=(`, "entity", "regular expression"],
      [`${q}&start=1&start=2`, "start", "more than once"],
      ["/metrics?collect[]=cpu&exclude[]=meminfo", undefined, "cannot be used together"],
      ["/metrics?collect[]=bogus", undefined, "bogus"],
      ["/metrics?exclude[]=bogus", undefined, "bogus"],
      ["/api/v1/snapshot/bogus", "family", "bogus"],
    ];
    for (const [path, parameter, says] of cases) {
      const err = await expectError(await t.request(path), 400, "bad_parameter");
      assertStringIncludes(err.message, says, path);
      if (parameter) assertEquals(err.parameter, parameter, path);
    }
  });
});

Deno.test("400 too_many_points: a range at a step above serve.max_points names the limit", async () => {
  await withServe({}, async (t) => {
    const err = await expectError(
      await t.request(
        "/api/v1/query_range?metric=cpu_usage_percent&start=2026-01-01T00:00:00Z" +
          "&end=2026-03-01T00:00:00Z&step=1s",
      ),
      400,
      "too_many_points",
    );
    assertStringIncludes(err.message, "11000");
    assertStringIncludes(err.message, "serve.max_points");
    assertStringIncludes(err.message, "step >=");
    assertEquals(err.parameter, "step");
  });
  await withServe({ serve: (s) => s.max_points = 100 }, async (t) => {
    // 1000 s at 10 s is exactly 100 points: allowed (and answered 404 here: no data directory).
    await expectError(
      await t.request("/api/v1/query_range?metric=cpu_usage_percent&start=0&end=1000&step=10"),
      404,
      "no_data",
    );
    const err = await expectError(
      await t.request("/api/v1/query_range?metric=cpu_usage_percent&start=0&end=1010&step=10"),
      400,
      "too_many_points",
    );
    assertStringIncludes(err.message, "the limit is 100");
  });
});

Deno.test("404 for unknown routes, 405 for other methods, 414 for long URLs", async () => {
  await withServe({}, async (t) => {
    for (const path of ["/nope", "/api/v1/nope", "/api/v2/snapshot", "/metrics/extra"]) {
      const err = await expectError(await t.request(path), 404, "not_found");
      assertStringIncludes(err.message, path);
    }
    const posts: [string, RequestInit][] = [
      ["/api/v1/snapshot", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "cpu" }),
      }],
      ["/metrics", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" }],
      ["/api/v1/query_range", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "metric=cpu_usage_percent",
      }],
      ["/healthz", { method: "PUT", body: "{" }],
      ["/api/v1/snapshot/cores", { method: "DELETE" }],
    ];
    for (const [path, init] of posts) {
      const res = await t.request(path, init);
      assertEquals(res.headers.get("allow"), "GET, HEAD", path);
      await expectError(res, 405, "method_not_allowed");
    }
    const long = await t.request(`/api/v1/snapshot?entity=${"a".repeat(9000)}`);
    await expectError(long, 414, "uri_too_long");
    const longUnknown = await t.request(`/${"x".repeat(9000)}`);
    await expectError(longUnknown, 414, "uri_too_long");
    // Just under the limit the request is parsed (and refused for its own reasons).
    const under = await t.request(`/api/v1/snapshot/cores?entity=${"a".repeat(1000)}`);
    assertEquals(under.status, 404);
    await under.body?.cancel();
    const tooLongValue = await t.request(`/api/v1/snapshot/cores?entity=${"a".repeat(7000)}`);
    const err = await expectError(tooLongValue, 400, "bad_parameter");
    assertStringIncludes(err.message, "longer than");
  });
});

/** Names every plain object inherits: lookups must not mistake them for known keys. */
const INHERITED_NAMES = ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"];

Deno.test("400: names inherited from Object.prototype are unknown parameters too", async () => {
  await withServe({}, async (t) => {
    for (const name of INHERITED_NAMES) {
      for (const path of ["/api/v1/snapshot", "/healthz", "/api/v1/status"]) {
        const res = await t.request(`${path}?${name}=1`);
        const err = await expectError(res, 400, "bad_parameter");
        assertEquals(err.parameter, name, `${path}?${name}=1`);
        assertStringIncludes(err.message, "unknown parameter");
      }
    }
  });
});

Deno.test("404: entity names inherited from Object.prototype are not entities", async () => {
  await withServe({}, async (t) => {
    for (const name of INHERITED_NAMES) {
      for (const family of ENTITY_FAMILIES) {
        const res = await t.request(`/api/v1/snapshot/${family}?entity=${name}`);
        const err = await expectError(res, 404, "not_found");
        assertStringIncludes(err.message, name, `${family}?entity=${name}`);
      }
    }
  });
});

Deno.test("414: the refusal's message is true of the request it refuses", async () => {
  await withServe({}, async (t) => {
    // A request target (path and query) of 8180 bytes: within the 8192 bytes MAX_URL_BYTES allows
    // for a target. Either it is served (here: 404), or the 414 must not say the target is longer.
    const target = "/" + "a".repeat(8179);
    assertEquals(new TextEncoder().encode(target).length, 8180);
    const res = await t.request(target);
    const body = await res.json();
    assert(
      res.status !== 414 || !/request target longer than 8192/.test(body.error.message),
      `a ${target.length}-byte request target was refused with "${body.error.message}" ` +
        "(the whole URL, scheme and host included, was measured)",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Range queries over a real file store

const T0 = Date.parse("2026-03-01T00:00:00Z");
const RANGE_SAMPLES = 360; // one hour at 10 s
const QUERIED = ["cpu_usage_percent", "memory_used", "disk_read_bytes_per_second"];

/** The documented stored precision: integers exact, other numbers 6 significant digits. */
const stored = (v: number) => Number.isInteger(v) ? v : Number(v.toPrecision(6));

/** The queried series of a sample, as the API names them, with stored precision applied. */
function seriesValues(s: Sample): Record<string, number | null> {
  const vda = s.disks.vda.disk_read_bytes_per_second as number;
  return {
    cpu_usage_percent: stored(s.metrics.cpu_usage_percent!),
    "disk_read_bytes_per_second[vda]": stored(vda),
    memory_used: stored(s.metrics.memory_used!),
  };
}

/** Records RANGE_SAMPLES synthetic samples into a temp data dir; returns the store to read it. */
async function recordedStore(): Promise<{ dir: string; store: Storage; written: Sample[] }> {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-api-store-" });
  const synth = new SampleSynth(templateSample("testhost"), 11);
  const written = Array.from({ length: RANGE_SAMPLES }, (_, i) => synth.at(T0 + i * 10_000, 10));
  const closeAt = T0 + 2 * 3600_000;
  const recorded = await recordSamples(dir, written, { host: "testhost", closeAt });
  assertEquals(recorded.written, RANGE_SAMPLES);
  const store = createFileStore(recorded.config, dir, memoryLogger(), {
    host: "testhost",
    now: () => closeAt,
  });
  return { dir, store, written };
}

async function withRecorded(
  opts: ServeContextOptions,
  fn: (t: TestServe, written: Sample[]) => Promise<void>,
): Promise<void> {
  const { dir, store, written } = await recordedStore();
  try {
    await withServe({ ...opts, store, dataDir: dir }, (t) => fn(t, written));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const rangeQuery = (extra: string) =>
  `/api/v1/query_range?metric=${QUERIED[0]},${QUERIED[1]}&metric=${QUERIED[2]}&${extra}`;

Deno.test("query_range step=0: every recorded sample, at stored precision (Unix seconds and ISO)", async () => {
  await withRecorded({}, async (t, written) => {
    for (
      const [start, end] of [
        [String(T0 / 1000), String(T0 / 1000 + 3600)],
        ["2026-03-01T00:00:00Z", "2026-03-01T01:00:00Z"],
        ["2026-03-01T00:00:00.000Z", "2026-03-01 01:00:00"],
      ]
    ) {
      const body = await json(await t.request(rangeQuery(`start=${start}&end=${end}&step=0`)));
      assertEquals(body.start, T0);
      assertEquals(body.end, T0 + 3600_000);
      assertEquals(body.step, 0);
      assertEquals(body.series, [
        "cpu_usage_percent",
        "disk_read_bytes_per_second[vda]",
        "memory_used",
      ]);
      assertEquals(body.points.length, RANGE_SAMPLES, `${start}..${end}`);
      body.points.forEach((p: Json, i: number) => {
        const s = written[i];
        assertEquals(p.time, Date.parse(s.timestamp));
        assertEquals(p.values, seriesValues(s), s.timestamp);
        // Within 6 significant digits of what was written.
        const raw = s.metrics.cpu_usage_percent!;
        assertAlmostEquals(p.values.cpu_usage_percent, raw, Math.abs(raw) * 5e-6);
      });
    }
    // [start, end): a sub-range, end exclusive.
    const part = await json(
      await t.request(rangeQuery(`start=${T0 / 1000 + 100}&end=${T0 / 1000 + 200}&step=0`)),
    );
    assertEquals(
      part.points.map((p: Json) => p.time),
      written.slice(10, 20).map((s) => Date.parse(s.timestamp)),
    );
    // The entity regex keeps matching entities and every scalar.
    const none = await json(
      await t.request(rangeQuery(`start=${T0 / 1000}&end=${T0 / 1000 + 60}&step=0&entity=^sdz$`)),
    );
    assertEquals(none.series, ["cpu_usage_percent", "memory_used"]);
  });
});

Deno.test("query_range step=60s: min, max and avg of each minute of what was recorded", async () => {
  await withRecorded({}, async (t, written) => {
    for (const aggregation of ["min", "max", "avg"] as const) {
      const body = await json(
        await t.request(
          rangeQuery(
            `start=2026-03-01T00:00:00Z&end=${T0 / 1000 + 3600}&step=60&aggregation=${aggregation}`,
          ),
        ),
      );
      assertEquals(body.step, 60);
      assertEquals(body.aggregation, aggregation);
      assertEquals(body.points.length, 60, aggregation);
      for (const p of body.points) {
        assertEquals((p.time - T0) % 60_000, 0, "points start on the minute");
        const inStep = written
          .filter((s) => {
            const ts = Date.parse(s.timestamp);
            return ts >= p.time && ts < p.time + 60_000;
          })
          .map(seriesValues);
        assertEquals(inStep.length, 6);
        for (const key of Object.keys(inStep[0])) {
          const vals = inStep.map((v) => v[key] as number);
          const want = aggregation === "min"
            ? Math.min(...vals)
            : aggregation === "max"
            ? Math.max(...vals)
            : vals.reduce((a, b) => a + b, 0) / vals.length;
          const got = p.values[key] as number;
          // min/max are stored values; avg is a stored sum (7 digits) over a count.
          const tolerance = aggregation === "avg" ? Math.abs(want) * 1e-6 : Math.abs(want) * 5e-6;
          assertAlmostEquals(got, want, tolerance, `${aggregation} ${key} at ${p.time}`);
          if (aggregation !== "avg") assertEquals(got, stored(want), `${aggregation} ${key}`);
        }
      }
    }
  });
});

Deno.test("query_range over a store: serve.max_points and serve.max_values refuse big answers", async () => {
  await withRecorded({ serve: (s) => s.max_points = 100 }, async (t) => {
    const err = await expectError(
      await t.request(rangeQuery(`start=${T0 / 1000}&end=${T0 / 1000 + 3600}&step=0`)),
      400,
      "too_many_points",
    );
    assertStringIncludes(err.message, "more than 100 recorded samples");
    assertStringIncludes(err.message, "serve.max_points");
    // 50 samples fit.
    const ok = await json(
      await t.request(rangeQuery(`start=${T0 / 1000}&end=${T0 / 1000 + 500}&step=0`)),
    );
    assertEquals(ok.points.length, 50);
  });
  await withRecorded({ serve: (s) => s.max_values = 100 }, async (t) => {
    // 60 points × 3 series = 180 values.
    const err = await expectError(
      await t.request(rangeQuery(`start=${T0 / 1000}&end=${T0 / 1000 + 3600}&step=60`)),
      400,
      "too_many_points",
    );
    assertStringIncludes(err.message, "100 values (serve.max_values)");
  });
});

Deno.test("query_range without a data directory: 404 no_data; /api/v1/metrics shows the store", async () => {
  await withServe({}, async (t) => {
    const err = await expectError(
      await t.request("/api/v1/query_range?metric=cpu_usage_percent"),
      404,
      "no_data",
    );
    assertStringIncludes(err.message, "--data");
  });
  await withRecorded({}, async (t) => {
    const body = await json(await t.request("/api/v1/metrics"));
    assertEquals(body.recorded.hosts, ["testhost"]);
    assert(body.recorded.metrics.includes("cpu_usage_percent"), body.recorded.metrics.join(","));
    const raw = body.recorded.tiers.find((x: Json) => x.name === "raw");
    assertEquals(raw.from, T0);
    assertEquals(raw.to, T0 + (RANGE_SAMPLES - 1) * 10_000);
  });
});

// ---------------------------------------------------------------------------------------------
// CORS

Deno.test("CORS: an allowed origin is echoed, any other gets nothing, never *", async () => {
  const allowed = "https://grafana.example.com";
  await withServe({ tokens: [TOKEN_A], serve: (s) => s.cors_origins = [allowed] }, async (t) => {
    const auth = { authorization: `Bearer ${TOKEN_A}` };
    const seen: (string | null)[] = [];
    const check = async (path: string, init: RequestInit, want: string | null) => {
      const res = await t.request(path, init);
      const acao = res.headers.get("access-control-allow-origin");
      seen.push(acao);
      assertEquals(acao, want, `${init.method ?? "GET"} ${path} ${JSON.stringify(init.headers)}`);
      if (want) assertStringIncludes(res.headers.get("vary") ?? "", "Origin");
      await res.body?.cancel();
      return res;
    };
    for (const path of ["/api/v1/status", "/metrics", "/healthz"]) {
      await check(path, { headers: { ...auth, origin: allowed } }, allowed);
      for (
        const origin of [
          "https://evil.example.com",
          "https://grafana.example.com.evil.com",
          "http://grafana.example.com",
          "null",
        ]
      ) {
        await check(path, { headers: { ...auth, origin } }, null);
      }
      await check(path, { headers: auth }, null);
    }
    // Errors carry the header too, so a browser page can read why it was refused.
    const refused = await check("/api/v1/status", { headers: { origin: allowed } }, allowed);
    assertEquals(refused.status, 401);
    await check("/nope", { headers: { origin: allowed } }, allowed);
    // Preflight.
    const pre = await check("/api/v1/status", {
      method: "OPTIONS",
      headers: { origin: allowed, "access-control-request-headers": "authorization" },
    }, allowed);
    assertEquals(pre.status, 204);
    assertStringIncludes(pre.headers.get("access-control-allow-headers") ?? "", "Authorization");
    assertStringIncludes(pre.headers.get("access-control-allow-methods") ?? "", "GET");
    await check("/api/v1/status", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.com" },
    }, null);
    assert(!seen.includes("*"));
  });
  // No origins configured: no CORS headers at all.
  await withServe({}, async (t) => {
    const res = await t.request("/api/v1/status", { headers: { origin: allowed } });
    assertEquals(res.headers.get("access-control-allow-origin"), null);
    await res.body?.cancel();
  });
});

Deno.test("CORS with gzip: Vary keeps Accept-Encoding next to Origin", async () => {
  const allowed = "https://grafana.example.com";
  await withServe({ serve: (s) => s.cors_origins = [allowed] }, async (t) => {
    const res = await t.request("/metrics", {
      headers: { origin: allowed, "accept-encoding": "gzip" },
    });
    await res.body?.cancel();
    assertEquals(res.headers.get("content-encoding"), "gzip");
    assertEquals(res.headers.get("access-control-allow-origin"), allowed);
    const vary = (res.headers.get("vary") ?? "").split(",").map((v) => v.trim().toLowerCase());
    // A shared cache that loses Accept-Encoding may hand the gzip body to a client without gzip.
    assert(vary.includes("accept-encoding"), `Vary: ${res.headers.get("vary")}`);
    assert(vary.includes("origin"), `Vary: ${res.headers.get("vary")}`);
  });
});

// ---------------------------------------------------------------------------------------------
// access log

Deno.test("access log: one line per request with method, path, status; never a token", async () => {
  await withServe({ tokens: [TOKEN_A] }, async (t) => {
    await (await t.request("/api/v1/status?x=1", {
      headers: { authorization: `Bearer ${TOKEN_A}` },
    })).body?.cancel();
    await (await t.request("/healthz")).body?.cancel();
    const http = t.log.lines.filter((l) => / INFO {2}http /.test(l));
    assertEquals(http.length, 2, http.join("\n"));
    assertStringIncludes(http[0], "method=GET");
    // Values with "=" are quoted by the text logger.
    assertStringIncludes(http[0], 'path="/api/v1/status?x=1"');
    assertStringIncludes(http[0], "status=400");
    assertStringIncludes(http[1], "path=/healthz status=200");
    assert(!t.log.lines.some((l) => l.includes(TOKEN_A)), "the token was logged");
  });
  await withServe({ serve: (s) => s.access_log = false }, async (t) => {
    await (await t.request("/healthz")).body?.cancel();
    assertEquals(t.log.lines.filter((l) => / INFO {2}http /.test(l)), []);
  });
});
