/**
 * The HTTP delivery channels: payload shapes (webhook, Slack, Alertmanager v2), the shared POST's
 * outcomes against local servers, and that a webhook URL's secret parts never reach a message.
 */
import {
  alertLabels,
  alertmanagerAlerts,
  alertmanagerTransition,
  alertsUrl,
  endsAtFor,
  postAlerts,
} from "../src/alert/channels/alertmanager.ts";
import { postJson, type PostResult, redactUrl } from "../src/alert/channels/http.ts";
import { headline } from "../src/alert/channels/group_text.ts";
import { sendSlack, slackAlertPayload, slackPayload } from "../src/alert/channels/slack.ts";
import { sendWebhook, webhookAlert, webhookPayload } from "../src/alert/channels/webhook.ts";
import type { AlertNotification } from "../src/alert/types.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { freePort } from "./helpers.ts";
import { firingCritical, groupOf, T0, T5, T9 } from "./alert_fixtures.ts";

/** warning (since T0) → critical at T5. */
const escalation = () => firingCritical({ kind: "escalated", previous: "warning", at: T5 });

/** A filesystem alert that stopped firing at T9. */
function resolvedFs(): AlertNotification {
  return firingCritical({
    kind: "resolved",
    rule: "fs_space",
    key: "fs_space//var",
    entity: "/var",
    severity: "warning",
    previous: "warning",
    labels: {
      alertname: "fs_space",
      severity: "warning",
      host: "web1",
      mountpoint: "/var",
      fstype: "ext4",
    },
    summary: "/var is 71.0% full",
    description: "/var on web1 is 71.0% full (threshold 80.0%).",
    value: 71,
    valueText: "71.0%",
    threshold: 80,
    thresholdText: "80.0%",
    at: T9,
    endsAt: T9,
  });
}

// ---------------------------------------------------------------------------------------------
// Local servers

interface Seen {
  method: string;
  /** Path and query. */
  path: string;
  headers: Headers;
  body: string;
}

