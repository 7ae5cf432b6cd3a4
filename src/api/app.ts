/**
 * The hono application: the route table wired to auth, limits, CORS, errors and the access log.
 * Handlers are plain functions of (request, validated params, context), tested with app.request().
 */
// The tiny preset (PatternRouter): a dozen static routes need no RegExpRouter, and it is lighter.
import { Hono } from "hono/tiny";
import type { ServeContext } from "./context.ts";
import { ApiError } from "./errors.ts";
import { parseParams } from "./params.ts";
import { utf8Length } from "../core/utf8.ts";
import { errorResponse, jsonResponse, textResponse } from "./respond.ts";
import type { Access, Route } from "./routes.ts";
import { apiRoutes } from "./routes_api.ts";
import { healthRoutes } from "./routes_health.ts";
import { httpStats, metricsRoute } from "./routes_metrics.ts";
import { bearerToken } from "./auth.ts";

/** Longer request targets are refused before any parsing (no route takes that much). */
export const MAX_URL_BYTES = 8192;

type Env = { Bindings: { remote?: Deno.Addr } };

function docsRoutes(all: () => Route[], ctx: ServeContext): Route[] {
  // Built on first request, from modules loaded then: most servers are never asked for them.
  let doc: Promise<unknown> | undefined;
  const document = () =>
    doc ??= import("./openapi.ts").then((m) => m.openApiDocument(all(), protectedClasses(ctx)));
  return [
    {
      path: "/api/v1/openapi.json",
      tag: "docs",
      access: "open",
      summary: "This API as OpenAPI 3.1",
      description: "Generated from the route table and the parameter specs that validate requests.",
      params: {},
      responses: { 200: { description: "The document.", contentType: "application/json" } },
      handle: async (req) => jsonResponse(req, 200, await document()),
    },
    {
      path: "/api/v1/docs",
      tag: "docs",
      access: "open",
      summary: "This API for people",
      description: "An HTML page rendered from the OpenAPI document.",
      params: {},
      responses: { 200: { description: "The page.", contentType: "text/html" } },
      handle: async (req) => {
        const { renderDocsPage } = await import("./docs_page.ts");
        return textResponse(req, 200, renderDocsPage(await document()), "text/html; charset=utf-8");
      },
    },
    {
      path: "/",
      tag: "docs",
      access: "open",
      summary: "Index",
      description: "Links to /metrics, the API docs and the health checks.",
      params: {},
      responses: { 200: { description: "A small HTML page.", contentType: "text/html" } },
      handle: (req) =>
        textResponse(
          req,
          200,
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sysmon</title></head>` +
            `<body><h1>sysmon</h1><ul><li><a href="/metrics">/metrics</a> (Prometheus)</li>` +
            `<li><a href="/api/v1/docs">/api/v1/docs</a> (REST API)</li>` +
            `<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li></ul></body></html>\n`,
          "text/html; charset=utf-8",
        ),
    },
  ];
}

/** Access classes that need a token with this configuration. */
export function protectedClasses(ctx: ServeContext): Set<Access> {
  const out = new Set<Access>();
  if (ctx.tokens.size === 0) return out;
  if (ctx.serve.auth.api) out.add("api");
  if (ctx.serve.auth.metrics) out.add("metrics");
  return out;
}

export function allRoutes(ctx: ServeContext): Route[] {
  const routes: Route[] = [metricsRoute, ...healthRoutes, ...apiRoutes];
  routes.push(...docsRoutes(() => routes, ctx));
  return routes;
}

function withTimeout<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ApiError(503, "timeout", `no answer within ${seconds}s (serve.request_timeout)`),
        ),
      seconds * 1000,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function corsHeaders(ctx: ServeContext, req: Request): Record<string, string> {
  const origin = req.headers.get("origin");
  if (!origin || !ctx.serve.cors_origins.includes(origin)) return {};
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-headers": "Authorization",
    "access-control-allow-methods": "GET, HEAD",
  };
}

/** Adds to Vary without dropping what is there (gzip answers carry Accept-Encoding). */
function addVary(headers: Headers, field: string) {
  const have = headers.get("vary");
  if (!have) headers.set("vary", field);
  else if (!have.split(/\s*,\s*/).includes(field)) headers.set("vary", `${have}, ${field}`);
}

/** The request target (path and query) as the client sent it. */
function requestTarget(url: string): string {
  const at = url.indexOf("/", url.indexOf("//") + 2);
  return at < 0 ? "/" : url.slice(at);
}

/** Longest request target written to the access log; longer ones are cut, with a marker. */
const LOGGED_TARGET_CHARS = 512;

export function createApp(ctx: ServeContext): Hono<Env> {
  const app = new Hono<Env>();
  const routes = allRoutes(ctx);

  app.use("*", async (c, next) => {
    const t0 = performance.now();
    httpStats.requests++;
    const req = c.req.raw;
    const target = requestTarget(req.url);
    if (utf8Length(target) > MAX_URL_BYTES) {
      c.res = await errorResponse(
        req,
        new ApiError(
          414,
          "uri_too_long",
          `request target (path and query) longer than ${MAX_URL_BYTES} bytes`,
        ),
      );
    } else if (req.method === "OPTIONS") {
      c.res = new Response(null, { status: 204, headers: corsHeaders(ctx, req) });
    } else {
      await next();
    }
    if (ctx.serve.cors_origins.length > 0) {
      // Every answer varies by Origin once some origins are allowed: caches must not mix them.
      for (const [k, v] of Object.entries(corsHeaders(ctx, req))) c.res.headers.set(k, v);
      addVary(c.res.headers, "Origin");
    }
    if (ctx.serve.access_log) {
      const remote = c.env?.remote;
      ctx.log.info("http", {
        client: remote && "hostname" in remote ? remote.hostname : "-",
        method: req.method,
        path: target.length > LOGGED_TARGET_CHARS
          ? `${target.slice(0, LOGGED_TARGET_CHARS)}…(${target.length} chars)`
          : target,
        status: c.res.status,
        bytes: Number(c.res.headers.get("content-length") ?? 0),
        ms: Math.round((performance.now() - t0) * 100) / 100,
      });
    }
  });

  for (const route of routes) {
    const honoPath = route.path.replace(/\{(\w+)\}/g, ":$1");
    app.on(["GET", "HEAD"], honoPath, async (c) => {
      const req = c.req.raw;
      if (
        // Per request: SIGHUP may have replaced the token set.
        protectedClasses(ctx).has(route.access) &&
        !(await ctx.tokens.verify(bearerToken(req.headers.get("authorization"))))
      ) {
        httpStats.unauthorized++;
        throw new ApiError(
          401,
          "unauthorized",
          "missing or wrong bearer token (Authorization: Bearer TOKEN)",
        );
      }
      const url = new URL(req.url);
      const params = parseParams(route.params, url.searchParams, ctx.now());
      if (route.pathParams) {
        const pathValues = new URLSearchParams();
        for (const name of Object.keys(route.pathParams)) {
          pathValues.set(name, c.req.param(name) ?? "");
        }
        Object.assign(params, parseParams(route.pathParams, pathValues, ctx.now()));
      }
      return await withTimeout(route.handle(req, params, ctx), ctx.serve.request_timeout);
    });
    app.all(honoPath, () => {
      throw new ApiError(405, "method_not_allowed", "only GET and HEAD are served here");
    });
  }

  app.notFound((c) =>
    errorResponse(
      c.req.raw,
      new ApiError(404, "not_found", `no route ${new URL(c.req.url).pathname}; see /api/v1/docs`),
    )
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c.req.raw, err);
    ctx.log.error(`http: ${c.req.method} ${new URL(c.req.url).pathname} failed: ${err.message}`);
    return errorResponse(
      c.req.raw,
      new ApiError(500, "internal", "internal error (see the server log)"),
    );
  });
  return app;
}
