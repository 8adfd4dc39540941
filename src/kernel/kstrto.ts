// The kernel's number parsing used by sysfs stores: lib/vsprintf.c vsscanf (%x, %lx conversions),
// lib/kstrtox.c kstrtouint/kstrtou16 (_kstrtoull + optional trailing newline), lib/kstrtox.c kstrtobool.
import { ERRNO } from "../model/errno.ts";

const isSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
const isXdigit = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * vsscanf(buf, "%x %x ...") for `n` hex conversions of `bits` width each (32 for %x, 64 for %lx):
 * whitespace in the format skips any whitespace; each conversion skips leading whitespace, accepts
 * an optional 0x/0X prefix and stops at the first non-hex character; values wrap to the field width.
 * Returns the converted values (their count is sscanf's return).
 */
export function sscanfHex(buf: string, widths: readonly number[]): bigint[] {
  const out: bigint[] = [];
  let i = 0;
  // vsscanf stops at the first NUL of the buffer.
  const nul = buf.indexOf("\0");
  const s = nul >= 0 ? buf.slice(0, nul) : buf;
  for (const bits of widths) {
    while (isSpace(s[i])) i++;
    if (i >= s.length) break;
    let j = i;
    if (s[j] === "0" && (s[j + 1] === "x" || s[j + 1] === "X") && isXdigit(s[j + 2])) j += 2;
    if (!isXdigit(s[j])) break;
    let v = 0n;
    while (isXdigit(s[j])) {
      v = (v * 16n + BigInt(parseInt(s[j]!, 16))) & ((1n << 64n) - 1n);
      j++;
    }
    out.push(v & ((1n << BigInt(bits)) - 1n));
    i = j;
  }
  return out;
}

/** _kstrtoull(s, base=0): number or -EINVAL/-ERANGE; one trailing newline allowed, a leading '+' too. */
export function kstrtoull(buf: string, max: bigint): bigint | number {
  let s = buf;
  if (s.startsWith("+")) s = s.slice(1);
  let base = 10;
  if (s.startsWith("0x") || s.startsWith("0X")) {
    if (isXdigit(s[2])) {
      base = 16;
      s = s.slice(2);
    }
  } else if (s.startsWith("0") && s.length > 1 && s[1] !== "\n") {
    base = 8;
    s = s.slice(1);
  }
  let i = 0;
  let v = 0n;
  const digit = (c: string): number => {
    const d = parseInt(c, 16);
    return Number.isNaN(d) || d >= base ? -1 : d;
  };
  for (; i < s.length; i++) {
    const d = digit(s[i]!);
    if (d < 0) break;
    v = v * BigInt(base) + BigInt(d);
    if (v > max) return -ERRNO.ERANGE;
  }
  if (i === 0) return -ERRNO.EINVAL;
  const rest = s.slice(i);
  if (rest !== "" && rest !== "\n") return -ERRNO.EINVAL;
  return v;
}

/** kstrtobool(): y/Y/1/on → true, n/N/0/off → false, else -EINVAL. */
export function kstrtobool(s: string): boolean | number {
  const c = s[0];
  if (c === "y" || c === "Y" || c === "1") return true;
  if (c === "n" || c === "N" || c === "0") return false;
  if (c === "o" || c === "O") {
    const d = s[1];
    if (d === "n" || d === "N") return true;
    if (d === "f" || d === "F") return false;
  }
  return -ERRNO.EINVAL;
}