/** Runs `fn` against a server on 127.0.0.1 (port chosen by the kernel); always shuts it down. */
async function withServer(
  handler: (req: Request, seen: Seen) => Response | Promise<Response>,
  fn: (base: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      const s = {
        method: req.method,
        path: url.pathname + url.search,
        headers: req.headers,
        body: await req.text(),
      };
      seen.push(s);
      return await handler(req, s);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

const answer = (status: number, body = "", headers: Record<string, string> = {}) => () =>
  new Response(body === "" ? null : body, { status, headers });

// ---------------------------------------------------------------------------------------------
// Generic webhook

Deno.test("webhook payload: a group of one firing critical alert", () => {
  assertEquals(webhookPayload(groupOf([firingCritical()])), {
    version: 2,
    status: "firing",
    reason: "initial",
    groupKey: '{alertname="cpu_busy"}',
    groupLabels: { alertname: "cpu_busy" },
    commonLabels: { alertname: "cpu_busy", severity: "critical", host: "web1", team: "ops" },
    host: "web1",
    firing: 1,
    resolved: 0,
    alerts: [{
      status: "firing",
      kind: "firing",
      rule: "cpu_busy",
      key: "cpu_busy",
      severity: "critical",
      labels: { alertname: "cpu_busy", severity: "critical", host: "web1", team: "ops" },
      summary: "CPU busy 93.4% on web1",
      description: "CPU usage has been above 90.0% for 5m.",
      value: 93.4,
      valueText: "93.4%",
      threshold: 90,
      thresholdText: "90.0%",
      unit: "percent",
      host: "web1",
      startsAt: T0,
      at: T0,
    }],
  });
});

Deno.test("webhook payload: a group lists firing alerts (critical first), then resolved; common labels", () => {
  const varWarn = firingCritical({
    rule: "fs_space",
    key: "fs_space//var",
    entity: "/var",
    severity: "warning",
    labels: { alertname: "fs_space", severity: "warning", host: "web1", mountpoint: "/var" },
  });
  const rootCrit = firingCritical({
    rule: "fs_space",
    key: "fs_space//",
    entity: "/",
    labels: { alertname: "fs_space", severity: "critical", host: "web1", mountpoint: "/" },
  });
  const p = webhookPayload(groupOf([varWarn, resolvedFs(), rootCrit], { reason: "update" }));
  const alerts = p.alerts as Record<string, unknown>[];
  assertEquals(alerts.map((a) => [a.key, a.status]), [
    ["fs_space//", "firing"],
    ["fs_space//var", "firing"],
    ["fs_space//var", "resolved"],
  ]);
  assertEquals([p.status, p.reason, p.firing, p.resolved], ["firing", "update", 2, 1]);
  assertEquals(p.commonLabels, { alertname: "fs_space", host: "web1" });
  // Only resolved alerts left: the group's status is resolved.
  assertEquals(webhookPayload(groupOf([resolvedFs()])).status, "resolved");
});

Deno.test("webhook payload: an escalation keeps status firing and names the previous severity", () => {
  const p = webhookAlert(escalation());
  assertEquals(
    [p.kind, p.status, p.severity, p.previous, p.startsAt, p.at, "endsAt" in p],
    ["escalated", "firing", "critical", "warning", T0, T5, false],
  );
});

Deno.test("webhook payload: a resolved per-entity alert", () => {
  const p = webhookAlert(resolvedFs());
  assertEquals(
    [p.kind, p.status, p.severity, p.entity, p.key, p.endsAt, p.at],
    ["resolved", "resolved", "warning", "/var", "fs_space//var", T9, T9],
  );
  assertEquals((p.labels as Record<string, string>).mountpoint, "/var");
});

Deno.test("webhook payload: a missing value is null, never NaN (JSON has no NaN)", () => {
  const p = webhookAlert(firingCritical({ value: null, valueText: "n/a" }));
  assertEquals([p.value, p.valueText], [null, "n/a"]);
  assertEquals(
    JSON.parse(JSON.stringify(webhookAlert(firingCritical({ value: NaN })))).value,
    null,
  );
});

Deno.test("webhook: sendWebhook POSTs the payload as JSON", async () => {
  await withServer(answer(204), async (base, seen) => {
    const result = await sendWebhook(`${base}/hook?token=abc`, groupOf([firingCritical()]), {
      timeoutMs: 5000,
      headers: { authorization: "Bearer t0ken" },
    });
    assertEquals(result, { ok: true, status: 204, retryable: false });
    assertEquals(seen.length, 1);
    assertEquals([seen[0].method, seen[0].path], ["POST", "/hook?token=abc"]);
    assertEquals(seen[0].headers.get("content-type"), "application/json");
    assertEquals(seen[0].headers.get("authorization"), "Bearer t0ken");
    assertMatch(seen[0].headers.get("user-agent") ?? "", /^sysmon\/\d+\.\d+\.\d+/);
    assertEquals(JSON.parse(seen[0].body), webhookPayload(groupOf([firingCritical()])));
  });
});

// ---------------------------------------------------------------------------------------------
// Slack

/** Every string inside a value, for "is this fact shown somewhere" checks. */
function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === "object") return Object.values(v).flatMap(strings);
  return [];
}

