/**
 * `sysmon watch` as a person runs it: in a real terminal (tmux, on a private server socket), with
 * keys sent and the screen captured; a replay over recorded data; a resize; and, on a pipe, plain
 * blocks without escape codes. Skipped with a note when tmux is not installed (.ci/run installs it).
 */
import { recordSamples } from "./store_util.ts";
import { emptySample } from "../src/core/model.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { sysmon } from "./cli_util.ts";
import { withTempDir } from "./helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const TMUX = "/usr/bin/tmux";
const haveTmux = await Deno.stat(TMUX).then(() => true, () => false);
const SKIP_NOTE = haveTmux ? "" : " (SKIPPED: tmux is not installed)";

/** A tmux server of its own, one window of `columns`×`rows` running `command` then a shell wait. */
class Pane {
  private readonly socket = `sysmon-watch-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;

  static async start(command: string[], columns: number, rows: number): Promise<Pane> {
    const pane = new Pane();
    const quoted = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    // The exit status is printed once watch ends; the pane then stays for the checks.
    await pane.tmux([
      "new-session",
      "-d",
      "-x",
      String(columns),
      "-y",
      String(rows),
      `${quoted}; echo "EXIT=$?"; sleep 600`,
    ]);
    return pane;
  }

  async tmux(args: string[]): Promise<string> {
    const out = await new Deno.Command(TMUX, {
      args: ["-L", this.socket, "-f", "/dev/null", ...args],
      env: { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-xdg", TERM: "xterm-256color" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (out.code !== 0) {
      throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return text;
  }

  screen(): Promise<string> {
    return this.tmux(["capture-pane", "-p"]);
  }

  /** tmux's view of the terminal modes: alternate screen on?, cursor shown? */
  async modes(): Promise<{ alternate: boolean; cursor: boolean }> {
    const out = await this.tmux(["display-message", "-p", "#{alternate_on} #{cursor_flag}"]);
    const [alt, cur] = out.trim().split(" ");
    return { alternate: alt === "1", cursor: cur === "1" };
  }

  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) await this.tmux(["send-keys", k]);
  }

  /** Waits until the screen satisfies `ok`; fails with the last screen. */
  async until(what: string, ok: (screen: string) => boolean, ms = 15_000): Promise<string> {
    const end = Date.now() + ms;
    let last = "";
    while (Date.now() < end) {
      last = await this.screen();
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${last}`);
  }

  async stop(): Promise<void> {
    await this.tmux(["kill-server"]).catch(() => {});
  }
}

function watchCommand(...args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", MAIN, "watch", ...args];
}

const lines = (screen: string) => screen.split("\n");

