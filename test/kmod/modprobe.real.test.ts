// Differential suite: kbind's modprobe vs the real kmod 30 modprobe (Debian 12) on random module
// trees built from fake .ko files by the REAL depmod, with random modprobe.d configs. stdout,
// stderr and exit code must be identical for every run (-R, --show-depends, -n -v with -b/-i/
// --first-time/-q/-a, -D -i, -c). Default: 100 trees × 201 runs = 20,100 runs (fixed seeds);
// KBIND_KMOD_DIFF_TREES=N runs N trees. Also checks kbind's depmod against the real one per tree.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { depmodFromKoFiles } from "../../src/kmod/depmod-ko.ts";
import { generateTree } from "./helpers/gen-tree.ts";
import { haveRealKmod, kbindModprobe, kbindModprobeEnv, realDepmod, realModprobeBatchParallel, tempRoot, writeFiles } from "./helpers/real-kmod.ts";

const TREES = Number(process.env.KBIND_KMOD_DIFF_TREES ?? "100");
const RUNS_PER_TREE = 201;
const real = haveRealKmod();

interface Tally {
  runs: number;
  diffs: string[];
}
const tally: Tally = { runs: 0, diffs: [] };

describe.skipIf(!real)("modprobe vs real kmod 30 (tools/modprobe.c) on generated trees", () => {
  for (let t = 0; t < TREES; t++) {
    const seed = 1000 + t;
    it(`tree seed ${seed}: stdout/stderr/exit identical for ${RUNS_PER_TREE} runs; depmod outputs identical`, async () => {
      const g = generateTree(seed, RUNS_PER_TREE);
      const root = tempRoot();
      writeFiles(root, g.files);
      realDepmod(root, g.version);
      const conf = join(root, "conf");
      const realRes = await realModprobeBatchParallel(root, g.version, conf, g.runs);
      const env = kbindModprobeEnv();
      const diffs: string[] = [];
      g.runs.forEach((args, i) => {
        const k = kbindModprobe(env, root, g.version, conf, args);
        const x = realRes[i]!;
        tally.runs++;
        if (k.code !== x.code || k.stdout !== x.stdout || k.stderr !== x.stderr)
          diffs.push(`modprobe ${args.join(" ")}\n  real: ${JSON.stringify(x)}\n  kbind: ${JSON.stringify(k)}`);
      });
      tally.diffs.push(...diffs);
      expect(diffs.slice(0, 3).join("\n")).toBe("");

      // kbind depmod on the same .ko files: every output byte-identical (modules.symbols in kmod's
      // hash_iter order: hash_superfast buckets, strcmp within a bucket).
      const L = `lib/modules/${g.version}`;
      const kos = Object.entries(g.files)
        .filter(([p]) => p.startsWith(L + "/") && p.endsWith(".ko"))
        .map(([p, b]) => ({ relpath: p.slice(L.length + 1), bytes: b as Uint8Array }));
      const text = (p: string): string | undefined => (typeof g.files[`${L}/${p}`] === "string" ? (g.files[`${L}/${p}`] as string) : undefined);
      const mi = g.files[`${L}/modules.builtin.modinfo`];
      const mine = depmodFromKoFiles(kos, {
        ...(text("modules.order") !== undefined ? { order: text("modules.order")! } : {}),
        builtin: text("modules.builtin") ?? "",
        ...(mi !== undefined ? { builtinModinfo: Buffer.from(mi as string, "latin1") } : {}),
      });
      for (const f of ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.softdep", "modules.symbols", "modules.symbols.bin", "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname"]) {
        const realBytes = readFileSync(join(root, L, f));
        const my = mine.files.get(f);
        expect(my, f).toBeDefined();
        expect(Buffer.from(my!).equals(realBytes), `${f} differs`).toBe(true);
      }
    });
  }
  it(`ran at least ${Math.min(20000, TREES * RUNS_PER_TREE)} differential runs with zero differences`, () => {
    expect(tally.runs).toBeGreaterThanOrEqual(Math.min(20000, TREES * RUNS_PER_TREE));
    expect(tally.diffs.length).toBe(0);
  });
});
