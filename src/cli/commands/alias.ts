// `kbind alias <bus> ...`: the module alias modpost's scripts/mod/file2alias.c writes for one ID entry,
// and `kbind alias parse <alias>`: the entry an alias came from. Thin: src/model/file2alias.ts,
// src/model/alias-parse.ts, src/model/pci-alias-parse.ts.
import type { Command } from "commander";
import { parseAlias, type ParsedAlias } from "../../model/alias-parse.ts";
import { KbindError } from "../../model/errors.ts";
import { acpiAliases, ofAliases, pciAliases, pciClassMaskExpressible, platformAliases, usbAliases, virtioAliases } from "../../model/file2alias.ts";
import * as usb from "../../model/usb.ts";
import { PCI_ANY_ID, PCI_ID_F_VFIO_DRIVER_OVERRIDE, type PciDeviceId } from "../../model/pci.ts";
import { VIRTIO_DEV_ANY_ID } from "../../model/virtio.ts";
import { ExitCode, type CliIo } from "../io.ts";
import { parseHexArg } from "./modalias.ts";

interface Json {
  json?: boolean;
}

export interface PciEntryOpts {
  vendor: string;
  device: string;
  subvendor: string;
  subdevice: string;
  class: string;
  classMask: string;
  vfio?: boolean;
}

/** A struct pci_device_id from command-line options (hex, `any` for PCI_ANY_ID). */
export function pciEntryFromOpts(o: PciEntryOpts): PciDeviceId {
  return {
    vendor: parseHexArg("--vendor", o.vendor, 0xffffffff, PCI_ANY_ID),
    device: parseHexArg("--device", o.device, 0xffffffff, PCI_ANY_ID),
    subvendor: parseHexArg("--subvendor", o.subvendor, 0xffffffff, PCI_ANY_ID),
    subdevice: parseHexArg("--subdevice", o.subdevice, 0xffffffff, PCI_ANY_ID),
    class: parseHexArg("--class", o.class, 0xffffffff),
    classMask: parseHexArg("--class-mask", o.classMask, 0xffffffff),
    driverData: 0,
    overrideOnly: o.vfio === true ? PCI_ID_F_VFIO_DRIVER_OVERRIDE : 0,
  };
}

export function addPciEntryOptions(c: Command): Command {
  return c
    .option("--vendor <hex>", "vendor id or any", "any")
    .option("--device <hex>", "device id or any", "any")
    .option("--subvendor <hex>", "subsystem vendor id or any", "any")
    .option("--subdevice <hex>", "subsystem device id or any", "any")
    .option("--class <hex>", "class code", "0")
    .option("--class-mask <hex>", "class mask (0: class ignored)", "0")
    .option("--vfio", "override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE (PCI_DRIVER_OVERRIDE_DEVICE_VFIO)");
}

function printAliases(io: CliIo, aliases: string[], why: string, o: Json): void {
  if (o.json === true) {
    io.out(`${JSON.stringify({ aliases, ...(aliases.length === 0 ? { reason: why } : {}) }, null, 2)}\n`);
  } else if (aliases.length === 0) {
    io.err(`kbind: no alias: ${why}\n`);
  } else {
    for (const a of aliases) io.out(`${a}\n`);
  }
  if (aliases.length === 0) throw new ExitCode(1);
}

function hex(v: number, w: number): string {
  return `0x${(v >>> 0).toString(16).padStart(w, "0")}`;
}