Deno.test("slack payload: a firing critical alert reads at a glance", () => {
  const msg = slackAlertPayload(firingCritical());
  assertEquals(headline(firingCritical()), "[FIRING: critical] cpu_busy on web1");
  // The plain fallback has every fact.
  for (const fact of ["[FIRING: critical] cpu_busy on web1", "web1", "93.4%", "90.0%", T0]) {
    assertStringIncludes(msg.text, fact);
  }
  // The blocks: emoji + bold header line + summary, then fields beside a red bar.
  const top = msg.blocks[0] as { type: string; text: { type: string; text: string } };
  assertEquals([top.type, top.text.type], ["section", "mrkdwn"]);
  assertEquals(
    top.text.text,
    ":red_circle: *[FIRING: critical] cpu_busy on web1*\nCPU busy 93.4% on web1",
  );
  const att = msg.attachments![0] as { color: string; blocks: Record<string, unknown>[] };
  assertEquals(att.color, "#d32f2f");
  const fields = (att.blocks[0].fields as { type: string; text: string }[]).map((f) => f.text);
  assertEquals(fields.slice(0, 3), [
    "*Host*\nweb1",
    "*Value*\n93.4%",
    "*Threshold (critical)*\n90.0%",
  ]);
  assertEquals(fields[3], `*Since*\n<!date^${Date.parse(T0) / 1000}^{date_num} {time_secs}|${T0}>`);
  const all = strings(msg).join("\n");
  assertStringIncludes(all, "CPU usage has been above 90.0% for 5m."); // the description
  assertStringIncludes(all, "`team=ops`"); // the rule's own labels
});

Deno.test("slack payload: warning is orange, resolved is green, escalation names both", () => {
  const warning = slackAlertPayload(firingCritical({ severity: "warning" }));
  assertEquals((warning.attachments![0] as { color: string }).color, "#f57c00");
  assertStringIncludes(strings(warning.blocks).join(), ":large_orange_circle:");
  assertStringIncludes(warning.text, "[FIRING: warning]");

  const resolved = slackAlertPayload(resolvedFs());
  assertEquals((resolved.attachments![0] as { color: string }).color, "#2e7d32");
  assertStringIncludes(strings(resolved.blocks).join(), ":large_green_circle:");
  assertStringIncludes(resolved.text, "[RESOLVED: warning] fs_space /var on web1");
  assertStringIncludes(resolved.text, `ended ${T9}`);
  assertStringIncludes(strings(resolved).join("\n"), "*Ended*");

  const up = slackAlertPayload(escalation());
  assertStringIncludes(up.text, "[ESCALATED: warning → critical] cpu_busy on web1");
  assertEquals((up.attachments![0] as { color: string }).color, "#d32f2f");
});

Deno.test("slack payload: <, > and & in texts cannot become Slack markup", () => {
  const msg = slackAlertPayload(firingCritical({
    summary: "<!channel> & <https://evil.example|click>",
    labels: { alertname: "x", team: "<b>" },
  }));
  const all = strings(msg).join("\n");
  assert(!all.includes("<!channel>"), "an alert text must not ping the channel");
  assertStringIncludes(all, "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
  assertStringIncludes(all, "`team=&lt;b&gt;`");
});

Deno.test("slack payload: oversized texts are clipped below Slack's limits", () => {
  const msg = slackAlertPayload(
    firingCritical({ summary: "s".repeat(5000), description: "d".repeat(5000) }),
  );
  for (const s of strings(msg)) assert(s.length <= 3000, `a text of ${s.length} characters`);
});

Deno.test("slack payload: a lone alert's group reads as that alert; several are listed", () => {
  assertEquals(slackPayload(groupOf([firingCritical()])), slackAlertPayload(firingCritical()));
  const a = firingCritical({ key: "cpu_busy/a", entity: "a", severity: "warning" });
  const b = firingCritical({ key: "cpu_busy/b", entity: "b" });
  const gone = firingCritical({ key: "cpu_busy/c", entity: "c", kind: "resolved", endsAt: T9 });
  const msg = slackPayload(groupOf([a, b, gone]));
  const top = (msg.blocks[0] as { text: { text: string } }).text.text;
  assertEquals(top.split("\n")[0], ":red_circle: *[FIRING:2, RESOLVED:1] cpu_busy on web1*");
  const list = strings(msg.attachments).join("\n");
  // Critical first, then warning, then resolved, one line each.
  const order = ["critical cpu_busy b: 93.4%", "warning cpu_busy a: 93.4%", "resolved cpu_busy c"]
    .map((s) => list.indexOf(s));
  assert(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `order ${order}`);
  assertEquals((msg.attachments![0] as { color: string }).color, "#d32f2f");
  assertStringIncludes(msg.text, "[FIRING:2, RESOLVED:1] cpu_busy on web1");
});

Deno.test("slack payload: a long group is cut with a count of what is left out", () => {
  const many = Array.from(
    { length: 30 },
    (_, i) => firingCritical({ key: `k${i}`, entity: `e${i}` }),
  );
  const list = strings(slackPayload(groupOf(many)).attachments).join("\n");
  assertStringIncludes(list, "… and 10 more");
  assertEquals(list.split("\n").filter((l) => l.includes(":red_circle:")).length, 20);
});

Deno.test("slack: sendSlack POSTs the message; Slack's error text is reported", async () => {
  await withServer(answer(200, "ok"), async (base, seen) => {
    const result = await sendSlack(`${base}/services/T000/B000/XXXX`, groupOf([firingCritical()]), {
      timeoutMs: 5000,
    });
    assertEquals(result.ok, true);
    assertEquals(JSON.parse(seen[0].body), slackPayload(groupOf([firingCritical()])));
  });
  await withServer(answer(400, "invalid_payload"), async (base) => {
    const result = await sendSlack(`${base}/services/T000/B000/XXXX`, groupOf([firingCritical()]), {
      timeoutMs: 5000,
    });
    assertEquals([result.ok, result.status, result.retryable], [false, 400, false]);
    assertEquals(result.error, `${base}: HTTP 400: invalid_payload`);
  });
});

// ---------------------------------------------------------------------------------------------
// Alertmanager API v2

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * What Alertmanager's POST /api/v2/alerts accepts (postableAlerts in its OpenAPI spec, plus
 * types.Alert.Validate and the legacy label-name rule). Returns the problems, none when valid.
 */
