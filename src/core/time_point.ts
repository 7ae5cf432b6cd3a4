/**
 * Points in time as the CLI contract writes them: ISO 8601 (UTC unless it says otherwise), Unix
 * seconds (fractions allowed), "now", or relative to now (-24h, -7d, -90s).
 */
import { parseDuration } from "./duration.ts";

/** Epoch milliseconds, or undefined when the text is none of the accepted forms. */
export function parseTimePoint(text: string, now: number): number | undefined {
  const t = text.trim();
  if (t === "now") return now;
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (t.startsWith("-")) {
    const d = parseDuration(t.slice(1));
    return d === undefined ? undefined : now - d * 1000;
  }
  // Date.parse accepts many loose forms; ask for an ISO shape first.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    return undefined;
  }
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(t) && t.length > 10;
  const ms = Date.parse(
    hasZone ? t.replace(" ", "T") : `${t.replace(" ", "T")}${t.length === 10 ? "T00:00:00" : ""}Z`,
  );
  return Number.isFinite(ms) ? ms : undefined;
}

export const TIME_POINT_FORMS =
  "ISO 8601 (2026-11-27T10:00:00Z), Unix seconds, now, or relative (-1h, -7d)";
