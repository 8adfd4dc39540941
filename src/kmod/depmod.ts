// depmod's computation (kmod 30 tools/depmod.c), pure: from modules (modinfo, exported and needed
// symbols) to the files of a modules directory. Ordering (depmod_modules_sort), dependencies
// (depmod_load_dependencies, depmod_calculate_dependencies, mod_get_all_sorted_dependencies) and
// outputs (output_deps, output_deps_bin, output_aliases, output_aliases_bin, output_softdeps,
// output_symbols, output_symbols_bin, output_builtin_bin, output_builtin_alias_bin, output_devname).
import { KbindError } from "../model/errors.ts";
import { ByteWriter, bytesToLatin1, latin1ToBytes } from "./bytes.ts";
import { IndexWriter } from "./index-writer.ts";
import { aliasNormalize, modnameNormalize } from "./normalize.ts";
import { SymbolNames } from "./symbol-names.ts";
import { parseBuiltinModinfo } from "./text-files.ts";

/** A module given by modinfo alone (contract for scenarios): deps come from a `depends` key. */
export interface InlineModule {
  name: string;
  /** Path relative to the modules directory, e.g. "kernel/drivers/vfio/pci/vfio-pci.ko". */
  relpath: string;
  modinfo: [string, string][];
}

/** A module as read from a .ko: modinfo plus ELF symbol information (ids in a SymbolNames table). */
export interface DepmodModule extends InlineModule {
  /** Exported symbols (__ksymtab_strings), or undefined to use the `depends` modinfo key. */
  exports?: Int32Array;
  /** Undefined symbols the module needs (.symtab SHN_UNDEF), in symbol-table order. */
  needs?: Int32Array;
}

export interface DepmodOptions {
  /** modules.order text (kernel build output); absent → input order (depmod: hash order). */
  order?: string;
  /** modules.builtin text. */
  builtin?: string;
  /** modules.builtin.modinfo bytes. */
  builtinModinfo?: Uint8Array;
  /** The modules directory, for messages ("could not open modules.order at DIR"). */
  dirname?: string;
  /** Also write modules.weakdep (kmod ≥ 33; kmod 30 does not). */
  weakdep?: boolean;
}

export interface DepmodResult {
  /** Output files by name (modules.dep, modules.dep.bin, ...), plus the inputs passed through. */
  files: Map<string, Uint8Array>;
  /** Messages depmod prints on stderr (e.g. "depmod: WARNING: ..."). */
  warnings: string[];
  /** Module names in final idx order. */
  order: string[];
}

interface DMod {
  m: DepmodModule;
  name: string;
  sortIdx: number;
  idx: number;
  users: number;
  deps: DMod[];
  depSortIdx: number;
  depLoop: boolean;
  /** modinfo `alias` values (modules.alias and modules.devname both read them). */
  aliases: string[];
}

const NO_SYMBOLS = new Int32Array(0);

function modinfoValues(m: InlineModule, key: string): string[] {
  const out: string[] = [];
  for (const kv of m.modinfo) if (kv[0] === key) out.push(kv[1]);
  return out;
}

/**
 * Runs depmod over `mods` (already deduplicated by name, as depmod_modules_search does); their
 * symbol ids are in `symbols`.
 */
