import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "./assert.ts";
import { type CliResult, sysmon } from "./cli_util.ts";
import {
  type AuthConfig,
  bearerToken,
  hashToken,
  loadTokenSet,
  newToken,
  parseEnvTokens,
  parseTokenFile,
} from "../src/api/auth.ts";
import { UsageError } from "../src/cli/errors.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

// Known answer: FIPS 180-2 appendix B.1, SHA-256("abc").
const SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

const TOKEN_A = "sysmon_aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN_B = "sysmon_bbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const TOKEN_C = "sysmon_cccccccccccccccccccccccccccc";

function auth(patch: Partial<AuthConfig> = {}): AuthConfig {
  return { token_hashes: [], token_file: "", api: true, metrics: false, ...patch };
}

/** SHA-256 computed by coreutils, independently of crypto.subtle. */
async function sha256sum(text: string): Promise<string> {
  const child = new Deno.Command("sha256sum", { stdin: "piped", stdout: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  assertEquals(out.code, 0);
  return new TextDecoder().decode(out.stdout).split(" ")[0];
}

async function withTempFile(text: string, fn: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ prefix: "sysmon-tokens-" });
  try {
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

/** The error of a rejected promise, checked to be a UsageError. */
async function usageError(p: () => Promise<unknown>): Promise<string> {
  const err = await assertRejects(p);
  assert(err instanceof UsageError, `expected UsageError, got ${err.name}: ${err.message}`);
  return err.message;
}

Deno.test("auth: hashToken is sha256: + the hex SHA-256 of the UTF-8 bytes", async () => {
  assertEquals(await hashToken("abc"), "sha256:" + SHA256_ABC);
  for (const text of [TOKEN_A, "sysmon_ümlaut€-token-🔑"]) {
    const hash = await hashToken(text);
    assertMatch(hash, /^sha256:[0-9a-f]{64}$/);
    assertEquals(hash, "sha256:" + await sha256sum(text));
  }
});

Deno.test("auth: newToken is sysmon_ + 43 base64url characters and random", () => {
  const a = newToken();
  const b = newToken();
  assertMatch(a, /^sysmon_[A-Za-z0-9_-]{43}$/);
  assertMatch(b, /^sysmon_[A-Za-z0-9_-]{43}$/);
  assert(a !== b, "two tokens are equal");
});

Deno.test("auth: verify accepts each configured token (rotation) and nothing else", async () => {
  const set = await loadTokenSet(
    auth({ token_hashes: [await hashToken(TOKEN_A), await hashToken(TOKEN_B)] }),
    {},
  );
  assertEquals(set.size, 2);
  assertEquals(await set.verify(TOKEN_A), true);
  assertEquals(await set.verify(TOKEN_B), true);
  assertEquals(await set.verify(TOKEN_C), false);
  assertEquals(await set.verify(TOKEN_A.slice(0, -1)), false);
  assertEquals(await set.verify(TOKEN_A + "a"), false);
  assertEquals(await set.verify(await hashToken(TOKEN_A)), false, "the hash is not a token");
  assertEquals(await set.verify(""), false);
  assertEquals(await set.verify(undefined), false);
});

Deno.test("auth: no configured token accepts nothing", async () => {
  const set = await loadTokenSet(auth(), {});
  assertEquals(set.size, 0);
  assertEquals(await set.verify(TOKEN_A), false);
  assertEquals(await set.verify(""), false);
});

Deno.test("auth: parseTokenFile tells hashes, tokens, comments and bad lines apart", async () => {
  const hashB = await hashToken(TOKEN_B);
  const text = [
    "# tokens for sysmon serve",
    "",
    `  ${TOKEN_A}  `,
    "   # indented comment",
    hashB,
    "short",
    "sha256:ABCDEF",
    `${TOKEN_C} # prod`,
  ].join("\r\n");
  const entries = parseTokenFile(text);
  assertEquals(entries.map((e) => e.line), [3, 5, 6, 7, 8]);
  assertEquals(entries[0], { line: 3, token: TOKEN_A });
  assertEquals(entries[1], { line: 5, hash: hashB });
  for (const e of entries.slice(2)) assert("problem" in e, `line ${e.line} should be refused`);
  assertStringIncludes(JSON.stringify(entries[4]), "line of its own");
});

Deno.test("auth: parseEnvTokens splits on commas and skips empty items", () => {
  assertEquals(parseEnvTokens(undefined), []);
  assertEquals(parseEnvTokens(""), []);
  assertEquals(parseEnvTokens(` ${TOKEN_A} ,,${TOKEN_B},`), [
    { position: 1, token: TOKEN_A },
    { position: 3, token: TOKEN_B },
  ]);
});

Deno.test("auth: tokens from config, token_file and SYSMON_TOKENS all count", async () => {
  const fileToken = "sysmon_file_token_in_plaintext_1";
  const fileHashed = "sysmon_file_token_given_as_hash_2";
  const envTokens = ["sysmon_env_token_number_one_xx", "sysmon_env_token_number_two_yy"];
  const text = `# comment\n\n${fileToken}\n${await hashToken(fileHashed)}\n`;
  await withTempFile(text, async (path) => {
    const set = await loadTokenSet(
      auth({ token_hashes: [await hashToken(TOKEN_A)], token_file: path }),
      { SYSMON_TOKENS: envTokens.join(", ") },
    );
    assertEquals(set.size, 5);
    for (const t of [TOKEN_A, fileToken, fileHashed, ...envTokens]) {
      assertEquals(await set.verify(t), true, `token ${t} should be accepted`);
    }
    assertEquals(await set.verify(TOKEN_B), false);
    assertEquals(await set.verify("# comment"), false);
  });
});

Deno.test("auth: the same token from several sources counts once", async () => {
  await withTempFile(`${TOKEN_A}\n`, async (path) => {
    const set = await loadTokenSet(
      auth({ token_hashes: [await hashToken(TOKEN_A)], token_file: path }),
      { SYSMON_TOKENS: TOKEN_A },
    );
    assertEquals(set.size, 1);
  });
});

Deno.test("auth: a missing or unreadable token_file is a usage error naming it", async () => {
  const missing = "/nonexistent-dir/sysmon.tokens";
  const msg = await usageError(() => loadTokenSet(auth({ token_file: missing }), {}));
  assertStringIncludes(msg, missing);
  assertStringIncludes(msg, "no such file");

  const dir = await Deno.makeTempDir();
  try {
    const dirMsg = await usageError(() => loadTokenSet(auth({ token_file: dir }), {}));
    assertStringIncludes(dirMsg, dir);
    assertStringIncludes(dirMsg, "directory");
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("auth: a bad token in the file names file:line and never the token", async () => {
  const secretish = "tooShort123";
  for (
    const [bad, why] of [
      [secretish, "shorter than 16"],
      ["sysmon_two words in it", "white space"],
      ["sha256:0123ABCDEF", "64 lowercase hex"],
    ]
  ) {
    await withTempFile(`# first\n${TOKEN_A}\n${bad}\n`, async (path) => {
      const msg = await usageError(() => loadTokenSet(auth({ token_file: path }), {}));
      assertStringIncludes(msg, `${path}:3`);
      assertStringIncludes(msg, why);
      assert(!msg.includes(bad), `message quotes the token: ${msg}`);
      assert(!msg.includes(TOKEN_A), `message quotes another token: ${msg}`);
    });
  }
});

Deno.test("auth: a bad SYSMON_TOKENS item names its position and never the token", async () => {
  const short = "short-secret";
  const msg = await usageError(() =>
    loadTokenSet(auth(), { SYSMON_TOKENS: `${TOKEN_A},${short}` })
  );
  assertStringIncludes(msg, "SYSMON_TOKENS item 2");
  assertStringIncludes(msg, "shorter than 16");
  assert(!msg.includes(short) && !msg.includes(TOKEN_A), `message quotes a token: ${msg}`);

  const hash = await hashToken(TOKEN_B);
  const hashMsg = await usageError(() => loadTokenSet(auth(), { SYSMON_TOKENS: hash }));
  assertStringIncludes(hashMsg, "SYSMON_TOKENS item 1 is a hash");
});

Deno.test("auth: bearerToken takes the token of a Bearer header only", () => {
  assertEquals(bearerToken("Bearer abc.def-ghi"), "abc.def-ghi");
  assertEquals(bearerToken("bearer abc"), "abc");
  assertEquals(bearerToken("BEARER   abc  "), "abc");
  assertEquals(bearerToken("Bearer\tabc"), "abc");
  for (
    const h of [null, undefined, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearerabc", "abc"]
  ) {
    assertEquals(bearerToken(h), undefined, `header ${JSON.stringify(h)}`);
  }
  assertEquals(bearerToken("Bearer a b"), undefined);
  assertEquals(bearerToken("Token abc"), undefined);
});

/** Runs `deno run -A main.ts args` with `input` on stdin (cli_util's sysmon() closes stdin). */
async function sysmonWithStdin(args: string[], input: string): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli: token --json prints a token and its hash", async () => {
  const r = await sysmon(["token", "--json"]);
  assertEquals(r.code, 0, r.stderr);
  const { token, hash } = JSON.parse(r.stdout);
  assertMatch(token, /^sysmon_[A-Za-z0-9_-]{43}$/);
  assertEquals(hash, await hashToken(token));
  assertEquals(hash, "sha256:" + await sha256sum(token));
  const set = await loadTokenSet(auth({ token_hashes: [hash] }), {});
  assertEquals(await set.verify(token), true);
});

Deno.test("cli: token prints the token, the config lines and a reminder", async () => {
  const r = await sysmon(["token"]);
  assertEquals(r.code, 0, r.stderr);
  const token = /token\s+(sysmon_\S+)/.exec(r.stdout)?.[1];
  assert(token, `no token in:\n${r.stdout}`);
  const hash = await hashToken(token);
  assertStringIncludes(r.stdout, `hash   ${hash}`);
  assertStringIncludes(r.stdout, `serve:\n  auth:\n    token_hashes:\n      - "${hash}"`);
  assertStringIncludes(r.stdout, "only this once");
});

Deno.test("cli: token --help explains where the hash goes", async () => {
  const r = await sysmon(["token", "--help"]);
  assertEquals(r.code, 0, r.stderr);
  for (const s of ["token_hashes", "credentials_file", "SYSMON_TOKENS", "token_file", "--hash"]) {
    assertStringIncludes(r.stdout, s);
  }
});

Deno.test("cli: token --hash hashes the first line of stdin", async () => {
  const token = "sysmon_existing_token_from_a_file";
  const r = await sysmonWithStdin(["token", "--hash"], `  ${token}  \nsecond line\n`);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout, `sha256:${await sha256sum(token)}\n`);

  const j = await sysmonWithStdin(["token", "--hash", "--json"], token);
  assertEquals(j.code, 0, j.stderr);
  assertEquals(JSON.parse(j.stdout), { hash: await hashToken(token) });
});

Deno.test("cli: token --hash refuses empty stdin and short tokens without quoting them", async () => {
  const empty = await sysmonWithStdin(["token", "--hash"], "");
  assertEquals(empty.code, 2, empty.stderr);
  assertStringIncludes(empty.stderr, "no token on stdin");
  assertEquals(empty.stdout, "");

  const short = "shortsecret";
  const r = await sysmonWithStdin(["token", "--hash"], short + "\n");
  assertEquals(r.code, 2, r.stderr);
  assertStringIncludes(r.stderr, "shorter than 16");
  assert(!r.stderr.includes(short), `stderr quotes the token: ${r.stderr}`);
  assertEquals(r.stdout, "");
});
