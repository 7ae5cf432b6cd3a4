/** Durations as users write them: 500ms, 10s, 5m, 1h, 7d, or combined (1h30m). */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** Parses a duration into seconds; returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < t.length) {
    PART.lastIndex = pos;
    const m = PART.exec(t);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]];
    pos = PART.lastIndex;
  }
  return total;
}

/** Formats seconds back into the shortest exact duration text (10 → "10s", 0.5 → "500ms"). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  let ms = Math.round(seconds * 1000);
  const out: string[] = [];
  for (
    const [unit, size] of [["d", 86400000], ["h", 3600000], ["m", 60000], ["s", 1000]] as const
  ) {
    if (ms >= size) {
      out.push(`${Math.floor(ms / size)}${unit}`);
      ms %= size;
    }
  }
  if (ms > 0) out.push(`${ms}ms`);
  return out.join("");
}