export function depmodFromModinfo(mods: DepmodModule[], opts: DepmodOptions = {}, symbols: SymbolNames = new SymbolNames()): DepmodResult {
  const warnings: string[] = [];
  const byName = new Map<string, DMod>();
  const list: DMod[] = [];
  for (const m of mods) {
    const name = modnameNormalize(m.name);
    if (byName.has(name)) throw new KbindError("DUPLICATE_MODULE", `module ${name} given twice (${m.relpath})`, { file: m.relpath });
    const d: DMod = { m, name, sortIdx: 1, idx: 0, users: 0, deps: [], depSortIdx: 0x7fffffff, depLoop: false, aliases: modinfoValues(m, "alias") };
    byName.set(name, d);
    list.push(d);
  }
  // depmod_modules_sort looks modules.order lines up by the UNCOMPRESSED relative path
  // (modules_by_uncrelpath): "x.ko" in modules.order names x.ko.xz / x.ko.zst / x.ko.gz on disk.
  // depmod_modules_build_array: the module array starts in modules_by_name hash order (a kmod
  // `struct hash` of 512 buckets); depmod_modules_sort then sorts it by sort_idx with glibc's
  // (stable, merge) qsort, so modules absent from modules.order keep that hash order at the end.
  const hashed = hashOrder(list.map((d) => d.name), 512).map((i) => list[i]!);
  list.length = 0;
  list.push(...hashed);
  const byRelpath = new Map(list.map((d) => [d.m.relpath.replace(/\.ko\.(gz|xz|zst)$/, ".ko"), d]));

  // depmod_modules_sort: modules.order lines get sort_idx = line - total (negative), others keep theirs.
  let mods2 = list;
  const dirname = opts.dirname ?? ".";
  const missing = (f: string): void => void warnings.push(`depmod: WARNING: could not open ${f} at ${dirname}: No such file or directory\n`);
  if (opts.order === undefined) missing("modules.order");
  else {
    const text = opts.order;
    const lines = text.split("\n");
    const complete = text === "" || text.endsWith("\n");
    if (!complete) {
      warnings.push(`depmod: ERROR: modules.order:${lines.length} corrupted line misses '\\n'\n`);
    } else {
      lines.pop();
      const total = lines.length + 1;
      lines.forEach((l, i) => {
        const d = byRelpath.get(l);
        if (d) d.sortIdx = i + 1 - total;
      });
      mods2 = [...list].sort((a, b) => a.sortIdx - b.sortIdx);
    }
  }
  mods2.forEach((d, i) => (d.idx = i));

  // Symbols: hash_add replaces, so the last exporter in idx order owns a symbol (owner idx by symbol id, -1: none).
  const owners = new Int32Array(symbols.count).fill(-1);
  for (const d of mods2) {
    const ex = d.m.exports;
    if (ex) for (let i = 0; i < ex.length; i++) owners[ex[i]!] = d.idx;
  }
  resolveDependencies(mods2, byName, symbols, owners);

  // depmod_calculate_dependencies: Kahn's algorithm with a LIFO root stack.
  const users = mods2.map((d) => d.users);
  const roots: number[] = [];
  users.forEach((u, i) => {
    if (u === 0) roots.push(i);
  });
  let nSorted = 0;
  while (roots.length > 0) {
    const srcIdx = roots.pop()!;
    const src = mods2[srcIdx]!;
    src.depSortIdx = nSorted++;
    for (const dst of src.deps) {
      users[dst.idx]!--;
      if (users[dst.idx] === 0) roots.push(dst.idx);
    }
  }
  if (nSorted < mods2.length) {
    const loops = mods2.filter((_, i) => users[i] !== 0);
    warnings.push(`depmod: WARNING: found ${loops.length} modules in dependency cycles!\n`);
    for (const m of loops) {
      warnings.push(`depmod: WARNING: ${m.m.relpath} in dependency cycle!\n`);
      m.depLoop = true;
      m.depSortIdx = 0x7fffffff;
    }
  }
  const depCmp = (a: DMod, b: DMod): number => (a.depLoop === b.depLoop ? a.depSortIdx - b.depSortIdx : a.depLoop ? 1 : -1);
  for (const d of mods2) if (d.deps.length > 1) d.deps.sort(depCmp);

  const files = new Map<string, Uint8Array>();
  const put = (name: string, text: string): void => void files.set(name, latin1ToBytes(text));

  writeDep(mods2, files);

  writeAliases(mods2, files, warnings);

  // modules.softdep (and modules.weakdep for kmod ≥ 33)
  const soft = ["# Soft dependencies extracted from modules themselves.\n"];
  for (const d of mods2) for (const v of modinfoValues(d.m, "softdep")) soft.push(`softdep ${d.name} ${v}\n`);
  put("modules.softdep", soft.join(""));
  if (opts.weakdep === true) {
    const weak = ["# Weak dependencies extracted from modules themselves.\n"];
    for (const d of mods2) for (const v of modinfoValues(d.m, "weakdep")) weak.push(`weakdep ${d.name} ${v}\n`);
    put("modules.weakdep", weak.join(""));
  }

  writeSymbols(mods2, owners, symbols, files);

  // modules.builtin.bin from modules.builtin (missing input: warning and an empty file)
  if (opts.builtin === undefined) {
    missing("modules.builtin");
    files.set("modules.builtin.bin", new Uint8Array(0));
  } else {
    const b = new IndexWriter("modules.builtin.bin");
    const raw = opts.builtin.split("\n");
    raw.forEach((l, i) => {
      if (i === raw.length - 1 && l === "") return;
      if (!/^[A-Za-z]/.test(l)) {
        warnings.push(`depmod: ERROR: Invalid modules.builtin line: ${l}\n`);
        return;
      }
      b.insert(pathToModname(l), "", 0);
    });
    files.set("modules.builtin.bin", b.write());
  }

  // modules.builtin.alias.bin from modules.builtin.modinfo (missing input: warning and an empty file)
  if (opts.builtinModinfo === undefined) {
    missing("modules.builtin.modinfo");
    files.set("modules.builtin.alias.bin", new Uint8Array(0));
  } else {
    const b = new IndexWriter("modules.builtin.alias.bin");
    for (const r of parseBuiltinModinfo(bytesToLatin1(opts.builtinModinfo))) {
      if (r.key !== "alias") continue;
      let key: string;
      try {
        key = aliasNormalize(r.value);
      } catch {
        warnings.push(`depmod: WARNING: Unmatched bracket in ${r.value}\n`);
        continue;
      }
      b.insert(key, r.module, 0);
    }
    files.set("modules.builtin.alias.bin", b.write());
  }

  // modules.devname: the header is written before the first entry only (kmod 30 output_devname).
  const dev: string[] = [];
  for (const d of mods2) {
    let devname: string | null = null;
    let type = "";
    let major = 0;
    let minor = 0;
    for (const v of d.aliases) {
      let mm: RegExpExecArray | null;
      if (v.startsWith("devname:")) devname = v.slice("devname:".length);
      else if ((mm = /^char-major-(\d+)-(\d+)/.exec(v))) [type, major, minor] = ["c", Number(mm[1]), Number(mm[2])];
      else if ((mm = /^block-major-(\d+)-(\d+)/.exec(v))) [type, major, minor] = ["b", Number(mm[1]), Number(mm[2])];
      if (type !== "" && devname !== null) break;
    }
    if (devname === null) continue;
    if (type === "") {
      warnings.push(`depmod: ERROR: Module '${d.name}' has devname (${devname}) but lacks major and minor information. Ignoring.\n`);
      continue;
    }
    if (dev.length === 0) dev.push("# Device nodes to trigger on-demand module loading.\n");
    dev.push(`${d.name} ${devname} ${type}${major}:${minor}\n`);
  }
  put("modules.devname", dev.join(""));

  if (opts.order !== undefined) put("modules.order", opts.order);
  if (opts.builtin !== undefined) put("modules.builtin", opts.builtin);
  if (opts.builtinModinfo !== undefined) files.set("modules.builtin.modinfo", opts.builtinModinfo);
  return { files, warnings, order: mods2.map((d) => d.name) };
}

