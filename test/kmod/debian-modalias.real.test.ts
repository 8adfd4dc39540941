// Differential suite on REAL Debian 6.1 metadata (data/debian, made by Debian's depmod):
// `modprobe -R <modalias>` of kbind vs the real kmod 30 on
//   - every OF modalias of Debian's arm64 device trees (test/kmod/data/of-modaliases-arm64.txt,
//     4,842 keys, arm64 tree),
//   - real-looking PCI modaliases built from the amd64 alias table's own IDs (wildcard fields
//     filled from a fixed seed), the QEMU q35 machine's devices, and crafted vfio_pci: keys
//     (amd64 tree),
// plus `modprobe -c` (config + full index dumps) on both trees. stdout, stderr and exit code
// must be identical.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAliasFile } from "../../src/kmod/text-files.ts";
import { rng } from "./helpers/gen-tree.ts";
import { haveRealKmod, kbindModprobe, kbindModprobeEnv, realModprobeBatchParallel, tempRoot } from "./helpers/real-kmod.ts";

const ROOT = join(import.meta.dirname, "../../data/debian");
const real = haveRealKmod();

function hex(r: () => number, digits: number): string {
  return Math.floor(r() * 16 ** digits)
    .toString(16)
    .toUpperCase()
    .padStart(digits, "0");
}

/** A concrete modalias for a pci:/vfio_pci: alias pattern: '*' fields get seeded values. */
function instantiatePci(pattern: string, r: () => number): string | null {
  const m = /^(pci|vfio_pci):v([0-9A-F*]+)d([0-9A-F*]+)sv([0-9A-F*]+)sd([0-9A-F*]+)bc([0-9A-F*]+)sc([0-9A-F*]+)i([0-9A-F*]+)$/.exec(pattern);
  if (!m) return null;
  const f = (v: string, n: number): string => (v === "*" ? hex(r, n) : v.length === n ? v : "");
  const parts = [f(m[2]!, 8), f(m[3]!, 8), f(m[4]!, 8), f(m[5]!, 8), f(m[6]!, 2), f(m[7]!, 2), f(m[8]!, 2)];
  if (parts.some((x) => x === "")) return null;
  return `${m[1]!}:v${parts[0]!}d${parts[1]!}sv${parts[2]!}sd${parts[3]!}bc${parts[4]!}sc${parts[5]!}i${parts[6]!}`;
}

