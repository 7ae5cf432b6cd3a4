/**
 * netclass: link state of each interface from /sys/class/net/<iface>/ (sysfs-class-net ABI):
 * operstate, carrier, speed, duplex, mtu, address, ifalias.
 *
 * Some attributes fail to read by design: speed, duplex and carrier give EINVAL on a NIC that is
 * down, and speed on many virtual devices. The reader remembers such failures per file and does not
 * re-open the file every tick; it retries when the interface's operstate changes or after
 * FAILED_RETRY_MS. Attributes that only change with the link or by an administrator (speed, duplex,
 * mtu, address, ifalias) are re-read when operstate changes or after SETTLED_REFRESH_MS; operstate
 * and carrier are read every tick.
 *
 * The interfaces are the netdev family's: the same include/exclude (collectors.netdev) and the same
 * name order under max_entities. Bandwidth utilisation joins netdev rates with the speed read here;
 * families derive apart, so the sampler does that join with `utilizationPercent`.
 */
import type { EntityPart, MetricDef } from "../core/model.ts";
import type { ExpositionWriter, Labels } from "../expose/writer.ts";
import { limitEntities } from "./limit.ts";
import { cachedFilter } from "./netdev.ts";
import { listDir, ReadError, readText, sysPath } from "./procfs.ts";
import type { CollectorContext, Family, PartialErrors, Reader, Reading } from "./types.ts";

/** A file that failed to read is retried after this long even if operstate never changes. */
export const FAILED_RETRY_MS = 5 * 60_000;
/** Slowly changing attributes that read fine are refreshed at least this often. */
export const SETTLED_REFRESH_MS = 60_000;

export interface NetClassInterface {
  name: string;
  /** "up", "down", "unknown", "dormant", "lowerlayerdown", …; null when unreadable. */
  operstate: string | null;
  /** 1 link detected, 0 none, null unknown (EINVAL when the interface is administratively down). */
  carrier: number | null;
  /** Link speed in Mb/s as the driver reports it; null when unknown (-1, EINVAL, missing). */
  speedMbps: number | null;
  mtu: number | null;
  address: string | null;
  duplex: string | null;
  ifalias: string | null;
}

export interface NetclassData extends PartialErrors {
  /** Interfaces that passed the netdev filters, sorted by name. */
  interfaces: NetClassInterface[];
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure): each takes the file's text and its path (for the error message)

function count(text: string, path: string): number {
  const s = text.trim();
  const v = Number(s);
  if (s === "" || !Number.isInteger(v)) {
    throw new Error(`${path}: expected an integer, found ${JSON.stringify(text)}`);
  }
  return v;
}

/** Older kernels printed an unknown speed as an unsigned -1. */
const UNKNOWN_SPEED_U32 = 4294967295;

/** Speed in Mb/s; null for "unknown" (-1, or -1 printed unsigned). 0 is kept: the driver said 0. */
export function parseSpeed(text: string, path = "speed"): number | null {
  const v = count(text, path);
  return v < 0 || v === UNKNOWN_SPEED_U32 ? null : v;
}

export function parseCarrier(text: string, path = "carrier"): number {
  const v = count(text, path);
  if (v !== 0 && v !== 1) {
    throw new Error(`${path}: expected 0 or 1, found ${JSON.stringify(text)}`);
  }
  return v;
}

export function parseMtu(text: string, path = "mtu"): number {
  const v = count(text, path);
  if (v < 0) throw new Error(`${path}: expected a size, found ${JSON.stringify(text)}`);
  return v;
}

/** One-line attributes (operstate, duplex, address); ifalias keeps inner and leading spaces. */
export const parseWord = (text: string) => text.trim();
export const parseAlias = (text: string) => text.endsWith("\n") ? text.slice(0, -1) : text;

// ---------------------------------------------------------------------------------------------
// Reading

/** The reader's I/O, replaceable in tests (to count file opens, or to move the clock). */
export interface NetclassDeps {
  /** Reads a file; throws (a ReadError from procfs.ts by default) when it cannot. */
  readFile: (path: string) => string;
  /** Directory entry names; undefined when the directory does not exist. */
  listDir: (path: string) => string[] | undefined;
  /** Monotonic milliseconds. */
  now: () => number;
}

const DEFAULT_DEPS: NetclassDeps = { readFile: readText, listDir, now: () => performance.now() };

type Attr = "carrier" | "speed" | "duplex" | "mtu" | "address" | "ifalias";
/** Read every tick when they read fine; the others only when settled values may be stale. */
const VOLATILE: ReadonlySet<Attr> = new Set<Attr>(["carrier"]);

/** `text` null = the read failed. */
interface CachedFile {
  text: string | null;
  at: number;
}

