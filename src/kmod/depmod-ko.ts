// depmod over real .ko files (already decompressed or zstd/gzip): ELF → modinfo, exports, needs,
// then the pure depmod computation. Module discovery order and the name each file gets follow
// depmod_modules_search_file (path_to_modname; the first file found for a name wins here, as
// without depmod.d `search`/`override` rules depmod keeps the one in the "updates" dir or the
// first one seen).
import { KbindError } from "../model/errors.ts";
import { decompressModuleSync } from "./decompress.ts";
import { depmodFromModinfo, pathToModname, type DepmodModule, type DepmodOptions, type DepmodResult } from "./depmod.ts";
import { readElfModuleInfo } from "./elf.ts";
import { SymbolNames } from "./symbol-names.ts";

export interface KoFile {
  relpath: string;
  /** Raw file bytes (plain ELF, zstd or gzip; xz must be decompressed by the caller). */
  bytes: Uint8Array;
}

export interface DepmodFromKoResult extends DepmodResult {
  /** Files that could not be read as modules: depmod logs and skips them. */
  skipped: KbindError[];
}

/** The modinfo keys depmodFromModinfo reads (aliases, softdeps, weakdeps; `depends` for modules without symbols). */
export const DEPMOD_MODINFO_KEYS: readonly string[] = ["alias", "softdep", "weakdep", "depends"];

/**
 * The module a .ko file holds, as depmod sees it: its modinfo holds only DEPMOD_MODINFO_KEYS, its
 * symbol names are ids in `symbols`.
 */
export function moduleFromKo(ko: KoFile, symbols: SymbolNames): DepmodModule {
  const info = readElfModuleInfo(decompressModuleSync(ko.bytes, ko.relpath), ko.relpath, symbols, DEPMOD_MODINFO_KEYS);
  return { name: pathToModname(ko.relpath), relpath: ko.relpath, modinfo: info.modinfo, exports: info.exports, needs: info.needs };
}

export function depmodFromKoFiles(kos: KoFile[], opts: DepmodOptions = {}): DepmodFromKoResult {
  return depmodFromKoSource(
    kos.map((k) => k.relpath),
    (rel) => kos.find((k) => k.relpath === rel)!.bytes,
    opts,
  );
}

/**
 * depmod over module files read one at a time by `read(relpath)` (so a caller can stream a whole
 * distribution tree without holding every file in memory).
 */
export function depmodFromKoSource(relpaths: string[], read: (relpath: string) => Uint8Array, opts: DepmodOptions = {}): DepmodFromKoResult {
  const skipped: KbindError[] = [];
  const mods: DepmodModule[] = [];
  const symbols = new SymbolNames();
  const seen = new Set<string>();
  // depmod_modules_search_dir: "updates" (the default search entry) wins over other dirs.
  const sorted = [...relpaths.filter((r) => r.startsWith("updates/")), ...relpaths.filter((r) => !r.startsWith("updates/"))];
  for (const rel of sorted) {
    const name = pathToModname(rel);
    if (seen.has(name)) continue;
    try {
      mods.push(moduleFromKo({ relpath: rel, bytes: read(rel) }, symbols));
      seen.add(name);
    } catch (e) {
      if (!(e instanceof KbindError)) throw e;
      skipped.push(e);
    }
  }
  const r = depmodFromModinfo(mods, opts, symbols);
  return { ...r, skipped, warnings: [...skipped.map((e) => `depmod: ERROR: failed ${e.location.file ?? ""}: ${e.message}\n`), ...r.warnings] };
}
