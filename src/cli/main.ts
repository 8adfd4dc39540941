// kbind's command line. Each command lives in src/cli/commands/<name>.ts and exports
// `register(program, io)`; this file only wires them and maps errors to exit codes.
import { Command, CommanderError } from "commander";
import { pathToFileURL } from "node:url";
import { ExitCode, processIo, type CliIo } from "./io.ts";
import { renderError } from "./render-error.ts";
import { register as registerCompare } from "./commands/compare.ts";
import { register as registerDemo } from "./commands/demo.ts";
import { register as registerHost } from "./commands/host.ts";
import { register as registerModalias } from "./commands/modalias.ts";
import { register as registerAlias } from "./commands/alias.ts";
import { register as registerMatch } from "./commands/match.ts";
import { register as registerSim } from "./commands/sim.ts";
import { register as registerExplain } from "./commands/explain.ts";
import { register as registerModprobe } from "./commands/modprobe.ts";
import { register as registerDepmod } from "./commands/depmod.ts";

type Register = (program: Command, io: CliIo) => void;

const registrations: Register[] = [registerCompare, registerDemo, registerHost, registerModalias, registerAlias, registerMatch, registerSim, registerExplain, registerModprobe, registerDepmod];

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command("kbind")
    .description("How Linux binds drivers to devices, executable: model, kmod, flavours, host tool.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const r of registrations) r(program, io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    if (e instanceof CommanderError) return e.exitCode;
    io.err(renderError(e));
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const code = await runCli(process.argv.slice(2), processIo());
  process.exitCode = code;
}