interface InterfaceState {
  operstate: string | null | undefined;
  files: Map<Attr, CachedFile>;
  /** The read() call that last saw this interface, to forget interfaces that went away. */
  seen: number;
}

/** Entries of /sys/class/net that are not interfaces (the bonding driver's control file). */
const NOT_INTERFACES = new Set(["bonding_masters"]);

export function createNetclassReader(
  ctx: CollectorContext,
  deps: Partial<NetclassDeps> = {},
): Reader<NetclassData> {
  const io: NetclassDeps = { ...DEFAULT_DEPS, ...deps };
  const base = sysPath(ctx.roots, "/class/net");
  const keep = cachedFilter(ctx.config.netdev.include, ctx.config.netdev.exclude);
  const states = new Map<string, InterfaceState>();
  let tick = 0;

  /** The attribute's text, from the cache when it is fresh enough; null when it fails to read. */
  function attribute(state: InterfaceState, dir: string, attr: Attr, now: number): string | null {
    const cached = state.files.get(attr);
    if (cached) {
      const age = now - cached.at;
      if (cached.text === null && age < FAILED_RETRY_MS) return null;
      if (cached.text !== null && !VOLATILE.has(attr) && age < SETTLED_REFRESH_MS) {
        return cached.text;
      }
    }
    try {
      const text = io.readFile(dir + attr);
      state.files.set(attr, { text, at: now });
      return text;
    } catch (err) {
      if (cached?.text !== null) {
        // Expected for speed/duplex/carrier of a down or virtual NIC; logged once per failure spell.
        ctx.log.debug(`netclass: ${(err as Error).message}; not retried for a while`, {
          collector: "netclass",
        });
      }
      state.files.set(attr, { text: null, at: now });
      return null;
    }
  }

  /** Parses a text with `parse`, turning a malformed value into a per-interface error and null. */
  function parsed<T>(
    text: string | null,
    path: string,
    parse: (t: string, p: string) => T,
    errors: string[],
  ): T | null {
    if (text === null) return null;
    try {
      return parse(text, path);
    } catch (err) {
      errors.push((err as Error).message);
      return null;
    }
  }

  function readInterface(name: string, now: number, errors: string[]) {
    const dir = `${base}/${name}/`;
    let operstate: string | null;
    try {
      operstate = parseWord(io.readFile(dir + "operstate"));
    } catch (err) {
      // Removed between the listing and now: not an error, simply gone.
      if (err instanceof ReadError && err.code === "ENOENT") return undefined;
      operstate = null;
    }
    let state = states.get(name);
    if (!state) {
      state = { operstate: undefined, files: new Map(), seen: tick };
      states.set(name, state);
    }
    state.seen = tick;
    if (state.operstate !== operstate) {
      // Link went up/down: what failed may read now, and speed/duplex may have changed.
      state.files.clear();
      state.operstate = operstate;
    }
    const text = (attr: Attr) => attribute(state, dir, attr, now);
    const iface: NetClassInterface = {
      name,
      operstate,
      carrier: parsed(text("carrier"), dir + "carrier", parseCarrier, errors),
      speedMbps: parsed(text("speed"), dir + "speed", parseSpeed, errors),
      mtu: parsed(text("mtu"), dir + "mtu", parseMtu, errors),
      address: parsed(text("address"), dir + "address", parseWord, errors),
      duplex: parsed(text("duplex"), dir + "duplex", parseWord, errors),
      ifalias: parsed(text("ifalias"), dir + "ifalias", parseAlias, errors),
    };
    return iface;
  }

  function read(): NetclassData {
    tick++;
    const names = io.listDir(base);
    if (names === undefined) throw new ReadError(base, "ENOENT", "not found");
    const wanted = names.filter((n) => !NOT_INTERFACES.has(n) && keep(n));
    const now = io.now();
    const errors: string[] = [];
    const interfaces: NetClassInterface[] = [];
    for (const name of limitEntities(ctx, "netclass", wanted)) {
      const iface = readInterface(name, now, errors);
      if (iface) interfaces.push(iface);
    }
    for (const [name, state] of states) if (state.seen !== tick) states.delete(name);
    return errors.length > 0 ? { interfaces, errors } : { interfaces };
  }

  return {
    read() {
      try {
        return Promise.resolve(read());
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Model metrics

/** Mb/s as the kernel reports speed → bytes per second. */
export const speedBytesPerSecond = (mbps: number) => mbps * 1e6 / 8;

export function deriveNetclass(
  _prev: Reading<NetclassData> | undefined,
  cur: Reading<NetclassData>,
): { interfaces: Record<string, EntityPart> } {
  const interfaces: Record<string, EntityPart> = {};
  for (const i of cur.data.interfaces) {
    interfaces[i.name] = {
      net_speed_bytes_per_second: i.speedMbps === null ? null : speedBytesPerSecond(i.speedMbps),
      net_up: i.operstate === "up" ? 1 : 0,
      net_carrier: i.carrier,
      net_mtu: i.mtu,
      net_operstate: i.operstate,
    };
  }
  return { interfaces };
}

/**
 * Bandwidth utilisation: bytes/s × 8 / (speed Mb/s × 1e6) × 100 = bytes/s / speed bytes/s × 100.
 * null when either side is unknown, the speed is not positive, or the rate is negative. Capped at
 * 100: the model never holds a percentage above 100 (DESIGN.md §2); a rate over the reported speed
 * means the driver under-reports its speed, and the raw byte rate still shows the truth.
 */
export function utilizationPercent(
  bytesPerSecond: number | null | undefined,
  speedBytesPerSec: number | null | undefined,
): number | null {
  if (bytesPerSecond == null || speedBytesPerSec == null) return null;
  if (!(speedBytesPerSec > 0) || !Number.isFinite(speedBytesPerSec)) return null;
  if (!(bytesPerSecond >= 0)) return null;
  return Math.min(100, bytesPerSecond / speedBytesPerSec * 100);
}

const SRC = "/sys/class/net/<iface>/";

export const defs: MetricDef[] = [
  {
    name: "net_speed_bytes_per_second",
    scope: "interfaces",
    unit: "bytes/s",
    kind: "gauge",
    source: SRC + "speed",
    formula: "speed (Mb/s) × 1e6 / 8; null when -1, unreadable (EINVAL) or missing",
    help: "Link speed the driver reports, in bytes per second.",
  },
  {
    name: "net_up",
    scope: "interfaces",
    unit: "count",
    kind: "gauge",
    source: SRC + "operstate",
    formula: '1 if operstate is "up", else 0',
    help: "Whether the interface is operationally up.",
  },
  {
    name: "net_carrier",
    scope: "interfaces",
    unit: "count",
    kind: "gauge",
    source: SRC + "carrier",
    formula: "carrier (1 or 0); null when unreadable (interface administratively down)",
    help: "Whether a link is detected on the interface.",
  },
  {
    name: "net_mtu",
    scope: "interfaces",
    unit: "bytes",
    kind: "gauge",
    source: SRC + "mtu",
    formula: "mtu",
    help: "Maximum transmission unit of the interface.",
  },
  {
    name: "net_operstate",
    scope: "interfaces",
    unit: "label",
    kind: "label",
    source: SRC + "operstate",
    formula: "operstate as the kernel writes it (RFC 2863 state)",
    help: "Operational state: up, down, unknown, dormant, lowerlayerdown, notpresent or testing.",
  },
];

// ---------------------------------------------------------------------------------------------
// Exposition (node_exporter's netclass names; a series only when its value is known)

function* known(
  interfaces: NetClassInterface[],
  pick: (i: NetClassInterface) => number | null,
): Iterable<[Labels, number]> {
  for (const i of interfaces) {
    const v = pick(i);
    if (v !== null) yield [{ device: i.name }, v];
  }
}

export function exposeNetclass(data: NetclassData, out: ExpositionWriter): void {
  const ifs = data.interfaces;
  out.family(
    "node_network_speed_bytes",
    "gauge",
    "Link speed in bytes per second, as the driver reports it.",
    known(ifs, (i) => i.speedMbps === null ? null : speedBytesPerSecond(i.speedMbps)),
  );
  out.family(
    "node_network_up",
    "gauge",
    "1 when the interface's operstate is up, else 0.",
    known(ifs, (i) => i.operstate === null ? null : i.operstate === "up" ? 1 : 0),
  );
  out.family(
    "node_network_carrier",
    "gauge",
    "1 when a link is detected on the interface, else 0.",
    known(ifs, (i) => i.carrier),
  );
  out.family(
    "node_network_mtu_bytes",
    "gauge",
    "Maximum transmission unit of the interface, in bytes.",
    known(ifs, (i) => i.mtu),
  );
  out.family(
    "node_network_info",
    "gauge",
    "Interface identity and state from /sys/class/net; always 1.",
    ifs.map((i): [Labels, number] => [
      {
        address: i.address ?? "",
        device: i.name,
        duplex: i.duplex ?? "",
        ifalias: i.ifalias ?? "",
        operstate: i.operstate ?? "",
      },
      1,
    ]),
  );
}

export const netclassFamily: Family<NetclassData> = {
  name: "netclass",
  defs,
  create: (ctx) => createNetclassReader(ctx),
  derive: deriveNetclass,
  expose: exposeNetclass,
};
