// What libkmod asks of the kernel (and of the process environment) while loading modules.
// The simulator (src/kernel, src/sim) implements it, so modprobe/udev loads go into the model;
// tests use a small in-memory fake (test/kmod/fake-kernel.ts), as kmod's testsuite fakes
// init_module/finit_module/delete_module (testsuite/init_module.c, delete_module.c).

/** kmod_module_get_initstate: /sys/module/<name>/initstate (+ "builtin" from modules.builtin). */
export type ModuleInitstate = "live" | "coming" | "going" | "builtin";

export interface KmodKernelPort {
  /** State of /sys/module/<name>, or null when the module is not in the kernel at all. */
  moduleInitstate(name: string): ModuleInitstate | null;
  /** finit_module(fd of `path`, params): 0 or -errno. */
  insertModule(name: string, path: string, params: string): number;
  /** delete_module(name, O_NONBLOCK): 0 or -errno. */
  deleteModule(name: string): number;
  /** system(cmd) with extra environment (MODPROBE_MODULE): the wait status' exit code, or -1. */
  runCommand(cmd: string, env: Record<string, string>): number;
  /** Contents of /proc/cmdline. */
  kernelCmdline(): string;
  /**
   * kmod_module_get_refcnt: /sys/module/<name>/refcnt, or -errno when the file is absent (-ENOENT
   * for a module not loaded or built in). Optional: without it modprobe -r cannot see users and
   * leaves the refusal to delete_module (see docs/kmod.md).
   */
  moduleRefcnt?(name: string): number;
  /** kmod_module_get_holders: the entries of /sys/module/<name>/holders/ (readdir order), or -errno when the directory cannot be opened. */
  moduleHolders?(name: string): string[] | number;
}
