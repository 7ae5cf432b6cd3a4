/**
 * Pure parser for /proc/<pid>/mountinfo (Documentation/filesystems/proc.rst, "3.5 /proc/<pid>/mountinfo"):
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 *
 * mount ID, parent ID, major:minor of st_dev, root of the mount inside its filesystem, mount point,
 * per-mount options, zero or more optional fields ("tag[:value]") ended by a lone "-", filesystem
 * type, mount source, per-superblock options. The kernel writes space, tab, newline and backslash
 * inside paths as octal escapes (\040 \011 \012 \134), so a single space always separates fields.
 */

export interface MountInfo {
  mountId: number;
  parentId: number;
  major: number;
  minor: number;
  /** "major:minor" as written, the key bind mounts of one filesystem share. */
  dev: string;
  /** Directory of the filesystem mounted here ("/" unless this is a bind mount of a subdirectory). */
  root: string;
  mountPoint: string;
  /** Per-mount options, comma-separated as written (e.g. "rw,relatime"). */
  options: string;
  /** Optional fields such as "shared:1" or "master:2". */
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string;
}

const BACKSLASH = 0x5c;
const isOctalDigit = (b: number) => b >= 0x30 && b <= 0x37;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Decodes the kernel's `\ooo` octal escapes. Works on bytes, so a path whose UTF-8 bytes were
 * escaped one by one decodes correctly; a backslash not followed by three octal digits stays as is.
 */
export function decodeOctalEscapes(s: string): string {
  if (!s.includes("\\")) return s; // the common case: nothing to do, no allocation
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (
      b === BACKSLASH && i + 3 < bytes.length && isOctalDigit(bytes[i + 1]) &&
      isOctalDigit(bytes[i + 2]) && isOctalDigit(bytes[i + 3])
    ) {
      const value = (bytes[i + 1] - 0x30) * 64 + (bytes[i + 2] - 0x30) * 8 + (bytes[i + 3] - 0x30);
      if (value <= 0xff) {
        out[n++] = value;
        i += 3;
        continue;
      }
    }
    out[n++] = b;
  }
  return decoder.decode(out.subarray(0, n));
}

/** Decimal digits only: Number() alone would also take "0x1f", "1e3" or "". */
function parseId(text: string, what: string, where: () => string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) n = NaN;
    n = n * 10 + d;
  }
  if (text === "" || !Number.isSafeInteger(n)) {
    throw new Error(`${where()}: ${what} ${JSON.stringify(text)} is not a non-negative integer`);
  }
  return n;
}

/** Parses one mountinfo line; `where` names file and line for the error message. */
export function parseMountinfoLine(line: string, where: () => string): MountInfo {
  const f = line.split(" ");
  // 6 fixed fields, the "-" separator, then fstype, source, super options.
  if (f.length < 10) {
    throw new Error(`${where()}: expected at least 10 fields, found ${f.length}`);
  }
  let sep = 6;
  while (sep < f.length && f[sep] !== "-") sep++;
  if (sep === f.length) throw new Error(`${where()}: no "-" ends the optional fields`);
  if (f.length - sep - 1 < 3) {
    throw new Error(
      `${where()}: expected fstype, source and super options after "-", found ${
        f.length - sep - 1
      }`,
    );
  }

  const dev = f[2];
  const colon = dev.indexOf(":");
  if (colon <= 0) throw new Error(`${where()}: device ${JSON.stringify(dev)} is not major:minor`);
  return {
    mountId: parseId(f[0], "mount ID", where),
    parentId: parseId(f[1], "parent ID", where),
    major: parseId(dev.slice(0, colon), "major number", where),
    minor: parseId(dev.slice(colon + 1), "minor number", where),
    dev,
    root: decodeOctalEscapes(f[3]),
    mountPoint: decodeOctalEscapes(f[4]),
    options: f[5],
    optional: f.slice(6, sep),
    fstype: f[sep + 1],
    source: decodeOctalEscapes(f[sep + 2]),
    // Super options never contain spaces; join defensively should a future field follow them.
    superOptions: f.slice(sep + 3).join(" "),
  };
}

/**
 * Parses a whole mountinfo file, in the kernel's order (later mounts after earlier ones).
 * `file` names the source in error messages.
 */
export function parseMountinfo(text: string, file = "mountinfo"): MountInfo[] {
  const mounts: MountInfo[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    mounts.push(parseMountinfoLine(line, () => `${file}: line ${i + 1}`));
  }
  return mounts;
}

/** True when the comma-separated per-mount options contain "ro". */
export function isReadOnly(options: string): boolean {
  if (options === "ro" || options.startsWith("ro,")) return true;
  return options.includes(",ro,") || options.endsWith(",ro");
}
