/**
 * Every route in one table: path, access class, the parameter specs that validate its queries, its
 * answers, and its handler. The OpenAPI document is built from this same table.
 */
import type { ServeContext } from "./context.ts";
import type { ParamSpecs, ParamValue } from "./params.ts";

export type Access = "open" | "api" | "metrics";

export interface RouteResponse {
  description: string;
  contentType: string;
  /** JSON Schema of the body (or a $ref into components). */
  schema?: Record<string, unknown>;
}

export interface Route {
  path: string;
  summary: string;
  description: string;
  access: Access;
  tag: "exporter" | "api" | "health" | "docs";
  params: ParamSpecs;
  /** Path parameters, by name as written in `path` ({family}). */
  pathParams?: ParamSpecs;
  responses: Record<number, RouteResponse>;
  handle(req: Request, params: Record<string, ParamValue>, ctx: ServeContext): Promise<Response>;
}
