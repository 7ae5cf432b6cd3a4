/**
 * Formatters the watch screen needs beyond src/ui/format.ts: bit rates (decimal, as link speeds are
 * quoted), compact event rates, short durations and clock times. Null shows as `dash`.
 */
import { formatBytes, formatMillis, formatRate } from "../format.ts";

const SI_BITS = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "Pbit/s"];

/** Bytes per second shown in bits: 1_250_000 → "10.0 Mbit/s" (three significant digits). */
export function formatBitRate(bytesPerSecond: number | null | undefined, dash: string): string {
  if (bytesPerSecond == null || !Number.isFinite(bytesPerSecond)) return dash;
  let v = Math.abs(bytesPerSecond) * 8;
  let i = 0;
  while (v >= 1000 && i < SI_BITS.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${SI_BITS[i]}`;
}

/** Event rates and counts in at most 5 characters: 0, 3.5, 42, 1234 → "1.2k", 5.6M. */
export function formatCompact(n: number | null | undefined, dash: string): string {
  if (n == null || !Number.isFinite(n)) return dash;
  const v = Math.abs(n);
  const sign = n < 0 ? "-" : "";
  if (v === 0) return "0";
  if (v < 10) return sign + v.toFixed(1);
  if (v < 1000) return sign + v.toFixed(0);
  const units = ["k", "M", "G", "T"];
  let x = v;
  let i = -1;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return sign + (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + units[i];
}

/** A percentage in a fixed 5-character field: "100.0" is shown as "100", null as the dash. */
export function formatPct(p: number | null | undefined, dash: string, withSign = true): string {
  if (p == null || !Number.isFinite(p)) return dash;
  const text = p >= 99.95 ? p.toFixed(0) : p.toFixed(1);
  return withSign ? text + "%" : text;
}

/** 500 → "500ms", 2000 → "2s", 90_000 → "1m30s". */
export function formatInterval(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest === 0 ? `${m}m` : `${m}m${rest}s`;
}

const two = (n: number) => String(n).padStart(2, "0");

/** Local wall-clock time, HH:MM:SS. */
export function clockTime(d: Date): string {
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Local date and time, YYYY-MM-DD HH:MM:SS (replay positions span days). */
export function localDateTime(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clockTime(d)}`;
}

/** A numeric field of an entity record, or null (labels and absent fields are not numbers). */
export function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function sumOrNull(...xs: unknown[]): number | null {
  const ns = xs.map(num);
  return ns.some((n) => n == null) ? null : ns.reduce<number>((a, b) => a + (b as number), 0);
}

export function maxOrNull(...xs: unknown[]): number | null {
  const ns = xs.map(num).filter((n): n is number => n != null);
  return ns.length ? Math.max(...ns) : null;
}

/** IEC size through src/ui/format.ts, with this screen's dash for null. */
export function formatSize(n: number | null | undefined, dash: string): string {
  return n == null || !Number.isFinite(n) ? dash : formatBytes(n);
}

/** IEC bytes per second through src/ui/format.ts, with this screen's dash for null. */
export function formatByteRate(n: number | null | undefined, dash: string): string {
  return n == null || !Number.isFinite(n) ? dash : formatRate(n);
}

/** Await in milliseconds through src/ui/format.ts, with this screen's dash for null. */
export function formatAwait(seconds: number | null | undefined, dash: string): string {
  return seconds == null || !Number.isFinite(seconds) ? dash : formatMillis(seconds);
}
