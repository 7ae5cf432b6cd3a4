/**
 * Routing notifications to the configured channels (alert.channels) through the persistent outbox,
 * and Alertmanager's periodic resend of firing alerts. Webhook, Slack and e-mail channels group
 * notifications first (./grouping.ts, each channel its own group_by and timings); Alertmanager gets
 * every notification at once and groups with its own route. A channel that cannot be set up (no
 * URL, an unreadable url_file, bad grouping) is reported by name and left out; the others work.
 */
import type { AlertChannelConfig } from "../config/sysmon_schema.ts";
import type { Logger } from "../log.ts";
import type { ActiveAlert } from "./engine.ts";
import {
  alertLabels,
  alertmanagerTransition,
  type PostableAlert,
  postAlerts,
  RESENDS_BEFORE_EXPIRY,
} from "./channels/alertmanager.ts";
import { redactUrl } from "./channels/http.ts";
import { createEmailSender, type EmailSettings } from "./channels/email.ts";
import { sendSlack } from "./channels/slack.ts";
import { sendWebhook } from "./channels/webhook.ts";
import { Grouper, type GroupMessage } from "./grouping.ts";
import { describeDelivery, Outbox, type Sender } from "./outbox.ts";
import type { AlertNotification } from "./types.ts";

interface Channel {
  name: string;
  config: AlertChannelConfig;
  url: string;
  rules?: RegExp;
  send: Sender;
  /** Webhook, Slack and e-mail: notifications wait here for their group's next message. */
  grouper?: Grouper;
  /** Epoch ms of the last Alertmanager resend. */
  lastResend: number;
}

/** The channel types sysmon groups itself (Alertmanager groups on its side). */
function groupedType(type: AlertChannelConfig["type"]): boolean {
  return type !== "alertmanager";
}

function grouperFor(name: string, c: AlertChannelConfig, saved: Outbox["groups"]): Grouper {
  try {
    return new Grouper({
      groupBy: c.group_by,
      groupWaitMs: c.group_wait * 1000,
      groupIntervalMs: c.group_interval * 1000,
      repeatIntervalMs: c.repeat_interval * 1000,
    }, saved[name]);
  } catch (err) {
    throw new Error(`alert.channels.${name}: ${(err as Error).message}`);
  }
}

/** What `alert test` sends a grouped channel: a group of one. */
function groupOfOne(n: AlertNotification): GroupMessage {
  return {
    groupKey: `{}/${n.key}`,
    groupLabels: {},
    firing: n.kind === "resolved" ? [] : [n],
    resolved: n.kind === "resolved" ? [n] : [],
    reason: "initial",
  };
}

/** Reads url or url_file; an error names the channel and never shows the URL. */
async function channelUrl(name: string, c: AlertChannelConfig): Promise<string> {
  if (c.url && c.url_file) {
    throw new Error(`alert.channels.${name}: set url or url_file, not both`);
  }
  let url = c.url;
  if (c.url_file) {
    try {
      url = (await Deno.readTextFile(c.url_file)).split("\n")[0].trim();
    } catch (err) {
      throw new Error(
        `alert.channels.${name}: cannot read url_file ${c.url_file}: ${(err as Error).message}`,
      );
    }
  }
  if (!url) throw new Error(`alert.channels.${name}: no url (set url or url_file)`);
  if (!/^https?:\/\/[^/]/.test(url)) {
    throw new Error(`alert.channels.${name}: the url must start with http:// or https://`);
  }
  return url;
}

/** The e-mail channel's settings; the password comes from `password` or `password_file`. */
async function emailSettings(name: string, c: AlertChannelConfig): Promise<EmailSettings> {
  const missing = [
    ...(c.smtp_host ? [] : ["smtp_host"]),
    ...(c.from ? [] : ["from"]),
    ...(c.to.length ? [] : ["to"]),
  ];
  if (missing.length) {
    throw new Error(`alert.channels.${name}: an email channel needs ${missing.join(", ")}`);
  }
  if (c.password && c.password_file) {
    throw new Error(`alert.channels.${name}: set password or password_file, not both`);
  }
  let password = c.password;
  if (c.password_file) {
    try {
      password = (await Deno.readTextFile(c.password_file)).split("\n")[0].trim();
    } catch (err) {
      throw new Error(
        `alert.channels.${name}: cannot read password_file ${c.password_file}: ` +
          (err as Error).message,
      );
    }
  }
  return {
    host: c.smtp_host,
    port: c.smtp_port,
    security: c.smtp_security,
    username: c.username,
    password,
    from: c.from,
    to: c.to,
    timeoutMs: c.timeout * 1000,
    tlsRejectUnauthorized: c.smtp_tls_verify,
  };
}

