/**
 * The generic webhook channel: one POST per notification with a small, versioned JSON body that a
 * script or chat bridge can consume without knowing sysmon's internals. The shape (version 1):
 *
 *   {
 *     "version": 1,                     // bumped only for incompatible changes
 *     "kind": "firing" | "escalated" | "deescalated" | "resolved",
 *     "status": "firing" | "resolved",  // what Alertmanager-minded receivers switch on
 *     "rule": "cpu_busy",
 *     "key": "cpu_busy" | "fs_space//var", // the series: rule, or rule/entity
 *     "entity": "/var",                 // per-entity rules only
 *     "severity": "warning" | "critical",
 *     "previous": "warning",            // escalated, deescalated, resolved
 *     "labels": { "alertname": "cpu_busy", "severity": "critical", "host": "web1", ... },
 *     "summary": "...", "description": "...",
 *     "value": 93.4 | null, "valueText": "93.4%",
 *     "threshold": 90 | null, "thresholdText": "90.0%",   // the raise threshold of `severity`
 *     "unit": "percent",
 *     "host": "web1",
 *     "startsAt": ISO 8601,             // when the alert began firing (kept through escalations)
 *     "at": ISO 8601,                   // when this transition happened
 *     "endsAt": ISO 8601                // resolved only
 *   }
 *
 * Fields may be added within version 1; receivers should ignore the ones they do not know.
 */
import type { AlertNotification } from "../types.ts";
import { postJson, type PostOptions, type PostResult } from "./http.ts";

export const WEBHOOK_PAYLOAD_VERSION = 1;

/** The documented JSON body for one notification (pure). */
export function webhookPayload(n: AlertNotification): Record<string, unknown> {
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    kind: n.kind,
    status: n.kind === "resolved" ? "resolved" : "firing",
    rule: n.rule,
    key: n.key,
    ...(n.entity !== undefined ? { entity: n.entity } : {}),
    severity: n.severity,
    ...(n.previous !== undefined ? { previous: n.previous } : {}),
    labels: { ...n.labels },
    summary: n.summary,
    description: n.description,
    value: n.value !== null && Number.isFinite(n.value) ? n.value : null,
    valueText: n.valueText,
    threshold: n.threshold,
    thresholdText: n.thresholdText,
    unit: n.unit,
    host: n.host,
    startsAt: n.startsAt,
    at: n.at,
    ...(n.endsAt !== undefined ? { endsAt: n.endsAt } : {}),
  };
}

/** POSTs one notification to a webhook URL (a secret: errors show only its scheme and host). */
export function sendWebhook(
  url: string,
  n: AlertNotification,
  opts: PostOptions,
): Promise<PostResult> {
  return postJson(url, webhookPayload(n), opts);
}
