import {
  createNetclassReader,
  deriveNetclass,
  exposeNetclass,
  FAILED_RETRY_MS,
  type NetclassData,
  netclassFamily,
  parseAlias,
  parseCarrier,
  parseMtu,
  parseSpeed,
  SETTLED_REFRESH_MS,
  speedBytesPerSecond,
  utilizationPercent,
} from "../src/collect/netclass.ts";
import { createNetdevReader, deriveNetdev } from "../src/collect/netdev.ts";
import { ReadError, readText } from "../src/collect/procfs.ts";
import type { Reading, Roots } from "../src/collect/types.ts";
import { TextExposition } from "../src/expose/writer.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "./assert.ts";
import { assertGolden, fixtureRoots, SHAPES, testContext } from "./helpers.ts";

const reading = (data: NetclassData, mono: number): Reading<NetclassData> => ({
  data,
  mono,
  wall: 1_700_000_000_000 + mono,
});

/** A reader whose file reads are counted per path and whose clock the test moves. */
function instrumented(
  roots: Roots,
  override: (path: string) => string | undefined = () => undefined,
) {
  const opens = new Map<string, number>();
  const clock = { now: 1_000 };
  const ctx = testContext(roots);
  const reader = createNetclassReader(ctx, {
    readFile: (path) => {
      opens.set(path, (opens.get(path) ?? 0) + 1);
      return override(path) ?? readText(path);
    },
    now: () => clock.now,
  });
  const count = (rel: string) => opens.get(roots.sysfs + "/class/net/" + rel) ?? 0;
  return { reader, ctx, clock, count };
}

// ----------------------------------------------------------------------------------------------
// Parsers

Deno.test("parseSpeed: Mb/s; -1 and unsigned -1 are unknown; garbage names the file", () => {
  assertEquals(parseSpeed("1000\n"), 1000);
  assertEquals(parseSpeed("0\n"), 0);
  assertEquals(parseSpeed("-1\n"), null);
  assertEquals(parseSpeed("4294967295\n"), null);
  assertThrows(
    () => parseSpeed("fast\n", "/sys/class/net/eth0/speed"),
    "/sys/class/net/eth0/speed",
  );
  assertThrows(() => parseSpeed("\n"), "expected an integer");
});

Deno.test("parseCarrier, parseMtu, parseAlias", () => {
  assertEquals(parseCarrier("1\n"), 1);
  assertEquals(parseCarrier("0\n"), 0);
  assertThrows(() => parseCarrier("2\n", "/x/carrier"), "/x/carrier: expected 0 or 1");
  assertEquals(parseMtu("9000\n"), 9000);
  assertThrows(() => parseMtu("-5\n"), "expected a size");
  assertEquals(parseAlias(""), "");
  assertEquals(parseAlias(" uplink  to sw1\n"), " uplink  to sw1");
});

// ----------------------------------------------------------------------------------------------
// Reader

Deno.test("reader: 5.15 fixture — 10 Gb/s, speed -1, and a bridge whose speed fails to read", async () => {
  const ctx = testContext(fixtureRoots("linux-5.15-hotplug"));
  const data = await createNetclassReader(ctx).read();
  assertEquals(data, {
    interfaces: [
      {
        name: "docker0",
        operstate: "down",
        carrier: 0,
        speedMbps: null, // EINVAL (a FAILS_TO_READ directory in the fixture)
        mtu: 1500,
        address: "02:42:5e:1a:9c:0f",
        duplex: null,
        ifalias: "",
      },
      {
        name: "eth0",
        operstate: "up",
        carrier: 1,
        speedMbps: 10000,
        mtu: 9000,
        address: "3c:ec:ef:10:22:34",
        duplex: "full",
        ifalias: "",
      },
      {
        name: "wlan0",
        operstate: "up",
        carrier: 1,
        speedMbps: null, // the file says -1
        mtu: 1500,
        address: "70:cf:49:aa:bb:cc",
        duplex: "unknown",
        ifalias: "",
      },
    ],
  });
  // Expected failures are not errors; they are logged at debug level only.
  assert(ctx.log.lines.every((l) => l.includes(" DEBUG ")));
});

Deno.test("reader: a file that fails to read is opened once over many ticks, then retried after 5 min", async () => {
  const { reader, clock, count } = instrumented(fixtureRoots("linux-5.15-hotplug"));
  // 29 ticks 10 s apart span 280 s < 300 s.
  for (let i = 0; i < 29; i++) {
    const data = await reader.read();
    assertEquals(data.interfaces[0].speedMbps, null);
    clock.now += 10_000;
  }
  assertEquals(count("docker0/speed"), 1);
  assertEquals(count("docker0/duplex"), 1);
  // operstate and carrier (which reads fine) are read every tick.
  assertEquals(count("docker0/operstate"), 29);
  assertEquals(count("docker0/carrier"), 29);
  // Past FAILED_RETRY_MS since the failure: tried once more, and remembered again.
  clock.now = 1_000 + FAILED_RETRY_MS;
  await reader.read();
  await reader.read();
  assertEquals(count("docker0/speed"), 2);
});

