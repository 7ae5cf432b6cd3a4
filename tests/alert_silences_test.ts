/** Silences (issue 5): matcher syntax, Alertmanager matching semantics, the file, the commands. */
import {
  decodeSilences,
  formatMatcher,
  isSilenced,
  type Matcher,
  parseMatcher,
  renderSilenceTable,
  resolveSilenceId,
  runSilenceAdd,
  runSilenceList,
  runSilenceRemove,
  type Silence,
  silencesPath,
  SilenceStore,
  validateSilence,
} from "../src/alert/silences.ts";
import { RuntimeFailure, UsageError } from "../src/cli/errors.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "./assert.ts";
import { sysmon } from "./cli_util.ts";

const T0 = Date.parse("2026-11-27T10:00:00Z");
const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

function silence(matchers: string[], from: number, to: number, id = "aaaaaaaaaaaaaaaa"): Silence {
  return {
    id,
    matchers: matchers.map(parseMatcher),
    startsAt: iso(from),
    endsAt: iso(to),
    createdAt: iso(from),
    comment: "",
    author: "test",
  };
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-silence-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `fn` with stdout captured (writeStdout writes through Deno.stdout.writeSync). */
async function captureStdout(fn: () => Promise<void>): Promise<string> {
  const stdout = Deno.stdout as { writeSync(p: Uint8Array): number };
  const original = stdout.writeSync;
  let text = "";
  const dec = new TextDecoder();
  stdout.writeSync = (p: Uint8Array) => {
    text += dec.decode(p);
    return p.length;
  };
  try {
    await fn();
  } finally {
    stdout.writeSync = original;
  }
  return text;
}

// --- parseMatcher ----------------------------------------------------------------------------

Deno.test("parseMatcher reads every operator, quoted or not, with spaces around", () => {
  const cases: [string, Matcher][] = [
    ['alertname="cpu_busy"', { name: "alertname", op: "=", value: "cpu_busy" }],
    ["alertname=cpu_busy", { name: "alertname", op: "=", value: "cpu_busy" }],
    ["severity!=warning", { name: "severity", op: "!=", value: "warning" }],
    ['mountpoint=~"/var.*"', { name: "mountpoint", op: "=~", value: "/var.*" }],
    ["device!~sd[a-c]", { name: "device", op: "!~", value: "sd[a-c]" }],
    ['  mountpoint  =~  "/var.*"  ', { name: "mountpoint", op: "=~", value: "/var.*" }],
    ["host = web 1", { name: "host", op: "=", value: "web 1" }],
    ['comment=" padded "', { name: "comment", op: "=", value: " padded " }],
    ['fstype=""', { name: "fstype", op: "=", value: "" }],
    ["fstype=", { name: "fstype", op: "=", value: "" }],
    ["_x9=a=b", { name: "_x9", op: "=", value: "a=b" }],
  ];
  for (const [text, want] of cases) assertEquals(parseMatcher(text), want, text);
});

Deno.test('parseMatcher unescapes \\" \\\\ \\n and keeps other backslashes (regex escapes)', () => {
  assertEquals(parseMatcher('summary="say \\"hi\\""').value, 'say "hi"');
  assertEquals(parseMatcher('a="back\\\\slash"').value, "back\\slash");
  assertEquals(parseMatcher('a="two\\nlines"').value, "two\nlines");
  assertEquals(parseMatcher('device=~"sd\\d+"').value, "sd\\d+");
  assertEquals(parseMatcher("device=~nvme\\d+n\\d").value, "nvme\\d+n\\d");
  assertEquals(parseMatcher("a=trailing\\").value, "trailing\\");
});

Deno.test("formatMatcher writes what parseMatcher reads back", () => {
  for (
    const m of [
      { name: "a", op: "=", value: 'say "hi"\\ \n x' },
      { name: "mountpoint", op: "=~", value: "/var(/.*)?" },
      { name: "device", op: "!~", value: "sd\\d+" },
      { name: "e", op: "!=", value: "" },
    ] as Matcher[]
  ) {
    assertEquals(parseMatcher(formatMatcher(m)), m);
  }
  assertEquals(formatMatcher({ name: "a", op: "=~", value: 'x"y' }), 'a=~"x\\"y"');
});

Deno.test("parseMatcher rejects mistakes with a message naming the part and the forms", () => {
  const cases: [string, string][] = [
    ["cpu_busy", 'bad matcher "cpu_busy": no operator; write NAME=VALUE, NAME!=VALUE'],
    ["", 'bad matcher "": no operator'],
    ['="x"', 'no label name before "="'],
    ["  !~ x", 'no label name before "!~"'],
    ["1cpu=x", 'label name "1cpu" is not valid'],
    ["mount-point=/", 'label name "mount-point" is not valid'],
    ["a~=b", 'label name "a~" is not valid'],
    ["a==b", 'the value starts with "=": the operators are =, !=, =~ and !~'],
    ["a!=~b", 'the value starts with "~"'],
    ['a="open', "the value's opening quote is never closed"],
    ['a="esc\\"', "the value's opening quote is never closed"],
    ['a="x"y', "text after the closing quote of the value"],
    ['a=x"y', 'a " inside an unquoted value'],
    ['a=~"("', 'regex "(" does not compile'],
    ["a!~[z-a]", 'regex "[z-a]" does not compile'],
    // Would compile once wrapped in ^(?:…)$ but not anchored: refused.
    ["a=~x)|(y", 'regex "x)|(y" does not compile'],
  ];
  for (const [text, message] of cases) {
    const err = assertThrows(() => parseMatcher(text), message);
    assert(err instanceof UsageError, `${text}: ${err.name}`);
    assert(!err.message.includes("\n"), "one line");
  }
  // The forms are listed where the shape itself is wrong.
  assertThrows(() => parseMatcher("x"), 'mountpoint=~"/var.*"');
});

Deno.test("parseMatcher accepts the value quoted when it really starts with = or ~", () => {
  assertEquals(parseMatcher('a="=b"'), { name: "a", op: "=", value: "=b" });
  assertEquals(parseMatcher('a!="~b"'), { name: "a", op: "!=", value: "~b" });
});

// --- isSilenced ------------------------------------------------------------------------------

const CPU = { alertname: "cpu_busy", severity: "warning", host: "web1" };
const VAR_LOG = {
  alertname: "filesystem_full",
  severity: "critical",
  host: "web1",
  mountpoint: "/var/log",
  device: "/dev/sda2",
  fstype: "ext4",
};

Deno.test("isSilenced: the window includes its start and excludes its end", () => {
  const s = silence(["alertname=cpu_busy"], T0, T0 + HOUR);
  assertEquals(isSilenced(CPU, [s], T0 - 1), undefined);
  assertEquals(isSilenced(CPU, [s], T0), s);
  assertEquals(isSilenced(CPU, [s], T0 + HOUR - 1), s);
  assertEquals(isSilenced(CPU, [s], T0 + HOUR), undefined);
  assertEquals(isSilenced(CPU, [], T0), undefined);
});

Deno.test("isSilenced: regexes match the whole value, as in Alertmanager", () => {
  const at = T0 + 1;
  const on = (m: string, labels: Record<string, string> = VAR_LOG) =>
    isSilenced(labels, [silence([m], T0, T0 + HOUR)], at) !== undefined;
  assertEquals(on('mountpoint=~"/var"'), false);
  assertEquals(on('mountpoint=~"/var.*"'), true);
  assertEquals(on('mountpoint=~"var/log"'), false);
  assertEquals(on('mountpoint=~"/var/log|/home"'), true);
  assertEquals(on('mountpoint=~"/home|/var/log"'), true);
  assertEquals(on('device=~"/dev/sd[a-z]\\d"'), true);
  assertEquals(on('mountpoint!~"/var"'), true);
  assertEquals(on('mountpoint!~"/var.*"'), false);
});

Deno.test("isSilenced: =, !=, all matchers must match, missing labels equal the empty string", () => {
  const at = T0 + 1;
  const on = (ms: string[], labels: Record<string, string>) =>
    isSilenced(labels, [silence(ms, T0, T0 + HOUR)], at) !== undefined;
  assertEquals(on(["alertname=cpu_busy"], CPU), true);
  assertEquals(on(["alertname=cpu"], CPU), false);
  assertEquals(on(["alertname=cpu_busy", "severity!=warning"], CPU), false);
  assertEquals(on(["alertname=cpu_busy", "severity!=critical"], CPU), true);
  assertEquals(on(["alertname=cpu_busy", "host=web2"], CPU), false);
  // CPU has no mountpoint: it is "" for the matchers.
  assertEquals(on(["alertname=cpu_busy", 'mountpoint=""'], CPU), true);
  assertEquals(on(["alertname=cpu_busy", "mountpoint!=/var"], CPU), true);
  assertEquals(on(["alertname=cpu_busy", "mountpoint=~/.*"], CPU), false);
  assertEquals(on(["alertname=cpu_busy", "mountpoint=~.*"], CPU), true);
  assertEquals(on(["alertname=cpu_busy", "mountpoint!~.+"], CPU), true);
  // Names of Object.prototype members are labels like any other, absent here.
  assertEquals(on(["alertname=cpu_busy", 'constructor=""'], CPU), true);
  assertEquals(on(["alertname=cpu_busy", "toString=~.+"], CPU), false);
});

Deno.test("isSilenced: of several active silences, the one ending last; others are ignored", () => {
  const short = silence(["host=web1"], T0, T0 + HOUR, "1111111111111111");
  const long = silence(["alertname=~cpu.*"], T0, T0 + 3 * HOUR, "2222222222222222");
  const other = silence(["host=web2"], T0, T0 + 9 * HOUR, "3333333333333333");
  const later = silence(["host=web1"], T0 + HOUR, T0 + 9 * HOUR, "4444444444444444");
  assertEquals(isSilenced(CPU, [short, long, other, later], T0 + 1)?.id, "2222222222222222");
  assertEquals(isSilenced(CPU, [long, short], T0 + 1)?.id, "2222222222222222");
  assertEquals(isSilenced(CPU, [short, other], T0 + 1)?.id, "1111111111111111");
});

Deno.test("validateSilence refuses what Alertmanager refuses", () => {
  const base = { startsAt: iso(T0), endsAt: iso(T0 + HOUR), comment: "", author: "" };
  const ok = (ms: string[]) => validateSilence({ ...base, matchers: ms.map(parseMatcher) }, T0);
  ok(["alertname=cpu_busy"]);
  ok(["severity!=warning", "host=web1"]);
  assertThrows(() => ok([]), "at least one matcher");
  for (const only of [["severity!=warning"], ["mountpoint=~.*"], ['a=""', "b!~x"]]) {
    const err = assertThrows(() => ok(only), "every matcher also matches alerts without");
    assert(err instanceof UsageError);
  }
  assertThrows(
    () => validateSilence({ ...base, endsAt: iso(T0), matchers: [parseMatcher("a=b")] }, T0),
    "not after now",
  );
  assertThrows(
    () =>
      validateSilence({
        ...base,
        startsAt: iso(T0 + 2 * HOUR),
        matchers: [parseMatcher("a=b")],
      }, T0),
    "before it starts",
  );
  assertThrows(
    () => validateSilence({ ...base, matchers: [{ name: "a", op: "=~", value: "(" }] }, T0),
    'regex "(" does not compile',
  );
});

// --- SilenceStore ----------------------------------------------------------------------------

const draft = (ms: string[], from: number, to: number, comment = "") => ({
  matchers: ms.map(parseMatcher),
  startsAt: iso(from),
  endsAt: iso(to),
  comment,
  author: "alice",
});

Deno.test("SilenceStore: add, list, remove (expire), prune round-trip through the file", async () => {
  await withDir(async (dir) => {
    const path = silencesPath(`${dir}/data`);
    assertEquals(path, `${dir}/data/state/silences.json`);
    const store = new SilenceStore(path);
    assertEquals(await store.list(), [], "no file yet: no silence");

    const a = await store.add(draft(['mountpoint=~"/var.*"'], T0, T0 + HOUR, "disk swap"), T0);
    const b = await store.add(draft(["alertname=cpu_busy"], T0 + HOUR, T0 + 2 * HOUR), T0);
    assertMatch(a.id, /^[0-9a-f]{16}$/);
    assert(a.id !== b.id);
    assertEquals(a.createdAt, iso(T0));
    assertEquals(a.comment, "disk swap");
    assertEquals(await store.list(), [a, b]);
    const onDisk = JSON.parse(await Deno.readTextFile(path));
    assertEquals(onDisk.version, 1);
    assertEquals(onDisk.silences, [a, b]);
    // A second store on the same file sees the same silences (nothing cached in memory).
    assertEquals(await new SilenceStore(path).list(), [a, b]);

    // Removing expires: an active one ends now, a pending one starts and ends now.
    const now = T0 + 10 * 60_000;
    assertEquals(await store.remove(a.id, now), true);
    assertEquals(await store.remove(b.id, now), true);
    const [ea, eb] = await store.list();
    assertEquals([ea.startsAt, ea.endsAt], [a.startsAt, iso(now)]);
    assertEquals([eb.startsAt, eb.endsAt], [iso(now), iso(now)]);
    assertEquals(isSilenced({ mountpoint: "/var" }, [ea, eb], now), undefined);
    // Already expired, or unknown: nothing to do.
    assertEquals(await store.remove(a.id, now + 1), false);
    assertEquals(await store.remove("ffffffffffffffff", now), false);

    const c = await store.add(draft(["host=web1"], now, now + 5 * HOUR), now);
    // Keep expired for 1h: at now+1h both expired ones are exactly 1h old and stay.
    assertEquals(await store.prune(now + HOUR, HOUR), 0);
    assertEquals(await store.prune(now + HOUR + 1, HOUR), 2);
    assertEquals(await store.list(), [c]);
  });
});

Deno.test("SilenceStore.add validates before writing anything", async () => {
  await withDir(async (dir) => {
    const store = new SilenceStore(silencesPath(dir));
    await assertRejects(
      () => store.add(draft(["alertname=cpu_busy"], T0 - 2 * HOUR, T0 - HOUR), T0),
      "not after now",
    );
    await assertRejects(() => store.add(draft(["a!=b"], T0, T0 + HOUR), T0), "every matcher");
    assertEquals(await store.list(), []);
  });
});

Deno.test("SilenceStore: concurrent adds all land (read-modify-write under a lock)", async () => {
  await withDir(async (dir) => {
    const store = new SilenceStore(silencesPath(dir));
    const added = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.add(draft([`n=${i}`], T0, T0 + HOUR), T0)),
    );
    const ids = (await store.list()).map((s) => s.id).sort();
    assertEquals(ids, added.map((s) => s.id).sort());
    assertEquals(new Set(ids).size, 12);
  });
});

