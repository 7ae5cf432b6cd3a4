/** `sysmon config validate|show|init`. */
import { buildCommand, buildRouteMap } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { RuntimeFailure, UsageError } from "../src/cli/errors.ts";
import { type GlobalFlags, globalFlags } from "../src/cli/globals.ts";
import { writeStdout } from "../src/cli/io.ts";
import { setupRuntime } from "../src/cli/runtime.ts";
import { sysmonSchema } from "../src/config/sysmon_schema.ts";

async function validate(this: SysmonContext, flags: GlobalFlags, file?: string) {
  const rt = await setupRuntime({ ...flags, config: file ?? flags.config }, this.env);
  const used = rt.files.length ? rt.files.join(", ") : "no config file (built-in defaults)";
  writeStdout(`ok: ${used}\n`);
}

async function show(this: SysmonContext, flags: GlobalFlags & { json?: boolean }) {
  const rt = await setupRuntime(flags, this.env);
  if (flags.json) {
    const { maskSecrets } = await import("../src/config/show.ts");
    writeStdout(JSON.stringify(maskSecrets(rt.config, sysmonSchema), null, 2) + "\n");
    return;
  }
  const source = rt.files.length ? rt.files.join(", ") : "built-in defaults";
  writeStdout(`# effective configuration (from ${source}; secrets masked)\n`);
  const { renderConfig } = await import("../src/config/show.ts");
  writeStdout(renderConfig(rt.config, sysmonSchema));
}

async function init(this: SysmonContext, flags: { output?: string; force?: boolean }) {
  const { starterConfig } = await import("../src/config/init.ts");
  const text = starterConfig();
  if (!flags.output || flags.output === "-") {
    writeStdout(text);
    return;
  }
  try {
    await Deno.writeTextFile(flags.output, text, { createNew: !flags.force });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`${flags.output} already exists (use --force to overwrite it)`);
    }
    throw new RuntimeFailure(`cannot write ${flags.output}: ${(err as Error).message}`);
  }
  writeStdout(`wrote ${flags.output}\n`);
}

const validateCommand = buildCommand({
  func: validate,
  parameters: {
    flags: { ...globalFlags },
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Config file to check",
        parse: String,
        optional: true,
        placeholder: "FILE",
      }],
    },
  },
  docs: {
    brief: "Check configuration files; exit 2 with file:line: key: reason on errors",
    fullDescription: "Validates FILE (or --config FILE) merged over /etc/sysmon/config.yaml and\n" +
      "$XDG_CONFIG_HOME/sysmon/config.yaml, reporting every problem at once.",
  },
});

const showCommand = buildCommand({
  func: show,
  parameters: {
    flags: {
      ...globalFlags,
      json: { kind: "boolean", brief: "Print JSON instead of YAML", optional: true },
    },
  },
  docs: { brief: "Print the effective configuration (all layers merged, secrets masked)" },
});

const initCommand = buildCommand({
  func: init,
  parameters: {
    flags: {
      output: {
        kind: "parsed",
        parse: String,
        brief: "Write to FILE instead of stdout",
        optional: true,
        placeholder: "FILE",
      },
      force: { kind: "boolean", brief: "Overwrite FILE if it exists", optional: true },
    },
  },
  docs: { brief: "Print a commented starter configuration file" },
});

export const configRoutes = buildRouteMap({
  routes: { validate: validateCommand, show: showCommand, init: initCommand },
  docs: { brief: "Validate, show or create configuration files" },
});
