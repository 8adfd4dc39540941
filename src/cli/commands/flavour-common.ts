// Shared by `kbind compare` and `kbind demo`: reading the machine and module files from the
// repository (the only I/O), running the design × fault matrix.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KbindError } from "../../model/errors.ts";
import { FAULTS, runScenario, type Fault, type RunResult } from "../../flavour/compare.ts";
import type { Design } from "../../flavour/designs/design.ts";
import { DESIGNS, designById } from "../../flavour/designs/index.ts";
import { DEFAULT_MACHINE, loadMachine, type Loaded } from "../../flavour/load.ts";

/** The repository root (src/cli/commands/ → ../../..), where data/ lives. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export function loadScenario(scenario: string | undefined): Loaded {
  const machinePath = scenario === undefined || scenario === "default" ? DEFAULT_MACHINE : scenario;
  const read = (p: string): string => {
    const full = isAbsolute(p) ? p : resolve(p === machinePath && scenario !== undefined && scenario !== "default" ? process.cwd() : REPO_ROOT, p);
    try {
      return readFileSync(full, "utf8");
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new KbindError("NO_FILE", `cannot read ${full}: ${code ?? String(e)}`, { file: full, errno: code === "ENOENT" ? "ENOENT" : "EIO" });
    }
  };
  return loadMachine(read, machinePath);
}

export function parseDesigns(list: string): Design[] {
  return list.split(",").map((s, i) => {
    const d = designById(s.trim());
    if (!d) throw new KbindError("BAD_DESIGN", `unknown design "${s}" (one of ${DESIGNS.map((x) => x.id).join(", ")})`, { offset: i });
    return d;
  });
}

export function parseFaults(list: string): Fault[] {
  if (list === "all") return [...FAULTS];
  return list.split(",").map((s) => {
    const f = FAULTS.find((x) => x === s.trim());
    if (!f) throw new KbindError("BAD_FAULT", `unknown fault "${s}" (one of ${FAULTS.join(", ")}, all)`, {});
    return f;
  });
}

export function runMatrix(loaded: Loaded, designs: readonly Design[], faults: readonly Fault[], seed = 1): Map<string, RunResult> {
  const out = new Map<string, RunResult>();
  for (const f of faults) for (const d of designs) out.set(`${d.id}/${f}`, runScenario(loaded.cat, loaded.machine, d, f, { seed }));
  return out;
}
