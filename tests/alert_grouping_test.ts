/**
 * Notification grouping on an injected clock: group_wait batches, group_interval limits updates,
 * repeat_interval resends, resolution ends a group, group_by separates groups, and the state
 * survives a JSON round trip without losing or repeating a message.
 */
import { Grouper, type GroupingOptions, type GroupMessage } from "../src/alert/grouping.ts";
import type { AlertNotification, Severity } from "../src/alert/types.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";

const T0 = Date.parse("2026-11-27T00:00:00Z");
const S = 1000;
const M = 60 * S;
const H = 60 * M;

const OPTS: GroupingOptions = {
  groupBy: ["alertname", "host"],
  groupWaitMs: 30 * S,
  groupIntervalMs: 5 * M,
  repeatIntervalMs: 4 * H,
};

function note(
  key: string,
  kind: AlertNotification["kind"] = "firing",
  patch: { severity?: Severity; host?: string; rule?: string; at?: number } = {},
): AlertNotification {
  const severity = patch.severity ?? "warning";
  const rule = patch.rule ?? "disk_full";
  const host = patch.host ?? "h1";
  const at = new Date(patch.at ?? T0).toISOString();
  return {
    kind,
    rule,
    key,
    severity,
    labels: { alertname: rule, severity, host, mountpoint: key },
    summary: `${key} ${kind}`,
    description: "",
    value: 95,
    valueText: "95.0%",
    threshold: 90,
    thresholdText: "90.0%",
    unit: "percent",
    host,
    startsAt: new Date(T0).toISOString(),
    at,
    ...(kind === "resolved" ? { endsAt: at } : {}),
  };
}

/** What a message says, compactly: reason, firing keys (with severity), resolved keys. */
function summary(m: GroupMessage): string {
  const firing = m.firing.map((n) => `${n.key}:${n.severity}`).join(",");
  const resolved = m.resolved.map((n) => n.key).join(",");
  return `${m.reason} [${firing}] -[${resolved}]`;
}

/** Steps the clock from `from` to `to` (inclusive) and returns "offset: message" for each one sent. */
function run(g: Grouper, from: number, to: number, stepMs = S): string[] {
  const out: string[] = [];
  for (let t = from; t <= to; t += stepMs) {
    for (const m of g.due(t)) out.push(`${(t - T0) / S}s ${summary(m)}`);
  }
  return out;
}

Deno.test("group_wait batches alerts arriving meanwhile into one message", () => {
  const g = new Grouper(OPTS);
  g.add(note("/"), T0);
  assertEquals(g.nextDue(), T0 + 30 * S);
  g.add(note("/var"), T0 + 10 * S);
  g.add(note("/home"), T0 + 29 * S);
  assertEquals(g.due(T0 + 29 * S), [], "nothing before group_wait is over");
  const [m, ...rest] = g.due(T0 + 30 * S);
  assertEquals(rest, []);
  assertEquals(summary(m), "initial [/:warning,/home:warning,/var:warning] -[]");
  assertEquals(m.groupKey, '{alertname="disk_full",host="h1"}');
  assertEquals(m.groupLabels, { alertname: "disk_full", host: "h1" });
  assertEquals(g.due(T0 + 31 * S), [], "sent once");
  assertEquals(g.nextDue(), T0 + 30 * S + 4 * H, "next: the repeat");
});

Deno.test("group_interval: a stream of changes gives at most one update per interval", () => {
  const g = new Grouper(OPTS);
  g.add(note("/"), T0);
  assertEquals(g.due(T0 + 30 * S).length, 1);
  // A new alert every 40 s for 12 minutes: updates at +5 min and +10 min after the first message.
  const sent: [number, string, number][] = [];
  let i = 0;
  for (let t = T0 + 31 * S; t <= T0 + 12 * M; t += S) {
    if ((t - T0) % (40 * S) === 0) g.add(note(`/m${String(++i).padStart(2, "0")}`), t);
    for (const m of g.due(t)) sent.push([(t - T0) / S, m.reason, m.firing.length]);
  }
  // Each update carries the whole firing set: the first alert and those added up to then.
  assertEquals(sent, [[330, "update", 9], [630, "update", 16]]);
  assertEquals(g.nextDue(), T0 + 930 * S, "the alerts added since wait for the next interval");
});

