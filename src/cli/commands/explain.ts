// kbind explain SCENARIO DEVICE: why a device ended up with (or without) its driver.
import type { Command } from "commander";
import type { CliIo } from "../io.ts";
import { explainDevice } from "../../sim/explain.ts";
import { runScenarioFile } from "./sim.ts";

export function register(program: Command, io: CliIo): void {
  program
    .command("explain")
    .description("run a scenario and explain one device: matching drivers in order, probe history, why it bound")
    .argument("<scenario>", "scenario YAML file")
    .argument("<device>", "device name, e.g. 0000:01:00.0")
    .option("--seed <n>", "seed")
    .option("--until <time>", "stop the virtual clock at this time")
    .action((file: string, device: string, opts: { seed?: string; until?: string }) => {
      const { result } = runScenarioFile(file, opts);
      io.out(explainDevice(result, device));
    });
}
