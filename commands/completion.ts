/** `sysmon completion bash|zsh`: prints a completion script generated from the command tree. */
import { buildCommand } from "@stricli/core";
import type { SysmonContext } from "../src/cli/context.ts";
import { writeStdout } from "../src/cli/io.ts";

async function completion(this: SysmonContext, _flags: object, shell: "bash" | "zsh") {
  // Imported here: the tree module imports every command, this one included.
  const { root } = await import("../src/cli/app.ts");
  // Loaded on use, as every command's heavier parts: a long-running command carries only its own.
  const { bashCompletion, describeTree, zshCompletion } = await import("../src/cli/completion.ts");
  const tree = describeTree(root);
  writeStdout(shell === "bash" ? bashCompletion(tree) : zshCompletion(tree));
}

export const completionCommand = buildCommand({
  func: completion,
  parameters: {
    positional: {
      kind: "tuple",
      parameters: [{
        brief: "Shell to generate for: bash or zsh",
        placeholder: "bash|zsh",
        parse: (s: string) => {
          if (s !== "bash" && s !== "zsh") {
            throw new Error(`unknown shell "${s}" (use bash or zsh)`);
          }
          return s;
        },
      }],
    },
  },
  docs: {
    brief: "Print a shell completion script (bash or zsh)",
    fullDescription: [
      "bash:  sysmon completion bash > /etc/bash_completion.d/sysmon",
      'zsh:   sysmon completion zsh > "${fpath[1]}/_sysmon"',
    ].join("\n"),
  },
});
