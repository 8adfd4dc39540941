// The alias side of module autoloading: what modpost's scripts/mod/file2alias.c writes into a module's
// .modinfo (MODULE_ALIAS) for each entry of its MODULE_DEVICE_TABLE, byte for byte, as of Linux 6.1
// (the kernel of data/debian). depmod copies these strings into modules.alias; kmod fnmatch()es them
// against a device's modalias (src/kmod/fnmatch.ts).
//
// ADD(str, sep, cond, field) (file2alias.c): append `sep`, then the field in upper-case hex as wide as
// the C type (%02X for u8, %04X for u16, %08X for u32) when `cond`, else `*`.
// add_wildcard(): append `*` unless the string already ends with one.
import { KbindError } from "./errors.ts";
import type { AcpiDeviceId } from "./acpi.ts";
import type { OfDeviceId } from "./of.ts";
import { PCI_ANY_ID, PCI_ID_F_VFIO_DRIVER_OVERRIDE, type PciDeviceId } from "./pci.ts";
import type { PlatformDeviceId } from "./platform.ts";
import {
  USB_DEVICE_ID_MATCH_DEV_CLASS,
  USB_DEVICE_ID_MATCH_DEV_HI,
  USB_DEVICE_ID_MATCH_DEV_LO,
  USB_DEVICE_ID_MATCH_DEV_PROTOCOL,
  USB_DEVICE_ID_MATCH_DEV_SUBCLASS,
  USB_DEVICE_ID_MATCH_INT_CLASS,
  USB_DEVICE_ID_MATCH_INT_NUMBER,
  USB_DEVICE_ID_MATCH_INT_PROTOCOL,
  USB_DEVICE_ID_MATCH_INT_SUBCLASS,
  USB_DEVICE_ID_MATCH_PRODUCT,
  USB_DEVICE_ID_MATCH_VENDOR,
  type UsbDeviceId,
} from "./usb.ts";
import { VIRTIO_DEV_ANY_ID, type VirtioDeviceId } from "./virtio.ts";

/** Sizes of the char arrays in include/linux/mod_devicetable.h (6.1), NUL included. */
export const OF_NAME_SIZE = 32;
export const OF_TYPE_SIZE = 32;
export const OF_COMPATIBLE_SIZE = 128;
export const ACPI_ID_LEN = 16;
export const PLATFORM_NAME_SIZE = 24;

const hex = (v: number, width: number): string => (v >>> 0).toString(16).toUpperCase().padStart(width, "0");

function checkU32(v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new KbindError("BAD_ID_FIELD", `${field} = ${String(v)} is not a __u32`, {});
  }
}

/** UTF-8 byte length, as the string would occupy in a C char array. */
function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** A string field of a device id: no NUL inside, and it must fit its char array with the NUL. */
function checkStr(s: string, size: number, field: string): void {
  const z = s.indexOf("\0");
  if (z >= 0) throw new KbindError("BAD_ID_STRING", `${field} contains a NUL byte`, { offset: z });
  if (byteLength(s) > size - 1) {
    throw new KbindError("BAD_ID_STRING", `${field} is ${byteLength(s)} bytes; the C array holds ${size - 1} plus NUL`, {
      offset: size - 1,
    });
  }
}

function addField(sep: string, cond: boolean, v: number, width: number): string {
  return sep + (cond ? hex(v, width) : "*");
}

function addWildcard(s: string): string {
  return s.endsWith("*") ? s : s + "*";
}

/** A class-mask byte file2alias cannot express (neither 0x00 nor 0xFF). */
export function pciClassMaskExpressible(classMask: number): boolean {
  for (const sh of [16, 8, 0]) {
    const m = (classMask >>> sh) & 0xff;
    if (m !== 0 && m !== 0xff) return false;
  }
  return true;
}

/**
 * do_pci_entry(): "pci:" (or "vfio_pci:" for PCI_ID_F_VFIO_DRIVER_OVERRIDE) v d sv sd as %08X or `*`,
 * then bc sc i as %02X when that class-mask byte is 0xFF, `*` when 0x00. [] when a mask byte is anything
 * else ("Can't handle masks") or override_only is unknown ("Unknown PCI driver_override alias"): modpost
 * warns and writes no alias. Only the low 24 bits of class/class_mask count (u8 casts).
 */
