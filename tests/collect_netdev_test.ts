import {
  createNetdevReader,
  deriveNetdev,
  exposeNetdev,
  type NetdevData,
  netdevFamily,
  parseNetDev,
} from "../src/collect/netdev.ts";
import type { Reading, Roots } from "../src/collect/types.ts";
import { TextExposition } from "../src/expose/writer.ts";
import { assertEquals, assertRejects, assertStringIncludes, assertThrows } from "./assert.ts";
import { assertGolden, fixtureRoots, SHAPES, testContext } from "./helpers.ts";

const HEADER = "Inter-|   Receive                                                |  Transmit\n" +
  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";

const reading = (data: NetdevData, mono: number): Reading<NetdevData> => ({
  data,
  mono,
  wall: 1_700_000_000_000 + mono,
});

function laterRoots(shape: string): Roots {
  return { ...fixtureRoots(shape), procfs: fixtureRoots(shape, "later").procfs };
}

// ----------------------------------------------------------------------------------------------
// Parser

Deno.test("parseNetDev: two header lines skipped, 16 counters in the kernel's column order", () => {
  const text = HEADER +
    "  eth0: 77549094    2920    1    2    3     4          5         6   154821    2027    7    8    9    10      11         12\n";
  assertEquals(parseNetDev(text), [{
    name: "eth0",
    rxBytes: 77549094,
    rxPackets: 2920,
    rxErrs: 1,
    rxDrop: 2,
    rxFifo: 3,
    rxFrame: 4,
    rxCompressed: 5,
    rxMulticast: 6,
    txBytes: 154821,
    txPackets: 2027,
    txErrs: 7,
    txDrop: 8,
    txFifo: 9,
    txColls: 10,
    txCarrier: 11,
    txCompressed: 12,
  }]);
});

Deno.test("parseNetDev: a counter written right after the colon (old kernels) is read", () => {
  const text = HEADER + "  eth0:1234567890 5 0 0 0 0 0 0 99 3 0 0 0 0 0 0\n";
  const [eth0] = parseNetDev(text);
  assertEquals([eth0.name, eth0.rxBytes, eth0.rxPackets, eth0.txBytes], [
    "eth0",
    1234567890,
    5,
    99,
  ]);
});

Deno.test("parseNetDev: a header with other columns, or none, is refused naming the file", () => {
  const line = "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
  // No header at all: the first interface line would otherwise be skipped silently.
  assertThrows(() => parseNetDev(line + line), "/proc/net/dev: unexpected header");
  // A transmit section without the carrier column (another kernel's layout).
  const other = HEADER.replace("colls carrier compressed", "colls compressed");
  assertThrows(() => parseNetDev(other + line), 'expected receive columns "bytes packets');
  assertThrows(() => parseNetDev(""), "/proc/net/dev: unexpected header");
  // Only the header (no interfaces at all, e.g. an empty network namespace) is fine.
  assertEquals(parseNetDev(HEADER), []);
});

Deno.test("parseNetDev: malformed lines name the file and quote the line", () => {
  const short = "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
  const err = assertThrows(
    () => parseNetDev(HEADER + short + "\n"),
    "/proc/net/dev: malformed line",
  );
  assertStringIncludes(err.message, JSON.stringify(short));
  assertStringIncludes(err.message, "expected 16 counters, found 15");
  assertThrows(() => parseNetDev(HEADER + "  eth0 1 2 3\n"), "no name");
  assertThrows(
    () =>
      parseNetDev(
        HEADER + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n",
        undefined,
        "/h/net/dev",
      ),
    '/h/net/dev: malformed line "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x": "x" is not a count',
  );
});

// ----------------------------------------------------------------------------------------------
// Reader

Deno.test("reader: lo excluded by default, interfaces sorted by name", async () => {
  const data = await createNetdevReader(testContext(fixtureRoots("linux-5.15-hotplug"))).read();
  // The file lists lo, eth0, wlan0, docker0 (ifindex order).
  assertEquals(data.interfaces.map((i) => i.name), ["docker0", "eth0", "wlan0"]);
});

Deno.test("reader: include and exclude come from collectors.netdev", async () => {
  const roots = fixtureRoots("linux-5.15-hotplug");
  const withLo = await createNetdevReader(testContext(roots, (c) => {
    c.netdev.exclude = "";
  })).read();
  assertEquals(withLo.interfaces.map((i) => i.name), ["docker0", "eth0", "lo", "wlan0"]);
  const onlyPhysical = await createNetdevReader(testContext(roots, (c) => {
    c.netdev.include = "^(eth|wlan)";
  })).read();
  assertEquals(onlyPhysical.interfaces.map((i) => i.name), ["eth0", "wlan0"]);
});

Deno.test("reader: max_entities keeps the first names and counts the rest once", async () => {
  const ctx = testContext(fixtureRoots("linux-5.15-hotplug"), (c) => {
    c.max_entities = 1;
  });
  const reader = createNetdevReader(ctx);
  const data = await reader.read();
  await reader.read();
  assertEquals(data.interfaces.map((i) => i.name), ["docker0"]);
  assertEquals(ctx.dropped.get("netdev"), 2); // 3 interfaces pass the filter, 1 kept
  assertEquals(ctx.log.lines.length, 1);
});

