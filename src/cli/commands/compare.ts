// `kbind compare [SCENARIO]`: run the vfio designs on a machine, per device and fault.
import type { Command } from "commander";
import { type CliIo } from "../io.ts";
import { renderCostTable, renderDeviceTable, renderFaultMatrix, renderSweep, renderTimeline } from "../../flavour/render.ts";
import { sweep } from "../../flavour/compare.ts";
import { KbindError } from "../../model/errors.ts";
import { loadScenario, parseDesigns, parseFaults, runMatrix } from "./flavour-common.ts";
import type { RunResult } from "../../flavour/compare.ts";

interface CompareOptions {
  design: string;
  fault: string;
  json?: boolean;
  timeline?: string;
  seed: string;
  sweep?: string;
}

export function register(program: Command, io: CliIo): void {
  program
    .command("compare")
    .description("switch a machine's vfio devices under each design (a: driver_flavour, b: softdep+glob, c: libvirt, d: udev hook) and compare, with faults")
    .argument("[scenario]", "machine file (YAML), or 'default' for data/machines/default-server.yaml")
    .option("--design <ids>", "designs to run, comma separated", "a,b,c,d")
    .option("--fault <list>", "faults: none, variant-missing, modprobe-fails, udev-slow, udev-dead, hot-add, race, or all", "all")
    .option("--timeline <design/fault>", "print the switch timeline of one run, e.g. a/none")
    .option("--seed <n>", "seed for the simulator", "1")
    .option("--sweep <n>", "also run each design x fault over n seeded interleavings (jittered costs, fault timing)")
    .option("--json", "machine-readable output")
    .action((scenario: string | undefined, opts: CompareOptions) => {
      const loaded = loadScenario(scenario);
      const designs = parseDesigns(opts.design);
      const faults = parseFaults(opts.fault);
      const matrix = runMatrix(loaded, designs, faults, Number(opts.seed));
      if (opts.json === true) {
        const runs = [...matrix.values()].map((r) => ({ ...r, trace: r.trace.map((t) => ({ ...t, t: Math.round((t.t - r.switchStart) * 100) / 100 })) }));
        io.out(`${JSON.stringify({ machine: loaded.machine.name, kver: loaded.machine.kver, runs }, null, 2)}\n`);
        return;
      }
      const style = { color: io.isTty };
      const firstFault = faults[0] ?? "none";
      const perDevice = designs.map((d) => matrix.get(`${d.id}/${firstFault}`)).filter((r): r is RunResult => r !== undefined);
      io.out(`machine ${loaded.machine.name} (${loaded.machine.arch}, ${loaded.machine.kver}), fault: ${firstFault}\n`);
      io.out(`${renderDeviceTable(perDevice, style)}\n${renderCostTable(perDevice, style)}\n`);
      if (faults.length > 1) io.out(`\nfaults (devices ending on the right driver):\n${renderFaultMatrix(matrix, designs, faults, style)}\n`);
      if (opts.sweep !== undefined) {
        const n = Number(opts.sweep);
        if (!Number.isInteger(n) || n < 1 || n > 10000) throw new KbindError("BAD_SWEEP", `--sweep wants a count from 1 to 10000, not "${opts.sweep}"`, {});
        const results = faults.flatMap((f) => designs.map((d) => sweep(loaded.cat, loaded.machine, d, f, n, Number(opts.seed))));
        io.out(`\nover ${n} seeded interleavings (runs with every device right):\n${renderSweep(results, designs, faults, style)}\n`);
      }
      if (opts.timeline !== undefined) {
        const r = matrix.get(opts.timeline.includes("/") ? opts.timeline : `${opts.timeline}/${firstFault}`);
        io.out(r ? `\ntimeline ${opts.timeline}:\n${renderTimeline(r, style, 400)}\n` : `\nno run ${opts.timeline} in this comparison\n`);
      }
    });
}
