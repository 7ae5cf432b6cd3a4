/** Bounded cardinality: a family keeps at most `max_entities` entities; the excess is counted and logged. */
import type { CollectorContext } from "./types.ts";

/**
 * Returns the first `max` names (in the given order) and records how many were cut. The log line is
 * written when the cut count changes, not on every tick.
 */
export function limitEntities<T>(
  ctx: CollectorContext,
  family: string,
  items: T[],
): T[] {
  const max = ctx.config.max_entities;
  const cut = Math.max(0, items.length - max);
  const before = ctx.dropped.get(family) ?? 0;
  if (cut !== before) {
    ctx.dropped.set(family, cut);
    if (cut > 0) {
      ctx.log.warn(`${family}: ${items.length} entities exceed collectors.max_entities=${max}`, {
        collector: family,
        dropped: cut,
      });
    }
  }
  return cut > 0 ? items.slice(0, max) : items;
}
