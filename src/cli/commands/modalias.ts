// `kbind modalias <bus> ...`: the device side, exactly as the kernel prints it (sysfs `modalias` and the
// uevent variables). Thin: the formats live in src/model/{pci,of,acpi,platform,virtio}.ts.
// Also exports the small argument parsers the alias and match commands share.
import type { Command } from "commander";
import { acpiModaliases, acpiUeventModaliases, type AcpiNode } from "../../model/acpi.ts";
import { KbindError } from "../../model/errors.ts";
import { ofModalias, ofUeventVars, type OfNode } from "../../model/of.ts";
import { PCI_ANY_ID, PCI_SLOT_RE, pciModalias, pciUeventVars, type PciIdentity } from "../../model/pci.ts";
import { virtioModalias, virtioUeventVars } from "../../model/virtio.ts";
import type { CliIo } from "../io.ts";

/**
 * A hex number as lspci -n, sysfs and new_id write them, with or without 0x. `any` / `*` gives
 * `anyValue` when allowed (PCI_ANY_ID for entries). The error names the option and the offset.
 */
export function parseHexArg(option: string, s: string, max: number, anyValue?: number): number {
  if (anyValue !== undefined && (s === "any" || s === "*")) return anyValue;
  const body = s.startsWith("0x") || s.startsWith("0X") ? s.slice(2) : s;
  const skip = s.length - body.length;
  if (body === "") throw new KbindError("BAD_ARGUMENT", `${option}: expected a hex number, got "${s}"`, { offset: skip });
  const bad = body.search(/[^0-9a-fA-F]/);
  if (bad >= 0) throw new KbindError("BAD_ARGUMENT", `${option}: "${s}" is not hex (character ${JSON.stringify(body[bad])})`, { offset: skip + bad });
  const v = parseInt(body, 16);
  if (body.length > 8 || v > max) throw new KbindError("BAD_ARGUMENT", `${option}: 0x${body} is larger than 0x${max.toString(16)}`, { offset: skip });
  return v;
}

export function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** KEY=VALUE lines, or JSON {modalias: [...], uevent: [{key, value}]} (arrays keep order and repeats). */
export function printDeviceSide(io: CliIo, lines: string[], uevent: [string, string][], opts: { uevent?: boolean; json?: boolean }): void {
  if (opts.json === true) {
    io.out(`${JSON.stringify({ modalias: lines, uevent: uevent.map(([key, value]) => ({ key, value })) }, null, 2)}\n`);
  } else if (opts.uevent === true) {
    for (const [k, v] of uevent) io.out(`${k}=${v}\n`);
  } else {
    for (const l of lines) io.out(`${l}\n`);
  }
}

interface Common {
  uevent?: boolean;
  json?: boolean;
}

