/** sysmon's version; kept equal to deno.json's by tests/version_test.ts. */
export const VERSION = "0.1.0";
