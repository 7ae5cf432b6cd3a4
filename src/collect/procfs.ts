/** Path resolution under --procfs/--sysfs/--rootfs and the one way collectors read kernel files. */
import type { Roots } from "./types.ts";

export const DEFAULT_ROOTS: Roots = { procfs: "/proc", sysfs: "/sys", rootfs: "/" };

function join(root: string, rel: string): string {
  const r = root.endsWith("/") ? root.slice(0, -1) : root;
  const p = rel.startsWith("/") ? rel : "/" + rel;
  return r + p;
}

export const procPath = (roots: Roots, rel: string) => join(roots.procfs, rel);
export const sysPath = (roots: Roots, rel: string) => join(roots.sysfs, rel);
/** A host path (e.g. a mount point) as seen from inside a container with the host at --rootfs. */
export const rootPath = (roots: Roots, hostPath: string) =>
  roots.rootfs === "/" || roots.rootfs === "" ? hostPath : join(roots.rootfs, hostPath);

/** A read failure whose message names the file and the cause, never a stack trace. */
export class ReadError extends Error {
  constructor(readonly path: string, readonly code: string, detail: string) {
    super(`cannot read ${path}: ${detail}`);
    this.name = "ReadError";
  }
}

function describe(err: unknown): { code: string; detail: string } {
  if (err instanceof Deno.errors.NotFound) return { code: "ENOENT", detail: "not found" };
  if (err instanceof Deno.errors.PermissionDenied) {
    return { code: "EACCES", detail: "permission denied" };
  }
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? "EIO";
  // Deno's messages look like "Invalid argument (os error 22): read '/sys/...'"; keep the cause only.
  const detail = (e?.message ?? String(err)).split(/[:(]/)[0].trim() || code;
  return { code, detail };
}

/**
 * Reads a kernel text file synchronously: /proc and /sys are generated in memory, a sync read costs
 * a few microseconds, an async op several times that. statfs is the exception (see filesystem.ts).
 */
export function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    const { code, detail } = describe(err);
    const noted = code === "EISDIR" ? fixtureErrno(path) : undefined;
    throw new ReadError(path, noted ?? code, noted ? `${detail} (fixture: ${noted})` : detail);
  }
}

/**
 * Fixture trees (tests/fixtures/README.md) store a file that failed to read on the captured host as a
 * directory holding a FAILS_TO_READ note that may name the errno (EOPNOTSUPP for psi=0). A real /proc
 * or /sys never has such a directory, so this costs nothing outside tests.
 */
function fixtureErrno(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path + "/FAILS_TO_READ").match(/\bE[A-Z]{3,}\b/)?.[0];
  } catch {
    return undefined;
  }
}

/** Like readText, but a missing file yields undefined (optional kernel features). */
export function readOptional(path: string): string | undefined {
  try {
    return readText(path);
  } catch (err) {
    if (err instanceof ReadError && err.code === "ENOENT") return undefined;
    throw err;
  }
}

/** Directory entry names, sorted; a missing directory yields undefined. */
export function listDir(path: string): string[] | undefined {
  try {
    const names: string[] = [];
    for (const e of Deno.readDirSync(path)) names.push(e.name);
    return names.sort();
  } catch (err) {
    const { code, detail } = describe(err);
    if (code === "ENOENT") return undefined;
    throw new ReadError(path, code, detail);
  }
}

export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Compiles an include/exclude pair of regex sources ("" = no filter) into a predicate. */
export function entityFilter(include: string, exclude: string): (name: string) => boolean {
  const inc = include ? new RegExp(include) : undefined;
  const exc = exclude ? new RegExp(exclude) : undefined;
  return (name) => (!inc || inc.test(name)) && !(exc && exc.test(name));
}

/** A Reader over a synchronous read: a throw becomes a rejection, as callers of read() expect. */
export function syncReader<R>(read: () => R): { read(): Promise<R> } {
  return { read: () => new Promise((resolve) => resolve(read())) };
}
