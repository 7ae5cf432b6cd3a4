/** Prometheus text exposition format 0.0.4: families written whole, labels escaped, values exact. */

export type MetricType = "counter" | "gauge" | "untyped";
export type Labels = Record<string, string>;

export interface ExpositionWriter {
  /** Writes one family: HELP, TYPE and each sample. Empty `samples` writes nothing. */
  family(
    name: string,
    type: MetricType,
    help: string,
    samples: Iterable<[Labels | undefined, number]>,
  ): void;
}

const escapeLabel = (v: string) =>
  v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return "";
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return "{" + keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",") + "}";
}

/** Collects exposition text in memory; `text()` joins it once. */
export class TextExposition implements ExpositionWriter {
  private parts: string[] = [];
  private seen = new Set<string>();

  family(
    name: string,
    type: MetricType,
    help: string,
    samples: Iterable<[Labels | undefined, number]>,
  ) {
    let header = false;
    for (const [labels, value] of samples) {
      if (!header) {
        if (this.seen.has(name)) throw new Error(`metric family ${name} written twice`);
        this.seen.add(name);
        this.parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
        header = true;
      }
      this.parts.push(`${name}${formatLabels(labels)} ${formatValue(value)}\n`);
    }
  }

  text(): string {
    return this.parts.join("");
  }
}

/** Shorthand for a family with a single unlabelled sample. */
export const single = (value: number): [Labels | undefined, number][] => [[undefined, value]];
