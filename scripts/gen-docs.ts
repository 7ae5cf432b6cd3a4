/** `deno task gen-docs`: regenerates docs/metrics.md and docs/schema/sample-v1.json from the code. */
import { catalog } from "../src/core/catalog.ts";
import { sampleJsonSchema } from "../src/core/json_schema.ts";
import { metricsMarkdown } from "../src/core/metrics_doc.ts";

const root = new URL("..", import.meta.url).pathname;
const defs = catalog();
await Deno.mkdir(`${root}docs/schema`, { recursive: true });
await Deno.writeTextFile(`${root}docs/metrics.md`, metricsMarkdown(defs));
await Deno.writeTextFile(
  `${root}docs/schema/sample-v1.json`,
  JSON.stringify(sampleJsonSchema(defs), null, 2) + "\n",
);
console.log(`wrote docs/metrics.md and docs/schema/sample-v1.json (${defs.length} metrics)`);
