/**
 * `sysmon watch` next to htop and btop, each refreshing every second in its own tmux terminal of
 * the same size, measured in the same run (figures for docs/performance.md, "watch").
 *
 *   deno run -A scripts/bench-watch.ts [--seconds 60] [--runs 5] [--json]
 *
 * 1. CPU: utime+stime from /proc/PID/stat over --seconds, after a 5 s warm-up, as % of one core.
 * 2. RSS: VmRSS (and RssAnon/RssFile) at the end of the CPU window.
 * 3. Start-up: time from starting the command in tmux to its first frame on screen (the header),
 *    minus the same for `deno run` of an empty script that prints one line (Deno's own start-up and
 *    tmux's share cancel out); the median of --runs.
 *
 * htop runs with `-d 10` (tenths of a second); btop with update_ms = 1000 in a throwaway config.
 * A reference that is not installed is reported as missing, not failed. Exits 0 once measured,
 * 1 when setup fails, 2 for bad flags.
 */

const TICK = 100; // USER_HZ
const COLUMNS = 120;
const ROWS = 40;
const WARMUP_MS = 5000;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--no-opt,--single-threaded,--expose-gc";
/** As `deno task sysmon`: V8's code cache is a 2–2.5 MB file mapping, for ~20 ms of start-up. */
const NO_CODE_CACHE = "--no-code-cache";
const TARGETS = { cpuPercent: 1, rssBytes: 60e6, startupMs: 300 };

