/**
 * The one HTTP POST the delivery channels share (webhook, Slack, Alertmanager). It never throws:
 * every outcome is a PostResult that says whether trying again later can help. Network errors,
 * timeouts, 408, 429 and 5xx are retryable; other 4xx and redirects are not (the same payload to the
 * same URL will not fare better). Webhook URLs are secrets (Slack's carry the token in the path, others
 * put one in the query or in user:password@), so no message here ever shows more of a URL than
 * scheme://host[:port]: see `redactUrl`. Redirects are not followed: a POST that is redirected is
 * a configuration to fix, and following it would send the payload (and headers) elsewhere.
 */
import { VERSION } from "../../version.ts";

export interface PostResult {
  ok: boolean;
  /** The HTTP status, when a response arrived. */
  status?: number;
  /** Whether the same request may succeed later (the caller's retry loop decides when). */
  retryable: boolean;
  /** One line for logs, free of the URL's secret parts. */
  error?: string;
  /** The server's Retry-After (429, 503), in milliseconds, when it sent a usable one. */
  retryAfterMs?: number;
}

export interface PostOptions {
  /** The whole exchange (connect, send, response headers and the error body we read). */
  timeoutMs: number;
  /** Extra headers (authorization, …); they are sent, never logged. */
  headers?: Record<string, string>;
}

/** How much of an error response's body is quoted in `error` (Slack says "invalid_payload", …). */
const ERROR_BODY_CHARS = 200;
const ERROR_BODY_BYTES = 4096;

/**
 * The part of a URL that is safe to show: scheme://host[:port]. Userinfo, path, query and fragment
 * are dropped (they are where webhook secrets live).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.host ? `${u.protocol}//${u.host}` : `${u.protocol}//`;
  } catch {
    return "<invalid URL>";
  }
}

/** POSTs `body` as JSON; resolves to the outcome, never rejects. */
export async function postJson(
  url: string,
  body: unknown,
  opts: PostOptions,
): Promise<PostResult> {
  const where = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, retryable: false, error: `${where}: not a valid URL` };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return {
      ok: false,
      retryable: false,
      error: `${where}: only http and https URLs are supported`,
    };
  }
  let json: string;
  try {
    json = JSON.stringify(body);
  } catch (err) {
    return { ok: false, retryable: false, error: `cannot encode the payload: ${errorText(err)}` };
  }

  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": `sysmon/${VERSION}`,
        ...opts.headers,
      },
      body: json,
      redirect: "manual",
      signal,
    });
    if (res.ok) {
      await res.body?.cancel().catch(() => {});
      return { ok: true, status: res.status, retryable: false };
    }
    const snippet = await readSnippet(res).catch(() => "");
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    const redirect = res.status >= 300 && res.status < 400
      ? ` (redirected${locationHost(res.headers.get("location"), url)}: update the URL)`
      : "";
    const detail = snippet ? `: ${scrub(snippet, url)}` : "";
    const retryAfterMs = retryable ? parseRetryAfter(res.headers.get("retry-after")) : undefined;
    return {
      ok: false,
      status: res.status,
      retryable,
      error: `${where}: HTTP ${res.status}${redirect}${detail}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  } catch (err) {
    if (signal.aborted) {
      return {
        ok: false,
        retryable: true,
        error: `${where}: no answer within ${opts.timeoutMs}ms`,
      };
    }
    // Connection refused, DNS, TLS, reset: Deno puts the full URL in the cause, hence scrub().
    const text = scrub(errorText(err), url);
    // fetch refuses the Fetch standard's "bad ports" (25, 6000, 6667, …) before connecting.
    const blocked = /port \d+ (are|is) blocked/i.test(text);
    return { ok: false, retryable: !blocked, error: `${where}: ${text}` };
  }
}

/** " to scheme://host[:port]" of a redirect's Location, or nothing. */
function locationHost(location: string | null, base: string): string {
  if (!location) return "";
  try {
    return ` to ${redactUrl(new URL(location, base).href)}`;
  } catch {
    return "";
  }
}

/** The error's message with its causes, on one line. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 4; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && !parts.includes(message)) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  // "fetch failed" says nothing its cause does not say better.
  const useful = parts.length > 1 ? parts.filter((p) => p !== "fetch failed") : parts;
  return useful.join(": ").replace(/\s+/g, " ").trim();
}

/**
 * Removes the secret parts of `url` from a message: any URL in it is cut to scheme://host[:port],
 * and the path and query of `url` are masked wherever they still appear (a server may echo them).
 */
export function scrub(message: string, url: string): string {
  let out = message
    .replace(/error sending request for url \([^)]*\):?\s*/gi, "")
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi, (m) => redactUrl(m));
  try {
    const u = new URL(url);
    const secrets = [u.pathname + u.search, u.pathname, u.search, u.username, u.password]
      .map((s) => s.trim())
      .filter((s) => s.length > 1);
    for (const s of secrets) out = out.split(s).join("…");
  } catch {
    // An unparseable URL was never sent; nothing of it can be in a response.
  }
  return out;
}

/** The first ERROR_BODY_CHARS characters of the body, on one line. */
async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  const text = new TextDecoder().decode(bytes).replace(/\s+/g, " ").trim();
  return text.length > ERROR_BODY_CHARS ? text.slice(0, ERROR_BODY_CHARS) + "…" : text;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or nonsense. */
function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
