// Autoload and explicit loads under modprobe.d configuration (kmod libkmod-config.c; modprobe.c):
// `blacklist` filters alias lookups (udev's `modprobe -b $MODALIAS`, and plain alias loads too) but not
// a load by module name,
// `options` supplies parameters, `softdep` loads pre: modules first, `install` runs a command
// instead of loading, `alias` adds a name. The same files are given to the real and the model
// modprobe.
import type { Case, MachineKind, Step } from "../case-format.ts";
import { E1000, EDU, EDU2, cases, dev, driver, loaded, modprobe, modprobeOut, probe, rmmod, settle, unbind, write } from "./devices.ts";

const conf = (text: string | null): Step => ({ op: "config", file: "kbind-test.conf", text });
const E1000_ALIAS = "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00";

export function modprobeConfigCases(machine: MachineKind): Case[] {
  return cases(machine, "modprobe.d", [
    {
      name: "blacklist-stops-autoload",
      title: "blacklist e1000: the synthetic add's modprobe -b $MODALIAS loads nothing; modprobe e1000 still loads it",
      steps: [conf("blacklist e1000\n"), rmmod("e1000"), write(dev(E1000, "uevent"), "add"), settle, loaded("e1000"), driver(E1000), modprobe("e1000"), driver(E1000)],
      cleanup: [conf(null), modprobe("e1000"), probe(E1000)],
    },
    {
      name: "blacklist-alias-b",
      title: "a blacklisted module's alias is skipped with and without -b (modprobe adds KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY for alias lookups): exit 0, silent, nothing loaded",
      steps: [conf("blacklist e1000\n"), rmmod("e1000"), modprobeOut("-b", E1000_ALIAS), loaded("e1000"), modprobeOut(E1000_ALIAS), loaded("e1000")],
      cleanup: [conf(null), modprobe("e1000"), probe(E1000)],
    },
    {
      name: "blacklist-resolve",
      title: "modprobe -R -b of a blacklisted module's alias",
      steps: [conf("blacklist e1000\n"), modprobeOut("-R", "-b", E1000_ALIAS), modprobeOut("-R", E1000_ALIAS)],
      cleanup: [conf(null)],
    },
    {
      name: "options-ids",
      title: "options pci_stub ids=1234:11e8: parameters from modprobe.d reach the module",
      steps: [conf("options pci_stub ids=1234:11e8\n"), modprobeOut("-n", "-v", "pci_stub"), modprobe("pci_stub"), driver(EDU), driver(EDU2)],
      cleanup: [conf(null), unbind("pci-stub", EDU), unbind("pci-stub", EDU2), rmmod("pci_stub")],
    },
    {
      name: "softdep-pre",
      title: "softdep e1000 pre: pci_stub loads pci_stub before e1000",
      steps: [conf("softdep e1000 pre: pci_stub\n"), rmmod("e1000"), modprobeOut("-n", "-v", "e1000"), modprobe("e1000"), loaded("pci_stub", "e1000"), driver(E1000)],
      cleanup: [conf(null), rmmod("pci_stub"), modprobe("e1000"), probe(E1000)],
    },
    {
      name: "install-true",
      title: "install pci_stub /bin/true: modprobe runs the command and loads nothing",
      steps: [conf("install pci_stub /bin/true\n"), modprobeOut("-n", "-v", "pci_stub"), modprobe("pci_stub"), loaded("pci_stub")],
      cleanup: [conf(null), rmmod("pci_stub")],
    },
    {
      name: "install-false",
      title: "install pci_stub /bin/false: modprobe fails with the command's status",
      steps: [conf("install pci_stub /bin/false\n"), modprobeOut("pci_stub"), loaded("pci_stub")],
      cleanup: [conf(null), rmmod("pci_stub")],
    },
    {
      name: "alias-name",
      title: "alias kbind_nic e1000: modprobe of the new name loads e1000",
      steps: [conf("alias kbind_nic e1000\n"), rmmod("e1000"), modprobeOut("-R", "kbind_nic"), modprobe("kbind_nic"), loaded("e1000"), driver(E1000)],
      cleanup: [conf(null), modprobe("e1000"), probe(E1000)],
    },
  ]);
}
