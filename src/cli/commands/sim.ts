// kbind sim SCENARIO [--json] [--seed N] [--until T]: run a scenario on the kernel model.
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { CliIo } from "../io.ts";
import { ExitCode } from "../io.ts";
import { loadScenario, type LoadedScenario } from "../../sim/scenario.ts";
import { formatFinalState, simulate, type SimOptions, type SimResult } from "../../sim/simulator.ts";
import { formatTraceJsonl, formatTraceText } from "../../sim/trace.ts";
import { parseDuration } from "../../sim/clock.ts";
import { readModuleDir } from "../../host/kmod-files.ts";
import { KbindError } from "../../model/errors.ts";

/** Reads and runs a scenario file (shared by sim and explain). */
export function runScenarioFile(file: string, opts: { seed?: string; until?: string }): { loaded: LoadedScenario; result: SimResult } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new KbindError("ENOENT", `cannot read scenario: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  const loaded = loadScenario(text, file);
  const simOpts: SimOptions = {};
  if (opts.seed !== undefined) {
    const n = Number(opts.seed);
    if (!Number.isInteger(n)) throw new KbindError("BAD_SEED", `--seed must be an integer: ${opts.seed}`);
    simOpts.seed = n;
  }
  if (opts.until !== undefined) simOpts.untilNs = parseDuration(opts.until, "--until");
  const dir = loaded.scenario.modules.dir;
  if (dir !== undefined) {
    const base = isAbsolute(dir) ? dir : resolve(dirname(file), dir);
    simOpts.moduleDir = readModuleDir(base);
  }
  return { loaded, result: simulate(loaded, simOpts) };
}

export function register(program: Command, io: CliIo): void {
  program
    .command("sim")
    .description("run a scenario (machine, modules, udev, script) on the kernel model; prints the trace and the final state")
    .argument("<scenario>", "scenario YAML file")
    .option("--json", "JSON Lines: one trace record per line, then the final state")
    .option("--seed <n>", "seed for latencies and faults (overrides the scenario's)")
    .option("--until <time>", "stop the virtual clock at this time (e.g. 50ms)")
    .option("--env", "print every uevent's variables under it")
    .action((file: string, opts: { json?: boolean; seed?: string; until?: string; env?: boolean }) => {
      const { result } = runScenarioFile(file, opts);
      if (opts.json) {
        io.out(formatTraceJsonl(result.trace.records));
        io.out(JSON.stringify({ final: result.state, failures: result.failures, expectations: result.expectations }) + "\n");
      } else {
        io.out(formatTraceText(result.trace.records, { env: opts.env ?? false }));
        io.out(formatFinalState(result.state));
        io.out(`expectations: ${result.expectations - result.failures}/${result.expectations} passed\n`);
      }
      if (result.failures > 0) throw new ExitCode(1);
    });
}
