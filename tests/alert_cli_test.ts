/** `sysmon alert run|list` as a user runs them: notifications on stdout and in the log, state kept. */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";
import { freePort, withTempDir } from "./helpers.ts";
import { defaultConfig } from "../src/config/load.ts";

// The shipped rules are turned off: on a busy test machine cpu_busy could start pending.
const SHIPPED_OFF = Object.keys(defaultConfig().alert.rules)
  .map((name) => `    ${name}: {enabled: false}\n`).join("");

const CONFIG = `alert:
  rules:
${SHIPPED_OFF}    cpu_seen:
      metric: cpu_usage_percent
      warning: 0
      for: 1s
      summary: "cpu at {{value}} on {{host}}"
    cpu_typo:
      metric: cpu_usage_pct
      warning: 5
`;

Deno.test("alert run: a rule fires on stdout and in the log; a broken rule is named, the rest runs", async () => {
  await withTempDir("sysmon-alert-", async (dir) => {
    await Deno.writeTextFile(`${dir}/c.yaml`, CONFIG);
    const args = ["--config", `${dir}/c.yaml`, "--data", `${dir}/data`];
    const r = await sysmon(["alert", "run", ...args, "--interval", "500ms", "--duration", "3s"]);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /^\S+Z FIRING warning cpu_seen: cpu at \d+\.\d% on \S+\n$/);
    assertStringIncludes(
      r.stderr,
      'alert.rules.cpu_typo: metric "cpu_usage_pct" is not a model metric (did you mean "cpu_usage_percent"?)',
    );
    const log = (await Deno.readTextFile(`${dir}/data/alerts/alerts.jsonl`)).trim().split("\n");
    assertEquals(log.length, 1);
    const n = JSON.parse(log[0]);
    assertEquals([n.kind, n.rule, n.severity, n.labels.alertname], [
      "firing",
      "cpu_seen",
      "warning",
      "cpu_seen",
    ]);

    // The state survives: list shows it, and a second run does not notify again.
    const list = await sysmon(["alert", "list", ...args, "--json"]);
    assertEquals(list.code, 0, list.stderr);
    const active = JSON.parse(list.stdout);
    assertEquals(active.map((a: { key: string; phase: string }) => [a.key, a.phase]), [
      ["cpu_seen", "firing"],
    ]);
    const again = await sysmon([
      "alert",
      "run",
      ...args,
      "--interval",
      "500ms",
      "--duration",
      "2s",
    ]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals(again.stdout, "");
    assertStringIncludes(again.stderr, "1 pending or firing alert(s) restored");
  });
});

Deno.test("alert run: no usable rule is a usage error (exit 2) naming the broken ones", async () => {
  await withTempDir("sysmon-alert-", async (dir) => {
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      "alert:\n  rules:\n" + SHIPPED_OFF +
        "    only:\n      metric: memory_used\n      entity: '^sd'\n      warning: 1\n",
    );
    const r = await sysmon(["alert", "run", "--config", `${dir}/c.yaml`, "--data", dir]);
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, "alert.rules.only:");
    assertStringIncludes(r.stderr, "no usable alert rule (1 with errors, listed above)");
    assert(!r.stderr.includes("at file://"), "a stack trace");
  });
});

Deno.test("record --once --alert: each cron run evaluates its sample; the state carries across runs", async () => {
  await withTempDir("sysmon-alert-", async (dir) => {
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      "alert:\n  rules:\n" + SHIPPED_OFF +
        "    cpu_seen:\n      metric: cpu_usage_percent\n      warning: 0\n",
    );
    const args = ["record", "--once", "--alert", "--config", `${dir}/c.yaml`, "--data", dir];
    // The first run is a baseline without rates: cpu_usage_percent is null, nothing fires.
    const first = await sysmon(args);
    assertEquals(first.code, 0, first.stderr);
    assert(!first.stderr.includes("FIRING"), first.stderr);
    const second = await sysmon(args);
    assertEquals(second.code, 0, second.stderr);
    assertMatch(second.stderr, /WARN {2}alert: \S+ FIRING warning cpu_seen: /);
    const third = await sysmon(args);
    assertEquals(third.code, 0, third.stderr);
    assert(!third.stderr.includes("FIRING"), "notified twice:\n" + third.stderr);
    const log = (await Deno.readTextFile(`${dir}/alerts/alerts.jsonl`)).trim().split("\n");
    assertEquals(log.map((l) => JSON.parse(l).kind), ["firing"]);
  });
});

