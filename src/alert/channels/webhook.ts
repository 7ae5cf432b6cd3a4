/**
 * The generic webhook channel: one POST per group message (see ../grouping.ts) with a small,
 * versioned JSON body that a script or chat bridge can consume without knowing sysmon's internals.
 * Its outer shape follows Alertmanager's webhook (status, groupKey, groupLabels, commonLabels,
 * alerts), so receivers written for one read the other. The shape (version 2):
 *
 *   {
 *     "version": 2,                     // bumped only for incompatible changes
 *     "status": "firing" | "resolved",  // firing while any alert of the group fires
 *     "reason": "initial" | "update" | "repeat",  // first message, a change, or a reminder
 *     "groupKey": "{alertname=\"fs_space\"}",
 *     "groupLabels": { "alertname": "fs_space" },   // the channel's group_by labels
 *     "commonLabels": { ... },          // labels every alert of the message has
 *     "host": "web1",
 *     "firing": 2, "resolved": 1,       // how many of each in `alerts`
 *     "alerts": [                       // firing (critical first), then resolved
 *       {
 *         "status": "firing" | "resolved",
 *         "kind": "firing" | "escalated" | "deescalated" | "resolved",  // its latest change
 *         "rule": "fs_space",
 *         "key": "fs_space//var",       // the series: rule, or rule/entity
 *         "entity": "/var",             // per-entity rules only
 *         "severity": "warning" | "critical",
 *         "previous": "warning",        // escalated, deescalated, resolved
 *         "labels": { "alertname": "fs_space", "severity": "critical", "host": "web1", ... },
 *         "summary": "...", "description": "...",
 *         "value": 93.4 | null, "valueText": "93.4%",
 *         "threshold": 90 | null, "thresholdText": "90.0%",   // the raise threshold of `severity`
 *         "unit": "percent",
 *         "host": "web1",
 *         "startsAt": ISO 8601,         // when the alert began firing (kept through escalations)
 *         "at": ISO 8601,               // when its latest change happened
 *         "endsAt": ISO 8601            // resolved only
 *       }
 *     ]
 *   }
 *
 * Fields may be added within version 2; receivers should ignore the ones they do not know.
 */
import type { GroupMessage } from "../grouping.ts";
import type { AlertNotification } from "../types.ts";
import { commonLabels, groupAlerts } from "./group_text.ts";
import { postJson, type PostOptions, type PostResult } from "./http.ts";

export const WEBHOOK_PAYLOAD_VERSION = 2;

/** The documented JSON body for one group message (pure). */
export function webhookPayload(msg: GroupMessage): Record<string, unknown> {
  const alerts = groupAlerts(msg);
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    status: msg.firing.length > 0 ? "firing" : "resolved",
    reason: msg.reason,
    groupKey: msg.groupKey,
    groupLabels: { ...msg.groupLabels },
    commonLabels: commonLabels(alerts),
    host: alerts[0]?.host ?? "",
    firing: msg.firing.length,
    resolved: msg.resolved.length,
    alerts: alerts.map(webhookAlert),
  };
}

/** One alert of the body. */
export function webhookAlert(n: AlertNotification): Record<string, unknown> {
  return {
    status: n.kind === "resolved" ? "resolved" : "firing",
    kind: n.kind,
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

/** POSTs one group message to a webhook URL (a secret: errors show only its scheme and host). */
export function sendWebhook(
  url: string,
  msg: GroupMessage,
  opts: PostOptions,
): Promise<PostResult> {
  return postJson(url, webhookPayload(msg), opts);
}
