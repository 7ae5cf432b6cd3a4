/**
 * netdev: per-interface traffic counters from /proc/net/dev (Documentation/filesystems/proc.rst).
 * Two header lines name the columns; each following line is `name: 8 receive + 8 transmit counters`.
 */
import type { EntityPart, MetricDef } from "../core/model.ts";
import type { ExpositionWriter, Labels } from "../expose/writer.ts";
import { limitEntities } from "./limit.ts";
import { entityFilter, procPath, readText } from "./procfs.ts";
import type { CollectorContext, Family, PartialErrors, Reader, Reading } from "./types.ts";

/** The 16 counters of a /proc/net/dev line, in the kernel's column order. */
export const NETDEV_COUNTERS = [
  "rxBytes",
  "rxPackets",
  "rxErrs",
  "rxDrop",
  "rxFifo",
  "rxFrame",
  "rxCompressed",
  "rxMulticast",
  "txBytes",
  "txPackets",
  "txErrs",
  "txDrop",
  "txFifo",
  "txColls",
  "txCarrier",
  "txCompressed",
] as const;

export type NetDevCounter = typeof NETDEV_COUNTERS[number];

export type NetDevStats = { name: string } & Record<NetDevCounter, number>;

export interface NetdevData extends PartialErrors {
  /** Interfaces that passed the filters, sorted by name (netclass keeps the same order). */
  interfaces: NetDevStats[];
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

const RECEIVE_COLUMNS = "bytes packets errs drop fifo frame compressed multicast";
const TRANSMIT_COLUMNS = "bytes packets errs drop fifo colls carrier compressed";

function words(s: string): string[] {
  const out: string[] = [];
  for (const part of s.split(" ")) if (part !== "") out.push(part);
  return out;
}

/**
 * Checks the second header line (" face |bytes packets …|bytes packets …"): a kernel with other
 * columns would otherwise be read silently into the wrong fields.
 */
function checkHeader(first: string | undefined, second: string | undefined, source: string) {
  const groups = second?.split("|");
  const ok = first !== undefined && first.includes("|") && groups?.length === 3 &&
    words(groups[1]).join(" ") === RECEIVE_COLUMNS &&
    words(groups[2]).join(" ") === TRANSMIT_COLUMNS;
  if (!ok) {
    throw new Error(
      `${source}: unexpected header ${JSON.stringify([first ?? "", second ?? ""].join("\n"))}` +
        ` (expected receive columns "${RECEIVE_COLUMNS}" and transmit columns "${TRANSMIT_COLUMNS}")`,
    );
  }
}

/**
 * Parses /proc/net/dev. The name ends at the first ':' (names cannot contain one); old kernels
 * printed the first counter right after it ("eth0:123"), so no space is required there.
 * `keep` is asked before the counters are parsed.
 */
export function parseNetDev(
  text: string,
  keep: (name: string) => boolean = () => true,
  source = "/proc/net/dev",
): NetDevStats[] {
  const lines = text.split("\n");
  checkHeader(lines[0], lines[1], source);
  const out: NetDevStats[] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    if (name === "") throw new Error(`${source}: malformed line ${JSON.stringify(line)}: no name`);
    if (!keep(name)) continue;
    const values = words(line.slice(colon + 1));
    if (values.length !== NETDEV_COUNTERS.length) {
      throw new Error(
        `${source}: malformed line ${
          JSON.stringify(line)
        }: expected 16 counters, found ${values.length}`,
      );
    }
    const stats = { name } as NetDevStats;
    for (let k = 0; k < NETDEV_COUNTERS.length; k++) {
      const v = Number(values[k]);
      if (!Number.isInteger(v) || v < 0) {
        throw new Error(
          `${source}: malformed line ${JSON.stringify(line)}: ${
            JSON.stringify(values[k])
          } is not a count`,
        );
      }
      stats[NETDEV_COUNTERS[k]] = v;
    }
    out.push(stats);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A cached include/exclude decision per name, bounded so churning veths cannot grow it forever. */
export function cachedFilter(include: string, exclude: string): (name: string) => boolean {
  const passes = entityFilter(include, exclude);
  const decisions = new Map<string, boolean>();
  return (name) => {
    let d = decisions.get(name);
    if (d === undefined) {
      if (decisions.size >= 4096) decisions.clear();
      d = passes(name);
      decisions.set(name, d);
    }
    return d;
  };
}

const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export function createNetdevReader(ctx: CollectorContext): Reader<NetdevData> {
  const path = procPath(ctx.roots, "/net/dev");
  const keep = cachedFilter(ctx.config.netdev.include, ctx.config.netdev.exclude);
  return {
    read() {
      try {
        // Sorted by name so that max_entities keeps the same interfaces here and in netclass.
        const all = parseNetDev(readText(path), keep, path).sort(byName);
        return Promise.resolve({ interfaces: limitEntities(ctx, "netdev", all) });
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Model metrics

/** Model metric, the counter it is the per-second rate of, and what sar calls it. */
const RATES: [metric: string, counter: NetDevCounter, unit: "bytes/s" | "1/s", help: string][] = [
  [
    "net_rx_bytes_per_second",
    "rxBytes",
    "bytes/s",
    "Bytes received per second (sar rxkB/s × 1024).",
  ],
  ["net_tx_bytes_per_second", "txBytes", "bytes/s", "Bytes sent per second (sar txkB/s × 1024)."],
  ["net_rx_packets_per_second", "rxPackets", "1/s", "Packets received per second (sar rxpck/s)."],
  ["net_tx_packets_per_second", "txPackets", "1/s", "Packets sent per second (sar txpck/s)."],
  ["net_rx_errors_per_second", "rxErrs", "1/s", "Receive errors per second (sar -n EDEV rxerr/s)."],
  [
    "net_tx_errors_per_second",
    "txErrs",
    "1/s",
    "Transmit errors per second (sar -n EDEV txerr/s).",
  ],
  [
    "net_rx_drops_per_second",
    "rxDrop",
    "1/s",
    "Received packets dropped per second (sar rxdrop/s).",
  ],
  [
    "net_tx_drops_per_second",
    "txDrop",
    "1/s",
    "Packets dropped on send per second (sar txdrop/s).",
  ],
];

/** The /proc/net/dev column a counter comes from, for the formulas in the catalogue. */
const column = (c: NetDevCounter) =>
  `${c.startsWith("rx") ? "receive" : "transmit"} ${c.slice(2).toLowerCase()}`;

function wentBackwards(p: NetDevStats, c: NetDevStats): boolean {
  for (const k of NETDEV_COUNTERS) if (c[k] < p[k]) return true;
  return false;
}

function interfacePart(p: NetDevStats | undefined, c: NetDevStats, dtMs: number): EntityPart {
  // Any counter going backwards means the interface was recreated (same name, new device).
  const usable = p !== undefined && dtMs > 0 && !wentBackwards(p, c);
  const part: EntityPart = {};
  for (const [metric, counter] of RATES) {
    part[metric] = usable ? (c[counter] - p[counter]) * 1000 / dtMs : null;
  }
  return part;
}

export function deriveNetdev(
  prev: Reading<NetdevData> | undefined,
  cur: Reading<NetdevData>,
): { interfaces: Record<string, EntityPart> } {
  const dtMs = prev ? cur.mono - prev.mono : 0;
  const before = new Map<string, NetDevStats>();
  if (prev) { for (const i of prev.data.interfaces) before.set(i.name, i); }
  const interfaces: Record<string, EntityPart> = {};
  for (const i of cur.data.interfaces) {
    interfaces[i.name] = interfacePart(before.get(i.name), i, dtMs);
  }
  return { interfaces };
}

export const defs: MetricDef[] = RATES.map(([metric, counter, unit, help]) => ({
  name: metric,
  scope: "interfaces",
  unit,
  kind: "rate",
  source: "/proc/net/dev",
  formula: `Δ ${column(counter)} / Δt`,
  help,
}));

// ---------------------------------------------------------------------------------------------
// Exposition (node_exporter's netdev collector names)

const EXPOSED: [name: string, counter: NetDevCounter, help: string][] = [
  ["node_network_receive_bytes_total", "rxBytes", "Bytes received."],
  ["node_network_receive_packets_total", "rxPackets", "Packets received."],
  ["node_network_receive_errs_total", "rxErrs", "Receive errors detected by the driver."],
  ["node_network_receive_drop_total", "rxDrop", "Received packets dropped."],
  ["node_network_receive_fifo_total", "rxFifo", "Receive FIFO buffer errors."],
  ["node_network_receive_frame_total", "rxFrame", "Receive framing errors."],
  ["node_network_receive_compressed_total", "rxCompressed", "Compressed packets received."],
  ["node_network_receive_multicast_total", "rxMulticast", "Multicast frames received."],
  ["node_network_transmit_bytes_total", "txBytes", "Bytes transmitted."],
  ["node_network_transmit_packets_total", "txPackets", "Packets transmitted."],
  ["node_network_transmit_errs_total", "txErrs", "Transmit errors detected by the driver."],
  ["node_network_transmit_drop_total", "txDrop", "Packets dropped on transmit."],
  ["node_network_transmit_fifo_total", "txFifo", "Transmit FIFO buffer errors."],
  ["node_network_transmit_colls_total", "txColls", "Collisions detected on the interface."],
  ["node_network_transmit_carrier_total", "txCarrier", "Carrier losses detected on transmit."],
  ["node_network_transmit_compressed_total", "txCompressed", "Compressed packets transmitted."],
];

export function exposeNetdev(data: NetdevData, out: ExpositionWriter): void {
  for (const [name, counter, help] of EXPOSED) {
    out.family(
      name,
      "counter",
      `Network device statistic: ${help}`,
      data.interfaces.map((i): [Labels, number] => [{ device: i.name }, i[counter]]),
    );
  }
}

export const netdevFamily: Family<NetdevData> = {
  name: "netdev",
  defs,
  create: createNetdevReader,
  derive: deriveNetdev,
  expose: exposeNetdev,
};