function intFlag(name: string, dflt: number, min: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(Deno.args[i + 1]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench-watch: --${name} needs a whole number ≥ ${min}`);
    Deno.exit(2);
  }
  return n;
}

const SECONDS = intFlag("seconds", 60, 5);
const RUNS = intFlag("runs", 5, 1);
const JSON_OUT = Deno.args.includes("--json");
const SOCKET = `sysmon-bench-watch-${Deno.pid}`;

async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", SOCKET, "-f", "/dev/null", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const path = `${dir}/${cmd}`;
    if (await Deno.stat(path).then((s) => s.isFile, () => false)) return path;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

function memory(pid: number): { rss: number; anon: number; file: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

/** The pane's process, or its only descendant that is `comm` (a shell may sit in between). */
function findProcess(panePid: number, comm: string): number {
  let pid = panePid;
  for (let depth = 0; depth < 4; depth++) {
    if (Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === comm) return pid;
    const children = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/);
    if (children[0] === "") break;
    pid = Number(children[0]);
  }
  throw new Error(`no ${comm} process under pane ${panePid}`);
}

interface Target {
  name: string;
  command: string[];
  comm: string;
  /** Text on screen once the first frame is drawn. */
  ready: RegExp;
  env?: Record<string, string>;
}

interface Measured {
  name: string;
  cpuPercent: number;
  rss: number;
  rssAnon: number;
  rssFile: number;
}

/** `exec` makes the pane's process the program itself; `keep` leaves the pane up after it exits. */
async function startSession(name: string, t: Target, keep = false): Promise<void> {
  const env = Object.entries(t.env ?? {}).map(([k, v]) => `${k}='${v}'`).join(" ");
  const quoted = t.command.map((a) => `'${a}'`).join(" ");
  if (keep) {
    await tmux(
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      String(COLUMNS),
      "-y",
      String(ROWS),
      `env ${env} ${quoted}; sleep 600`,
    );
    return;
  }
  await tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    String(COLUMNS),
    "-y",
    String(ROWS),
    `${env} exec ${quoted}`,
  );
}

async function measure(t: Target): Promise<Measured> {
  const session = `cpu-${t.name}`;
  await startSession(session, t);
  try {
    await sleep(WARMUP_MS);
    const panePid = Number((await tmux("list-panes", "-t", session, "-F", "#{pane_pid}")).trim());
    const pid = findProcess(panePid, t.comm);
    const before = cpuTicks(pid);
    await sleep(SECONDS * 1000);
    const ticks = cpuTicks(pid) - before;
    const mem = memory(pid);
    return {
      name: t.name,
      cpuPercent: (ticks / TICK / SECONDS) * 100,
      rss: mem.rss,
      rssAnon: mem.anon,
      rssFile: mem.file,
    };
  } finally {
    await tmux("kill-session", "-t", session).catch(() => {});
  }
}

/** ms from starting `t` in a fresh pane until `t.ready` is on screen. */
async function timeToScreen(t: Target, run: number): Promise<number> {
  const session = `start-${t.name}-${run}`;
  const t0 = performance.now();
  await startSession(session, t, true);
  try {
    for (;;) {
      const screen = await tmux("capture-pane", "-p", "-t", session);
      if (t.ready.test(screen)) return performance.now() - t0;
      if (performance.now() - t0 > 20_000) throw new Error(`${t.name} drew nothing in 20 s`);
      await sleep(5);
    }
  } finally {
    await tmux("kill-session", "-t", session).catch(() => {});
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  if (!(await which("tmux"))) {
    console.error("bench-watch: tmux is needed (apt-get install tmux)");
    Deno.exit(1);
  }
  const tmp = await Deno.makeTempDir({ prefix: "sysmon-bench-watch-" });
  const deno = Deno.execPath();
  await Deno.writeTextFile(`${tmp}/empty.ts`, 'console.log("READY");\n');
  await Deno.mkdir(`${tmp}/btop/.config/btop`, { recursive: true });
  await Deno.writeTextFile(`${tmp}/btop/.config/btop/btop.conf`, "update_ms = 1000\n");

  const sysmon: Target = {
    name: "sysmon watch",
    command: [
      deno,
      "run",
      NO_CODE_CACHE,
      "-A",
      V8_FLAGS,
      MAIN,
      "watch",
      "--interval",
      "1s",
      "--data",
      tmp,
    ],
    comm: "deno",
    ready: /every 1s/,
    env: { DENO_NO_UPDATE_CHECK: "1", XDG_CONFIG_HOME: "/nonexistent-xdg" },
  };
  const empty: Target = {
    name: "deno empty script",
    command: [deno, "run", NO_CODE_CACHE, "-A", V8_FLAGS, `${tmp}/empty.ts`],
    comm: "deno",
    ready: /READY/,
    env: { DENO_NO_UPDATE_CHECK: "1" },
  };
  const references: Target[] = [];
  const htop = await which("htop");
  const btop = await which("btop");
  if (htop) {
    references.push({
      name: "htop",
      command: [htop, "-d", "10"],
      comm: "htop",
      ready: /Load average/,
    });
  }
  if (btop) {
    references.push({
      name: "btop",
      command: [btop],
      comm: "btop",
      ready: /cpu/i,
      env: { HOME: `${tmp}/btop`, XDG_CONFIG_HOME: `${tmp}/btop/.config` },
    });
  }

  try {
    // A session that outlives the others: the server must not exit (and race the next start)
    // whenever a measured session ends.
    await tmux("new-session", "-d", "-s", "keeper", "sleep 86400");
    // Start-up first, on a quiet machine.
    await timeToScreen(sysmon, -1); // warms Deno's module cache
    const sysmonStart: number[] = [];
    const emptyStart: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      emptyStart.push(await timeToScreen(empty, i));
      sysmonStart.push(await timeToScreen(sysmon, i));
    }
    // CPU and memory: all at once, side by side, so they share the machine's state.
    const measured = await Promise.all([sysmon, ...references].map(measure));
    const result = {
      seconds: SECONDS,
      terminal: `${COLUMNS}x${ROWS}`,
      startup: {
        sysmonMs: median(sysmonStart),
        emptyDenoMs: median(emptyStart),
        differenceMs: median(sysmonStart) - median(emptyStart),
        runs: RUNS,
      },
      measured,
      missing: [...(htop ? [] : ["htop"]), ...(btop ? [] : ["btop"])],
      targets: TARGETS,
    };
    if (JSON_OUT) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    const mb = (b: number) => (b / 1e6).toFixed(1);
    console.log(`watch at 1 s in ${result.terminal} tmux panes, CPU over ${SECONDS} s:`);
    for (const m of measured) {
      console.log(
        `  ${m.name.padEnd(14)} CPU ${m.cpuPercent.toFixed(2).padStart(5)} % of a core   ` +
          `RSS ${mb(m.rss).padStart(5)} MB (anon ${mb(m.rssAnon)}, file ${mb(m.rssFile)})`,
      );
    }
    for (const name of result.missing) console.log(`  ${name.padEnd(14)} not installed`);
    const s = result.startup;
    console.log(
      `start-up to first frame: sysmon ${s.sysmonMs.toFixed(0)} ms, empty deno script ` +
        `${s.emptyDenoMs.toFixed(0)} ms: difference ${
          s.differenceMs.toFixed(0)
        } ms (median of ${RUNS})`,
    );
    const own = measured[0];
    for (const ref of measured.slice(1)) {
      console.log(
        `  CPU ratio sysmon / ${ref.name}: ${(own.cpuPercent / ref.cpuPercent).toFixed(2)}`,
      );
    }
    const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
    console.log(
      `targets: CPU ≤ ${TARGETS.cpuPercent} % ${verdict(own.cpuPercent <= TARGETS.cpuPercent)}, ` +
        `RSS ≤ 60 MB ${verdict(own.rss <= TARGETS.rssBytes)}, ` +
        `start-up ≤ 300 ms ${verdict(s.differenceMs <= TARGETS.startupMs)}`,
    );
  } finally {
    await tmux("kill-server").catch(() => {});
    await Deno.remove(tmp, { recursive: true });
  }
}

await main();