export function pciAliases(id: PciDeviceId): string[] {
  for (const [k, v] of [["vendor", id.vendor], ["device", id.device], ["subvendor", id.subvendor], ["subdevice", id.subdevice], ["class", id.class], ["class_mask", id.classMask], ["override_only", id.overrideOnly]] as const) {
    checkU32(v, k);
  }
  let prefix: string;
  if (id.overrideOnly === 0) prefix = "pci:";
  else if (id.overrideOnly === PCI_ID_F_VFIO_DRIVER_OVERRIDE) prefix = "vfio_pci:";
  else return [];
  if (!pciClassMaskExpressible(id.classMask)) return [];
  let s = prefix;
  s += addField("v", id.vendor !== PCI_ANY_ID, id.vendor, 8);
  s += addField("d", id.device !== PCI_ANY_ID, id.device, 8);
  s += addField("sv", id.subvendor !== PCI_ANY_ID, id.subvendor, 8);
  s += addField("sd", id.subdevice !== PCI_ANY_ID, id.subdevice, 8);
  const cls = id.class >>> 0;
  const msk = id.classMask >>> 0;
  s += addField("bc", ((msk >>> 16) & 0xff) === 0xff, (cls >>> 16) & 0xff, 2);
  s += addField("sc", ((msk >>> 8) & 0xff) === 0xff, (cls >>> 8) & 0xff, 2);
  s += addField("i", (msk & 0xff) === 0xff, cls & 0xff, 2);
  return [addWildcard(s)];
}

/** isspace() in the C locale: space, \t \n \v \f \r. */
function cSpacesToUnderscore(s: string): string {
  return s.replace(/[ \t\n\v\f\r]/g, "_");
}

/**
 * do_of_entry_multi(): "of:N<name or *>T<type or *>", then "C<compatible>" (preceded by `*` when a type
 * is given) when there is a compatible; every C whitespace becomes `_`. Two aliases: that string, and
 * that string + "C" + wildcard (for devices whose compatible list continues after this one).
 */
export function ofAliases(id: OfDeviceId): string[] {
  checkStr(id.name, OF_NAME_SIZE, "of_device_id.name");
  checkStr(id.type, OF_TYPE_SIZE, "of_device_id.type");
  checkStr(id.compatible, OF_COMPATIBLE_SIZE, "of_device_id.compatible");
  let s = `of:N${id.name !== "" ? id.name : "*"}T${id.type !== "" ? id.type : "*"}`;
  if (id.compatible !== "") s += `${id.type !== "" ? "*" : ""}C${id.compatible}`;
  s = cSpacesToUnderscore(s);
  return [s, addWildcard(s + "C")];
}

/**
 * do_acpi_entry(): an id gives "acpi*:<id>:*"; without an id, the class form "acpi*:bbsspp:*" with
 * lower-case %02x for each byte whose mask byte is non-zero and "??" otherwise.
 */
export function acpiAliases(id: AcpiDeviceId): string[] {
  checkStr(id.id, ACPI_ID_LEN, "acpi_device_id.id");
  checkU32(id.cls, "cls");
  checkU32(id.clsMask, "cls_msk");
  if (id.id !== "") return [`acpi*:${id.id}:*`];
  let s = "acpi*:";
  for (const sh of [16, 8, 0]) {
    const msk = (id.clsMask >>> sh) & 0xff;
    s += msk !== 0 ? ((id.cls >>> sh) & 0xff).toString(16).padStart(2, "0") : "??";
  }
  return [s + ":*"];
}

/** do_platform_entry(): PLATFORM_MODULE_PREFIX "platform:" + name, no wildcard. */
export function platformAliases(id: PlatformDeviceId): string[] {
  checkStr(id.name, PLATFORM_NAME_SIZE, "platform_device_id.name");
  return [`platform:${id.name}`];
}

/** do_virtio_entry(): "virtio:" d v as %08X or `*` (VIRTIO_DEV_ANY_ID), then a wildcard. */
export function virtioAliases(id: VirtioDeviceId): string[] {
  checkU32(id.device, "device");
  checkU32(id.vendor, "vendor");
  let s = "virtio:";
  s += addField("d", id.device !== VIRTIO_DEV_ANY_ID, id.device, 8);
  s += addField("v", id.vendor !== VIRTIO_DEV_ANY_ID, id.vendor, 8);
  return [addWildcard(s)];
}

// ---- USB: do_usb_entry_multi() / do_usb_entry() / incbcd() -------------------------------------------

/** incbcd(): step a BCD (max 9) or hex (max 0xf) number by ±1 over `chars` digits; returns [old, new]. */
function incbcd(bcd: number, inc: number, max: number, chars: number): [number, number] {
  const init = bcd >>> 0;
  if (max > 0x9) return [init, (bcd + inc) >>> 0];
  let dec = 0n;
  for (let i = 0; i < chars; i++) {
    let c = BigInt((bcd >>> (i << 2)) & 0xf);
    if (c > 9n) c = 9n; // force to bcd just in case
    dec += c * 10n ** BigInt(i);
  }
  dec = (dec + BigInt(inc)) & 0xffffffffffffffffn; // unsigned long long
  let out = 0;
  for (let i = 0; i < chars; i++) out += Number((dec / 10n ** BigInt(i)) % 10n) << (i << 2);
  return [init, out >>> 0];
}

