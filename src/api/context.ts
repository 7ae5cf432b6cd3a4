/** What the HTTP handlers read: the sampler, a scraper, the store, settings. Built by `serve`. */
import type { ActiveAlert, SeriesAnalysis } from "../alert/engine.ts";
import type { DroppedEntities } from "../collect/types.ts";
import type { SysmonConfig } from "../config/sysmon_schema.ts";
import type { Sampler } from "../core/sampler.ts";
import type { Logger } from "../log.ts";
import type { Storage } from "../store/types.ts";
import type { TokenSet } from "./auth.ts";
import type { Scraper } from "./scrape.ts";

export interface ServeContext {
  sampler: Sampler;
  scraper: Scraper;
  /** Recorded data for range queries; absent when there is no data directory. */
  store?: Storage;
  /** Where the store lives, for messages. */
  dataDir?: string;
  /** This process writes the store (serve --record): /readyz then checks that it is writable. */
  recording: boolean;
  serve: SysmonConfig["serve"];
  tokens: TokenSet;
  log: Logger;
  dropped: DroppedEntities;
  /** The sampler's loop is running (false after shutdown began). */
  samplerRunning(): boolean;
  /** Seconds between sampler ticks. */
  interval: number;
  listen: string;
  startedAt: number;
  now(): number;
  /** Pending and firing alerts when the alert engine runs in this process (serve --alert). */
  alerts?: () => ActiveAlert[];
  /** The analyses behind forecast and anomaly rules (serve --alert), for their gauges. */
  analyses?: () => SeriesAnalysis[];
}
