/**
 * Appends lines to one tier's files: one file per UTC period, a new part when the file would pass
 * the size limit or (CSV) the column set changes, closed files gzip-compressed. A failed write is
 * cut back to the last complete line, so a full disk never leaves a torn line in the middle of a file;
 * the caller keeps the unwritten lines and calls flush again later.
 */
import type { Logger } from "../log.ts";
import {
  decodeHeader,
  encodeCsvHeaderRow,
  encodeHeader,
  type FileHeader,
  makeHeader,
} from "./codec.ts";
import { ioReason, listNames, writeAll } from "./fsutil.ts";
import {
  type FileFormat,
  fileName,
  parseFileName,
  periodOf,
  sortFiles,
  type StoredFile,
  type TierSpec,
} from "./layout.ts";
import { cleanupPartial, compressFile, readLines, repairTornTail } from "./lines.ts";

export interface PendingLine {
  /** Epoch ms of the record: decides the file's period. */
  time: number;
  /** The text, or `render`, which produces it from per-file state (reset with each new file). */
  line?: string;
  render?: (fileState: Record<string, unknown>) => string;
  /** CSV only: the columns this row is laid out in. */
  columns?: string[];
}

interface OpenFile {
  handle: Deno.FsFile;
  path: string;
  name: string;
  period: string;
  part: number;
  size: number;
  columnsKey?: string;
}

export interface TierWriterOptions {
  /** The tier's directory (DATA/raw, DATA/1m, …). */
  dir: string;
  spec: TierSpec;
  format: FileFormat;
  host: string;
  maxFileBytes: number;
  fsync: boolean;
  log: Logger;
  now: () => number;
  /** Called after a file is closed (rotation): retention runs then. */
  onRotate?: () => Promise<void>;
}

const encoder = new TextEncoder();

export class TierWriter {
  readonly pending: PendingLine[] = [];
  private file: OpenFile | undefined;
  /** Closed files whose compression failed (disk full): retried after the next good write. */
  private toCompress: string[] = [];
  /** State of `render` for the open file (e.g. the rollup key list of its last line). */
  private fileState: Record<string, unknown> = {};

  constructor(private readonly opts: TierWriterOptions) {}

  get tier(): string {
    return this.opts.spec.name;
  }

  /**
   * Start-up repair: removes half-written temporaries, finishes interrupted compressions, cuts torn
   * last lines, and compresses files left open by a previous run whose period is over.
   */
  async recover(): Promise<void> {
    const { dir, spec, log } = this.opts;
    await Deno.mkdir(dir, { recursive: true });
    for (const name of await cleanupPartial(dir)) {
      log.info(`store: removed unfinished ${spec.name}/${name} (an interrupted compression)`);
    }
    const names = new Set(await listNames(dir));
    const current = periodOf(spec, this.opts.now());
    const files = sortFiles(
      [...names].map((n) => parseFileName(spec.name, n)).filter((f): f is StoredFile => !!f),
    );
    for (const f of files) {
      if (f.gzip) continue;
      const path = `${dir}/${f.name}`;
      if (names.has(f.name + ".gz")) {
        // The .gz is renamed into place only once complete: the plain copy is a leftover.
        await Deno.remove(path);
        continue;
      }
      const cut = await repairTornTail(path);
      if (cut > 0) {
        log.warn(
          `store: ${spec.name}/${f.name} ended in a torn line (a crash mid-write): removed ${cut} bytes`,
        );
      }
      if (f.period !== current) this.toCompress.push(path);
    }
    // Compression of what a previous run left plain waits for finishRecovery(): the rollup
    // catch-up reads those files first, far more cheaply while they are still plain.
  }

  /** Compresses the files recover() found closed but plain. */
  async finishRecovery(): Promise<void> {
    await this.compressBacklog();
  }

  enqueue(line: PendingLine): void {
    this.pending.push(line);
  }

  /** Writes all pending lines; throws on an I/O error after cutting the file back to whole lines. */
  async flush(): Promise<number> {
    let written = 0;
    while (this.pending.length > 0) {
      const first = this.pending[0];
      const period = periodOf(this.opts.spec, first.time);
      const columnsKey = first.columns?.join("\u0000");
      const file = await this.fileFor(period, first.columns, columnsKey);
      const lines: string[] = [];
      let bytes = 0;
      for (const p of this.pending) {
        if (periodOf(this.opts.spec, p.time) !== period) break;
        if (p.columns?.join("\u0000") !== columnsKey) break;
        const before = { ...this.fileState };
        const text = p.line ?? p.render!(this.fileState);
        const len = text.length + 1;
        if (lines.length > 0 && file.size + bytes + len > this.opts.maxFileBytes) {
          this.fileState = before; // not written here: the next file renders it afresh
          break;
        }
        lines.push(text);
        bytes += len;
      }
      await this.append(file, lines.join("\n") + "\n");
      this.pending.splice(0, lines.length);
      written += lines.length;
      if (file.size >= this.opts.maxFileBytes) await this.rotate();
    }
    if (written > 0 && this.opts.fsync && this.file) await this.file.handle.sync();
    if (this.toCompress.length > 0) await this.compressBacklog();
    return written;
  }

