// Byte strings. kmod works on C strings (bytes); kbind keeps them as JS strings with one char per
// byte (latin1), so NUL and bytes >= 0x80 survive unchanged and comparisons are byte-wise (strcmp).

const ASCII_DECODER = new TextDecoder();

/** Bytes → a one-char-per-byte string (never UTF-8 decoding: kmod does not decode either). */
export function bytesToLatin1(b: Uint8Array, start = 0, end = b.length): string {
  // 7-bit bytes decode the same as UTF-8: the native decoder is much faster than fromCharCode.
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (b[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return ASCII_DECODER.decode(b.subarray(start, end));
  let s = "";
  const CHUNK = 0x8000;
  for (let i = start; i < end; i += CHUNK) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + CHUNK)) as unknown as number[]);
  }
  return s;
}

const ASCII_ENCODER = new TextEncoder();
const NOT_ASCII = /[^\x00-\x7f]/;

/** A one-char-per-byte string → bytes (chars above 0xFF are truncated to their low byte). */
export function latin1ToBytes(s: string): Uint8Array {
  // 7-bit text is the same in UTF-8: the native encoder is much faster than a byte loop.
  if (!NOT_ASCII.test(s)) return ASCII_ENCODER.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** strcmp() on byte strings: negative, zero or positive. */
export function strcmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A growable byte buffer for writers. */
export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
  }

  u32be(v: number): void {
    this.reserve(4);
    const b = this.buf;
    b[this.len++] = (v >>> 24) & 0xff;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
  }

  /** Writes a byte string (one char per byte), without terminator. */
  str(s: string): void {
    this.reserve(s.length);
    const b = this.buf;
    let n = this.len;
    for (let i = 0; i < s.length; i++) b[n++] = s.charCodeAt(i) & 0xff;
    this.len = n;
  }

  patchU32be(at: number, v: number): void {
    const b = this.buf;
    b[at] = (v >>> 24) & 0xff;
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
