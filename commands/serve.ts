/** `sysmon serve`: Prometheus /metrics and the REST API on one sampler (optionally recording too). */
import { buildCommand } from "@stricli/core";
import { enabledFamilies } from "../src/collect/index.ts";
import type { SysmonContext } from "../src/cli/context.ts";
import { RuntimeFailure, UsageError } from "../src/cli/errors.ts";
import { durationFlag, type GlobalFlags, globalFlags } from "../src/cli/globals.ts";
import { collectorContext, type Runtime, setupRuntime } from "../src/cli/runtime.ts";
import { formatDuration } from "../src/core/duration.ts";
import { Sampler } from "../src/core/sampler.ts";
import { createApp, protectedClasses } from "../src/api/app.ts";
import { loadTokenSet } from "../src/api/auth.ts";
import type { ServeContext } from "../src/api/context.ts";
import { formatListen, isLoopback, type ListenAddress, parseListen } from "../src/api/listen.ts";
import { Scraper } from "../src/api/scrape.ts";
import type { Recorder } from "../src/record/recorder.ts";
import type { AlertRunner } from "../src/alert/run.ts";
import type { Sample } from "../src/core/model.ts";
import { resolveRecordDir } from "../src/record/data_dir.ts";
import type { FileFormat } from "../src/store/layout.ts";
import { lazyStorage } from "../src/store/lazy.ts";
import type { Storage } from "../src/store/types.ts";
import { keepExecutablePagesReleased, releaseLoadingPages } from "../src/core/page_release.ts";

/** The loud override for an unauthenticated REST API on a network address. */
export const OPEN_API_FLAG = "insecure-open-api";

interface ServeFlags extends GlobalFlags {
  readonly listen?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly record?: boolean;
  readonly alert?: boolean;
  readonly data?: string;
  readonly format?: FileFormat;
  readonly interval?: number;
  readonly insecureOpenApi?: boolean;
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    if (!text.includes("-----BEGIN ")) throw new Error("not a PEM file (no -----BEGIN line)");
    return text;
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (err as Error).message;
    throw new UsageError(`${what} ${path}: ${reason}`);
  }
}

function listenAddress(flags: ServeFlags, rt: Runtime): ListenAddress {
  const text = flags.listen ?? rt.config.serve.listen;
  const addr = parseListen(text);
  if (!addr) {
    throw new UsageError(
      `${flags.listen ? "--listen" : "serve.listen"}: "${text}" is not HOST:PORT ` +
        "(e.g. 127.0.0.1:10191, [::1]:10191, 0.0.0.0:10191)",
    );
  }
  return addr;
}

/** The store's modules, loaded only when recording or when recorded data is asked for. */
async function storeModules() {
  const [fileStore, storeOpen, lines] = await Promise.all([
    import("../src/store/file_store.ts"),
    import("../src/record/store_open.ts"),
    import("../src/store/lines.ts"),
  ]);
  // A long-running process: range queries decompress old files in a child gzip (lines.ts says why).
  lines.useExternalGunzip(true);
  return { ...fileStore, ...storeOpen };
}

/** Data for range queries without recording: opened on the first query. */
async function readOnlyStore(rt: Runtime, dir: string): Promise<Storage> {
  const exists = await Deno.stat(`${dir}/FORMAT`).then(() => true, () => false);
  if (!exists) {
    rt.log.info(`serve: no recorded data in ${dir}: range queries answer 404 until there is`);
  } else {
    const m = await storeModules();
    try {
      await m.checkStoreFormat(dir, false);
    } catch (err) {
      if (err instanceof m.StoreFormatError) throw new UsageError(err.message);
      throw err;
    }
  }
  return lazyStorage(async () => (await storeModules()).createFileStore(rt.config, dir, rt.log));
}

/**
 * SIGHUP: re-reads the configuration files and the token file, so tokens can be rotated without a
 * restart. Only the token set changes; a bad file keeps the current tokens and says why.
 */
async function reloadTokens(
  flags: ServeFlags,
  env: Record<string, string | undefined>,
  ctx: ServeContext,
  rt: Runtime,
): Promise<void> {
  try {
    const fresh = await setupRuntime(flags, env);
    const tokens = await loadTokenSet(fresh.config.serve.auth, env);
    const wasProtected = protectedClasses(ctx);
    const nowProtected = protectedClasses({ ...ctx, tokens, serve: fresh.config.serve });
    if (
      !isLoopback(parseListen(ctx.listen)?.hostname ?? "") && wasProtected.has("api") &&
      !nowProtected.has("api")
    ) {
      rt.log.error(
        "serve: SIGHUP: the new configuration has no token for the REST API on a " +
          "network address; keeping the current tokens",
      );
      return;
    }
    ctx.tokens = tokens;
    ctx.serve.auth = fresh.config.serve.auth;
    rt.log.info(`serve: SIGHUP: ${tokens.size} token(s) loaded; other settings need a restart`);
  } catch (err) {
    const e = err as Error & { lines?: string[] };
    rt.log.error(
      `serve: SIGHUP: configuration not reloaded, current tokens kept: ${
        e.lines?.join("; ") ?? e.message
      }`,
    );
  }
}

