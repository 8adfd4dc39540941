// The parts of a kernel module's ELF that kmod reads (kmod 30 libkmod/libkmod-elf.c):
// `.modinfo` strings (kmod_elf_get_modinfo_strings), exported symbols (kmod_elf_get_symbols:
// `__crc_*` in .symtab, else the `__ksymtab_strings` section) and the undefined symbols a module
// needs (kmod_elf_get_dependency_symbols: SHN_UNDEF entries of .symtab, weak or global).
// ELF32/ELF64, little or big endian. Malformed input raises KbindError with a file offset.
import { KbindError } from "../model/errors.ts";
import { bytesToLatin1 } from "./bytes.ts";
import type { SymbolNames } from "./symbol-names.ts";

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

/** e_ident and header size checks shared by both readers: class (32/64) and byte order. */
function elfIdent(bytes: Uint8Array, file: string): { is64: boolean; le: boolean } {
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
  return { is64, le };
}

/** kmod_elf_new: header and section table checks. */
export function parseElf(bytes: Uint8Array, file = "module.ko"): ElfFile {
  const { is64, le } = elfIdent(bytes, file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number): number => dv.getUint16(o, le);
  const u32 = (o: number): number => dv.getUint32(o, le);
  // 64-bit fields as two 32-bit halves (BigInt reads are slow); offsets beyond 2^53 cannot occur.
  const uN = (o: number): number => (is64 ? (le ? dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296 : dv.getUint32(o, false) * 4294967296 + dv.getUint32(o + 4, false)) : dv.getUint32(o, le));
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
  return String.fromCharCode.apply(null, b.subarray(at, cstrEnd(b, at, limit, file)) as unknown as number[]);
}

/** Where the NUL-terminated string at `at` of a table ending at `limit` ends. */
function cstrEnd(b: Uint8Array, at: number, limit: number, file: string): number {
  const stop = cstrStop(b, at, limit, file);
  let end = at;
  while (end < stop && b[end] !== 0) end++;
  return end;
}

/**
 * Where a string at `at` of a table ending at `limit` must stop if no NUL comes first. Bytes past
 * the end of the file read as non-NUL (undefined) up to `limit`, but add nothing to the string:
 * stop at the file's end (a section whose size is not checked can be huge).
 */
function cstrStop(b: Uint8Array, at: number, limit: number, file: string): number {
  if (at >= limit) throw fail(file, at, `string offset ${at} outside its table`);
  return Math.min(limit, b.length);
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

// clampEnd: a NOBITS/NULL section's size is not checked against the file, so a corrupt one can
// claim terabytes. Scanning NUL-separated strings past the file's end gives one last string of the
// bytes left (a byte past the end is not NUL) and then stops, so ending the scan one byte past the
// file gives the same strings without the endless loop.

/**
 * Symbols in a table of `size` bytes at `offset`: entries starting past the end of the file read
 * as name offset 0 (skipped), so counting only up to the file's end gives the same symbols.
 */
function symbolCount(offset: number, size: number, entsize: number, fileLength: number): number {
  const n = Math.floor(size / entsize);
  if (offset >= fileLength) return Math.min(n, 1);
  return Math.min(n, Math.floor((fileLength - 1 - offset) / entsize) + 1);
}

/** kmod_elf_get_modinfo_strings + kmod_module_get_info: [key, value] in file order (empty strings skipped). */
export function readModinfo(elf: ElfFile): [string, string][] {
  const sec = findSection(elf, ".modinfo");
  if (!sec) return [];
  const out: [string, string][] = [];
  const b = elf.bytes;
  let i = sec.offset;
  const end = Math.min(sec.offset + sec.size, b.length + 1); // see clampEnd
  while (i < end) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < end && b[j] !== 0) j++;
    const s = String.fromCharCode.apply(null, b.subarray(i, j) as unknown as number[]);
    const eq = s.indexOf("=");
    out.push(eq < 0 ? [s, ""] : [s.slice(0, eq), s.slice(eq + 1)]);
    i = j + 1;
  }
  return out;
}

export interface ElfSymbols {
  /** Names of `__crc_<sym>` symbols with the prefix removed (modversions exports). */
  crcs: string[];
  /** Undefined global/weak symbols, in table order. */
  needs: { name: string; weak: boolean }[];
}

