// The conformance cases module/modprobe-r-deps and module/modprobe-r-in-use (recorded on a real
// Debian 6.1 guest) replayed on the model with the two KmodKernelPort methods modprobe -r needs
// (moduleRefcnt, moduleHolders) added on top of src/sim/kmod-bridge.ts from the kernel model's own
// module state (KModule.refcnt, KModule.uses). This is what the bridge itself must add; once it
// does, test/conformance/model-vs-recorded.test.ts passes these cases unwrapped.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { Kernel } from "../../src/kernel/index.ts";
import type { KmodKernelPort } from "../../src/kmod/kernel-port.ts";

vi.mock("../../src/sim/kmod-bridge.ts", async (importOriginal) => {
  const orig = await importOriginal<typeof import("../../src/sim/kmod-bridge.ts")>();
  const withRefcnt = (k: Kernel, port: KmodKernelPort): KmodKernelPort => ({
    ...port,
    // /sys/module/<m>/refcnt exists only for loaded (not built-in) modules.
    moduleRefcnt: (name) => {
      const m = k.modules.get(name);
      return m && !m.builtin ? m.refcnt : -2;
    },
    moduleHolders: (name) => {
      const m = k.modules.get(name);
      if (!m || m.builtin) return -2;
      return [...k.modules.values()].filter((x) => x.uses.includes(name)).map((x) => x.name);
    },
  });
  return {
    ...orig,
    modelModprobeEnv: (k: Kernel, o: Parameters<typeof orig.modelModprobeEnv>[1]) => {
      const e = orig.modelModprobeEnv(k, o);
      return { ...e, kernel: withRefcnt(k, e.kernel) };
    },
  };
});

const { describeStep } = await import("../conformance/case-format.ts");
const { ALL_CASES } = await import("../conformance/cases/index.ts");
const { createModelTarget } = await import("../conformance/model-target.ts");
const { observe } = await import("../conformance/target.ts");

const repo = join(import.meta.dirname, "../..");
const recFile = join(repo, "test/conformance/recorded/iommu.json");

describe.skipIf(!existsSync(recFile))("modprobe -r conformance cases on the model (bridge + moduleRefcnt/moduleHolders)", () => {
  const rec = existsSync(recFile) ? (JSON.parse(readFileSync(recFile, "utf8")) as Record<string, string[]>) : {};
  for (const id of ["module/modprobe-r-deps", "module/modprobe-r-in-use"]) {
    it(`${id} equals the real Debian 6.1 guest's recording`, async () => {
      const c = ALL_CASES.find((x) => x.id === id && x.machine === "iommu");
      expect(c).toBeDefined();
      const real = rec[id];
      expect(real).toBeDefined();
      const t = createModelTarget("iommu", repo);
      const model: string[] = [];
      for (const s of c!.steps) model.push(await observe(t, s));
      const label = (obs: readonly string[]) => c!.steps.map((s, i) => `${describeStep(s)} → ${obs[i] ?? "(none)"}`);
      expect(label(model)).toEqual(label(real!));
    });
  }
});
