// An in-memory kernel for libkmod, as kmod's testsuite fakes it (testsuite/init_module.c creates
// /sys/module/<mod>/initstate = live on success; TC_INIT_MODULE_RETCODES scripts errors;
// delete_module.c likewise). install/remove commands run through a tiny shell: `&&`, `;`,
// `{ … ; }`, `$MODPROBE` (kbind's modprobe on the same files), `$CMDLINE_OPTS`-free words,
// `/bin/true`, `/bin/false`, `echo`.
import type { KmodKernelPort, ModuleInitstate } from "../../../src/kmod/kernel-port.ts";

export class FakeKernel implements KmodKernelPort {
  readonly live = new Map<string, ModuleInitstate>();
  /** Insert order, with params: what init_module was called with. */
  readonly inserted: { name: string; path: string; params: string }[] = [];
  readonly commands: { cmd: string; env: Record<string, string> }[] = [];
  readonly insertErrors = new Map<string, number>();
  cmdline = "";
  /** Runs `$MODPROBE args…` for the shell interpreter; set by the test. */
  modprobe: ((args: string[]) => number) | null = null;

  moduleInitstate(name: string): ModuleInitstate | null {
    return this.live.get(name) ?? null;
  }

  insertModule(name: string, path: string, params: string): number {
    const err = this.insertErrors.get(name);
    if (err !== undefined) return err;
    if (this.live.has(name)) return -17;
    this.inserted.push({ name, path, params });
    this.live.set(name, "live");
    return 0;
  }

  deleteModule(name: string): number {
    if (!this.live.has(name)) return -2;
    this.live.delete(name);
    return 0;
  }

  kernelCmdline(): string {
    return this.cmdline;
  }

  runCommand(cmd: string, env: Record<string, string>): number {
    this.commands.push({ cmd, env });
    return this.sh(cmd, env);
  }

  private sh(cmd: string, env: Record<string, string>): number {
    const words = cmd.replace(/[{}]/g, " ; ").split(/\s+/).filter((w) => w !== "");
    let status = 0;
    let skip = false;
    let cur: string[] = [];
    const run = (): void => {
      if (cur.length === 0) return;
      if (!skip) status = this.exec(cur, env);
      cur = [];
    };
    for (const w of words) {
      if (w === "&&") {
        run();
        skip = status !== 0;
      } else if (w === ";") {
        run();
        skip = false;
      } else cur.push(w);
    }
    run();
    return status;
  }

  private exec(argv: string[], env: Record<string, string>): number {
    const expand = (w: string): string => w.replace(/\$([A-Z_]+)/g, (_, v: string) => env[v] ?? (v === "MODPROBE" ? "modprobe" : ""));
    const a = argv.map(expand);
    if (a[0] === "modprobe" || a[0] === "/sbin/modprobe") {
      if (!this.modprobe) return 127;
      return this.modprobe(a.slice(1));
    }
    if (a[0] === "/bin/true" || a[0] === "true" || a[0] === "echo") return 0;
    if (a[0] === "/bin/false" || a[0] === "false") return 1;
    return 127;
  }
}
