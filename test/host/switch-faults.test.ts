// Fault injection at every step of the flavour switch, on the temp-dir fake /sys AND the simulated kernel: each errno the
// kernel's store() can return for each write, modprobe failing, the target driver's probe failing,
// faults during the rollback itself, and the process killed before any step (then a fresh run's
// recoverInterrupted()). Invariant: every member of the switch ends in the planned state or in its
// original state — all of them together — and no journal is left once a run reports success.
// The table of cases tried is printed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ErrnoName } from "../../src/model/errno.ts";
import { executePlan, planSet, planUnset, ProcessKilled, recoverInterrupted, type SwitchEnv, type SwitchPlan } from "../../src/host/switch.ts";
import { BACKENDS, FaultSysfs, type Rig, type RigFactory } from "./fixtures.ts";

type State = { driver: string | null; override: string | null };

interface Scenario {
  name: string;
  devices: string[];
  /** Puts the fake in the scenario's starting state (without faults). */
  prepare: (r: Rig) => Promise<void>;
  plan: (env: SwitchEnv) => Promise<SwitchPlan>;
  target: Record<string, State>;
}

const vfio = (d: string): State => ({ driver: d, override: d });
const host = (d: string): State => ({ driver: d, override: null });

const SCENARIOS: Scenario[] = [
  {
    name: "set NIC → vfio-pci",
    devices: ["0000:01:00.0"],
    prepare: () => Promise.resolve(),
    plan: (env) => planSet(env, "0000:01:00.0"),
    target: { "0000:01:00.0": vfio("vfio-pci") },
  },
  {
    name: "set mlx5 VF → mlx5_vfio_pci",
    devices: ["0000:02:00.0"],
    prepare: () => Promise.resolve(),
    plan: (env) => planSet(env, "0000:02:00.0"),
    target: { "0000:02:00.0": vfio("mlx5_vfio_pci") },
  },
  {
    name: "unset NIC → e1000e",
    devices: ["0000:01:00.0"],
    prepare: async (r) => {
      const env = r.env();
      expect((await executePlan(env, await planSet(env, "0000:01:00.0"))).status).toBe("done");
    },
    plan: (env) => planUnset(env, "0000:01:00.0", { hostDriver: "e1000e" }),
    target: { "0000:01:00.0": host("e1000e") },
  },
  {
    name: "set --group GPU+audio",
    devices: ["0000:04:00.0", "0000:04:00.1"],
    prepare: () => Promise.resolve(),
    plan: (env) => planSet(env, "0000:04:00.0", { group: true }),
    target: { "0000:04:00.0": vfio("vfio-pci"), "0000:04:00.1": vfio("vfio-pci") },
  },
];

/** The errnos each write's store() (or open(2)) can return: shared/reference/kernel.md §1.9, §2.1. */
function errnosFor(path: string): ErrnoName[] {
  if (path.endsWith("/driver_override")) return ["EINVAL", "ENOMEM", "EPERM", "EACCES"];
  if (path.endsWith("/unbind")) return ["ENODEV", "EPERM", "EACCES"];
  if (path.endsWith("/drivers_probe")) return ["ENODEV", "EINVAL", "EPERM", "EACCES", "ENOMEM"];
  if (path.endsWith("/bind")) return ["ENODEV", "EBUSY", "EAGAIN", "ENOMEM", "EIO"];
  return ["EIO"];
}

const PROBE_ERRORS: ErrnoName[] = ["ENODEV", "ENXIO", "ENOMEM", "EINVAL", "EBUSY", "EIO", "EPROBE_DEFER"];

const rows: string[][] = [];

function outcome(r: Rig, sc: Scenario, original: Record<string, State>): "planned" | "original" | "intermediate" {
  const now = Object.fromEntries(sc.devices.map((d) => [d, r.host.state(d)]));
  if (JSON.stringify(now) === JSON.stringify(sc.target)) return "planned";
  if (JSON.stringify(now) === JSON.stringify(original)) return "original";
  return "intermediate";
}

let makeRig: RigFactory = BACKENDS[0]![1];
let backend = BACKENDS[0]![0];

async function withScenario(sc: Scenario, fn: (r: Rig, original: Record<string, State>) => Promise<void>): Promise<void> {
  const r = makeRig();
  try {
    await sc.prepare(r);
    const original = Object.fromEntries(sc.devices.map((d) => [d, r.host.state(d)]));
    await fn(r, original);
  } finally {
    r.dispose();
  }
}

