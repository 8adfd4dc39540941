// The inputs of a flavour run: the machine (devices with real IDs) and the vfio module tables
// (data/machines/*.yaml, data/variants/*.yaml), validated with zod. Parsing text is the caller's job
// (the CLI reads files); these functions take already-parsed YAML values.
import { z } from "zod";
import { KbindError } from "../model/errors.ts";

const u32 = z.number().int().min(0).max(0xffffffff);
const idField = z.union([u32, z.literal("any")]);

const pciEntry = z.object({
  vendor: idField,
  device: idField,
  subvendor: idField.optional(),
  subdevice: idField.optional(),
  class: u32.optional(),
  classMask: u32.optional(),
  flavour: z.string().min(1).nullable().optional(),
  comment: z.string().optional(),
});

const ofEntry = z.object({
  compatible: z.string().min(1),
  flavour: z.string().min(1).nullable().optional(),
  comment: z.string().optional(),
});

const variantModule = z.object({
  module: z.string().regex(/^[A-Za-z0-9_-]+$/),
  driver: z.string().min(1).optional(),
  relpath: z.string().min(1),
  source: z.string().optional(),
  depends: z.array(z.string()).default([]),
  pci: z.array(pciEntry).optional(),
  of: z.array(ofEntry).optional(),
  probe: z.enum(["vfio-platform"]).optional(),
  resetFor: z.array(z.string()).optional(),
});

export const variantsSchema = z.object({
  kernelRead: z.string(),
  modules: z.array(variantModule),
});

const pciDevice = z.object({
  slot: z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/),
  vendor: u32,
  device: u32,
  subvendor: u32,
  subdevice: u32,
  class: u32,
  physfn: z.string().optional(),
  label: z.string(),
  vfio: z.boolean().optional(),
});

const platformDevice = z.object({
  platform: z.object({
    name: z.string().min(1),
    fullName: z.string().startsWith("/"),
    type: z.string().nullable().optional(),
    compatible: z.array(z.string().min(1)).min(1),
  }),
  label: z.string(),
  vfio: z.boolean().optional(),
});

export const machineSchema = z.object({
  name: z.string(),
  arch: z.string(),
  kver: z.string(),
  moduleData: z.string(),
  variants: z.string(),
  devices: z.array(z.union([pciDevice, platformDevice])),
  hotplug: z.array(pciDevice).default([]),
  raceDevice: z.string(),
});

export type VariantsSpec = z.infer<typeof variantsSchema>;
export type VariantModuleSpec = z.infer<typeof variantModule>;
export type PciEntrySpec = z.infer<typeof pciEntry>;
export type MachineSpec = z.infer<typeof machineSchema>;
export type PciDeviceSpec = z.infer<typeof pciDevice>;
export type PlatformDeviceSpec = z.infer<typeof platformDevice>;
export type DeviceSpec = PciDeviceSpec | PlatformDeviceSpec;

export function isPlatformSpec(d: DeviceSpec): d is PlatformDeviceSpec {
  return "platform" in d;
}

/** The device's name on its bus: the PCI slot or the platform device name. */
export function deviceSpecName(d: DeviceSpec): string {
  return isPlatformSpec(d) ? d.platform.name : d.slot;
}

function check<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue ? issue.path.join(".") : "";
  throw new KbindError("BAD_SPEC", `${file}: ${where}: ${issue?.message ?? "invalid"}`, { file });
}

export function parseVariants(value: unknown, file: string): VariantsSpec {
  return check(variantsSchema, value, file);
}

export function parseMachine(value: unknown, file: string): MachineSpec {
  return check(machineSchema, value, file);
}
