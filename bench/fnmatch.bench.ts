// fnmatch throughput against glibc's, side by side, on kmod's real workload: every pattern of a real
// modules.alias (Debian 6.1 amd64) against real-looking device modaliases, as kmod's wildcard lookup
// would if it scanned the text file. Same pairs, same verdict count checked, best of 5 passes each.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fnmatch } from "../src/kmod/fnmatch.ts";
import { parseModulesAliasLine } from "../src/model/alias-parse.ts";
import { buildGlibcFnmatch } from "../test/helpers/glibc-fnmatch.ts";

const kver = "6.1.0-56-amd64";
const file = join(import.meta.dirname, "../data/debian", kver, "lib/modules", kver, "modules.alias");
const patterns = readFileSync(file, "latin1")
  .split("\n")
  .map((l) => parseModulesAliasLine(l))
  .filter((a) => a !== null)
  .map((a) => a.pattern);
const modaliases = [
  "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00", // e1000
  "pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02", // nvme
  "pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00", // virtio-net (modern)
  "pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00", // mlx5 VF
  "pci:v00008086d0000A0EDsv00008086sd00007270bc0Csc03i30", // xhci
  "usb:v046Dp C52Bd1211dc00dsc00dp00ic03isc01ip01in00",
  "acpi:PNP0501:",
  "of:NserialT(null)Csnps,dw-apb-uart",
  "virtio:d00000001v00001AF4",
  "platform:serial8250",
];
const pairs: [string, string][] = [];
for (const m of modaliases) for (const p of patterns) pairs.push([p, m]);

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

const PASSES = 20;
const exe = buildGlibcFnmatch();
const input = Buffer.concat(pairs.flatMap(([p, s]) => [u32(p.length), Buffer.from(p, "latin1"), u32(s.length), Buffer.from(s, "latin1")]));
let cBest = Infinity;
let cMatches = -1;
for (let r = 0; r < 5; r++) {
  const [m, ns] = execFileSync(exe, ["--bench", String(PASSES)], { input }).toString().trim().split(" ").map(Number) as [number, number];
  cMatches = m;
  cBest = Math.min(cBest, ns / (PASSES * pairs.length));
}

// Plain index loops over two arrays, like the C loop over pat[i], str[i].
const pats = pairs.map((x) => x[0]);
const strs = pairs.map((x) => x[1]);
let jsBest = Infinity;
let jsMatches = 0;
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint();
  let m = 0;
  for (let k = 0; k < PASSES; k++) for (let i = 0; i < pats.length; i++) if (fnmatch(pats[i]!, strs[i]!)) m++;
  const ns = Number(process.hrtime.bigint() - t0);
  jsMatches = m / PASSES;
  jsBest = Math.min(jsBest, ns / (PASSES * pairs.length));
}

if (jsMatches !== cMatches) throw new Error(`verdicts differ: kbind ${jsMatches} matches, glibc ${cMatches}`);
console.log(`workload: ${patterns.length} modules.alias patterns x ${modaliases.length} modaliases = ${pairs.length} pairs, ${cMatches} matches (same in both)`);
console.log(`glibc fnmatch (C, -O2): ${cBest.toFixed(1)} ns/call`);
console.log(`kbind fnmatch (TS):     ${jsBest.toFixed(1)} ns/call`);
console.log(`ratio kbind/glibc:      ${(jsBest / cBest).toFixed(2)}x`);
