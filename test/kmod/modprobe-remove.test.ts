// modprobe -r (tools/modprobe.c rmmod / rmmod_do_module / rmmod_do_remove_module / command_do,
// libkmod-module.c kmod_module_remove_module): the removal order and messages through the
// KmodKernelPort, on Debian 6.1 amd64's real modules.dep; then a differential against the real
// kmod 30 modprobe with -r as a dry run only (-n / -D: delete_module and system() are never reached).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readModuleDir } from "../../src/host/kmod-files.ts";
import type { ModuleInitstate } from "../../src/kmod/kernel-port.ts";
import { modprobe, type ModprobeEnv } from "../../src/kmod/modprobe.ts";
import { FakeKernel } from "./helpers/fake-kernel.ts";
import { makeFakeKo } from "./helpers/fake-ko.ts";
import { haveRealKmod, kbindModprobe, kbindModprobeEnv, realDepmod, realModprobeBatch, tempRoot, writeFiles } from "./helpers/real-kmod.ts";

const KVER = "6.1.0-56-amd64";
const DEBIAN = join(process.cwd(), `data/debian/${KVER}/lib/modules/${KVER}`);

/** FakeKernel plus module users: refcnt = live users (ref_module), delete_module refuses while used. */
class RefKernel extends FakeKernel {
  readonly uses = new Map<string, string[]>();
  readonly deleted: string[] = [];
  load(name: string, uses: string[] = [], state: ModuleInitstate = "live"): void {
    this.live.set(name, state);
    this.uses.set(name, uses);
  }
  moduleHolders(name: string): string[] {
    return [...this.uses].filter(([m, u]) => this.live.has(m) && u.includes(name)).map(([m]) => m);
  }
  moduleRefcnt(name: string): number {
    const s = this.live.get(name);
    if (s === undefined || s === "builtin") return -2;
    return this.moduleHolders(name).length;
  }
  override deleteModule(name: string): number {
    if (!this.live.has(name) || this.live.get(name) === "builtin") return -2;
    if (this.moduleRefcnt(name) > 0) return -11; // try_stop_module: -EWOULDBLOCK with O_NONBLOCK
    this.deleted.push(name);
    return super.deleteModule(name);
  }
}

function env(kernel: RefKernel, config = ""): ModprobeEnv {
  const md = readModuleDir(DEBIAN);
  return {
    kernel,
    unameRelease: KVER,
    env: {},
    openModuleDir: () => md,
    readConfigPath: (p) => (p === "/etc/modprobe.d" ? { kind: "dir", path: p, entries: [{ name: "t.conf", isDir: false, text: config }] } : { kind: "missing", path: p }),
    checkModuleFiles: false,
  };
}

/** The guest's virtio stack as the real Debian 6.1 guest had it loaded. */
function virtioGuest(): RefKernel {
  const k = new RefKernel();
  k.load("virtio_ring");
  k.load("virtio", ["virtio_ring"]);
  k.load("virtio_pci_legacy_dev");
  k.load("virtio_pci_modern_dev");
  k.load("virtio_pci", ["virtio", "virtio_ring", "virtio_pci_legacy_dev", "virtio_pci_modern_dev"]);
  k.load("failover");
  k.load("net_failover", ["failover"]);
  k.load("virtio_net", ["net_failover", "failover", "virtio", "virtio_ring"]);
  return k;
}

