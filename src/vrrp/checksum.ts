/**
 * The Internet checksum (RFC 1071) over the concatenation of `chunks`: the one's complement
 * of the one's complement sum of 16-bit big-endian words, an odd final byte padded with zero.
 * A message whose checksum field is filled in correctly sums to 0 here.
 */
export function internetChecksum(...chunks: Uint8Array[]): number {
  let sum = 0;
  let pending = -1; // high byte of a word split across two chunks
  for (const c of chunks) {
    let i = 0;
    if (pending >= 0 && c.length > 0) {
      sum += (pending << 8) | c[0]!;
      pending = -1;
      i = 1;
    }
    for (; i + 1 < c.length; i += 2) sum += (c[i]! << 8) | c[i + 1]!;
    if (i < c.length) pending = c[i]!;
    // Fold early so the sum stays a small integer however long the input is.
    if (sum > 0xffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (pending >= 0) sum += pending << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