Deno.test("SilenceStore: a corrupt or unreadable file is an error naming it, never emptied", async () => {
  await withDir(async (dir) => {
    const path = silencesPath(dir);
    await Deno.mkdir(`${dir}/state`);
    const bad: [string, string][] = [
      ["{not json", "is not a valid silences file"],
      ["[]", 'no "silences" list'],
      ['{"version":2,"silences":[]}', "version 2, this sysmon reads 1"],
      ['{"version":1,"silences":[{"id":"x","matchers":[]}]}', "x: no matchers"],
      [
        JSON.stringify({ version: 1, silences: [{ ...silence(["a=b"], T0, T0 + 1), id: "y" }] })
          .replace('"=","value":"b"', '"=~","value":"("'),
        'y: regex "(" does not compile',
      ],
      [
        JSON.stringify({ version: 1, silences: [{ ...silence(["a=b"], T0, T0 + 1), endsAt: 5 }] }),
        "endsAt is not a time",
      ],
    ];
    const store = new SilenceStore(path);
    for (const [text, why] of bad) {
      await Deno.writeTextFile(path, text);
      const err = await assertRejects(() => store.list(), path);
      assertStringIncludes(err.message, why);
      assert(err instanceof RuntimeFailure, err.name);
      // A change must not overwrite the file it could not read.
      await assertRejects(
        () => store.add(draft(["a=b"], T0, T0 + HOUR), T0),
        "is not a valid silences file",
      );
      assertEquals(await Deno.readTextFile(path), text);
    }
    await Deno.remove(path);
    await Deno.mkdir(path); // a directory where the file should be: unreadable even as root
    await assertRejects(() => store.list(), `cannot read silences ${path}:`);
  });
});

