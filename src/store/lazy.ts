/**
 * A Storage that opens the real one on first use. `serve` answers range queries only when someone
 * asks, so the store's code (a dozen modules) is not loaded, nor its memory taken, until then.
 */
import type { Sample } from "../core/model.ts";
import type { Point, RangeQuery, Storage, StoreInfo, StoreStats } from "./types.ts";

export function lazyStorage(open: () => Promise<Storage>): Storage {
  let opened: Promise<Storage> | undefined;
  let store: Storage | undefined;
  const get = () =>
    opened ??= open().then((s) => {
      store = s;
      return s;
    });
  const idle: StoreStats = {
    samplesWritten: 0,
    samplesBuffered: 0,
    samplesDropped: 0,
    writeErrors: 0,
    linesSkipped: 0,
  };
  return {
    write: async (sample: Sample) => (await get()).write(sample),
    flush: async () => (await get()).flush(),
    async *query(q: RangeQuery): AsyncIterable<Point> {
      yield* (await get()).query(q);
    },
    async *samples(from: number, to: number): AsyncIterable<Sample> {
      yield* (await get()).samples(from, to);
    },
    info: async (opts?: { sizes?: boolean }): Promise<StoreInfo> => (await get()).info(opts),
    stats: () => store?.stats() ?? { ...idle },
    writable: () => store?.writable() ?? true,
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}
