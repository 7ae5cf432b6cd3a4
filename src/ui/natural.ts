/**
 * Natural order for device and core names (sda < sdb, cpu2 < cpu10, eth1 < eth10): runs of digits
 * compare as numbers, everything else by code unit. Written out rather than with localeCompare,
 * whose ICU collator maps megabytes of collation data into a long-running process.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      const ei = digitsEnd(a, i);
      const ej = digitsEnd(b, j);
      // Numbers: without leading zeros, a longer run is larger; equal lengths compare by text.
      const na = a.slice(i, ei).replace(/^0+(?=\d)/, "");
      const nb = b.slice(j, ej).replace(/^0+(?=\d)/, "");
      if (na.length !== nb.length) return na.length - nb.length;
      if (na !== nb) return na < nb ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return (a.length - i) - (b.length - j) || (a < b ? -1 : a > b ? 1 : 0);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digitsEnd(s: string, from: number): number {
  let k = from;
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  return k;
}
