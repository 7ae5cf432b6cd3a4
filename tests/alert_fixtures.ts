/** A notification shared by the channel tests: critical cpu_busy on web1, firing since T0. */
import type { AlertNotification } from "../src/alert/types.ts";

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
