/** `snapshot --format table`: a sample rendered for people, readable at 80 columns. Pure. */
import type { EntityPart, Sample } from "../core/model.ts";
import { formatBytes, formatMillis, formatNumber, formatPercent, formatRate } from "./format.ts";
import { renderTable } from "./text_table.ts";

export interface ViewOptions {
  color: boolean;
  width?: number;
}

const RED = "\x1b[31m", YELLOW = "\x1b[33m", BOLD = "\x1b[1m", RESET = "\x1b[0m";

/** Usage colours until the alert rules (issue 5) provide thresholds: ≥ 90 % red, ≥ 75 % yellow. */
function pct(v: unknown, o: ViewOptions): string {
  const p = typeof v === "number" ? v : null;
  const text = formatPercent(p);
  if (!o.color || p == null) return text;
  return p >= 90 ? RED + text + RESET : p >= 75 ? YELLOW + text + RESET : text;
}

const num = (v: unknown) => (typeof v === "number" ? v : null);
const heading = (s: string, o: ViewOptions) => (o.color ? BOLD + s + RESET : s);

function summary(s: Sample, o: ViewOptions): string[] {
  const m = s.metrics;
  const lines: string[] = [];
  if ("cpu_usage_percent" in m) {
    lines.push(
      `CPU      ${pct(m.cpu_usage_percent, o)} used  user ${formatPercent(m.cpu_user_percent)}` +
        `  sys ${formatPercent(m.cpu_system_percent)}  iowait ${
          formatPercent(m.cpu_iowait_percent)
        }` +
        `  steal ${formatPercent(m.cpu_steal_percent)}`,
    );
    lines.push(
      `         ${formatNumber(m.cpu_cores_online, 0)} cores online  ` +
        `${formatNumber(m.cpu_context_switches_per_second, 0)} ctxsw/s  ` +
        `running ${formatNumber(m.processes_running, 0)}  blocked ${
          formatNumber(m.processes_blocked, 0)
        }`,
    );
  }
  if ("load_average_1m" in m) {
    lines.push(
      `Load     ${formatNumber(m.load_average_1m, 2)} ${formatNumber(m.load_average_5m, 2)} ` +
        `${formatNumber(m.load_average_15m, 2)}  (1m 5m 15m)`,
    );
  }
  if ("memory_total" in m) {
    lines.push(
      `Memory   ${formatBytes(m.memory_used)} used of ${formatBytes(m.memory_total)} ` +
        `(${pct(m.memory_usage_percent, o)})  avail ${formatBytes(m.memory_available)}`,
    );
    lines.push(
      `         cached ${formatBytes(m.memory_cached)}  buffers ${formatBytes(m.memory_buffers)}` +
        `  free ${formatBytes(m.memory_free)}`,
    );
    lines.push(
      m.swap_total
        ? `Swap     ${formatBytes(m.swap_used)} used of ${formatBytes(m.swap_total)} (${
          pct(m.swap_usage_percent, o)
        })`
        : "Swap     none",
    );
  }
  const psi = ["cpu", "memory", "io"].filter((r) => `pressure_${r}_some_avg10` in m);
  if (psi.length > 0) {
    lines.push(
      "Pressure " +
        psi.map((r) => `${r} ${formatPercent(m[`pressure_${r}_some_avg10`], 2)}`).join("  ") +
        "  (some, avg10)",
    );
  }
  return lines;
}

function entityTable(
  title: string,
  entities: Record<string, EntityPart>,
  columns: [string, (e: EntityPart, name: string) => string, "left" | "right"][],
  o: ViewOptions,
): string[] {
  const names = Object.keys(entities);
  if (names.length === 0) return [];
  const rows = names.map((n) => columns.map(([, f]) => f(entities[n], n)));
  const table = renderTable(
    columns.map(([header, , align], i) => ({ header, align, flexible: i === 0 })),
    rows,
    o.width ?? 80,
  );
  return ["", heading(title, o), table];
}