function alertmanagerProblems(body: unknown): string[] {
  if (!Array.isArray(body)) return ["the body must be an array of alerts"];
  const problems: string[] = [];
  body.forEach((a: Record<string, unknown>, i) => {
    const p = (msg: string) => problems.push(`alert ${i}: ${msg}`);
    const known = ["labels", "annotations", "startsAt", "endsAt", "generatorURL"];
    for (const key of Object.keys(a)) if (!known.includes(key)) p(`unknown field ${key}`);
    const labels = a.labels as Record<string, unknown> | undefined;
    if (!labels || typeof labels !== "object" || Object.keys(labels).length === 0) {
      p("at least one label pair required");
    } else {
      if (typeof labels.alertname !== "string" || labels.alertname === "") p("no alertname");
      for (const [name, value] of Object.entries(labels)) {
        if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) p(`invalid label name ${name}`);
        if (typeof value !== "string" || value === "") p(`label ${name}: not a non-empty string`);
      }
    }
    for (const v of Object.values((a.annotations ?? {}) as Record<string, unknown>)) {
      if (typeof v !== "string") p("annotation values must be strings");
    }
    if (typeof a.startsAt !== "string" || !RFC3339.test(a.startsAt)) p("startsAt not RFC 3339");
    if (a.endsAt !== undefined) {
      if (typeof a.endsAt !== "string" || !RFC3339.test(a.endsAt)) p("endsAt not RFC 3339");
      else if (Date.parse(a.endsAt) < Date.parse(a.startsAt as string)) {
        p("start time must be before end time");
      }
    }
    if (a.generatorURL !== undefined && !URL.canParse(a.generatorURL as string)) {
      p("generatorURL is not a URI");
    }
  });
  return problems;
}

/** A stand-in for Alertmanager: validates like it and answers as it does (200, or 400 + reason). */
function fakeAlertmanager(req: Request, seen: Seen): Response {
  if (new URL(req.url).pathname.replace(/^\/prefix/, "") !== "/api/v2/alerts") {
    return new Response("404 page not found", { status: 404 });
  }
  if (req.method !== "POST" || !seen.headers.get("content-type")?.startsWith("application/json")) {
    return new Response("bad request", { status: 400 });
  }
  const problems = alertmanagerProblems(JSON.parse(seen.body));
  return problems.length > 0
    ? Response.json({ code: 400, message: problems.join("; ") }, { status: 400 })
    : new Response(null, { status: 200 });
}

