// The conformance case format: a sequence of steps against a machine's sysfs and module state, each
// step yielding one observation string. The same case runs on the real kernel (QEMU guest) and on
// the model; the first observation that differs fails the case.
//
// Observations (exact strings, so a difference is always visible):
//   read     "text <JSON of the bytes read>"     | "errno <NAME>"
//   write    "count <bytes the store consumed>"  | "errno <NAME>"
//   driver   "driver <name>" | "driver none"     (readlink of <dev>/driver)
//   link     "link <target>" | "link none"       | "errno <NAME>"
//   exists   "yes" | "no"
//   list     "entries a,b,c"                     | "errno <NAME>"
//   modprobe "exit <status>" (+ ": <output>" with output: true)
//   rmmod    "ok" | "errno <NAME>"               (delete_module(name, O_NONBLOCK))
//   loaded   "m1=yes m2=no ..."                  (/proc/modules)
//   settle   "settled"                           (wait for the uevent queue, like udevadm settle)
//   config   "config set" | "config removed"     (/etc/modprobe.d/<file>: what modprobe reads)
//   uevents  "events A SUBSYSTEM DEVPATH K=V... | ..." | "events none"
//            the uevents the kernel sent since the case began or the previous uevents step (after a
//            settle), of the listed subsystems (default pci, virtio, drivers, module, bus), each with
//            all its variables except SEQNUM, in the kernel's order

export type MachineKind = "iommu" | "noiommu";

export type Step =
  | { op: "read"; path: string }
  | { op: "write"; path: string; data: string }
  | { op: "driver"; dev: string }
  | { op: "link"; path: string }
  | { op: "exists"; path: string }
  | { op: "list"; path: string }
  | { op: "modprobe"; args: string[]; output?: boolean }
  | { op: "rmmod"; module: string }
  | { op: "loaded"; modules: string[] }
  | { op: "settle" }
  | { op: "config"; file: string; text: string | null }
  | { op: "uevents"; subsystems?: string[] };

export const DEFAULT_UEVENT_SUBSYSTEMS: readonly string[] = ["pci", "virtio", "drivers", "module", "bus"];

export interface Case {
  /** Unique, stable id: "<group>/<name>". */
  id: string;
  /** What is being checked, citing the kernel function. */
  title: string;
  machine: MachineKind;
  steps: Step[];
  /** Steps that restore the machine's boot state; always run on the guest, never compared. */
  cleanup?: Step[];
}

/** "/sys/bus/pci/devices/<bdf>" or "/sys/bus/virtio/devices/<name>". */
export function devPath(dev: string): string {
  return dev.startsWith("/sys/") ? dev : dev.includes(":") ? `/sys/bus/pci/devices/${dev}` : `/sys/bus/virtio/devices/${dev}`;
}

export function describeStep(s: Step): string {
  switch (s.op) {
    case "read":
    case "link":
    case "exists":
    case "list":
      return `${s.op} ${s.path}`;
    case "write":
      return `write ${s.path} ${JSON.stringify(s.data.length > 40 ? `${s.data.slice(0, 20)}…(${s.data.length} bytes)` : s.data)}`;
    case "driver":
      return `driver of ${s.dev}`;
    case "modprobe":
      return `modprobe ${s.args.join(" ")}`;
    case "rmmod":
      return `rmmod ${s.module}`;
    case "loaded":
      return `loaded? ${s.modules.join(" ")}`;
    case "settle":
      return "settle";
    case "config":
      return s.text === null ? `rm /etc/modprobe.d/${s.file}` : `/etc/modprobe.d/${s.file}: ${JSON.stringify(s.text)}`;
    case "uevents":
      return `uevents of ${(s.subsystems ?? DEFAULT_UEVENT_SUBSYSTEMS).join(",")}`;
  }
}