Deno.test("alert silence: a silenced alert is only logged (marked), not printed; rm ends it", async () => {
  await withTempDir("sysmon-alert-", async (dir) => {
    await Deno.writeTextFile(`${dir}/c.yaml`, CONFIG);
    const args = ["--config", `${dir}/c.yaml`, "--data", `${dir}/data`];
    const add = await sysmon([
      "alert",
      "silence",
      "add",
      "alertname=cpu_seen",
      "--for",
      "1h",
      "--comment",
      "maintenance",
      ...args,
    ]);
    assertEquals(add.code, 0, add.stderr);
    const id = add.stdout.trim();
    assertMatch(id, /^[0-9a-f]{16}$/);
    const r = await sysmon(["alert", "run", ...args, "--interval", "500ms", "--duration", "3s"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "");
    const log = (await Deno.readTextFile(`${dir}/data/alerts/alerts.jsonl`)).trim().split("\n");
    assertEquals(log.map((l) => [JSON.parse(l).kind, JSON.parse(l).silenced]), [["firing", id]]);
    const rm = await sysmon(["alert", "silence", "rm", id.slice(0, 8), ...args]);
    assertEquals(rm.code, 0, rm.stderr);
    const ls = await sysmon(["alert", "silence", "ls", "--json", ...args]);
    assertEquals(JSON.parse(ls.stdout), []);
  });
});

Deno.test("alert test: sends one test notification to each channel and says which worked", async () => {
  await withTempDir("sysmon-alert-", async (dir) => {
    const got: Record<string, unknown>[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      got.push(await req.json());
      return new Response("ok");
    });
    try {
      const port = server.addr.port;
      await Deno.writeTextFile(
        `${dir}/c.yaml`,
        `alert:\n  channels:\n    hook: { type: webhook, url: "http://127.0.0.1:${port}/h" }\n` +
          `    dead: { type: webhook, url: "http://127.0.0.1:${freePort()}/secret-part" }\n`,
      );
      const r = await sysmon(["alert", "test", "--config", `${dir}/c.yaml`]);
      assertEquals(r.code, 1, r.stderr);
      assertMatch(r.stdout, /^hook: ok\ndead: FAILED: http:\/\/127\.0\.0\.1:\d+: /);
      assert(!(r.stdout + r.stderr).includes("secret-part"), "the URL path was shown");
      const alerts = got.flatMap((b) => b.alerts as Record<string, unknown>[]);
      assertEquals(alerts.map((a) => [a.rule, a.kind, a.severity]), [[
        "sysmon_test",
        "firing",
        "warning",
      ]]);
      const one = await sysmon(["alert", "test", "--config", `${dir}/c.yaml`, "--channel", "hook"]);
      assertEquals([one.code, one.stdout], [0, "hook: ok\n"]);
      const bad = await sysmon(["alert", "test", "--config", `${dir}/c.yaml`, "--channel", "nope"]);
      assertEquals(bad.code, 2);
      assertStringIncludes(
        bad.stderr,
        'no channel "nope" in alert.channels; configured: hook, dead',
      );
    } finally {
      await server.shutdown();
    }
  });
});

Deno.test("config show and config check never print a channel's URL or password", async () => {
  await withTempDir("sysmon-alert-", async (dir) => {
    const secrets = ["hooks.slack.com/services/T0/B0/s3cr3tpath", "hunter2-mail-pass"];
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `alert:\n  channels:\n` +
        `    chat: { type: slack, url: "https://${secrets[0]}" }\n` +
        `    mail: { type: email, smtp_host: mail.example.test, password: "${secrets[1]}", ` +
        `from: a@example.test, to: [b@example.test], smtp_port: 99999 }\n`,
    );
    const show = await sysmon(["config", "show", "--config", `${dir}/c.yaml`]);
    // smtp_port is out of range: the error names the setting, and still shows no secret.
    assertEquals(show.code, 2, show.stderr);
    assertStringIncludes(show.stderr, "alert.channels.mail.smtp_port");
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      (await Deno.readTextFile(`${dir}/c.yaml`)).replace("99999", "465"),
    );
    const ok = await sysmon(["config", "show", "--config", `${dir}/c.yaml`]);
    assertEquals(ok.code, 0, ok.stderr);
    assertStringIncludes(ok.stdout, "smtp_host: mail.example.test");
    for (const r of [show, ok]) {
      for (const secret of secrets) {
        assert(!(r.stdout + r.stderr).includes(secret), `${secret} shown:\n${r.stdout}${r.stderr}`);
      }
    }
  });
});
