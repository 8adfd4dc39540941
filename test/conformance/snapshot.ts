// The guest state a case must leave as it found it: every PCI and virtio device's driver and
// driver_override, drivers_autoprobe, the PCI drivers present, the loaded modules and /etc/modprobe.d. Taken with one
// shell command in the guest (one serial round trip instead of ~60).
import type { GuestControl } from "../../src/host/qemu/sysfs-serial.ts";

const SCRIPT = [
  'for d in /sys/bus/pci/devices/*; do l=$(readlink "$d/driver"); printf "pci %s driver=%s override=%s\\n" "${d##*/}" "${l##*/}" "$(cat "$d/driver_override")"; done',
  'for d in /sys/bus/virtio/devices/*; do [ -e "$d" ] || continue; l=$(readlink "$d/driver"); printf "virtio %s driver=%s\\n" "${d##*/}" "${l##*/}"; done',
  'printf "drivers_autoprobe=%s\\n" "$(cat /sys/bus/pci/drivers_autoprobe)"',
  'printf "pci drivers: %s\\n" "$(ls /sys/bus/pci/drivers | tr "\\n" " ")"',
  'printf "modules: %s\\n" "$(cut -d" " -f1 /proc/modules | sort | tr "\\n" " ")"',
  'printf "modprobe.d: %s\\n" "$(ls /etc/modprobe.d | tr "\\n" " ")"',
].join("; ");

export async function snapshot(control: GuestControl): Promise<string[]> {
  const r = await control.sh(SCRIPT);
  return r.stdout.split("\n").filter((l) => l.length > 0);
}

/** Lines of `b` that differ from `a`, as "- old / + new". */
export function snapshotDiff(a: readonly string[], b: readonly string[]): string[] {
  const sa = new Set(a), sb = new Set(b);
  return [...a.filter((l) => !sb.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !sa.has(l)).map((l) => `+ ${l}`)];
}
