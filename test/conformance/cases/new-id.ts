// new_id / remove_id (drivers/pci/pci-driver.c new_id_store, remove_id_store, pci_add_dynid):
// sscanf "%x %x %x %x %x %x %lx", fewer than 2 fields is -EINVAL; with fewer than 7 fields an ID the
// driver already matches is -EEXIST; driver_data must equal one of the static table's values;
// pci_add_dynid then runs driver_attach, so unbound matching devices get bound. remove_id deletes the
// first equal dynid (-ENODEV if none) and unbinds nothing.
import type { Case, MachineKind } from "../case-format.ts";
import { E1000, EDU, EDU2, TESTDEV, cases, driver, modprobe, pdrv, probe, read, rmmod, unbind, write } from "./devices.ts";

const NEW = pdrv("pci-stub", "new_id");
const REM = pdrv("pci-stub", "remove_id");
const stubOff = [unbind("pci-stub", EDU), unbind("pci-stub", EDU2), unbind("pci-stub", TESTDEV), rmmod("pci_stub")];

export function newIdCases(machine: MachineKind): Case[] {
  const one = (name: string, title: string, data: string) => ({
    name,
    title,
    steps: [modprobe("pci_stub"), write(NEW, data), driver(EDU), driver(EDU2), driver(TESTDEV)],
    cleanup: stubOff,
  });
  return cases(machine, "new_id", [
    one("binds-unbound", "new_id binds every unbound device it matches", "1234 11e8"),
    one("hex-prefix", "sscanf %x takes a 0x prefix", "0x1b36 0x0005"),
    one("upper-case-hex", "upper-case hex digits", "1B36 0005"),
    one("leading-space", "sscanf skips leading white space", "  1234 11e8"),
    one("subsystem-match", "subvendor/subdevice that match (QEMU's 1af4:1100)", "1234 11e8 1af4 1100"),
    one("subsystem-mismatch", "subvendor/subdevice that do not match bind nothing", "1234 11e8 1af4 9999"),
    one("class-mask", "a class/mask entry (any vendor) binds every unclassified device (class 00ff00)", "ffffffff ffffffff ffffffff ffffffff 00ff00 ffffff"),
    one("seven-fields", "seven fields: driver_data accepted (pci-stub has no ID table to check it against)", "1234 11e8 ffffffff ffffffff 0 0 7"),
    one("eight-fields", "extra fields are ignored by sscanf", "1234 11e8 ffffffff ffffffff 0 0 0 99"),
    one("one-field", "one field: -EINVAL", "1234"),
    one("garbage", "no hex number: -EINVAL", "zzzz 11e8"),
    one("second-field-garbage", "a garbage second field: one field scanned, -EINVAL", "1234 zz"),
    one("empty", "zero-length write: 0", ""),
    one("newline-only", "just a newline: -EINVAL", "\n"),
    {
      name: "eexist",
      title: "the same ID twice: -EEXIST (the scratch device already matches the dynid)",
      steps: [modprobe("pci_stub"), write(NEW, "1234 11e8"), write(NEW, "1234 11e8"), write(NEW, "1234 11e8 ffffffff ffffffff")],
      cleanup: stubOff,
    },
    { name: "static-table-eexist", title: "an ID e1000's static table already has: -EEXIST", steps: [write(pdrv("e1000", "new_id"), "8086 100e")] },
    {
      name: "driver-data-not-in-table",
      title: "seven fields with a driver_data no e1000 table entry has: -EINVAL",
      steps: [write(pdrv("e1000", "new_id"), "1234 11e8 ffffffff ffffffff 0 0 5"), driver(EDU)],
    },
    { name: "read", title: "new_id is write-only: -EACCES", steps: [read(pdrv("e1000", "new_id"))] },
    {
      name: "remove-keeps-binding",
      title: "remove_id deletes the dynid but leaves bound devices bound",
      steps: [modprobe("pci_stub"), write(NEW, "1234 11e8"), write(REM, "1234 11e8"), driver(EDU), write(REM, "1234 11e8")],
      cleanup: stubOff,
    },
    {
      name: "remove-then-reprobe",
      title: "after remove_id an unbound device no longer matches",
      steps: [modprobe("pci_stub"), write(NEW, "1234 11e8"), write(REM, "1234 11e8"), unbind("pci-stub", EDU), probe(EDU), driver(EDU)],
      cleanup: stubOff,
    },
    {
      name: "remove-needs-exact",
      title: "remove_id matches vendor, device, subvendor, subdevice, class and mask exactly",
      steps: [modprobe("pci_stub"), write(NEW, "1234 11e8 1af4 1100"), write(REM, "1234 11e8"), write(REM, "1234 11e8 1af4 1100")],
      cleanup: stubOff,
    },
    { name: "remove-none", title: "remove_id of an ID never added: -ENODEV", steps: [modprobe("pci_stub"), write(REM, "1234 11e8")], cleanup: stubOff },
    { name: "remove-one-field", title: "remove_id with one field: -EINVAL", steps: [modprobe("pci_stub"), write(REM, "1234")], cleanup: stubOff },
    {
      name: "bound-elsewhere-untouched",
      title: "a dynid for a device bound to another driver does not move it; on reprobe the earlier-registered driver wins",
      steps: [modprobe("pci_stub"), write(NEW, "8086 100e"), driver(E1000), unbind("e1000", E1000), probe(E1000), driver(E1000)],
      cleanup: [probe(E1000), rmmod("pci_stub")],
    },
    {
      name: "ids-param",
      title: "pci_stub ids=1234:11e8 adds the dynid at module init (pci_stub_init → pci_add_dynid)",
      steps: [modprobe("pci_stub", "ids=1234:11e8"), driver(EDU), driver(EDU2), driver(TESTDEV)],
      cleanup: stubOff,
    },
  ]);
}
