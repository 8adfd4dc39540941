// The conformance guest's initramfs, built by scripts/qemu/build-initramfs.sh and cached under
// .cache/qemu/ keyed by a hash of every input (the scripts, the helper's C source, the module list,
// the kernel's modules.dep, and the busybox/kmod binaries that get copied in).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { KbindError } from "../../model/errors.ts";

export interface GuestImageSpec {
  /** Repository root (for scripts/qemu and .cache). */
  repoRoot: string;
  /** An extracted Debian linux-image package (scripts/fetch-debian-kernel.sh). */
  kernelRoot: string;
  kver: string;
  /** Modules to include (their modules.dep closure is added). */
  modules: readonly string[];
}

export interface GuestImage {
  kernel: string;
  initrd: string;
  key: string;
  cached: boolean;
}

function which(cmd: string): string {
  try {
    return realpathSync(execFileSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim());
  } catch {
    throw new KbindError("QEMU_TOOL_MISSING", `${cmd} is not installed (apt-get install ${cmd === "kmod" ? "kmod" : "busybox-static"})`, { file: cmd });
  }
}

export function initramfsKey(spec: GuestImageSpec): string {
  const h = createHash("sha256");
  const scripts = join(spec.repoRoot, "scripts/qemu");
  for (const f of ["build-initramfs.sh", "init", "kbind-guest.c"]) h.update(f).update(readFileSync(join(scripts, f)));
  h.update(spec.kver).update(spec.modules.join(","));
  h.update(readFileSync(join(spec.kernelRoot, "lib/modules", spec.kver, "modules.dep")));
  for (const bin of [which("busybox"), which("kmod")]) h.update(bin).update(readFileSync(bin));
  return h.digest("hex").slice(0, 16);
}

/** Builds (or reuses) the initramfs; throws KbindError with the build's stderr when it fails. */
export function ensureInitramfs(spec: GuestImageSpec): GuestImage {
  const kernel = join(spec.kernelRoot, "boot", `vmlinuz-${spec.kver}`);
  if (!existsSync(kernel)) {
    throw new KbindError("QEMU_NO_KERNEL", `${kernel} is missing: run scripts/fetch-debian-kernel.sh amd64 6.1`, { file: kernel });
  }
  const key = initramfsKey(spec);
  const initrd = join(spec.repoRoot, ".cache/qemu", `initramfs-${spec.kver}-${key}.cpio.gz`);
  if (existsSync(initrd)) return { kernel, initrd, key, cached: true };
  try {
    execFileSync(join(spec.repoRoot, "scripts/qemu/build-initramfs.sh"), [spec.kernelRoot, spec.kver, initrd, ...spec.modules], {
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    throw new KbindError("QEMU_INITRAMFS", `building ${initrd} failed: ${err.stderr?.toString() ?? String(e)}`, { file: initrd });
  }
  return { kernel, initrd, key, cached: false };
}
