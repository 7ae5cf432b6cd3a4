/**
 * The Slack channel: one message per group message (../grouping.ts) through an incoming webhook.
 * A lone alert reads at a glance: a coloured emoji and a header line ("[FIRING: critical] cpu_busy
 * on web1") with the summary, then, beside a bar in the severity's colour (critical red, warning
 * orange, resolved green), the facts as fields (host, value, threshold, since) and the description.
 * A group of several lists one line per alert under a "[FIRING:3] filesystem_space on web1" header,
 * the bar in the worst severity's colour. `text` carries the same facts in plain words: Slack shows
 * it in notifications and where blocks cannot be drawn.
 * The webhook URL is the secret that lets anyone post to the channel: errors show only its host.
 */
import type { GroupMessage } from "../grouping.ts";
import type { AlertNotification, Severity } from "../types.ts";
import { alertLine, groupAlerts, groupHeadline, headline, loneAlert } from "./group_text.ts";
import { postJson, type PostOptions, type PostResult } from "./http.ts";

export interface SlackMessage {
  text: string;
  blocks: unknown[];
  attachments?: unknown[];
}

const COLOURS = { critical: "#d32f2f", warning: "#f57c00", resolved: "#2e7d32" } as const;
const EMOJI = {
  critical: ":red_circle:",
  warning: ":large_orange_circle:",
  resolved: ":large_green_circle:",
} as const;
/** Slack rejects a section text above 3000 characters and a field above 2000. */
const SECTION_MAX = 2900;
const FIELD_MAX = 1900;
/** Labels every alert has; the rest (mountpoint, device, team, …) are listed under the fields. */
const COMMON_LABELS = new Set(["alertname", "severity", "host"]);

/** Alerts listed in one group message; Slack caps a message at 50 blocks and long texts. */
const LIST_MAX = 20;

/** The incoming-webhook message for one group message (pure). */
export function slackPayload(msg: GroupMessage): SlackMessage {
  const lone = loneAlert(msg);
  if (lone) return slackAlertPayload(lone);
  const alerts = groupAlerts(msg);
  const head = groupHeadline(msg);
  const tone: Severity | "resolved" = msg.firing.length === 0
    ? "resolved"
    : msg.firing.some((n) => n.severity === "critical")
    ? "critical"
    : "warning";
  const shown = alerts.slice(0, LIST_MAX);
  const lines = shown.map((n) => {
    const mark = n.kind === "resolved" ? EMOJI.resolved : EMOJI[n.severity];
    return `${mark} ${escape(alertLine(n))} (since ${slackDate(n.startsAt)})`;
  });
  if (alerts.length > shown.length) lines.push(`… and ${alerts.length - shown.length} more`);
  const summaries = [...new Set(msg.firing.map((n) => n.summary))];
  const text = escape(`${head}: ${alerts.map(alertLine).join("; ")}`);
  return {
    text: clip(text, SECTION_MAX),
    blocks: [section(
      `${EMOJI[tone]} *${escape(head)}*` +
        (summaries.length === 1 ? `\n${escape(summaries[0])}` : ""),
    )],
    attachments: [{
      color: COLOURS[tone],
      fallback: clip(text, SECTION_MAX),
      blocks: [section(lines.join("\n"))],
    }],
  };
}

/** The message for one alert (pure): what a lone-alert group sends. */
export function slackAlertPayload(n: AlertNotification): SlackMessage {
  const tone: Severity | "resolved" = n.kind === "resolved" ? "resolved" : n.severity;
  const head = headline(n);
  const since = n.kind === "resolved" && n.endsAt !== undefined
    ? `since ${n.startsAt}, ended ${n.endsAt}`
    : `since ${n.startsAt}`;
  // Slack reads `text` as mrkdwn too.
  const text = escape(
    `${head}: ${n.summary} (host ${n.host}, value ${n.valueText}, ` +
      `threshold ${n.thresholdText}, ${since})`,
  );

  const fields = [
    field("Host", escape(n.host)),
    field(n.kind === "resolved" ? "Last value" : "Value", escape(n.valueText)),
    field(`Threshold (${n.severity})`, escape(n.thresholdText)),
    field("Since", slackDate(n.startsAt)),
  ];
  if (n.kind === "resolved" && n.endsAt !== undefined) {
    fields.push(field("Ended", slackDate(n.endsAt)));
  }

  const details: unknown[] = [{ type: "section", fields }];
  if (n.description && n.description !== n.summary) {
    details.push(section(escape(n.description)));
  }
  const extra = Object.entries(n.labels)
    .filter(([name]) => !COMMON_LABELS.has(name))
    .map(([name, value]) => `\`${escape(name)}=${escape(value)}\``);
  if (extra.length > 0) {
    details.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: clip(extra.join(" "), SECTION_MAX) }],
    });
  }

  return {
    text: clip(text, SECTION_MAX),
    blocks: [section(`${EMOJI[tone]} *${escape(head)}*\n${escape(n.summary)}`)],
    attachments: [{ color: COLOURS[tone], fallback: clip(text, SECTION_MAX), blocks: details }],
  };
}

/** POSTs one group message to a Slack incoming webhook (the URL is a secret: never shown whole). */
export function sendSlack(
  url: string,
  msg: GroupMessage,
  opts: PostOptions,
): Promise<PostResult> {
  return postJson(url, slackPayload(msg), opts);
}

function section(text: string) {
  return { type: "section", text: { type: "mrkdwn", text: clip(text, SECTION_MAX) } };
}

/** A labelled field; `mrkdwn` is already escaped. */
function field(name: string, mrkdwn: string) {
  return { type: "mrkdwn", text: clip(`*${name}*\n${mrkdwn}`, FIELD_MAX) };
}

/** A time Slack shows in each reader's own time zone; the ISO text where it cannot. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return escape(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_num} {time_secs}|${escape(iso)}>`;
}

/** Slack's mrkdwn treats &, < and > as markup: a mount point or summary must not open a link. */
function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}