/**
 * depmod_load_dependencies: a module depends on the owner of each symbol it needs, or, for an
 * inline module, on the modules its `depends` modinfo key names. Fills `deps` (first-use order, no
 * repeats) and `users`.
 */
function resolveDependencies(mods2: DMod[], byName: Map<string, DMod>, symbols: SymbolNames, owners: Int32Array): void {
  // Which module last added a dependency on a module (by idx): a module's deps without repeats.
  const depOf = new Int32Array(mods2.length).fill(-1);
  for (const d of mods2) {
    if (d.m.exports === undefined && d.m.needs === undefined) {
      // Inline module: `depends=a,b` (the kernel's modinfo key) names the direct dependencies.
      for (const v of modinfoValues(d.m, "depends")) {
        for (const dep of v.split(",")) {
          if (dep === "") continue;
          const o = byName.get(modnameNormalize(dep));
          if (!o) throw new KbindError("UNKNOWN_DEPENDENCY", `${d.m.relpath}: depends on unknown module '${dep}'`, { file: d.m.relpath });
          if (!d.deps.includes(o)) {
            d.deps.push(o);
            o.users++;
          }
        }
      }
      continue;
    }
    const needs = d.m.needs ?? NO_SYMBOLS;
    for (let i = 0; i < needs.length; i++) {
      // depmod_symbol_find skips a leading '.' (PPC64 function descriptors).
      const s = symbols.withoutLeading(needs[i]!, 0x2e);
      const oi = s < owners.length ? owners[s]! : -1;
      if (oi < 0 || depOf[oi] === d.idx) continue;
      depOf[oi] = d.idx;
      const o = mods2[oi]!;
      d.deps.push(o);
      o.users++;
    }
  }
}

