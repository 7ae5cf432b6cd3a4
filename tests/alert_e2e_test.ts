/**
 * `sysmon alert run` against a real Alertmanager (Debian's /usr/bin/prometheus-alertmanager): the
 * alertmanager channel's alerts are accepted and listed with the right labels and annotations, kept
 * alive by the resend, routed to Alertmanager's own receiver, and resolved when the rule clears;
 * the webhook channel delivers sysmon's payload alongside. An outage of both receivers at start
 * loses nothing and duplicates nothing (the outbox retries), and the logs never show URL secrets.
 */
import { type Daemon, spawnDaemon } from "./daemon_util.ts";
import { freePort, withTempDir } from "./helpers.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { defaultConfig } from "../src/config/load.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";
const HOST = Deno.hostname();

const installed = (() => {
  try {
    return Deno.statSync(ALERTMANAGER).isFile;
  } catch {
    return false;
  }
})();
// Deno prints no reason for an ignored test, so the name carries it.
const SKIP_NOTE = installed ? "" : ` (ignored: ${ALERTMANAGER} is not installed; ` +
  "apt-get install prometheus-alertmanager)";

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/** Polls `check` every 250 ms until it returns true; on the deadline fails with `what` and logs. */
async function eventually(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
  context: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    let last = "";
    try {
      if (await check()) return;
    } catch (err) {
      last = ` (last error: ${(err as Error).message})`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`not within ${timeoutMs / 1000} s: ${what}${last}\n${context()}`);
    }
    await sleep(250);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// HTTP receivers (the test's stand-ins for a chat bridge or pager)
// ---------------------------------------------------------------------------------------------

interface Post {
  path: string;
  body: Record<string, unknown>;
}

