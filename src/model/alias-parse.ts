// Reading aliases back: modules.alias lines (kmod tools/depmod.c output_aliases: "alias <pattern> <module>")
// and, per bus, the inverse of file2alias.c, so that an alias yields the ID entry it came from. Each
// inverse is checked by regenerating: parseXAlias(a) gives an id with xAliases(id) containing a, or a
// KbindError naming the offset where the alias stops being what file2alias writes.
import { KbindError } from "./errors.ts";
import { acpiAliases, ofAliases, platformAliases, virtioAliases } from "./file2alias.ts";
import type { AcpiDeviceId } from "./acpi.ts";
import type { OfDeviceId } from "./of.ts";
import { parsePciAlias, type ParsedPciAlias } from "./pci-alias-parse.ts";
import type { PlatformDeviceId } from "./platform.ts";
import { VIRTIO_DEV_ANY_ID, type VirtioDeviceId } from "./virtio.ts";

export interface AliasLine {
  pattern: string;
  module: string;
}

/**
 * One line of modules.alias. Blank lines and `#` comments give null. depmod writes exactly
 * "alias <pattern> <module>"; kmod's text reader splits on whitespace, so runs of blanks are accepted.
 * `line` (1-based) and `file` are only used for the error location.
 */
export function parseModulesAliasLine(text: string, line?: number, file?: string): AliasLine | null {
  const t = text.replace(/\r?\n$/, "");
  if (/^\s*(#|$)/.test(t)) return null;
  const loc = (column: number) => ({ ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}), column, offset: column - 1 });
  const m = /^(\s*)(\S+)(\s+)(\S+)(\s+)(\S+)\s*$/.exec(t);
  if (!m) {
    const words = t.trim().split(/\s+/).length;
    throw new KbindError("BAD_ALIAS_LINE", `expected "alias <pattern> <module>", got ${words} word${words === 1 ? "" : "s"}`, loc(1));
  }
  if (m[2] !== "alias") throw new KbindError("BAD_ALIAS_LINE", `expected "alias", got "${m[2]!.slice(0, 40)}"`, loc(m[1]!.length + 1));
  return { pattern: m[4]!, module: m[6]! };
}

function fail(code: string, what: string, offset: number): never {
  throw new KbindError(code, what, { offset });
}

/** Inverse of do_virtio_entry(): "virtio:d<%08X|*>v<%08X|*>" plus add_wildcard's `*`. */
export function parseVirtioAlias(s: string): VirtioDeviceId {
  const m = /^virtio:d([0-9A-F]{8}|\*)v([0-9A-F]{8}|\*)\*?$/.exec(s);
  if (!m) return fail("BAD_VIRTIO_ALIAS", "not a file2alias virtio alias (virtio:d%08Xv%08X*)", firstMismatch(s, "virtio:d"));
  const id = {
    device: m[1] === "*" ? VIRTIO_DEV_ANY_ID : parseInt(m[1]!, 16),
    vendor: m[2] === "*" ? VIRTIO_DEV_ANY_ID : parseInt(m[2]!, 16),
  };
  if (virtioAliases(id)[0] !== s) fail("BAD_VIRTIO_ALIAS", "not the canonical file2alias form", s.length);
  return id;
}

/** Inverse of do_platform_entry(): "platform:<name>". */
export function parsePlatformAlias(s: string): PlatformDeviceId {
  if (!s.startsWith("platform:")) fail("BAD_PLATFORM_ALIAS", 'expected "platform:"', firstMismatch(s, "platform:"));
  const id = { name: s.slice(9), driverData: 0 };
  platformAliases(id); // size check (PLATFORM_NAME_SIZE)
  return id;
}

/** Inverse of do_acpi_entry(): "acpi*:<id>:*" or the class form "acpi*:bbsspp:*" (%02x or ??). */
export function parseAcpiAlias(s: string): AcpiDeviceId {
  if (!s.startsWith("acpi*:")) fail("BAD_ACPI_ALIAS", 'expected "acpi*:"', firstMismatch(s, "acpi*:"));
  if (!s.endsWith(":*") || s.length < 8) fail("BAD_ACPI_ALIAS", 'expected the closing ":*"', s.length);
  const body = s.slice(6, -2);
  const cls = /^([0-9a-f]{2}|\?\?)([0-9a-f]{2}|\?\?)([0-9a-f]{2}|\?\?)$/.exec(body);
  let id: AcpiDeviceId;
  // Six lower-case hex digits or "??" pairs: the class form (an ACPI _HID/_CID has 7 or 8 characters).
  if (cls) {
    let c = 0;
    let m = 0;
    [cls[1]!, cls[2]!, cls[3]!].forEach((b, k) => {
      const sh = 16 - 8 * k;
      if (b !== "??") {
        c |= parseInt(b, 16) << sh;
        m |= 0xff << sh;
      }
    });
    id = { id: "", cls: c, clsMask: m };
  } else {
    const bad = body.search(/[:*\s]/);
    if (bad >= 0) fail("BAD_ACPI_ALIAS", "an ACPI id has no ':', '*' or blank", 6 + bad);
    id = { id: body, cls: 0, clsMask: 0 };
  }
  acpiAliases(id); // size check (ACPI_ID_LEN)
  return id;
}

