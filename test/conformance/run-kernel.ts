// npm run test:kernel — every conformance case on the real kernel (Debian 6.1 in QEMU q35, TCG, with
// and without an emulated Intel IOMMU) and on the model, observation by observation.
//
//   npx tsx test/conformance/run-kernel.ts [--guest-only] [--only <substring>[,<substring>...]] [--machine iommu|noiommu]
//                                          [--capture] [--verbose]
// --guest-only  run only the real kernel (records observations, compares nothing)
// --capture     also (re)write data/machines/qemu-q35.yaml from what the guest reports
// The real observations are written to test/conformance/recorded/<machine>.json (merged by case id);
// test/conformance/model-vs-recorded.test.ts replays them against the model in `npm test`.
// Exit status 0 only when every case ran on both sides with identical observations.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootGuest, type GuestSession } from "../../src/host/qemu/session.ts";
import { KbindError } from "../../src/model/errors.ts";
import { describeStep, type Case, type MachineKind } from "./case-format.ts";
import { ALL_CASES } from "./cases/index.ts";
import { GuestTarget } from "./guest-target.ts";
import { observe, type Target } from "./target.ts";
import { snapshot, snapshotDiff } from "./snapshot.ts";
import { createModelTarget } from "./model-target.ts";
import { captureMachine } from "./capture.ts";

const repo = join(import.meta.dirname, "../..");
const argv = process.argv.slice(2);
const flag = (f: string): boolean => argv.includes(f);
const opt = (f: string): string | undefined => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
const guestOnly = flag("--guest-only");
const verbose = flag("--verbose");
const only = opt("--only");
const machineOpt = opt("--machine");

/** The issue's budget for the whole run is 10 minutes; stop starting cases after 9.5. */
const DEADLINE_MS = 570_000;
const started = Date.now();

export interface CaseResult {
  id: string;
  machine: MachineKind;
  kernel: string[];
  model: string[] | null;
  ok: boolean;
  detail: string;
}

async function runSteps(t: Target, c: Case): Promise<string[]> {
  const obs: string[] = [];
  // uevents steps report what came after this point.
  if (c.steps.some((s) => s.op === "uevents")) await t.uevents();
  for (const s of c.steps) {
    try {
      obs.push(await observe(t, s));
    } catch (e) {
      // A dead or hung guest ends the machine's run instead of timing out step after step.
      if (e instanceof KbindError && e.code.startsWith("QEMU_")) throw e;
      obs.push(`error ${e instanceof Error ? e.message : String(e)}`);
      break;
    }
  }
  return obs;
}

function compare(c: Case, k: string[], m: string[]): string | null {
  for (let i = 0; i < Math.max(k.length, m.length); i++) {
    if (k[i] !== m[i]) {
      const step = c.steps[i];
      return `step ${i + 1} (${step ? describeStep(step) : "?"}):\n      kernel: ${k[i] ?? "(none)"}\n      model:  ${m[i] ?? "(none)"}`;
    }
  }
  return null;
}

