// `kbind host snapshot`: the host's PCI devices (IDs, driver, override, IOMMU group, network
// interfaces, disks) and the drivers loaded modules registered, as a YAML document — read only.
// The same document replays as a temp-dir fake /sys (`kbind host list --snapshot FILE`, tests), so
// an operator's real host can be reproduced and switched in a sandbox.
import { parse, stringify } from "yaml";
import { z } from "zod";
import { KbindError } from "../model/errors.ts";
import type { SysfsPort } from "../ports.ts";
import { deviceRealPath, lastComponent, readAttrOrNull, readBindState, readIommuGroup, readlinkOrNull, resolveLink } from "./device-state.ts";
import type { FakeHostDesc } from "./sysfs-tmpdir.ts";

const hexNum = z.union([z.number().int().nonnegative(), z.string().regex(/^0x[0-9a-fA-F]+$/).transform((s) => Number.parseInt(s, 16))]);

export const snapshotSchema = z.object({
  kind: z.literal("kbind-host-snapshot"),
  version: z.literal(1),
  kernelRelease: z.string().nullable(),
  devices: z.array(
    z.object({
      addr: z.string().regex(/^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/),
      vendor: hexNum,
      device: hexNum,
      subvendor: hexNum,
      subdevice: hexNum,
      class: hexNum,
      iommuGroup: z.number().int().nonnegative().nullable(),
      driver: z.string().nullable(),
      override: z.string().nullable(),
      net: z.array(z.object({ name: z.string(), up: z.boolean() })).default([]),
      block: z.array(z.object({ name: z.string(), dev: z.string() })).default([]),
    }),
  ),
  drivers: z.array(z.object({ name: z.string(), module: z.string() })),
});
export type HostSnapshot = z.infer<typeof snapshotSchema>;

const num = async (sysfs: SysfsPort, p: string): Promise<number> => {
  const t = (await readAttrOrNull(sysfs, p))?.trim() ?? "0";
  const v = Number.parseInt(t, 16);
  return Number.isFinite(v) ? v : 0;
};

async function listOr(sysfs: SysfsPort, dir: string): Promise<string[]> {
  return (await sysfs.exists(dir)) ? sysfs.list(dir) : [];
}

export async function takeSnapshot(sysfs: SysfsPort, kernelRelease: string | null): Promise<HostSnapshot> {
  const netOf = new Map<string, { name: string; up: boolean }[]>();
  for (const n of await listOr(sysfs, "/sys/class/net")) {
    const t = await readlinkOrNull(sysfs, `/sys/class/net/${n}`);
    if (t === null) continue;
    const real = resolveLink(`/sys/class/net/${n}`, t);
    const flags = Number.parseInt((await readAttrOrNull(sysfs, `/sys/class/net/${n}/flags`))?.trim() ?? "0", 16);
    const up = (Number.isFinite(flags) && (flags & 1) !== 0) || (await readAttrOrNull(sysfs, `/sys/class/net/${n}/operstate`))?.trim() === "up";
    netOf.set(real, [...(netOf.get(real) ?? []), { name: n, up }]);
  }
  const blockOf = new Map<string, { name: string; dev: string }[]>();
  for (const b of await listOr(sysfs, "/sys/block")) {
    const t = await readlinkOrNull(sysfs, `/sys/block/${b}`);
    if (t === null) continue;
    const real = resolveLink(`/sys/block/${b}`, t);
    const dev = (await readAttrOrNull(sysfs, `/sys/block/${b}/dev`))?.trim() ?? "0:0";
    blockOf.set(real, [...(blockOf.get(real) ?? []), { name: b, dev }]);
  }
  const devices: HostSnapshot["devices"] = [];
  for (const addr of await listOr(sysfs, "/sys/bus/pci/devices")) {
    const dp = `/sys/bus/pci/devices/${addr}`;
    const st = await readBindState(sysfs, "pci", addr);
    const g = await readIommuGroup(sysfs, "pci", addr);
    const real = await deviceRealPath(sysfs, "pci", addr);
    const under = <T>(m: Map<string, T[]>): T[] => [...m.entries()].filter(([p]) => p.startsWith(real + "/")).flatMap(([, v]) => v);
    devices.push({
      addr,
      vendor: await num(sysfs, `${dp}/vendor`),
      device: await num(sysfs, `${dp}/device`),
      subvendor: await num(sysfs, `${dp}/subsystem_vendor`),
      subdevice: await num(sysfs, `${dp}/subsystem_device`),
      class: await num(sysfs, `${dp}/class`),
      iommuGroup: g === null || !/^\d+$/.test(g) ? null : Number(g),
      driver: st.driver,
      override: st.override,
      net: under(netOf),
      block: under(blockOf),
    });
  }
  const drivers: HostSnapshot["drivers"] = [];
  for (const mod of await listOr(sysfs, "/sys/module")) {
    for (const e of await listOr(sysfs, `/sys/module/${mod}/drivers`)) {
      if (e.startsWith("pci:")) drivers.push({ name: e.slice(4), module: mod });
    }
  }
  // Built-in drivers have no /sys/module/<m>/drivers link: record bound drivers by their module link.
  for (const d of devices) {
    if (d.driver !== null && !drivers.some((x) => x.name === d.driver)) {
      const m = await readlinkOrNull(sysfs, `/sys/bus/pci/drivers/${d.driver}/module`);
      drivers.push({ name: d.driver, module: m === null ? d.driver.replaceAll("-", "_") : lastComponent(m) });
    }
  }
  return { kind: "kbind-host-snapshot", version: 1, kernelRelease, devices, drivers };
}

const hx = (v: number, w: number): string => `0x${v.toString(16).padStart(w, "0")}`;

export function snapshotToYaml(s: HostSnapshot): string {
  const doc = {
    ...s,
    devices: s.devices.map((d) => ({ ...d, vendor: hx(d.vendor, 4), device: hx(d.device, 4), subvendor: hx(d.subvendor, 4), subdevice: hx(d.subdevice, 4), class: hx(d.class, 6) })),
  };
  return "# kbind host snapshot: read-only view of a host's PCI devices and loaded PCI drivers\n" + stringify(doc);
}

export function parseSnapshot(text: string, file: string): HostSnapshot {
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new KbindError("BAD_SNAPSHOT", `not YAML: ${(e as Error).message.split("\n")[0] ?? ""}`, { file, line: pos?.line, column: pos?.col });
  }
  const r = snapshotSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new KbindError("BAD_SNAPSHOT", `${i?.path.join(".") ?? ""}: ${i?.message ?? "invalid"}`, { file });
  }
  return r.data;
}

/** A snapshot as a temp-dir fake /sys description (drivers' ID tables are unknown: none). */
export function snapshotToFakeHost(s: HostSnapshot): FakeHostDesc {
  return {
    kernelRelease: s.kernelRelease ?? undefined,
    drivers: s.drivers.map((d) => ({ name: d.name, module: d.module, ids: [] })),
    devices: s.devices.map((d) => ({
      addr: d.addr,
      vendor: d.vendor,
      device: d.device,
      subvendor: d.subvendor,
      subdevice: d.subdevice,
      class: d.class,
      iommuGroup: d.iommuGroup,
      driver: d.driver,
      override: d.override,
      net: d.net,
      block: d.block,
    })),
  };
}
