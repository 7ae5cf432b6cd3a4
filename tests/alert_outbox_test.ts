/**
 * The outbox and the dispatcher: a channel that refuses connections while alerts fire gets every
 * notification after it comes back, in order and none twice; a 4xx is dropped and reported; the
 * queue survives a restart.
 */
import { Dispatcher } from "../src/alert/dispatch.ts";
import { watchdogAlert } from "../src/alert/run.ts";
import { backoffMs, type Delivery, Outbox } from "../src/alert/outbox.ts";
import type { AlertNotification } from "../src/alert/types.ts";
import type { AlertChannelConfig } from "../src/config/sysmon_schema.ts";
import { channelConfig } from "./alert_fixtures.ts";
import { memoryLogger } from "../src/log.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { freePort } from "./helpers.ts";

const T0 = Date.parse("2026-11-27T00:00:00Z");

function note(i: number, kind: AlertNotification["kind"] = "firing"): AlertNotification {
  const at = new Date(T0 + i * 1000).toISOString();
  return {
    kind,
    rule: "cpu_busy",
    key: `cpu_busy/${i}`,
    severity: "critical",
    labels: { alertname: "cpu_busy", severity: "critical", host: "h" },
    summary: `n${i}`,
    description: "",
    value: 99,
    valueText: "99.0%",
    threshold: 98,
    thresholdText: "98.0%",
    unit: "percent",
    host: "h",
    startsAt: at,
    at,
    ...(kind === "resolved" ? { endsAt: at } : {}),
  };
}

