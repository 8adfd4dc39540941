// Boots the conformance machine: fetches nothing (the kernel package must be extracted already by
// scripts/fetch-debian-kernel.sh), builds or reuses the initramfs, starts QEMU and waits until the
// guest's coldplug settled.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { KbindError } from "../../model/errors.ts";
import { ensureInitramfs, type GuestImage } from "./initramfs.ts";
import { DEBIAN_KVER, GUEST_MODULES, qemuArgs } from "./machine.ts";
import { QemuGuest } from "./guest.ts";
import { GuestControl, SerialSysfs } from "./sysfs-serial.ts";

export interface GuestSession {
  guest: QemuGuest;
  sysfs: SerialSysfs;
  control: GuestControl;
  image: GuestImage;
  iommu: boolean;
  /** Boot until the command channel answered, and until coldplug settled, in ms. */
  bootMs: number;
  settleMs: number;
}

export function kernelRoot(repoRoot: string, kver = DEBIAN_KVER): string {
  const r = join(repoRoot, ".cache/debian", `linux-image-${kver}`, "root");
  if (!existsSync(join(r, "boot", `vmlinuz-${kver}`))) {
    throw new KbindError("QEMU_NO_KERNEL", `${r}: no extracted Debian kernel; run scripts/fetch-debian-kernel.sh amd64 6.1`, { file: r });
  }
  return r;
}

export async function bootGuest(repoRoot: string, opts: { iommu: boolean }): Promise<GuestSession> {
  const image = ensureInitramfs({ repoRoot, kernelRoot: kernelRoot(repoRoot), kver: DEBIAN_KVER, modules: GUEST_MODULES });
  const logDir = join(repoRoot, ".cache/qemu");
  mkdirSync(logDir, { recursive: true });
  const consoleLog = join(logDir, `console-${opts.iommu ? "iommu" : "noiommu"}.log`);
  const guest = await QemuGuest.boot(qemuArgs({ kernel: image.kernel, initrd: image.initrd, iommu: opts.iommu, consoleLog }), consoleLog);
  const control = new GuestControl(guest);
  const t0 = Date.now();
  await control.settle();
  return { guest, sysfs: new SerialSysfs(guest), control, image, iommu: opts.iommu, bootMs: guest.bootMs, settleMs: Date.now() - t0 };
}