/** modules.dep and modules.dep.bin (output_deps, output_deps_bin). */
function writeDep(mods2: DMod[], files: Map<string, Uint8Array>): void {
  const depText = new ByteWriter();
  const depBin = new IndexWriter("modules.dep.bin");
  // mod_get_all_sorted_dependencies: every module reachable through deps, by dep_sort_idx (unique
  // outside cycles; modules in cycles are left out of the line, so their order does not matter).
  const mark = new Int32Array(mods2.length).fill(-1);
  const stack: DMod[] = [];
  const reach: DMod[] = [];
  const parts: string[] = [];
  const bySortIdx = (a: DMod, b: DMod): number => a.depSortIdx - b.depSortIdx;
  for (const d of mods2) {
    if (d.depLoop) continue;
    reach.length = 0;
    stack.push(d);
    while (stack.length > 0) {
      const x = stack.pop()!;
      for (const y of x.deps) {
        if (mark[y.idx] === d.idx) continue;
        mark[y.idx] = d.idx;
        if (!y.depLoop) reach.push(y);
        stack.push(y);
      }
    }
    reach.sort(bySortIdx);
    parts.length = 0;
    parts.push(d.m.relpath + ":");
    for (const x of reach) parts.push(x.m.relpath);
    const line = parts.join(" ");
    depText.str(line);
    depText.u8(0x0a);
    depBin.insert(d.name, line, d.idx);
  }
  files.set("modules.dep", depText.bytes());
  files.set("modules.dep.bin", depBin.write());
}

/** modules.alias and modules.alias.bin (output_aliases, output_aliases_bin). */
function writeAliases(mods2: DMod[], files: Map<string, Uint8Array>, warnings: string[]): void {
  const aliasText = new ByteWriter();
  aliasText.str("# Aliases extracted from modules themselves.\n");
  const aliasBin = new IndexWriter("modules.alias.bin");
  for (const d of mods2) {
    for (const v of d.aliases) {
      aliasText.str("alias ");
      aliasText.str(v);
      aliasText.u8(0x20);
      aliasText.str(d.name);
      aliasText.u8(0x0a);
      let key: string;
      try {
        key = aliasNormalize(v);
      } catch {
        warnings.push(`depmod: WARNING: Unmatched bracket in ${v}\n`);
        continue;
      }
      aliasBin.insert(key, d.name, d.idx);
    }
  }
  files.set("modules.alias", aliasText.bytes());
  files.set("modules.alias.bin", aliasBin.write());
}

/** modules.symbols and modules.symbols.bin (output_symbols, output_symbols_bin): every exported symbol with a module owner. */
function writeSymbols(mods2: DMod[], owners: Int32Array, symbols: SymbolNames, files: Map<string, Uint8Array>): void {
  const symText = new ByteWriter();
  symText.str("# Aliases for symbols, used by symbol_request().\n");
  const symBin = new IndexWriter("modules.symbols.bin");
  const owned: number[] = [];
  for (let s = 0; s < owners.length; s++) if (owners[s]! >= 0) owned.push(s);
  const ownedNames = owned.map((s) => symbols.name(s));
  for (const i of hashOrder(ownedNames, 2048)) {
    const s = ownedNames[i]!;
    const o = mods2[owners[owned[i]!]!]!;
    symText.str("alias symbol:");
    symText.str(s);
    symText.u8(0x20);
    symText.str(o.name);
    symText.u8(0x0a);
    symBin.insert(`symbol:${s}`, o.name, o.idx);
  }
  files.set("modules.symbols", symText.bytes());
  files.set("modules.symbols.bin", symBin.write());
}

