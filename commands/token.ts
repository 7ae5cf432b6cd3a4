/** `sysmon token [--hash] [--json]`: create a bearer token for `sysmon serve`, or hash an existing one. */
import { buildCommand } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { RuntimeFailure, UsageError } from "../src/cli/errors.ts";
import { type GlobalFlags, globalFlags } from "../src/cli/globals.ts";
import { writeStderr, writeStdout } from "../src/cli/io.ts";
import {
  hashToken,
  isTokenHash,
  MIN_TOKEN_LENGTH,
  newToken,
  tokenProblem,
} from "../src/api/auth.ts";

interface TokenFlags extends GlobalFlags {
  readonly json?: boolean;
  readonly hash?: boolean;
}

/** Longest first line read from stdin: far more than any token, small enough to refuse a stray file. */
const MAX_LINE_BYTES = 64 * 1024;

/** The first line of piped stdin (up to a newline or EOF), without reading further. */
async function readPipedLine(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await Deno.stdin.read(buf);
    if (n === null) break;
    const chunk = buf.slice(0, n);
    const newline = chunk.indexOf(0x0a);
    chunks.push(newline === -1 ? chunk : chunk.subarray(0, newline));
    total += n;
    if (newline !== -1) break;
    if (total > MAX_LINE_BYTES) {
      throw new UsageError(`the first line on stdin is longer than ${MAX_LINE_BYTES} bytes`);
    }
  }
  const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Reads one line from a terminal without echoing it (a token should not stay on screen). */
async function readSecretFromTerminal(): Promise<string> {
  writeStderr("Token (input is not shown): ");
  const decoder = new TextDecoder();
  const buf = new Uint8Array(1024);
  let text = "";
  Deno.stdin.setRaw(true);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return text;
      for (const byte of buf.subarray(0, n)) {
        if (byte === 0x0d || byte === 0x0a || byte === 0x04) return text; // Enter, Ctrl-D
        if (byte === 0x03) throw new RuntimeFailure("cancelled", 130); // Ctrl-C (raw mode: no signal)
        if (byte === 0x7f || byte === 0x08) text = Array.from(text).slice(0, -1).join("");
        else text += decoder.decode(Uint8Array.of(byte), { stream: true });
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    writeStderr("\n");
  }
}

async function hashFromStdin(json: boolean): Promise<void> {
  const line = Deno.stdin.isTerminal() ? await readSecretFromTerminal() : await readPipedLine();
  const token = line.trim();
  if (token === "") {
    throw new UsageError("no token on stdin (e.g. `sysmon token --hash < token.txt`)");
  }
  if (isTokenHash(token)) {
    throw new UsageError(
      "stdin holds a hash already; it can go into serve.auth.token_hashes as is",
    );
  }
  const problem = tokenProblem(token);
  if (problem) throw new UsageError(`the token on stdin ${problem}`);
  const hash = await hashToken(token);
  writeStdout(json ? JSON.stringify({ hash }) + "\n" : hash + "\n");
}

/** The human-readable output of a new token: the token, its hash and where the hash goes. */
export function describeNewToken(token: string, hash: string): string {
  return [
    `token  ${token}`,
    `hash   ${hash}`,
    "",
    "Add the hash to the configuration of `sysmon serve` (keep any hashes already listed):",
    "",
    "serve:",
    "  auth:",
    "    token_hashes:",
    `      - "${hash}"`,
    "",
    "The token is shown only this once and cannot be recovered from its hash: store it now,",
    "e.g. in the file Prometheus reads (authorization: {type: Bearer, credentials_file: FILE}).",
    "",
  ].join("\n");
}

async function token(this: SysmonContext, flags: TokenFlags): Promise<void> {
  if (flags.hash) return await hashFromStdin(flags.json ?? false);
  const token = newToken();
  const hash = await hashToken(token);
  writeStdout(
    flags.json ? JSON.stringify({ token, hash }) + "\n" : describeNewToken(token, hash),
  );
}

export const tokenCommand = buildCommand({
  func: token,
  parameters: {
    flags: {
      ...globalFlags,
      json: {
        kind: "boolean",
        brief: 'Print {"token": …, "hash": …} (with --hash: {"hash": …})',
        optional: true,
      },
      hash: {
        kind: "boolean",
        brief: "Read a token from stdin (first line) and print only its hash",
        optional: true,
      },
    },
  },
  docs: {
    brief: "Create a bearer token for `sysmon serve` and print its hash",
    fullDescription: [
      "Prints a new random token (sysmon_ + 43 characters) and its SHA-256 hash. The token is shown",
      "once; sysmon keeps only hashes. To accept it, add the hash to the configuration:",
      "",
      "  serve:",
      "    auth:",
      "      token_hashes:",
      '        - "sha256:…"',
      "",
      "List several hashes to rotate tokens: add the new one, update the clients, then remove the",
      "old one. Clients send the token as `Authorization: Bearer TOKEN`; in prometheus.yml:",
      "",
      "  authorization:",
      "    type: Bearer",
      "    credentials_file: /etc/prometheus/sysmon.token",
      "",
      "Tokens are also accepted from serve.auth.token_file (one token or hash per line, # comments;",
      "e.g. a systemd credential) and from $SYSMON_TOKENS (comma-separated tokens). Tokens shorter",
      `than ${MIN_TOKEN_LENGTH} characters are refused.`,
      "",
      "--hash reads an existing token from stdin (first line; not echoed on a terminal), so it never",
      "appears in the process list or shell history, and prints only its hash:",
      "  sysmon token --hash < /etc/prometheus/sysmon.token",
    ].join("\n"),
  },
});
