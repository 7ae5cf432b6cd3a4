/**
 * statfs(2) through libc FFI, without blocking the event loop.
 *
 * The symbol is declared `nonblocking`: Deno runs each call on a worker thread and hands back a
 * promise, so a mount whose server has gone away (a hard NFS mount, a FUSE daemon that stopped
 * answering) hangs a worker thread, never the process. The filesystem family bounds the wait.
 */
import { LibcUnavailableError, openLibc } from "../core/libc.ts";

/** The statfs fields sysmon uses; counts are in units of `frsize` (blocks) or inodes (files). */
export interface StatfsResult {
  blocks: number;
  bfree: number;
  bavail: number;
  /** Fundamental block size (f_frsize, or f_bsize where the kernel leaves f_frsize 0, as df does). */
  frsize: number;
  files: number;
  ffree: number;
  /** Filesystem magic number (f_type); set by the real call, absent in fakes. */
  type?: number;
  /** Optimal transfer block size (f_bsize). */
  bsize?: number;
  /** Maximum file name length (f_namelen). */
  namelen?: number;
  /** Mount flags (f_flags, ST_RDONLY = 1 …). */
  flags?: number;
}

/** statfs of one path; the family takes one of these so tests can pass a fake. */
export type StatfsFn = (path: string) => Promise<StatfsResult>;

/** statfs returned -1 for `path` (the reason, when one could be found, follows a colon). */
export class StatfsError extends Error {
  constructor(readonly path: string, reason = "") {
    super(`statfs failed for ${path}${reason ? ": " + reason : ""}`);
    this.name = "StatfsError";
  }
}

/** statfs cannot be called at all here (no FFI permission, no libc, unknown struct layout). */
export class StatfsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StatfsUnavailableError";
  }
}

/**
 * struct statfs on 64-bit Linux (x86_64 and aarch64 share the generic layout; glibc and musl agree):
 * f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid (2 × int), f_namelen,
 * f_frsize, f_flags, f_spare[4] — every field 8 bytes, 120 bytes in all.
 */
export const STATFS_OFFSETS = {
  type: 0,
  bsize: 8,
  blocks: 16,
  bfree: 24,
  bavail: 32,
  files: 40,
  ffree: 48,
  fsid: 56,
  namelen: 64,
  frsize: 72,
  flags: 80,
  spare: 88,
} as const;
export const STATFS_SIZE = 120;

const SUPPORTED_ARCHS = ["x86_64", "aarch64"];

/** An unsigned 64-bit field as a number (exact below 2^53, which any real count is). */
function u64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

/** Decodes a filled struct statfs (little-endian, as on both supported architectures). */
export function decodeStatfs(buf: Uint8Array): StatfsResult {
  if (buf.byteLength < STATFS_SIZE) {
    throw new Error(`struct statfs needs ${STATFS_SIZE} bytes, got ${buf.byteLength}`);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, STATFS_SIZE);
  const o = STATFS_OFFSETS;
  const bsize = u64(v, o.bsize);
  const frsize = u64(v, o.frsize);
  return {
    blocks: u64(v, o.blocks),
    bfree: u64(v, o.bfree),
    bavail: u64(v, o.bavail),
    frsize: frsize || bsize,
    files: u64(v, o.files),
    ffree: u64(v, o.ffree),
    type: u64(v, o.type),
    bsize,
    namelen: u64(v, o.namelen),
    flags: u64(v, o.flags),
  };
}

const SYMBOLS = {
  statfs: { parameters: ["buffer", "buffer"], result: "i32", nonblocking: true },
} as const;
type Libc = Deno.DynamicLibrary<typeof SYMBOLS>;

/** The library, or why it cannot be had; decided on first use and never retried. */
let libc: Libc | StatfsUnavailableError | undefined;

function openStatfs(): Libc | StatfsUnavailableError {
  if (Deno.build.os !== "linux" || !SUPPORTED_ARCHS.includes(Deno.build.arch)) {
    return new StatfsUnavailableError(
      `statfs: the struct statfs layout is known only for 64-bit Linux (x86_64, aarch64), ` +
        `not ${Deno.build.os}/${Deno.build.arch}`,
    );
  }
  const lib = openLibc(SYMBOLS, "statfs", "disk usage");
  return lib instanceof LibcUnavailableError ? new StatfsUnavailableError(lib.message) : lib;
}

function library(): Libc {
  libc ??= openStatfs();
  if (libc instanceof Error) throw libc;
  return libc;
}

const encoder = new TextEncoder();

/**
 * A hint for a failed call. errno of a nonblocking call lives on the worker thread and cannot be
 * read reliably, so ask the (asynchronous, equally non-blocking) stat what is wrong with the path.
 */
async function failureReason(path: string): Promise<string> {
  try {
    await Deno.stat(path);
    return "";
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "no such file or directory";
    if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
    return "";
  }
}

/**
 * The real statfs(2). Rejects with a StatfsError ("statfs failed for <path>…") when the call returns
 * -1, and with a StatfsUnavailableError when FFI or libc cannot be had (decided once).
 */
export const statfs: StatfsFn = async (path) => {
  if (path.includes("\0")) throw new StatfsError(JSON.stringify(path), "NUL in path");
  const lib = library();
  // One allocation holds the struct and, after it, the NUL-terminated path. Deno hands the worker
  // thread raw pointers and keeps no reference to the memory, so it must stay reachable until the
  // call settles: decoding `mem` afterwards guarantees that for both.
  const mem = new Uint8Array(STATFS_SIZE + path.length * 3 + 1);
  encoder.encodeInto(path, mem.subarray(STATFS_SIZE));
  const rc = await lib.symbols.statfs(mem.subarray(STATFS_SIZE), mem);
  if (rc !== 0) throw new StatfsError(path, await failureReason(path));
  return decodeStatfs(mem);
};

/**
 * A StatfsFn answering from a table (path → result), for fixtures that cannot be statfs'd.
 * Unknown paths reject as the real call does.
 */
export function tableStatfs(table: ReadonlyMap<string, StatfsResult>): StatfsFn {
  return (path) => {
    const hit = table.get(path);
    return hit ? Promise.resolve({ ...hit }) : Promise.reject(new StatfsError(path));
  };
}