/**
 * hash_superfast (shared/hash.c, Paul Hsieh's SuperFastHash) on a byte string, with x86's
 * little-endian unaligned 16-bit loads and `char` being signed. The uint32 arithmetic is done in
 * int32 (`| 0` wraps like C's unsigned overflow, `>>>` is the logical shift): the same bits without
 * the float64 values that `>>> 0` on every step gives.
 */
export function hashSuperfast(key: string): number {
  let len = key.length;
  let hash = len | 0;
  const rem = len & 3;
  len >>>= 2;
  let i = 0;
  for (; len > 0; len--) {
    hash = (hash + ((key.charCodeAt(i) & 0xff) | ((key.charCodeAt(i + 1) & 0xff) << 8))) | 0;
    const tmp = (((key.charCodeAt(i + 2) & 0xff) | ((key.charCodeAt(i + 3) & 0xff) << 8)) << 11) ^ hash;
    hash = (hash << 16) ^ tmp;
    i += 4;
    hash = (hash + (hash >>> 11)) | 0;
  }
  switch (rem) {
    case 3:
      hash = (hash + ((key.charCodeAt(i) & 0xff) | ((key.charCodeAt(i + 1) & 0xff) << 8))) | 0;
      hash ^= hash << 16;
      hash ^= ((key.charCodeAt(i + 2) << 24) >> 24) << 18; // signed char
      hash = (hash + (hash >>> 11)) | 0;
      break;
    case 2:
      hash = (hash + ((key.charCodeAt(i) & 0xff) | ((key.charCodeAt(i + 1) & 0xff) << 8))) | 0;
      hash ^= hash << 11;
      hash = (hash + (hash >>> 17)) | 0;
      break;
    case 1:
      hash = (hash + ((key.charCodeAt(i) << 24) >> 24)) | 0; // signed char
      hash ^= hash << 10;
      hash = (hash + (hash >>> 1)) | 0;
      break;
  }
  hash ^= hash << 3;
  hash = (hash + (hash >>> 5)) | 0;
  hash ^= hash << 4;
  hash = (hash + (hash >>> 17)) | 0;
  hash ^= hash << 25;
  hash = (hash + (hash >>> 6)) | 0;
  return hash >>> 0;
}

/**
 * hash_iter order of a kmod `struct hash` with `nBuckets` buckets over distinct `keys`: by bucket,
 * then strcmp within one (as indices into `keys`). A bucket holds a handful of keys: counted into
 * place, then insertion-sorted.
 */
function hashOrder(keys: readonly string[], nBuckets: number): number[] {
  const n = keys.length;
  const bucketOf = new Int32Array(n);
  const start = new Int32Array(nBuckets + 1);
  for (let i = 0; i < n; i++) {
    const b = hashSuperfast(keys[i]!) & (nBuckets - 1);
    bucketOf[i] = b;
    start[b + 1]!++;
  }
  for (let b = 0; b < nBuckets; b++) start[b + 1]! += start[b]!;
  const out = new Array<number>(n);
  const fill = start.slice(0, nBuckets);
  for (let i = 0; i < n; i++) out[fill[bucketOf[i]!]!++] = i;
  for (let b = 0; b < nBuckets; b++) {
    for (let i = start[b]! + 1; i < start[b + 1]!; i++) {
      const x = out[i]!;
      let j = i - 1;
      while (j >= start[b]! && keys[out[j]!]! > keys[x]!) {
        out[j + 1] = out[j]!;
        j--;
      }
      out[j + 1] = x;
    }
  }
  return out;
}

/** path_to_modname (shared/util.c): basename, then modname_normalize (stop at '.', '-' → '_'). */
export function pathToModname(path: string): string {
  return modnameNormalize(path.slice(path.lastIndexOf("/") + 1));
}
