/** Filesystems table: per mount point size, used, available, a usage bar with df's Use% and IUse%. */
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
import { formatPct, formatSize, num } from "./units.ts";

/** In SORT_COLUMNS.filesystems order. */
const FS_KEYS: SortKey<EntityPart>[] = [
  (f) => num(f.filesystem_usage_percent),
  (f) => num(f.filesystem_inodes_usage_percent),
  (f) => num(f.filesystem_size),
  (f) => num(f.filesystem_used),
  (f) => num(f.filesystem_available),
  "name",
];

export function orderedFilesystems(ctx: PanelContext): [string, EntityPart][] {
  const idx = sortIndex(ctx, "filesystems");
  return sortEntities(Object.entries(ctx.sample?.filesystems ?? {}), FS_KEYS[idx]);
}

export const filesystemsPanel: Panel = {
  need: (ctx) => tableNeed(Object.keys(ctx.sample?.filesystems ?? {}).length),
  draw(c, r, ctx) {
    const d = ctx.g.dash;
    const list = orderedFilesystems(ctx);
    const rows: TableCell[][] = list.map(([mount, f]) => {
      const use = num(f.filesystem_usage_percent);
      const inodes = num(f.filesystem_inodes_usage_percent);
      return [
        { text: mount },
        { text: typeof f.fstype === "string" ? f.fstype : "" },
        { text: formatSize(num(f.filesystem_size), d) },
        { text: formatSize(num(f.filesystem_used), d) },
        { text: formatSize(num(f.filesystem_available), d) },
        {
          text: formatPct(use, d),
          bar: use,
          style: ctx.grade("filesystem_usage_percent", use, mount),
        },
        {
          text: formatPct(inodes, d),
          style: ctx.grade("filesystem_inodes_usage_percent", inodes, mount),
        },
      ];
    });
    drawTable(c, r, {
      columns: [
        {
          header: "Filesystems",
          align: "left",
          priority: 0,
          flex: { keep: 16, min: 8, cut: "start" },
          sort: 5,
        },
        { header: "TYPE", align: "left", priority: 4 },
        { header: "SIZE", align: "right", priority: 2, sort: 2 },
        { header: "USED", align: "right", priority: 3, sort: 3 },
        { header: "AVAIL", align: "right", priority: 1, sort: 4 },
        { header: "USE", align: "left", priority: 0, bar: { min: 6, max: 24 }, sort: 0 },
        { header: "INODES", align: "right", priority: 0, sort: 1 },
      ],
      rows,
      empty: "no filesystems",
      ...tableView(ctx, "filesystems", rows.length, r.height, (i) => FS_KEYS[i] === "name"),
    }, ctx.g);
  },
};
