// `kbind demo` (npm start): boot the embedded default server, switch its vfio devices under every
// design, print the comparison, the fault matrix and a readable timeline — in a few seconds, offline.
import type { Command } from "commander";
import { type CliIo } from "../io.ts";
import { FAULTS, type RunResult } from "../../flavour/compare.ts";
import { DESIGNS } from "../../flavour/designs/index.ts";
import { renderCostTable, renderDeviceTable, renderFaultMatrix, renderTimeline, renderVerdict } from "../../flavour/render.ts";
import { loadScenario, runMatrix } from "./flavour-common.ts";

export function register(program: Command, io: CliIo): void {
  program
    .command("demo")
    .description("the main job: boot the default server and switch devices to vfio under the four designs, with faults")
    .option("--timeline <design>", "which design's timeline to print", "a")
    .action((opts: { timeline: string }) => {
      const loaded = loadScenario(undefined);
      const { machine } = loaded;
      const style = { color: io.isTty };
      const matrix = runMatrix(loaded, DESIGNS, FAULTS);
      const runs = DESIGNS.map((d) => matrix.get(`${d.id}/none`)).filter((r): r is RunResult => r !== undefined);
      const vfio = machine.devices.filter((d) => d.vfio === true).length;
      io.out(
        `kbind demo — ${machine.name}: ${machine.arch}, Debian ${machine.kver} module metadata + upstream vfio variant tables\n` +
          `${machine.devices.length} devices booted; ${vfio} are switched to vfio under each design:\n` +
          `  (a) driver_flavour in the kernel   (b) softdep pre-load + driver_override "vfio_pci*"\n` +
          `  (c) userspace, libvirt's fewest-wildcards vfio_pci: alias   (d) udev hook, else vfio_pci\n` +
          `✓ = the most specific loadable vfio driver (vfio devices) or the host driver (others); times are virtual.\n\n`,
      );
      io.out(`${renderDeviceTable(runs, style)}\n${renderCostTable(runs, style)}\n`);
      io.out(`\nUnder faults (devices on the right driver / all):\n${renderFaultMatrix(matrix, DESIGNS, FAULTS, style)}\n`);
      io.out(`\nVerdict over the ${FAULTS.length} scenarios:\n${renderVerdict(matrix, DESIGNS, FAULTS, style)}\n`);
      const tl = matrix.get(`${opts.timeline}/none`);
      if (tl) io.out(`\nTimeline of design (${tl.design}), ${tl.designTitle}, from the switch start:\n${renderTimeline(tl, style, 45)}\n`);
    });
}
