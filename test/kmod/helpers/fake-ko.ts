// Minimal kernel-module ELF files for tests: a relocatable object holding a `.modinfo` section
// and, optionally, a `.symtab` with exported (`__crc_<sym>` + `__ksymtab_strings`) and undefined
// symbols — what depmod reads. ELF32/ELF64, little or big endian. The real depmod accepts them
// (test/kmod/depmod.real.test.ts), like the gcc-built objects kmod's testsuite uses.

export interface FakeKoSpec {
  modinfo: [string, string][];
  exports?: string[];
  needs?: string[];
  weakNeeds?: string[];
  is64?: boolean;
  le?: boolean;
  /** Extra NUL padding between .modinfo strings (as the compiler's alignment produces). */
  pad?: boolean;
}

class W {
  b: number[] = [];
  u8(v: number): void {
    this.b.push(v & 0xff);
  }
  u16(v: number, le: boolean): void {
    if (le) this.b.push(v & 0xff, (v >> 8) & 0xff);
    else this.b.push((v >> 8) & 0xff, v & 0xff);
  }
  u32(v: number, le: boolean): void {
    const x = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.b.push(...(le ? x : x.reverse()));
  }
  u64(v: number, le: boolean): void {
    if (le) {
      this.u32(v, true);
      this.u32(0, true);
    } else {
      this.u32(0, false);
      this.u32(v, false);
    }
  }
  str(s: string): void {
    for (let i = 0; i < s.length; i++) this.b.push(s.charCodeAt(i) & 0xff);
  }
  align(n: number): void {
    while (this.b.length % n !== 0) this.b.push(0);
  }
}

export function makeFakeKo(spec: FakeKoSpec): Uint8Array {
  const is64 = spec.is64 ?? true;
  const le = spec.le ?? true;
  const modinfo = spec.modinfo.map(([k, v]) => `${k}=${v}\0${spec.pad === true ? "\0\0" : ""}`).join("");
  const strtab: string[] = ["\0"];
  let strLen = 1;
  const addStr = (s: string): number => {
    const off = strLen;
    strtab.push(s + "\0");
    strLen += s.length + 1;
    return off;
  };
  interface Sym {
    name: number;
    info: number;
    shndx: number;
  }
  const syms: Sym[] = [];
  for (const e of spec.exports ?? []) syms.push({ name: addStr(`__crc_${e}`), info: (1 << 4) | 0, shndx: 0xfff1 });
  for (const n of spec.needs ?? []) syms.push({ name: addStr(n), info: (1 << 4) | 0, shndx: 0 });
  for (const n of spec.weakNeeds ?? []) syms.push({ name: addStr(n), info: (2 << 4) | 0, shndx: 0 });
  const ksymtab = (spec.exports ?? []).map((e) => e + "\0").join("");
  const hasSyms = syms.length > 0;

  const secNames = [".modinfo", ...(hasSyms ? [".symtab", ".strtab"] : []), ...(ksymtab !== "" ? ["__ksymtab_strings"] : []), ".shstrtab"];
  let shstr = "\0";
  const nameOff: number[] = [];
  for (const n of secNames) {
    nameOff.push(shstr.length);
    shstr += n + "\0";
  }
  const w = new W();
  const hdrSize = is64 ? 64 : 52;
  for (let i = 0; i < hdrSize; i++) w.u8(0);
  const sections: { name: number; type: number; off: number; size: number; link: number; info: number; entsize: number; align: number }[] = [];
  const place = (name: string, type: number, data: () => void, extra: Partial<(typeof sections)[0]> = {}): void => {
    w.align(8);
    const off = w.b.length;
    data();
    sections.push({ name: nameOff[secNames.indexOf(name)]!, type, off, size: w.b.length - off, link: 0, info: 0, entsize: 0, align: 1, ...extra });
  };
  place(".modinfo", 1, () => w.str(modinfo));
  if (hasSyms) {
    const symEnt = is64 ? 24 : 16;
    const strIdx = 3; // null, .modinfo, .symtab, .strtab
    place(
      ".symtab",
      2,
      () => {
        for (let i = 0; i < symEnt; i++) w.u8(0);
        for (const s of syms) {
          if (is64) {
            w.u32(s.name, le);
            w.u8(s.info);
            w.u8(0);
            w.u16(s.shndx, le);
            w.u64(0, le);
            w.u64(0, le);
          } else {
            w.u32(s.name, le);
            w.u32(0, le);
            w.u32(0, le);
            w.u8(s.info);
            w.u8(0);
            w.u16(s.shndx, le);
          }
        }
      },
      { link: strIdx, info: 1, entsize: symEnt },
    );
    place(".strtab", 3, () => w.str(strtab.join("")));
  }
  if (ksymtab !== "") place("__ksymtab_strings", 1, () => w.str(ksymtab));
  place(".shstrtab", 3, () => w.str(shstr));
  w.align(8);
  const shoff = w.b.length;
  const shentsize = is64 ? 64 : 40;
  const all = [{ name: 0, type: 0, off: 0, size: 0, link: 0, info: 0, entsize: 0, align: 0 }, ...sections];
  for (const s of all) {
    if (is64) {
      w.u32(s.name, le);
      w.u32(s.type, le);
      w.u64(0, le); // flags
      w.u64(0, le); // addr
      w.u64(s.off, le);
      w.u64(s.size, le);
      w.u32(s.link, le);
      w.u32(s.info, le);
      w.u64(s.align, le);
      w.u64(s.entsize, le);
    } else {
      w.u32(s.name, le);
      w.u32(s.type, le);
      w.u32(0, le);
      w.u32(0, le);
      w.u32(s.off, le);
      w.u32(s.size, le);
      w.u32(s.link, le);
      w.u32(s.info, le);
      w.u32(s.align, le);
      w.u32(s.entsize, le);
    }
  }
  // ELF header
  const h = new W();
  h.str("\x7fELF");
  h.u8(is64 ? 2 : 1);
  h.u8(le ? 1 : 2);
  h.u8(1);
  for (let i = 0; i < 9; i++) h.u8(0);
  h.u16(1, le); // ET_REL
  h.u16(is64 ? 62 : 3, le); // x86-64 / i386
  h.u32(1, le);
  if (is64) {
    h.u64(0, le);
    h.u64(0, le);
    h.u64(shoff, le);
  } else {
    h.u32(0, le);
    h.u32(0, le);
    h.u32(shoff, le);
  }
  h.u32(0, le);
  h.u16(hdrSize, le);
  h.u16(0, le);
  h.u16(0, le);
  h.u16(shentsize, le);
  h.u16(all.length, le);
  h.u16(all.length - 1, le); // .shstrtab is last
  const out = Uint8Array.from(w.b);
  out.set(h.b, 0);
  return out;
}
