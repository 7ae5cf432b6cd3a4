/** Liveness and readiness, for systemd, Kubernetes probes and load balancers. No token needed. */
import type { ServeContext } from "./context.ts";
import { jsonResponse } from "./respond.ts";
import type { Route } from "./routes.ts";

export interface ReadyCheck {
  ok: boolean;
  detail: string;
}

/**
 * Ready means: the sampler is running and has a sample, at least one collector read successfully,
 * and (when recording) the store accepts writes. A family that fails alone, or a per-device read
 * failure (a NIC without a speed), leaves the server ready: its metrics are absent, nothing else.
 */
export function readiness(ctx: ServeContext): Record<string, ReadyCheck> {
  const checks: Record<string, ReadyCheck> = {};
  const sample = ctx.sampler.latestSample();
  checks.sampler = !ctx.samplerRunning()
    ? { ok: false, detail: "stopped" }
    : !sample
    ? { ok: false, detail: "no sample yet" }
    : { ok: true, detail: `last sample ${sample.timestamp}` };
  const statuses = ctx.sampler.statuses();
  const failed = statuses.filter((s) => !s.success).map((s) => s.name);
  checks.collectors = failed.length === statuses.length
    ? { ok: false, detail: `every collector failed (${failed.join(", ")})` }
    : {
      ok: true,
      detail: failed.length ? `failing alone: ${failed.join(", ")}` : "all collectors read",
    };
  if (ctx.recording && ctx.store) {
    const st = ctx.store.stats();
    checks.storage = ctx.store.writable()
      ? { ok: true, detail: `${st.samplesWritten} samples written` }
      : { ok: false, detail: `not writable: ${st.lastError ?? "unknown error"}` };
  }
  return checks;
}

export const healthRoutes: Route[] = [
  {
    path: "/healthz",
    tag: "health",
    access: "open",
    summary: "Liveness",
    description: "200 while the process answers HTTP at all.",
    params: {},
    responses: { 200: { description: '{"status":"ok"}', contentType: "application/json" } },
    handle: (req) => jsonResponse(req, 200, { status: "ok" }),
  },
  {
    path: "/readyz",
    tag: "health",
    access: "open",
    summary: "Readiness",
    description: "200 when the sampler runs and has a sample, some collector reads, and (with " +
      "--record) the data directory is writable; 503 otherwise. `checks` says which part failed.",
    params: {},
    responses: {
      200: { description: "Ready.", contentType: "application/json" },
      503: { description: "Not ready; `checks` says why.", contentType: "application/json" },
    },
    handle(req, _p, ctx) {
      const checks = readiness(ctx);
      const ready = Object.values(checks).every((c) => c.ok);
      return jsonResponse(req, ready ? 200 : 503, {
        status: ready ? "ready" : "not ready",
        checks,
      });
    },
  },
];