const CRC = [0x5f, 0x5f, 0x63, 0x72, 0x63, 0x5f]; // "__crc_"
const STB_GLOBAL = 1;
const STB_WEAK = 2;

/** One pass over .symtab; names are decoded only for the symbols kmod keeps. */
export function readSymbols(elf: ElfFile): ElfSymbols | null {
  const sym = findSection(elf, ".symtab");
  if (!sym) return null;
  const str = elf.sections[sym.link];
  if (!str) throw fail(elf.file, sym.offset, ".symtab links to a missing string table");
  const b = elf.bytes;
  const entsize = elf.is64 ? 24 : 16;
  const n = symbolCount(sym.offset, sym.size, entsize, b.length);
  const strEnd = str.offset + str.size;
  const crcs: string[] = [];
  const needs: { name: string; weak: boolean }[] = [];
  const le = elf.le;
  for (let i = 1; i < n; i++) {
    const o = sym.offset + i * entsize;
    const nameOff = le ? b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24) : (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    if (nameOff === 0) continue;
    const info = elf.is64 ? b[o + 4]! : b[o + 12]!;
    const so = elf.is64 ? o + 6 : o + 14;
    const shndx = le ? b[so]! | (b[so + 1]! << 8) : (b[so]! << 8) | b[so + 1]!;
    const at = str.offset + (nameOff >>> 0);
    if (shndx === 0) {
      const bind = info >> 4;
      if (bind === STB_GLOBAL || bind === STB_WEAK) needs.push({ name: cstrAt(b, at, strEnd, elf.file), weak: bind === STB_WEAK });
      continue;
    }
    if (at + 6 <= strEnd && b[at] === CRC[0] && b[at + 1] === CRC[1] && b[at + 2] === CRC[2] && b[at + 3] === CRC[3] && b[at + 4] === CRC[4] && b[at + 5] === CRC[5])
      crcs.push(cstrAt(b, at + 6, strEnd, elf.file));
  }
  return { crcs, needs };
}

function ksymtabStrings(elf: ElfFile): string[] {
  const ks = findSection(elf, "__ksymtab_strings");
  return ks ? nulStrings(elf.bytes, ks.offset, ks.offset + ks.size) : [];
}

/** kmod_elf_get_symbols: exported symbol names (`__crc_*` in .symtab, else __ksymtab_strings). */
export function readExports(elf: ElfFile, syms: ElfSymbols | null = readSymbols(elf)): string[] {
  if (syms && syms.crcs.length > 0) return syms.crcs;
  return ksymtabStrings(elf);
}

/** kmod_elf_get_dependency_symbols: undefined global/weak symbols. */
export function readNeeds(elf: ElfFile, syms: ElfSymbols | null = readSymbols(elf)): { name: string; weak: boolean }[] {
  return syms ? syms.needs : [];
}

/**
 * What depmod takes from a module's ELF (kmod_elf_get_modinfo_strings, _get_symbols,
 * _get_dependency_symbols), symbol names as ids in a SymbolNames table. A needed symbol's binding
 * (weak or global) is not kept: depmod only uses it to word `-e` warnings.
 */
export interface ElfModuleInfo {
  modinfo: [string, string][];
  exports: Int32Array;
  needs: Int32Array;
}

const NAME_MODINFO = ".modinfo";
const NAME_SYMTAB = ".symtab";
const NAME_KSYMTAB_STRINGS = "__ksymtab_strings";

/** Whether the section name at `at` is `name`, as cstrAt reads it (ended by NUL, the table's end or the file's end). */
function nameIs(b: Uint8Array, at: number, limit: number, name: string): boolean {
  const n = name.length;
  if (at + n > limit) return false;
  for (let i = 0; i < n; i++) if (b[at + i] !== name.charCodeAt(i)) return false;
  return at + n >= limit || at + n >= b.length || b[at + n] === 0;
}

/**
 * parseElf + readSymbols + readModinfo + readExports + readNeeds in one pass, without naming
 * every section: the same checks in the same order (so the same KbindError for a malformed file),
 * the same results, but only .modinfo, .symtab (and its string table) and __ksymtab_strings are
 * looked at — a module has ~50 sections and depmod reads 3 or 4. With `modinfoKeys`, only .modinfo
 * entries with those keys are decoded (depmod reads 4 of the ~15 keys a module has). Symbol names
 * are interned into `symbols` from the bytes, never decoded here.
 * test/kmod/elf-fast.test.ts checks it against the general functions on real and on corrupted modules.
 */