async function serve(this: SysmonContext, flags: ServeFlags): Promise<void> {
  if (flags.format && !flags.record) throw new UsageError("--format applies to --record only");
  const rt = await setupRuntime(flags, this.env, { interval: flags.interval });
  releaseLoadingPages(rt.log);
  if (flags.record && flags.interval === undefined && rt.config.record.interval !== null) {
    rt.config.collectors.interval = rt.config.record.interval;
  }
  const addr = listenAddress(flags, rt);
  const certPath = flags.tlsCert ?? (rt.config.serve.tls.cert || undefined);
  const keyPath = flags.tlsKey ?? (rt.config.serve.tls.key || undefined);
  if (!!certPath !== !!keyPath) {
    throw new UsageError("TLS needs both a certificate and a key (--tls-cert FILE --tls-key FILE)");
  }
  const tls = certPath && keyPath
    ? { cert: await readPem(certPath, "--tls-cert"), key: await readPem(keyPath, "--tls-key") }
    : undefined;
  const tokens = await loadTokenSet(rt.config.serve.auth, rt.env);
  const families = enabledFamilies(rt.config.collectors);
  if (families.length === 0) {
    throw new UsageError("every collector is disabled in the configuration");
  }

  const remote = !isLoopback(addr.hostname);
  const listen = formatListen(addr);
  const ctxBase = { serve: rt.config.serve, tokens };
  const secured = protectedClasses(ctxBase as ServeContext);
  if (remote && !secured.has("api")) {
    if (!flags.insecureOpenApi) {
      throw new UsageError(
        `refusing to serve the REST API without authentication on ${listen}, which other ` +
          "machines can reach: create a token with `sysmon token` and add its hash to " +
          "serve.auth.token_hashes, or listen on 127.0.0.1, or pass " +
          `--${OPEN_API_FLAG} to accept that anyone who reaches the port can read it`,
      );
    }
    rt.log.warn(
      `serve: --${OPEN_API_FLAG}: THE REST API ON ${listen} IS OPEN TO ANYONE WHO CAN REACH IT`,
    );
  }
  if (remote && !secured.has("metrics")) {
    rt.log.warn(
      `serve: /metrics on ${listen} needs no token (as node_exporter); set serve.auth.metrics ` +
        "to true to require one",
    );
  }
  if (remote && !tls && secured.size > 0) {
    rt.log.warn(`serve: tokens travel in clear text on ${listen}: add --tls-cert and --tls-key`);
  }

  let recorder: Recorder | undefined;
  let store: Storage | undefined;
  let dataDir: string | undefined;
  if (flags.record) {
    dataDir = resolveRecordDir(flags.data, rt);
    await storeModules();
    const { openRecorder } = await import("../src/record/recorder.ts");
    recorder = await openRecorder(
      rt,
      dataDir,
      flags.format ?? rt.config.storage.format,
      "serve --record",
    );
    store = recorder.store;
  } else {
    try {
      dataDir = resolveRecordDir(flags.data, rt);
      store = await readOnlyStore(rt, dataDir);
    } catch (err) {
      if (flags.data || !(err instanceof UsageError)) throw err;
      rt.log.info("serve: no data directory: range queries answer 404");
    }
  }

  let alerts: AlertRunner | undefined;
  if (flags.alert) {
    dataDir ??= resolveRecordDir(flags.data, rt);
    const { AlertRunner } = await import("../src/alert/run.ts");
    alerts = await AlertRunner.open(rt, dataDir, { stdout: false });
  }

  const ctx = collectorContext(rt);
  const sampler = new Sampler({ families, ctx, host: Deno.hostname() });
  const scraper = new Scraper(
    families,
    ctx,
    (name) => rt.config.collectors[name].interval ?? rt.config.collectors.interval,
  );
  let running = true;
  const serveCtx: ServeContext = {
    sampler,
    scraper,
    store,
    dataDir,
    recording: !!recorder,
    serve: rt.config.serve,
    tokens,
    log: rt.log,
    dropped: ctx.dropped,
    samplerRunning: () => running,
    interval: rt.config.collectors.interval,
    listen,
    startedAt: Date.now(),
    now: Date.now,
    ...(alerts
      ? { alerts: () => alerts.engine.active(), analyses: () => alerts.engine.analyses() }
      : {}),
  };
  const app = createApp(serveCtx);

  // A first reading at once, so the API has a sample before the first aligned tick.
  // Each consumer fails alone: a recording problem must not stop the alerts, nor the reverse.
  const consume = async (sample: Sample) => {
    for (
      const [name, work] of [["record", recorder?.write(sample)], [
        "alert",
        alerts?.onSample(sample),
      ]] as const
    ) {
      try {
        await work;
      } catch (err) {
        rt.log.error(`serve --${name}: ${(err as Error).message}`);
      }
    }
  };
  await consume(await sampler.collect());
  sampler.start(consume);

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: addr.hostname,
      port: addr.port,
      ...(tls ?? {}),
      onListen: () => {},
      onError: (err) => {
        rt.log.error(`http: ${(err as Error).message}`);
        return new Response(
          '{"error":{"status":500,"code":"internal","message":"internal error"}}',
          {
            status: 500,
            headers: { "content-type": "application/json" },
          },
        );
      },
    }, (req, info) => app.fetch(req, { remote: info.remoteAddr }));
  } catch (err) {
    running = false;
    sampler.stop();
    await recorder?.close("could not listen").catch(() => {});
    const reason = err instanceof Deno.errors.AddrInUse
      ? "the address is already in use (another sysmon serve? pick --listen HOST:PORT)"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied (ports below 1024 need privileges)"
      : (err as Error).message;
    throw new RuntimeFailure(`serve: cannot listen on ${listen}: ${reason}`);
  }
  const scheme = tls ? "https" : "http";
  rt.log.info(
    `serve: listening on ${scheme}://${listen} (sampler every ${
      formatDuration(rt.config.collectors.interval)
    }${recorder ? `, recording to ${dataDir}` : ""}${
      alerts ? `, alerts: ${alerts.describe()}` : ""
    }; tokens ${secured.size ? `required for ${[...secured].join(" and ")}` : "not required"})`,
  );

  let finish: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => finish = resolve);
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGTERM", () => finish("SIGTERM")],
    ["SIGINT", () => finish("SIGINT")],
    ["SIGHUP", () => reloadTokens(flags, this.env, serveCtx, rt)],
  ];
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const stopReleasing = keepExecutablePagesReleased(rt.log);
  const why = await stopped;
  stopReleasing();
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  running = false;
  sampler.stop();
  // In-flight requests finish; new connections are refused.
  await server.shutdown();
  rt.log.info(`serve: stopped (${why})`);
  try {
    await alerts?.close();
  } finally {
    await recorder?.close(why);
  }
}

