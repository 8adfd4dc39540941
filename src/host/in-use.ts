// Is a device in use by the host? A switch to vfio unbinds the host driver: an "up" network
// interface loses its link, a mounted disk disappears under the filesystem. Refused without --force.
// Net: /sys/class/net/<if> links into the device's subtree (register_netdevice → device_add with the
// PCI device as parent); IFF_UP is bit 0 of `flags` (include/uapi/linux/if.h), `operstate` is RFC 2863.
// Block: /sys/block/<disk> links into the subtree (e.g. .../0000:04:00.0/nvme/nvme0/nvme0n1); a
// disk or partition is mounted when its MAJ:MIN (its `dev` attribute) or /dev/<name> appears in
// /proc/self/mountinfo (field 3 is MAJ:MIN, the field after " - fstype" is the source).
import type { SysfsPort } from "../ports.ts";
import { readAttrOrNull, readlinkOrNull, resolveLink } from "./device-state.ts";

export interface InUseReason {
  kind: "net" | "block";
  name: string;
  detail: string;
}

const IFF_UP = 0x1;

async function listOrEmpty(sysfs: SysfsPort, dir: string): Promise<string[]> {
  return (await sysfs.exists(dir)) ? sysfs.list(dir) : [];
}

async function under(sysfs: SysfsPort, classLink: string, deviceReal: string): Promise<boolean> {
  const t = await readlinkOrNull(sysfs, classLink);
  if (t === null) return false;
  const real = resolveLink(classLink, t);
  return real.startsWith(deviceReal + "/");
}

export interface MountEntry {
  majMin: string;
  mountPoint: string;
  source: string;
}

/** Parses /proc/self/mountinfo (proc(5)): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS". */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f.length < 10) continue;
    const dash = f.indexOf("-", 6);
    if (dash < 0 || dash + 2 >= f.length) continue;
    out.push({ majMin: f[2]!, mountPoint: unescapeOctal(f[4]!), source: unescapeOctal(f[dash + 2]!) });
  }
  return out;
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function devicesInUse(sysfs: SysfsPort, deviceReal: string, mountinfo: string): Promise<InUseReason[]> {
  const out: InUseReason[] = [];
  for (const ifname of await listOrEmpty(sysfs, "/sys/class/net")) {
    const link = `/sys/class/net/${ifname}`;
    if (!(await under(sysfs, link, deviceReal))) continue;
    const oper = (await readAttrOrNull(sysfs, `${link}/operstate`))?.trim() ?? "unknown";
    const flagsText = (await readAttrOrNull(sysfs, `${link}/flags`))?.trim() ?? "0";
    const flags = Number.parseInt(flagsText, 16);
    if ((Number.isFinite(flags) && (flags & IFF_UP) !== 0) || oper === "up") {
      out.push({ kind: "net", name: ifname, detail: `network interface ${ifname} is up (operstate ${oper}, flags ${flagsText})` });
    }
  }
  const mounts = parseMountinfo(mountinfo);
  for (const disk of await listOrEmpty(sysfs, "/sys/block")) {
    const link = `/sys/block/${disk}`;
    if (!(await under(sysfs, link, deviceReal))) continue;
    const names = [disk, ...(await sysfs.list(link)).filter((e) => e.startsWith(disk) && e !== disk)];
    for (const name of names) {
      const dev = (await readAttrOrNull(sysfs, name === disk ? `${link}/dev` : `${link}/${name}/dev`))?.trim();
      const hit = mounts.find((m) => (dev !== undefined && m.majMin === dev) || m.source === `/dev/${name}`);
      if (hit) out.push({ kind: "block", name, detail: `block device ${name} (${dev ?? "?"}) is mounted on ${hit.mountPoint}` });
    }
  }
  return out;
}
