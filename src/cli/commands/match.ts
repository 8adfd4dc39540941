// `kbind match <modalias> [alias...]`: does an ID entry match a device, and why (the failing field,
// the OF score), both as the kernel decides (pci_match_one_device, __of_device_is_compatible /
// __of_match_node, __acpi_match_device, virtio_id_match, platform_match_id) and as kmod decides
// (fnmatch(alias, modalias, 0)). Exit status 0 when the kernel matches some entry, 1 when none does.
import type { Command } from "commander";
import { fnmatch } from "../../kmod/fnmatch.ts";
import { acpiMatchDevice } from "../../model/acpi.ts";
import { parseAlias, type ParsedAlias } from "../../model/alias-parse.ts";
import { KbindError } from "../../model/errors.ts";
import { acpiAliases, ofAliases, pciAliases, platformAliases, virtioAliases } from "../../model/file2alias.ts";
import { explainOfMatch, explainPciMatch, type FieldCheck } from "../../model/match-explain.ts";
import { parseModalias, type ParsedModalias } from "../../model/modalias-parse.ts";
import { ofMatchNode, type OfDeviceId } from "../../model/of.ts";
import type { PciDeviceId } from "../../model/pci.ts";
import { VIRTIO_DEV_ANY_ID, virtioIdMatch } from "../../model/virtio.ts";
import { ExitCode, type CliIo } from "../io.ts";
import { addPciEntryOptions, pciEntryFromOpts, type PciEntryOpts } from "./alias.ts";

interface EntryResult {
  given: string;
  aliases: { alias: string; fnmatch: boolean }[];
  kernel: { match: boolean; function: string; score?: number; fields: FieldCheck[]; note?: string };
}

function kmodSide(aliases: string[], modalias: string): { alias: string; fnmatch: boolean }[] {
  return aliases.map((alias) => ({ alias, fnmatch: fnmatch(alias, modalias) }));
}

function explainPci(id: PciDeviceId, dev: ParsedModalias & { bus: "pci" }, modalias: string, given: string): EntryResult {
  const e = explainPciMatch(id, dev.pci);
  const note = e.overrideOnly
    ? "override_only entry: pci_match_device() uses it only when driver_override names this driver; its vfio_pci: alias never matches a pci: modalias"
    : undefined;
  const aliases = pciAliases(id);
  return {
    given,
    aliases: kmodSide(aliases, modalias),
    kernel: { match: e.match, function: "pci_match_one_device (drivers/pci/pci.h)", fields: e.fields, ...(note !== undefined ? { note } : aliases.length === 0 ? { note: "file2alias writes no alias for this class_mask: never autoloaded by this entry" } : {}) },
  };
}

function entryMismatch(dev: ParsedModalias, p: ParsedAlias, alias: string): never {
  throw new KbindError("BAD_ARGUMENT", `the entry "${alias}" is a ${p.bus} alias but the device is on ${dev.bus}`, {});
}

function explainOne(dev: ParsedModalias, modalias: string, alias: string): EntryResult {
  const p = parseAlias(alias);
  switch (dev.bus) {
    case "pci":
      if (p.bus !== "pci") return entryMismatch(dev, p, alias);
      return explainPci(p.pci.id, dev, modalias, alias);
    case "of": {
      if (p.bus !== "of") return entryMismatch(dev, p, alias);
      const e = explainOfMatch(p.of.id, dev.of);
      return {
        given: alias,
        aliases: kmodSide(ofAliases(p.of.id), modalias),
        kernel: { match: e.score > 0, function: "__of_device_is_compatible (drivers/of/base.c)", score: e.score, fields: e.fields },
      };
    }
    case "acpi": {
      if (p.bus !== "acpi") return entryMismatch(dev, p, alias);
      const node = { ids: dev.acpiIds, present: true, name: "DEV0", ofCompatible: [] };
      const m = acpiMatchDevice(node, [p.acpi], null);
      const fields: FieldCheck[] = dev.acpiIds.map((hwid) => ({
        field: "hwid",
        entry: p.acpi.id !== "" ? p.acpi.id : `cls 0x${p.acpi.cls.toString(16).padStart(6, "0")}/0x${p.acpi.clsMask.toString(16).padStart(6, "0")}`,
        device: hwid,
        ok: m !== null && m.via === "acpi_id" && m.hwid === hwid,
      }));
      return { given: alias, aliases: kmodSide(acpiAliases(p.acpi), modalias), kernel: { match: m !== null, function: "__acpi_match_device (drivers/acpi/bus.c)", fields } };
    }
    case "virtio": {
      if (p.bus !== "virtio") return entryMismatch(dev, p, alias);
      const f = (field: string, want: number, have: number): FieldCheck => ({
        field,
        entry: want === VIRTIO_DEV_ANY_ID ? "VIRTIO_DEV_ANY_ID" : `0x${want.toString(16)}`,
        device: `0x${have.toString(16)}`,
        ok: want === VIRTIO_DEV_ANY_ID || want === have,
      });
      return {
        given: alias,
        aliases: kmodSide(virtioAliases(p.virtio), modalias),
        kernel: { match: virtioIdMatch(p.virtio, dev.virtio), function: "virtio_id_match (drivers/virtio/virtio.c)", fields: [f("device", p.virtio.device, dev.virtio.device), f("vendor", p.virtio.vendor, dev.virtio.vendor)] },
      };
    }
    case "platform": {
      if (p.bus !== "platform") return entryMismatch(dev, p, alias);
      const ok = p.platform.name === dev.name;
      return {
        given: alias,
        aliases: kmodSide(platformAliases(p.platform), modalias),
        kernel: { match: ok, function: "platform_match_id (drivers/base/platform.c)", fields: [{ field: "name", entry: p.platform.name, device: dev.name, ok }] },
      };
    }
  }
}

