/** A --from/--to flag as a point in time; a mistake is a usage error naming the flag and the forms. */
import { parseTimePoint, TIME_POINT_FORMS } from "../core/time_point.ts";
import { UsageError } from "./errors.ts";

export function parseTimeFlag(name: string, text: string, now: number): number {
  const t = parseTimePoint(text, now);
  if (t === undefined) {
    throw new UsageError(`--${name}: "${text}" is not a point in time (${TIME_POINT_FORMS})`);
  }
  return t;
}
