// Assembles a flavour run's inputs from repository files. The caller supplies the file reader
// (the CLI passes fs.readFileSync relative to the repository root), so this stays free of I/O.
import { parse } from "yaml";
import { KbindError } from "../model/errors.ts";
import { buildCatalogue, type Catalogue } from "./catalogue.ts";
import { parseMachine, parseVariants, type MachineSpec } from "./spec.ts";

export const DEFAULT_MACHINE = "data/machines/default-server.yaml";

export type ReadText = (path: string) => string;

export interface Loaded {
  machine: MachineSpec;
  cat: Catalogue;
}

function yamlFile(read: ReadText, path: string): unknown {
  try {
    return parse(read(path));
  } catch (e) {
    if (e instanceof KbindError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new KbindError("BAD_SPEC", `${path}: ${msg}`, { file: path });
  }
}

export function loadMachine(read: ReadText, machinePath: string = DEFAULT_MACHINE): Loaded {
  const machine = parseMachine(yamlFile(read, machinePath), machinePath);
  const variants = parseVariants(yamlFile(read, machine.variants), machine.variants);
  const dir = machine.moduleData;
  const cat = buildCatalogue(
    {
      kver: machine.kver,
      alias: read(`${dir}/modules.alias`),
      dep: read(`${dir}/modules.dep`),
      softdep: read(`${dir}/modules.softdep`),
    },
    variants,
  );
  return { machine, cat };
}
