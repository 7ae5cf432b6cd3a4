/**
 * The Alertmanager channel: notifications become API v2 postable alerts, POSTed to
 * {base}/api/v2/alerts as Prometheus does, so Alertmanager's grouping, inhibition, silences and
 * receivers apply to sysmon's alerts unchanged.
 *
 * Alertmanager knows an alert by its label set alone. Ours carries `severity`, which changes when an
 * alert escalates or de-escalates: to Alertmanager that is a different alert, and the old one would
 * keep firing until it expired. So a severity change must resolve the old-severity alert (send it
 * with endsAt) and fire the new one: `alertmanagerTransition` returns both, and the engine must send
 * them together. `alertmanagerAlerts` does this for a batch.
 *
 * Firing alerts carry endsAt = now + 4 × the resend interval, as Prometheus does: the engine must
 * resend firing alerts at least that often (a "firing" notification of the current severity), and
 * if sysmon dies they expire in Alertmanager instead of firing forever. Resolved alerts carry the
 * moment they resolved.
 */
import type { AlertNotification } from "../types.ts";
import { postJson, type PostOptions, type PostResult } from "./http.ts";

/** One element of Alertmanager's postableAlerts (api/v2/openapi.yaml). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339. */
  startsAt: string;
  /** RFC 3339; absent lets Alertmanager apply its resolve_timeout. */
  endsAt?: string;
  generatorURL?: string;
}

export interface AlertmanagerTiming {
  /** Epoch ms the alerts are sent. */
  now: number;
  /** How often the engine resends firing alerts, in ms. */
  resendMs: number;
}

/** Firing alerts expire after this many missed resends (Prometheus's factor). */
export const RESENDS_BEFORE_EXPIRY = 4;

/** When the alert ends: firing → now + 4 × resend interval; resolved → when it resolved. */
export function endsAtFor(n: AlertNotification, now: number, resendMs: number): string {
  if (n.kind === "resolved") return n.endsAt ?? n.at;
  return new Date(now + RESENDS_BEFORE_EXPIRY * resendMs).toISOString();
}

/**
 * The alerts that tell Alertmanager about one transition: "firing" and "resolved" give one;
 * "escalated" and "deescalated" give the previous severity's alert ended at the moment of the
 * change (`n.at`: a retried delivery must not move it) and the new severity's alert firing.
 */
export function alertmanagerTransition(
  n: AlertNotification,
  now: number,
  resendMs: number,
  generatorURL?: string,
): PostableAlert[] {
  return transitionAlerts(n, { now, resendMs }, generatorURL);
}

/**
 * The postable alerts for a batch of notifications (severity changes expand to two each). Without
 * `timing`, firing alerts carry no endsAt and Alertmanager's resolve_timeout ends them.
 */
export function alertmanagerAlerts(
  ns: AlertNotification[],
  generatorURL?: string,
  timing?: AlertmanagerTiming,
): PostableAlert[] {
  return ns.flatMap((n) => transitionAlerts(n, timing, generatorURL));
}

/** POSTs alerts to {baseUrl}/api/v2/alerts; nothing to send is a success without a request. */
export function postAlerts(
  baseUrl: string,
  alerts: unknown[],
  opts: PostOptions,
): Promise<PostResult> {
  if (alerts.length === 0) return Promise.resolve({ ok: true, retryable: false });
  return postJson(alertsUrl(baseUrl), alerts, opts);
}

/** The alerts endpoint under a base URL (which may carry a path prefix, or be the endpoint). */
export function alertsUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  return base.endsWith("/api/v2/alerts") ? base : `${base}/api/v2/alerts`;
}

function transitionAlerts(
  n: AlertNotification,
  timing: AlertmanagerTiming | undefined,
  generatorURL: string | undefined,
): PostableAlert[] {
  const labels = alertLabels(n.labels);
  const current = postable(n, labels, endsAt(n, timing), generatorURL);
  const changed = n.kind === "escalated" || n.kind === "deescalated";
  // A rule label may pin `severity`; then the label set (the alert) did not change.
  if (!changed || !n.previous || labels.severity !== n.severity) return [current];
  const old = postable(n, { ...labels, severity: n.previous }, n.at, generatorURL);
  return [old, current];
}

function endsAt(n: AlertNotification, timing: AlertmanagerTiming | undefined): string | undefined {
  if (n.kind === "resolved") return n.endsAt ?? n.at;
  return timing ? endsAtFor(n, timing.now, timing.resendMs) : undefined;
}

function postable(
  n: AlertNotification,
  labels: Record<string, string>,
  end: string | undefined,
  generatorURL: string | undefined,
): PostableAlert {
  const alert: PostableAlert = {
    labels,
    annotations: {
      summary: n.summary,
      description: n.description,
      value: n.valueText,
      threshold: n.thresholdText,
    },
    startsAt: n.startsAt,
  };
  // Alertmanager rejects endsAt before startsAt (a clock step could make it so).
  if (end !== undefined) alert.endsAt = Date.parse(end) < Date.parse(n.startsAt) ? n.startsAt : end;
  // An unparseable generatorURL would make Alertmanager refuse the whole batch.
  if (generatorURL && URL.canParse(generatorURL)) alert.generatorURL = generatorURL;
  return alert;
}

/**
 * Labels Alertmanager accepts: names as Prometheus allows them ([a-zA-Z_][a-zA-Z0-9_]*, other
 * characters become "_"), and no empty values (to Prometheus an empty label is an absent one).
 * Sorted by name, so the same alert always serializes the same way.
 */
export function alertLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) { // sorted: which of two colliding names wins is stable
    const value = labels[name];
    if (value === "") continue;
    let clean = name.replace(/[^a-zA-Z0-9_]/g, "_");
    if (!/^[a-zA-Z_]/.test(clean)) clean = `_${clean}`;
    if (!(clean in out)) out[clean] = value;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
