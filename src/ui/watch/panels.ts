/** The six panels by id (keys 1–6 in PANEL_IDS order); each one lives in its panel_*.ts file. */
import { cpuPanel } from "./panel_cpu.ts";
import { filesystemsPanel } from "./panel_filesystems.ts";
import { disksPanel, networkPanel } from "./panel_io.ts";
import { memoryPanel } from "./panel_memory.ts";
import { processesPanel } from "./panel_processes.ts";
import type { Panel } from "./panel_widgets.ts";
import type { PanelId } from "./state.ts";

export type { Panel, PanelContext } from "./panel_widgets.ts";

export const PANELS: Record<PanelId, Panel> = {
  cpu: cpuPanel,
  memory: memoryPanel,
  disks: disksPanel,
  network: networkPanel,
  filesystems: filesystemsPanel,
  processes: processesPanel,
};