export class Dispatcher {
  private constructor(
    private readonly channels: Channel[],
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {}

  /** Sets up every configured channel and loads the outbox; problems are logged per channel. */
  static async open(
    config: Record<string, AlertChannelConfig>,
    outboxPath: string,
    log: Logger,
  ): Promise<Dispatcher> {
    const outbox = new Outbox(outboxPath);
    const queued = await outbox.load();
    if (queued > 0) log.info(`alert: ${queued} queued deliveries restored from ${outboxPath}`);
    const channels: Channel[] = [];
    for (const [name, c] of Object.entries(config)) {
      try {
        const grouper = groupedType(c.type) ? grouperFor(name, c, outbox.groups) : undefined;
        const rules = c.rules ? { rules: new RegExp(c.rules) } : {};
        if (c.type === "email") {
          const settings = await emailSettings(name, c);
          const sendEmail = createEmailSender(settings);
          channels.push({
            name,
            config: c,
            url: "",
            ...rules,
            send: (d) => sendEmail(d.group ?? groupOfOne(d.notification)),
            grouper,
            lastResend: 0,
          });
          log.info(
            `alert: channel ${name} (email) via ${settings.host}:${settings.port} to ` +
              `${settings.to.length} recipient(s)`,
          );
          continue;
        }
        const url = await channelUrl(name, c);
        const opts = { timeoutMs: c.timeout * 1000 };
        const resendMs = c.resend_interval * 1000;
        const send: Sender = c.type === "slack"
          ? (d) => sendSlack(url, d.group ?? groupOfOne(d.notification), opts)
          : c.type === "webhook"
          ? (d) => sendWebhook(url, d.group ?? groupOfOne(d.notification), opts)
          : (d) =>
            d.notification
              ? postAlerts(url, alertmanagerTransition(d.notification, Date.now(), resendMs), opts)
              : Promise.resolve({
                ok: false,
                retryable: false,
                error: "a group message cannot go to Alertmanager",
              });
        channels.push({ name, config: c, url, ...rules, send, grouper, lastResend: 0 });
        log.info(`alert: channel ${name} (${c.type}) to ${redactUrl(url)}`);
      } catch (err) {
        log.error(`${(err as Error).message}; the other channels work`);
      }
    }
    return new Dispatcher(channels, outbox, log);
  }

  channelNames(): string[] {
    return this.channels.map((c) => c.name);
  }

  private dirty = false;

  /**
   * Writes newly queued deliveries to disk. Called before the engine's state is saved: a crash in
   * between then re-sends a notification rather than losing it.
   */
  async persist(): Promise<void> {
    if (!this.dirty) return;
    try {
      this.outbox.groups = Object.fromEntries(
        this.channels.flatMap((c) => (c.grouper ? [[c.name, c.grouper.exportState()]] : [])),
      );
      await this.outbox.save();
      this.dirty = false;
    } catch (err) {
      this.log.error(`alert: ${(err as Error).message}; deliveries are kept in memory meanwhile`);
    }
  }

  /**
   * Queues `n` for every channel whose severities, rules and send_resolved take it; a grouped
   * channel holds it in its group until the group's next message. A silenced notification goes only
   * to Alertmanager, which applies silences of its own (amtool); a silenced resolution still ends
   * the alert in a group that announced it.
   */
  route(n: AlertNotification, now: number, opts: { silenced?: boolean } = {}): void {
    for (const c of this.channels) {
      if (c.rules && !c.rules.test(n.rule)) continue;
      if (c.grouper) {
        const known = c.grouper.has(n.key);
        const taken = c.config.severities.includes(n.severity);
        if (n.kind === "resolved" ? !known : (!taken && !known)) continue;
        if (n.kind !== "resolved" && taken && opts.silenced) continue;
        // Fallen below the severities this channel takes: for it, the alert is over.
        const seen = taken || n.kind === "resolved"
          ? n
          : { ...n, kind: "resolved" as const, endsAt: n.at };
        c.grouper.add(seen, now);
        this.dirty = true;
        continue;
      }
      if (!c.config.severities.includes(n.severity)) continue;
      if (n.kind === "resolved" && !c.config.send_resolved) continue;
      this.queue(c, { notification: n }, now);
    }
  }

  private queue(c: Channel, d: Parameters<Sender>[0], now: number): void {
    this.dirty = true;
    for (const lost of this.outbox.add(c.name, d, now)) {
      this.log.error(
        `alert: channel ${c.name}: outbox full, the oldest delivery (${
          describeDelivery(lost)
        }) dropped`,
      );
    }
  }

  /** Moves the group messages now due into the outbox (without resolved ones if send_resolved is off). */
  private releaseGroups(now: number): void {
    for (const c of this.channels) {
      if (!c.grouper) continue;
      for (const msg of c.grouper.due(now)) {
        this.dirty = true;
        const out = c.config.send_resolved ? msg : { ...msg, resolved: [] };
        if (out.firing.length + out.resolved.length > 0) this.queue(c, { group: out }, now);
      }
    }
  }

  /** Delivers what is due, saves the outbox, and resends firing alerts to Alertmanager. */
  async flush(now: number, active: ActiveAlert[]): Promise<void> {
    this.releaseGroups(now);
    await this.persist();
    const senders = new Map(this.channels.map((c) => [c.name, c.send]));
    const limits = new Map(this.channels.map((c) => [c.name, c.config.max_per_hour]));
    const report = await this.outbox.deliver(senders, now, limits);
    for (const { entry, error } of report.dropped) {
      this.log.error(
        `alert: channel ${entry.channel} refused ${describeDelivery(entry)} for good (${error}); ` +
          "dropped",
      );
    }
    for (const [name, error] of report.failing) {
      this.log.warn(
        `alert: channel ${name} failed (${error}); ${this.outbox.size(name)} queued, retrying`,
      );
    }
    if (report.delivered.length || report.dropped.length || report.failing.size) {
      this.dirty = true;
      await this.persist();
    }
    await this.resend(now, active);
  }

  /** Prometheus's rule: firing alerts again every resend_interval, so they never expire while true. */
  private async resend(now: number, active: ActiveAlert[]): Promise<void> {
    for (const c of this.channels) {
      if (c.config.type !== "alertmanager") continue;
      const resendMs = c.config.resend_interval * 1000;
      if (now - c.lastResend < resendMs) continue;
      // Still waiting deliveries go first: a resend must not overtake a queued resolved.
      if (this.outbox.size(c.name) > 0) continue;
      const firing: PostableAlert[] = active.filter((a) => a.phase === "firing").map((a) => ({
        labels: alertLabels(a.labels),
        // The same annotations as the first post: Alertmanager keeps only the latest set.
        annotations: {
          summary: a.summary,
          description: a.description,
          value: a.valueText,
          threshold: a.thresholdText,
        },
        startsAt: a.since,
        endsAt: new Date(now + RESENDS_BEFORE_EXPIRY * resendMs).toISOString(),
      }));
      c.lastResend = now;
      if (firing.length === 0) continue;
      const result = await postAlerts(c.url, firing, { timeoutMs: c.config.timeout * 1000 });
      if (!result.ok) this.log.warn(`alert: channel ${c.name}: resend failed (${result.error})`);
    }
  }

  queued(): number {
    return this.outbox.size();
  }

  /**
   * Sends `n` to each channel (or the one named) at once, past the outbox and the routing: what
   * `alert test` uses to prove a channel works. Returns each channel's outcome.
   */
  async test(
    n: AlertNotification,
    only?: string,
  ): Promise<{ channel: string; ok: boolean; error?: string }[]> {
    const chosen = this.channels.filter((c) => only === undefined || c.name === only);
    const out = [];
    for (const c of chosen) {
      const r = await c.send(c.grouper ? { group: groupOfOne(n) } : { notification: n });
      out.push({
        channel: c.name,
        ok: r.ok,
        ...(r.ok ? {} : { error: r.error ?? `HTTP ${r.status}` }),
      });
    }
    return out;
  }
}
