// The QEMU machine the conformance cases run on: q35 under TCG with an emulated Intel IOMMU and one of
// each device the issue lists, at fixed slots so device names are stable:
//   00:02.0 e1000          00:03.0 pcie-root-port → 01:00.0 e1000e
//   00:04.0 virtio-net-pci 00:05.0 pcie-root-port → 02:00.0 nvme
//   00:06.0 ahci           00:07.0 qemu-xhci       00:08.0 pci-testdev      00:09.0 edu
//   00:0a.0 pci-bridge     → 03:01.0 edu (a second edu, behind a conventional bridge)
// plus q35's own 00:00.0 host bridge, 00:1f.0 LPC, 00:1f.2 SATA (AHCI), 00:1f.3 SMBus.
// The first serial port carries the kernel log, the second the command channel (stdio).

export interface MachineOptions {
  kernel: string;
  initrd: string;
  /** Emulated VT-d and intel_iommu=on (vfio-pci usable) or neither (vfio-pci probe fails). */
  iommu: boolean;
  consoleLog: string;
  memoryMiB?: number;
}

export const MACHINE_DEVICES: readonly string[] = [
  "e1000,addr=0x2",
  "pcie-root-port,id=rp1,chassis=1,addr=0x3",
  "e1000e,bus=rp1",
  "virtio-net-pci,addr=0x4",
  "pcie-root-port,id=rp2,chassis=2,addr=0x5",
  "nvme,serial=kbind0,bus=rp2",
  "ahci,addr=0x6",
  "qemu-xhci,addr=0x7",
  "pci-testdev,addr=0x8",
  "edu,addr=0x9",
  "pci-bridge,id=br1,chassis_nr=3,addr=0xa",
  "edu,bus=br1,addr=0x1",
];

export function qemuArgs(o: MachineOptions): string[] {
  const append = ["console=ttyS0", "panic=-1", "loglevel=4", ...(o.iommu ? ["intel_iommu=on"] : [])].join(" ");
  const args = [
    "-M", "q35", "-accel", "tcg", "-m", String(o.memoryMiB ?? 1024), "-smp", "1",
    "-display", "none", "-monitor", "none", "-nodefaults", "-no-reboot",
    "-kernel", o.kernel, "-initrd", o.initrd, "-append", append,
    "-serial", `file:${o.consoleLog}`, "-serial", "stdio",
  ];
  // intel-iommu must be created before the devices it translates for.
  if (o.iommu) args.push("-device", "intel-iommu");
  for (const d of MACHINE_DEVICES) args.push("-device", d);
  return args;
}

/** Modules put into the guest (with their modules.dep closure): the drivers of the devices above,
 *  vfio, and pci-stub / pci-pf-stub for new_id and fall-through cases. */
export const GUEST_MODULES: readonly string[] = [
  "e1000", "e1000e", "virtio_pci", "virtio_net", "nvme", "ahci", "xhci_pci",
  "vfio", "vfio_pci", "vfio_iommu_type1", "pci_stub", "pci_pf_stub",
];

export const DEBIAN_KVER = "6.1.0-56-amd64";