function usbEntry(id: UsbDeviceId, initial: number, initialDigits: number, lo: number, hi: number, max: number): string {
  const f = id.matchFlags;
  let s = "usb:";
  s += addField("v", (f & USB_DEVICE_ID_MATCH_VENDOR) !== 0, id.idVendor, 4);
  s += addField("p", (f & USB_DEVICE_ID_MATCH_PRODUCT) !== 0, id.idProduct, 4);
  s += "d";
  if (initialDigits !== 0) s += hex(initial, initialDigits);
  const X = (v: number): string => v.toString(16).toUpperCase();
  if (lo === hi) s += X(lo);
  else if (lo > 0 || hi < max) {
    if (lo > 0x9 || hi < 0xa) s += `[${X(lo)}-${X(hi)}]`;
    else {
      s += lo < 0x9 ? `[${X(lo)}-9` : `[${X(lo)}`;
      s += hi > 0xa ? `A-${X(hi)}]` : `${X(hi)}]`;
    }
  }
  if (initialDigits < 3) s += "*";
  s += addField("dc", (f & USB_DEVICE_ID_MATCH_DEV_CLASS) !== 0, id.bDeviceClass, 2);
  s += addField("dsc", (f & USB_DEVICE_ID_MATCH_DEV_SUBCLASS) !== 0, id.bDeviceSubClass, 2);
  s += addField("dp", (f & USB_DEVICE_ID_MATCH_DEV_PROTOCOL) !== 0, id.bDeviceProtocol, 2);
  s += addField("ic", (f & USB_DEVICE_ID_MATCH_INT_CLASS) !== 0, id.bInterfaceClass, 2);
  s += addField("isc", (f & USB_DEVICE_ID_MATCH_INT_SUBCLASS) !== 0, id.bInterfaceSubClass, 2);
  s += addField("ip", (f & USB_DEVICE_ID_MATCH_INT_PROTOCOL) !== 0, id.bInterfaceProtocol, 2);
  s += addField("in", (f & USB_DEVICE_ID_MATCH_INT_NUMBER) !== 0, id.bInterfaceNumber, 2);
  return addWildcard(s);
}

/**
 * do_usb_entry_multi(): the bcdDevice range [lo, hi] (USB_DEVICE_ID_MATCH_DEV_LO/HI, else 0..~0) becomes
 * one or more fnmatch patterns over the 4 BCD (or hex, when a digit exceeds 9) digits after "d"; an entry
 * with vendor, product, device class and interface class all zero gets no alias (visor's placeholders).
 */
export function usbAliases(id: UsbDeviceId): string[] {
  const u16f = [id.matchFlags, id.idVendor, id.idProduct, id.bcdDeviceLo, id.bcdDeviceHi];
  const u8f = [id.bDeviceClass, id.bDeviceSubClass, id.bDeviceProtocol, id.bInterfaceClass, id.bInterfaceSubClass, id.bInterfaceProtocol, id.bInterfaceNumber];
  for (const v of u16f) if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new KbindError("BAD_ID_FIELD", `usb_device_id field ${String(v)} is not a __u16`, {});
  for (const v of u8f) if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new KbindError("BAD_ID_FIELD", `usb_device_id field ${String(v)} is not a __u8`, {});
  let devlo = (id.matchFlags & USB_DEVICE_ID_MATCH_DEV_LO) !== 0 ? id.bcdDeviceLo : 0;
  let devhi = (id.matchFlags & USB_DEVICE_ID_MATCH_DEV_HI) !== 0 ? id.bcdDeviceHi : 0xffffffff;
  let max = 0x9;
  for (let nd = 0; nd < 4; nd++) {
    const clo = (devlo >>> (nd << 2)) & 0xf;
    const chi = ((devhi > 0x9999 ? 0x9999 : devhi) >>> (nd << 2)) & 0xf;
    if (clo > max || chi > max) {
      max = 0xf;
      break;
    }
  }
  if ((id.idVendor | id.idProduct | id.bDeviceClass | id.bInterfaceClass) === 0) return [];
  const out: string[] = [];
  for (let nd = 3; devlo <= devhi; nd--) {
    const clo = devlo & 0xf;
    let chi = devhi & 0xf;
    if (chi > max) chi = max;
    devlo >>>= 4;
    devhi >>>= 4;
    if (devlo === devhi || nd === 0) {
      out.push(usbEntry(id, devlo, nd, clo, chi, max));
      break;
    }
    if (clo > 0) {
      const [old, next] = incbcd(devlo, 1, max, 4);
      devlo = next;
      out.push(usbEntry(id, old, nd, clo, max, max));
    }
    if (chi < max) {
      const [old, next] = incbcd(devhi, -1, max, 4);
      devhi = next;
      out.push(usbEntry(id, old, nd, 0, chi, max));
    }
  }
  return out;
}
