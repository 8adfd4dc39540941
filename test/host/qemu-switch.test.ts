// Host mode on a REAL kernel: boots the conformance QEMU guest (Debian 6.1 kernel, real kmod) and
// drives the guest's sysfs over the serial console (SerialSysfs) and its real modprobe
// (GuestControl) with kbind's own switch code (src/host/switch.ts via round-trip.ts):
//  - with emulated VT-d: e1000e and nvme → vfio-pci → back to their host drivers, verified;
//  - without an IOMMU: vfio-pci's probe really fails (no IOMMU group), kbind rolls back to e1000e.
// Skips only when the guest cannot be built here: no extracted Debian kernel or no qemu-system-x86_64.
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { MemoryJournal } from "../../src/host/journal.ts";
import { flavourRoundTrip } from "../../src/host/round-trip.ts";
import { executePlan, planSet } from "../../src/host/switch.ts";
import { scanVfioAliases } from "../../src/host/vfio-variant.ts";
import { bootGuest } from "../../src/host/qemu/session.ts";
import { DEBIAN_KVER } from "../../src/host/qemu/machine.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../..");
const kernel = join(repo, ".cache/debian", `linux-image-${DEBIAN_KVER}`, "root/boot", `vmlinuz-${DEBIAN_KVER}`);
function haveQemu(): boolean {
  try {
    execFileSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const missing = !existsSync(kernel) ? `no extracted Debian kernel at ${kernel} (scripts/fetch-debian-kernel.sh amd64 6.1)` : !haveQemu() ? "qemu-system-x86_64 is not installed" : null;
const aliases = scanVfioAliases(readFileSync(join(repo, "data/debian", DEBIAN_KVER, "lib/modules", DEBIAN_KVER, "modules.alias"), "latin1"));
const st = (b: { driver: string | null; override: string | null }): string => `${b.driver ?? "(none)"}/${b.override ?? "(null)"}`;

describe.skipIf(missing !== null)(`host flavour switch in the QEMU guest${missing ? ` (skipped: ${missing})` : ""}`, () => {
  it("with VT-d: e1000e and nvme devices go to vfio-pci and back, each step verified on the real kernel", { timeout: 300_000 }, async () => {
    const s = await bootGuest(repo, { iommu: true });
    try {
      for (const [device, host] of [["0000:01:00.0", "e1000e"], ["0000:02:00.0", "nvme"]] as const) {
        const lines: string[] = [];
        const r = await flavourRoundTrip({
          sysfs: s.sysfs,
          modprobe: s.control,
          device,
          vfioAliases: aliases,
          mountinfo: async () => (await s.control.sh("cat /proc/self/mountinfo")).stdout,
          log: (l) => lines.push(l),
        });
        console.log(`${device}: ${st(r.before)} → set ${r.set.status} → ${st(r.during)} → unset ${r.unset?.status ?? "-"} → ${st(r.after)}\n  ${lines.join("\n  ")}`);
        expect(r.before).toEqual({ driver: host, override: null });
        expect(r.during).toEqual({ driver: "vfio-pci", override: "vfio-pci" });
        expect(r.after).toEqual({ driver: host, override: null });
        expect(r.ok).toBe(true);
      }
    } finally {
      s.guest.kill();
    }
  });

  it("without an IOMMU: vfio-pci's real probe fails, kbind detects it and restores e1000e", { timeout: 300_000 }, async () => {
    const s = await bootGuest(repo, { iommu: false });
    try {
      const lines: string[] = [];
      const env = { sysfs: s.sysfs, modprobe: s.control, journal: new MemoryJournal(), mountinfo: () => Promise.resolve(""), vfioAliases: aliases, log: (l: string) => lines.push(l) };
      const plan = await planSet(env, "0000:01:00.0");
      expect(plan.notes.join("\n")).toContain("has no IOMMU group");
      const res = await executePlan(env, plan);
      console.log(`0000:01:00.0 without IOMMU: ${res.status}: ${res.failure ?? ""}\n  ${lines.join("\n  ")}\n  ${res.restored.join("\n  ")}`);
      expect(res.status).toBe("rolled-back");
      expect(res.failure).toBe("0000:01:00.0 is not bound to vfio-pci after drivers_probe: probe failed or no driver matched (see dmesg)");
      expect(res.final).toEqual([{ device: "0000:01:00.0", state: { driver: "e1000e", override: null } }]);
    } finally {
      s.guest.kill();
    }
  });
});
