/**
 * The e-mail channel: one message per group message (../grouping.ts) over SMTP (nodemailer). A lone
 * alert reads like the Slack one: the subject is the headline ("[FIRING: critical] cpu_busy on
 * web1"), the body the summary, description and facts (host, value, threshold, since/ended,
 * labels), as plain text and as escaped HTML. A group of several ("[FIRING:3] filesystem_space on
 * web1") gives each alert its line and facts. X-Sysmon-* headers let mail rules sort alerts;
 * `References`/`In-Reply-To` name one made-up parent per group (host + group key), so mail clients
 * thread a group's messages, firing to resolved, together.
 *
 * nodemailer is imported on the first send only: it brings Node's net/tls layer (~10 MB of memory),
 * which a sysmon without an e-mail channel never needs. Failures are PostResults, never throws:
 * a dropped connection, a timeout, TLS trouble or a 4xx reply may pass later (retryable); a 5xx reply
 * (550 no such mailbox, 535 bad login, 554 refused) will not. The password never appears in a result:
 * servers may echo what they were sent, so it is masked (also base64-encoded, as AUTH sends it).
 */
import type { SendMailOptions, Transporter } from "nodemailer";
import { VERSION } from "../../version.ts";
import type { GroupMessage } from "../grouping.ts";
import type { AlertNotification, Severity } from "../types.ts";
import type { PostResult } from "./http.ts";
import { alertLine, groupAlerts, groupHeadline, headline, loneAlert } from "./group_text.ts";

export interface EmailSettings {
  host: string;
  port: number;
  /** starttls: plain connect, then STARTTLS is required; tls: TLS from the first byte; none: no TLS. */
  security: "starttls" | "tls" | "none";
  /** "" sends without AUTH. */
  username: string;
  password: string;
  from: string;
  to: string[];
  /** The whole delivery (connect, greeting, TLS, AUTH, DATA). */
  timeoutMs: number;
  /** accept self-signed (tests, private CAs) */
  tlsRejectUnauthorized: boolean;
}

export interface EmailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

const COLOURS = { critical: "#d32f2f", warning: "#f57c00", resolved: "#2e7d32" } as const;
/** Mail clients cut long subjects anyway; a runaway entity name must not make a huge header. */
const SUBJECT_MAX = 200;

/** The message for one group message (pure). */
export function emailMessage(
  msg: GroupMessage,
  s: Pick<EmailSettings, "from" | "to">,
): EmailMessage {
  const alerts = groupAlerts(msg);
  const host = alerts[0]?.host ?? "";
  const thread = threadId({ host, key: msg.groupKey }, s.from);
  const lone = loneAlert(msg);
  const base = lone ? emailAlertMessage(lone, s) : groupedMessage(msg, alerts, host, s);
  return {
    ...base,
    headers: {
      ...base.headers,
      "X-Sysmon-Group": oneLine(msg.groupKey),
      References: thread,
      "In-Reply-To": thread,
    },
  };
}

/** Several alerts: one line and the facts each. */
function groupedMessage(
  msg: GroupMessage,
  alerts: AlertNotification[],
  host: string,
  s: Pick<EmailSettings, "from" | "to">,
): EmailMessage {
  const head = groupHeadline(msg);
  const worst: Severity = msg.firing.some((n) => n.severity === "critical")
    ? "critical"
    : "warning";
  const text = [head, ""];
  const blocks: string[] = [];
  for (const n of alerts) {
    text.push(`* ${alertLine(n)}`, `  ${n.summary}`);
    const since = n.kind === "resolved" && n.endsAt !== undefined
      ? `since ${n.startsAt}, ended ${n.endsAt}`
      : `since ${n.startsAt}`;
    text.push(`  ${since}`, "");
    const tone: Severity | "resolved" = n.kind === "resolved" ? "resolved" : n.severity;
    blocks.push(
      `<div style="border-left:4px solid ${COLOURS[tone]};padding:2px 12px;margin:0 0 8px">` +
        `<strong>${html(alertLine(n))}</strong><br>${html(n.summary)}<br>` +
        `<span style="color:#777">${html(since)}</span></div>`,
    );
  }
  text.push("-- ", `sysmon ${VERSION} on ${host}, group ${msg.groupKey}`);
  return {
    from: s.from,
    to: [...s.to],
    subject: clip(oneLine(head), SUBJECT_MAX),
    text: text.join("\n") + "\n",
    html: `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${html(head)}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 8px;font-size:16px">${html(head)}</h2>
${blocks.join("\n")}
<p style="color:#777;font-size:12px">sysmon ${html(VERSION)} on ${html(host)}, group ${
      html(msg.groupKey)
    }</p>
</body></html>
`,
    headers: {
      "X-Sysmon-Alert": clip(oneLine(alerts.map((n) => n.key).join(", ")), SUBJECT_MAX),
      "X-Sysmon-Status": msg.firing.length > 0 ? "firing" : "resolved",
      "X-Sysmon-Severity": msg.firing.length > 0 ? worst : (alerts[0]?.severity ?? "warning"),
      "X-Sysmon-Host": oneLine(host),
      "Auto-Submitted": "auto-generated",
      "X-Auto-Response-Suppress": "All",
    },
  };
}

