/** Metrics that need two families: network utilisation = netdev byte rates over netclass speed. */
import type { MetricDef, Sample } from "./model.ts";
import { utilizationPercent } from "../collect/netclass.ts";

export function joinDerived(sample: Sample): void {
  for (const name in sample.interfaces) {
    const nic = sample.interfaces[name];
    if (!("net_rx_bytes_per_second" in nic)) continue; // netclass-only entry (netdev filtered it out)
    const speed = nic.net_speed_bytes_per_second as number | null | undefined;
    nic.net_rx_utilization_percent = utilizationPercent(
      nic.net_rx_bytes_per_second as number,
      speed,
    );
    nic.net_tx_utilization_percent = utilizationPercent(
      nic.net_tx_bytes_per_second as number,
      speed,
    );
  }
}

/** Catalogue entries for the metrics this module adds (they belong to no single family). */
export const joinedDefs: MetricDef[] = ["rx", "tx"].map((dir) => ({
  name: `net_${dir}_utilization_percent`,
  scope: "interfaces",
  unit: "percent",
  kind: "rate",
  source: "/proc/net/dev, /sys/class/net/<iface>/speed",
  formula:
    `net_${dir}_bytes_per_second × 8 ÷ (speed Mb/s × 10⁶) × 100, capped at 100; null when the speed is unknown`,
  help: `${dir === "rx" ? "Received" : "Transmitted"} bandwidth as a share of the link speed`,
}));