Deno.test("alertmanager: the validator used below catches what Alertmanager rejects", () => {
  // So that the tests below can fail: each broken alert is reported.
  const good = { labels: { alertname: "a" }, annotations: {}, startsAt: T0 };
  assertEquals(alertmanagerProblems([good]), []);
  assertEquals(alertmanagerProblems([{ ...good, labels: {} }]).length, 1);
  assertEquals(alertmanagerProblems([{ ...good, labels: { severity: "x" } }]).length, 1);
  assertEquals(
    alertmanagerProblems([{ ...good, labels: { alertname: "a", "b-c": "d" } }]).length,
    1,
  );
  assertEquals(alertmanagerProblems([{ ...good, startsAt: "1 March" }]).length, 1);
  assertEquals(alertmanagerProblems([{ ...good, startsAt: T5, endsAt: T0 }]).length, 1);
  assertEquals(alertmanagerProblems({}), ["the body must be an array of alerts"]);
});

Deno.test("alertmanager: a firing alert expires after 4 resend intervals unless resent", () => {
  const now = Date.parse(T0) + 30_000;
  const alerts = alertmanagerTransition(firingCritical(), now, 60_000, "http://web1:9100/alerts");
  assertEquals(alerts, [{
    labels: { alertname: "cpu_busy", host: "web1", severity: "critical", team: "ops" },
    annotations: {
      summary: "CPU busy 93.4% on web1",
      description: "CPU usage has been above 90.0% for 5m.",
      value: "93.4%",
      threshold: "90.0%",
    },
    startsAt: T0,
    endsAt: new Date(now + 240_000).toISOString(),
    generatorURL: "http://web1:9100/alerts",
  }]);
  assertEquals(alertmanagerProblems(alerts), []);
  assertEquals(endsAtFor(firingCritical(), now, 60_000), "2025-03-01T10:04:30.000Z");
  assertEquals(endsAtFor(resolvedFs(), now, 60_000), T9);
});

Deno.test("alertmanager: an escalation resolves the old severity's alert and fires the new", () => {
  const now = Date.parse(T5) + 1000; // sent a second after the change
  const [old, current, ...rest] = alertmanagerTransition(escalation(), now, 60_000);
  assertEquals(rest, []);
  // The same alert but for severity: Alertmanager sees two distinct alerts.
  assertEquals(old.labels, { ...current.labels, severity: "warning" });
  assertEquals(current.labels.severity, "critical");
  assertEquals([old.startsAt, old.endsAt], [T0, T5]); // ended at the change
  assertEquals([current.startsAt, current.endsAt], [T0, new Date(now + 240_000).toISOString()]);
  assertEquals(alertmanagerProblems([old, current]), []);

  const down = firingCritical({ kind: "deescalated", severity: "warning", previous: "critical" });
  const [wasCritical, nowWarning] = alertmanagerTransition(
    { ...down, labels: { ...down.labels, severity: "warning" }, at: T9 },
    Date.parse(T9),
    60_000,
  );
  assertEquals([wasCritical.labels.severity, wasCritical.endsAt], ["critical", T9]);
  assertEquals(nowWarning.labels.severity, "warning");
  assert(Date.parse(nowWarning.endsAt!) > Date.parse(T9));
});

Deno.test("alertmanager: a resolved alert carries endsAt after startsAt", () => {
  const alerts = alertmanagerTransition(resolvedFs(), Date.parse(T9) + 5000, 60_000);
  assertEquals(alerts.length, 1);
  assertEquals([alerts[0].startsAt, alerts[0].endsAt], [T0, T9]);
  assertEquals(alerts[0].labels, {
    alertname: "fs_space",
    fstype: "ext4",
    host: "web1",
    mountpoint: "/var",
    severity: "warning",
  });
  assertEquals(alertmanagerProblems(alerts), []);
});

