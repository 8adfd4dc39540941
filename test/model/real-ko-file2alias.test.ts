// file2alias against the real modpost: for every .ko of Debian 12's 6.1 kernels (amd64 and arm64, unpacked
// by scripts/fetch-debian-kernel.sh into .cache/debian), read each MODULE_DEVICE_TABLE straight from the
// ELF (symbols `__mod_<type>__<name>_device_table`, as modpost's handle_moddevtable finds them), turn every
// entry but the terminator into aliases with src/model/file2alias.ts, and check they are exactly among the
// module's own `.modinfo` alias= strings (which the real modpost wrote). Types: pci, of, acpi, platform,
// virtio, usb. Layouts are those of include/linux/mod_devicetable.h on LP64 little-endian.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findSection, parseElf, readModinfo, type ElfFile } from "../../src/kmod/elf.ts";
import { acpiAliases, ofAliases, pciAliases, platformAliases, usbAliases, virtioAliases } from "../../src/model/file2alias.ts";

const cacheRoot = join(import.meta.dirname, "../../.cache/debian");

function kernelDirs(): { arch: string; dir: string }[] {
  if (!existsSync(cacheRoot)) return [];
  const out: { arch: string; dir: string }[] = [];
  for (const pkg of readdirSync(cacheRoot)) {
    const mods = join(cacheRoot, pkg, "root/lib/modules");
    if (!existsSync(mods)) continue;
    for (const k of readdirSync(mods)) if (existsSync(join(mods, k, "kernel"))) out.push({ arch: k, dir: join(mods, k, "kernel") });
  }
  return out;
}

function walk(dir: string, acc: string[]): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, acc);
    else if (e.endsWith(".ko")) acc.push(p);
  }
  return acc;
}

interface Table {
  type: string;
  bytes: Uint8Array;
}

/** handle_moddevtable(): symbols "__mod_<type>__<name>_device_table" and the bytes they cover. */
function deviceTables(elf: ElfFile): Table[] {
  const sym = findSection(elf, ".symtab");
  if (!sym) return [];
  const str = elf.sections[sym.link]!;
  const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  const out: Table[] = [];
  for (let o = sym.offset + 24; o + 24 <= sym.offset + sym.size; o += 24) {
    const nameOff = dv.getUint32(o, true);
    let e = str.offset + nameOff;
    let name = "";
    while (elf.bytes[e] !== 0 && name.length < 200) name += String.fromCharCode(elf.bytes[e++]!);
    if (!name.startsWith("__mod_") || !name.endsWith("_device_table")) continue;
    const type = name.slice(6, name.indexOf("__", 6));
    const shndx = dv.getUint16(o + 6, true);
    const value = Number(dv.getBigUint64(o + 8, true));
    const size = Number(dv.getBigUint64(o + 16, true));
    const sec = elf.sections[shndx];
    if (!sec || sec.type === 8) continue; // SHT_NOBITS: nothing in the file
    out.push({ type, bytes: elf.bytes.subarray(sec.offset + value, sec.offset + value + size) });
  }
  return out;
}

function cstr(b: Uint8Array, at: number, len: number): string {
  let s = "";
  for (let i = at; i < at + len && b[i] !== 0; i++) s += String.fromCharCode(b[i]!);
  return s;
}

const SIZES: Record<string, number> = { pci: 40, of: 200, acpi: 32, platform: 32, virtio: 8, usb: 32 };

/** The aliases modpost writes for one table: every entry but the last (the terminator). */
function aliasesOf(t: Table): string[] {
  const size = SIZES[t.type]!;
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const b = t.bytes;
  const out: string[] = [];
  for (let at = 0; at < t.bytes.length - size; at += size) {
    const u32 = (o: number): number => dv.getUint32(at + o, true);
    const u16 = (o: number): number => dv.getUint16(at + o, true);
    switch (t.type) {
      case "pci":
        out.push(...pciAliases({ vendor: u32(0), device: u32(4), subvendor: u32(8), subdevice: u32(12), class: u32(16), classMask: u32(20), driverData: 0, overrideOnly: u32(32) }));
        break;
      case "of":
        out.push(...ofAliases({ name: cstr(b, at, 32), type: cstr(b, at + 32, 32), compatible: cstr(b, at + 64, 128) }));
        break;
      case "acpi":
        out.push(...acpiAliases({ id: cstr(b, at, 16), cls: u32(24), clsMask: u32(28) }));
        break;
      case "platform":
        out.push(...platformAliases({ name: cstr(b, at, 24), driverData: 0 }));
        break;
      case "virtio":
        out.push(...virtioAliases({ device: u32(0), vendor: u32(4) }));
        break;
      case "usb":
        out.push(
          ...usbAliases({
            matchFlags: u16(0), idVendor: u16(2), idProduct: u16(4), bcdDeviceLo: u16(6), bcdDeviceHi: u16(8),
            bDeviceClass: b[at + 10]!, bDeviceSubClass: b[at + 11]!, bDeviceProtocol: b[at + 12]!,
            bInterfaceClass: b[at + 13]!, bInterfaceSubClass: b[at + 14]!, bInterfaceProtocol: b[at + 15]!, bInterfaceNumber: b[at + 16]!,
          }),
        );
        break;
    }
  }
  return out;
}

const dirs = kernelDirs();

describe("file2alias.ts vs the real modpost, on every module of Debian 6.1 amd64 and arm64", () => {
  it.skipIf(dirs.length === 0)(
    "has both kernels unpacked (skipped only when .cache/debian is absent: run scripts/fetch-debian-kernel.sh amd64 and arm64)",
    () => {
      expect(dirs.map((d) => d.arch).sort()).toEqual(["6.1.0-56-amd64", "6.1.0-56-arm64"]);
    },
  );

  it.skipIf(dirs.length === 0).each(dirs)("$arch: every device-table entry's aliases are the module's own alias= strings", ({ dir }) => {
    const files = walk(dir, []);
    const perType: Record<string, number> = {};
    const problems: string[] = [];
    let modules = 0;
    for (const f of files) {
      const elf = parseElf(new Uint8Array(readFileSync(f)), f);
      const tables = deviceTables(elf).filter((t) => t.type in SIZES);
      if (tables.length === 0) continue;
      modules++;
      const have = new Map<string, number>();
      for (const [k, v] of readModinfo(elf)) if (k === "alias") have.set(v, (have.get(v) ?? 0) + 1);
      for (const t of tables) {
        if (t.bytes.length % SIZES[t.type]! !== 0) {
          problems.push(`${f}: ${t.type} table of ${t.bytes.length} bytes is not a multiple of ${SIZES[t.type]}`);
          continue;
        }
        for (const a of aliasesOf(t)) {
          perType[t.type] = (perType[t.type] ?? 0) + 1;
          const n = have.get(a) ?? 0;
          if (n === 0) problems.push(`${f.slice(dir.length)}: ${t.type}: generated ${a}, not in .modinfo`);
          else have.set(a, n - 1);
        }
      }
    }
    expect(problems.slice(0, 15)).toEqual([]);
    expect(modules).toBeGreaterThan(1000);
    for (const t of ["pci", "of", "acpi", "platform", "usb"]) expect(perType[t] ?? 0).toBeGreaterThan(50);
    // As many as modules.alias has lines of these buses (amd64: pci 8969, usb 8567; arm64: 6160, 8242).
    expect(perType.pci).toBeGreaterThan(6000);
    expect(perType.usb).toBeGreaterThan(8000);
  });
});
