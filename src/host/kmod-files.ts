// Reading a real modules directory and modprobe.d search paths into the pure kmod layer, and the
// host side of `kbind modprobe` / `kbind depmod`. Read-only on /sys and /proc; writes only the
// files depmod is asked to write, under the given base directory.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToLatin1 } from "../kmod/bytes.ts";
import type { ConfigPathEntry } from "../kmod/config.ts";
import { decompressModule, detectCompression } from "../kmod/decompress.ts";
import { depmodFromKoFiles, type DepmodFromKoResult } from "../kmod/depmod-ko.ts";
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
  let names: string[];
  try {
    names = readdirSync(join(dir, rel));
  } catch {
    return;
  }
  for (const n of names) {
    if (rel === "" && (n === "build" || n === "source")) continue;
    const r = rel === "" ? n : `${rel}/${n}`;
    let st;
    try {
      st = statSync(join(dir, r));
    } catch {
      continue;
    }
    if (st.isDirectory()) walkKo(dir, r, out);
    else if (st.isFile() && /\.ko(\.gz|\.xz|\.zst)?$/.test(n)) out.push(r);
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
    insertModule: () => -1,
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
  };
}

/** `depmod -b BASE VERSION`: reads every .ko under BASE/lib/modules/VERSION and writes the indexes. */
export function runDepmodOnDisk(base: string, version: string): DepmodFromKoResult {
  return depmodWrite(base, version, (dirname, kos) => kos.map((rel) => ({ relpath: rel, bytes: readFileSync(join(dirname, rel)) })));
}

/** The same, decompressing .xz modules (asynchronous WASM decoder) first. */
export async function runDepmodOnDiskAsync(base: string, version: string): Promise<DepmodFromKoResult> {
  const dirname = join(base, "lib/modules", version);
  const kos: string[] = [];
  walkKo(dirname, "", kos);
  const files = await Promise.all(
    kos.map(async (rel) => {
      const raw = readFileSync(join(dirname, rel));
      return { relpath: rel, bytes: detectCompression(raw) === "xz" ? await decompressModule(raw, rel) : raw };
    }),
  );
  return depmodWrite(base, version, () => files);
}

function depmodWrite(base: string, version: string, load: (dirname: string, kos: string[]) => { relpath: string; bytes: Uint8Array }[]): DepmodFromKoResult {
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
  const result = depmodFromKoFiles(
    load(dirname, kos),
    {
      dirname,
      ...(order ? { order: bytesToLatin1(order) } : {}),
      ...(builtin ? { builtin: bytesToLatin1(builtin) } : {}),
      ...(builtinModinfo ? { builtinModinfo } : {}),
    },
  );
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