  /** Closes the current file without compressing it: the next run appends to it. */
  close(): void {
    if (!this.file) return;
    try {
      this.file.handle.close();
    } catch { /* already closed */ }
    this.file = undefined;
  }

  private async append(file: OpenFile, text: string): Promise<void> {
    const bytes = encoder.encode(text);
    try {
      await writeAll(file.handle, bytes);
      file.size += bytes.length;
    } catch (err) {
      this.fileState = {};
      // A short write may have left part of a line: cut back so the file stays whole lines.
      try {
        await file.handle.truncate(file.size);
        await file.handle.seek(0, Deno.SeekMode.End);
      } catch {
        this.close();
      }
      throw new Error(`cannot write ${this.tier}/${file.name}: ${ioReason(err)}`);
    }
  }

  private async fileFor(period: string, columns?: string[], columnsKey?: string) {
    const f = this.file;
    if (f && f.period === period && f.columnsKey === columnsKey) return f;
    if (f) await this.rotate();
    this.fileState = {};
    return this.file = await this.open(period, columns, columnsKey);
  }

  private async rotate(): Promise<void> {
    const f = this.file;
    if (!f) return;
    this.close();
    this.toCompress.push(f.path);
    await this.compressBacklog();
    await this.opts.onRotate?.();
  }

  private async compressBacklog(): Promise<void> {
    while (this.toCompress.length > 0) {
      const src = this.toCompress[0];
      try {
        await compressFile(src, src + ".gz", { fsync: this.opts.fsync });
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) {
          this.toCompress.shift();
          continue;
        }
        this.opts.log.warn(
          `store: cannot compress ${src}: ${ioReason(err)} (kept uncompressed, retried later)`,
        );
        return;
      }
      this.toCompress.shift();
    }
  }

  /** Appends to the period's last part when it is plain, readable and compatible; else a new part. */
  private async open(period: string, columns?: string[], columnsKey?: string): Promise<OpenFile> {
    const { dir, spec, format } = this.opts;
    await Deno.mkdir(dir, { recursive: true });
    const parts = sortFiles(
      (await listNames(dir)).map((n) => parseFileName(spec.name, n)).filter((
        f,
      ): f is StoredFile => !!f && f.period === period),
    );
    const last = parts.at(-1);
    if (last && !last.gzip && last.format === format) {
      const path = `${dir}/${last.name}`;
      const header = await this.readHeader(path, format);
      const size = (await Deno.stat(path)).size;
      const compatible = header !== undefined && header.host === this.opts.host &&
        (format !== "csv" || header.columns?.join("\u0000") === columnsKey);
      if (compatible && size < this.opts.maxFileBytes) {
        await repairTornTail(path);
        const handle = await Deno.open(path, { write: true, append: true });
        const size2 = (await handle.stat()).size;
        return { handle, path, name: last.name, period, part: last.part, size: size2, columnsKey };
      }
      if (!compatible) {
        this.opts.log.info(
          `store: starting a new part after ${spec.name}/${last.name} (${
            header === undefined ? "its header is unreadable" : "different host or columns"
          })`,
        );
      }
      this.toCompress.push(path);
    }
    const part = (last?.part ?? 0) + 1;
    const name = fileName(period, part, format);
    const path = `${dir}/${name}`;
    const handle = await Deno.open(path, { write: true, createNew: true, append: true });
    const header = makeHeader(spec.name, format, this.opts.host, this.opts.now(), columns);
    let text = encodeHeader(header) + "\n";
    if (format === "csv" && columns) text += encodeCsvHeaderRow(columns) + "\n";
    const file: OpenFile = { handle, path, name, period, part, size: 0, columnsKey };
    try {
      await this.append(file, text);
    } catch (err) {
      // Disk full before the header was in: remove the empty file, else each retry would take it
      // for an unreadable part and start (and leak the handle of) one more.
      handle.close();
      await Deno.remove(path).catch(() => {});
      throw err;
    }
    return file;
  }

  private async readHeader(path: string, format: FileFormat): Promise<FileHeader | undefined> {
    try {
      for await (const line of readLines(path, { gzip: false })) {
        return decodeHeader(line, format);
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
}
