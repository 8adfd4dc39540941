// `kbind modprobe [modprobe options] MODULE|ALIAS [params]`: kmod 30's modprobe reimplemented
// (src/kmod/modprobe.ts), with the same options, output and exit codes, reading this host's
// module directory and modprobe.d (src/host/kmod-files.ts). It never changes the host: /sys/module
// and /proc/cmdline are only read, and an actual insertion or install command is refused (use
// -n/--dry-run, -D/--show-depends, -R or -c).
import type { Command } from "commander";
import { hostModprobeEnv } from "../../host/kmod-files.ts";
import { modprobe } from "../../kmod/modprobe.ts";
import { ExitCode, type CliIo } from "../io.ts";

export function register(program: Command, io: CliIo): void {
  program
    .command("modprobe")
    .description("kmod 30 modprobe, exact output (-R, -D, -n -v, -c, -b, -i, --first-time, -d, -S, -C, -q); never loads anything")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]", "modprobe arguments, exactly as for the real tool")
    .action((args: string[]) => {
      const r = modprobe(args, hostModprobeEnv());
      io.out(r.stdout);
      io.err(r.stderr);
      if (r.code !== 0) throw new ExitCode(r.code);
    });
}
