// The first private flavour simulator (world.ts) behind the FlavourBackend interface, kept selectable
// (`--backend world`) while the kernel backend (kernel-backend.ts) replaces it.
import type { Catalogue } from "./catalogue.ts";
import type { BackendDevice, BackendOptions, FlavourBackend } from "./backend.ts";
import type { Design, DeviceIdentity } from "./designs/design.ts";
import type { Proc } from "./ops.ts";
import { isPlatformSpec, type DeviceSpec } from "./spec.ts";
import { pciIdentity } from "./catalogue.ts";
import { World } from "./world.ts";

export class WorldBackend implements FlavourBackend {
  readonly world: World;

  constructor(cat: Catalogue, design: Design, opts: BackendOptions) {
    this.world = new World(cat, { ...design.config, costs: opts.costs, jitter: opts.jitter, seed: opts.seed });
    for (const m of opts.missing) this.world.missing.add(m);
  }

  get trace(): FlavourBackend["trace"] {
    return this.world.trace;
  }
  now(): number {
    return this.world.now;
  }
  at(delayMs: number, fn: () => void): void {
    this.world.at(delayMs, fn);
  }
  run(untilMs?: number): void {
    this.world.run(untilMs);
  }
  addDevice(d: DeviceSpec): void {
    if (isPlatformSpec(d))
      this.world.addDevice({ bus: "platform", name: d.platform.name, label: d.label, pci: null, of: { fullName: d.platform.fullName, type: d.platform.type ?? null, compatible: d.platform.compatible }, physfn: null });
    else this.world.addDevice({ bus: "pci", name: d.slot, label: d.label, pci: pciIdentity(d), of: null, physfn: d.physfn ?? null });
  }
  devices(): BackendDevice[] {
    return this.world.devices.map((d) => ({ bus: d.bus, name: d.name, pci: d.pci, of: d.of, driver: d.driver?.name ?? null, driverModule: d.driver?.module ?? null, boundAt: d.driver ? d.boundAt : null, resetModule: d.resetModule }));
  }
  loadedModules(): string[] {
    return [...this.world.loaded.entries()].filter(([, s]) => s.state === "live").map(([n]) => n);
  }
  moduleAvailable(name: string): boolean {
    return this.world.moduleAvailable(name);
  }
  spawn<T>(name: string, gen: Proc<T>, onExit: (value: T | undefined, error: unknown) => void): void {
    this.world.spawn(name, gen, onExit);
  }
  note(text: string, device?: string, agent?: string): void {
    this.world.note(text, device, agent);
  }
  setModprobeFails(on: boolean): void {
    this.world.modprobeFails = on;
  }
  setUdev(mode: "ok" | "slow" | "dead"): void {
    this.world.udevMode = mode;
  }
  installUdevRule(design: Design, switchSet: readonly DeviceIdentity[]): void {
    if (design.udevHook) this.world.udevHook = design.udevHook(switchSet.map((d) => ({ bus: d.bus, name: d.name })));
  }
  counts(): { writes: number; uevents: number; execs: number } {
    return { writes: this.world.writes.length, uevents: this.world.uevents.length, execs: this.world.execs.length };
  }
}
