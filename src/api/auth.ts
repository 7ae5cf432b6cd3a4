/**
 * Bearer-token building blocks for `sysmon serve`: token creation, hashing, loading the accepted set
 * from config / token file / $SYSMON_TOKENS, and verification. Only SHA-256 hashes are kept in
 * memory; tokens never appear in error messages.
 */
import { UsageError } from "../cli/errors.ts";
import type { SysmonConfig } from "../config/sysmon_schema.ts";

export type AuthConfig = SysmonConfig["serve"]["auth"];

/** Shortest plaintext token accepted from a token file, $SYSMON_TOKENS or `sysmon token --hash`. */
export const MIN_TOKEN_LENGTH = 16;

const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;
const HASH_PREFIX = "sha256:";
const TOKEN_PREFIX = "sysmon_";

const encoder = new TextEncoder();

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function digest(token: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
}

/** "sha256:" + lowercase hex SHA-256 of the token's UTF-8 bytes. */
export async function hashToken(token: string): Promise<string> {
  return HASH_PREFIX + toHex(await digest(token));
}

/** A fresh token: "sysmon_" + base64url (no padding) of 32 random bytes, 50 characters in all. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes));
  return TOKEN_PREFIX + b64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** True for a well-formed stored hash ("sha256:" + 64 lowercase hex digits). */
export function isTokenHash(text: string): boolean {
  return HASH_PATTERN.test(text);
}

/**
 * Why `token` cannot be used as a bearer token, or undefined when it can. The reasons never quote
 * the token. Something that starts with "sha256:" is refused: a mistyped hash taken as a token would
 * turn a value that may be shown in `config show` or logs into a credential.
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) {
    return `is shorter than ${MIN_TOKEN_LENGTH} characters (create one with \`sysmon token\`)`;
  }
  if (/\s/.test(token)) {
    return "contains white space, which a bearer token cannot";
  }
  if (token.toLowerCase().startsWith(HASH_PREFIX)) {
    return 'starts with "sha256:" but is not sha256: followed by 64 lowercase hex digits';
  }
  return undefined;
}

/** The accepted tokens, held only as hashes. */
export interface TokenSet {
  /** Number of distinct accepted hashes; 0 means no token is configured. */
  readonly size: number;
  verify(token: string | undefined): Promise<boolean>;
}

/** 1 when a and b (equal length) are equal, else 0; always looks at every byte. */
function equalBit(a: Uint8Array, b: Uint8Array): number {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  // diff is 0..255: (diff - 1) >>> 8 is 1 only for diff === 0 (no branch on the secret).
  return ((diff - 1) >>> 8) & 1;
}

/** A TokenSet over already-validated hashes ("sha256:<hex>"). */
export function tokenSetFromHashes(hashes: Iterable<string>): TokenSet {
  const stored = [...new Set(hashes)].map((h) => fromHex(h.slice(HASH_PREFIX.length)));
  return {
    size: stored.length,
    async verify(token: string | undefined): Promise<boolean> {
      if (!token) return false;
      const candidate = await digest(token);
      // Compare with every stored hash, without stopping at a match, so timing says nothing.
      let match = 0;
      for (const h of stored) match |= equalBit(h, candidate);
      return match === 1;
    },
  };
}

/** One entry of a token file: a stored hash, a plaintext token, or an error (no token in it). */
export type TokenFileEntry =
  | { line: number; hash: string }
  | { line: number; token: string }
  | { line: number; problem: string };

/**
 * Parses a token file: one hash or plaintext token per line; blank lines and lines starting with #
 * are ignored. Pure: hashing happens in the loader.
 */
export function parseTokenFile(text: string): TokenFileEntry[] {
  const entries: TokenFileEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const value = raw.trim();
    if (value === "" || value.startsWith("#")) return;
    if (isTokenHash(value)) {
      entries.push({ line, hash: value });
      return;
    }
    let problem = tokenProblem(value);
    if (problem && value.includes("#")) problem += " (a # comment goes on a line of its own)";
    entries.push(problem ? { line, problem } : { line, token: value });
  });
  return entries;
}

/** Entries of $SYSMON_TOKENS (comma-separated plaintext tokens; empty items ignored). */
export function parseEnvTokens(value: string | undefined): { position: number; token: string }[] {
  if (!value) return [];
  return value.split(",")
    .map((item, i) => ({ position: i + 1, token: item.trim() }))
    .filter((e) => e.token !== "");
}

async function readTokenFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    // The reason only, never the contents (Deno's message names the path and the OS error).
    const reason = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : err instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (err as Error).message;
    throw new UsageError(`serve.auth.token_file ${path}: cannot read it: ${reason}`);
  }
}

/**
 * Gathers the accepted hashes from `auth.token_hashes`, `auth.token_file` and $SYSMON_TOKENS.
 * Throws UsageError (naming the file and line, or SYSMON_TOKENS and the position) for an unreadable
 * file or an unusable token.
 */
export async function loadTokenSet(
  auth: AuthConfig,
  env: Record<string, string | undefined>,
): Promise<TokenSet> {
  const hashes: string[] = [];
  auth.token_hashes.forEach((h, i) => {
    if (!isTokenHash(h)) {
      throw new UsageError(
        `serve.auth.token_hashes[${i}] is not sha256: followed by 64 lowercase hex digits`,
      );
    }
    hashes.push(h);
  });

  if (auth.token_file !== "") {
    const file = auth.token_file;
    for (const entry of parseTokenFile(await readTokenFile(file))) {
      if ("problem" in entry) {
        throw new UsageError(
          `${file}:${entry.line}: serve.auth.token_file: token ${entry.problem}`,
        );
      }
      hashes.push("hash" in entry ? entry.hash : await hashToken(entry.token));
    }
  }

  for (const { position, token } of parseEnvTokens(env.SYSMON_TOKENS)) {
    if (isTokenHash(token)) {
      throw new UsageError(
        `SYSMON_TOKENS item ${position} is a hash; SYSMON_TOKENS takes tokens ` +
          "(hashes go in serve.auth.token_hashes)",
      );
    }
    const problem = tokenProblem(token);
    if (problem) throw new UsageError(`SYSMON_TOKENS item ${position}: token ${problem}`);
    hashes.push(await hashToken(token));
  }

  return tokenSetFromHashes(hashes);
}

/** The token of an `Authorization: Bearer TOKEN` header (scheme case-insensitive), else undefined. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^bearer[ \t]+(\S+)$/i.exec(authorization.trim());
  return m ? m[1] : undefined;
}