interface Receiver {
  readonly url: string;
  readonly posts: Post[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that records every POSTed JSON body and answers 200; on `port`, or on one
 * the kernel picks (never a port reserved with freePort() for a server started later).
 */
function startReceiver(port = 0): Receiver {
  const posts: Post[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    async (req) => {
      if (req.method !== "POST") return new Response("POST only", { status: 405 });
      const u = new URL(req.url);
      posts.push({ path: u.pathname + u.search, body: await req.json() });
      return new Response("ok");
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  return { url, posts, close: () => server.shutdown() };
}

function describePosts(name: string, r: Receiver): string {
  return `--- ${name} got ${r.posts.length} POST(s):\n` +
    r.posts.map((p) => `${p.path} ${JSON.stringify(p.body).slice(0, 600)}`).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Alertmanager
// ---------------------------------------------------------------------------------------------

interface Alertmanager extends Daemon {
  readonly url: string;
}

/**
 * Alertmanager on 127.0.0.1:`port`, routing everything to `receiverUrl` (a webhook receiver) with
 * one-second grouping; no clustering, its storage under `dir`. Resolves once /-/ready answers.
 */
async function startAlertmanager(
  dir: string,
  port: number,
  receiverUrl: string,
): Promise<Alertmanager> {
  const config = {
    route: {
      receiver: "test",
      group_by: ["alertname"],
      group_wait: "1s",
      group_interval: "1s",
      repeat_interval: "1h",
    },
    receivers: [{
      name: "test",
      webhook_configs: [{ url: `${receiverUrl}/alertmanager`, send_resolved: true }],
    }],
  };
  // JSON is YAML: no hand-written indentation to get wrong.
  await Deno.writeTextFile(`${dir}/alertmanager.yml`, JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${port}`;
  const daemon = spawnDaemon("alertmanager", ALERTMANAGER, [
    `--config.file=${dir}/alertmanager.yml`,
    `--storage.path=${dir}/alertmanager-data`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
    "--log.level=warn",
  ]);
  const am = { ...daemon, url };
  try {
    let last = "no answer";
    await eventually(`${url}/-/ready answers 200`, 20_000, async () => {
      const status = daemon.exited();
      if (status) throw new Error(`alertmanager exited (code ${status.code})`);
      try {
        const res = await fetch(`${url}/-/ready`);
        last = `${res.status} ${(await res.text()).slice(0, 200)}`;
        return res.status === 200;
      } catch (err) {
        last = (err as Error).message;
        return false;
      }
    }, () => `last: ${last}\n${daemon.output()}`);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return am;
}

/** One element of GET /api/v2/alerts (gettableAlerts), the fields the tests look at. */
interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

async function amAlerts(am: Alertmanager, query = ""): Promise<GettableAlert[]> {
  const res = await fetch(`${am.url}/api/v2/alerts${query}`);
  if (res.status !== 200) throw new Error(`GET /api/v2/alerts${query}: ${res.status}`);
  return await res.json() as GettableAlert[];
}

async function cpuSeenIn(am: Alertmanager, query = ""): Promise<GettableAlert | undefined> {
  return (await amAlerts(am, query)).find((a) => a.labels.alertname === "cpu_seen");
}

/** Alertmanager's webhook notifications (version 4) about cpu_seen with `status`. */
function amNotifications(r: Receiver, status: "firing" | "resolved"): Post[] {
  return r.posts.filter((p) => {
    const alerts = (p.body.alerts ?? []) as { status: string; labels: Record<string, string> }[];
    return p.body.status === status &&
      alerts.some((a) => a.status === status && a.labels.alertname === "cpu_seen");
  });
}

/** The cpu_seen alerts of `kind` in sysmon's own webhook payloads (version 2: group messages). */
function sysmonPayloads(r: Receiver, kind: "firing" | "resolved"): Post[] {
  return r.posts.flatMap((p) => {
    const alerts = (p.body.alerts ?? []) as Record<string, unknown>[];
    return alerts
      .filter((a) => a.kind === kind && a.rule === "cpu_seen")
      .map((a) => ({ ...p, body: { ...a, version: p.body.version } }));
  });
}

// ---------------------------------------------------------------------------------------------
// sysmon alert run
// ---------------------------------------------------------------------------------------------

// The shipped rules are turned off: on a busy test machine cpu_busy could start pending.
const SHIPPED_OFF = Object.keys(defaultConfig().alert.rules)
  .map((name) => `    ${name}: {enabled: false}\n`).join("");

/** cpu_seen fires on the second sample (the first has no rates): every CPU use is >= 0. */
const FIRES = "{ metric: cpu_usage_percent, warning: 0, for: 0s, " +
  'summary: "cpu at {{value}} on {{host}}" }';
/** The same rule unable to hold: a firing cpu_seen clears at once. */
const CLEARS = "{ metric: cpu_usage_percent, warning: 1000000, clear_warning: 999999, for: 0s, " +
  'keep_firing_for: 0s, summary: "cpu at {{value}} on {{host}}" }';

async function writeConfig(
  path: string,
  amUrl: string,
  hookUrl: string,
  rule: string,
): Promise<void> {
  await Deno.writeTextFile(
    path,
    `alert:
  channels:
    am: { type: alertmanager, url: "${amUrl}", resend_interval: 2s, timeout: 2s }
    hook: { type: webhook, url: "${hookUrl}", timeout: 2s, group_wait: 0s, group_interval: 1s }
  rules:
${SHIPPED_OFF}    cpu_seen: ${rule}
`,
  );
}

function startSysmon(config: string, data: string, duration: string): Daemon {
  return spawnDaemon("sysmon alert run", Deno.execPath(), [
    "run",
    "-A",
    MAIN,
    "alert",
    "run",
    "--config",
    config,
    "--data",
    data,
    "--interval",
    "500ms",
    "--duration",
    duration,
    "--log-level",
    "info",
  ], { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" });
}

/** Stops sysmon and checks it ended as `alert run` should after SIGTERM: exit 0. */
async function stopSysmon(sysmon: Daemon): Promise<void> {
  const status = await sysmon.stop();
  assertEquals(status.code, 0, `sysmon alert run exit code\n${sysmon.output()}`);
}

async function outboxEntries(data: string): Promise<unknown[]> {
  const saved = JSON.parse(await Deno.readTextFile(`${data}/state/outbox.json`));
  return saved.entries as unknown[];
}

/** Checks an alert as Alertmanager lists it: sysmon's labels, summary, active, endsAt ahead. */
function assertCpuSeen(alert: GettableAlert | undefined, now: number): asserts alert {
  assert(alert, "cpu_seen is not listed");
  assertEquals(alert.labels, { alertname: "cpu_seen", host: HOST, severity: "warning" });
  assertMatch(alert.annotations.summary, new RegExp(`^cpu at \\d+(\\.\\d+)?% on ${HOST}$`));
  // The resend carries the same annotations as the first post (Alertmanager keeps the latest set).
  assertEquals(Object.keys(alert.annotations).sort(), [
    "description",
    "summary",
    "threshold",
    "value",
  ]);
  assertEquals(alert.status.state, "active");
  assert(
    Date.parse(alert.endsAt) > now,
    `endsAt ${alert.endsAt} is not in the future (now ${new Date(now).toISOString()})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

Deno.test({
  name: "alert+alertmanager: a firing rule reaches Alertmanager (labels, summary, kept alive by " +
    "the resend) and its receiver, and sysmon's webhook gets its payload" + SKIP_NOTE,
  ignore: !installed,
  async fn() {
    await withTempDir("sysmon-alertmanager-", async (dir) => {
      const amReceiver = startReceiver();
      const hook = startReceiver();
      let am: Alertmanager | undefined;
      let sysmon: Daemon | undefined;
      try {
        am = await startAlertmanager(dir, freePort(), amReceiver.url);
        await writeConfig(`${dir}/sysmon.yaml`, am.url, `${hook.url}/hook`, FIRES);
        sysmon = startSysmon(`${dir}/sysmon.yaml`, `${dir}/data`, "20s");
        const context = () =>
          [
            sysmon!.output(),
            am!.output(),
            describePosts("alertmanager's receiver", amReceiver),
            describePosts("sysmon's webhook receiver", hook),
          ].join("\n");
        const a = am;
        await eventually("Alertmanager lists cpu_seen", 12_000, async () => {
          return (await cpuSeenIn(a)) !== undefined;
        }, context);
        const first = await cpuSeenIn(am);
        assertCpuSeen(first, Date.now());

        // The resend (every 2 s) moves endsAt on: the alert stays alive while the rule holds.
        await eventually("a resend moves endsAt later", 8_000, async () => {
          const now = await cpuSeenIn(a);
          return now !== undefined && Date.parse(now.endsAt) > Date.parse(first.endsAt);
        }, context);
        assertCpuSeen(await cpuSeenIn(am), Date.now());

        await eventually("Alertmanager's receiver is notified (firing)", 8_000, () => {
          return amNotifications(amReceiver, "firing").length > 0;
        }, context);
        await eventually("sysmon's webhook gets the firing payload", 8_000, () => {
          return sysmonPayloads(hook, "firing").length > 0;
        }, context);
        const payload = sysmonPayloads(hook, "firing")[0];
        assertEquals(payload.path, "/hook");
        assertEquals(payload.body.version, 2);
        assertEquals(payload.body.status, "firing");
        assertEquals(payload.body.severity, "warning");
        assertEquals(payload.body.host, HOST);
        assertEquals(payload.body.labels, {
          alertname: "cpu_seen",
          severity: "warning",
          host: HOST,
        });
        assertMatch(String(payload.body.summary), /^cpu at \d+(\.\d+)?% on /);
        // The receiver was notified of the alert sysmon sent, with its labels.
        const notified = amNotifications(amReceiver, "firing")[0].body;
        assertEquals((notified.commonLabels as Record<string, string>).host, HOST);

        await stopSysmon(sysmon);
        assertEquals(await outboxEntries(`${dir}/data`), [], "nothing left in the outbox");
      } finally {
        await sysmon?.stop();
        await am?.stop();
        await amReceiver.close();
        await hook.close();
      }
    });
  },
});

Deno.test({
  name: "alert+alertmanager: with Alertmanager and the webhook down at start, the outbox " +
    "delivers once both are up: one notification each, no URL secret in the log" + SKIP_NOTE,
  ignore: !installed,
  async fn() {
    await withTempDir("sysmon-alertmanager-", async (dir) => {
      // Ports chosen now, listened on later: until then sysmon's deliveries are refused.
      const amPort = freePort();
      let hookPort = freePort();
      while (hookPort === amPort) hookPort = freePort();
      const secretPath = "/hook/PATH-SECRET-7f3a";
      const secretQuery = "token=QUERY-SECRET-91bc";
      await writeConfig(
        `${dir}/sysmon.yaml`,
        `http://127.0.0.1:${amPort}`,
        `http://127.0.0.1:${hookPort}${secretPath}?${secretQuery}`,
        FIRES,
      );
      let amReceiver: Receiver | undefined;
      let hook: Receiver | undefined;
      let am: Alertmanager | undefined;
      // Backoff: 5 s after the first failure, then 10 s; 25 s leaves room for both retries.
      const sysmon = startSysmon(`${dir}/sysmon.yaml`, `${dir}/data`, "25s");
      const context = () =>
        [
          sysmon.output(),
          am?.output() ?? "--- alertmanager: not started",
          amReceiver ? describePosts("alertmanager's receiver", amReceiver) : "",
          hook ? describePosts("sysmon's webhook receiver", hook) : "",
        ].join("\n");
      try {
        await eventually("sysmon reports both channels failing", 15_000, () => {
          const err = sysmon.stderr();
          return err.includes("channel am failed") && err.includes("channel hook failed");
        }, context);
        assertMatch(sysmon.stdout(), /FIRING warning cpu_seen/);

        amReceiver = startReceiver();
        hook = startReceiver(hookPort);
        am = await startAlertmanager(dir, amPort, amReceiver.url);
        const a = am;
        const h = hook;
        const r = amReceiver;
        await eventually("Alertmanager lists cpu_seen after the outage", 20_000, async () => {
          return (await cpuSeenIn(a)) !== undefined;
        }, context);
        assertCpuSeen(await cpuSeenIn(am), Date.now());
        await eventually("sysmon's webhook gets the queued firing payload", 20_000, () => {
          return sysmonPayloads(h, "firing").length > 0;
        }, context);
        await eventually("Alertmanager's receiver is notified (firing)", 8_000, () => {
          return amNotifications(r, "firing").length > 0;
        }, context);

        // A duplicate would come with the next flush or resend: give it a few of each.
        await sleep(3_000);
        assertEquals(hook.posts.length, 1, `one webhook delivery, not more\n${context()}`);
        assertEquals(hook.posts[0].path, `${secretPath}?${secretQuery}`);
        assertEquals(hook.posts[0].body.version, 2);
        assertEquals((hook.posts[0].body.alerts as { kind: string }[])[0].kind, "firing");
        assertEquals(
          amNotifications(amReceiver, "firing").length,
          1,
          `one Alertmanager notification, not more\n${context()}`,
        );

        await stopSysmon(sysmon);
        assertEquals(await outboxEntries(`${dir}/data`), [], "nothing left in the outbox");
        const err = sysmon.stderr();
        assertMatch(
          err,
          /channel hook failed \(http:\/\/127\.0\.0\.1:\d+: .*refused.*\); 1 queued/,
        );
        assertMatch(err, /channel am failed \(http:\/\/127\.0\.0\.1:\d+: .*refused.*\); 1 queued/);
        for (const secret of ["PATH-SECRET", "QUERY-SECRET", "/hook"]) {
          assert(!err.includes(secret), `stderr shows ${secret}:\n${err}`);
          assert(!sysmon.stdout().includes(secret), `stdout shows ${secret}`);
        }
      } finally {
        await sysmon.stop();
        await am?.stop();
        await amReceiver?.close();
        await hook?.close();
      }
    });
  },
});

Deno.test({
  name: "alert+alertmanager: a rule that clears sends resolved: Alertmanager ends the alert and " +
    "notifies its receiver, sysmon's webhook gets kind resolved" + SKIP_NOTE,
  ignore: !installed,
  async fn() {
    await withTempDir("sysmon-alertmanager-", async (dir) => {
      const amReceiver = startReceiver();
      const hook = startReceiver();
      const data = `${dir}/data`;
      let am: Alertmanager | undefined;
      let sysmon: Daemon | undefined;
      try {
        am = await startAlertmanager(dir, freePort(), amReceiver.url);
        const a = am;
        const context = () =>
          [
            sysmon?.output() ?? "",
            a.output(),
            describePosts("alertmanager's receiver", amReceiver),
            describePosts("sysmon's webhook receiver", hook),
          ].join("\n");

        // Run 1: cpu_seen fires and both channels take it.
        await writeConfig(`${dir}/fires.yaml`, am.url, `${hook.url}/hook`, FIRES);
        sysmon = startSysmon(`${dir}/fires.yaml`, data, "15s");
        await eventually(
          "run 1: Alertmanager lists cpu_seen, both receivers notified",
          12_000,
          async () => {
            return (await cpuSeenIn(a)) !== undefined &&
              amNotifications(amReceiver, "firing").length > 0 &&
              sysmonPayloads(hook, "firing").length > 0;
          },
          context,
        );
        await stopSysmon(sysmon);
        assertEquals(await outboxEntries(data), [], "run 1 left nothing in the outbox");

        // Run 2, same data directory: the restored firing alert cannot hold and resolves.
        await writeConfig(`${dir}/clears.yaml`, am.url, `${hook.url}/hook`, CLEARS);
        sysmon = startSysmon(`${dir}/clears.yaml`, data, "15s");
        await eventually("run 2: sysmon's webhook gets kind resolved", 12_000, () => {
          return sysmonPayloads(hook, "resolved").length > 0;
        }, context);
        await eventually(
          "run 2: Alertmanager no longer lists cpu_seen as active",
          8_000,
          async () => {
            return (await cpuSeenIn(a, "?active=true&silenced=false")) === undefined &&
              (await cpuSeenIn(a)) === undefined;
          },
          context,
        );
        await eventually("run 2: Alertmanager's receiver is notified (resolved)", 8_000, () => {
          return amNotifications(amReceiver, "resolved").length > 0;
        }, context);
        await stopSysmon(sysmon);
        assertStringIncludes(sysmon.stdout(), "RESOLVED cpu_seen");

        const resolved = sysmonPayloads(hook, "resolved");
        assertEquals(resolved.length, 1, context());
        assertEquals([resolved[0].body.version, resolved[0].body.status], [2, "resolved"]);
        assert(typeof resolved[0].body.endsAt === "string", "a resolved payload carries endsAt");
        const ended = (amNotifications(amReceiver, "resolved")[0].body.alerts as {
          labels: Record<string, string>;
          endsAt: string;
        }[]).find((x) => x.labels.alertname === "cpu_seen")!;
        assertEquals(ended.labels, { alertname: "cpu_seen", host: HOST, severity: "warning" });
        assert(Date.parse(ended.endsAt) <= Date.now(), `endsAt ${ended.endsAt} is in the past`);
        assertEquals(sysmonPayloads(hook, "firing").length, 1, "run 2 did not fire again");
      } finally {
        await sysmon?.stop();
        await am?.stop();
        await amReceiver.close();
        await hook.close();
      }
    });
  },
});