export function register(program: Command, io: CliIo): void {
  const cmd = program
    .command("modalias")
    .description("print a device's modalias (sysfs) or uevent variables exactly as the kernel does");

  cmd
    .command("pci")
    .description("pci-sysfs.c modalias_show / pci-driver.c pci_uevent")
    .requiredOption("--vendor <hex>", "vendor id, e.g. 8086")
    .requiredOption("--device <hex>", "device id, e.g. 100e")
    .option("--subvendor <hex>", "subsystem vendor id", "0")
    .option("--subdevice <hex>", "subsystem device id", "0")
    .requiredOption("--class <hex>", "24-bit class code, e.g. 020000")
    .option("--slot <name>", "PCI_SLOT_NAME (pci_name())", "0000:00:00.0")
    .option("--uevent", "print the uevent variables")
    .option("--json", "machine-readable output")
    .action((o: Common & { vendor: string; device: string; subvendor: string; subdevice: string; class: string; slot: string }) => {
      const dev: PciIdentity = {
        vendor: parseHexArg("--vendor", o.vendor, 0xffff),
        device: parseHexArg("--device", o.device, 0xffff),
        subvendor: parseHexArg("--subvendor", o.subvendor, 0xffff),
        subdevice: parseHexArg("--subdevice", o.subdevice, 0xffff),
        class: parseHexArg("--class", o.class, 0xffffff),
      };
      if (!PCI_SLOT_RE.test(o.slot)) throw new KbindError("BAD_ARGUMENT", `--slot: "${o.slot}" is not a pci_name() like 0000:01:00.0`, {});
      printDeviceSide(io, [pciModalias(dev)], pciUeventVars(dev, o.slot), o);
    });

  cmd
    .command("of")
    .description("of_modalias / of_device_uevent (a device-tree node)")
    .requiredOption("--name <name>", "node name without unit address, e.g. serial")
    .option("--type <type>", "device_type property (absent: T(null))")
    .option("--compatible <string>", "a compatible string, most specific first (repeatable)", collect, [])
    .option("--full-name <path>", "node path for OF_FULLNAME, e.g. /soc/serial@1c28000")
    .option("--uevent", "print the uevent variables")
    .option("--json", "machine-readable output")
    .action((o: Common & { name: string; type?: string; compatible: string[]; fullName?: string }) => {
      if (o.name.includes("/") || o.name.includes("@")) throw new KbindError("BAD_ARGUMENT", `--name: give the node name without path or unit address (use --full-name)`, { offset: Math.max(o.name.indexOf("/"), o.name.indexOf("@")) });
      const node: OfNode = { fullName: o.fullName ?? `/${o.name}`, type: o.type ?? null, compatible: o.compatible };
      const m = ofModalias(node);
      printDeviceSide(io, [m], [...ofUeventVars(node), ["MODALIAS", m]], o);
    });

  cmd
    .command("acpi")
    .description("drivers/acpi/device_sysfs.c: create_pnp_modalias / create_of_modalias")
    .option("--id <hid>", "a hardware id, _HID first then _CIDs (repeatable; PRP0001 for _DSD compatible)", collect, [])
    .option("--compatible <string>", "_DSD compatible string (repeatable; used with PRP0001)", collect, [])
    .option("--acpi-name <XXXX>", "4-character ACPI single name, for the OF form", "DEV0")
    .option("--not-present", "_STA says not present")
    .option("--uevent", "print the MODALIAS uevent variables")
    .option("--json", "machine-readable output")
    .action((o: Common & { id: string[]; compatible: string[]; acpiName: string; notPresent?: boolean }) => {
      if (o.id.length === 0) throw new KbindError("BAD_ARGUMENT", "give at least one --id", {});
      const node: AcpiNode = { ids: o.id, present: o.notPresent !== true, name: o.acpiName, ofCompatible: o.compatible };
      printDeviceSide(io, acpiModaliases(node), acpiUeventModaliases(node).map((v) => ["MODALIAS", v]), o);
    });

  cmd
    .command("platform")
    .description('platform.c modalias_show for a device without OF node or ACPI companion: "platform:<name>"')
    .requiredOption("--name <name>", "pdev->name")
    .option("--uevent", "print the MODALIAS uevent variable")
    .option("--json", "machine-readable output")
    .action((o: Common & { name: string }) => {
      const m = `platform:${o.name}`;
      printDeviceSide(io, [m], [["MODALIAS", m]], o);
    });

  cmd
    .command("virtio")
    .description('virtio.c modalias_show / virtio_uevent: "virtio:d%08Xv%08X"')
    .requiredOption("--device <hex>", "virtio device id, e.g. 1 (net), 2 (block)")
    .requiredOption("--vendor <hex>", "vendor id, e.g. 1af4")
    .option("--uevent", "print the MODALIAS uevent variable")
    .option("--json", "machine-readable output")
    .action((o: Common & { device: string; vendor: string }) => {
      const dev = { device: parseHexArg("--device", o.device, PCI_ANY_ID), vendor: parseHexArg("--vendor", o.vendor, PCI_ANY_ID) };
      printDeviceSide(io, [virtioModalias(dev)], virtioUeventVars(dev), o);
    });
}