export const serveCommand = buildCommand({
  func: serve,
  parameters: {
    flags: {
      ...globalFlags,
      listen: {
        kind: "parsed",
        parse: String,
        brief: "Address to listen on (default serve.listen, 127.0.0.1:10191)",
        optional: true,
        placeholder: "HOST:PORT",
      },
      tlsCert: {
        kind: "parsed",
        parse: String,
        brief: "PEM certificate chain: serve HTTPS",
        optional: true,
        placeholder: "FILE",
      },
      tlsKey: {
        kind: "parsed",
        parse: String,
        brief: "PEM private key of --tls-cert",
        optional: true,
        placeholder: "FILE",
      },
      record: {
        kind: "boolean",
        brief: "Also record every sample to the data directory (as sysmon record)",
        optional: true,
      },
      alert: {
        kind: "boolean",
        brief: "Also evaluate the alert rules (as sysmon alert run); /api/v1/alerts lists them",
        optional: true,
      },
      data: {
        kind: "parsed",
        parse: String,
        brief: "Data directory for --record and range queries (default storage.path)",
        optional: true,
        placeholder: "DIR",
      },
      format: {
        kind: "enum",
        values: ["jsonl", "csv"],
        brief: "File format of recorded samples (with --record)",
        optional: true,
      },
      interval: {
        kind: "parsed",
        parse: durationFlag,
        brief: "Sampler interval: ratios, the API snapshot and recording",
        optional: true,
        placeholder: "DUR",
      },
      insecureOpenApi: {
        kind: "boolean",
        brief: "Serve the REST API without tokens on a non-loopback address (dangerous)",
        optional: true,
      },
    },
    aliases: {},
  },
  docs: {
    brief: "Prometheus /metrics exporter and REST API",
    fullDescription: [
      "Serves, on one sampler:",
      "  /metrics         node_exporter-compatible exposition (read fresh per scrape) plus",
      "                   sysmon_*_ratio gauges and self metrics; collect[]/exclude[] filters",
      "  /api/v1/...      snapshot, range queries over recorded data, metric list, alerts, status",
      "  /api/v1/docs     the API for people; /api/v1/openapi.json for machines",
      "  /healthz /readyz liveness and readiness (no token)",
      "Listens on 127.0.0.1:10191 by default (outside 9100-9999, which Prometheus's default-port",
      "list has filled). Another address that other machines can reach is refused unless the",
      "REST API needs a token: run `sysmon token`, put the hash in serve.auth.token_hashes, and",
      "send `Authorization: Bearer TOKEN`. /metrics can require one too (serve.auth.metrics).",
      "With --record, every sample is also written to the data directory, as `sysmon record`",
      "does; with --alert the alert rules run on the same samples (as `sysmon alert run`), their",
      "states appear at /api/v1/alerts and as sysmon_alerts on /metrics. SIGTERM or SIGINT finishes in-flight requests, flushes and exits 0; SIGHUP re-reads",
      "the configuration's tokens (rotation without a restart).",
      "Docs: docs/api.md; Prometheus scrape config: deploy/prometheus/.",
    ].join("\n"),
  },
});
