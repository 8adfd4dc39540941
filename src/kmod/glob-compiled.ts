// A compiled matcher for globs made only of plain bytes, `*` and `?` — the shape of almost every
// module alias. For such patterns the match is unique (no brackets, escapes or classes), so the
// classic segment algorithm below gives exactly glibc's fnmatch(pattern, s, 0) answer:
// pattern = S0 * S1 * ... * Sn  ⇔  s starts with S0, ends with Sn, and S1..Sn-1 occur in order,
// leftmost, in between (`?` in a segment matches any one byte). Other patterns return null and
// the caller uses fnmatch.

export type CompiledGlob = (s: string) => boolean;

function segAt(seg: string, hasQ: boolean, s: string, pos: number): boolean {
  if (!hasQ) return s.startsWith(seg, pos);
  if (pos + seg.length > s.length) return false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c !== 63 && c !== s.charCodeAt(pos + i)) return false;
  }
  return true;
}

function segFind(seg: string, hasQ: boolean, s: string, from: number, limit: number): number {
  if (!hasQ) {
    const i = s.indexOf(seg, from);
    return i >= 0 && i + seg.length <= limit ? i : -1;
  }
  for (let p = from; p + seg.length <= limit; p++) if (segAt(seg, true, s, p)) return p;
  return -1;
}

export function compileGlob(pattern: string): CompiledGlob | null {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 91 || c === 93 || c === 92 || c === 0) return null; // [ ] \ NUL
  }
  const segs = pattern.split("*");
  const hasQ = segs.map((x) => x.includes("?"));
  if (segs.length === 1) {
    const seg = segs[0]!;
    const q = hasQ[0]!;
    return (s) => s.length === seg.length && segAt(seg, q, s, 0);
  }
  const first = segs[0]!;
  const last = segs[segs.length - 1]!;
  const qFirst = hasQ[0]!;
  const qLast = hasQ[segs.length - 1]!;
  const mid = segs.slice(1, -1).filter((x) => x !== "");
  const qMid = mid.map((x) => x.includes("?"));
  const minLen = first.length + last.length;
  return (s) => {
    if (s.length < minLen) return false;
    if (!segAt(first, qFirst, s, 0)) return false;
    const end = s.length - last.length;
    if (!segAt(last, qLast, s, end)) return false;
    let pos = first.length;
    for (let k = 0; k < mid.length; k++) {
      const seg = mid[k]!;
      const at = segFind(seg, qMid[k]!, s, pos, end);
      if (at < 0) return false;
      pos = at + seg.length;
    }
    return true;
  };
}
