// Boots the conformance machine: finds (or fetches with apt, via scripts/fetch-debian-kernel.sh, which
// caches the extracted package under .cache/debian) Debian's kernel image, builds or reuses the
// initramfs, starts QEMU and waits until the guest's coldplug settled.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
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

/** The extracted Debian kernel package and its release; fetched with apt when not cached yet. */
export function kernelRoot(repoRoot: string, kver = DEBIAN_KVER): { root: string; kver: string } {
  const r = join(repoRoot, ".cache/debian", `linux-image-${kver}`, "root");
  if (existsSync(join(r, "boot", `vmlinuz-${kver}`))) return { root: r, kver };
  let fetched: string;
  try {
    fetched = execFileSync(join(repoRoot, "scripts/fetch-debian-kernel.sh"), ["amd64", "6.1"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n").pop() ?? "";
  } catch (e) {
    const err = e as { stderr?: string };
    throw new KbindError("QEMU_NO_KERNEL", `${r} is missing and scripts/fetch-debian-kernel.sh amd64 6.1 failed: ${err.stderr ?? String(e)}`, { file: r });
  }
  const releases = existsSync(join(fetched, "lib/modules")) ? readdirSync(join(fetched, "lib/modules")) : [];
  const rel = releases[0];
  if (rel === undefined || !existsSync(join(fetched, "boot", `vmlinuz-${rel}`))) {
    throw new KbindError("QEMU_NO_KERNEL", `${fetched}: no vmlinuz/modules after fetching`, { file: fetched });
  }
  return { root: fetched, kver: rel };
}

export async function bootGuest(repoRoot: string, opts: { iommu: boolean }): Promise<GuestSession> {
  const kr = kernelRoot(repoRoot);
  const image = ensureInitramfs({ repoRoot, kernelRoot: kr.root, kver: kr.kver, modules: GUEST_MODULES });
  const logDir = join(repoRoot, ".cache/qemu");
  mkdirSync(logDir, { recursive: true });
  const consoleLog = join(logDir, `console-${opts.iommu ? "iommu" : "noiommu"}.log`);
  const guest = await QemuGuest.boot(qemuArgs({ kernel: image.kernel, initrd: image.initrd, iommu: opts.iommu, consoleLog }), consoleLog);
  const control = new GuestControl(guest);
  const t0 = Date.now();
  await control.settle();
  return { guest, sysfs: new SerialSysfs(guest), control, image, iommu: opts.iommu, bootMs: guest.bootMs, settleMs: Date.now() - t0 };
}
