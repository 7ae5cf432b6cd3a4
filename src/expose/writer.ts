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

// Most values need no escaping: one test is cheaper than three replaces (this runs per scrape).
const NEEDS_LABEL_ESCAPE = /[\\\n"]/;
const escapeLabel = (v: string) =>
  NEEDS_LABEL_ESCAPE.test(v)
    ? v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
    : v;
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

/** HELP and TYPE lines by family name: the same few dozen strings on every scrape. */
const headerCache = new Map<string, { type: MetricType; help: string; text: string }>();
function familyHeader(name: string, type: MetricType, help: string): string {
  const hit = headerCache.get(name);
  // Help texts are constants, so this comparison is usually of one string with itself.
  if (hit && hit.type === type && hit.help === help) return hit.text;
  const text = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
  if (headerCache.size < 4096) headerCache.set(name, { type, help, text });
  return text;
}

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
        this.parts.push(familyHeader(name, type, help));
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