Deno.test("alertmanager: a batch expands severity changes; without timing firing has no endsAt", () => {
  const alerts = alertmanagerAlerts([firingCritical(), escalation(), resolvedFs()]);
  assertEquals(alerts.map((a) => [a.labels.alertname, a.labels.severity, a.endsAt]), [
    ["cpu_busy", "critical", undefined],
    ["cpu_busy", "warning", T5],
    ["cpu_busy", "critical", undefined],
    ["fs_space", "warning", T9],
  ]);
  assertEquals(alertmanagerProblems(alerts), []);
  const timed = alertmanagerAlerts([firingCritical()], undefined, {
    now: Date.parse(T0),
    resendMs: 1000,
  });
  assertEquals(timed[0].endsAt, "2025-03-01T10:00:04.000Z");
});

Deno.test("alertmanager: a severity pinned by a rule label is one alert through escalation", () => {
  const pinned = escalation();
  pinned.labels = { ...pinned.labels, severity: "page" };
  const alerts = alertmanagerTransition(pinned, Date.parse(T5), 60_000);
  assertEquals(alerts.map((a) => a.labels.severity), ["page"]);
  assertEquals(
    alerts[0].endsAt !== undefined && Date.parse(alerts[0].endsAt) > Date.parse(T5),
    true,
  );
});

Deno.test("alertmanager: label names Alertmanager would refuse are made valid; empty values go", () => {
  assertEquals(
    alertLabels({ alertname: "a", "team-name": "ops", "1st": "x", empty: "", "mount.point": "/" }),
    { _1st: "x", alertname: "a", mount_point: "/", team_name: "ops" },
  );
  const bad = firingCritical({
    labels: { alertname: "cpu_busy", "k8s.io/zone": "eu", severity: "" },
  });
  assertEquals(alertmanagerProblems(alertmanagerAlerts([bad], "not a url")), []);
});

Deno.test("alertmanager: postAlerts sends what a (fake) Alertmanager accepts", async () => {
  await withServer(fakeAlertmanager, async (base, seen) => {
    const alerts = alertmanagerAlerts([firingCritical(), escalation(), resolvedFs()], undefined, {
      now: Date.parse(T9),
      resendMs: 60_000,
    });
    assertEquals(await postAlerts(base, alerts, { timeoutMs: 5000 }), {
      ok: true,
      status: 200,
      retryable: false,
    });
    // A path prefix and a trailing slash are kept and tolerated.
    assertEquals((await postAlerts(`${base}/prefix/`, alerts, { timeoutMs: 5000 })).ok, true);
    assertEquals(seen.map((s) => s.path), ["/api/v2/alerts", "/prefix/api/v2/alerts"]);
    assertEquals(JSON.parse(seen[0].body), alerts);
    // Nothing to send: no request at all.
    assertEquals((await postAlerts(base, [], { timeoutMs: 5000 })).ok, true);
    assertEquals(seen.length, 2);
    // What Alertmanager refuses is an error that will not go away by retrying.
    const refused = await postAlerts(base, [{ labels: {}, startsAt: "yesterday" }], {
      timeoutMs: 5000,
    });
    assertEquals([refused.ok, refused.status, refused.retryable], [false, 400, false]);
    assertStringIncludes(refused.error ?? "", "at least one label pair required");
  });
  assertEquals(alertsUrl("http://am:9093/api/v2/alerts/"), "http://am:9093/api/v2/alerts");
});

// ---------------------------------------------------------------------------------------------
// postJson outcomes

Deno.test("postJson: 2xx is ok", async () => {
  await withServer(answer(200, "fine"), async (base, seen) => {
    assertEquals(await postJson(`${base}/x`, { a: 1 }, { timeoutMs: 5000 }), {
      ok: true,
      status: 200,
      retryable: false,
    });
    assertEquals(seen[0].body, '{"a":1}');
  });
});

