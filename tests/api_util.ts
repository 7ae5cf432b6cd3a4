/**
 * A ServeContext over a fixture tree, for handler tests through `app.request()` (no socket).
 *
 * The fixture is copied to a temporary directory and read twice by a Sampler on a fake clock, with
 * the shape's `later/` counters (read 10 s after the main tree) laid over the copy in between, so
 * the latest sample has real, deterministic rates. /metrics scrapes read the copy (the later state).
 * Filesystems answer statfs from the fixture's statfs.json, as the filesystem tests do.
 */
import { createApp } from "../src/api/app.ts";
import { hashToken, tokenSetFromHashes } from "../src/api/auth.ts";
import type { ServeContext } from "../src/api/context.ts";
import { Scraper } from "../src/api/scrape.ts";
import { ALL_FAMILIES } from "../src/collect/index.ts";
import { createFilesystemReader, type FilesystemData } from "../src/collect/filesystem.ts";
import type { CollectorContext, Family, PartialErrors, Roots } from "../src/collect/types.ts";
import { EMBEDDED_DEFAULTS } from "../src/config/defaults.gen.ts";
import type { SysmonConfig } from "../src/config/sysmon_schema.ts";
import { type Clock, Sampler } from "../src/core/sampler.ts";
import { memoryLogger } from "../src/log.ts";
import type { Storage, StoreStats } from "../src/store/types.ts";
import { FIXTURES, fixtureStatfs, testCollectorsConfig } from "./helpers.ts";

export type ServeConfig = SysmonConfig["serve"];

/** Wall time of the sampler's second (latest) reading: 2026-03-01T00:00:10Z. */
export const SAMPLE_TIME = Date.parse("2026-03-01T00:00:10Z");
/** What `ctx.now()` answers: a minute after the latest sample. */
export const NOW = SAMPLE_TIME + 60_000;
export const TEST_HOST = "fixture-host";

export interface ServeContextOptions {
  /** Fixture shape (tests/fixtures/<shape>); linux-6.18-vm by default. */
  shape?: string;
  /** Plaintext tokens; their hashes become the accepted set. */
  tokens?: string[];
  /** Changes to the default `serve` section. */
  serve?: (s: ServeConfig) => void;
  store?: Storage;
  dataDir?: string;
  recording?: boolean;
  samplerRunning?: () => boolean;
}

export interface TestServe {
  ctx: ServeContext;
  app: ReturnType<typeof createApp>;
  log: ReturnType<typeof memoryLogger>;
  /** The copied fixture root (procfs, sysfs and rootfs below it). */
  root: string;
  /** `app.request` with a path relative to http://localhost. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Removes the copied fixture tree. */
  close(): Promise<void>;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    const src = `${from}/${e.name}`;
    const dst = `${to}/${e.name}`;
    if (e.isDirectory) await copyTree(src, dst);
    else if (e.isFile) await Deno.copyFile(src, dst);
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The filesystem family answering statfs from `statfs.json` of the shape. */
function fixtureFilesystemFamily(shape: string, roots: Roots): Family<PartialErrors> {
  const statfs = fixtureStatfs(shape, roots);
  const base = ALL_FAMILIES.find((f) => f.name === "filesystem")! as unknown as Family<
    FilesystemData
  >;
  return {
    ...base,
    create: (ctx: CollectorContext) => createFilesystemReader(ctx, statfs),
  } as unknown as Family<PartialErrors>;
}

/** A copy of the default `serve` section (not config/default.yaml: the embedded defaults). */
export function defaultServeConfig(): ServeConfig {
  return structuredClone(EMBEDDED_DEFAULTS.serve);
}

/** Builds the context and the app; call `close()` when done. */
export async function buildTestServe(opts: ServeContextOptions = {}): Promise<TestServe> {
  const shape = opts.shape ?? "linux-6.18-vm";
  const root = await Deno.makeTempDir({ prefix: "sysmon-api-" });
  const fixture = `${FIXTURES}${shape}`;
  for (const part of ["proc", "sys"]) await copyTree(`${fixture}/${part}`, `${root}/${part}`);
  const roots: Roots = { procfs: `${root}/proc`, sysfs: `${root}/sys`, rootfs: `${root}/rootfs` };

  const log = memoryLogger();
  const collectorCtx: CollectorContext = {
    roots,
    config: testCollectorsConfig(),
    log,
    dropped: new Map(),
  };
  const families = ALL_FAMILIES.map((f) =>
    f.name === "filesystem" ? fixtureFilesystemFamily(shape, roots) : f
  );

  let mono = 1_000;
  let wall = SAMPLE_TIME - 10_000;
  const clock: Clock = { mono: () => mono, wall: () => wall };
  const sampler = new Sampler({ families, ctx: collectorCtx, host: TEST_HOST, clock });
  await sampler.collect();
  if (await exists(`${fixture}/later`)) await copyTree(`${fixture}/later`, root);
  mono += 10_000;
  wall += 10_000;
  await sampler.collect();

  const scraper = new Scraper(
    families,
    collectorCtx,
    (name) => collectorCtx.config[name].interval ?? collectorCtx.config.interval,
  );
  const serve = defaultServeConfig();
  opts.serve?.(serve);
  const hashes = await Promise.all((opts.tokens ?? []).map(hashToken));
  const ctx: ServeContext = {
    sampler,
    scraper,
    store: opts.store,
    dataDir: opts.dataDir,
    recording: opts.recording ?? false,
    serve,
    tokens: tokenSetFromHashes(hashes),
    log,
    dropped: collectorCtx.dropped,
    samplerRunning: opts.samplerRunning ?? (() => true),
    interval: collectorCtx.config.interval,
    listen: "127.0.0.1:10191",
    startedAt: SAMPLE_TIME - 20_000,
    now: () => NOW,
  };
  const app = createApp(ctx);
  return {
    ctx,
    app,
    log,
    root,
    request: (path, init) => Promise.resolve(app.request(path, init)),
    close: () => Deno.remove(root, { recursive: true }),
  };
}

/** A Storage that holds nothing and reports the given writability (for /readyz). */
export function stubStore(writable: boolean, lastError?: string): Storage {
  const stats: StoreStats = {
    samplesWritten: 3,
    samplesBuffered: writable ? 0 : 2,
    samplesDropped: 0,
    writeErrors: writable ? 0 : 1,
    linesSkipped: 0,
    lastError,
  };
  return {
    write: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    query: async function* () {},
    samples: async function* () {},
    info: () =>
      Promise.resolve({ backend: "stub", location: "nowhere", hosts: [], tiers: [], metrics: [] }),
    stats: () => ({ ...stats }),
    writable: () => writable,
    close: () => Promise.resolve(),
  };
}
