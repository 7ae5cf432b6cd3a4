/** --output FILE (src/cli/output_file.ts): whole files, and devices left as they are. */
import { writeOutputFile } from "../src/cli/output_file.ts";
import { RuntimeFailure } from "../src/cli/errors.ts";
import { assert, assertEquals } from "./assert.ts";

Deno.test("writeOutputFile: a regular file is replaced whole; no temporary file is left", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sysmon-output-" });
  try {
    await Deno.writeTextFile(`${dir}/out.txt`, "old");
    await writeOutputFile(`${dir}/out.txt`, "new\n");
    assertEquals(await Deno.readTextFile(`${dir}/out.txt`), "new\n");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["out.txt"]);
    const err = await writeOutputFile(`${dir}/missing/out.txt`, "x").catch((e) => e);
    assert(err instanceof RuntimeFailure, String(err));
    assert(String(err.message).startsWith(`cannot write ${dir}/missing/out.txt: `), err.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeOutputFile: /dev/null stays a device (renaming onto it would replace it)", async () => {
  await writeOutputFile("/dev/null", "discarded\n");
  const st = await Deno.stat("/dev/null");
  assert(st.isCharDevice, "/dev/null is still a character device");
});