/** A webhook channel that sends each alert alone and at once: these tests are about the outbox. */
function webhook(url: string): AlertChannelConfig {
  return channelConfig({ url, group_by: ["..."], group_wait: 0, group_interval: 1 });
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-outbox-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("backoff doubles from 5 s and stops at 5 minutes", () => {
  assertEquals([1, 2, 3, 4, 7, 20].map(backoffMs), [5000, 10000, 20000, 40000, 300000, 300000]);
});

Deno.test("dispatcher: a receiver down while alerts fire gets them all after recovery, in order, once", async () => {
  await withDir(async (dir) => {
    const port = freePort();
    const url = `http://127.0.0.1:${port}/hook/secret-token-path`;
    const log = memoryLogger("debug");
    const d = await Dispatcher.open({ hook: webhook(url) }, `${dir}/outbox.json`, log);
    // The receiver is down: three notifications queue up.
    for (let i = 0; i < 3; i++) {
      d.route(note(i), T0 + i * 1000);
      await d.persist();
      await d.flush(T0 + i * 1000, []);
    }
    assertEquals(d.queued(), 3);
    assert(log.lines.some((l) => l.includes("channel hook failed")), log.lines.join("\n"));
    assert(!log.lines.some((l) => l.includes("secret-token-path")), "the URL's secret was logged");

    // A restart meanwhile: the queue comes back from the file.
    const d2 = await Dispatcher.open({ hook: webhook(url) }, `${dir}/outbox.json`, log);
    assertEquals(d2.queued(), 3);
    d2.route(note(0, "resolved"), T0 + 3000);
    await d2.persist();

    // The receiver comes back; after the backoff every notification arrives once, in order.
    const got: string[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
      const { alerts: [alert] } = await req.json();
      got.push(`${alert.kind} ${alert.summary}`);
      return new Response("ok");
    });
    try {
      await d2.flush(T0 + 2000, []); // still inside the backoff: nothing is sent
      assertEquals(got, []);
      await d2.flush(T0 + 10 * 60_000, []);
      assertEquals(got, ["firing n0", "firing n1", "firing n2", "resolved n0"]);
      assertEquals(d2.queued(), 0);
      await d2.flush(T0 + 20 * 60_000, []);
      assertEquals(got.length, 4, "delivered twice");
      const saved = JSON.parse(await Deno.readTextFile(`${dir}/outbox.json`));
      assertEquals(saved.entries, []);
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("dispatcher: a 4xx is dropped and reported; routing by severity, rules and send_resolved", async () => {
  await withDir(async (dir) => {
    const got: string[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const { alerts: [alert] } = await req.json();
      got.push(`${new URL(req.url).pathname} ${alert.kind}`);
      return new Response("bad", { status: alert.summary === "n1" ? 400 : 200 });
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const log = memoryLogger("debug");
    try {
      const d = await Dispatcher.open(
        {
          all: webhook(`${base}/all`),
          warn_only: { ...webhook(`${base}/warn`), severities: ["warning"] },
          no_resolved: { ...webhook(`${base}/nores`), send_resolved: false, rules: "^cpu_" },
          broken: { ...webhook(""), url_file: `${dir}/missing` },
        },
        `${dir}/outbox.json`,
        log,
      );
      assertEquals(d.channelNames(), ["all", "warn_only", "no_resolved"]);
      assert(log.lines.some((l) => l.includes("alert.channels.broken: cannot read url_file")));
      d.route(note(0), T0);
      d.route(note(1), T0);
      await d.flush(T0, []);
      d.route(note(0, "resolved"), T0 + 1000);
      await d.flush(T0 + 1000, []);
      assertEquals(got.sort(), [
        "/all firing",
        "/all firing",
        "/all resolved",
        "/nores firing",
        "/nores firing",
      ]);
      assertEquals(d.queued(), 0);
      assertStringIncludes(
        log.lines.filter((l) => l.includes("refused")).join("\n"),
        "refused group {}/cpu_busy/1 (1 firing, 0 resolved) for good",
      );
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("outbox: a corrupt file is an error naming it, never emptied", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/outbox.json`, "{not json");
    const box = new Outbox(`${dir}/outbox.json`);
    let message = "";
    await box.load().catch((err) => message = err.message);
    assertStringIncludes(message, `${dir}/outbox.json is not readable JSON`);
    assertEquals(await Deno.readTextFile(`${dir}/outbox.json`), "{not json");
  });
});

Deno.test("dispatcher: Alertmanager gets firing alerts again every resend_interval, Watchdog included", async () => {
  await withDir(async (dir) => {
    const posts: { labels: Record<string, string>; endsAt: string }[][] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      assertEquals(new URL(req.url).pathname, "/api/v2/alerts");
      posts.push(await req.json());
      return new Response("");
    });
    try {
      const am: AlertChannelConfig = {
        ...webhook(`http://127.0.0.1:${server.addr.port}`),
        type: "alertmanager",
        resend_interval: 60,
      };
      const d = await Dispatcher.open({ am }, `${dir}/outbox.json`, memoryLogger());
      const active = [watchdogAlert("h", T0)];
      await d.flush(T0, active);
      await d.flush(T0 + 30_000, active); // within the interval: nothing
      await d.flush(T0 + 61_000, active);
      assertEquals(posts.length, 2);
      assertEquals(posts[0][0].labels, { alertname: "Watchdog", severity: "none", host: "h" });
      // endsAt four intervals ahead of each send: the alert expires only if the resends stop.
      assertEquals(posts[1][0].endsAt, new Date(T0 + 61_000 + 4 * 60_000).toISOString());
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("outbox: max_per_hour holds deliveries back in order, then lets them through", async () => {
  await withDir(async (dir) => {
    const box = new Outbox(`${dir}/outbox.json`);
    const sent: string[] = [];
    const senders = new Map([["chat", (d: Delivery) => {
      sent.push(d.notification?.summary ?? "?");
      return Promise.resolve({ ok: true, retryable: false });
    }]]);
    const limits = new Map([["chat", 2]]);
    for (let i = 0; i < 5; i++) box.add("chat", { notification: note(i) }, T0);
    await box.deliver(senders, T0, limits);
    assertEquals(sent, ["n0", "n1"]);
    assertEquals(box.size("chat"), 3);
    await box.deliver(senders, T0 + 30 * 60_000, limits); // same hour: still held
    assertEquals(sent.length, 2);
    await box.deliver(senders, T0 + 3600_000, limits); // the first two left the window
    assertEquals(sent, ["n0", "n1", "n2", "n3"]);
    assertEquals(box.size("chat"), 1);
  });
});
