/** sysmon's entry point: `deno run -A main.ts <command>` (or the bundled/compiled binary). */
import { main } from "./src/cli/app.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
