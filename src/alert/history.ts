/**
 * Recorded history for forecast and anomaly rules: when the data directory holds recordings (record,
 * serve --record), the 1-minute rollups of the metrics those rules watch are read once at start,
 * so a restarted engine forecasts and judges at once instead of learning for days again.
 */
import type { Runtime } from "../cli/runtime.ts";
import { openRecordedStore } from "../record/store_open.ts";
import { readRange } from "../report/collect.ts";
import { groupOfMetric } from "../store/groups.ts";
import { parseSeriesKey, seriesKey } from "../store/series.ts";
import type { AlertEngine } from "./engine.ts";
import { MINUTE_MS } from "../core/duration.ts";

/**
 * Hands the engine what is recorded of its forecast and anomaly rules' metrics. Never fatal: a
 * directory without recordings or one that cannot be read leaves the rules to learn live.
 */
export async function seedFromRecording(
  engine: AlertEngine,
  rt: Pick<Runtime, "config" | "log">,
  dir: string,
  now = Date.now(),
): Promise<void> {
  const needs = engine.needsHistory();
  if (needs.length === 0) return;
  const hasData = await Deno.stat(`${dir}/FORMAT`).then(() => true, () => false);
  if (!hasData) {
    rt.log.info(
      `alert: no recordings in ${dir}: forecast and anomaly rules learn from live samples ` +
        "(run sysmon record, or serve/record --alert, to give them history)",
    );
    return;
  }
  const metrics = new Set(needs.map((n) => n.metric));
  const seconds = Math.max(...needs.map((n) => n.seconds));
  const to = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const groups = new Set([...metrics].map(groupOfMetric));
  try {
    const store = await openRecordedStore(rt.config, dir, rt.log);
    try {
      const data = await readRange(
        dir,
        store,
        "1m",
        { from: to - seconds * 1000, to },
        (key) => metrics.has(parseSeriesKey(key).metric),
        {
          groups: (g) => groups.has(g),
          onProblem: (p) => rt.log.warn(`alert: reading history: ${p.path}: ${p.message}`),
        },
      );
      engine.seedHistory((metric, entity) => {
        const key = seriesKey(metric, entity);
        const mean = data.series.get(key);
        const ext = data.extremes.get(key);
        return mean && ext
          ? { from: data.from, mean, min: ext.min, max: ext.max, count: ext.count }
          : undefined;
      });
      rt.log.info(
        `alert: forecast and anomaly rules start from ${data.series.size} recorded series ` +
          `(up to ${Math.round(seconds / 3600)} h of 1-minute rollups in ${dir})`,
      );
    } finally {
      await store.close();
    }
  } catch (err) {
    rt.log.warn(
      `alert: cannot read recorded history in ${dir} (${(err as Error).message}); ` +
        "forecast and anomaly rules learn from live samples",
    );
  }
}