Deno.test("reader: a failing file is retried at once when the interface's operstate changes", async () => {
  let docker0 = { operstate: "down\n", speed: undefined as string | undefined };
  const { reader, clock, count } = instrumented(fixtureRoots("linux-5.15-hotplug"), (path) => {
    if (path.endsWith("/docker0/operstate")) return docker0.operstate;
    if (path.endsWith("/docker0/speed") && docker0.speed) return docker0.speed;
    return undefined;
  });
  await reader.read();
  clock.now += 10_000;
  await reader.read();
  assertEquals(count("docker0/speed"), 1);
  // A container starts: the bridge gets a port and comes up; its speed now reads.
  docker0 = { operstate: "up\n", speed: "10000\n" };
  clock.now += 10_000;
  const data = await reader.read();
  assertEquals(count("docker0/speed"), 2);
  assertEquals(data.interfaces[0].speedMbps, 10000);
  assertEquals(data.interfaces[0].operstate, "up");
});

Deno.test("reader: settled attributes are re-read after SETTLED_REFRESH_MS, not every tick", async () => {
  const { reader, clock, count } = instrumented(fixtureRoots("linux-5.15-hotplug"));
  for (let t = 0; t < SETTLED_REFRESH_MS; t += 10_000) {
    await reader.read();
    clock.now += 10_000;
  }
  // 6 ticks within the first 60 s: mtu/speed/address/duplex/ifalias once, operstate and carrier 6×.
  for (const f of ["mtu", "speed", "address", "duplex", "ifalias"]) {
    assertEquals(count("eth0/" + f), 1, f);
  }
  assertEquals(count("eth0/operstate"), 6);
  assertEquals(count("eth0/carrier"), 6);
  await reader.read(); // 60 s after the first read
  assertEquals(count("eth0/mtu"), 2);
});

Deno.test("reader: an interface removed between listing and reading is left out and forgotten", async () => {
  let gone = false;
  const { reader } = instrumented(fixtureRoots("linux-5.15-hotplug"), (path) => {
    if (gone && path.endsWith("/wlan0/operstate")) {
      throw new ReadError(path, "ENOENT", "not found");
    }
    return undefined;
  });
  assertEquals((await reader.read()).interfaces.map((i) => i.name), ["docker0", "eth0", "wlan0"]);
  gone = true;
  const data = await reader.read();
  assertEquals(data.interfaces.map((i) => i.name), ["docker0", "eth0"]);
  assertEquals(data.errors, undefined);
});

Deno.test("reader: a malformed value is a per-interface error, not a family failure", async () => {
  const { reader } = instrumented(fixtureRoots("linux-5.15-hotplug"), (path) => {
    return path.endsWith("/eth0/mtu") ? "jumbo\n" : undefined;
  });
  const data = await reader.read();
  assertEquals(data.interfaces[1].mtu, null);
  assertEquals(data.interfaces[1].speedMbps, 10000);
  assertEquals(data.errors?.length, 1);
  assertStringIncludes(data.errors![0], "/class/net/eth0/mtu: expected an integer");
});

Deno.test("reader: the netdev include/exclude and max_entities apply; bonding_masters is skipped", async () => {
  const roots = fixtureRoots("linux-5.15-hotplug");
  const withLo = await createNetclassReader(testContext(roots, (c) => {
    c.netdev.exclude = "";
  })).read();
  assertEquals(withLo.interfaces.map((i) => i.name), ["docker0", "eth0", "lo", "wlan0"]);
  const lo = withLo.interfaces[2];
  assertEquals([lo.operstate, lo.speedMbps, lo.duplex, lo.mtu], ["unknown", null, null, 65536]);

  const ctx = testContext(roots, (c) => {
    c.max_entities = 2;
  });
  const cut = await createNetclassReader(ctx).read();
  assertEquals(cut.interfaces.map((i) => i.name), ["docker0", "eth0"]);
  assertEquals(ctx.dropped.get("netclass"), 1);

  const listed = createNetclassReader(testContext(roots), {
    listDir: () => ["bonding_masters", "eth0"],
  });
  assertEquals((await listed.read()).interfaces.map((i) => i.name), ["eth0"]);
});

