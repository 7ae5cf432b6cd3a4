/**
 * The e-mail channel: the message (subject, bodies, X-Sysmon and threading headers) and delivery
 * against real SMTP servers (smtp-server) on 127.0.0.1: plain, STARTTLS with AUTH, refused,
 * silent, and servers answering 4xx/5xx, with the password kept out of every error.
 */
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import {
  createEmailSender,
  emailMessage,
  type EmailSettings,
  smtpFailure,
  threadId,
} from "../src/alert/channels/email.ts";
import type { AlertNotification } from "../src/alert/types.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "./assert.ts";
import { freePort } from "./helpers.ts";
import { sysmon } from "./cli_util.ts";
import { channelConfig, firingCritical, groupOf, T0, T9 } from "./alert_fixtures.ts";
import { Dispatcher } from "../src/alert/dispatch.ts";
import { memoryLogger } from "../src/log.ts";

const PASSWORD = "s3cret-Pa55word";

function resolvedOf(n: AlertNotification): AlertNotification {
  return {
    ...n,
    kind: "resolved",
    previous: n.severity,
    value: 41,
    valueText: "41.0%",
    at: T9,
    endsAt: T9,
  };
}

function fsAlert(patch: Partial<AlertNotification> = {}): AlertNotification {
  return firingCritical({
    rule: "fs_space",
    key: "fs_space//var",
    entity: "/var",
    severity: "warning",
    labels: { alertname: "fs_space", severity: "warning", host: "web1", mountpoint: "/var" },
    summary: "/var is 91.0% full",
    description: "/var on web1 is 91.0% full (threshold 80.0%).",
    valueText: "91.0%",
    thresholdText: "80.0%",
    ...patch,
  });
}

function settings(port: number, patch: Partial<EmailSettings> = {}): EmailSettings {
  return {
    host: "127.0.0.1",
    port,
    security: "none",
    username: "",
    password: "",
    from: "sysmon <alerts@example.test>",
    to: ["ops@example.test", "oncall@example.test"],
    timeoutMs: 5000,
    tlsRejectUnauthorized: true,
    ...patch,
  };
}

// ---------------------------------------------------------------------------------------------
// A tiny RFC 5322 / MIME reader, enough for nodemailer's output.

