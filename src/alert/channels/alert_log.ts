/**
 * The alert log: every notification the engine emits, one JSON object per line, always on (the
 * plan's "alert logging"). Rotated by size like logrotate's `size` + `rotate N`: alerts.jsonl is
 * renamed to alerts.jsonl.1 (older ones shift up, the oldest beyond `keep` is deleted) once it
 * would exceed `maxBytes`. A line is appended with one write and fsync'ed, so a crash loses no
 * notification that was reported as logged; a torn last line is repaired at the next open.
 */
import { utf8Length } from "../../core/utf8.ts";
import { repairTornTail } from "../../store/lines.ts";
import { writeAll } from "../../store/fsutil.ts";

export interface AlertLogOptions {
  dir: string;
  /** Rotate before the file would exceed this many bytes. */
  maxBytes: number;
  /** Rotated files kept (alerts.jsonl.1 … .N). */
  keep: number;
  fsync?: boolean;
}

export const ALERT_LOG = "alerts.jsonl";

export class AlertLog {
  private size: number | undefined;
  private readonly path: string;
  private readonly encoder = new TextEncoder();

  constructor(private readonly opts: AlertLogOptions) {
    this.path = `${opts.dir}/${ALERT_LOG}`;
  }

  /** Appends one record; throws (with the path in the message) when the file cannot be written. */
  async append(record: Record<string, unknown>): Promise<void> {
    const line = JSON.stringify(record) + "\n";
    try {
      if (this.size === undefined) await this.open();
      const bytes = utf8Length(line);
      if (this.size! > 0 && this.size! + bytes > this.opts.maxBytes) await this.rotate();
      using file = await Deno.open(this.path, { append: true, create: true });
      await writeAll(file, this.encoder.encode(line));
      if (this.opts.fsync !== false) await file.sync();
      this.size! += bytes;
    } catch (err) {
      // The size is unknown after a failed write: measure again next time.
      this.size = undefined;
      throw new Error(`alert log ${this.path}: ${(err as Error).message}`);
    }
  }

  private async open() {
    await Deno.mkdir(this.opts.dir, { recursive: true });
    try {
      await repairTornTail(this.path);
      this.size = (await Deno.stat(this.path)).size;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      this.size = 0;
    }
  }

  private async rotate() {
    const name = (n: number) => (n === 0 ? this.path : `${this.path}.${n}`);
    await Deno.remove(name(this.opts.keep)).catch(() => {});
    for (let n = this.opts.keep - 1; n >= 0; n--) {
      await Deno.rename(name(n), name(n + 1)).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      });
    }
    this.size = 0;
  }
}