Deno.test("reader: no /sys/class/net rejects naming the directory", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const reader = createNetclassReader(
      testContext({ procfs: empty, sysfs: empty, rootfs: empty }),
    );
    await assertRejects(() => reader.read(), `cannot read ${empty}/class/net: not found`);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

// ----------------------------------------------------------------------------------------------
// derive, utilisation

Deno.test("derive: speed in bytes/s, up from operstate, carrier, mtu, operstate label", async () => {
  const data = await createNetclassReader(testContext(fixtureRoots("linux-5.15-hotplug"))).read();
  const { interfaces } = deriveNetclass(undefined, reading(data, 0));
  assertEquals(interfaces, {
    docker0: {
      net_speed_bytes_per_second: null,
      net_up: 0,
      net_carrier: 0,
      net_mtu: 1500,
      net_operstate: "down",
    },
    eth0: {
      net_speed_bytes_per_second: 1250000000, // 10 000 Mb/s × 1e6 / 8
      net_up: 1,
      net_carrier: 1,
      net_mtu: 9000,
      net_operstate: "up",
    },
    wlan0: {
      net_speed_bytes_per_second: null,
      net_up: 1,
      net_carrier: 1,
      net_mtu: 1500,
      net_operstate: "up",
    },
  });
  assertEquals(Object.keys(interfaces.eth0), netclassFamily.defs.map((d) => d.name));
});

Deno.test("utilizationPercent: bytes/s over speed bytes/s × 100; null when not computable", () => {
  assertEquals(speedBytesPerSecond(1000), 125000000);
  // 3 125 000 B/s on 1 Gb/s: 3 125 000 × 8 / 1e9 × 100 = 2.5 %
  assertEquals(utilizationPercent(3125000, 125000000), 2.5);
  assertEquals(utilizationPercent(0, 125000000), 0);
  assertEquals(utilizationPercent(3125000, null), null);
  assertEquals(utilizationPercent(3125000, 0), null);
  assertEquals(utilizationPercent(3125000, -125000), null);
  assertEquals(utilizationPercent(null, 125000000), null);
  assertEquals(utilizationPercent(-1, 125000000), null);
  // A rate above the reported speed (150 %) is capped: the model never exceeds 100 %.
  assertEquals(utilizationPercent(187500000, 125000000), 100);
});

Deno.test("utilisation on the fixtures: netdev rates joined with netclass speed", async () => {
  const want: Record<string, [string, number | null, number | null]> = {
    // eth0 1 Gb/s: rx 3 125 000 B/s → 2.5 %, tx 250 000 B/s → 0.2 %
    "linux-4.9-old": ["eth0", 2.5, 0.2],
    // eth0 10 Gb/s: rx 125 000 000 B/s → 10 %, tx 6 250 000 B/s → 0.5 %
    "linux-5.15-hotplug": ["eth0", 10, 0.5],
    // veth whose speed fails to read → no utilisation
    "linux-6.1-container": ["eth0", null, null],
    // virtio NIC reporting speed -1 → no utilisation
    "linux-6.18-vm": ["eth0", null, null],
  };
  for (const [shape, [nic, rx, tx]] of Object.entries(want)) {
    const roots = fixtureRoots(shape);
    const later = { ...roots, procfs: fixtureRoots(shape, "later").procfs };
    const a = await createNetdevReader(testContext(roots)).read();
    const b = await createNetdevReader(testContext(later)).read();
    const rates = deriveNetdev({ data: a, mono: 0, wall: 0 }, { data: b, mono: 10_000, wall: 0 });
    const cls = deriveNetclass(
      undefined,
      reading(await createNetclassReader(testContext(roots)).read(), 0),
    );
    const speed = cls.interfaces[nic].net_speed_bytes_per_second as number | null;
    const r = rates.interfaces[nic];
    assertEquals(utilizationPercent(r.net_rx_bytes_per_second as number, speed), rx, shape + " rx");
    assertEquals(utilizationPercent(r.net_tx_bytes_per_second as number, speed), tx, shape + " tx");
  }
});

// ----------------------------------------------------------------------------------------------
// Exposition and goldens

Deno.test("expose: unknown speed and carrier are omitted; info carries the labels", async () => {
  const data = await createNetclassReader(testContext(fixtureRoots("linux-5.15-hotplug"))).read();
  const out = new TextExposition();
  exposeNetclass(data, out);
  const text = out.text();
  assertStringIncludes(
    text,
    "# TYPE node_network_speed_bytes gauge\n" +
      'node_network_speed_bytes{device="eth0"} 1250000000\n#',
  );
  assert(!text.includes('node_network_speed_bytes{device="docker0"}'));
  assert(!text.includes('node_network_speed_bytes{device="wlan0"}'));
  assertStringIncludes(text, 'node_network_up{device="docker0"} 0\n');
  assertStringIncludes(text, 'node_network_carrier{device="docker0"} 0\n');
  assertStringIncludes(text, 'node_network_mtu_bytes{device="eth0"} 9000\n');
  assertStringIncludes(
    text,
    'node_network_info{address="02:42:5e:1a:9c:0f",device="docker0",duplex="",ifalias="",operstate="down"} 1\n',
  );
});

for (const shape of SHAPES) {
  Deno.test(`golden: netclass ${shape} (derive from two reads 10 000 ms apart, expose)`, async () => {
    const reader = createNetclassReader(testContext(fixtureRoots(shape)));
    const first = await reader.read();
    const second = await reader.read();
    const part = netclassFamily.derive(reading(first, 100_000), reading(second, 110_000));
    await assertGolden(`${shape}/netclass.json`, JSON.stringify(part, null, 2) + "\n");
    const out = new TextExposition();
    netclassFamily.expose(first, out);
    await assertGolden(`${shape}/netclass.prom`, out.text());
  });
}
