// Reading a real modules directory and modprobe.d search paths into the pure kmod layer, and the
// host side of `kbind modprobe` / `kbind depmod`. Read-only on /sys and /proc; writes only the
// files depmod is asked to write, under the given base directory.
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToLatin1 } from "../kmod/bytes.ts";
import type { ConfigPathEntry } from "../kmod/config.ts";
import { decompressModule, detectCompression } from "../kmod/decompress.ts";
import { depmodFromKoSource, type DepmodFromKoResult } from "../kmod/depmod-ko.ts";
import type { DepmodOptions } from "../kmod/depmod.ts";
import type { KmodKernelPort, ModuleInitstate } from "../kmod/kernel-port.ts";
import { ModuleDir } from "../kmod/module-dir.ts";
import type { ModprobeEnv } from "../kmod/modprobe.ts";

/** The index and text files libkmod/depmod read from a modules directory. */
export const MODULE_DIR_FILES = [
  "modules.dep",
  "modules.dep.bin",
  "modules.alias",
  "modules.alias.bin",
  "modules.softdep",
  "modules.weakdep",
  "modules.symbols",
  "modules.symbols.bin",
  "modules.builtin",
  "modules.builtin.bin",
  "modules.builtin.alias.bin",
  "modules.builtin.modinfo",
  "modules.order",
  "modules.devname",
];

function walkKo(dir: string, rel: string, out: string[]): void {
  let ents;
  try {
    ents = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of ents) {
    const n = e.name;
    if (rel === "" && (n === "build" || n === "source")) continue;
    const r = rel === "" ? n : `${rel}/${n}`;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = statSync(join(dir, r));
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    if (isDir) walkKo(dir, r, out);
    else if (isFile && /\.ko(\.gz|\.xz|\.zst)?$/.test(n)) out.push(r);
  }
}

/**
 * A ModuleDir from disk: the index/text files, and the .ko paths (as empty placeholders unless
 * `withKo`, since libkmod only needs to know they exist).
 */
export function readModuleDir(dirname: string, opts: { withKo?: boolean } = {}): ModuleDir {
  const files = new Map<string, Uint8Array>();
  if (!existsSync(dirname)) return ModuleDir.fromFiles(files);
  for (const f of MODULE_DIR_FILES) {
    const p = join(dirname, f);
    try {
      if (statSync(p).isFile()) files.set(f, readFileSync(p));
    } catch {
      /* absent */
    }
  }
  const kos: string[] = [];
  walkKo(dirname, "", kos);
  const empty = new Uint8Array(0);
  for (const k of kos) files.set(k, opts.withKo === true ? readFileSync(join(dirname, k)) : empty);
  return ModuleDir.fromFiles(files);
}

/** One modprobe.d search-path entry as libkmod's conf_files_list sees it (readdir order is irrelevant: sorted later). */
export function readConfigPath(path: string): ConfigPathEntry {
  let st;
  try {
    st = statSync(path);
  } catch {
    return { kind: "missing", path };
  }
  if (st.isFile()) return { kind: "file", path, text: bytesToLatin1(readFileSync(path)) };
  if (!st.isDirectory()) return { kind: "missing", path };
  const entries: { name: string; isDir: boolean; text: string }[] = [];
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      continue;
    }
    let text = "";
    if (!isDir && (name.endsWith(".conf") || name.endsWith(".alias"))) {
      try {
        text = bytesToLatin1(readFileSync(p));
      } catch {
        text = "";
      }
    }
    entries.push({ name, isDir, text });
  }
  return { kind: "dir", path: path.replace(/\/+$/, "") || "/", entries };
}

/**
 * The host as seen by kbind's modprobe: /sys/module and /proc/cmdline are read (never written);
 * inserting a module or running an install command is refused (-EPERM / -1) — kbind never
 * changes the host's kernel. `sysRoot`/`cmdline` let tests point it elsewhere.
 */
export function readOnlyHostKernel(opts: { sysModule?: string; cmdline?: string } = {}): KmodKernelPort {
  const sysModule = opts.sysModule ?? "/sys/module";
  return {
    moduleInitstate(name: string): ModuleInitstate | null {
      const dir = join(sysModule, name);
      try {
        const s = readFileSync(join(dir, "initstate"), "latin1").trim();
        if (s === "live" || s === "coming" || s === "going") return s;
        return "live";
      } catch {
        try {
          return lstatSync(dir).isDirectory() ? "coming" : null;
        } catch {
          return null;
        }
      }
    },
    // kmod_module_get_refcnt: /sys/module/<name>/refcnt, -errno when it cannot be read.
    moduleRefcnt(name: string): number {
      try {
        return Number.parseInt(readFileSync(join(sysModule, name, "refcnt"), "latin1"), 10);
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === "ENOENT" ? -2 : -13;
      }
    },
    // kmod_module_get_holders: /sys/module/<name>/holders/ entries.
    moduleHolders(name: string): string[] | number {
      try {
        return readdirSync(join(sysModule, name, "holders"));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return code === "ENOENT" ? -2 : code === "ENOTDIR" ? -20 : -13;
      }
    },
    insertModule: () => -1,
    // Never delete_module on the host: -EPERM, whatever modprobe -r asks.
    deleteModule: () => -1,
    runCommand: () => -1,
    kernelCmdline: () => opts.cmdline ?? (existsSync("/proc/cmdline") ? readFileSync("/proc/cmdline", "latin1") : ""),
  };
}