function describeParsed(p: ParsedAlias): string {
  switch (p.bus) {
    case "pci": {
      const id = p.pci.id;
      const f = (v: number) => (v === PCI_ANY_ID ? "PCI_ANY_ID" : hex(v, 4));
      return [
        `struct pci_device_id (${p.pci.prefix === "vfio_pci" ? "override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE" : "ordinary entry"}):`,
        `  vendor     ${f(id.vendor)}`,
        `  device     ${f(id.device)}`,
        `  subvendor  ${f(id.subvendor)}`,
        `  subdevice  ${f(id.subdevice)}`,
        `  class      ${hex(id.class, 6)}`,
        `  class_mask ${hex(id.classMask, 6)}`,
      ].join("\n");
    }
    case "of":
      return [
        `struct of_device_id${p.of.continued ? " (second alias of the pair: matches when more compatibles follow)" : ""}:`,
        `  name       ${JSON.stringify(p.of.id.name)}`,
        `  type       ${JSON.stringify(p.of.id.type)}`,
        `  compatible ${JSON.stringify(p.of.id.compatible)}`,
      ].join("\n");
    case "acpi":
      return p.acpi.id !== ""
        ? `struct acpi_device_id:\n  id ${JSON.stringify(p.acpi.id)}`
        : `struct acpi_device_id (class form):\n  cls     ${hex(p.acpi.cls, 6)}\n  cls_msk ${hex(p.acpi.clsMask, 6)}`;
    case "platform":
      return `struct platform_device_id:\n  name ${JSON.stringify(p.platform.name)}`;
    case "virtio": {
      const f = (v: number) => (v === VIRTIO_DEV_ANY_ID ? "VIRTIO_DEV_ANY_ID" : hex(v, 8));
      return `struct virtio_device_id:\n  device ${f(p.virtio.device)}\n  vendor ${f(p.virtio.vendor)}`;
    }
    case "other":
      return `bus "${p.prefix}" is not modelled by kbind (pci, vfio_pci, of, acpi, platform, virtio are)`;
  }
}

