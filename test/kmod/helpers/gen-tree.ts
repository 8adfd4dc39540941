// Seeded random module trees, modprobe.d configs and modprobe invocations for the differential
// suite against the real kmod: wildcards, brackets, dashes vs underscores, blacklists, softdeps
// (modinfo and config), install/remove lines, options, builtins (modules.builtin and
// modules.builtin.modinfo aliases), symbol dependencies, bad config lines.
import { makeFakeKo } from "./fake-ko.ts";

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenTree {
  version: string;
  /** Files relative to the root (lib/modules/<ver>/..., conf/...). */
  files: Record<string, string | Uint8Array>;
  /** modprobe argument lists (without -d/-S/-C). */
  runs: string[][];
}

const SYL = ["ab", "cd", "x", "y", "zz", "net", "pci", "vf", "io", "snd"];
const HEX = ["1234", "8086", "10de", "15b3", "abcd"];

export function generateTree(seed: number, runsPerTree: number): GenTree {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const chance = (p: number): boolean => r() < p;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const version = `5.${seed % 20}.${seed % 7}-kbind`;
  const L = `lib/modules/${version}`;

  const nmods = int(6, 18);
  const names: string[] = [];
  const norm = new Set<string>();
  while (names.length < nmods) {
    let n = pick(SYL);
    for (let i = int(0, 2); i > 0; i--) n += pick(["-", "_", ""]) + pick(SYL);
    n = "k" + n + String(names.length % 3 === 0 ? int(0, 9) : "");
    const k = n.replaceAll("-", "_");
    if (norm.has(k)) continue;
    norm.add(k);
    names.push(n);
  }
  const modn = (n: string): string => n.replaceAll("-", "_");
  const pciVal = (): string => "0000" + pick(HEX).toUpperCase();
  const aliasPattern = (): string => {
    switch (int(0, 6)) {
      case 0:
      case 1: {
        const v = chance(0.8) ? pciVal() : "*";
        const d = chance(0.5) ? pciVal() : "*";
        const bc = chance(0.3) ? pick(["02", "03", "0C"]) : "*";
        return `${pick(["pci", "pci", "vfio_pci"])}:v${v}d${d}sv*sd*bc${bc}sc*i*`;
      }
      case 2:
        return `of:N*T*C${pick(["acme", "foo-bar", "vendor"])},${pick(["uart", "i2c", "gpio-x"])}${chance(0.5) ? "C*" : ""}`;
      case 3:
        return `${pick(SYL)}${pick(["-", "_"])}${pick(["*", "?", "[ab]", "[!a]x", "[a-c]", "1"])}`;
      case 4:
        return `acpi*:${pick(["PNP0A03", "ACPI0007", "ABCD1234"])}:*`;
      case 5:
        return `${pick(["char-major-10-", "block-major-8-"])}${int(0, 3)}`;
      default:
        return `virtio:d0000000${int(1, 4)}v*`;
    }
  };
  const aliasesOf = new Map<string, string[]>();
  const files: Record<string, string | Uint8Array> = {};
  const relpaths: string[] = [];
  names.forEach((n, i) => {
    const al: string[] = [];
    for (let k = int(0, 4); k > 0; k--) al.push(aliasPattern());
    if (chance(0.1)) al.push(`devname:${n}`);
    aliasesOf.set(n, al);
    const modinfo: [string, string][] = al.map((a) => ["alias", a]);
    if (chance(0.2)) {
      const pre = chance(0.6) ? `pre: ${pick(names)}` : "";
      const post = chance(0.6) ? ` post: ${pick(names)}` : "";
      if (pre !== "" || post !== "") modinfo.push(["softdep", (pre + post).trim()]);
    }
    modinfo.push(["license", "GPL"]);
    // Dependencies only towards earlier modules (no cycles: kmod 30's loop report is not modelled).
    const needs: string[] = [];
    for (let k = 0; k < i; k++) if (chance(0.15)) needs.push(`sym_${modn(names[k]!)}`);
    if (chance(0.2)) needs.push("printk");
    const rel = `kernel/${pick(["drivers", "net", "sound/x"])}/${n}.ko`;
    relpaths.push(rel);
    files[`${L}/${rel}`] = makeFakeKo({ modinfo, exports: [`sym_${modn(n)}`], needs, is64: chance(0.8), le: chance(0.85), pad: chance(0.3) });
  });
  const order = [...relpaths].sort(() => r() - 0.5);
  // Sometimes leave modules out of modules.order, or drop the file (depmod then uses hash order).
  const omit = chance(0.2);
  if (!chance(0.1)) files[`${L}/modules.order`] = order.filter(() => !omit || chance(0.7)).map((p) => p + "\n").join("");
  const builtins = ["unix", "kb-builtin1", "kb_builtin2"].filter(() => chance(0.6));
  files[`${L}/modules.builtin`] = builtins.map((b) => `kernel/misc/${b}.ko\n`).join("");
  let bmi = "";
  const builtinAliases = new Map<string, string[]>();
  for (const b of builtins) {
    const al: string[] = [];
    for (let k = int(0, 2); k > 0; k--) al.push(aliasPattern());
    builtinAliases.set(b, al);
    bmi += `${modn(b)}.license=GPL\0`;
    for (const a of al) bmi += `${modn(b)}.alias=${a}\0`;
  }
  if (builtins.length > 0 || chance(0.5)) files[`${L}/modules.builtin.modinfo`] = bmi;

  // modprobe.d
  const confNames = ["00-first.conf", "kbind.conf", "zz-last.conf", "m.alias"].filter(() => chance(0.6));
  const someModule = (): string => (chance(0.85) ? pick(names) : chance(0.5) ? "nosuch-mod" : pick(builtins.length > 0 ? builtins : ["unix"]));
  const cfgAliases: string[] = [];
  for (const c of confNames) {
    const lines: string[] = [];
    for (let k = int(1, 8); k > 0; k--) {
      switch (int(0, 11)) {
        case 0:
        case 1: {
          const pat = chance(0.5) ? `cfg${pick(["-", "_"])}${pick(SYL)}${pick(["", "*", "?"])}` : aliasPattern();
          cfgAliases.push(pat);
          lines.push(`alias ${pat} ${someModule()}`);
          break;
        }
        case 2:
          lines.push(`blacklist ${someModule()}`);
          break;
        case 3:
          lines.push(`options ${chance(0.2) && cfgAliases.length > 0 ? pick(cfgAliases) : someModule()} p${int(0, 9)}=${pick(["1", "x y", "\"q r\""])}${chance(0.2) ? "\tt=2" : ""}`);
          break;
        case 4:
          lines.push(`install ${someModule()} ${pick(["/bin/true", "echo hi $CMDLINE_OPTS", "/sbin/modprobe --ignore-install $MODPROBE_MODULE $CMDLINE_OPTS"])}`);
          break;
        case 5:
          lines.push(`remove ${someModule()} /bin/true`);
          break;
        case 6:
        case 7: {
          const target = chance(0.2) ? `${pick(SYL)}*` : someModule();
          const pre = chance(0.7) ? ` pre: ${someModule()}${chance(0.3) ? " " + someModule() : ""}` : "";
          const post = chance(0.6) ? ` post: ${someModule()}` : "";
          lines.push(`softdep ${target}${pre}${post}`);
          break;
        }
        case 8:
          lines.push(pick(["# comment", "", "  #indented", "bogus line here", "alias onlyone", "options lonely", "include /etc/foo", `alias bad] ${pick(names)}`, `blacklist  ${pick(names)}   `]));
          break;
        case 9:
          lines.push(`alias cont-${pick(SYL)} \\\n${pick(names)}`);
          break;
        case 10:
          lines.push(`weakdep ${pick(names)} ${pick(names)}`);
          break;
        default:
          lines.push(`options ${someModule()} ${pick(["a=1", "b", "c=\"x y\""])}`);
      }
    }
    files[`conf/${c}`] = lines.join("\n") + (chance(0.9) ? "\n" : "");
  }
  if (chance(0.1)) files["conf/sub.conf/x.conf"] = "alias zzz unix\n";
  if (confNames.length === 0) files["conf/.keep"] = "";

  // Keys and runs
  const instantiate = (p: string): string => {
    let s = "";
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (c === "*") {
        s += chance(0.5) ? "" : pick(["0", "ab", "X9", "-", "_"]);
      } else if (c === "?") s += pick(["a", "1", "-", "_"]);
      else if (c === "[") {
        const end = p.indexOf("]", i + 2);
        if (end < 0) {
          s += c;
          continue;
        }
        const set = p.slice(i + 1, end);
        s += set.startsWith("!") ? pick(["b", "z", "a"]) : pick(set.replace("-", "").split(""));
        i = end;
      } else s += c;
    }
    return chance(0.2) ? s.replaceAll("_", "-") : s;
  };
  const allPatterns = [...[...aliasesOf.values()].flat(), ...[...builtinAliases.values()].flat(), ...cfgAliases];
  const key = (): string => {
    switch (int(0, 9)) {
      case 0:
      case 1:
        return pick(names);
      case 2:
        return modn(pick(names));
      case 3:
      case 4:
      case 5:
        return allPatterns.length > 0 ? instantiate(pick(allPatterns)) : pick(names);
      case 6:
        return `symbol:sym_${modn(pick(names))}`;
      case 7:
        return pick([...builtins, "unix", "nosuch-mod", "foo[", "bar]x", "pci:v00008086d00001234sv00000000sd00000000bc02sc00i00"]);
      case 8:
        return `pci:v0000${pick(HEX).toUpperCase()}d0000${pick(HEX).toUpperCase()}sv0000${pick(HEX)}sd00000000bc${pick(["02", "03", "0C"])}sc00i00`;
      default:
        return allPatterns.length > 0 ? pick(allPatterns) : "unix";
    }
  };
  const runs: string[][] = [["-c"]];
  while (runs.length < runsPerTree) {
    const k = key();
    const mode = int(0, 9);
    const extra = chance(0.1) ? [pick(["x=1", "y=a b", "z"])] : [];
    if (mode <= 3) runs.push(["-R", k]);
    else if (mode <= 5) runs.push(["--show-depends", k, ...extra]);
    else if (mode === 6) runs.push(["-n", "-v", k, ...extra]);
    else if (mode === 7) runs.push(["-n", "-v", pick(["-b", "-i", "--first-time", "-q"]), k]);
    else if (mode === 8) runs.push(["-D", "-i", k]);
    else runs.push(["-n", "-v", "-a", k, key()]);
  }
  return { version, files, runs };
}