/** uname -r of this machine. */
export function unameRelease(): string {
  try {
    return readFileSync("/proc/sys/kernel/osrelease", "latin1").trim();
  } catch {
    return "unknown";
  }
}

/** The ModprobeEnv for running kbind's modprobe against this host's files (read-only). */
export function hostModprobeEnv(kernel: KmodKernelPort = readOnlyHostKernel(), env: Record<string, string | undefined> = process.env): ModprobeEnv {
  return {
    kernel,
    unameRelease: unameRelease(),
    env,
    openModuleDir: (d) => readModuleDir(d),
    readConfigPath,
    cwd: process.cwd(),
  };
}

/**
 * A module file as depmod needs it. For a plain ELF only the header, the section table and the
 * sections kmod reads (.modinfo, .symtab + its string table, __ksymtab_strings, __versions) are
 * read — like depmod's mmap, which only touches those pages — and packed into a compact ELF of
 * the same class and byte order (a new section table pointing at the copied sections).
 * Compressed or unusual files are read whole.
 */
export function readKoSparse(path: string): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(64, size));
    readSync(fd, head, 0, head.length, 0);
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    if (size < 64 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46 || (head[4] !== 1 && head[4] !== 2) || (head[5] !== 1 && head[5] !== 2)) {
      return readFileSync(path);
    }
    const hdv = new DataView(head.buffer);
    const shoff = is64 ? (le ? hdv.getUint32(0x28, true) + hdv.getUint32(0x2c, true) * 4294967296 : hdv.getUint32(0x28, false) * 4294967296 + hdv.getUint32(0x2c, false)) : hdv.getUint32(0x20, le);
    const shentsize = hdv.getUint16(is64 ? 0x3a : 0x2e, le);
    const shnum = hdv.getUint16(is64 ? 0x3c : 0x30, le);
    const shstrndx = hdv.getUint16(is64 ? 0x3e : 0x32, le);
    const hsize = is64 ? 64 : 52;
    if (shnum === 0 || shoff + shnum * shentsize > size || shstrndx >= shnum || shentsize !== (is64 ? 64 : 40)) return readFileSync(path);
    const table = new Uint8Array(shnum * shentsize);
    readSync(fd, table, 0, table.length, shoff);
    const tdv = new DataView(table.buffer);
    const offOf = (i: number): number => (is64 ? (le ? tdv.getUint32(i * 64 + 0x18, true) + tdv.getUint32(i * 64 + 0x1c, true) * 4294967296 : tdv.getUint32(i * 64 + 0x1c, false)) : tdv.getUint32(i * 40 + 0x10, le));
    const sizeOf = (i: number): number => (is64 ? (le ? tdv.getUint32(i * 64 + 0x20, true) : tdv.getUint32(i * 64 + 0x24, false)) : tdv.getUint32(i * 40 + 0x14, le));
    const linkOf = (i: number): number => tdv.getUint32(is64 ? i * 64 + 0x28 : i * 40 + 0x18, le);
    const nameOf = (i: number): number => tdv.getUint32(i * shentsize, le);
    const typeOf = (i: number): number => tdv.getUint32(i * shentsize + 4, le);
    const readSec = (i: number): Uint8Array | null => {
      const o = offOf(i);
      const n = sizeOf(i);
      if (typeOf(i) === 8 || o + n > size) return null;
      const b = new Uint8Array(n);
      if (n > 0) readSync(fd, b, 0, n, o);
      return b;
    };
    const strs = readSec(shstrndx);
    if (!strs) return readFileSync(path);
    const want = new Set([".modinfo", ".symtab", "__ksymtab_strings", "__versions"]);
    const keep = new Set<number>([shstrndx]);
    for (let i = 0; i < shnum; i++) {
      const no = nameOf(i);
      let e = no;
      while (e < strs.length && strs[e] !== 0) e++;
      const name = String.fromCharCode.apply(null, strs.subarray(no, e) as unknown as number[]);
      if (!want.has(name)) continue;
      keep.add(i);
      if (name === ".symtab" && linkOf(i) < shnum) keep.add(linkOf(i));
    }
    // Compact file: header, kept sections (8-aligned), then a section table with index 0 (null)
    // and the kept sections in their original order; sh_link of .symtab and e_shstrndx remapped.
    const order = [...keep].sort((a, b) => a - b);
    const newIndex = new Map(order.map((old, k) => [old, k + 1]));
    const datas = order.map((i) => (i === shstrndx ? strs : readSec(i)));
    if (datas.some((d) => d === null)) return readFileSync(path);
    let off = hsize;
    const offs: number[] = [];
    for (const d of datas) {
      off = (off + 7) & ~7;
      offs.push(off);
      off += d!.length;
    }
    off = (off + 7) & ~7;
    const newShoff = off;
    const out = new Uint8Array(newShoff + (order.length + 1) * shentsize);
    const odv = new DataView(out.buffer);
    out.set(head.subarray(0, hsize), 0);
    datas.forEach((d, k) => out.set(d!, offs[k]));
    order.forEach((old, k) => {
      const at = newShoff + (k + 1) * shentsize;
      out.set(table.subarray(old * shentsize, (old + 1) * shentsize), at);
      if (is64) {
        odv.setUint32(at + (le ? 0x18 : 0x1c), offs[k]!, le);
        odv.setUint32(at + (le ? 0x1c : 0x18), 0, le);
        odv.setUint32(at + 0x28, newIndex.get(linkOf(old)) ?? 0, le);
      } else {
        odv.setUint32(at + 0x10, offs[k]!, le);
        odv.setUint32(at + 0x18, newIndex.get(linkOf(old)) ?? 0, le);
      }
    });
    if (is64) {
      odv.setUint32(0x28, le ? newShoff : 0, le);
      odv.setUint32(0x2c, le ? 0 : newShoff, le);
    } else odv.setUint32(0x20, newShoff, le);
    odv.setUint16(is64 ? 0x3c : 0x30, order.length + 1, le);
    odv.setUint16(is64 ? 0x3e : 0x32, newIndex.get(shstrndx)!, le);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** `depmod -b BASE VERSION`: reads every .ko under BASE/lib/modules/VERSION and writes the indexes. */