/** The message for one alert (pure): what a lone-alert group sends, threaded per alert. */
export function emailAlertMessage(
  n: AlertNotification,
  s: Pick<EmailSettings, "from" | "to">,
): EmailMessage {
  const head = headline(n);
  const thread = threadId(n, s.from);
  return {
    from: s.from,
    to: [...s.to],
    subject: clip(oneLine(head), SUBJECT_MAX),
    text: textBody(n, head),
    html: htmlBody(n, head),
    headers: {
      "X-Sysmon-Alert": oneLine(n.key),
      "X-Sysmon-Status": n.kind === "resolved" ? "resolved" : "firing",
      "X-Sysmon-Severity": n.severity,
      "X-Sysmon-Host": oneLine(n.host),
      // Both point at a parent that was never sent: clients group every message naming it.
      "References": thread,
      "In-Reply-To": thread,
      // RFC 3834: no vacation replies to an alert robot (Exchange has its own header for it).
      "Auto-Submitted": "auto-generated",
      "X-Auto-Response-Suppress": "All",
    },
  };
}

/**
 * The made-up Message-ID all messages of one alert refer to: stable for the host and key (the same
 * rule on two hosts is two threads), readable where it can be, always a valid msg-id.
 */
export function threadId(n: Pick<AlertNotification, "host" | "key">, from: string): string {
  const slug = (s: string) =>
    s.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40) || "_";
  const domain = /@([A-Za-z0-9.-]+[A-Za-z0-9])>?\s*$/.exec(from)?.[1] ?? "sysmon.invalid";
  return `<sysmon.${slug(n.key)}.${slug(n.host)}.${fnv1a64(`${n.host}\n${n.key}`)}@${domain}>`;
}

/** The facts both bodies show, in order: [name, value]. */
function facts(n: AlertNotification): [string, string][] {
  const rows: [string, string][] = [
    ["Host", n.host],
    [n.kind === "resolved" ? "Last value" : "Value", n.valueText],
    [`Threshold`, `${n.thresholdText} (${n.severity})`],
  ];
  if (n.previous !== undefined && n.kind !== "resolved") rows.push(["Previous", n.previous]);
  rows.push(["Since", n.startsAt]);
  if (n.kind === "resolved" && n.endsAt !== undefined) rows.push(["Ended", n.endsAt]);
  return rows;
}

function textBody(n: AlertNotification, head: string): string {
  const lines = [head, "", n.summary];
  if (n.description && n.description !== n.summary) lines.push("", n.description);
  lines.push("");
  const rows = facts(n);
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  for (const [name, value] of rows) lines.push(`${(name + ":").padEnd(width)}${value}`);
  const labels = Object.entries(n.labels);
  if (labels.length > 0) {
    lines.push("", "Labels:");
    for (const [name, value] of labels) lines.push(`  ${name}=${value}`);
  }
  // "-- " is the signature delimiter: clients fold what follows.
  lines.push("", "-- ", `sysmon ${VERSION} on ${n.host}, alert ${n.key}`);
  return lines.join("\n") + "\n";
}

