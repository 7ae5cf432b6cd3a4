/**
 * Formatting of report figures by the model's units (docs/metrics.md): percent 0–100, bytes (IEC),
 * bytes/s, seconds, counts and per-second event rates, plus UTC times and durations. Pure; a
 * missing or non-finite figure shows as an em dash, never "NaN".
 */

export const DASH = "—";

const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
const SI = ["", "k", "M", "G", "T", "P"];
const DAY_S = 86_400;

/** Three significant digits without trailing zeros: 1.50 → "1.5", 12.0 → "12", 512 → "512". */
function sig3(v: number): string {
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  const text = v.toFixed(digits);
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** 1536 → "1.5 KiB", 1_610_612_736 → "1.5 GiB". */
export function formatBytesIec(n: number): string {
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  // 1023.9 KiB rounds to "1024 KiB": show it as the next unit instead.
  if (i < IEC.length - 1 && Number(sig3(v)) >= 1024) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? "-" : ""}${sig3(v)} ${IEC[i]}`;
}

/** Counts: "12,345" up to a million, then "1.23M"; fractions with three significant digits. */
export function formatCount(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) {
    let v = a;
    let i = 0;
    while (v >= 1000 && i < SI.length - 1) {
      v /= 1000;
      i++;
    }
    return `${n < 0 ? "-" : ""}${sig3(v)}${SI[i]}`;
  }
  if (Number.isInteger(n) || a >= 1000) return group(Math.round(n));
  if (a === 0) return "0";
  if (a < 0.01) return n.toPrecision(2);
  return sig3(n);
}

function group(n: number): string {
  const s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return n < 0 ? `-${s}` : s;
}

/** 93.42 → "93.4%"; small non-zero shares keep two decimals ("0.05%"). */
export function formatPercentValue(p: number): string {
  const a = Math.abs(p);
  return `${p.toFixed(a > 0 && a < 1 ? 2 : 1)}%`;
}

/** A span of time in words: "250 ms", "4.2 s", "1 min 30 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return DASH;
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(seconds);
  if (s === 0) return "0 s";
  if (s < 1) return `${sign}${sig3(s * 1000)} ms`;
  if (s < 60) return `${sign}${sig3(s)} s`;
  const total = Math.round(s);
  const d = Math.floor(total / DAY_S);
  const h = Math.floor((total % DAY_S) / 3600);
  const m = Math.floor((total % 3600) / 60);
  if (d > 0) return `${sign}${d} d${h > 0 ? ` ${h} h` : ""}`;
  if (h > 0) return `${sign}${h} h${m > 0 ? ` ${m} min` : ""}`;
  const sec = total % 60;
  return `${sign}${m} min${m < 10 && sec > 0 ? ` ${sec} s` : ""}`;
}

/** A value in its unit; unknown units print the number followed by the unit's name. */
export function formatValue(v: number | null | undefined, unit: string): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  switch (unit) {
    case "percent":
      return formatPercentValue(v);
    case "bytes":
      return formatBytesIec(v);
    case "bytes/s":
      return `${formatBytesIec(v)}/s`;
    case "seconds":
      return formatDuration(v);
    case "count":
      return formatCount(v);
    case "1/s":
      return `${formatCount(v)}/s`;
    case "ratio":
      return sig3(v);
    default:
      return unit ? `${formatCount(v)} ${unit}` : formatCount(v);
  }
}

/** Growth per day: "+1.2 GiB/day", "+0.82 pp/day" (percentage points), "+3.1 MiB/s per day". */
export function formatGrowthPerDay(v: number | null | undefined, unit: string): string {
  if (v == null || !Number.isFinite(v)) return DASH;
  const sign = v > 0 ? "+" : v < 0 ? "-" : "";
  const a = Math.abs(v);
  if (unit === "percent") return `${sign}${a > 0 && a < 1 ? a.toFixed(2) : a.toFixed(1)} pp/day`;
  const text = formatValue(a, unit);
  return unit.endsWith("/s") ? `${sign}${text} per day` : `${sign}${text}/day`;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Parses an ISO 8601 time; null when it is not one. */
export function parseTime(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isFinite(d.getTime()) ? d : null;
}

/** "2024-05-08" in UTC; a string that is not a time is returned unchanged. */
export function formatUtcDate(iso: string): string {
  const d = parseTime(iso);
  if (!d) return iso;
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** "2024-05-08 09:12 UTC"; a string that is not a time is returned unchanged. */
export function formatUtc(iso: string): string {
  const d = parseTime(iso);
  if (!d) return iso;
  return `${formatUtcDate(iso)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} UTC`;
}

/** Seconds between two ISO times, or null when either is not a time. */
export function secondsBetween(fromIso: string, toIso: string): number | null {
  const a = parseTime(fromIso);
  const b = parseTime(toIso);
  return a && b ? (b.getTime() - a.getTime()) / 1000 : null;
}

/** How far `iso` lies after `nowIso`: "in 12 d", "in 5 h", "3 d ago"; null when not computable. */
export function formatRelative(iso: string, nowIso: string): string | null {
  const s = secondsBetween(nowIso, iso);
  if (s == null) return null;
  const text = formatDuration(Math.abs(s)).replace(/ \d+ (h|min|s)$/, "");
  return s >= 0 ? `in ${text}` : `${text} ago`;
}
