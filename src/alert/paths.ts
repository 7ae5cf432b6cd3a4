/** Where the alert engine keeps its files inside a data directory. */
export function alertPaths(dir: string) {
  return {
    state: `${dir}/state/alert.state.json`,
    outbox: `${dir}/state/outbox.json`,
    logDir: `${dir}/alerts`,
  };
}