Deno.test("decodeSilences reads what the store writes", () => {
  const s = silence(["mountpoint=~/var.*", "severity!=warning"], T0, T0 + HOUR);
  assertEquals(decodeSilences(JSON.stringify({ version: 1, silences: [s] }), "f"), [s]);
});

// --- presentation and ids ----------------------------------------------------------------------

Deno.test("renderSilenceTable: active, then pending, then expired; relative ends", () => {
  const now = T0 + 1000;
  const rows = [
    { ...silence(["host=web1"], T0 - 3 * HOUR, T0 - HOUR, "eeeeeeeeeeeeeeee"), comment: "old" },
    silence(["alertname=x"], T0 + HOUR, T0 + 2 * HOUR, "pppppppppppppppp"),
    {
      ...silence(['mountpoint=~"/var.*"', "severity=critical"], T0, T0 + 2 * HOUR + 1000, "a1"),
      comment: "disk\nswap",
    },
  ];
  const lines = renderSilenceTable(rows, now, 200).split("\n");
  assertMatch(lines[0], /^ID\s+STATE\s+MATCHERS\s+ENDS\s+AUTHOR\s+COMMENT$/);
  assertMatch(
    lines[1],
    /^a1\s+active\s+mountpoint=~"\/var\.\*" severity="critical"\s+in 2h\s+test\s+disk swap$/,
  );
  assertMatch(lines[2], /^p{16}\s+pending\s+alertname="x"\s+in 1h59m\s+test$/);
  assertMatch(lines[3], /^e{16}\s+expired\s+host="web1"\s+ended 1h1s ago\s+test\s+old$/);
  assertEquals(lines.length, 4);
  // At 80 columns a long comment gives way; the rest is kept whole.
  const long = {
    ...rows[2],
    comment: "replacing the disk in bay 3, see ticket OPS-1234 ".repeat(3),
  };
  const narrow = renderSilenceTable([long], now, 80).split("\n");
  assertEquals(narrow[1].length, 80, narrow.join("\n"));
  assertMatch(
    narrow[1],
    /^a1\s+active\s+mountpoint=~"\/var\.\*" severity="critical"\s+in 2h\s+test\s+replacing .*…$/,
  );
});