function qemuPciModaliases(): string[] {
  let text: string;
  try {
    text = readFileSync(join(import.meta.dirname, "../../data/machines/qemu-q35.yaml"), "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  const re = /vendor: "0x([0-9a-f]{4})"\s+device: "0x([0-9a-f]{4})"\s+subvendor: "0x([0-9a-f]{4})"\s+subdevice: "0x([0-9a-f]{4})"\s+class: "0x([0-9a-f]{6})"/g;
  for (const m of text.matchAll(re)) {
    const [v, d, sv, sd, cls] = [m[1]!, m[2]!, m[3]!, m[4]!, m[5]!].map((x) => x.toUpperCase());
    out.push(`pci:v0000${v!}d0000${d!}sv0000${sv!}sd0000${sd!}bc${cls!.slice(0, 2)}sc${cls!.slice(2, 4)}i${cls!.slice(4, 6)}`);
  }
  return out;
}

function amd64Keys(): string[] {
  const dir = join(ROOT, "6.1.0-56-amd64/lib/modules/6.1.0-56-amd64");
  const aliases = parseAliasFile(readFileSync(join(dir, "modules.alias"), "latin1"));
  const r = rng(42);
  const pci = aliases.filter((a) => a.pattern.startsWith("pci:"));
  const vfio = aliases.filter((a) => a.pattern.startsWith("vfio_pci:"));
  const keys = new Set<string>(qemuPciModaliases());
  for (const a of pci) {
    if (r() < 0.4) {
      const k = instantiatePci(a.pattern, r);
      if (k) keys.add(k);
    }
  }
  // vfio_pci: keys — the variant drivers' own IDs, the same IDs with the pci: prefix swapped in,
  // and random devices that only the generic vfio_pci alias matches.
  for (const a of vfio) {
    const k = instantiatePci(a.pattern, r);
    if (k) keys.add(k);
  }
  for (const a of pci.slice(0, 400)) {
    const k = instantiatePci(a.pattern.replace(/^pci:/, "vfio_pci:"), r);
    if (k) keys.add(k);
  }
  for (let i = 0; i < 100; i++) keys.add(`vfio_pci:v0000${hex(r, 4)}d0000${hex(r, 4)}sv00000000sd00000000bc${hex(r, 2)}sc00i00`);
  return [...keys];
}

function ofKeys(): string[] {
  return readFileSync(join(import.meta.dirname, "data/of-modaliases-arm64.txt"), "latin1")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
}

describe.skipIf(!real)("modprobe -R on real Debian 6.1 metadata vs kmod 30 (libkmod-index.c index_mm_searchwild)", () => {
  const conf = join(tempRoot(), "empty.d");
  mkdirSync(conf);
  const cases: [string, () => string[]][] = [
    ["amd64", amd64Keys],
    ["arm64", ofKeys],
  ];
  let total = 0;
  for (const [arch, keys] of cases) {
    it(`${arch}: every modalias resolves identically`, async () => {
      const ks = keys();
      const ver = `6.1.0-56-${arch}`;
      const root = join(ROOT, ver);
      const runs = ks.map((k) => ["-R", k]);
      const realRes = await realModprobeBatchParallel(tempRoot(), ver, conf, runs.map((a) => ["-d", root, ...a]));
      const env = kbindModprobeEnv();
      const diffs: string[] = [];
      let matched = 0;
      runs.forEach((a, i) => {
        const k = kbindModprobe(env, root, ver, conf, a);
        const x = realRes[i]!;
        if (x.code === 0) matched++;
        if (k.code !== x.code || k.stdout !== x.stdout || k.stderr !== x.stderr) diffs.push(`${a.join(" ")}\n real ${JSON.stringify(x)}\n kbind ${JSON.stringify(k)}`);
      });
      total += ks.length;
      expect(diffs.slice(0, 5).join("\n")).toBe("");
      expect(matched).toBeGreaterThan(ks.length / 4);
    }, 300_000);
    it(`${arch}: modprobe -c (config, alias and symbol index dumps) identical`, async () => {
      const ver = `6.1.0-56-${arch}`;
      const root = join(ROOT, ver);
      const [x] = await realModprobeBatchParallel(tempRoot(), ver, conf, [["-d", root, "-c"]], 1);
      const k = kbindModprobe(kbindModprobeEnv(), root, ver, conf, ["-c"]);
      expect(k.code).toBe(x!.code);
      expect(k.stderr).toBe(x!.stderr);
      expect(k.stdout === x!.stdout).toBe(true);
      expect(k.stdout.split("\n").length).toBeGreaterThan(20000);
    }, 120_000);
  }
  const CACHE = join(import.meta.dirname, "../../.cache/debian/linux-image-6.1.0-56-amd64/root");
  const haveTree = existsSync(join(CACHE, "lib/modules/6.1.0-56-amd64/kernel"));
  it.skipIf(!haveTree)("amd64 full tree (.cache, scripts/fetch-debian-kernel.sh amd64): --show-depends and -n -v of every 2nd module name identical", async () => {
    const ver = "6.1.0-56-amd64";
    const order = readFileSync(join(CACHE, "lib/modules", ver, "modules.order"), "latin1").split("\n").filter((l) => l !== "");
    const names = order.filter((_, i) => i % 2 === 0).map((p) => p.slice(p.lastIndexOf("/") + 1, -3));
    const runs = names.map((n, i) => (i % 3 === 0 ? ["-n", "-v", n] : ["--show-depends", n]));
    const realRes = await realModprobeBatchParallel(tempRoot(), ver, conf, runs.map((a) => ["-d", CACHE, ...a]));
    const env = kbindModprobeEnv();
    const diffs: string[] = [];
    runs.forEach((a, i) => {
      const k = kbindModprobe(env, CACHE, ver, conf, a);
      const x = realRes[i]!;
      if (k.code !== x.code || k.stdout !== x.stdout || k.stderr !== x.stderr) diffs.push(`${a.join(" ")}\n real ${JSON.stringify(x)}\n kbind ${JSON.stringify(k)}`);
    });
    expect(diffs.slice(0, 5).join("\n")).toBe("");
  }, 300_000);
  it("covered at least 5,000 modaliases", () => {
    expect(total).toBeGreaterThanOrEqual(5000);
  });
});