export function readElfModuleInfo(bytes: Uint8Array, file: string, symbols: SymbolNames, modinfoKeys?: readonly string[]): ElfModuleInfo {
  const { is64, le } = elfIdent(bytes, file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = wordN(dv, is64 ? 0x28 : 0x20, is64, le);
  const shentsize = dv.getUint16(is64 ? 0x3a : 0x2e, le);
  const shnum = dv.getUint16(is64 ? 0x3c : 0x30, le);
  const shstrndx = dv.getUint16(is64 ? 0x3e : 0x32, le);
  if (shnum === 0) throw fail(file, shoff, "no section headers");
  if (shentsize < (is64 ? 64 : 40)) throw fail(file, is64 ? 0x3a : 0x2e, `section header size ${shentsize} too small`);
  if (shoff + shnum * shentsize > bytes.length) throw fail(file, shoff, `section headers (${shnum} × ${shentsize} at ${shoff}) run past the end of the file`);
  if (shstrndx >= shnum) throw fail(file, is64 ? 0x3e : 0x32, `section name table index ${shstrndx} out of range`);
  const offAt = is64 ? 0x18 : 0x10;
  const sizeAt = is64 ? 0x20 : 0x14;
  const linkAt = is64 ? 0x28 : 0x18;
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    const type = dv.getUint32(h + 4, le);
    if (type === 8 || type === 0) continue;
    const offset = wordN(dv, h + offAt, is64, le);
    const size = wordN(dv, h + sizeAt, is64, le);
    if (offset + size > bytes.length) throw fail(file, h, `section ${i} (${offset}+${size}) runs past the end of the file`);
  }
  const strsOff = wordN(dv, shoff + shstrndx * shentsize + offAt, is64, le);
  const strsEnd = strsOff + wordN(dv, shoff + shstrndx * shentsize + sizeAt, is64, le);
  let modinfo = -1;
  let symtab = -1;
  let ksymtab = -1;
  for (let i = 0; i < shnum; i++) {
    const at = strsOff + dv.getUint32(shoff + i * shentsize, le);
    if (at >= strsEnd) throw fail(file, at, `string offset ${at} outside its table`);
    const c = bytes[at];
    if (c === 0x2e) {
      if (modinfo < 0 && nameIs(bytes, at, strsEnd, NAME_MODINFO)) modinfo = i;
      else if (symtab < 0 && nameIs(bytes, at, strsEnd, NAME_SYMTAB)) symtab = i;
    } else if (c === 0x5f && ksymtab < 0 && nameIs(bytes, at, strsEnd, NAME_KSYMTAB_STRINGS)) ksymtab = i;
  }

  // readSymbols
  let crcs: number[] | null = null;
  const needs: number[] = [];
  if (symtab >= 0) {
    const link = dv.getUint32(shoff + symtab * shentsize + linkAt, le);
    const symOff = wordN(dv, shoff + symtab * shentsize + offAt, is64, le);
    if (link >= shnum) throw fail(file, symOff, ".symtab links to a missing string table");
    const strOff = wordN(dv, shoff + link * shentsize + offAt, is64, le);
    const strEnd = strOff + wordN(dv, shoff + link * shentsize + sizeAt, is64, le);
    const entsize = is64 ? 24 : 16;
    const n = symbolCount(symOff, wordN(dv, shoff + symtab * shentsize + sizeAt, is64, le), entsize, bytes.length);
    const b = bytes;
    crcs = [];
    for (let i = 1; i < n; i++) {
      const o = symOff + i * entsize;
      const nameOff = le ? b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24) : (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
      if (nameOff === 0) continue;
      const so = is64 ? o + 6 : o + 14;
      const shndx = le ? b[so]! | (b[so + 1]! << 8) : (b[so]! << 8) | b[so + 1]!;
      const at = strOff + (nameOff >>> 0);
      if (shndx === 0) {
        const bind = (is64 ? b[o + 4]! : b[o + 12]!) >> 4;
        if (bind === STB_GLOBAL || bind === STB_WEAK) needs.push(symbols.internCString(b, at, cstrStop(b, at, strEnd, file)));
        continue;
      }
      if (at + 6 <= strEnd && b[at] === 0x5f && b[at + 1] === 0x5f && b[at + 2] === 0x63 && b[at + 3] === 0x72 && b[at + 4] === 0x63 && b[at + 5] === 0x5f)
        crcs.push(symbols.internCString(b, at + 6, cstrStop(b, at + 6, strEnd, file)));
    }
  }
  const sec = (i: number, at: number): number => wordN(dv, shoff + i * shentsize + at, is64, le);
  return {
    modinfo: modinfo < 0 ? [] : modinfoStrings(bytes, sec(modinfo, offAt), sec(modinfo, offAt) + sec(modinfo, sizeAt), modinfoKeys),
    exports: symbols.list(crcs !== null && crcs.length > 0 ? crcs : ksymtab < 0 ? [] : internNulStrings(bytes, sec(ksymtab, offAt), sec(ksymtab, offAt) + sec(ksymtab, sizeAt), symbols)),
    needs: symbols.list(needs),
  };
}