interface ParsedMail {
  headers: Map<string, string>;
  /** The decoded text/plain and text/html parts. */
  text: string;
  html: string;
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function decodePart(body: string, encoding: string | undefined): string {
  if (encoding === "base64") {
    const bin = atob(body.replace(/\s+/g, ""));
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  if (encoding === "quoted-printable") {
    const soft = body.replace(/=\r\n/g, "");
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(soft.charCodeAt(i));
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
  return body;
}

function parseMail(raw: string): ParsedMail {
  const split = raw.indexOf("\r\n\r\n");
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const out: ParsedMail = { headers, text: "", html: "" };
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get("content-type") ?? "")?.[1];
  const parts = boundary
    ? body.split(`--${boundary}`).slice(1, -1).map((p) => p.replace(/^\r\n/, ""))
    : [raw.slice(0, split) + "\r\n\r\n" + body];
  for (const part of parts) {
    const at = part.indexOf("\r\n\r\n");
    const h = parseHeaders(part.slice(0, at));
    const decoded = decodePart(part.slice(at + 4), h.get("content-transfer-encoding"));
    if ((h.get("content-type") ?? "").startsWith("text/plain")) out.text = decoded;
    if ((h.get("content-type") ?? "").startsWith("text/html")) out.html = decoded;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Local SMTP servers

interface Received {
  mailFrom: string;
  rcptTo: string[];
  raw: string;
  secure: boolean;
  user?: string;
}

interface LocalServer {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

async function startServer(options: SMTPServerOptions = {}, port = 0): Promise<LocalServer> {
  const received: Received[] = [];
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((a) => a.address),
          raw: new TextDecoder().decode(concat(chunks)),
          secure: session.secure,
          user: session.user,
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  // Connection errors (a client refusing our certificate) are the server's to shrug off; without
  // a listener the EventEmitter would throw them.
  server.on("error", () => {});
  return {
    port: (server.server.address() as { port: number }).port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** An SMTP error a handler hands back: smtp-server answers with its code and message. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** A throwaway self-signed certificate for localhost. */
async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-email-test-" });
  try {
    const { code, stderr } = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-days",
        "1",
        "-keyout",
        `${dir}/k.pem`,
        "-out",
        `${dir}/c.pem`,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`openssl failed: ${new TextDecoder().decode(stderr)}`);
    return {
      key: await Deno.readTextFile(`${dir}/k.pem`),
      cert: await Deno.readTextFile(`${dir}/c.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The message (pure)

Deno.test("emailMessage: subject, facts in the text body, X-Sysmon headers", () => {
  const m = emailMessage(groupOf([firingCritical()]), {
    from: "a@example.test",
    to: ["b@example.test"],
  });
  assertEquals(m.subject, "[FIRING: critical] cpu_busy on web1");
  assertEquals(m.from, "a@example.test");
  assertEquals(m.to, ["b@example.test"]);
  for (const fact of ["CPU busy 93.4% on web1", "above 90.0% for 5m", "web1", "93.4%", T0]) {
    assertStringIncludes(m.text, fact);
  }
  assertMatch(m.text, /^Threshold: +90\.0% \(critical\)$/m);
  assertMatch(m.text, /^ {2}team=ops$/m);
  assertEquals(m.headers["X-Sysmon-Alert"], "cpu_busy");
  assertEquals(m.headers["X-Sysmon-Status"], "firing");
  assertEquals(m.headers["Auto-Submitted"], "auto-generated");
  assert(!/Ended/.test(m.text), "a firing alert has not ended");

  const r = emailMessage(groupOf([resolvedOf(fsAlert())]), { from: "a@example.test", to: [] });
  assertEquals(r.subject, "[RESOLVED: warning] fs_space /var on web1");
  assertEquals(r.headers["X-Sysmon-Status"], "resolved");
  assertEquals(r.headers["X-Sysmon-Alert"], "fs_space//var");
  assertMatch(r.text, /^Last value: +41\.0%$/m);
  assertMatch(r.text, new RegExp(`^Ended: +${T9.replace(/\./g, "\\.")}$`, "m"));
});

Deno.test("emailMessage: the HTML body escapes what the alert carries", () => {
  const n = firingCritical({
    summary: `<script>alert("x")</script> & more`,
    labels: { alertname: "cpu_busy", note: "<b>" },
  });
  const { html, text } = emailMessage(groupOf([n]), { from: "a@example.test", to: [] });
  assert(!html.includes("<script>"), "summary markup must be escaped");
  assertStringIncludes(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more");
  assertStringIncludes(html, "note=&lt;b&gt;");
  assertStringIncludes(html, "93.4%");
  // The plain text stays plain.
  assertStringIncludes(text, `<script>alert("x")</script> & more`);
});

Deno.test("emailMessage: a CR/LF in an entity cannot add a header", () => {
  const n = firingCritical({
    key: "fs_space//x\r\nBcc: evil@example.test",
    entity: "/x\r\nBcc: y",
  });
  const m = emailMessage(groupOf([n]), { from: "a@example.test", to: [] });
  for (const value of [m.subject, ...Object.values(m.headers)]) {
    assert(!/[\r\n]/.test(value), `header value on one line: ${JSON.stringify(value)}`);
  }
});

Deno.test("emailMessage: a group of several lists each alert; one thread per group", () => {
  const s = { from: "a@example.test", to: ["b@example.test"] };
  const var_ = fsAlert();
  const root = fsAlert({
    key: "fs_space//",
    entity: "/",
    severity: "critical",
    valueText: "97.0%",
  });
  const home = resolvedOf(fsAlert({ key: "fs_space//home", entity: "/home" }));
  const m = emailMessage(groupOf([var_, root, home]), s);
  assertEquals(m.subject, "[FIRING:2, RESOLVED:1] fs_space on web1");
  const items = m.text.split("\n").filter((l) => l.startsWith("* "));
  assertEquals(items.map((l) => l.split(":")[0]), [
    "* critical fs_space /",
    "* warning fs_space /var",
    "* resolved fs_space /home",
  ]);
  assertStringIncludes(m.text, "97.0%");
  assertEquals(m.headers["X-Sysmon-Severity"], "critical");
  assertEquals(m.headers["X-Sysmon-Status"], "firing");
  assertEquals(m.headers["X-Sysmon-Group"], '{alertname="fs_space"}');
  assertStringIncludes(m.html, "fs_space /home");
  // A later message of the same group threads with this one, whatever alerts it carries.
  const later = emailMessage(groupOf([home], { groupKey: '{alertname="fs_space"}' }), s);
  assertEquals(later.headers["References"], m.headers["References"]);
});

Deno.test("threading: firing and resolved of one alert share References, others do not", () => {
  const s = { from: "sysmon <alerts@example.test>", to: [] };
  const firing = emailMessage(groupOf([firingCritical()]), s).headers;
  const resolved = emailMessage(groupOf([resolvedOf(firingCritical())]), s).headers;
  const escalated =
    emailMessage(groupOf([firingCritical({ kind: "escalated", previous: "warning" })]), s)
      .headers;
  assertMatch(firing["References"], /^<[^<>@\s]+@example\.test>$/);
  assertEquals(resolved["References"], firing["References"]);
  assertEquals(resolved["In-Reply-To"], firing["In-Reply-To"]);
  assertEquals(firing["In-Reply-To"], firing["References"]);
  assertEquals(escalated["References"], firing["References"]);

  const other = emailMessage(groupOf([fsAlert()]), s).headers;
  assertNotEquals(other["References"], firing["References"]);
  const otherHost = emailMessage(groupOf([firingCritical({ host: "web2" })]), s).headers;
  assertNotEquals(otherHost["References"], firing["References"]);
  // Keys that slug alike still differ (the hash covers the exact key).
  assertNotEquals(
    threadId({ host: "h", key: "fs_space//a b" }, "x@y.test"),
    threadId({ host: "h", key: "fs_space//a_b" }, "x@y.test"),
  );
  assertMatch(threadId({ host: "h", key: "k" }, "no address"), /@sysmon\.invalid>$/);
});

// ---------------------------------------------------------------------------------------------
// Delivery against real SMTP servers

Deno.test("plain SMTP: one message reaches two recipients with headers and facts", async () => {
  const server = await startServer({ authOptional: true });
  try {
    const send = createEmailSender(settings(server.port));
    const result = await send(groupOf([firingCritical()]));
    assertEquals(result, { ok: true, retryable: false });
    assertEquals(server.received.length, 1);
    const got = server.received[0];
    assertEquals(got.mailFrom, "alerts@example.test");
    assertEquals(got.rcptTo, ["ops@example.test", "oncall@example.test"]);
    assertEquals(got.secure, false, "security none stays plain even where STARTTLS is offered");

    const mail = parseMail(got.raw);
    assertEquals(mail.headers.get("from"), "sysmon <alerts@example.test>");
    assertStringIncludes(mail.headers.get("to") ?? "", "ops@example.test");
    assertStringIncludes(mail.headers.get("to") ?? "", "oncall@example.test");
    assertEquals(mail.headers.get("subject"), "[FIRING: critical] cpu_busy on web1");
    assertEquals(mail.headers.get("x-sysmon-alert"), "cpu_busy");
    assertEquals(mail.headers.get("x-sysmon-status"), "firing");
    const thread = threadId(
      { host: "web1", key: groupOf([firingCritical()]).groupKey },
      "alerts@example.test",
    );
    assertEquals(mail.headers.get("references"), thread);
    assertEquals(mail.headers.get("in-reply-to"), thread);
    assertMatch(mail.headers.get("message-id") ?? "", /^<.+@.+>$/);
    for (const fact of ["CPU busy 93.4% on web1", "93.4%", "90.0%", "web1"]) {
      assertStringIncludes(mail.text, fact);
      assertStringIncludes(mail.html, fact);
    }

    // The second send reuses the transport and threads with the first.
    assertEquals((await send(groupOf([resolvedOf(firingCritical())]))).ok, true);
    const second = parseMail(server.received[1].raw);
    assertEquals(second.headers.get("references"), thread);
    assertEquals(second.headers.get("x-sysmon-status"), "resolved");
  } finally {
    await server.close();
  }
});

Deno.test("STARTTLS with AUTH: delivered; a wrong password is final and never shown", async () => {
  const { key, cert } = await selfSignedCert();
  const server = await startServer({
    key,
    cert,
    onAuth(auth, _session, callback) {
      if (auth.username === "sysmon" && auth.password === PASSWORD) {
        callback(null, { user: auth.username });
      } else {
        // A careless server echoing what it got: the sender must mask it.
        callback(smtpError(535, `bad credentials ${auth.username}/${auth.password}`));
      }
    },
  });
  try {
    const good = settings(server.port, {
      security: "starttls",
      username: "sysmon",
      password: PASSWORD,
      tlsRejectUnauthorized: false,
    });
    assertEquals(await createEmailSender(good)(groupOf([firingCritical()])), {
      ok: true,
      retryable: false,
    });
    assertEquals(server.received.length, 1);
    assertEquals(server.received[0].secure, true, "delivered over TLS");
    assertEquals(server.received[0].user, "sysmon");

    const wrong = "wrong-" + PASSWORD;
    const bad = await createEmailSender({ ...good, password: wrong })(groupOf([firingCritical()]));
    assertEquals(bad.ok, false);
    assertEquals(bad.retryable, false, "535 is final");
    assertStringIncludes(bad.error ?? "", "535");
    assertStringIncludes(bad.error ?? "", `127.0.0.1:${server.port}`);
    assert(!bad.error?.includes(wrong), `password in error: ${bad.error}`);
    assert(!bad.error?.includes(PASSWORD), `password in error: ${bad.error}`);
    assertEquals(server.received.length, 1);

    // The certificate is checked unless told otherwise (self-signed here): nothing is sent.
    const strict = await createEmailSender({ ...good, tlsRejectUnauthorized: true })(
      groupOf([firingCritical()]),
    );
    assertEquals(strict.ok, false);
    assertEquals(server.received.length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("implicit TLS (security tls): delivered over TLS from the first byte", async () => {
  const { key, cert } = await selfSignedCert();
  const server = await startServer({ secure: true, key, cert, authOptional: true });
  try {
    const result = await createEmailSender(
      settings(server.port, { security: "tls", tlsRejectUnauthorized: false }),
    )(groupOf([firingCritical()]));
    assertEquals(result, { ok: true, retryable: false });
    assertEquals(server.received.length, 1);
    assertEquals(server.received[0].secure, true);
  } finally {
    await server.close();
  }
});

Deno.test("starttls never falls back to plain text when the server offers no STARTTLS", async () => {
  let authTried = false;
  const server = await startServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    onAuth(_auth, _session, callback) {
      authTried = true;
      callback(null, { user: "sysmon" });
    },
  });
  try {
    const result = await createEmailSender(
      settings(server.port, { security: "starttls", username: "sysmon", password: PASSWORD }),
    )(groupOf([firingCritical()]));
    assertEquals(result.ok, false);
    assertEquals(authTried, false, "the password never went over plain text");
    assertEquals(server.received.length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("a refused connection is retryable", async () => {
  const port = freePort();
  const result = await createEmailSender(settings(port))(groupOf([firingCritical()]));
  assertEquals(result.ok, false);
  assertEquals(result.retryable, true);
  assertStringIncludes(result.error ?? "", `smtp 127.0.0.1:${port}`);
});

Deno.test("a server that never greets times out, retryable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  try {
    const started = Date.now();
    const result = await createEmailSender(
      settings((listener.addr as Deno.NetAddr).port, { timeoutMs: 300 }),
    )(groupOf([firingCritical()]));
    assertEquals(result.ok, false);
    assertEquals(result.retryable, true);
    assertStringIncludes(result.error ?? "", "300ms");
    assert(Date.now() - started < 3000, "the timeout bounds the delivery");
  } finally {
    listener.close();
    for (const c of conns) c.close();
    await accepting.catch(() => {});
  }
});

for (
  const [where, code, retryable] of [
    ["RCPT", 451, true],
    ["RCPT", 452, true],
    ["RCPT", 550, false],
    ["DATA", 451, true],
    ["DATA", 421, true],
    ["DATA", 550, false],
    ["DATA", 554, false],
  ] as const
) {
  Deno.test(`${code} at ${where} is ${retryable ? "retryable" : "final"}`, async () => {
    const reply = () => smtpError(code, `test says ${code}`);
    const server = await startServer({
      authOptional: true,
      ...(where === "RCPT" ? { onRcptTo: (_address, _session, callback) => callback(reply()) } : {
        onData: (stream, _session, callback) => {
          stream.on("end", () => callback(reply()));
          stream.resume();
        },
      }),
    });
    try {
      const result = await createEmailSender(settings(server.port))(groupOf([firingCritical()]));
      assertEquals(result.ok, false);
      assertEquals(result.retryable, retryable, result.error);
      assertStringIncludes(result.error ?? "", String(code));
    } finally {
      await server.close();
    }
  });
}

Deno.test("recipients refused for now and for good: retryable; one accepted: delivered", async () => {
  const server = await startServer({
    authOptional: true,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("ops@")) callback(smtpError(451, "greylisted"));
      else if (address.address.startsWith("gone@")) callback(smtpError(550, "no such user"));
      else callback();
    },
  });
  try {
    const mixed = await createEmailSender(
      settings(server.port, { to: ["ops@example.test", "gone@example.test"] }),
    )(groupOf([firingCritical()]));
    assertEquals(mixed.ok, false);
    assertEquals(mixed.retryable, true);

    const partial = await createEmailSender(
      settings(server.port, { to: ["gone@example.test", "oncall@example.test"] }),
    )(groupOf([firingCritical()]));
    assertEquals(partial.ok, true);
    assertEquals(server.received.map((r) => r.rcptTo), [["oncall@example.test"]]);
  } finally {
    await server.close();
  }
});

Deno.test("smtpFailure: classification without a server, and the password masked", () => {
  const s = { host: "mx", port: 587, username: "u", password: PASSWORD, timeoutMs: 1000 };
  const err = (code: string, message = "boom", extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(message), { code, ...extra });
  assertEquals(smtpFailure(err("ETIMEDOUT"), s).retryable, true);
  assertEquals(smtpFailure(err("ESOCKET", "connect ECONNREFUSED"), s).retryable, true);
  assertEquals(smtpFailure(err("ETLS"), s).retryable, true);
  assertEquals(smtpFailure(err("EAUTH", "no auth method"), s).retryable, false);
  assertEquals(smtpFailure(err("EAUTH", "454 later", { responseCode: 454 }), s).retryable, true);
  assertEquals(smtpFailure(err("ENOAUTH"), s).retryable, false);
  assertEquals(smtpFailure(err("EENVELOPE", "x", { responseCode: 553 }), s).retryable, false);
  assertEquals(smtpFailure(err("EABORT"), s).error, "smtp mx:587: no answer within 1000ms");

  const b64 = btoa(PASSWORD);
  const plain = btoa(`\u0000u\u0000${PASSWORD}`);
  const echoed = smtpFailure(err("EAUTH", `535 got ${PASSWORD} ${b64} ${plain}`), s);
  assertEquals(echoed.error, "smtp mx:587: 535 got *** *** ***");
});

Deno.test("no recipients: a clear, final error without connecting", async () => {
  const port = freePort();
  const result = await createEmailSender(settings(port, { to: [] }))(groupOf([firingCritical()]));
  assertEquals(result, {
    ok: false,
    retryable: false,
    error: `smtp 127.0.0.1:${port}: no recipients`,
  });
});

Deno.test("alert.channels email: `sysmon alert test` delivers through the configured SMTP server", async () => {
  const server = await startServer({ authOptional: true });
  const dir = await Deno.makeTempDir({ prefix: "sysmon-email-cli-" });
  try {
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      `alert:\n  channels:\n    mail:\n      type: email\n      smtp_host: 127.0.0.1\n` +
        `      smtp_port: ${server.port}\n      smtp_security: none\n` +
        `      from: sysmon@example.org\n      to: [ops@example.org, oncall@example.org]\n`,
    );
    const r = await sysmon(["alert", "test", "--config", `${dir}/c.yaml`]);
    assertEquals([r.code, r.stdout], [0, "mail: ok\n"], r.stderr);
    assertEquals(server.received.length, 1);
    assertEquals(server.received[0].rcptTo, ["ops@example.org", "oncall@example.org"]);
    assertStringIncludes(server.received[0].raw, "sysmon_test");
    // A channel missing its settings is named, and the command says it could not be set up.
    await Deno.writeTextFile(
      `${dir}/bad.yaml`,
      "alert:\n  channels:\n    mail:\n      type: email\n      smtp_host: 127.0.0.1\n",
    );
    const bad = await sysmon(["alert", "test", "--config", `${dir}/bad.yaml`]);
    assertEquals(bad.code, 1);
    assertStringIncludes(bad.stderr, "alert.channels.mail: an email channel needs from, to");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// An outage through the dispatcher and its outbox

Deno.test("SMTP outage: mail queued while the server refuses arrives after recovery, in order, once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-email-outage-" });
  const port = freePort();
  const log = memoryLogger("debug");
  const mail = channelConfig({
    type: "email",
    smtp_host: "127.0.0.1",
    smtp_port: port,
    smtp_security: "none",
    password: PASSWORD,
    from: "sysmon <alerts@example.test>",
    to: ["ops@example.test"],
    group_by: ["..."],
    group_wait: 0,
    group_interval: 1,
  });
  const t0 = Date.parse(T0);
  const open = () => Dispatcher.open({ mail }, `${dir}/outbox.json`, log);
  let server: LocalServer | undefined;
  try {
    let d = await open();
    d.route(fsAlert(), t0);
    await d.flush(t0, []);
    d.route(firingCritical(), t0 + 1000);
    await d.flush(t0 + 1000, []);
    assertEquals(d.queued(), 2);
    assertStringIncludes(log.lines.join("\n"), "channel mail failed (smtp 127.0.0.1:");
    // A restart while the server is still down: the queue and the groups come back from disk.
    d = await open();
    d.route(resolvedOf(fsAlert()), t0 + 2000);
    await d.flush(t0 + 2000, []);
    assertEquals(d.queued(), 3);

    server = await startServer({ authOptional: true }, port);
    await d.flush(t0 + 10 * 60_000, []);
    await d.flush(t0 + 20 * 60_000, []);
    const subjects = server.received.map((r) => parseMail(r.raw).headers.get("subject"));
    assertEquals(subjects, [
      "[FIRING: warning] fs_space /var on web1",
      "[FIRING: critical] cpu_busy on web1",
      "[RESOLVED: warning] fs_space /var on web1",
    ]);
    assertEquals(d.queued(), 0);
    assert(!log.lines.join("\n").includes(PASSWORD), "the password was logged");
  } finally {
    await server?.close();
    await Deno.remove(dir, { recursive: true });
  }
});
