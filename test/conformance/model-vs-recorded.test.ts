// Replays every conformance case on the model and compares it, observation by observation, with what
// the real kernel did when `npm run test:kernel` last ran in QEMU (test/conformance/recorded/*.json).
// The live comparison is run-kernel.ts; this keeps the model honest in `npm test` without QEMU.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeStep, type MachineKind } from "./case-format.ts";
import { ALL_CASES } from "./cases/index.ts";
import { createModelTarget } from "./model-target.ts";
import { observe } from "./target.ts";

const repo = join(import.meta.dirname, "../..");

function recorded(kind: MachineKind): Record<string, string[]> {
  const f = join(repo, "test/conformance/recorded", `${kind}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as Record<string, string[]>) : {};
}

for (const kind of ["iommu", "noiommu"] as const) {
  const rec = recorded(kind);
  describe(`conformance (${kind}): model vs the real Debian 6.1 kernel's recorded observations`, () => {
    it("has a recording for every case", () => {
      const missing = ALL_CASES.filter((c) => c.machine === kind && rec[c.id] === undefined).map((c) => c.id);
      expect(missing).toEqual([]);
    });
    for (const c of ALL_CASES.filter((x) => x.machine === kind)) {
      it(`${c.id}: ${c.title}`, async () => {
        const real = rec[c.id];
        expect(real, "no recorded observation: run npm run test:kernel").toBeDefined();
        const t = createModelTarget(kind, repo);
        const model: string[] = [];
        if (c.steps.some((s) => s.op === "uevents")) await t.uevents();
        for (const s of c.steps) model.push(await observe(t, s));
        // Step-labelled so a failure shows which step differs and both sides.
        const label = (obs: readonly string[]) => c.steps.map((s, i) => `${describeStep(s)} → ${obs[i] ?? "(none)"}`);
        expect(label(model)).toEqual(label(real!));
      });
    }
  });
}
