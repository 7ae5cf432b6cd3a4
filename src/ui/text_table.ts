/** A plain aligned text table (no box drawing), truncated to a width so it reads at 80 columns. */

export interface Column {
  header: string;
  align?: "left" | "right";
  /** The column that gives way (truncated with …) when the table is wider than the width. */
  flexible?: boolean;
}

// deno-lint-ignore no-control-regex -- ANSI colour codes are what this strips
const ANSI = /\x1b\[[0-9;]*m/g;
const visibleLength = (s: string) => s.replace(ANSI, "").length;

function pad(s: string, width: number, align: "left" | "right") {
  const gap = " ".repeat(Math.max(0, width - visibleLength(s)));
  return align === "right" ? gap + s : s + gap;
}

function truncate(s: string, width: number) {
  return visibleLength(s) <= width ? s : s.replace(ANSI, "").slice(0, Math.max(1, width - 1)) + "…";
}

export function renderTable(columns: Column[], rows: string[][], maxWidth = 80): string {
  const widths = columns.map((c, i) =>
    Math.max(visibleLength(c.header), ...rows.map((r) => visibleLength(r[i] ?? "")))
  );
  const total = widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  const flex = columns.findIndex((c) => c.flexible);
  if (total > maxWidth && flex >= 0) {
    widths[flex] = Math.max(visibleLength(columns[flex].header), widths[flex] - (total - maxWidth));
  }
  const line = (cells: string[]) =>
    cells.map((cell, i) => {
      const text = i === flex ? truncate(cell, widths[i]) : cell;
      return pad(text, widths[i], columns[i].align ?? "left");
    }).join("  ").trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join("\n");
}
