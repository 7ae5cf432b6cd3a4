/**
 * `report --input FILE.csv`: a plain `timestamp,value` series from elsewhere, so the detectors can
 * be checked against labelled data. The header is optional; timestamps are ISO 8601 or Unix seconds
 * (milliseconds when 13 digits); empty lines and `#` comments are skipped. A bad row is reported by
 * its line number and left out; the rest is used. Pure: the caller reads the file.
 */

export interface CsvSeries {
  t: number[];
  v: number[];
  /** One message per bad row: "line 7: "x" is not a number". */
  problems: string[];
  /** The value column's header, when there is one. */
  name?: string;
}

/** Bad rows reported one by one up to this many; the rest are counted. */
const PROBLEMS_LISTED = 20;

export function parseSeriesCsv(text: string): CsvSeries {
  const out: CsvSeries = { t: [], v: [], problems: [] };
  let bad = 0;
  const problem = (line: number, message: string) => {
    bad++;
    if (out.problems.length < PROBLEMS_LISTED) out.problems.push(`line ${line}: ${message}`);
  };
  const lines = text.split(/\r?\n/);
  let sawData = false;
  let lastT = -Infinity;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = line.split(/[,;\t]/).map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
    if (cells.length < 2) {
      problem(i + 1, `expected "timestamp,value", got ${JSON.stringify(clip(line))}`);
      continue;
    }
    const t = parseTime(cells[0]);
    if (t === undefined && !sawData && Number.isNaN(Number(cells[1]))) {
      out.name = cells[1]; // a header row
      sawData = true;
      continue;
    }
    sawData = true;
    if (t === undefined) {
      problem(i + 1, `${JSON.stringify(clip(cells[0]))} is not a time (ISO 8601 or Unix seconds)`);
      continue;
    }
    const v = cells[1] === "" ? NaN : Number(cells[1]);
    if (cells[1] !== "" && !Number.isFinite(v)) {
      problem(i + 1, `${JSON.stringify(clip(cells[1]))} is not a number`);
      continue;
    }
    if (t <= lastT) {
      problem(i + 1, `time ${new Date(t).toISOString()} is not after the previous row's`);
      continue;
    }
    lastT = t;
    out.t.push(t);
    out.v.push(v);
  }
  if (bad > out.problems.length) {
    out.problems.push(`… and ${bad - out.problems.length} more bad rows`);
  }
  return out;
}

/** Epoch ms from ISO 8601 or Unix seconds (13 digits: milliseconds). */
function parseTime(s: string): number | undefined {
  if (/^\d{13}$/.test(s)) return Number(s);
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (!/^\d{4}-\d\d-\d\d/.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 39) + "…" : s;
}
