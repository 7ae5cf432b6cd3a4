/** Natural order of device and core names (src/ui/natural.ts). */
import { naturalCompare } from "../src/ui/natural.ts";
import { assertEquals } from "./assert.ts";

Deno.test("naturalCompare: numbers inside names compare as numbers", () => {
  const names = [
    "cpu10",
    "cpu2",
    "sdb",
    "nvme0n1p10",
    "cpu1",
    "sda",
    "nvme0n1p2",
    "eth10",
    "eth1",
    "cpu02",
  ];
  assertEquals([...names].sort(naturalCompare), [
    "cpu1",
    "cpu02",
    "cpu2",
    "cpu10",
    "eth1",
    "eth10",
    "nvme0n1p2",
    "nvme0n1p10",
    "sda",
    "sdb",
  ]);
  assertEquals(naturalCompare("a", "a"), 0);
  assertEquals(Math.sign(naturalCompare("a", "ab")), -1);
  assertEquals(Math.sign(naturalCompare("x99999999999999999999", "x100000000000000000000")), -1);
});