export function runDepmodOnDisk(base: string, version: string): DepmodFromKoResult {
  return depmodWrite(base, version, (dirname, kos, opts) => depmodFromKoSource(kos, (rel) => readKoSparse(join(dirname, rel)), opts));
}

/** The same, decompressing .xz modules (asynchronous WASM decoder) first. */
export async function runDepmodOnDiskAsync(base: string, version: string): Promise<DepmodFromKoResult> {
  const dirname = join(base, "lib/modules", version);
  const kos: string[] = [];
  walkKo(dirname, "", kos);
  // Only .xz needs the asynchronous decoder; everything else is read lazily, one file at a time.
  const xz = new Map<string, Uint8Array>();
  for (const rel of kos) {
    if (!rel.endsWith(".xz")) continue;
    const raw = readFileSync(join(dirname, rel));
    if (detectCompression(raw) === "xz") xz.set(rel, await decompressModule(raw, rel));
  }
  return depmodWrite(base, version, (d, list, opts) => depmodFromKoSource(list, (rel) => xz.get(rel) ?? readKoSparse(join(d, rel)), opts));
}

function depmodWrite(base: string, version: string, run: (dirname: string, kos: string[], opts: DepmodOptions) => DepmodFromKoResult): DepmodFromKoResult {
  const dirname = join(base, "lib/modules", version);
  const kos: string[] = [];
  walkKo(dirname, "", kos);
  const read = (f: string): Uint8Array | undefined => {
    const p = join(dirname, f);
    return existsSync(p) ? readFileSync(p) : undefined;
  };
  const order = read("modules.order");
  const builtin = read("modules.builtin");
  const builtinModinfo = read("modules.builtin.modinfo");
  const result = run(dirname, kos, {
    dirname,
    ...(order ? { order: bytesToLatin1(order) } : {}),
    ...(builtin ? { builtin: bytesToLatin1(builtin) } : {}),
    ...(builtinModinfo ? { builtinModinfo } : {}),
  });
  mkdirSync(dirname, { recursive: true });
  for (const name of DEPMOD_OUTPUTS) {
    const data = result.files.get(name);
    if (data === undefined) continue;
    const tmp = join(dirname, `${name}.tmp`);
    writeFileSync(tmp, data);
    renameSync(tmp, join(dirname, name));
  }
  return result;
}

/** kmod 30 depmod_output order. */
export const DEPMOD_OUTPUTS = [
  "modules.dep",
  "modules.dep.bin",
  "modules.alias",
  "modules.alias.bin",
  "modules.softdep",
  "modules.symbols",
  "modules.symbols.bin",
  "modules.builtin.bin",
  "modules.builtin.alias.bin",
  "modules.devname",
];
