// The fixture host built on the simulated kernel (src/kernel, the driver core engineer's model) and
// read/written through its SysfsPort (kernelSysfs): the same switch code, the kernel's own store()
// semantics. modprobe is modelled as finit_module of the named module image (k.insertModule).
import { createKernel, kernelSysfs, newPciDevData, pciDriverSpec, type Kernel } from "../../src/kernel/index.ts";
import { ERRNO, errnoName, type ErrnoName } from "../../src/model/errno.ts";
import type { ModprobePort, ProcessResult } from "../../src/ports.ts";
import type { FakeHostDesc } from "../../src/host/sysfs-tmpdir.ts";
import type { Backend } from "./fixtures.ts";

export function modelBackend(desc: FakeHostDesc): Backend {
  const k: Kernel = createKernel();
  const probe = new Map<string, "ok" | ErrnoName>();
  const modules = new Map<string, string[]>();
  for (const d of desc.drivers) {
    const mod = d.module.replaceAll("-", "_");
    modules.set(mod, [...(modules.get(mod) ?? []), d.name]);
    probe.set(d.name, d.probe ?? "ok");
  }
  for (const [mod, names] of modules) {
    k.addModuleImage({
      name: mod,
      drivers: names.map((n) => {
        const d = desc.drivers.find((x) => x.name === n)!;
        return pciDriverSpec(n, d.ids ?? [], {
          probe: () => {
            const p = probe.get(n) ?? "ok";
            return p === "ok" ? 0 : -ERRNO[p];
          },
        });
      }),
    });
  }
  for (const [mod, names] of modules) {
    const loaded = names.every((n) => desc.drivers.find((x) => x.name === n)!.loaded ?? true);
    if (loaded) {
      const rc = k.insertModule(mod);
      if (rc !== 0) throw new Error(`model: insmod ${mod} = ${rc}`);
    }
  }
  const root = k.deviceAdd({ name: "pci0000:00", bus: null, data: null });
  for (const d of desc.devices) {
    k.deviceAdd({
      name: d.addr,
      bus: "pci",
      parent: root,
      iommuGroup: d.iommuGroup ?? null,
      data: newPciDevData({ vendor: d.vendor, device: d.device, subvendor: d.subvendor ?? d.vendor, subdevice: d.subdevice ?? d.device, class: d.class }),
    });
    const dev = k.findDevice("pci", d.addr)!;
    if ((dev.driver?.name ?? null) !== (d.driver ?? null)) throw new Error(`model: ${d.addr} bound to ${dev.driver?.name ?? "(none)"}, fixture says ${d.driver ?? "(none)"}`);
  }
  const sysfs = kernelSysfs(k);
  const modprobe: ModprobePort = {
    modprobe: (args): Promise<ProcessResult> => {
      const name = args.find((a) => !a.startsWith("-"))?.replaceAll("-", "_");
      if (name === undefined) return Promise.resolve({ code: 1, stdout: "", stderr: "modprobe: FATAL: missing module name.\n" });
      const rc = k.insertModule(name);
      if (rc === 0 || rc === -ERRNO.EEXIST) return Promise.resolve({ code: 0, stdout: "", stderr: "" });
      if (rc === -ERRNO.ENOENT) return Promise.resolve({ code: 1, stdout: "", stderr: `modprobe: FATAL: Module ${name} not found in directory /lib/modules/6.1.0-model\n` });
      return Promise.resolve({ code: 1, stdout: "", stderr: `modprobe: ERROR: could not insert '${name}': ${errnoName(rc) ?? rc}\n` });
    },
  };
  return {
    name: "kernel-model",
    sysfs,
    modprobe,
    state: (addr) => {
      const dev = k.findDevice("pci", addr);
      if (!dev) throw new Error(`model: no device ${addr}`);
      return { driver: dev.driver?.name ?? null, override: dev.driverOverride };
    },
    setProbe: (drv, p) => probe.set(drv, p),
    mountinfo: () => desc.mountinfo ?? "",
    dispose: () => undefined,
  };
}