describe.skipIf(!existsSync(join(DEBIAN, "modules.dep.bin")))("modprobe -r through the KmodKernelPort (tools/modprobe.c rmmod_do_module)", () => {
  it("rmmod_do_module step 4: virtio_net's deps in reversed modules.dep order, refcnt checked at each turn — failover stays loaded (as on the real guest)", () => {
    const k = virtioGuest();
    const r = modprobe(["-r", "virtio_net"], env(k));
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(k.deleted).toEqual(["virtio_net", "net_failover"]);
    expect(k.live.has("failover")).toBe(true);
    expect(k.live.has("virtio")).toBe(true);
  });

  it("-r -v prints rmmod lines (SHOW) in the same order", () => {
    const k = virtioGuest();
    expect(modprobe(["-r", "-v", "virtio_net"], env(k)).stdout).toBe("rmmod virtio_net\nrmmod net_failover\n");
  });

  it("-r -n prints nothing without -v and removes nothing; -r -n -v lists only the top module (deps keep refcnt > 0 in a dry run)", () => {
    const k = virtioGuest();
    expect(modprobe(["-r", "-n", "virtio_net"], env(k))).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(modprobe(["-r", "-n", "-v", "virtio_net"], env(k)).stdout).toBe("rmmod virtio_net\n");
    expect(k.deleted).toEqual([]);
  });

  it("module in use: LOG 'Module virtio is in use.' at log_priority (FATAL), exit 1, delete_module not called", () => {
    const k = virtioGuest();
    expect(modprobe(["-r", "virtio"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: FATAL: Module virtio is in use.\n" });
    expect(k.deleted).toEqual([]);
  });

  it("-a lowers log_priority to WARNING and removes every operand (rmmod_all); without -a too, at FATAL", () => {
    const k = virtioGuest();
    expect(modprobe(["-r", "-a", "virtio", "virtio_net"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: WARNING: Module virtio is in use.\n" });
    expect(k.deleted).toEqual(["virtio_net", "net_failover"]);
    const k2 = virtioGuest();
    expect(modprobe(["-r", "failover", "virtio_net"], env(k2))).toEqual({ code: 1, stdout: "", stderr: "modprobe: FATAL: Module failover is in use.\n" });
    expect(k2.deleted).toEqual(["virtio_net", "net_failover"]);
  });

  it("--remove-holders (and the deprecated --remove-dependencies) removes holders first, stopping at the first failure", () => {
    const k = virtioGuest();
    expect(modprobe(["-r", "--remove-holders", "failover"], env(k))).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(k.deleted).toEqual(["virtio_net", "net_failover", "failover"]);
    // Holder virtio_net's own step 4 already removed net_failover (refcnt 0 at its turn); the
    // quick initstate check ran before, so delete_module(net_failover) then fails -ENOENT.
    const k2 = virtioGuest();
    expect(modprobe(["-r", "--remove-dependencies", "-v", "net_failover"], env(k2))).toEqual({
      code: 1,
      stdout: "rmmod virtio_net\nrmmod net_failover\nrmmod net_failover\n",
      stderr: "modprobe: ERROR: ../libkmod/libkmod-module.c:856 kmod_module_remove_module() could not remove 'net_failover': No such file or directory\n",
    });
    expect(k2.deleted).toEqual(["virtio_net", "net_failover"]);
  });

  it("not loaded: exit 0 silently; --first-time: 'Module X is not in kernel.' exit 1; unknown name: 'Module X not found.'", () => {
    const k = new RefKernel();
    expect(modprobe(["-r", "e1000"], env(k))).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(modprobe(["-r", "--first-time", "e1000"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: FATAL: Module e1000 is not in kernel.\n" });
    expect(modprobe(["-r", "nosuchmod"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: FATAL: Module nosuchmod not found.\n" });
  });

  it("builtin (modules.builtin): 'Module X is builtin.' exit 1; a builtin softdep is skipped silently (RMMOD_FLAG_IGNORE_BUILTIN)", () => {
    const k = new RefKernel();
    expect(modprobe(["-r", "unix"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: FATAL: Module unix is builtin.\n" });
    k.load("e1000");
    expect(modprobe(["-r", "-v", "e1000"], env(k, "softdep e1000 pre: unix\n"))).toEqual({ code: 0, stdout: "rmmod e1000\n", stderr: "" });
  });

  it("softdeps: post-softdeps removed first in reverse order, then the module and its unused deps, then pre-softdeps in reverse order", () => {
    const k = new RefKernel();
    for (const m of ["e1000", "loop", "dummy", "tun", "veth"]) k.load(m);
    const r = modprobe(["-r", "-v", "e1000"], env(k, "softdep e1000 pre: loop dummy post: tun veth\n"));
    expect(r).toEqual({ code: 0, stdout: "rmmod veth\nrmmod tun\nrmmod e1000\nrmmod dummy\nrmmod loop\n", stderr: "" });
    expect(k.deleted).toEqual(["veth", "tun", "e1000", "dummy", "loop"]);
  });

  it("-i ignores softdeps and remove commands", () => {
    const k = new RefKernel();
    for (const m of ["e1000", "tun"]) k.load(m);
    const r = modprobe(["-r", "-i", "-v", "e1000"], env(k, "softdep e1000 post: tun\nremove e1000 /bin/false\n"));
    expect(r).toEqual({ code: 0, stdout: "rmmod e1000\n", stderr: "" });
  });

  it("remove command: $CMDLINE_OPTS → '', MODPROBE_MODULE set, run even when not loaded; failure logs 'Error running remove command for X' and exits 1", () => {
    const k = new RefKernel();
    expect(modprobe(["-r", "-v", "e1000"], env(k, "remove e1000 /bin/true $CMDLINE_OPTS\n"))).toEqual({ code: 0, stdout: "remove /bin/true \n", stderr: "" });
    expect(k.commands).toEqual([{ cmd: "/bin/true ", env: { MODPROBE_MODULE: "e1000" } }]);
    expect(modprobe(["-r", "e1000"], env(k, "remove e1000 /bin/false\n"))).toEqual({ code: 1, stdout: "", stderr: "modprobe: FATAL: Error running remove command for e1000\n" });
    expect(modprobe(["-r", "-n", "-v", "e1000"], env(k, "remove e1000 /bin/false\n"))).toEqual({ code: 0, stdout: "remove /bin/false\n", stderr: "" });
    expect(k.commands.length).toBe(2);
  });

  it("delete_module failing: libkmod-module.c:856 kmod_module_remove_module() logs strerror, exit 1; --wait: NOLOG, modprobe's own 'could not remove'", () => {
    const k = new RefKernel();
    k.load("e1000");
    k.insertErrors.set("x", 0);
    const orig = k.deleteModule.bind(k);
    k.deleteModule = (n: string) => (n === "e1000" ? -16 : orig(n));
    expect(modprobe(["-r", "e1000"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: ERROR: ../libkmod/libkmod-module.c:856 kmod_module_remove_module() could not remove 'e1000': Device or resource busy\n" });
    expect(modprobe(["-r", "-w", "100", "e1000"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: ERROR: could not remove 'e1000': Device or resource busy\n" });
    expect(modprobe(["-r", "-w", "10x", "e1000"], env(k))).toEqual({ code: 1, stdout: "", stderr: "modprobe: ERROR: unexpected wait value '10x'.\n" });
  });
});

// The real modprobe, -r only as a dry run, on a tree whose names are also in this machine's
// /sys/module (built-in there, no initstate: kmod_module_get_initstate says BUILTIN).
describe.skipIf(!haveRealKmod())("modprobe -r -n / -D vs real kmod 30 (dry runs only)", () => {
  it("stdout, stderr and exit code identical", () => {
    const ver = "0.0.0-kbind-rm";
    const L = `lib/modules/${ver}`;
    const root = tempRoot();
    const mods: Record<string, [string, string][]> = {
      kbrm_a: [["license", "GPL"]],
      kbrm_b: [["license", "GPL"], ["softdep", "pre: kbrm_a post: kbrm_c"]],
      kbrm_c: [["license", "GPL"]],
      kbrm_d: [["alias", "kbrm-alias-*"], ["license", "GPL"]],
      loop: [["license", "GPL"]],
      fuse: [["license", "GPL"]],
    };
    const files: Record<string, string | Uint8Array> = {};
    for (const [n, mi] of Object.entries(mods)) files[`${L}/kernel/${n}.ko`] = makeFakeKo({ modinfo: mi, exports: [`sym_${n}`], needs: n === "kbrm_c" ? ["sym_kbrm_a"] : [] });
    files[`${L}/modules.order`] = Object.keys(mods).map((n) => `kernel/${n}.ko\n`).join("");
    files[`${L}/modules.builtin`] = "kernel/misc/kbrm_builtin.ko\n";
    files.conf = "remove kbrm_d /bin/false $CMDLINE_OPTS\nsoftdep kbrm_a post: kbrm_c kbrm_missing\n";
    writeFiles(root, files);
    realDepmod(root, ver);
    const conf = join(root, "conf");
    const runs: string[][] = [];
    const names = ["kbrm_a", "kbrm_b", "kbrm_c", "kbrm_d", "kbrm-alias-x", "loop", "fuse", "kbrm_builtin", "nosuch", "kbrm-alias-[", "kvm"];
    for (const n of names)
      for (const f of [["-r", "-n"], ["-r", "-n", "-v"], ["-r", "-n", "--first-time"], ["-r", "-D"], ["-r", "-n", "-i", "-v"], ["-r", "-n", "-q"], ["-r", "-n", "-v", "--remove-holders"], ["-r", "-n", "-a", "-v"]]) runs.push([...f, n]);
    runs.push(["-r", "-n", "-v", "kbrm_b", "kbrm_d"], ["-r", "-n", "-v", "-a", "kbrm_b", "nosuch", "kbrm_d"], ["-r", "-n", "-w", "0x", "kbrm_a"], ["-r", "-n", "-w", "5", "-v", "kbrm_a"]);
    const real = realModprobeBatch(root, ver, conf, runs);
    const e = kbindModprobeEnv();
    const diffs: string[] = [];
    runs.forEach((a, i) => {
      const mine = kbindModprobe(e, root, ver, conf, a);
      const x = real[i]!;
      if (mine.code !== x.code || mine.stdout !== x.stdout || mine.stderr !== x.stderr) diffs.push(`modprobe ${a.join(" ")}\n  real: ${JSON.stringify(x)}\n  kbind: ${JSON.stringify(mine)}`);
    });
    expect(diffs.slice(0, 5).join("\n")).toBe("");
    expect(runs.length).toBe(92);
  });
});