/** An ELF word of the file's class: 64-bit as two 32-bit halves (offsets beyond 2^53 cannot occur). */
function wordN(dv: DataView, o: number, is64: boolean, le: boolean): number {
  if (!is64) return dv.getUint32(o, le);
  return le ? dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296 : dv.getUint32(o, false) * 4294967296 + dv.getUint32(o + 4, false);
}

/**
 * Each NUL-separated string in [start, end) as byte range [i, j), empty ones skipped (a string
 * cut by `end` is kept), mapped by `f`.
 */
function mapNulStrings<T>(b: Uint8Array, start: number, endIn: number, f: (i: number, j: number) => T): T[] {
  const out: T[] = [];
  const end = Math.min(endIn, b.length + 1); // see clampEnd
  let i = start;
  while (i < end) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < end && b[j] !== 0) j++;
    out.push(f(i, Math.min(j, b.length)));
    i = j + 1;
  }
  return out;
}

/** NUL-separated strings in [start, end), decoded (see mapNulStrings). */
function nulStrings(b: Uint8Array, start: number, endIn: number): string[] {
  return mapNulStrings(b, start, endIn, (i, j) => String.fromCharCode.apply(null, b.subarray(i, j) as unknown as number[]));
}

/** nulStrings, interned into `symbols` instead of decoded. */
function internNulStrings(b: Uint8Array, start: number, endIn: number, symbols: SymbolNames): number[] {
  return mapNulStrings(b, start, endIn, (i, j) => symbols.intern(b, i, j));
}

/** .modinfo strings as [key, value] (split at the first '='); only the given keys, if any. */
function modinfoStrings(b: Uint8Array, start: number, endIn: number, keys: readonly string[] | undefined): [string, string][] {
  const end = Math.min(endIn, b.length + 1); // see clampEnd
  // (from, '=' or -1, to, index in `keys` or -1) of the strings kept, then one decode of the
  // section for all; a key from `keys` is that string (no new one per entry).
  const kept: number[] = [];
  let i = start;
  while (i < end) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    let eq = -1;
    for (; j < end; j++) {
      const c = b[j];
      if (c === 0) break;
      if (c === 0x3d && eq < 0) eq = j;
    }
    if (keys === undefined) kept.push(i, eq, j, -1);
    else {
      const k = keyIndex(b, i, eq < 0 ? j : eq, keys);
      if (k >= 0) kept.push(i, eq, j, k);
    }
    i = j + 1;
  }
  const out: [string, string][] = [];
  if (kept.length === 0) return out;
  const text = bytesToLatin1(b, start, Math.min(end, b.length));
  for (let k = 0; k < kept.length; k += 4) {
    const from = kept[k]! - start;
    const eq = kept[k + 1]!;
    const to = kept[k + 2]! - start;
    const key = keys === undefined ? text.slice(from, eq < 0 ? to : eq - start) : keys[kept[k + 3]!]!;
    out.push([key, eq < 0 ? "" : text.slice(eq + 1 - start, to)]);
  }
  return out;
}

/** Which of `keys` bytes [from, to) spell (-1: none). */
function keyIndex(b: Uint8Array, from: number, to: number, keys: readonly string[]): number {
  const n = to - from;
  next: for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k.length !== n) continue;
    for (let x = 0; x < n; x++) if (b[from + x] !== k.charCodeAt(x)) continue next;
    return i;
  }
  return -1;
}