function htmlBody(n: AlertNotification, head: string): string {
  const tone: Severity | "resolved" = n.kind === "resolved" ? "resolved" : n.severity;
  const cell = "padding:2px 12px 2px 0;vertical-align:top";
  const rows = facts(n)
    .map(([name, value]) =>
      `<tr><th align="left" style="${cell};font-weight:600">${html(name)}</th>` +
      `<td style="${cell}">${html(value)}</td></tr>`
    )
    .join("");
  const description = n.description && n.description !== n.summary
    ? `<p style="margin:0 0 12px">${html(n.description)}</p>`
    : "";
  const labels = Object.entries(n.labels)
    .map(([name, value]) =>
      `<code style="background:#f2f2f2;padding:1px 4px">${html(name)}=${html(value)}</code>`
    )
    .join(" ");
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${html(head)}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222">
<div style="border-left:4px solid ${COLOURS[tone]};padding:4px 12px">
<h2 style="margin:0 0 8px;font-size:16px">${html(head)}</h2>
<p style="margin:0 0 12px"><strong>${html(n.summary)}</strong></p>
${description}<table style="border-collapse:collapse;margin:0 0 12px">${rows}</table>
${labels ? `<p style="margin:0;line-height:1.8">${labels}</p>\n` : ""}</div>
<p style="color:#777;font-size:12px">sysmon ${html(VERSION)} on ${html(n.host)}, alert ${
    html(n.key)
  }</p>
</body></html>
`;
}

/**
 * A sender for one channel: the transport is made on the first send and reused; each send opens
 * its own connection (alerts are rare, and servers drop idle ones). Resolves, never rejects.
 */
export function createEmailSender(s: EmailSettings): (msg: GroupMessage) => Promise<PostResult> {
  const where = `smtp ${s.host}:${s.port}`;
  let transport: Promise<Transporter> | undefined;
  return async (msg) => {
    if (s.to.length === 0) return { ok: false, retryable: false, error: `${where}: no recipients` };
    try {
      // A failed load is tried again next time rather than remembered.
      transport ??= makeTransport(s).catch((err) => {
        transport = undefined;
        throw err;
      });
      const mail: SendMailOptions = {
        ...emailMessage(msg, s),
        signal: AbortSignal.timeout(s.timeoutMs),
      };
      await (await transport).sendMail(mail);
      return { ok: true, retryable: false };
    } catch (err) {
      return smtpFailure(err, s);
    }
  };
}

async function makeTransport(s: EmailSettings): Promise<Transporter> {
  const nodemailer = (await import("nodemailer")).default;
  return nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.security === "tls",
    requireTLS: s.security === "starttls",
    // "none" means no TLS at all, even if the server offers STARTTLS (a local relay's test cert).
    ignoreTLS: s.security === "none",
    ...(s.username ? { auth: { user: s.username, pass: s.password } } : {}),
    tls: { rejectUnauthorized: s.tlsRejectUnauthorized, minVersion: "TLSv1.2" },
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
    dnsTimeout: s.timeoutMs,
    logger: false,
  });
}

/** The fields of nodemailer's errors that classify them (see its errors.d.ts). */
interface SmtpErrorFields {
  code?: string;
  responseCode?: number;
  rejectedErrors?: { responseCode?: number }[];
}

/** Error codes that are configuration problems: trying again cannot help. */
const CONFIG_CODES = new Set(["ENOAUTH", "ECONFIG", "EMAXRECIPIENTS", "ERR_ACCESS_DENIED"]);

/**
 * The PostResult for a failed send (exported for tests). An SMTP reply decides by its class: 4xx
 * (421 closing, 450/451 try later, 452 full, 454 auth unavailable) is retryable, 5xx is not. Without a
 * reply, connection-level failures (refused, reset, timeout, DNS, TLS) are retryable; missing
 * credentials, bad settings and an AUTH the server cannot do are not.
 */
export function smtpFailure(
  err: unknown,
  s: Pick<EmailSettings, "host" | "port" | "username" | "password" | "timeoutMs">,
): PostResult {
  const where = `smtp ${s.host}:${s.port}`;
  const e = (typeof err === "object" && err !== null ? err : {}) as SmtpErrorFields;
  const message = err instanceof Error ? err.message : String(err);
  const aborted = e.code === "EABORT" || (err instanceof Error && err.name === "TimeoutError");
  let text = aborted
    ? `no answer within ${s.timeoutMs}ms`
    : mask(message.replace(/\s+/g, " ").trim(), s) || "failed";
  // A phase's own timeout ("Greeting never received") and the whole send's bound are one limit.
  if (e.code === "ETIMEDOUT") text += ` (timeout ${s.timeoutMs}ms)`;

  const replies = [e.responseCode, ...(e.rejectedErrors ?? []).map((r) => r.responseCode)]
    .filter((c): c is number => typeof c === "number" && c >= 400 && c < 600);
  let retryable: boolean;
  if (replies.length > 0) {
    // Some recipients refused for now and some for good: a retry may reach the former.
    retryable = replies.some((c) => c < 500);
  } else if (e.code === "EAUTH" || (e.code !== undefined && CONFIG_CODES.has(e.code))) {
    retryable = false;
  } else {
    retryable = true;
  }
  return { ok: false, retryable, error: `${where}: ${text}` };
}

/** Masks the password, and its base64 forms as AUTH LOGIN and AUTH PLAIN send it. */
function mask(text: string, s: Pick<EmailSettings, "username" | "password">): string {
  if (!s.password) return text;
  const secrets = [
    s.password,
    base64(s.password),
    base64(`\u0000${s.username}\u0000${s.password}`),
    base64(`${s.username}\u0000${s.username}\u0000${s.password}`),
  ].sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}

function base64(s: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(s)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** 64-bit FNV-1a as 16 hex digits: a stable, synchronous id (crypto.subtle is async). */
function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(s)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/** A header value on one line: CR/LF in an entity name must not start a header of its own. */
function oneLine(s: string): string {
  return s.replace(/\p{Cc}+/gu, " ").trim();
}

function html(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}
