/**
 * The dispatcher's grouping of webhook, Slack and e-mail notifications (Alertmanager's semantics,
 * src/alert/grouping.ts) against a real HTTP receiver, with an injected clock: group_wait gathers,
 * group_interval spaces updates, repeat_interval repeats, the group state survives a restart, and
 * severities, send_resolved and silences apply per channel.
 */
import { Dispatcher } from "../src/alert/dispatch.ts";
import type { AlertNotification, Severity } from "../src/alert/types.ts";
import type { AlertChannelConfig } from "../src/config/sysmon_schema.ts";
import { memoryLogger } from "../src/log.ts";
import { assertEquals } from "./assert.ts";
import { channelConfig } from "./alert_fixtures.ts";

const T0 = Date.parse("2026-11-27T00:00:00Z");
const S = 1000;

function fs(
  mount: string,
  kind: AlertNotification["kind"] = "firing",
  severity: Severity = "warning",
): AlertNotification {
  const at = new Date(T0).toISOString();
  return {
    kind,
    rule: "fs_space",
    key: `fs_space/${mount}`,
    entity: mount,
    severity,
    labels: { alertname: "fs_space", severity, host: "h", mountpoint: mount },
    summary: `${mount} full`,
    description: "",
    value: 91,
    valueText: "91.0%",
    threshold: 90,
    thresholdText: "90.0%",
    unit: "percent",
    host: "h",
    startsAt: at,
    at,
    ...(kind === "resolved" ? { endsAt: at } : {}),
  };
}

/** One received webhook body, reduced to what the tests compare. */
interface Got {
  reason: string;
  status: string;
  alerts: string[];
}