Deno.test("resolveSilenceId: exact id, or a unique prefix of at least 6 characters", () => {
  const all = [
    silence(["a=b"], T0, T0 + 1, "0123456789abcdef"),
    silence(["a=b"], T0, T0 + 1, "0123459999999999"),
    silence(["a=b"], T0, T0 + 1, "fedcba9876543210"),
  ];
  assertEquals(resolveSilenceId("0123456789abcdef", all).id, "0123456789abcdef");
  assertEquals(resolveSilenceId("FEDCBA", all).id, "fedcba9876543210");
  assertEquals(resolveSilenceId("0123456", all).id, "0123456789abcdef");
  assertThrows(() => resolveSilenceId("012345", all), '"012345" begins 2 silence ids');
  assertThrows(() => resolveSilenceId("fedcb", all), "at least 6 characters");
  const err = assertThrows(() => resolveSilenceId("999999", all), 'no silence has the id "999999"');
  assert(err instanceof UsageError);
  assert(!err.message.includes("0123456789abcdef"), "other ids are not listed");
});

// --- the commands, called directly -----------------------------------------------------------

Deno.test("runSilenceAdd/List/Remove on a temp data directory", async () => {
  await withDir(async (dir) => {
    const env = { HOME: dir, USER: "alice" };
    const data = `${dir}/data`;
    const out = await captureStdout(() =>
      runSilenceAdd(
        { data, for: 2 * 3600, comment: "kernel upgrade" },
        ['mountpoint=~"/var.*"', "severity=critical"],
        env,
      )
    );
    assertMatch(out, /^[0-9a-f]{16}\n$/);
    const id = out.trim();
    const [stored] = await new SilenceStore(silencesPath(data)).list();
    assertEquals(stored.id, id);
    assertEquals(stored.author, "alice");
    assertEquals(stored.comment, "kernel upgrade");
    assertEquals(Date.parse(stored.endsAt) - Date.parse(stored.startsAt), 2 * HOUR);

    const until = iso(Date.now() + 3 * HOUR);
    const id2 = (await captureStdout(() =>
      runSilenceAdd({ data, until, author: "bob" }, ["alertname=cpu_busy"], env)
    )).trim();
    assertEquals((await new SilenceStore(silencesPath(data)).list())[1].endsAt, until);

    const table = await captureStdout(() =>
      runSilenceList({ data }, env)
    );
    const lines = table.trimEnd().split("\n");
    assertEquals(lines.length, 3, table);
    assertMatch(
      lines[1],
      new RegExp(`^${id}\\s+active\\s+mountpoint=~"/var\\.\\*" severity="critical"\\s+in 1h59m`),
    );
    assertMatch(
      lines[2],
      new RegExp(`^${id2}\\s+active\\s+alertname="cpu_busy"\\s+in 2h59m\\s+bob`),
    );

    const removed = await captureStdout(() => runSilenceRemove({ data }, id.slice(0, 8), env));
    assertEquals(removed, `expired silence ${id}\n`);
    const json = JSON.parse(await captureStdout(() => runSilenceList({ data, json: true }, env)));
    assertEquals(json.map((s: { id: string; state: string }) => [s.id, s.state]), [
      [id2, "active"],
    ]);
    const all = JSON.parse(
      await captureStdout(() => runSilenceList({ data, json: true, all: true }, env)),
    );
    assertEquals(all.map((s: { id: string; state: string }) => [s.id, s.state]), [
      [id, "expired"],
      [id2, "active"],
    ]);
    assertStringIncludes(
      await captureStdout(() => runSilenceList({ data, all: true }, env)),
      "expired",
    );

    await assertRejects(() => runSilenceRemove({ data }, id, env), "already expired");
    await assertRejects(() => runSilenceRemove({ data }, "abcdefabcdef", env), "no silence");
    await captureStdout(() => runSilenceRemove({ data }, id2, env));
    assertEquals(
      await captureStdout(() => runSilenceList({ data }, env)),
      "no active or pending silence\n",
    );
  });
});

