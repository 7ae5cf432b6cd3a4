/**
 * `sysmon report`: reads a time range of recorded data (or a CSV series with --input), builds the
 * ReportModel and writes it as a terminal report, JSON, CSV, Markdown or one self-contained HTML
 * file. Mistakes (no data, a bad range, a bad file) are one clear line and exit 2.
 */
import { compileRules } from "../alert/rules.ts";
import { UsageError } from "../cli/errors.ts";
import type { GlobalFlags } from "../cli/globals.ts";
import { stdoutIsTTY, writeStderr, writeStdout } from "../cli/io.ts";
import { type Runtime, setupRuntime } from "../cli/runtime.ts";
import { parseTimeFlag } from "../cli/time_flag.ts";
import { resolveRecordDir } from "../record/data_dir.ts";
import { openRecordedStore } from "../record/store_open.ts";
import { ioReason } from "../store/fsutil.ts";
import { writeOutputFile } from "../cli/output_file.ts";
import { analyseInput } from "./analyses.ts";
import { buildReport } from "./build.ts";
import { parseSeriesCsv } from "./csv_input.ts";
import { renderCsv } from "./csv_output.ts";
import type { ReportModel } from "./model.ts";
import { renderText } from "./text.ts";

export type ReportFormat = "table" | "json" | "csv" | "md" | "html";

export interface ReportFlags extends GlobalFlags {
  readonly from?: string;
  readonly to?: string;
  readonly data?: string;
  readonly capacity?: boolean;
  readonly anomalies?: boolean;
  readonly online?: boolean;
  readonly format?: ReportFormat;
  readonly json?: boolean;
  readonly output?: string;
  readonly input?: string;
  /** With --input and --capacity: the value that means full (100 for a percentage). */
  readonly max?: number;
}

const DAY = 86400_000;
/** The default range of --capacity, in days. */
const CAPACITY_DAYS = 30;

export async function runReport(
  flags: ReportFlags,
  env: Record<string, string | undefined>,
): Promise<void> {
  if (flags.json && flags.format && flags.format !== "json") {
    throw new UsageError(`--json and --format ${flags.format} contradict each other`);
  }
  if (flags.online && !flags.anomalies) throw new UsageError("--online needs --anomalies");
  if (flags.max !== undefined && !flags.input) throw new UsageError("--max needs --input");
  const format: ReportFormat = flags.json ? "json" : flags.format ?? "table";
  const rt = await setupRuntime(flags, env);
  const now = Date.now();
  const model = flags.input ? await inputReport(flags, now) : await storeReport(flags, rt, now);
  await emit(model, format, flags.output, rt);
}

async function storeReport(flags: ReportFlags, rt: Runtime, now: number): Promise<ReportModel> {
  const to = flags.to !== undefined ? parseTimeFlag("to", flags.to, now) : now;
  // A forecast needs history: --capacity looks back 30 days unless told otherwise.
  const back = flags.capacity ? CAPACITY_DAYS * DAY : DAY;
  const from = flags.from !== undefined ? parseTimeFlag("from", flags.from, now) : to - back;
  if (from >= to) {
    throw new UsageError(
      `--from (${new Date(from).toISOString()}) must be before --to (${
        new Date(to).toISOString()
      })`,
    );
  }
  const dir = resolveRecordDir(flags.data, rt);
  const store = await openRecordedStore(rt.config, dir, rt.log);
  const info = await store.info({ sizes: false });
  const raw = info.tiers.find((t) => t.name === "raw");
  if (raw?.from === undefined || raw.to === undefined) {
    throw new UsageError(`no recorded data in ${dir}: record some first (sysmon record)`);
  }
  const { rules, errors } = compileRules(rt.config.alert.rules);
  for (const e of errors) rt.log.warn(`${e} (the report leaves it out)`);
  const bar = progress();
  try {
    const { model, data } = await buildReport({
      dataDir: dir,
      store,
      info,
      // Time above thresholds: the threshold rules' numbers.
      rules: rules.filter((r) => r.type === "threshold"),
      from,
      to,
      capacity: flags.capacity ?? false,
      anomalies: flags.anomalies ?? false,
      online: flags.online ?? false,
      now,
      onProblem: (p) => rt.log.warn(`report: ${p.path}: ${p.message}`),
    });
    if (data.buckets.size === 0) {
      throw new UsageError(
        `no recorded samples from ${new Date(from).toISOString()} to ${
          new Date(to).toISOString()
        } ` +
          `(${dir} holds ${new Date(raw.from).toISOString()} – ${new Date(raw.to).toISOString()})`,
      );
    }
    return model;
  } finally {
    bar.done();
    await store.close();
  }
}

async function inputReport(flags: ReportFlags, now: number): Promise<ReportModel> {
  let text: string;
  try {
    text = await Deno.readTextFile(flags.input!);
  } catch (err) {
    throw new UsageError(`--input ${flags.input}: ${ioReason(err)}`);
  }
  const csv = parseSeriesCsv(text);
  if (csv.t.length === 0) {
    throw new UsageError(
      `--input ${flags.input}: no usable rows` +
        (csv.problems.length ? ` (${csv.problems[0]})` : ""),
    );
  }
  return analyseInput(csv, {
    source: flags.input!,
    capacity: flags.capacity ?? false,
    anomalies: flags.anomalies ?? false,
    online: flags.online ?? false,
    max: flags.max ?? 100,
    now,
  });
}

async function emit(
  model: ReportModel,
  format: ReportFormat,
  output: string | undefined,
  rt: Runtime,
) {
  let text: string;
  switch (format) {
    case "json":
      text = JSON.stringify(model, null, 2) + "\n";
      break;
    case "csv":
      text = renderCsv(model);
      break;
    case "md":
      text = renderText(model, { width: 100, markdown: true });
      break;
    case "html": {
      const { renderHtml } = await import("./html.ts");
      text = renderHtml(model);
      break;
    }
    default:
      text = renderText(model, {
        width: output === undefined && stdoutIsTTY() ? Deno.consoleSize().columns : 100,
      });
  }
  if (output === undefined) {
    writeStdout(text);
    return;
  }
  await writeOutputFile(output, text);
  rt.log.info(`report: wrote ${output}`);
}

/** "reading…" on stderr while a long range is read, on a terminal only, after a second. */
function progress(): { done: () => void } {
  if (!Deno.stderr.isTerminal()) return { done: () => {} };
  const started = Date.now();
  let shown = false;
  const frames = ["|", "/", "-", "\\"];
  let i = 0;
  const timer = setInterval(() => {
    if (Date.now() - started < 1000) return;
    shown = true;
    writeStderr(`\rreading recorded data… ${frames[i++ % frames.length]}`);
  }, 200);
  return {
    done() {
      clearInterval(timer);
      if (shown) writeStderr("\r\x1b[K");
    },
  };
}
