/** Response helpers: JSON and text bodies with their byte length known, gzip when asked. */
import { utf8Length } from "../core/utf8.ts";
import { gzipSync } from "../core/zlib.ts";
import type { ApiError } from "./errors.ts";

const encoder = new TextEncoder();

export function acceptsGzip(req: Request): boolean {
  const header = req.headers.get("accept-encoding") ?? "";
  return /(^|[,\s])gzip(\s*;\s*q=(?!0(\.0*)?\s*($|,))[\d.]+)?\s*($|,)/i.test(header);
}

/** Bodies below this are sent as they are: gzip's header would eat the gain. */
const GZIP_MIN_BYTES = 1024;

/** gzip of `text`: zlib at a fast level where it can be loaded, CompressionStream elsewhere. */
export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const input = encoder.encode(text);
  return gzipSync(input) ?? await streamGzip(input);
}

async function streamGzip(input: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new CompressionStream("gzip");
  const writer = stream.writable.getWriter();
  writer.write(input);
  writer.close();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export async function textResponse(
  req: Request,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const h = new Headers({ "content-type": contentType, ...headers });
  if (req.method === "HEAD") {
    h.set("content-length", String(utf8Length(body)));
    return new Response(null, { status, headers: h });
  }
  if (body.length >= GZIP_MIN_BYTES && acceptsGzip(req)) {
    const bytes = await gzip(body);
    h.set("content-encoding", "gzip");
    h.set("vary", "Accept-Encoding");
    h.set("content-length", String(bytes.length));
    return new Response(bytes, { status, headers: h });
  }
  h.set("content-length", String(utf8Length(body)));
  return new Response(body, { status, headers: h });
}

export function jsonResponse(
  req: Request,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return textResponse(req, status, JSON.stringify(value), "application/json", headers);
}

export function errorResponse(req: Request, err: ApiError): Promise<Response> {
  const headers: Record<string, string> = {};
  if (err.status === 401) headers["www-authenticate"] = 'Bearer realm="sysmon"';
  if (err.status === 405) headers["allow"] = "GET, HEAD";
  return jsonResponse(req, err.status, err.body(), headers);
}
