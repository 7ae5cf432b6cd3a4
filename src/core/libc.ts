/**
 * The C library through Deno's FFI, for the few system calls Deno does not expose (statfs, madvise).
 * Each caller opens its own symbol set; dlopen of an already loaded libc only takes a reference.
 */

const LIBC_NAMES = ["libc.so.6", `libc.musl-${Deno.build.arch}.so.1`, "libc.so"];

/** FFI or libc cannot be had here; the message says which and what to do. */
export class LibcUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LibcUnavailableError";
  }
}

/**
 * Opens libc with `symbols`, or returns why it cannot (no FFI in this runtime, no FFI permission,
 * no library under any known name). Messages start with `caller` ("statfs: …") and say what
 * `need`s the library ("disk usage needs FFI access …").
 */
export function openLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
  caller: string,
  need: string,
): Deno.DynamicLibrary<S> | LibcUnavailableError {
  if (typeof Deno.dlopen !== "function") {
    return new LibcUnavailableError(`${caller}: this Deno runtime has no FFI (Deno.dlopen)`);
  }
  const failures: string[] = [];
  for (const name of LIBC_NAMES) {
    try {
      return Deno.dlopen(name, symbols);
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        return new LibcUnavailableError(
          `${caller}: ${need} needs FFI access to libc; run with --allow-ffi (or -A)`,
        );
      }
      failures.push(`${name}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  return new LibcUnavailableError(
    `${caller}: cannot load the C library (${failures.join("; ")})`,
  );
}
