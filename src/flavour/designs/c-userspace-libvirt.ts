// Design (c), upstream Linux today: userspace picks the variant. For PCI this is libvirt's exact
// algorithm (src/util/virpci.c, libvirt 10.0+): virPCIDeviceFindBestVFIOVariant reads the device's
// modalias and the TEXT modules.alias of the running kernel, keeps the "vfio_pci:" line with the
// fewest whole-field "*" (strict <, so the first line wins ties), falls back to vfio-pci;
// virPCIDeviceFindDriver finds or loads it (modprobe -b) and reads /sys/module/<mod>/drivers to learn
// the driver name; then driver_override, unbind, drivers_probe. Platform devices use the kernel's
// documented bus-independent recipe (commit cc6711b0bf36): "vfio_" + modalias finds nothing for OF,
// so the universal vfio-platform is used.
import { KbindError } from "../../model/errors.ts";
import { linkBase, readText, runModprobe, sysExists, sysList, sysRead, sysDriverLink, type Proc } from "../ops.ts";
import { devPath, type Design, type DevRef, type SwitchContext } from "./design.ts";
import { overrideAndRebind, reattachToHost } from "./reattach.ts";

const LABELS = ["v", "d", "sv", "sd", "bc", "sc", "i"] as const;

/** virPCIDeviceAliasInfoNew(): the 7 fields, each the text between its label and the next label. */
export function libvirtAliasFields(s: string): string[] | null {
  const out: string[] = [];
  let pos = 0;
  for (let k = 0; k < LABELS.length; k++) {
    const at = s.indexOf(LABELS[k]!, pos);
    if (at < 0) return null;
    const start = at + LABELS[k]!.length;
    const next = LABELS[k + 1];
    let end: number;
    if (next !== undefined) {
      end = s.indexOf(next, start);
      if (end < 0) return null;
    } else {
      const ws = s.slice(start).search(/[\s\0]/);
      end = ws < 0 ? s.length : start + ws;
    }
    out.push(s.slice(start, end));
    pos = end;
  }
  return out;
}

/** virPCIDeviceFindBestVFIOVariant() over the modules.alias text; null when nothing matches. */
export function libvirtBestVariant(modalias: string, aliasFile: string): string | null {
  if (!modalias.startsWith("pci:")) return null;
  const dev = libvirtAliasFields(modalias.slice(4));
  if (!dev) return null;
  const key = "\nalias vfio_pci:";
  let best: string | null = null;
  let bestWild = Infinity;
  for (let at = aliasFile.indexOf(key); at >= 0; at = aliasFile.indexOf(key, at + 1)) {
    const lineEnd = aliasFile.indexOf("\n", at + 1);
    const line = aliasFile.slice(at + key.length, lineEnd < 0 ? aliasFile.length : lineEnd);
    const sp = line.indexOf(" ");
    if (sp < 0) continue;
    const fields = libvirtAliasFields(line.slice(0, sp));
    if (!fields) continue;
    let wild = 0;
    let ok = true;
    for (let k = 0; k < 7; k++) {
      const f = fields[k]!;
      // virPCIDeviceAliasInfoMatch: "*" is a wildcard (last field keeps the trailing '*'), else equal
      const fieldOk = f === "*" || (k === 6 && f.endsWith("*") && f.slice(0, -1) === dev[k]) || f === dev[k];
      if (!fieldOk) {
        ok = false;
        break;
      }
      if (f === "*") wild++;
    }
    if (ok && wild < bestWild) {
      bestWild = wild;
      best = line.slice(sp + 1).trim();
    }
  }
  return best;
}

/** virPCIDeviceFindDriver(): the PCI driver name for a module, loading it if needed. */
export function* libvirtFindDriver(name: string, bus: string): Proc<string> {
  if (yield* sysExists(`/sys/bus/${bus}/drivers/${name}`)) return name;
  const mod = name.replace(/-/g, "_");
  if (yield* sysExists(`/sys/bus/${bus}/drivers/${mod}`)) return mod;
  const r = yield* runModprobe(["-b", mod]);
  if (r.code !== 0) throw new KbindError("MODPROBE_FAILED", `Failed to load PCI driver module ${mod}: ${r.stderr.trim()}`, {});
  const drivers = yield* sysList(`/sys/module/${mod}/drivers`);
  const hit = drivers.find((d) => d.startsWith(`${bus}:`));
  if (hit === undefined) throw new KbindError("NO_DRIVER", `module ${mod} registered no ${bus} driver`, { sysfsPath: `/sys/module/${mod}/drivers` });
  return hit.slice(bus.length + 1);
}

export function* libvirtSwitch(dev: DevRef, ctx: SwitchContext): Proc<void> {
  let want: string;
  if (dev.bus === "pci") {
    const modalias = (yield* sysRead(`${devPath(dev)}/modalias`)).trimEnd();
    const aliases = yield* readText(`/lib/modules/${ctx.kver}/modules.alias`);
    want = libvirtBestVariant(modalias, aliases) ?? "vfio-pci";
  } else {
    want = "vfio-platform";
  }
  const drv = yield* libvirtFindDriver(want, dev.bus);
  const cur = yield* sysDriverLink(devPath(dev));
  if (cur !== null && linkBase(cur) === drv) return;
  yield* overrideAndRebind(dev, drv);
}

export const designC: Design = {
  id: "c",
  title: "userspace: vfio_pci: aliases, fewest wildcards (libvirt)",
  short: "libvirt",
  config: { flavourAttr: false, resetLookup: "first", overrideGlob: false, extraSoftdeps: [] },
  switchToVfio: libvirtSwitch,
  returnToHost: reattachToHost,
};