Deno.test("reader: a missing /proc/net/dev rejects naming the file", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const reader = createNetdevReader(testContext({ procfs: empty, sysfs: empty, rootfs: empty }));
    await assertRejects(() => reader.read(), `cannot read ${empty}/net/dev`);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

// ----------------------------------------------------------------------------------------------
// derive

const PREV = HEADER +
  "  eth0: 1000000    1000    0    0    0     0          0         0   500000     800    0    0    0     0       0          0\n" +
  "  eth1:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0\n";
const CUR = HEADER +
  // eth0: +2 500 000 rx bytes, +2000 rx packets, +4 rx errs, +6 rx drop; +250 000 tx bytes,
  //       +1500 tx packets, +1 tx errs, +2 tx drop.
  "  eth0: 3500000    3000    4    6    0     0          0         0   750000    2300    1    2    0     0       0          0\n" +
  // eth1: counters restarted (interface recreated under the same name).
  "  eth1:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n" +
  // veth9: appeared between the readings.
  " veth9:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n";

Deno.test("derive: per-second rates computed by hand over 5 000 ms", () => {
  const prev = reading({ interfaces: parseNetDev(PREV) }, 20_000);
  const cur = reading({ interfaces: parseNetDev(CUR) }, 25_000);
  assertEquals(deriveNetdev(prev, cur).interfaces.eth0, {
    net_rx_bytes_per_second: 500000, // 2 500 000 B / 5 s
    net_tx_bytes_per_second: 50000, // 250 000 / 5
    net_rx_packets_per_second: 400, // 2000 / 5
    net_tx_packets_per_second: 300, // 1500 / 5
    net_rx_errors_per_second: 0.8, // 4 / 5
    net_tx_errors_per_second: 0.2, // 1 / 5
    net_rx_drops_per_second: 1.2, // 6 / 5
    net_tx_drops_per_second: 0.4, // 2 / 5
  });
});

Deno.test("derive: counter backwards, new interface and first reading give null rates", () => {
  const prev = reading({ interfaces: parseNetDev(PREV) }, 20_000);
  const cur = reading({ interfaces: parseNetDev(CUR) }, 25_000);
  const { interfaces } = deriveNetdev(prev, cur);
  const allNull = Object.fromEntries(netdevFamily.defs.map((d) => [d.name, null]));
  assertEquals(interfaces.eth1, allNull);
  assertEquals(interfaces.veth9, allNull);
  assertEquals(deriveNetdev(undefined, cur).interfaces.eth0, allNull);
  // Same mono clock twice (no time passed): no division by zero, no rate.
  assertEquals(deriveNetdev(cur, cur).interfaces.eth0, allNull);
});

// ----------------------------------------------------------------------------------------------
// Exposition and goldens

Deno.test("expose: the 16 node_network_*_total counters labelled {device}", () => {
  const out = new TextExposition();
  exposeNetdev({ interfaces: parseNetDev(CUR) }, out);
  const text = out.text();
  assertStringIncludes(
    text,
    "# TYPE node_network_receive_bytes_total counter\n" +
      'node_network_receive_bytes_total{device="eth0"} 3500000\n' +
      'node_network_receive_bytes_total{device="eth1"} 100\n',
  );
  assertStringIncludes(text, 'node_network_transmit_drop_total{device="eth0"} 2\n');
  const families = text.split("\n").filter((l) => l.startsWith("# TYPE")).map((l) =>
    l.split(" ")[2]
  );
  assertEquals(families, [
    "node_network_receive_bytes_total",
    "node_network_receive_packets_total",
    "node_network_receive_errs_total",
    "node_network_receive_drop_total",
    "node_network_receive_fifo_total",
    "node_network_receive_frame_total",
    "node_network_receive_compressed_total",
    "node_network_receive_multicast_total",
    "node_network_transmit_bytes_total",
    "node_network_transmit_packets_total",
    "node_network_transmit_errs_total",
    "node_network_transmit_drop_total",
    "node_network_transmit_fifo_total",
    "node_network_transmit_colls_total",
    "node_network_transmit_carrier_total",
    "node_network_transmit_compressed_total",
  ]);
});

for (const shape of SHAPES) {
  Deno.test(`golden: netdev ${shape} (derive over later/ 10 000 ms apart, expose)`, async () => {
    const first = await createNetdevReader(testContext(fixtureRoots(shape))).read();
    const second = await createNetdevReader(testContext(laterRoots(shape))).read();
    const part = netdevFamily.derive(reading(first, 100_000), reading(second, 110_000));
    await assertGolden(`${shape}/netdev.json`, JSON.stringify(part, null, 2) + "\n");
    const out = new TextExposition();
    netdevFamily.expose(first, out);
    await assertGolden(`${shape}/netdev.prom`, out.text());
  });
}

Deno.test("golden values: linux-5.15-hotplug eth0 checked by hand", async () => {
  const shape = "linux-5.15-hotplug";
  const first = await createNetdevReader(testContext(fixtureRoots(shape))).read();
  const second = await createNetdevReader(testContext(laterRoots(shape))).read();
  const { interfaces } = deriveNetdev(reading(first, 0), reading(second, 10_000));
  // eth0: +1 250 000 000 rx bytes, +830 000 packets, +7 drops; +62 500 000 tx bytes, +410 000 packets.
  assertEquals(interfaces.eth0.net_rx_bytes_per_second, 125000000);
  assertEquals(interfaces.eth0.net_rx_packets_per_second, 83000);
  assertEquals(interfaces.eth0.net_rx_drops_per_second, 0.7);
  assertEquals(interfaces.eth0.net_tx_bytes_per_second, 6250000);
  assertEquals(interfaces.eth0.net_tx_packets_per_second, 41000);
  assertEquals(interfaces.docker0.net_rx_bytes_per_second, 0);
});
