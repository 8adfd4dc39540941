// `kbind depmod [-b BASEDIR] VERSION`: depmod's job in TypeScript (src/kmod/depmod.ts): reads every
// .ko (plain, .gz, .xz, .zst — chosen by magic bytes) under BASEDIR/lib/modules/VERSION and
// writes modules.dep, .alias, .softdep, .symbols, .devname and the .bin indexes like kmod 30.
import type { Command } from "commander";
import { runDepmodOnDiskAsync } from "../../host/kmod-files.ts";
import { type CliIo } from "../io.ts";

export function register(program: Command, io: CliIo): void {
  program
    .command("depmod")
    .description("generate modules.dep/.alias/.softdep/.symbols and .bin indexes from .ko files (kmod 30 depmod)")
    .option("-b, --basedir <dir>", "use an image of a module tree rooted at DIR", "")
    .argument("<version>", "kernel version (directory under lib/modules)")
    .action(async (version: string, o: { basedir: string }) => {
      const r = await runDepmodOnDiskAsync(o.basedir === "" ? "/" : o.basedir, version);
      io.err(r.warnings.join(""));
    });
}