export function renderSnapshotTable(s: Sample, o: ViewOptions): string {
  const local = new Date(s.timestamp).toLocaleString("sv-SE").replace(" ", " ");
  const window = s.interval == null
    ? "no rates (one reading)"
    : `rates over ${s.interval.toFixed(1)} s`;
  const out: string[] = [heading(`${s.host}  ${local}  ${window}`, o), ...summary(s, o)];
  out.push(
    ...entityTable("CPU cores", s.cores, [
      ["CORE", (_e, n) => n, "left"],
      ["USAGE", (e) => pct(e.core_usage_percent, o), "right"],
      ["USER", (e) => formatPercent(num(e.core_user_percent)), "right"],
      ["SYSTEM", (e) => formatPercent(num(e.core_system_percent)), "right"],
      ["IOWAIT", (e) => formatPercent(num(e.core_iowait_percent)), "right"],
      ["STEAL", (e) => formatPercent(num(e.core_steal_percent)), "right"],
    ], o),
    ...entityTable("Disks", s.disks, [
      ["DISK", (_e, n) => n, "left"],
      ["READ/S", (e) => formatRate(num(e.disk_read_bytes_per_second)), "right"],
      ["WRITE/S", (e) => formatRate(num(e.disk_write_bytes_per_second)), "right"],
      ["R/S", (e) => formatNumber(num(e.disk_reads_per_second)), "right"],
      ["W/S", (e) => formatNumber(num(e.disk_writes_per_second)), "right"],
      ["R_AWAIT", (e) => formatMillis(num(e.disk_read_await_seconds)), "right"],
      ["W_AWAIT", (e) => formatMillis(num(e.disk_write_await_seconds)), "right"],
      ["UTIL", (e) => pct(e.disk_util_percent, o), "right"],
    ], o),
    ...entityTable("Network", s.interfaces, [
      ["IFACE", (_e, n) => n, "left"],
      ["RX/S", (e) => formatRate(num(e.net_rx_bytes_per_second)), "right"],
      ["TX/S", (e) => formatRate(num(e.net_tx_bytes_per_second)), "right"],
      ["RX PKT/S", (e) => formatNumber(num(e.net_rx_packets_per_second)), "right"],
      ["TX PKT/S", (e) => formatNumber(num(e.net_tx_packets_per_second)), "right"],
      [
        "ERR/S",
        (e) => formatNumber(sum(e.net_rx_errors_per_second, e.net_tx_errors_per_second)),
        "right",
      ],
      [
        "DROP/S",
        (e) => formatNumber(sum(e.net_rx_drops_per_second, e.net_tx_drops_per_second)),
        "right",
      ],
      [
        "UTIL",
        (e) => pct(maxOf(e.net_rx_utilization_percent, e.net_tx_utilization_percent), o),
        "right",
      ],
    ], o),
    ...entityTable("Filesystems", s.filesystems, [
      ["MOUNT", (_e, n) => n, "left"],
      ["TYPE", (e) => String(e.fstype ?? ""), "left"],
      ["SIZE", (e) => formatBytes(num(e.filesystem_size)), "right"],
      ["USED", (e) => formatBytes(num(e.filesystem_used)), "right"],
      ["AVAIL", (e) => formatBytes(num(e.filesystem_available)), "right"],
      ["USE%", (e) => pct(e.filesystem_usage_percent, o), "right"],
      ["INODE%", (e) => pct(e.filesystem_inodes_usage_percent, o), "right"],
    ], o),
  );
  if (s.errors.length > 0) {
    out.push("", heading("Errors", o), ...s.errors.map((e) => `  ${e.collector}: ${e.message}`));
  }
  return out.join("\n") + "\n";
}

function sum(a: unknown, b: unknown): number | null {
  return typeof a === "number" && typeof b === "number" ? a + b : null;
}

function maxOf(a: unknown, b: unknown): number | null {
  const xs = [a, b].filter((x): x is number => typeof x === "number");
  return xs.length ? Math.max(...xs) : null;
}
