import { describe, expect, it } from "vitest";
import { pciAliasOf, pciIdFromAlias } from "../../src/flavour/catalogue.ts";
import { catalogueModuleDir } from "../../src/flavour/kernel-backend.ts";
import { loadDefault, readRepo } from "./load-default.ts";

describe("catalogue: Debian 6.1 arm64 metadata + upstream vfio variant tables", () => {
  const { cat } = loadDefault();

  it("reads every pci:/vfio_pci: alias of the real modules.alias back into the entry file2alias made it from (do_pci_entry round trip)", () => {
    const text = readRepo("data/debian/6.1.0-56-arm64/lib/modules/6.1.0-56-arm64/modules.alias");
    let n = 0;
    for (const line of text.split("\n")) {
      const m = /^alias ((?:pci|vfio_pci):v\S+) \S+$/.exec(line); // MODULE_ALIAS("pci:hns-nic") lines are not table entries
      if (!m?.[1]) continue;
      const id = pciIdFromAlias(m[1]);
      expect(id, m[1]).not.toBeNull();
      if (id) expect(pciAliasOf(id)).toBe(m[1]);
      n++;
    }
    expect(n).toBeGreaterThan(3000);
  });

  it("gives each variant the vfio_pci: alias do_pci_entry emits for PCI_DRIVER_OVERRIDE_DEVICE_VFIO (in the modules.alias depmod writes from the catalogue's modinfo)", () => {
    const text = catalogueModuleDir(cat, [], new Set()).text("modules.alias") ?? "";
    expect(text).toContain("alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n");
    expect(text).toContain("alias vfio_pci:v000010DEd00002342sv*sd*bc*sc*i* nvgrace_gpu_vfio_pci\n");
    expect(text).toContain("alias vfio_pci:v000019E5d0000A256sv*sd*bc*sc*i* hisi_acc_vfio_pci\n");
    expect(text).toContain("alias vfio_pci:v00008086d00004941sv*sd*bc*sc*i* qat_vfio_pci\n");
    expect(text).toContain("alias vfio_pci:v00001DD8d00001003sv*sd*bc*sc*i* pds_vfio_pci\n");
    expect(text).toContain("alias vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i* virtio_vfio_pci\n");
    expect(text).toContain("alias vfio-reset:amd,xgbe-seattle-v1a vfio_platform_amdxgbe\n");
    // the real Debian vfio_pci alias (vfio_pci.c: PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)) appears once
    expect(text.split("alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n").length).toBe(2);
  });

  it("keeps Debian's real vfio_pci module (deps from modules.dep) and gives it driver name vfio-pci", () => {
    const m = cat.modules.get("vfio_pci");
    expect(m?.inline).toBe(false);
    expect(m?.deps).toEqual(["vfio_pci_core", "vfio_virqfd", "vfio"]);
    expect(m?.drivers.map((d) => d.name)).toEqual(["vfio-pci"]);
    expect(cat.modules.get("mlx5_core")?.drivers[0]?.name).toBe("mlx5_core");
    expect(cat.modules.get("amd_xgbe")?.drivers.map((d) => `${d.bus}:${d.name}`)).toEqual(["pci:amd-xgbe", "platform:amd-xgbe"]);
  });

  it("emits no alias for a class mask byte that is neither 00 nor FF (do_pci_entry)", () => {
    expect(pciAliasOf({ vendor: 1, device: 2, subvendor: 0xffffffff, subdevice: 0xffffffff, class: 0x010800, classMask: 0xfff000, driverData: 0, overrideOnly: 0, flavour: null })).toBeNull();
  });
});