Deno.test("runSilenceAdd refuses bad flags before touching the data directory", async () => {
  await withDir(async (dir) => {
    const env = { HOME: dir };
    const data = `${dir}/data`;
    const cases: [Parameters<typeof runSilenceAdd>[0], string[], string][] = [
      [{ data, for: 60 }, [], "give at least one matcher"],
      [{ data }, ["a=b"], "--for DUR (e.g. 2h) or --until TIME"],
      [{ data, for: 60, until: "2099-01-01" }, ["a=b"], "--for and --until both given"],
      [{ data, for: 0 }, ["a=b"], "--for must be a positive duration"],
      [{ data, until: "tomorrow" }, ["a=b"], '--until "tomorrow" is not a time'],
      [{ data, until: "-1h" }, ["a=b"], "is not in the future"],
      [{ data, until: "2020-01-01T00:00:00Z" }, ["a=b"], "is not in the future"],
      [{ data, for: 60 }, ["a=b", "oops"], 'bad matcher "oops": no operator'],
      [{ data, for: 60 }, ["severity!=warning"], "every matcher also matches"],
    ];
    for (const [flags, matchers, message] of cases) {
      const err = await assertRejects(() => runSilenceAdd(flags, matchers, env), message);
      assert(err instanceof UsageError, `${message}: ${err.name}`);
    }
    assertEquals(await new SilenceStore(silencesPath(data)).list(), []);
  });
});

