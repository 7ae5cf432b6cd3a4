/** A notification shared by the channel tests: critical cpu_busy on web1, firing since T0. */
import type { GroupMessage } from "../src/alert/grouping.ts";
import type { AlertNotification } from "../src/alert/types.ts";
import type { AlertChannelConfig } from "../src/config/sysmon_schema.ts";

export const T0 = "2025-03-01T10:00:00.000Z";
export const T5 = "2025-03-01T10:05:00.000Z";
export const T9 = "2025-03-01T10:09:30.000Z";

export function firingCritical(patch: Partial<AlertNotification> = {}): AlertNotification {
  return {
    kind: "firing",
    rule: "cpu_busy",
    key: "cpu_busy",
    severity: "critical",
    labels: { alertname: "cpu_busy", severity: "critical", host: "web1", team: "ops" },
    summary: "CPU busy 93.4% on web1",
    description: "CPU usage has been above 90.0% for 5m.",
    value: 93.4,
    valueText: "93.4%",
    threshold: 90,
    thresholdText: "90.0%",
    unit: "percent",
    host: "web1",
    startsAt: T0,
    at: T0,
    ...patch,
  };
}

/** A group message of these alerts (resolved ones among them go to `resolved`). */
export function groupOf(
  alerts: AlertNotification[],
  patch: Partial<GroupMessage> = {},
): GroupMessage {
  return {
    groupKey: `{alertname="${alerts[0]?.rule ?? ""}"}`,
    groupLabels: { alertname: alerts[0]?.rule ?? "" },
    firing: alerts.filter((n) => n.kind !== "resolved"),
    resolved: alerts.filter((n) => n.kind === "resolved"),
    reason: "initial",
    ...patch,
  };
}

/** A channel's configuration: the schema's defaults (a webhook) with `patch` on top. */
export function channelConfig(patch: Partial<AlertChannelConfig> = {}): AlertChannelConfig {
  return {
    type: "webhook",
    url: "",
    url_file: "",
    smtp_host: "",
    smtp_port: 587,
    smtp_security: "starttls",
    smtp_tls_verify: true,
    username: "",
    password: "",
    password_file: "",
    from: "",
    to: [],
    severities: ["warning", "critical"],
    rules: "",
    send_resolved: true,
    max_per_hour: 0,
    timeout: 2,
    resend_interval: 60,
    group_by: ["alertname"],
    group_wait: 30,
    group_interval: 300,
    repeat_interval: 4 * 3600,
    ...patch,
  };
}
