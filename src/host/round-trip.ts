// One real end-to-end switch and back through kbind's own code path, for any SysfsPort +
// ModprobePort: the QEMU guest of the conformance issue (SerialSysfs + GuestControl, whose
// modprobe(args) runs the guest's real kmod modprobe), the simulated kernel, or the temp-dir fake.
// set DEVICE vfio → verify → unset → verify the host driver is back, with the states seen between.
import type { ModprobePort, SysfsPort } from "../ports.ts";
import { readBindState, type BindState } from "./device-state.ts";
import { MemoryJournal, type JournalStore } from "./journal.ts";
import { executePlan, planSet, planUnset, type SwitchResult } from "./switch.ts";
import type { VfioAliasEntry } from "./vfio-variant.ts";

export interface RoundTripOptions {
  sysfs: SysfsPort;
  modprobe: ModprobePort;
  device: string;
  vfioAliases: readonly VfioAliasEntry[] | null;
  mountinfo?: () => Promise<string>;
  journal?: JournalStore;
  force?: boolean;
  log?: (line: string) => void;
}

export interface RoundTripReport {
  device: string;
  before: BindState;
  set: SwitchResult;
  during: BindState;
  unset: SwitchResult | null;
  after: BindState;
  /** before === after and (set done ⇒ during is the vfio driver with its override). */
  ok: boolean;
}

export async function flavourRoundTrip(o: RoundTripOptions): Promise<RoundTripReport> {
  const env = {
    sysfs: o.sysfs,
    modprobe: o.modprobe,
    journal: o.journal ?? new MemoryJournal(),
    mountinfo: o.mountinfo ?? (() => Promise.resolve("")),
    vfioAliases: o.vfioAliases,
    log: o.log ?? (() => undefined),
  };
  const before = await readBindState(o.sysfs, "pci", o.device);
  const set = await executePlan(env, await planSet(env, o.device, { force: o.force }));
  const during = await readBindState(o.sysfs, "pci", o.device);
  let unset: SwitchResult | null = null;
  if (set.status === "done") unset = await executePlan(env, await planUnset(env, o.device, { hostDriver: before.driver }));
  const after = await readBindState(o.sysfs, "pci", o.device);
  const same = (a: BindState, b: BindState): boolean => a.driver === b.driver && a.override === b.override;
  const ok =
    set.status === "done" && during.driver !== null && during.override === during.driver && unset?.status === "done" && same(before, after);
  return { device: o.device, before, set, during, unset, after, ok };
}
