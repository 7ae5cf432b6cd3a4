/** The context every command function receives (`this` in stricli commands). */
import type { CommandContext } from "@stricli/core";

export interface SysmonContext extends CommandContext {
  readonly env: Record<string, string | undefined>;
}