const journalLeft = (r: Rig): boolean => existsSync(join(r.dir, "journal.json"));

/** A happy run's writes and step labels (what the fault loops iterate over). */
async function happyRun(sc: Scenario): Promise<{ writes: string[]; steps: string[] }> {
  let writes: string[] = [];
  const steps: string[] = [];
  await withScenario(sc, async (r) => {
    const rec: string[] = [];
    const sysfs = new FaultSysfs(r.host.sysfs, (_i, path) => {
      rec.push(path);
      return null;
    });
    const env = r.env({ sysfs, beforeStep: (l) => steps.push(l) });
    expect((await executePlan(env, await sc.plan(env))).status).toBe("done");
    writes = rec;
  });
  return { writes, steps };
}

for (const [bname, factory] of BACKENDS) describe(`flavour switch under fault injection (${bname})`, () => {
  beforeAll(() => {
    makeRig = factory;
    backend = bname;
  });
  for (const sc of SCENARIOS) {
    it(`${sc.name}: every errno on every write → rolled back to the exact original state`, async () => {
      const { writes } = await happyRun(sc);
      expect(writes.length).toBeGreaterThanOrEqual(3);
      for (const [k, path] of writes.entries()) {
        for (const errno of errnosFor(path)) {
          await withScenario(sc, async (r, original) => {
            const env = r.env();
            const faulty = new FaultSysfs(r.host.sysfs, (i) => (i === k ? errno : null));
            const res = await executePlan({ ...env, sysfs: faulty }, await sc.plan({ ...env, sysfs: faulty }));
            const o = outcome(r, sc, original);
            rows.push([backend, sc.name, `write #${k} ${path.replace("/sys/bus/pci/", "")} → ${errno}`, res.status, o]);
            expect(res.status).toBe("rolled-back");
            expect(res.failure).toBe(`write ${path} failed: ${errno}`);
            expect(o).toBe("original");
            expect(journalLeft(r)).toBe(false);
          });
        }
      }
    });

    it(`${sc.name}: the target driver's probe failing with each errno → rolled back`, async () => {
      if (sc.name.startsWith("unset")) {
        // Unset binds the host driver: make its probe fail.
        for (const errno of PROBE_ERRORS) {
          await withScenario(sc, async (r, original) => {
            r.host.setProbe("e1000e", errno);
            const env = r.env();
            const res = await executePlan(env, await sc.plan(env));
            const o = outcome(r, sc, original);
            rows.push([backend, sc.name, `e1000e probe → ${errno}`, res.status, o]);
            expect(res.status).toBe("rolled-back");
            expect(o).toBe("original");
          });
        }
        return;
      }
      const drv = Object.values(sc.target)[0]!.driver!;
      for (const errno of PROBE_ERRORS) {
        await withScenario(sc, async (r, original) => {
          r.host.setProbe(drv, errno);
          const env = r.env();
          const res = await executePlan(env, await sc.plan(env));
          const o = outcome(r, sc, original);
          rows.push([backend, sc.name, `${drv} probe → ${errno}`, res.status, o]);
          expect(res.status).toBe("rolled-back");
          expect(o).toBe("original");
          expect(journalLeft(r)).toBe(false);
        });
      }
    });

    it(`${sc.name}: killed before each step, the next run completes or rolls back`, async () => {
      const { steps } = await happyRun(sc);
      for (const [k, label] of steps.entries()) {
        await withScenario(sc, async (r, original) => {
          let n = 0;
          const env = r.env({
            beforeStep: (l) => {
              if (n++ === k) throw new ProcessKilled(l);
            },
          });
          await expect(executePlan(env, await sc.plan(env))).rejects.toBeInstanceOf(ProcessKilled);
          const mid = outcome(r, sc, original);
          const rec = await recoverInterrupted(r.env());
          const o = outcome(r, sc, original);
          rows.push([backend, sc.name, `kill -9 before step ${k} (${label.replace("/sys/bus/pci/", "")}), state ${mid}`, `recovery: ${rec?.status ?? "none"}`, o]);
          expect(o).not.toBe("intermediate");
          expect(rec?.status === "completed" ? "planned" : "original").toBe(o);
          expect(journalLeft(r)).toBe(false);
        });
      }
    });

    it(`${sc.name}: faults during the rollback itself, then a clean run recovers`, async () => {
      if (sc.name.startsWith("unset")) return; // covered by the set scenarios' symmetric rollback writes
      const drv = Object.values(sc.target)[0]!.driver!;
      // Forward fails at verify (probe error); rollback write j fails (j = 0.., until no rollback write is left).
      for (let j = 0; j < 8; j++) {
        let rollbackWrites = 0;
        let hit = false;
        await withScenario(sc, async (r, original) => {
          r.host.setProbe(drv, "ENODEV");
          const env = r.env();
          const plan = await sc.plan(env);
          let rollingBack = false;
          const faulty = new FaultSysfs(r.host.sysfs, () => {
            if (!rollingBack) return null;
            if (rollbackWrites++ === j) {
              hit = true;
              return "EIO";
            }
            return null;
          });
          const res = await executePlan({ ...env, sysfs: faulty, beforeStep: (l) => { if (l.startsWith("rollback")) rollingBack = true; } }, plan);
          const after = outcome(r, sc, original);
          r.host.setProbe(drv, "ok");
          const rec = await recoverInterrupted(r.env());
          const o = outcome(r, sc, original);
          if (hit) {
            rows.push([backend, sc.name, `probe ENODEV, then rollback write #${j} → EIO (state ${after})`, `${res.status}; recovery: ${rec?.status ?? "none"}`, o]);
            expect(["rolled-back", "restore-failed"]).toContain(res.status);
            expect(res.status === "restore-failed").toBe(journalLeft(r) || rec !== null);
          }
          expect(o).toBe("original");
          expect(journalLeft(r)).toBe(false);
        });
        if (!hit) break;
      }
    });

    it(`${sc.name}: killed during the rollback, the next run finishes the rollback`, async () => {
      if (sc.name.startsWith("unset")) return;
      const drv = Object.values(sc.target)[0]!.driver!;
      for (let j = 0; j < 8; j++) {
        let killed = false;
        await withScenario(sc, async (r, original) => {
          r.host.setProbe(drv, "ENXIO");
          let rb = 0;
          const env = r.env({
            beforeStep: (l) => {
              if (l.startsWith("rollback") && rb++ === j) {
                killed = true;
                throw new ProcessKilled(l);
              }
            },
          });
          const run = executePlan(env, await sc.plan(env));
          if (killed || (await run.then(() => false, () => true))) {
            await run.catch(() => undefined);
          }
          if (!killed) return;
          r.host.setProbe(drv, "ok");
          const rec = await recoverInterrupted(r.env());
          const o = outcome(r, sc, original);
          rows.push([backend, sc.name, `probe ENXIO, kill -9 before rollback step ${j}`, `recovery: ${rec?.status ?? "none"}`, o]);
          expect(rec?.status).toBe("rolled-back");
          expect(o).toBe("original");
          expect(journalLeft(r)).toBe(false);
        });
        if (!killed) break;
      }
    });

    it(`${sc.name}: modprobe failing (exit 1) or registering no PCI driver → nothing changed`, async () => {
      if (sc.name.startsWith("unset")) return;
      await withScenario(sc, async (r, original) => {
        const env = r.env({ modprobe: { modprobe: () => Promise.resolve({ code: 1, stdout: "", stderr: "modprobe: FATAL: Module x not found\n" }) } });
        const res = await executePlan(env, await sc.plan(env));
        rows.push([backend, sc.name, "modprobe exits 1", res.status, outcome(r, sc, original)]);
        expect(res.status).toBe("rolled-back");
        expect(outcome(r, sc, original)).toBe("original");
      });
      await withScenario(sc, async (r, original) => {
        const env = r.env({ modprobe: { modprobe: () => Promise.resolve({ code: 0, stdout: "", stderr: "" }) } });
        const res = await executePlan(env, await sc.plan(env));
        rows.push([backend, sc.name, "modprobe exits 0 but no /sys/module/<mod>/drivers/pci:*", res.status, outcome(r, sc, original)]);
        expect(res.status).toBe("rolled-back");
        expect(res.failure).toContain("registered no PCI driver");
        expect(outcome(r, sc, original)).toBe("original");
      });
    });
  }
});

afterAll(() => {
  const head = ["backend", "scenario", "fault", "result", "final state"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(w[i]!)).join(" | ");
  console.log([`flavour switch fault-injection cases: ${rows.length}`, line(head), w.map((n) => "-".repeat(n)).join("-|-"), ...rows.map(line)].join("\n"));
});