Deno.test({
  name:
    `watch in tmux: ? help, p pause, + interval, 2 hides memory, q restores the terminal${SKIP_NOTE}`,
  ignore: !haveTmux,
  async fn() {
    await withTempDir("sysmon-watch-e2e-", async (dir) => {
      const pane = await Pane.start(watchCommand("--data", dir), 100, 32);
      try {
        let s = await pane.until("the first frame", (s) => s.includes("every 1s"));
        assert((await pane.modes()).alternate, "watch runs on the alternate screen");
        assertStringIncludes(s, "Memory");
        assertMatch(lines(s)[31], /^q quit/);

        await pane.keys("?");
        s = await pane.until("the help box", (s) => s.includes("Help: sysmon watch"));
        assertStringIncludes(s, "pause / resume");
        await pane.keys("?");
        await pane.until("the help box to close", (s) => !s.includes("Help: sysmon watch"));

        await pane.keys("p");
        s = await pane.until("PAUSED in the header", (s) => lines(s)[0].includes("PAUSED"));
        // Paused: the clock in the header still runs, the figures stay put.
        await pane.keys("+");
        s = await pane.until("the shorter interval", (s) => lines(s)[0].includes("every 500ms"));

        await pane.keys("2");
        s = await pane.until("Memory hidden", (s) => s.includes("Memory hidden"));
        assert(!/^.*\bmem \[/m.test(s), `the memory panel is gone:\n${s}`);
        // An unknown key changes nothing and breaks nothing.
        await pane.keys("z", "F12");
        await pane.keys("q");
        s = await pane.until("watch to exit", (s) => s.includes("EXIT="));
        assertStringIncludes(s, "EXIT=0");
        const modes = await pane.modes();
        assertEquals(modes, { alternate: false, cursor: true }, "the terminal is restored");
        assert(!s.includes("every 500ms"), `the view is gone after q:\n${s}`);
      } finally {
        await pane.stop();
      }
    });
  },
});

Deno.test({
  name: `watch in tmux: a resize redraws the whole screen at the new size${SKIP_NOTE}`,
  ignore: !haveTmux,
  async fn() {
    await withTempDir("sysmon-watch-e2e-", async (dir) => {
      const pane = await Pane.start(watchCommand("--data", dir), 120, 40);
      try {
        await pane.until("the first frame", (s) => s.includes("every 1s"));
        await pane.tmux(["resize-window", "-x", "80", "-y", "24"]);
        const s = await pane.until(
          "a frame at 80×24",
          (s) =>
            lines(s).length >= 24 && /^q quit/.test(lines(s)[23]) && lines(s)[0].includes("every"),
        );
        // Every row belongs to the new frame: nothing of the 120-column one is left over.
        for (const line of lines(s).slice(0, 24)) {
          assert([...line].length <= 80, `a line longer than the terminal: ${line}`);
        }
        assertEquals(lines(s).filter((l) => l.includes("every 1s")).length, 1, s);
        await pane.tmux(["resize-window", "-x", "50", "-y", "12"]);
        await pane.until("the too-small message", (s) => s.includes("terminal too small"));
        await pane.tmux(["resize-window", "-x", "100", "-y", "30"]);
        await pane.until("the view back", (s) => /^q quit/m.test(s) && !s.includes("too small"));
        await pane.keys("q");
        await pane.until("watch to exit", (s) => s.includes("EXIT=0"));
      } finally {
        await pane.stop();
      }
    });
  },
});

const T0 = Date.parse("2026-11-20T08:00:00Z");

/** Two hours of samples at 10 s whose CPU figure encodes the minute (for checking positions). */
async function recordFixture(dir: string): Promise<void> {
  function* samples() {
    for (let t = T0; t < T0 + 2 * 3600_000; t += 10_000) {
      const s = emptySample(new Date(t).toISOString(), "replayhost", 10);
      s.metrics.cpu_usage_percent = ((t - T0) / 60_000) % 100;
      s.metrics.cpu_user_percent = s.metrics.cpu_usage_percent;
      s.metrics.memory_usage_percent = 40;
      yield s;
    }
  }
  await recordSamples(dir, samples(), { host: "replayhost", closeAt: T0 + 3 * 3600_000 });
}

Deno.test({
  name: `watch --replay in tmux: starts at --from, steps, jumps an hour, quits${SKIP_NOTE}`,
  ignore: !haveTmux,
  async fn() {
    await withTempDir("sysmon-watch-e2e-", async (dir) => {
      await recordFixture(dir);
      const from = new Date(T0 + 30 * 60_000).toISOString();
      const pane = await Pane.start(
        watchCommand("--replay", "--data", dir, "--from", from, "--speed", "1"),
        100,
        30,
      );
      try {
        let s = await pane.until("the replay header", (s) => lines(s)[0].includes("REPLAY"));
        assertStringIncludes(lines(s)[0], "replayhost");
        await pane.keys("p"); // hold still while stepping
        await pane.until("PAUSED", (s) => lines(s)[0].includes("PAUSED"));
        s = await pane.screen();
        const shown = (screen: string) =>
          /(\d\d:\d\d:\d\d)/.exec(lines(screen)[0].split("REPLAY")[1] ?? "")?.[1];
        const before = shown(s);
        assert(before !== undefined, `the replayed time in the header:\n${s}`);
        await pane.keys("Right");
        s = await pane.until("one step on", (s) => shown(s) !== before);
        const seconds = (hms: string) => hms.split(":").reduce((a, b) => a * 60 + Number(b), 0);
        assertEquals(seconds(shown(s)!) - seconds(before), 10, `one sample is 10 s:\n${s}`);
        await pane.keys("]");
        s = await pane.until(
          "an hour on",
          (s) => seconds(shown(s) ?? "0:0:0") - seconds(before) === 3610,
        );
        await pane.keys("q");
        await pane.until("watch to exit", (s) => s.includes("EXIT=0"));
      } finally {
        await pane.stop();
      }
    });
  },
});

Deno.test("watch --replay: a data directory without data says so and exits 2", async () => {
  await withTempDir("sysmon-watch-e2e-", async (dir) => {
    const r = await sysmon(["watch", "--replay", "--data", dir]);
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, `no recorded data in ${dir}`);
    assert(!r.stderr.includes("    at "), "no stack trace");
    const bad = await sysmon(["watch", "--from", "-1h"]);
    assertEquals(bad.code, 2);
    assertStringIncludes(bad.stderr, "--from needs --replay");
  });
});

Deno.test("watch on a pipe: plain blocks, one per interval, no escape codes; replay dumps samples", async () => {
  await withTempDir("sysmon-watch-e2e-", async (dir) => {
    const r = await sysmon(
      ["watch", "--data", dir, "--interval", "500ms", "--duration", "1300ms"],
      {
        env: { COLUMNS: "100" },
      },
    );
    assertEquals(r.code, 0, r.stderr);
    assert(!r.stdout.includes("\x1b"), "no escape codes on a pipe");
    const blocks = r.stdout.trim().split("\n\n");
    assert(blocks.length >= 2 && blocks.length <= 4, `${blocks.length} blocks:\n${r.stdout}`);
    for (const b of blocks) {
      assertMatch(b.split("\n")[0], /every 500ms/);
      assertStringIncludes(b, "Filesystems");
      for (const line of b.split("\n")) assert([...line].length <= 100, line);
    }
    // The second block has rates (the first may not).
    assertMatch(blocks[1], /CPU +█usr \d+\.\d%/);

    await recordFixture(dir);
    const from = new Date(T0 + 60 * 60_000).toISOString();
    const dump = await sysmon([
      "watch",
      "--replay",
      "--data",
      dir,
      "--from",
      from,
      "--duration",
      "30s",
    ]);
    assertEquals(dump.code, 0, dump.stderr);
    // 60:00, 60:10, 60:20, 60:30: every sample of the 30 s, in order.
    const headers = dump.stdout.trim().split("\n\n").map((b) => b.split("\n")[0]);
    assertEquals(headers.length, 4, dump.stdout.slice(0, 2000));
    assert(headers.every((h) => h.includes("REPLAY")), headers.join("\n"));
  });
});
