// ref_module() references for a real modules directory, derived from modules.dep (depmod writes each
// module's full closure): the transitive reduction, checked on Debian 12's real modules.dep.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { usesFromModulesDep } from "../../src/sim/simulator.ts";

describe("usesFromModulesDep", () => {
  it("keeps direct dependencies only; names normalised", () => {
    const dep = "kernel/a.ko: kernel/b-x.ko kernel/c.ko.xz\nkernel/b-x.ko: kernel/c.ko.xz\nkernel/c.ko.xz:\n";
    expect(usesFromModulesDep(dep)).toEqual(
      new Map([
        ["a", ["b_x"]],
        ["b_x", ["c"]],
        ["c", []],
      ]),
    );
  });

  it("on Debian 6.1 amd64: nvme uses nvme_core, nvme_core uses t10_pi (as lsmod shows)", () => {
    const text = readFileSync(resolve(import.meta.dirname, "../../data/debian/6.1.0-56-amd64/lib/modules/6.1.0-56-amd64/modules.dep"), "utf8");
    const uses = usesFromModulesDep(text);
    expect(uses.get("nvme")).toEqual(["nvme_core"]);
    expect(uses.get("nvme_core")).toEqual(["t10_pi"]);
    expect(uses.size).toBeGreaterThan(3000);
  });
});