async function withReceiver(fn: (url: string, got: Got[]) => Promise<void>) {
  const got: Got[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    got.push({
      reason: body.reason,
      status: body.status,
      alerts: body.alerts.map((a: { status: string; entity: string; severity: string }) =>
        `${a.status} ${a.entity} ${a.severity}`
      ),
    });
    return new Response("ok");
  });
  const dir = await Deno.makeTempDir({ prefix: "sysmon-dispatch-" });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/hook|${dir}`, got);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

function open(where: string, patch: Partial<AlertChannelConfig>): Promise<Dispatcher> {
  const [url, dir] = where.split("|");
  return Dispatcher.open(
    { hook: channelConfig({ url, ...patch }) },
    `${dir}/outbox.json`,
    memoryLogger("debug"),
  );
}

const timings = { group_wait: 30, group_interval: 300, repeat_interval: 3600 };

Deno.test("grouping: group_wait gathers, group_interval spaces updates, repeat_interval repeats, restart resumes", async () => {
  await withReceiver(async (where, got) => {
    let d = await open(where, timings);
    d.route(fs("/var"), T0);
    await d.flush(T0, []);
    d.route(fs("/"), T0 + 10 * S);
    await d.flush(T0 + 10 * S, []);
    assertEquals(got, [], "nothing before group_wait");
    await d.flush(T0 + 30 * S, []);
    assertEquals(got, [{
      reason: "initial",
      status: "firing",
      alerts: ["firing / warning", "firing /var warning"],
    }]);

    d.route(fs("/home"), T0 + 60 * S);
    await d.flush(T0 + 60 * S, []);
    assertEquals(got.length, 1, "an update waits for group_interval");

    // A restart: the group and its last message come back from the outbox file.
    d = await open(where, timings);
    await d.flush(T0 + 329 * S, []);
    assertEquals(got.length, 1);
    await d.flush(T0 + 330 * S, []);
    assertEquals(got[1], {
      reason: "update",
      status: "firing",
      alerts: ["firing / warning", "firing /home warning", "firing /var warning"],
    });

    d.route(fs("/var", "resolved"), T0 + 400 * S);
    await d.flush(T0 + 400 * S, []);
    assertEquals(got.length, 2);
    await d.flush(T0 + 630 * S, []);
    assertEquals(got[2], {
      reason: "update",
      status: "firing",
      alerts: ["firing / warning", "firing /home warning", "resolved /var warning"],
    });

    await d.flush(T0 + (630 + 3599) * S, []);
    assertEquals(got.length, 3);
    await d.flush(T0 + (630 + 3600) * S, []);
    assertEquals(got[3], {
      reason: "repeat",
      status: "firing",
      alerts: ["firing / warning", "firing /home warning"],
    });

    const t = T0 + 5000 * S;
    d.route(fs("/", "resolved"), t);
    d.route(fs("/home", "resolved"), t);
    await d.flush(t + 300 * S, []);
    assertEquals(got[4], {
      reason: "update",
      status: "resolved",
      alerts: ["resolved / warning", "resolved /home warning"],
    });
    await d.flush(t + 100_000 * S, []);
    assertEquals(got.length, 5, "a group whose alerts all resolved is over");
  });
});

Deno.test("grouping: a critical-only channel hears an escalation, and its end when it falls back", async () => {
  await withReceiver(async (where, got) => {
    const d = await open(where, { ...timings, group_wait: 0, severities: ["critical"] });
    d.route(fs("/var"), T0);
    await d.flush(T0, []);
    assertEquals(got, [], "a warning is not for this channel");
    d.route({ ...fs("/var", "escalated", "critical"), previous: "warning" }, T0 + 60 * S);
    await d.flush(T0 + 60 * S, []);
    assertEquals(got.map((g) => g.alerts), [["firing /var critical"]]);
    d.route({ ...fs("/var", "deescalated", "warning"), previous: "critical" }, T0 + 120 * S);
    await d.flush(T0 + 360 * S, []);
    assertEquals(got.map((g) => g.alerts)[1], ["resolved /var warning"]);
    d.route(fs("/var", "resolved"), T0 + 400 * S);
    await d.flush(T0 + 100_000 * S, []);
    assertEquals(got.length, 2, "the channel already heard the end");
  });
});

Deno.test("grouping: send_resolved false sends no resolved message, and the group still ends", async () => {
  await withReceiver(async (where, got) => {
    const d = await open(where, { ...timings, group_wait: 0, send_resolved: false });
    d.route(fs("/var"), T0);
    await d.flush(T0, []);
    d.route(fs("/var", "resolved"), T0 + 60 * S);
    await d.flush(T0 + 100_000 * S, []);
    assertEquals(got.map((g) => g.alerts), [["firing /var warning"]]);
  });
});

Deno.test("grouping: a silenced alert is not announced; a silenced end of an announced one is", async () => {
  await withReceiver(async (where, got) => {
    const d = await open(where, { ...timings, group_wait: 0, group_by: ["..."] });
    d.route(fs("/var"), T0);
    d.route(fs("/tmp"), T0, { silenced: true });
    await d.flush(T0, []);
    assertEquals(got.map((g) => g.alerts), [["firing /var warning"]]);
    d.route(fs("/var", "resolved"), T0 + 60 * S, { silenced: true });
    d.route(fs("/tmp", "resolved"), T0 + 60 * S, { silenced: true });
    await d.flush(T0 + 400 * S, []);
    assertEquals(got.map((g) => g.alerts), [["firing /var warning"], ["resolved /var warning"]]);
  });
});

Deno.test("outbox: the first save in a fresh data directory creates state/", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-dispatch-" });
  const log = memoryLogger("debug");
  try {
    const path = `${dir}/data/state/outbox.json`;
    const d = await Dispatcher.open(
      { hook: channelConfig({ url: "http://127.0.0.1:9/h" }) },
      path,
      log,
    );
    d.route(fs("/var"), T0);
    await d.persist();
    const saved = JSON.parse(await Deno.readTextFile(path));
    assertEquals(Object.keys(saved.groups.hook.groups), ['{alertname="fs_space"}']);
    assertEquals(log.lines.filter((l) => l.includes("ERROR")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
