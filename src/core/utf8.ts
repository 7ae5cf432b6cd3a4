/** Text sizes as they go to files and sockets. */

const NON_ASCII = /[^\t\n\r -~]/; // anything outside printable ASCII and white space

/** UTF-8 byte length of a string without encoding it into a buffer. */
export function utf8Length(s: string): number {
  // Most text here is ASCII: one native scan answers it without the loop.
  if (!NON_ASCII.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