Deno.test("group_interval: changes arriving over time are batched, never faster than the interval", () => {
  const g = new Grouper(OPTS);
  const sent: number[] = [];
  let i = 0;
  for (let t = T0; t <= T0 + 21 * M; t += 10 * S) {
    g.add(note(`/m${String(i++).padStart(3, "0")}`), t);
    sent.push(...g.due(t).map(() => t));
  }
  assertEquals(sent.map((t) => (t - T0) / S), [30, 330, 630, 930, 1230]);
});

Deno.test("a severity change is an update; escalating and falling back before it is none", () => {
  const g = new Grouper(OPTS);
  g.add(note("/"), T0);
  g.due(T0 + 30 * S);
  g.add(note("/", "escalated", { severity: "critical" }), T0 + M);
  g.add(note("/", "deescalated", { severity: "warning" }), T0 + 2 * M);
  assertEquals(g.nextDue(), T0 + 30 * S + 4 * H, "back where the last message left it");
  g.add(note("/", "escalated", { severity: "critical" }), T0 + 3 * M);
  assertEquals(g.due(T0 + 5 * M + 29 * S), []);
  assertEquals(g.due(T0 + 5 * M + 30 * S).map(summary), ["update [/:critical] -[]"]);
});

Deno.test("repeat_interval resends an unchanged group", () => {
  const g = new Grouper({ ...OPTS, repeatIntervalMs: H });
  g.add(note("/"), T0);
  const sent = run(g, T0, T0 + 3 * H + M, 10 * S);
  assertEquals(sent, [
    "30s initial [/:warning] -[]",
    "3630s repeat [/:warning] -[]",
    "7230s repeat [/:warning] -[]",
    "10830s repeat [/:warning] -[]",
  ]);
});

Deno.test("resolution: a partly resolved group updates, a fully resolved one says so once and ends", () => {
  const g = new Grouper(OPTS);
  g.add(note("/"), T0);
  g.add(note("/var"), T0);
  g.due(T0 + 30 * S);
  g.add(note("/var", "resolved"), T0 + M);
  assertEquals(run(g, T0 + M, T0 + 6 * M), ["330s update [/:warning] -[/var]"]);
  g.add(note("/", "resolved"), T0 + 6 * M);
  assertEquals(g.nextDue(), T0 + 10 * M + 30 * S);
  assertEquals(run(g, T0 + 6 * M, T0 + 11 * M), ["630s update [] -[/]"]);
  assertEquals(g.nextDue(), undefined, "the group is gone");
  assertEquals(g.exportState(), { groups: {} });
  // The next alert starts a new group with its own group_wait.
  g.add(note("/"), T0 + 20 * M);
  assertEquals(run(g, T0 + 20 * M, T0 + 21 * M), ["1230s initial [/:warning] -[]"]);
});

Deno.test("fired and resolved within group_wait: nothing is sent (Alertmanager drops it too)", () => {
  const g = new Grouper(OPTS);
  g.add(note("/"), T0);
  g.add(note("/", "resolved"), T0 + 10 * S);
  assertEquals(g.nextDue(), undefined);
  assertEquals(run(g, T0, T0 + 5 * H, 10 * S), []);
  // In a group that is already announced, a newcomer resolving before the next message is no news.
  g.add(note("/"), T0 + 5 * H);
  g.due(T0 + 5 * H + 30 * S);
  g.add(note("/tmp"), T0 + 5 * H + M);
  g.add(note("/tmp", "resolved"), T0 + 5 * H + 2 * M);
  assertEquals(g.nextDue(), T0 + 9 * H + 30 * S, "only the repeat is left");
  // And within group_wait, the other alerts still go out without the dropped one.
  const h = new Grouper(OPTS);
  h.add(note("/a"), T0);
  h.add(note("/b"), T0);
  h.add(note("/b", "resolved"), T0 + 5 * S);
  assertEquals(h.due(T0 + 30 * S).map(summary), ["initial [/a:warning] -[]"]);
});

Deno.test("group_by separates groups, each on its own clock", () => {
  const g = new Grouper(OPTS);
  g.add(note("/", "firing", { host: "h1" }), T0);
  g.add(note("/srv", "firing", { host: "h2" }), T0 + 10 * S);
  g.add(note("cpu", "firing", { host: "h1", rule: "cpu_busy" }), T0 + 20 * S);
  g.add(note("/var", "firing", { host: "h1" }), T0 + 25 * S);
  const sent = [];
  for (let t = T0; t <= T0 + M; t += S) {
    for (const m of g.due(t)) sent.push(`${(t - T0) / S}s ${m.groupKey} ${summary(m)}`);
  }
  assertEquals(sent, [
    '30s {alertname="disk_full",host="h1"} initial [/:warning,/var:warning] -[]',
    '40s {alertname="disk_full",host="h2"} initial [/srv:warning] -[]',
    '50s {alertname="cpu_busy",host="h1"} initial [cpu:warning] -[]',
  ]);
});

