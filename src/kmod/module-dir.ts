// A modules directory (/lib/modules/<version>) held in memory: the files libkmod reads from it,
// addressed by path relative to the directory ("modules.alias.bin", "kernel/fs/ext4/ext4.ko").
// The pure core never touches the file system; src/host/kmod-files.ts fills this from disk.
import { KbindError } from "../model/errors.ts";
import { bytesToLatin1 } from "./bytes.ts";
import { depmodFromModinfo, type InlineModule, type DepmodOptions } from "./depmod.ts";
import { KmodIndex } from "./index-bin.ts";

/** libkmod's index_files[] (libkmod.c), in kmod_load_resources order. */
export const INDEX_FILES = {
  dep: "modules.dep.bin",
  alias: "modules.alias.bin",
  symbol: "modules.symbols.bin",
  builtinAlias: "modules.builtin.alias.bin",
  builtin: "modules.builtin.bin",
} as const;
export type IndexKind = keyof typeof INDEX_FILES;

export interface IndexLoad {
  index: KmodIndex | null;
  /** Why the index could not be used (corrupt header, bad node); null when simply absent. */
  error: KbindError | null;
}

export class ModuleDir {
  private readonly files: ReadonlyMap<string, Uint8Array>;
  private readonly cache = new Map<string, IndexLoad>();

  private constructor(files: ReadonlyMap<string, Uint8Array>) {
    this.files = files;
  }

  static fromFiles(map: ReadonlyMap<string, Uint8Array>): ModuleDir {
    return new ModuleDir(map);
  }

  has(rel: string): boolean {
    return this.files.has(rel);
  }

  bytes(rel: string): Uint8Array | undefined {
    return this.files.get(rel);
  }

  text(rel: string): string | undefined {
    const b = this.files.get(rel);
    return b === undefined ? undefined : bytesToLatin1(b);
  }

  /** Every file path held (relative). */
  paths(): string[] {
    return [...this.files.keys()];
  }

  /** A parsed index, cached; a corrupt file yields {index: null, error}. */
  index(kind: IndexKind): IndexLoad {
    const name = INDEX_FILES[kind];
    const hit = this.cache.get(name);
    if (hit) return hit;
    const b = this.files.get(name);
    let r: IndexLoad;
    if (b === undefined) r = { index: null, error: null };
    else {
      try {
        r = { index: KmodIndex.parse(b, name), error: null };
      } catch (e) {
        if (!(e instanceof KbindError)) throw e;
        r = { index: null, error: e };
      }
    }
    this.cache.set(name, r);
    return r;
  }
}

/**
 * Does depmod's job for modules given by their modinfo alone (scenarios with inline modules):
 * modules.dep from `depends` keys, modules.alias/.softdep/.weakdep and all `.bin` indexes.
 */
export function buildModuleDir(mods: InlineModule[], opts?: DepmodOptions): ModuleDir {
  const out = depmodFromModinfo(mods, opts);
  return ModuleDir.fromFiles(out.files);
}
