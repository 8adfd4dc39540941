// Reading a device's modalias back into the identity it was printed from (the device side: pci-sysfs.c
// modalias_show, of_modalias, device_sysfs.c create_pnp_modalias, platform.c modalias_show,
// virtio.c modalias_show). Strict: anything the kernel cannot have printed is a KbindError
// BAD_MODALIAS naming the offset. OF caveat: a modalias does not delimit its strings, so a node name
// with 'T' or a compatible with 'C' cannot be told apart from the separators; like kmod, this reads
// the first 'T' and every 'C' as separators, and '_' may have been a space.
import { KbindError } from "./errors.ts";
import type { OfNode } from "./of.ts";
import type { PciIdentity } from "./pci.ts";
import type { VirtioIdentity } from "./virtio.ts";

export type ParsedModalias =
  | { bus: "pci"; pci: PciIdentity }
  | { bus: "of"; of: OfNode }
  | { bus: "acpi"; acpiIds: string[] }
  | { bus: "platform"; name: string }
  | { bus: "virtio"; virtio: VirtioIdentity };

/** The kernel's modalias and uevent buffers are a page at most (PAGE_SIZE, uevent buf 2048). */
const MAX_MODALIAS = 4096;

function bad(what: string, offset: number): never {
  throw new KbindError("BAD_MODALIAS", what, { offset });
}

function isHexUpper(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
}

/** Reads `sep` then exactly `width` upper-case hex digits at `pos`; returns [value, next position]. */
function hexField(s: string, pos: number, sep: string, width: number): [number, number] {
  if (!s.startsWith(sep, pos)) bad(`expected "${sep}"`, pos);
  pos += sep.length;
  for (let k = 0; k < width; k++) {
    if (!isHexUpper(s.charCodeAt(pos + k))) bad(`expected ${width} upper-case hex digits after "${sep}"`, pos + k);
  }
  return [parseInt(s.slice(pos, pos + width), 16), pos + width];
}

/** "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X"; ids must fit the device's u16 fields. */
export function parsePciModalias(s: string): PciIdentity {
  if (!s.startsWith("pci:")) bad('expected "pci:"', 0);
  let pos = 4;
  const out: number[] = [];
  for (const [sep, width] of [["v", 8], ["d", 8], ["sv", 8], ["sd", 8], ["bc", 2], ["sc", 2], ["i", 2]] as const) {
    const start = pos + sep.length;
    const [v, next] = hexField(s, pos, sep, width);
    if (width === 8 && v > 0xffff) bad(`"${sep}" ${s.slice(start, next)} does not fit the device's 16-bit field`, start);
    out.push(v);
    pos = next;
  }
  if (pos !== s.length) bad("unexpected text after the interface byte", pos);
  const [vendor, device, subvendor, subdevice, bc, sc, i] = out as [number, number, number, number, number, number, number];
  return { vendor, device, subvendor, subdevice, class: (bc << 16) | (sc << 8) | i };
}

/** "virtio:d%08Xv%08X". */
export function parseVirtioModalias(s: string): VirtioIdentity {
  if (!s.startsWith("virtio:")) bad('expected "virtio:"', 0);
  const [device, p1] = hexField(s, 7, "d", 8);
  const [vendor, p2] = hexField(s, p1, "v", 8);
  if (p2 !== s.length) bad("unexpected text after the vendor", p2);
  return { device, vendor };
}

/**
 * "of:N<name>T<type>" then "C<compatible>" per string. A type of "(null)" (no device_type property) gives
 * type null; the ACPI PRP0001 form has an empty type ("T" directly followed by "C" or the end).
 */
export function parseOfModalias(s: string): OfNode {
  if (!s.startsWith("of:N")) bad('expected "of:N"', Math.min(s.length, s.startsWith("of:") ? 3 : 0));
  const t = s.indexOf("T", 4);
  if (t < 0) bad('expected "T" after the node name', s.length);
  const name = s.slice(4, t);
  if (name.includes("/")) bad("a node name has no '/'", 4 + name.indexOf("/"));
  const rest = s.slice(t + 1);
  const parts = rest.split("C");
  const typ = parts[0]!;
  const compatible = parts.slice(1);
  let off = t + 1 + typ.length;
  for (const c of compatible) {
    if (c === "") bad("empty compatible string", off + 1);
    off += 1 + c.length;
  }
  return { fullName: `/${name}`, type: typ === "(null)" ? null : typ, compatible };
}

/** "acpi:" then "<id>:" per hardware id (create_pnp_modalias). */
export function parseAcpiModalias(s: string): string[] {
  if (!s.startsWith("acpi:")) bad('expected "acpi:"', 0);
  if (!s.endsWith(":") || s.length === 5) bad('expected at least one "<id>:"', s.length);
  const ids = s.slice(5, -1).split(":");
  let off = 5;
  for (const id of ids) {
    if (id === "") bad("empty ACPI id", off);
    const blank = id.search(/[\s*?[\]]/);
    if (blank >= 0) bad("an ACPI id has no blanks or glob characters", off + blank);
    off += id.length + 1;
  }
  return ids;
}

/** Dispatches on the prefix; also checks size and that the string is printable ASCII. */
export function parseModalias(s: string): ParsedModalias {
  if (s.length > MAX_MODALIAS) bad(`longer than a page (${MAX_MODALIAS})`, MAX_MODALIAS);
  const nonPrint = s.search(/[^\x21-\x7e ]/);
  if (nonPrint >= 0) bad(`character U+${s.charCodeAt(nonPrint).toString(16).padStart(4, "0")} cannot be in a modalias`, nonPrint);
  if (s.startsWith("pci:")) return { bus: "pci", pci: parsePciModalias(s) };
  if (s.startsWith("of:")) return { bus: "of", of: parseOfModalias(s) };
  if (s.startsWith("acpi:")) return { bus: "acpi", acpiIds: parseAcpiModalias(s) };
  if (s.startsWith("virtio:")) return { bus: "virtio", virtio: parseVirtioModalias(s) };
  if (s.startsWith("platform:")) {
    const name = s.slice(9);
    if (name === "") bad("empty platform device name", 9);
    return { bus: "platform", name };
  }
  const colon = s.indexOf(":");
  return bad(`unknown or unmodelled bus "${colon >= 0 ? s.slice(0, colon) : s.slice(0, 20)}" (kbind models pci, of, acpi, platform, virtio)`, 0);
}
