// Real data: every alias line of Debian 12's 6.1 kernels (data/debian/*/modules.alias, written by the real
// depmod from real .ko files, see scripts/fetch-debian-kernel.sh) parses, and every alias of a bus kbind
// models (pci, vfio_pci, of, acpi, platform, virtio) parses back into an ID entry that file2alias.c
// (do_*_entry) turns into the very same string.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAlias, parseModulesAliasLine } from "../../src/model/alias-parse.ts";
import { KbindError } from "../../src/model/errors.ts";
import { acpiAliases, ofAliases, pciAliases, platformAliases, virtioAliases } from "../../src/model/file2alias.ts";

const root = join(import.meta.dirname, "../../data/debian");
const trees = existsSync(root)
  ? readdirSync(root)
      .map((k) => ({ k, file: join(root, k, "lib/modules", k, "modules.alias") }))
      .filter((t) => existsSync(t.file))
  : [];

// MODULE_ALIAS() strings written by hand in the driver source, not by file2alias: they cannot round-trip.
const HAND_WRITTEN = new Set(["pci:hisi_sas_v3_hw", "pci:hns-nic"]);

describe("real modules.alias (Debian 6.1 amd64 + arm64)", () => {
  it("has both trees checked in", () => {
    expect(trees.map((t) => t.k).sort()).toEqual(["6.1.0-56-amd64", "6.1.0-56-arm64"]);
  });

  it.each(trees)("$k: every line parses; every modelled-bus alias round-trips byte-identically", ({ file }) => {
    const lines = readFileSync(file, "latin1").split("\n");
    const counts: Record<string, number> = {};
    const failures: string[] = [];
    const handWritten: string[] = [];
    lines.forEach((text, i) => {
      const a = parseModulesAliasLine(text, i + 1, file);
      if (!a) return;
      let p;
      try {
        p = parseAlias(a.pattern);
      } catch (e) {
        if (e instanceof KbindError && HAND_WRITTEN.has(a.pattern)) {
          handWritten.push(a.pattern);
          return;
        }
        failures.push(`${i + 1}: ${a.pattern}: ${String(e)}`);
        return;
      }
      counts[p.bus] = (counts[p.bus] ?? 0) + 1;
      const regen =
        p.bus === "pci" ? pciAliases(p.pci.id)
        : p.bus === "of" ? [ofAliases(p.of.id)[p.of.continued ? 1 : 0]]
        : p.bus === "acpi" ? acpiAliases(p.acpi)
        : p.bus === "platform" ? platformAliases(p.platform)
        : p.bus === "virtio" ? virtioAliases(p.virtio)
        : [a.pattern];
      if (regen.length !== 1 || regen[0] !== a.pattern) failures.push(`${i + 1}: ${a.pattern} -> ${JSON.stringify(regen)}`);
    });
    expect(failures.slice(0, 10)).toEqual([]);
    // Thousands of PCI aliases, including the vfio_pci one of vfio-pci itself.
    expect(counts.pci).toBeGreaterThan(6000);
    expect(counts.of).toBeGreaterThan(1000);
    expect(counts.acpi).toBeGreaterThan(400);
    expect(counts.platform).toBeGreaterThan(100);
    expect(counts.virtio).toBeGreaterThan(10);
    for (const h of handWritten) expect(HAND_WRITTEN.has(h)).toBe(true);
  });
});
