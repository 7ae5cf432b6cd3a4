/**
 * Routing notifications to the configured channels (alert.channels) through the persistent outbox,
 * and Alertmanager's periodic resend of firing alerts. A channel that cannot be set up (no URL, an
 * unreadable url_file) is reported by name and left out; the others work.
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
import { Outbox, type Sender } from "./outbox.ts";
import type { AlertNotification } from "./types.ts";

interface Channel {
  name: string;
  config: AlertChannelConfig;
  url: string;
  rules?: RegExp;
  send: Sender;
  /** Epoch ms of the last Alertmanager resend. */
  lastResend: number;
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
    const channels: Channel[] = [];
    for (const [name, c] of Object.entries(config)) {
      try {
        if (c.type === "email") {
          const settings = await emailSettings(name, c);
          channels.push({
            name,
            config: c,
            url: "",
            ...(c.rules ? { rules: new RegExp(c.rules) } : {}),
            send: createEmailSender(settings),
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
          ? (n) => sendSlack(url, n, opts)
          : c.type === "webhook"
          ? (n) => sendWebhook(url, n, opts)
          : (n) => postAlerts(url, alertmanagerTransition(n, Date.now(), resendMs), opts);
        channels.push({
          name,
          config: c,
          url,
          ...(c.rules ? { rules: new RegExp(c.rules) } : {}),
          send,
          lastResend: 0,
        });
        log.info(`alert: channel ${name} (${c.type}) to ${redactUrl(url)}`);
      } catch (err) {
        log.error(`${(err as Error).message}; the other channels work`);
      }
    }
    const outbox = new Outbox(outboxPath);
    const queued = await outbox.load();
    if (queued > 0) log.info(`alert: ${queued} queued deliveries restored from ${outboxPath}`);
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
      await this.outbox.save();
      this.dirty = false;
    } catch (err) {
      this.log.error(`alert: ${(err as Error).message}; deliveries are kept in memory meanwhile`);
    }
  }

  /**
   * Queues `n` for every channel whose severities, rules and send_resolved take it. A silenced
   * notification goes only to Alertmanager, which applies silences of its own (amtool).
   */
  route(n: AlertNotification, now: number, opts: { silenced?: boolean } = {}): void {
    for (const c of this.channels) {
      if (opts.silenced && c.config.type !== "alertmanager") continue;
      if (!c.config.severities.includes(n.severity)) continue;
      if (c.rules && !c.rules.test(n.rule)) continue;
      if (n.kind === "resolved" && !c.config.send_resolved) continue;
      this.dirty = true;
      for (const lost of this.outbox.add(c.name, n, now)) {
        this.log.error(
          `alert: channel ${c.name}: outbox full, the oldest delivery (${lost.notification.kind} ` +
            `${lost.notification.key}) dropped`,
        );
      }
    }
  }

  /** Delivers what is due, saves the outbox, and resends firing alerts to Alertmanager. */
  async flush(now: number, active: ActiveAlert[]): Promise<void> {
    const senders = new Map(this.channels.map((c) => [c.name, c.send]));
    const limits = new Map(this.channels.map((c) => [c.name, c.config.max_per_hour]));
    const report = await this.outbox.deliver(senders, now, limits);
    for (const { entry, error } of report.dropped) {
      this.log.error(
        `alert: channel ${entry.channel} refused ${entry.notification.kind} ${entry.notification.key} ` +
          `for good (${error}); dropped`,
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
      const r = await c.send(n);
      out.push({
        channel: c.name,
        ok: r.ok,
        ...(r.ok ? {} : { error: r.error ?? `HTTP ${r.status}` }),
      });
    }
    return out;
  }
}