Deno.test("postJson: 500 and 503 are retryable", async () => {
  await withServer(answer(500, "boom"), async (base) => {
    const r = await postJson(`${base}/x`, {}, { timeoutMs: 5000 });
    assertEquals(r, { ok: false, status: 500, retryable: true, error: `${base}: HTTP 500: boom` });
  });
  await withServer(answer(503, "", { "retry-after": "7" }), async (base) => {
    const r = await postJson(`${base}/x`, {}, { timeoutMs: 5000 });
    assertEquals([r.ok, r.status, r.retryable, r.retryAfterMs], [false, 503, true, 7000]);
  });
});

Deno.test("postJson: 400 is not retryable (the same payload will not fare better)", async () => {
  await withServer(answer(400, "  no_text \n"), async (base) => {
    const r = await postJson(`${base}/x`, {}, { timeoutMs: 5000 });
    assertEquals(r, {
      ok: false,
      status: 400,
      retryable: false,
      error: `${base}: HTTP 400: no_text`,
    });
  });
  await withServer(answer(404, "x".repeat(10_000)), async (base) => {
    const r = await postJson(`${base}/x`, {}, { timeoutMs: 5000 });
    assertEquals([r.retryable, r.error!.length < 300], [false, true]);
  });
});

Deno.test("postJson: 429 is retryable and passes Retry-After on", async () => {
  await withServer(answer(429, "rate_limited", { "retry-after": "30" }), async (base) => {
    const r = await postJson(`${base}/x`, {}, { timeoutMs: 5000 });
    assertEquals(r, {
      ok: false,
      status: 429,
      retryable: true,
      error: `${base}: HTTP 429: rate_limited`,
      retryAfterMs: 30_000,
    });
  });
});

Deno.test("postJson: a redirect is not followed and not retryable", async () => {
  await withServer(
    answer(301, "", { location: "https://elsewhere.example/new/SECRET" }),
    async (base, seen) => {
      const r = await postJson(`${base}/x`, {}, { timeoutMs: 5000 });
      assertEquals([r.ok, r.status, r.retryable], [false, 301, false]);
      assertEquals(
        r.error,
        `${base}: HTTP 301 (redirected to https://elsewhere.example: update the URL)`,
      );
      assertEquals(seen.length, 1);
    },
  );
});

Deno.test("postJson: a closed port is retryable and the error shows no path or query", async () => {
  const port = freePort();
  const r = await postJson(`http://127.0.0.1:${port}/secret/path?token=hunter2`, {}, {
    timeoutMs: 5000,
  });
  assertEquals([r.ok, r.status, r.retryable], [false, undefined, true]);
  assertMatch(r.error!, new RegExp(`^http://127\\.0\\.0\\.1:${port}: .*refused`, "i"));
  for (const secret of ["/secret", "path", "token", "hunter2"]) {
    assert(!r.error!.includes(secret), `${JSON.stringify(secret)} in: ${r.error}`);
  }
});

Deno.test("postJson: a server that never answers times out, retryable", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await withServer(async () => {
    // Hold the request until the client has given up, then answer too late.
    await released;
    return new Response("late");
  }, async (base) => {
    const started = performance.now();
    try {
      const r = await postJson(`${base}/slow?key=abc`, {}, { timeoutMs: 300 });
      const took = performance.now() - started;
      assertEquals(r, { ok: false, retryable: true, error: `${base}: no answer within 300ms` });
      assert(took >= 250 && took < 5000, `took ${took}ms`);
    } finally {
      release();
    }
  });
});

Deno.test("postJson: bad URLs and payloads are clear, not retryable, and never throw", async () => {
  const cases: [string, unknown, RegExp][] = [
    ["not a url", {}, /^<invalid URL>: not a valid URL$/],
    ["ftp://files.example/drop", {}, /^ftp:\/\/files\.example: only http and https/],
    ["http://127.0.0.1:1/x", { n: 1n }, /^cannot encode the payload: /],
    // fetch refuses the Fetch standard's "bad ports" outright: retrying cannot help.
    ["http://127.0.0.1:6000/x", {}, /^http:\/\/127\.0\.0\.1:6000: .*port 6000 .*blocked/i],
  ];
  for (const [url, body, expected] of cases) {
    const r = await postJson(url, body, { timeoutMs: 1000 });
    assertEquals([r.ok, r.retryable], [false, false], url);
    assertMatch(r.error!, expected);
  }
});