export interface ParsedOfAlias {
  id: OfDeviceId;
  /** The second alias of the pair (…"C*"): matches devices with more compatible strings after this one. */
  continued: boolean;
}

/**
 * Inverse of do_of_entry_multi(): "of:N<name|*>T<type|*>[[*]C<compatible>]" or the same + "C*".
 * Names, types and compatibles may themselves contain 'T' and 'C', so every split is tried and the
 * first one whose regenerated alias is `s` wins. Whitespace was turned into '_' and stays '_'.
 */
export function parseOfAlias(s: string): ParsedOfAlias {
  if (!s.startsWith("of:N")) fail("BAD_OF_ALIAS", 'expected "of:N"', firstMismatch(s, "of:N"));
  if (s.length > 500) fail("BAD_OF_ALIAS", "longer than file2alias's 500-byte buffer", 500);
  // A string ending in "C*" is read as the second alias of a pair first: real compatibles have no '*'.
  if (s.endsWith("C*")) {
    const second = ofBase(s.slice(0, -2), 1);
    if (second) return { id: second, continued: true };
  }
  const first = ofBase(s, 0);
  if (first) return { id: first, continued: false };
  return fail("BAD_OF_ALIAS", "no of_device_id gives this alias", s.length);
}

/** The first of_device_id whose alias number `which` (0 or 1) is `base` (1: base + "C*" is the alias). */
function ofBase(base: string, which: 0 | 1): OfDeviceId | null {
  const body = base.slice(4);
  const want = which === 0 ? base : base + "C*";
  const tryId = (id: OfDeviceId): boolean => {
    try {
      return ofAliases(id)[which] === want;
    } catch {
      return false;
    }
  };
  for (let t = 0; t < body.length; t++) {
    if (body[t] !== "T") continue;
    const nm = body.slice(0, t);
    const name = nm === "*" ? "" : nm;
    const rest = body.slice(t + 1);
    for (let c = 0; c < rest.length; c++) {
      if (rest[c] !== "C") continue;
      const typePart = rest.slice(0, c);
      const compatible = rest.slice(c + 1);
      if (compatible === "") continue;
      const type = typePart === "" ? "" : typePart.endsWith("*") ? typePart.slice(0, -1) : null;
      if (type === null) continue;
      const id = { name, type, compatible };
      if (tryId(id)) return id;
    }
    // Only then a type that itself contains "C" and no compatible.
    const noCompat = { name, type: rest === "*" ? "" : rest, compatible: "" };
    if (tryId(noCompat)) return noCompat;
  }
  return null;
}

function firstMismatch(s: string, want: string): number {
  let i = 0;
  while (i < want.length && i < s.length && s[i] === want[i]) i++;
  return i;
}

export type ParsedAlias =
  | { bus: "pci"; pci: ParsedPciAlias }
  | { bus: "of"; of: ParsedOfAlias }
  | { bus: "acpi"; acpi: AcpiDeviceId }
  | { bus: "platform"; platform: PlatformDeviceId }
  | { bus: "virtio"; virtio: VirtioDeviceId }
  | { bus: "other"; prefix: string };

/** Dispatches on the alias prefix; buses kbind models are parsed into ID entries (or throw). */
export function parseAlias(s: string): ParsedAlias {
  if (s.startsWith("pci:") || s.startsWith("vfio_pci:")) return { bus: "pci", pci: parsePciAlias(s) };
  if (s.startsWith("of:")) return { bus: "of", of: parseOfAlias(s) };
  if (s.startsWith("acpi*:")) return { bus: "acpi", acpi: parseAcpiAlias(s) };
  if (s.startsWith("platform:")) return { bus: "platform", platform: parsePlatformAlias(s) };
  if (s.startsWith("virtio:")) return { bus: "virtio", virtio: parseVirtioAlias(s) };
  const colon = s.indexOf(":");
  return { bus: "other", prefix: colon >= 0 ? s.slice(0, colon) : "" };
}
