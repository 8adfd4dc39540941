// Property: whatever goes wrong — any errno on any write (forward or rollback), any probe result of
// the target driver, a kill -9 before any step followed by the next run's recovery — a switch never
// loses a device: afterwards every member is in the planned state or every member is in its original
// state. fast-check drives random fault plans on both backends (kernel model and temp-dir fake).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { ErrnoName } from "../../src/model/errno.ts";
import { MemoryJournal } from "../../src/host/journal.ts";
import { executePlan, planSet, planUnset, ProcessKilled, recoverInterrupted, type SwitchPlan, type SwitchEnv } from "../../src/host/switch.ts";
import { BACKENDS, FaultSysfs } from "./fixtures.ts";

const ERRNOS: ErrnoName[] = ["EINVAL", "ENOMEM", "EPERM", "EACCES", "ENODEV", "EBUSY", "EAGAIN", "EIO"];
const PROBES: ("ok" | ErrnoName)[] = ["ok", "ok", "ok", "ENODEV", "ENXIO", "EBUSY", "EPROBE_DEFER", "EINVAL"];

interface FaultPlan {
  op: "set-nic" | "set-mlx5" | "set-group" | "unset-nic";
  writeFaults: [number, ErrnoName][];
  probe: "ok" | ErrnoName;
  killAt: number | null;
}

const faultPlan: fc.Arbitrary<FaultPlan> = fc.record({
  op: fc.constantFrom("set-nic", "set-mlx5", "set-group", "unset-nic"),
  writeFaults: fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.constantFrom(...ERRNOS)), { maxLength: 3 }),
  probe: fc.constantFrom(...PROBES),
  killAt: fc.option(fc.integer({ min: 0, max: 14 }), { nil: null }),
});

const DEVICES: Record<FaultPlan["op"], string[]> = {
  "set-nic": ["0000:01:00.0"],
  "set-mlx5": ["0000:02:00.0"],
  "set-group": ["0000:04:00.0", "0000:04:00.1"],
  "unset-nic": ["0000:01:00.0"],
};

for (const [bname, make] of BACKENDS) {
  describe(`switch never loses a device (${bname})`, () => {
    it("random faults, probe results and kill points: all planned or all original after recovery", async () => {
      await fc.assert(
        fc.asyncProperty(faultPlan, async (fp) => {
          const r = make();
          try {
            const journal = new MemoryJournal();
            const base = r.env({ journal });
            if (fp.op === "unset-nic") expect((await executePlan(base, await planSet(base, "0000:01:00.0"))).status).toBe("done");
            const devs = DEVICES[fp.op];
            const original = devs.map((d) => r.host.state(d));
            const faults = new Map(fp.writeFaults);
            const sysfs = new FaultSysfs(r.host.sysfs, (i) => faults.get(i) ?? null);
            let step = 0;
            const env: SwitchEnv = {
              ...base,
              sysfs,
              beforeStep: (l) => {
                if (fp.killAt !== null && step++ === fp.killAt) throw new ProcessKilled(l);
              },
            };
            const target = fp.op === "unset-nic" ? "e1000e" : fp.op === "set-mlx5" ? "mlx5_vfio_pci" : "vfio-pci";
            r.host.setProbe(target, fp.probe);
            let plan: SwitchPlan;
            if (fp.op === "unset-nic") plan = await planUnset(env, "0000:01:00.0", { hostDriver: "e1000e" });
            else plan = await planSet(env, devs[0]!, { group: fp.op === "set-group" });
            let status: string;
            try {
              status = (await executePlan(env, plan)).status;
            } catch (e) {
              if (!(e instanceof ProcessKilled)) throw e;
              status = "killed";
            }
            // The next run (no faults, a healthy driver) finishes whatever is pending.
            r.host.setProbe(target, "ok");
            const rec = await recoverInterrupted({ ...base, journal });
            const now = devs.map((d) => r.host.state(d));
            const planned = devs.map(() => (fp.op === "unset-nic" ? { driver: "e1000e", override: null } : { driver: target, override: target }));
            const inPlanned = JSON.stringify(now) === JSON.stringify(planned);
            const inOriginal = JSON.stringify(now) === JSON.stringify(original);
            if (!(inPlanned || inOriginal) || journal.read() !== null) {
              throw new Error(`${JSON.stringify(fp)}: ${status}, recovery ${rec?.status ?? "none"}, now ${JSON.stringify(now)}`);
            }
            if (status === "done") expect(inPlanned).toBe(true);
            if (status === "rolled-back") expect(inOriginal).toBe(true);
          } finally {
            r.dispose();
          }
        }),
        { numRuns: bname === "kernel-model" ? 300 : 40, seed: 7 },
      );
    });
  });
}