Deno.test("runSilenceList: empty data directory, and a corrupt file is reported", async () => {
  await withDir(async (dir) => {
    const env = { HOME: dir };
    const data = `${dir}/data`;
    assertEquals(
      await captureStdout(() => runSilenceList({ data, all: true }, env)),
      "no silence\n",
    );
    assertEquals(await captureStdout(() => runSilenceList({ data, json: true }, env)), "[]\n");
    await Deno.mkdir(`${data}/state`, { recursive: true });
    await Deno.writeTextFile(silencesPath(data), "garbage");
    await assertRejects(() => runSilenceList({ data }, env), `${data}/state/silences.json`);
  });
});

// --- the CLI (needs `alert silence` registered in commands/alert.ts) ---------------------------

Deno.test("CLI: alert silence add, ls, rm as a user runs them", async () => {
  await withDir(async (dir) => {
    const data = ["--data", `${dir}/data`];
    const add = await sysmon(
      [
        "alert",
        "silence",
        "add",
        'mountpoint=~"/var.*"',
        "alertname=filesystem_full",
        "--for",
        "2h",
        "--comment",
        "disk swap",
        ...data,
      ],
      { env: { USER: "carol" } },
    );
    assertEquals(add.code, 0, add.stderr);
    assertMatch(add.stdout, /^[0-9a-f]{16}\n$/);
    const id = add.stdout.trim();

    const ls = await sysmon(["alert", "silence", "ls", ...data]);
    assertEquals(ls.code, 0, ls.stderr);
    assertMatch(ls.stdout, new RegExp(`^${id}\\s+active\\s+mountpoint=~"/var\\.\\*"`, "m"));
    assertStringIncludes(ls.stdout, "carol");
    assertStringIncludes(ls.stdout, "disk swap");

    const rm = await sysmon(["alert", "silence", "rm", id.slice(0, 6), ...data]);
    assertEquals(rm.code, 0, rm.stderr);
    const json = await sysmon(["alert", "silence", "ls", "--all", "--json", ...data]);
    assertEquals(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout);
    assertEquals(listed.map((s: { id: string; state: string }) => [s.id, s.state]), [
      [id, "expired"],
    ]);
    assertEquals(listed[0].author, "carol");
    const none = await sysmon(["alert", "silence", "ls", ...data]);
    assertEquals(none.stdout, "no active or pending silence\n");
  });
});

