// Module load/unload with devices bound (kernel/module/main.c delete_module: -ENOENT when not
// loaded, -EWOULDBLOCK while another module uses it; unloading runs the driver's unregister, which
// releases its devices) and modprobe's behaviour against the guest's real modules.* files.
import type { Case, MachineKind } from "../case-format.ts";
import { E1000, NVME, VIRTIO0, VNET, cases, driver, exists, loaded, modprobe, modprobeOut, probe, rmmod } from "./devices.ts";

export function moduleCases(machine: MachineKind): Case[] {
  return cases(machine, "module", [
    {
      name: "rmmod-bound-e1000",
      title: "unloading e1000 unbinds its device; loading it binds again",
      steps: [rmmod("e1000"), driver(E1000), loaded("e1000"), modprobe("e1000"), driver(E1000), loaded("e1000")],
      cleanup: [modprobe("e1000"), probe(E1000)],
    },
    { name: "rmmod-not-loaded", title: "delete_module of a module that is not loaded: -ENOENT", steps: [rmmod("pci_stub")] },
    { name: "rmmod-unknown", title: "delete_module of a name no module has: -ENOENT", steps: [rmmod("nosuchmodule")] },
    { name: "rmmod-builtin", title: "delete_module of a built-in (shpchp): -ENOENT", steps: [rmmod("shpchp")] },
    { name: "rmmod-in-use-virtio", title: "virtio is used by virtio_net and virtio_pci: -EWOULDBLOCK", steps: [rmmod("virtio"), loaded("virtio")] },
    { name: "rmmod-in-use-nvme-core", title: "nvme_core is used by nvme", steps: [rmmod("nvme_core"), driver(NVME)] },
    {
      name: "rmmod-virtio-net",
      title: "unloading virtio_net unbinds virtio0 but keeps the device",
      steps: [rmmod("virtio_net"), driver(VIRTIO0), exists("/sys/bus/virtio/devices/virtio0"), modprobe("virtio_net"), driver(VIRTIO0)],
      cleanup: [modprobe("virtio_net")],
    },
    {
      name: "rmmod-virtio-pci",
      title: "unloading virtio_pci removes the virtio device it created; loading it re-creates and binds it",
      steps: [rmmod("virtio_pci"), driver(VNET), exists("/sys/bus/virtio/devices/virtio0"), modprobe("virtio_pci"), driver(VNET), driver(VIRTIO0)],
      cleanup: [modprobe("virtio_pci")],
    },
    { name: "modprobe-loaded", title: "modprobe of a loaded module: exit 0", steps: [modprobe("e1000"), loaded("e1000")] },
    {
      name: "modprobe-not-found",
      title: "modprobe of an unknown name: exit 1 and kmod's FATAL message",
      steps: [modprobeOut("nosuchmodule")],
    },
    {
      name: "modprobe-alias",
      title: "modprobe of the device's modalias loads e1000 (modules.alias) and binds",
      steps: [rmmod("e1000"), modprobe("pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"), loaded("e1000"), driver(E1000)],
      cleanup: [modprobe("e1000")],
    },
    {
      name: "modprobe-alias-quiet-none",
      title: "modprobe -q of an alias nothing matches: exit 1, silent",
      steps: [modprobeOut("-q", "pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00")],
    },
    {
      name: "modprobe-r-deps",
      title: "modprobe -r virtio_net then removes unused dependencies, walking modules.dep's list in reverse (kmod rmmod_do_deps_list): failover is still held by net_failover at its turn and stays",
      steps: [modprobe("-r", "virtio_net"), loaded("virtio_net", "net_failover", "failover", "virtio", "virtio_ring"), driver(VIRTIO0), modprobe("virtio_net"), driver(VIRTIO0)],
      cleanup: [modprobe("virtio_net")],
    },
    {
      name: "nvme-async-probe-reload",
      title: "nvme probes asynchronously (PROBE_PREFER_ASYNCHRONOUS); do_init_module's async_synchronize_full makes it bound when modprobe returns",
      steps: [rmmod("nvme"), driver(NVME), modprobe("nvme"), driver(NVME), loaded("nvme", "nvme_core")],
      cleanup: [modprobe("nvme")],
    },
    {
      name: "dry-run-verbose",
      title: "modprobe -n -v vfio_pci: the insmod lines of the dependency closure and the softdep, in kmod's order",
      steps: [modprobeOut("-n", "-v", "vfio_pci"), loaded("vfio_pci")],
    },
    {
      name: "dry-run-loaded",
      title: "modprobe -n -v of a loaded module prints nothing",
      steps: [modprobeOut("-n", "-v", "e1000")],
    },
    {
      name: "show-depends",
      title: "modprobe --show-depends vfio_pci",
      steps: [modprobeOut("--show-depends", "vfio_pci")],
    },
    {
      name: "show-depends-loaded",
      title: "modprobe -D of a loaded module still lists its insmod lines",
      steps: [modprobeOut("-D", "virtio_net")],
    },
    {
      name: "resolve-alias",
      title: "modprobe -R of the e1000 device's modalias",
      steps: [modprobeOut("-R", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00")],
    },
    {
      name: "resolve-alias-none",
      title: "modprobe -R of the edu device's modalias: nothing matches",
      steps: [modprobeOut("-R", "pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00")],
    },
    {
      name: "resolve-alias-virtio",
      title: "modprobe -R of the virtio net device's modalias",
      steps: [modprobeOut("-R", "virtio:d00000001v00001AF4")],
    },
    {
      name: "resolve-vfio-alias",
      title: "modprobe -R of the vfio_pci: form of the e1000 device's modalias (what libvirt looks up for a variant driver) gives vfio_pci",
      steps: [modprobeOut("-R", "vfio_pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00")],
    },
    {
      name: "modprobe-r-in-use",
      title: "modprobe -r of a module in use: exit 1",
      steps: [modprobeOut("-r", "virtio"), loaded("virtio")],
    },
  ]);
}