function render(io: CliIo, modalias: string, results: EntryResult[], best: number | null): void {
  io.out(`device  ${modalias}\n`);
  for (const r of results) {
    io.out(`\nentry   ${r.given}\n`);
    const rows = [["field", "entry", "device", ""], ...r.kernel.fields.map((f) => [f.field, f.entry, f.device, `${f.ok ? "ok" : "MISMATCH"}${f.note !== undefined ? `  ${f.note}` : ""}`])];
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((x) => x[i]!.length)));
    for (const x of rows) io.out(`  ${x.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c)).join("  ").trimEnd()}\n`);
    const failing = r.kernel.fields.find((f) => !f.ok);
    const verdict = r.kernel.match ? "match" : `no match${failing ? ` (${failing.field} differs)` : ""}`;
    io.out(`  kernel  ${r.kernel.function}: ${verdict}${r.kernel.score !== undefined ? `, score ${r.kernel.score}` : ""}\n`);
    if (r.kernel.note !== undefined) io.out(`          ${r.kernel.note}\n`);
    for (const a of r.aliases) io.out(`  kmod    fnmatch("${a.alias}", modalias) = ${a.fnmatch ? "match" : "no match"}\n`);
  }
  if (best !== null) io.out(`\n__of_match_node: entry ${best + 1} wins (${results[best]!.given}), the highest score\n`);
}

export function register(program: Command, io: CliIo): void {
  addPciEntryOptions(
    program
      .command("match")
      .description("explain whether ID entries match a device, as the kernel and as kmod see it")
      .argument("<modalias>", "the device's modalias, e.g. from `kbind modalias` or /sys/.../modalias")
      .argument("[aliases...]", "entries as module aliases (several OF aliases form one of_match_table)"),
  )
    .option("--json", "machine-readable output")
    .action((modalias: string, aliases: string[], o: PciEntryOpts & { json?: boolean }) => {
      const dev = parseModalias(modalias);
      const results: EntryResult[] = [];
      const flagsGiven = ["vendor", "device", "subvendor", "subdevice"].some((k) => o[k as keyof PciEntryOpts] !== "any") || o.class !== "0" || o.classMask !== "0" || o.vfio === true;
      if (aliases.length === 0) {
        if (dev.bus !== "pci") throw new KbindError("BAD_ARGUMENT", "give the entry as an alias (the --vendor/--device/... flags describe a PCI entry)", {});
        if (!flagsGiven) throw new KbindError("BAD_ARGUMENT", "give an entry: an alias, or --vendor/--device/--class/--class-mask/...", {});
        const id = pciEntryFromOpts(o);
        const shown = pciAliases(id)[0] ?? `(vendor ${o.vendor} device ${o.device} subvendor ${o.subvendor} subdevice ${o.subdevice} class ${o.class} mask ${o.classMask})`;
        results.push(explainPci(id, dev, modalias, shown));
      } else {
        if (flagsGiven) throw new KbindError("BAD_ARGUMENT", "give the entry either as aliases or as --vendor/--device/... flags, not both", {});
        for (const a of aliases) results.push(explainOne(dev, modalias, a));
      }
      let best: number | null = null;
      if (dev.bus === "of" && results.length > 1) {
        const table: OfDeviceId[] = aliases.map((a) => {
          const p = parseAlias(a);
          return p.bus === "of" ? p.of.id : { name: "", type: "", compatible: "" };
        });
        best = ofMatchNode(table, dev.of)?.index ?? null;
      }
      if (o.json === true) {
        io.out(`${JSON.stringify({ device: { modalias, ...dev }, entries: results, ...(dev.bus === "of" ? { ofMatchNode: best } : {}) }, null, 2)}\n`);
      } else {
        render(io, modalias, results, best);
      }
      if (!results.some((r) => r.kernel.match)) throw new ExitCode(1);
    });
}
