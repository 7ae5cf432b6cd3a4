/** Errors a user can cause (exit 2) versus runtime failures (exit 1); neither prints a stack trace. */

/** Bad flags, values or configuration: exit code 2. `lines` are printed one per line. */
export class UsageError extends Error {
  readonly lines: string[];
  constructor(lines: string | string[]) {
    const all = Array.isArray(lines) ? lines : [lines];
    super(all.join("\n"));
    this.name = "UsageError";
    this.lines = all;
  }
}

/** A failure at run time that is already explained by its message: exit code 1. */
export class RuntimeFailure extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "RuntimeFailure";
  }
}
