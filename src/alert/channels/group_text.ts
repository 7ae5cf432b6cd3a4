/**
 * The words every grouped channel (webhook, Slack, e-mail) shares for one group message: its
 * alerts in order, the labels they all carry, and a headline. A message with one alert reads like
 * that alert's own headline, so the common case of a lone alert looks as it always did.
 */
import type { GroupMessage } from "../grouping.ts";
import type { AlertNotification } from "../types.ts";

/** Firing alerts first (worst severity first), then the resolved ones; each part by key. */
export function groupAlerts(msg: GroupMessage): AlertNotification[] {
  const rank = (n: AlertNotification) => (n.severity === "critical" ? 0 : 1);
  const firing = [...msg.firing].sort((a, b) => rank(a) - rank(b));
  return [...firing, ...msg.resolved];
}

/** The labels (name and value) every alert of the message has. */
export function commonLabels(alerts: readonly AlertNotification[]): Record<string, string> {
  if (alerts.length === 0) return {};
  const [first, ...rest] = alerts;
  return Object.fromEntries(
    Object.entries(first.labels).filter(([name, value]) =>
      rest.every((n) => n.labels[name] === value)
    ),
  );
}

/** The one alert of a lone-alert message, else undefined. */
export function loneAlert(msg: GroupMessage): AlertNotification | undefined {
  return msg.firing.length + msg.resolved.length === 1
    ? (msg.firing[0] ?? msg.resolved[0])
    : undefined;
}

/**
 * "[FIRING:3, RESOLVED:1] filesystem_space on web1"; a lone alert keeps its own headline
 * ("[FIRING: critical] cpu_busy on web1").
 */
export function groupHeadline(msg: GroupMessage): string {
  const lone = loneAlert(msg);
  if (lone) return headline(lone);
  const alerts = groupAlerts(msg);
  const counts = [
    ...(msg.firing.length ? [`FIRING:${msg.firing.length}`] : []),
    ...(msg.resolved.length ? [`RESOLVED:${msg.resolved.length}`] : []),
  ];
  const common = commonLabels(alerts);
  const what = common.alertname ??
    (Object.entries(msg.groupLabels).filter(([, v]) => v !== "").map(([k, v]) => `${k}=${v}`)
      .join(" ") || "alerts");
  const host = common.host ?? alerts[0]?.host ?? "";
  return `[${counts.join(", ")}] ${what}${host ? ` on ${host}` : ""}`;
}

/** One alert on one line: "critical /var 96.1% (threshold 95.0%)", or "resolved /var 71.0%". */
export function alertLine(n: AlertNotification): string {
  const what = n.entity ? `${n.rule} ${n.entity}` : n.rule;
  if (n.kind === "resolved") return `resolved ${what}: last ${n.valueText}`;
  const moved = n.kind === "escalated" || n.kind === "deescalated"
    ? ` (${n.kind} from ${n.previous ?? "?"})`
    : "";
  return `${n.severity} ${what}: ${n.valueText} (threshold ${n.thresholdText})${moved}`;
}

/** "[FIRING: critical] cpu_busy on web1", "[ESCALATED: warning → critical] fs_space /var on db". */
export function headline(n: AlertNotification): string {
  const what = n.entity ? `${n.rule} ${n.entity}` : n.rule;
  const state = n.kind === "escalated" || n.kind === "deescalated"
    ? `${n.kind.toUpperCase()}: ${n.previous ?? "?"} → ${n.severity}`
    : `${n.kind === "resolved" ? "RESOLVED" : "FIRING"}: ${n.severity}`;
  return `[${state}] ${what} on ${n.host}`;
}