Deno.test("CLI: alert silence mistakes exit 2 with one clear line; a corrupt file exits 1", async () => {
  await withDir(async (dir) => {
    const data = ["--data", `${dir}/data`];
    const cases: [string[], string][] = [
      [["add", "cpu_busy", "--for", "1h"], 'bad matcher "cpu_busy": no operator'],
      [["add", "a=b"], "--for DUR (e.g. 2h) or --until TIME"],
      [["add", "a=b", "--for", "1h", "--until", "2099-01-01"], "--for and --until both given"],
      [["add", "a=~(", "--for", "1h"], 'regex "(" does not compile'],
      [["rm", "0123456789abcdef"], 'no silence has the id "0123456789abcdef"'],
    ];
    for (const [args, message] of cases) {
      const r = await sysmon(["alert", "silence", ...args, ...data]);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assertStringIncludes(r.stderr, message);
      assert(!r.stderr.includes("    at "), `no stack trace: ${r.stderr}`);
    }
    await Deno.mkdir(`${dir}/data/state`, { recursive: true });
    await Deno.writeTextFile(`${dir}/data/state/silences.json`, "{");
    const r = await sysmon(["alert", "silence", "ls", ...data]);
    assertEquals(r.code, 1, r.stderr);
    assertStringIncludes(r.stderr, `${dir}/data/state/silences.json is not a valid silences file`);
  });
});