export function register(program: Command, io: CliIo): void {
  const cmd = program.command("alias").description("the module alias file2alias.c writes for an ID entry, or the entry behind an alias");

  addPciEntryOptions(cmd.command("pci").description("do_pci_entry: pci:/vfio_pci: v d sv sd bc sc i"))
    .option("--json", "machine-readable output")
    .action((o: PciEntryOpts & Json) => {
      const id = pciEntryFromOpts(o);
      const why = !pciClassMaskExpressible(id.classMask)
        ? `class_mask ${hex(id.classMask, 6)} has a byte that is neither 00 nor ff: modpost warns "Can't handle masks" and writes none`
        : "override_only is neither 0 nor PCI_ID_F_VFIO_DRIVER_OVERRIDE";
      printAliases(io, pciAliases(id), why, o);
    });

  cmd
    .command("of")
    .description("do_of_entry_multi: of:N<name>T<type>C<compatible>, and the same + C*")
    .option("--name <name>", "of_device_id.name", "")
    .option("--type <type>", "of_device_id.type", "")
    .option("--compatible <string>", "of_device_id.compatible", "")
    .option("--json", "machine-readable output")
    .action((o: Json & { name: string; type: string; compatible: string }) => {
      if (o.name === "" && o.type === "" && o.compatible === "") throw new KbindError("BAD_ARGUMENT", "an all-empty of_device_id is the table terminator: give --name, --type or --compatible", {});
      printAliases(io, ofAliases({ name: o.name, type: o.type, compatible: o.compatible }), "", o);
    });

  cmd
    .command("acpi")
    .description("do_acpi_entry: acpi*:<id>:* or acpi*:bbsspp:*")
    .option("--id <hid>", "acpi_device_id.id")
    .option("--class <hex>", "cls (without --id)", "0")
    .option("--class-mask <hex>", "cls_msk", "0")
    .option("--json", "machine-readable output")
    .action((o: Json & { id?: string; class: string; classMask: string }) => {
      const cls = parseHexArg("--class", o.class, 0xffffff);
      const clsMask = parseHexArg("--class-mask", o.classMask, 0xffffff);
      if ((o.id ?? "") === "" && cls === 0) throw new KbindError("BAD_ARGUMENT", "give --id or a non-zero --class (id \"\" and cls 0 is the table terminator)", {});
      printAliases(io, acpiAliases({ id: o.id ?? "", cls, clsMask }), "", o);
    });

  cmd
    .command("platform")
    .description("do_platform_entry: platform:<name>")
    .requiredOption("--name <name>", "platform_device_id.name")
    .option("--json", "machine-readable output")
    .action((o: Json & { name: string }) => {
      printAliases(io, platformAliases({ name: o.name, driverData: 0 }), "", o);
    });

  cmd
    .command("virtio")
    .description("do_virtio_entry: virtio:d<device>v<vendor>*")
    .option("--device <hex>", "device id or any", "any")
    .option("--vendor <hex>", "vendor id or any", "any")
    .option("--json", "machine-readable output")
    .action((o: Json & { device: string; vendor: string }) => {
      const id = { device: parseHexArg("--device", o.device, 0xffffffff, VIRTIO_DEV_ANY_ID), vendor: parseHexArg("--vendor", o.vendor, 0xffffffff, VIRTIO_DEV_ANY_ID) };
      printAliases(io, virtioAliases(id), "", o);
    });

  cmd
    .command("usb")
    .description("do_usb_entry_multi: usb:v p d<bcdDevice pattern> dc dsc dp ic isc ip in (a range may need several aliases)")
    .option("--vendor <hex>", "idVendor (sets USB_DEVICE_ID_MATCH_VENDOR)")
    .option("--product <hex>", "idProduct (MATCH_PRODUCT)")
    .option("--bcd-lo <hex>", "bcdDevice_lo (MATCH_DEV_LO)")
    .option("--bcd-hi <hex>", "bcdDevice_hi (MATCH_DEV_HI)")
    .option("--dev-class <hex>", "bDeviceClass (MATCH_DEV_CLASS)")
    .option("--dev-subclass <hex>", "bDeviceSubClass (MATCH_DEV_SUBCLASS)")
    .option("--dev-protocol <hex>", "bDeviceProtocol (MATCH_DEV_PROTOCOL)")
    .option("--int-class <hex>", "bInterfaceClass (MATCH_INT_CLASS)")
    .option("--int-subclass <hex>", "bInterfaceSubClass (MATCH_INT_SUBCLASS)")
    .option("--int-protocol <hex>", "bInterfaceProtocol (MATCH_INT_PROTOCOL)")
    .option("--int-number <hex>", "bInterfaceNumber (MATCH_INT_NUMBER)")
    .option("--json", "machine-readable output")
    .action((o: Json & Record<string, string | undefined>) => {
      let flags = 0;
      const get = (key: string, option: string, flag: number, max: number): number => {
        const v = o[key];
        if (v === undefined) return 0;
        flags |= flag;
        return parseHexArg(option, v, max);
      };
      const id = {
        idVendor: get("vendor", "--vendor", usb.USB_DEVICE_ID_MATCH_VENDOR, 0xffff),
        idProduct: get("product", "--product", usb.USB_DEVICE_ID_MATCH_PRODUCT, 0xffff),
        bcdDeviceLo: get("bcdLo", "--bcd-lo", usb.USB_DEVICE_ID_MATCH_DEV_LO, 0xffff),
        bcdDeviceHi: get("bcdHi", "--bcd-hi", usb.USB_DEVICE_ID_MATCH_DEV_HI, 0xffff),
        bDeviceClass: get("devClass", "--dev-class", usb.USB_DEVICE_ID_MATCH_DEV_CLASS, 0xff),
        bDeviceSubClass: get("devSubclass", "--dev-subclass", usb.USB_DEVICE_ID_MATCH_DEV_SUBCLASS, 0xff),
        bDeviceProtocol: get("devProtocol", "--dev-protocol", usb.USB_DEVICE_ID_MATCH_DEV_PROTOCOL, 0xff),
        bInterfaceClass: get("intClass", "--int-class", usb.USB_DEVICE_ID_MATCH_INT_CLASS, 0xff),
        bInterfaceSubClass: get("intSubclass", "--int-subclass", usb.USB_DEVICE_ID_MATCH_INT_SUBCLASS, 0xff),
        bInterfaceProtocol: get("intProtocol", "--int-protocol", usb.USB_DEVICE_ID_MATCH_INT_PROTOCOL, 0xff),
        bInterfaceNumber: get("intNumber", "--int-number", usb.USB_DEVICE_ID_MATCH_INT_NUMBER, 0xff),
      };
      printAliases(io, usbAliases({ ...id, matchFlags: flags }), "idVendor, idProduct, bDeviceClass and bInterfaceClass are all 0: modpost skips such placeholder entries", o);
    });

  cmd
    .command("parse")
    .description("read an alias (as in modules.alias) back into the ID entry file2alias made it from")
    .argument("<alias>", "e.g. pci:v*d*sv*sd*bc01sc08i02*")
    .option("--json", "machine-readable output")
    .action((alias: string, o: Json) => {
      const p = parseAlias(alias);
      if (o.json === true) io.out(`${JSON.stringify(p, null, 2)}\n`);
      else io.out(`${describeParsed(p)}\n`);
      if (p.bus === "other") throw new ExitCode(1);
    });
}
