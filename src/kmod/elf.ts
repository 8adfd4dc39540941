// The parts of a kernel module's ELF that kmod reads (kmod 30 libkmod/libkmod-elf.c):
// `.modinfo` strings (kmod_elf_get_modinfo_strings), exported symbols (kmod_elf_get_symbols:
// `__crc_*` in .symtab, else the `__ksymtab_strings` section) and the undefined symbols a module
// needs (kmod_elf_get_dependency_symbols: SHN_UNDEF entries of .symtab, weak or global).
// ELF32/ELF64, little or big endian. Malformed input raises KbindError with a file offset.
import { KbindError } from "../model/errors.ts";

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfFile {
  file: string;
  bytes: Uint8Array;
  is64: boolean;
  le: boolean;
  sections: ElfSection[];
}

function fail(file: string, offset: number, what: string): KbindError {
  return new KbindError("BAD_ELF", `${file}: ${what}`, { file, offset });
}

/** kmod_elf_new: header and section table checks. */
export function parseElf(bytes: Uint8Array, file = "module.ko"): ElfFile {
  if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw fail(file, 0, "not an ELF file (bad magic)");
  const cls = bytes[4];
  const data = bytes[5];
  if (cls !== 1 && cls !== 2) throw fail(file, 4, `invalid ELF class ${cls}`);
  if (data !== 1 && data !== 2) throw fail(file, 5, `invalid ELF data encoding ${data}`);
  const is64 = cls === 2;
  const le = data === 1;
  const hdrSize = is64 ? 64 : 52;
  if (bytes.length < hdrSize) throw fail(file, 0, `truncated ELF header (${bytes.length} < ${hdrSize} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number): number => dv.getUint16(o, le);
  const u32 = (o: number): number => dv.getUint32(o, le);
  const uN = (o: number): number => (is64 ? Number(dv.getBigUint64(o, le)) : dv.getUint32(o, le));
  const shoff = is64 ? uN(0x28) : u32(0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  const minEnt = is64 ? 64 : 40;
  if (shnum === 0) throw fail(file, shoff, "no section headers");
  if (shentsize < minEnt) throw fail(file, is64 ? 0x3a : 0x2e, `section header size ${shentsize} too small`);
  if (shoff + shnum * shentsize > bytes.length) throw fail(file, shoff, `section headers (${shnum} × ${shentsize} at ${shoff}) run past the end of the file`);
  if (shstrndx >= shnum) throw fail(file, is64 ? 0x3e : 0x32, `section name table index ${shstrndx} out of range`);
  const raw: Omit<ElfSection, "name">[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const b = shoff + i * shentsize;
    nameOffs.push(u32(b));
    const type = u32(b + 4);
    const offset = is64 ? uN(b + 0x18) : u32(b + 0x10);
    const size = is64 ? uN(b + 0x20) : u32(b + 0x14);
    const link = u32(is64 ? b + 0x28 : b + 0x18);
    const entsize = is64 ? uN(b + 0x38) : u32(b + 0x24);
    // SHT_NOBITS (8) occupies no file space.
    if (type !== 8 && type !== 0 && offset + size > bytes.length) throw fail(file, b, `section ${i} (${offset}+${size}) runs past the end of the file`);
    raw.push({ type, offset, size, link, entsize });
  }
  const strs = raw[shstrndx]!;
  const sections = raw.map((s, i) => ({ ...s, name: cstrAt(bytes, strs.offset + nameOffs[i]!, strs.offset + strs.size, file) }));
  return { file, bytes, is64, le, sections };
}

function cstrAt(b: Uint8Array, at: number, limit: number, file: string): string {
  if (at >= limit) throw fail(file, at, `string offset ${at} outside its table`);
  let end = at;
  while (end < limit && b[end] !== 0) end++;
  let s = "";
  for (let i = at; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** kmod_elf_get_modinfo_strings + kmod_module_get_info: [key, value] in file order (empty strings skipped). */
export function readModinfo(elf: ElfFile): [string, string][] {
  const sec = findSection(elf, ".modinfo");
  if (!sec) return [];
  const out: [string, string][] = [];
  const b = elf.bytes;
  let i = sec.offset;
  const end = sec.offset + sec.size;
  while (i < end) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < end && b[j] !== 0) j++;
    let s = "";
    for (let k = i; k < j; k++) s += String.fromCharCode(b[k]!);
    const eq = s.indexOf("=");
    out.push(eq < 0 ? [s, ""] : [s.slice(0, eq), s.slice(eq + 1)]);
    i = j + 1;
  }
  return out;
}

interface SymEntry {
  name: string;
  shndx: number;
  bind: number;
}

function readSymtab(elf: ElfFile): SymEntry[] | null {
  const sym = findSection(elf, ".symtab");
  if (!sym) return null;
  const str = elf.sections[sym.link];
  if (!str) throw fail(elf.file, sym.offset, ".symtab links to a missing string table");
  const entsize = elf.is64 ? 24 : 16;
  const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  const out: SymEntry[] = [];
  const n = Math.floor(sym.size / entsize);
  const strEnd = str.offset + str.size;
  for (let i = 1; i < n; i++) {
    const o = sym.offset + i * entsize;
    const nameOff = dv.getUint32(o, elf.le);
    const info = elf.is64 ? elf.bytes[o + 4]! : elf.bytes[o + 12]!;
    const shndx = elf.is64 ? dv.getUint16(o + 6, elf.le) : dv.getUint16(o + 14, elf.le);
    if (nameOff === 0) continue;
    out.push({ name: cstrAt(elf.bytes, str.offset + nameOff, strEnd, elf.file), shndx, bind: info >> 4 });
  }
  return out;
}

/** kmod_elf_get_symbols: exported symbol names. */
export function readExports(elf: ElfFile): string[] {
  const syms = readSymtab(elf);
  if (syms) {
    const crcs = syms.filter((s) => s.name.startsWith("__crc_")).map((s) => s.name.slice("__crc_".length));
    if (crcs.length > 0) return crcs;
  }
  const ks = findSection(elf, "__ksymtab_strings");
  if (!ks) return [];
  const out: string[] = [];
  const b = elf.bytes;
  let i = ks.offset;
  const end = ks.offset + ks.size;
  while (i < end) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < end && b[j] !== 0) j++;
    let s = "";
    for (let k = i; k < j; k++) s += String.fromCharCode(b[k]!);
    out.push(s);
    i = j + 1;
  }
  return out;
}

const STB_GLOBAL = 1;
const STB_WEAK = 2;

/** kmod_elf_get_dependency_symbols: undefined global/weak symbols. */
export function readNeeds(elf: ElfFile): { name: string; weak: boolean }[] {
  const syms = readSymtab(elf);
  if (!syms) return [];
  const out: { name: string; weak: boolean }[] = [];
  for (const s of syms) {
    if (s.shndx !== 0) continue;
    if (s.bind !== STB_GLOBAL && s.bind !== STB_WEAK) continue;
    out.push({ name: s.name, weak: s.bind === STB_WEAK });
  }
  return out;
}