Deno.test("group_by []: one group for all; a missing label groups as empty", () => {
  const all = new Grouper({ ...OPTS, groupBy: [] });
  all.add(note("/", "firing", { host: "h1" }), T0);
  all.add(note("cpu", "firing", { host: "h2", rule: "cpu_busy" }), T0);
  const [m, ...rest] = all.due(T0 + 30 * S);
  assertEquals(rest, []);
  assertEquals([m.groupKey, m.firing.length], ["{}", 2]);
  const byTeam = new Grouper({ ...OPTS, groupBy: ["team"] });
  byTeam.add(note("/"), T0);
  assertEquals(byTeam.due(T0 + 30 * S).map((m) => [m.groupKey, m.groupLabels]), [
    ['{team=""}', { team: "" }],
  ]);
});

Deno.test('group_by ["..."]: every series its own group; an escalation updates it', () => {
  const g = new Grouper({ ...OPTS, groupBy: ["..."] });
  g.add(note("/"), T0);
  g.add(note("/var"), T0);
  const first = g.due(T0 + 30 * S);
  assertEquals(first.map(summary), ["initial [/:warning] -[]", "initial [/var:warning] -[]"]);
  assertEquals(first[0].groupLabels, note("/").labels, "group labels: all the alert's labels");
  g.add(note("/", "escalated", { severity: "critical" }), T0 + M);
  const next = run(g, T0 + M, T0 + 10 * M);
  assertEquals(next, ["330s update [/:critical] -[]"]);
  assertThrows(() => new Grouper({ ...OPTS, groupBy: ["...", "host"] }), "cannot be combined");
});

Deno.test("grouping by severity: an escalated alert ends in its old group and fires in the new", () => {
  const g = new Grouper({ ...OPTS, groupBy: ["severity"] });
  g.add(note("/"), T0);
  g.add(note("/var"), T0);
  g.due(T0 + 30 * S);
  g.add(note("/", "escalated", { severity: "critical", at: T0 + M }), T0 + M);
  const sent = [];
  for (let t = T0 + M; t <= T0 + 10 * M; t += S) {
    for (const m of g.due(t)) sent.push(`${(t - T0) / S}s ${m.groupKey} ${summary(m)}`);
  }
  assertEquals(sent, [
    '90s {severity="critical"} initial [/:critical] -[]',
    '330s {severity="warning"} update [/var:warning] -[/]',
  ]);
});

Deno.test("state survives a JSON round trip mid-wait: same next message, no duplicates", () => {
  const reference = new Grouper(OPTS);
  const g = new Grouper(OPTS);
  for (const x of [reference, g]) {
    x.add(note("/"), T0);
    x.add(note("/var"), T0 + 10 * S);
  }
  const restored = new Grouper(OPTS, JSON.parse(JSON.stringify(g.exportState())));
  for (const x of [reference, restored]) x.add(note("/home"), T0 + 20 * S);
  assertEquals(restored.nextDue(), reference.nextDue());
  const expected = reference.due(T0 + 30 * S);
  const got = restored.due(T0 + 30 * S);
  assertEquals(got.length, 1);
  assertEquals(got, expected);
  assertEquals(summary(got[0]), "initial [/:warning,/home:warning,/var:warning] -[]");
  // Saved after sending, it does not send the initial message again; the repeat stays on time.
  const again = new Grouper(OPTS, JSON.parse(JSON.stringify(restored.exportState())));
  assertEquals(again.due(T0 + 31 * S), []);
  assertEquals(again.nextDue(), T0 + 30 * S + 4 * H);
  // Exported state is a copy: changing the grouper later does not change it.
  const snapshot = again.exportState();
  again.add(note("/tmp"), T0 + M);
  assert(!("/tmp" in Object.values(snapshot.groups)[0].alerts));
});

Deno.test("invalid options are refused with a clear message", () => {
  assertThrows(() => new Grouper({ ...OPTS, groupIntervalMs: 0 }), "group_interval");
  assertThrows(() => new Grouper({ ...OPTS, repeatIntervalMs: -1 }), "repeat_interval");
  assertThrows(() => new Grouper({ ...OPTS, groupWaitMs: NaN }), "group_wait");
  new Grouper({ ...OPTS, groupWaitMs: 0 });
});