/** Runs `cases` on one booted machine, appending to `results` as it goes (so a crash keeps them). */
async function runMachine(kind: MachineKind, cases: readonly Case[], results: CaseResult[]): Promise<void> {
  const t0 = Date.now();
  const s: GuestSession = await bootGuest(repo, { iommu: kind === "iommu" });
  console.log(`# ${kind}: booted Debian ${s.image.kernel.split("vmlinuz-")[1] ?? "?"} in ${(s.bootMs / 1000).toFixed(1)} s, coldplug settled in ${(s.settleMs / 1000).toFixed(1)} s (initramfs ${s.image.cached ? "cached" : "built"} ${s.image.key})`);
  try {
    const guest = new GuestTarget(s);
    if (flag("--capture") && kind === "iommu") {
      const file = await captureMachine(s, repo);
      console.log(`# captured the machine into ${file}`);
    }
    const base = await snapshot(s.control);
    for (const c of cases) {
      if (Date.now() - started > DEADLINE_MS) {
        console.log(`FAIL [${kind}] stopped before ${c.id}: the run passed its ${DEADLINE_MS / 60_000}-minute budget`);
        break;
      }
      const kernel = await runSteps(guest, c);
      for (const st of c.cleanup ?? []) await observe(guest, st).catch(() => "");
      const after = await snapshot(s.control);
      const drift = snapshotDiff(base, after);
      let model: string[] | null = null;
      let detail = "";
      let ok = true;
      if (drift.length > 0) {
        ok = false;
        detail = `the case did not restore the guest's state:\n      ${drift.join("\n      ")}`;
      }
      if (!guestOnly) {
        try {
          const mt = createModelTarget(kind, repo);
          model = await runSteps(mt, c);
        } catch (e) {
          model = [`error ${e instanceof Error ? e.message : String(e)}`];
        }
        const d = compare(c, kernel, model);
        if (d !== null) {
          ok = false;
          detail = detail ? `${detail}\n    ${d}` : d;
        }
      }
      results.push({ id: c.id, machine: kind, kernel, model, ok, detail });
      const tag = ok ? (guestOnly ? "RAN " : "PASS") : "FAIL";
      console.log(`${tag} [${kind}] ${c.id} — ${c.title} (${kernel.length} observations${guestOnly ? "" : ", kernel = model"})`.replace(", kernel = model)", ok ? ", kernel = model)" : ")"));
      if (verbose || (!ok && detail)) {
        if (!ok) console.log(`    ${detail}`);
        if (verbose) {
          c.steps.forEach((st, i) => {
            const k = kernel[i] ?? "(not run)";
            const m = model?.[i];
            console.log(`      ${describeStep(st)} → ${k}${m !== undefined && m !== k ? `   [model: ${m}]` : ""}`);
          });
        }
      }
      if (!ok && drift.length > 0) break;
    }
  } finally {
    s.guest.kill();
  }
  console.log(`# ${kind}: ${results.filter((r) => r.machine === kind).length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const onlyParts = only?.split(",") ?? [];
const selected = ALL_CASES.filter((c) => (only === undefined || onlyParts.some((p) => c.id.includes(p))) && (machineOpt === undefined || c.machine === machineOpt));
const all: CaseResult[] = [];
for (const kind of ["iommu", "noiommu"] as const) {
  const cs = selected.filter((c) => c.machine === kind);
  if (cs.length === 0) continue;
  try {
    await runMachine(kind, cs, all);
    // Record the real observations (merged: every case starts from the verified boot state, so a
    // subset run updates its cases; ids no longer defined are dropped). A case whose guest state
    // drifted is not recorded.
    const res = all.filter((r) => r.machine === kind && !r.detail.startsWith("the case did not restore"));
    const dir = join(repo, "test/conformance/recorded");
    const file = join(dir, `${kind}.json`);
    mkdirSync(dir, { recursive: true });
    const old = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string[]>) : {};
    const rec: Record<string, string[]> = {};
    for (const c of ALL_CASES.filter((x) => x.machine === kind)) {
      const r = res.find((x) => x.id === c.id);
      const obs = r ? r.kernel : old[c.id];
      if (obs) rec[c.id] = obs;
    }
    writeFileSync(file, JSON.stringify(rec, null, 1) + "\n");
  } catch (e) {
    console.log(`FAIL [${kind}] the guest could not run: ${e instanceof Error ? e.message : String(e)}`);
  }
}
const passed = all.filter((r) => r.ok).length;
// Every selected case that did not run on both sides with equal observations is a failure,
// including cases a crashed or drifting guest never reached.
const failed = selected.length - passed;
console.log(`# ${selected.length} cases (${selected.filter((c) => c.machine === "iommu").length} with IOMMU, ${selected.filter((c) => c.machine === "noiommu").length} without), ${((Date.now() - started) / 1000).toFixed(1)} s${guestOnly ? ", real kernel only (--guest-only)" : ", each on the real kernel and on the model"}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