// ---------------------------------------------------------------------------------------------
// Secrets in URLs

const SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
const SECRET_PARTS = ["XXXXSECRET", "T000/B000", "/services/"];

function assertNoSecret(text: string) {
  for (const part of SECRET_PARTS) {
    assert(!text.includes(part), `${JSON.stringify(part)} leaked in: ${text}`);
  }
}

/** Runs a send; it must resolve (a throw would carry whatever its message says) without secrets. */
async function outcome(send: () => Promise<PostResult>): Promise<PostResult> {
  let result: PostResult;
  try {
    result = await send();
  } catch (err) {
    throw new Error(
      `a send threw instead of resolving: ${String(err).replaceAll("XXXXSECRET", "***")}`,
    );
  }
  assert(!result.ok, "this send was meant to fail");
  assert(result.error, "a failed send explains itself");
  assertNoSecret(result.error);
  assertNoSecret(JSON.stringify(result));
  return result;
}

Deno.test("secrets: redactUrl keeps only scheme://host[:port]", () => {
  assertEquals(redactUrl(SLACK_URL), "https://hooks.slack.com");
  assertEquals(redactUrl("http://user:pw@am.internal:9093/x?y=z#f"), "http://am.internal:9093");
  assertEquals(redactUrl("hooks.slack.com/services/T000/B000/XXXXSECRET"), "<invalid URL>");
});

Deno.test("secrets: no error shows a Slack URL's path, whatever goes wrong", async () => {
  const path = new URL(SLACK_URL).pathname;
  const opts = { timeoutMs: 3000 };
  // Connection refused: Deno's own error text carries the full URL.
  const closed = `http://127.0.0.1:${freePort()}${path}?token=XXXXSECRET`;
  await outcome(() => sendSlack(closed, groupOf([firingCritical()]), opts));
  // Not a URL at all (a scheme left out when pasting), or a scheme we do not speak.
  await outcome(() =>
    sendSlack(SLACK_URL.replace("https://", ""), groupOf([firingCritical()]), opts)
  );
  await outcome(() =>
    sendSlack(SLACK_URL.replace("https:", "ftp:"), groupOf([firingCritical()]), opts)
  );
  // Credentials in the URL.
  await outcome(() => postJson(`http://u:XXXXSECRET@127.0.0.1:${freePort()}/`, {}, opts));

  // Servers that echo the request's URL or path into their error body.
  await withServer((req) => new Response(`bad ${req.url}`, { status: 500 }), async (base) => {
    const r = await outcome(() => sendSlack(base + path, groupOf([firingCritical()]), opts));
    assertEquals([r.status, r.retryable], [500, true]);
  });
  await withServer(
    (req) => new Response(`no_service: ${new URL(req.url).pathname}`, { status: 404 }),
    async (base) => {
      const r = await outcome(() => sendWebhook(base + path, groupOf([firingCritical()]), opts));
      assertStringIncludes(r.error!, "no_service");
    },
  );
  // A redirect to the real Slack URL names its host only.
  await withServer(answer(302, "", { location: SLACK_URL }), async (base) => {
    const r = await outcome(() => sendSlack(`${base}/hook`, groupOf([firingCritical()]), opts));
    assertStringIncludes(r.error!, "redirected to https://hooks.slack.com:");
  });
  // Alertmanager behind a secret path prefix.
  await outcome(() => postAlerts(closed, [{ labels: { alertname: "a" } }], opts));
});

Deno.test("secrets: the leak check itself fails on a leaked path", () => {
  let caught = false;
  try {
    assertNoSecret(`error sending request for url (${SLACK_URL})`);
  } catch {
    caught = true;
  }
  assert(caught, "assertNoSecret must reject a message with the URL's path");
});
