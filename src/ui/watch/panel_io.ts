/** Disks and network tables: per-device rates of the last interval, sortable by any column. */
import type { EntityPart } from "../../core/model.ts";
import {
  drawTable,
  sortEntities,
  sortIndex,
  type SortKey,
  type TableCell,
  tableNeed,
  tableView,
} from "./panel_table.ts";
import type { Panel, PanelContext } from "./panel_widgets.ts";
import { gradeStyle, S, worstGrade } from "./style.ts";
import {
  formatAwait,
  formatBitRate,
  formatByteRate,
  formatCompact,
  formatPct,
  maxOrNull,
  num,
  sumOrNull,
} from "./units.ts";

/** iostat's classic await: the mean time of all completed I/Os, reads and writes weighted by count. */
export function diskAwait(d: EntityPart): number | null {
  const r = num(d.disk_reads_per_second), w = num(d.disk_writes_per_second);
  const ra = num(d.disk_read_await_seconds), wa = num(d.disk_write_await_seconds);
  if (r == null || w == null || ra == null || wa == null) return null;
  return r + w === 0 ? 0 : (ra * r + wa * w) / (r + w);
}

const DISK_KEYS: SortKey<EntityPart>[] = [
  "name",
  (d) => num(d.disk_read_bytes_per_second),
  (d) => num(d.disk_write_bytes_per_second),
  (d) => num(d.disk_reads_per_second),
  (d) => num(d.disk_writes_per_second),
  diskAwait,
  (d) => num(d.disk_util_percent),
];

const NET_KEYS: SortKey<EntityPart>[] = [
  "name",
  (n) => num(n.net_rx_bytes_per_second),
  (n) => num(n.net_tx_bytes_per_second),
  (n) => num(n.net_rx_packets_per_second),
  (n) => num(n.net_tx_packets_per_second),
  netFaults,
  netUtil,
];

/** Errors plus drops, both directions, per second. */
export function netFaults(n: EntityPart): number | null {
  return sumOrNull(
    n.net_rx_errors_per_second,
    n.net_tx_errors_per_second,
    n.net_rx_drops_per_second,
    n.net_tx_drops_per_second,
  );
}

/** The busier direction's share of the link speed; null when the speed is unknown. */
export function netUtil(n: EntityPart): number | null {
  return maxOrNull(n.net_rx_utilization_percent, n.net_tx_utilization_percent);
}

/** Entities of a family in the table's current order. */
export function orderedEntities(
  ctx: PanelContext,
  table: "disks" | "network",
): [string, EntityPart][] {
  const family = table === "disks" ? ctx.sample?.disks : ctx.sample?.interfaces;
  const keys = table === "disks" ? DISK_KEYS : NET_KEYS;
  const idx = sortIndex(ctx, table);
  return sortEntities(Object.entries(family ?? {}), keys[idx]);
}

export const disksPanel: Panel = {
  need: (ctx) => tableNeed(Object.keys(ctx.sample?.disks ?? {}).length),
  draw(c, r, ctx) {
    const d = ctx.g.dash;
    const list = orderedEntities(ctx, "disks");
    const rows: TableCell[][] = list.map(([name, disk]) => {
      const util = num(disk.disk_util_percent);
      return [
        { text: name },
        { text: formatByteRate(num(disk.disk_read_bytes_per_second), d) },
        { text: formatByteRate(num(disk.disk_write_bytes_per_second), d) },
        { text: formatCompact(num(disk.disk_reads_per_second), d) },
        { text: formatCompact(num(disk.disk_writes_per_second), d) },
        { text: formatAwait(diskAwait(disk), d) },
        { text: formatPct(util, d), style: ctx.grade("disk_util_percent", util, name) },
      ];
    });
    drawTable(c, r, {
      columns: [
        {
          header: "Disks",
          align: "left",
          priority: 0,
          flex: { keep: 16, min: 6, cut: "end" },
          sort: 0,
        },
        { header: "READ/S", align: "right", priority: 0, sort: 1 },
        { header: "WRITE/S", align: "right", priority: 0, sort: 2 },
        { header: "R/S", align: "right", priority: 2, sort: 3 },
        { header: "W/S", align: "right", priority: 2, sort: 4 },
        { header: "AWAIT", align: "right", priority: 1, sort: 5 },
        { header: "UTIL", align: "right", priority: 0, sort: 6 },
      ],
      rows,
      empty: "no disks",
      ...tableView(ctx, "disks", rows.length, r.height, (i) => i === 0),
    }, ctx.g);
  },
};

export const networkPanel: Panel = {
  need: (ctx) => tableNeed(Object.keys(ctx.sample?.interfaces ?? {}).length),
  draw(c, r, ctx) {
    const d = ctx.g.dash;
    const rate = (v: unknown) =>
      ctx.opts.bits ? formatBitRate(num(v), d) : formatByteRate(num(v), d);
    const list = orderedEntities(ctx, "network");
    const rows: TableCell[][] = list.map(([name, n]) => {
      const errors = worstGrade(
        gradeOf(ctx, "net_rx_errors_per_second", n.net_rx_errors_per_second, name),
        gradeOf(ctx, "net_tx_errors_per_second", n.net_tx_errors_per_second, name),
      );
      const faults = netFaults(n);
      return [
        { text: name },
        { text: rate(n.net_rx_bytes_per_second) },
        { text: rate(n.net_tx_bytes_per_second) },
        { text: formatCompact(num(n.net_rx_packets_per_second), d) },
        { text: formatCompact(num(n.net_tx_packets_per_second), d) },
        {
          text: formatCompact(faults, d),
          style: faults == null ? S.dim : errors === "ok" ? undefined : gradeStyle(errors),
        },
        { text: formatPct(netUtil(n), d) },
      ];
    });
    drawTable(c, r, {
      columns: [
        {
          header: "Network",
          align: "left",
          priority: 0,
          flex: { keep: 16, min: 6, cut: "end" },
          sort: 0,
        },
        { header: "RX/S", align: "right", priority: 0, sort: 1 },
        { header: "TX/S", align: "right", priority: 0, sort: 2 },
        { header: "RXPK/S", align: "right", priority: 2, sort: 3 },
        { header: "TXPK/S", align: "right", priority: 2, sort: 4 },
        { header: "ERR+DRP", align: "right", priority: 1, sort: 5 },
        { header: "UTIL", align: "right", priority: 1, sort: 6 },
      ],
      rows,
      // A down interface is dimmed: its zeros say nothing.
      rowStyles: list.map(([, n]) => (num(n.net_up) === 0 ? S.dim : undefined)),
      empty: "no interfaces",
      ...tableView(ctx, "network", rows.length, r.height, (i) => i === 0),
    }, ctx.g);
  },
};

function gradeOf(ctx: PanelContext, metric: string, v: unknown, entity: string) {
  return ctx.gradeOf(metric, num(v), entity);
}
