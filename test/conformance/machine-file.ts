// The schema of data/machines/qemu-q35.yaml (written by capture.ts, read by model-target.ts).
import { z } from "zod";

/** A sysfs hex attribute ("0x8086"), parsed to a number. */
const hexId = z.string().regex(/^0x[0-9a-f]+$/).transform((s) => parseInt(s, 16));

export const machineFileSchema = z.object({
  captured: z.string(),
  how: z.string(),
  kernel: z.string(),
  cmdline: z.string(),
  qemuDevices: z.array(z.string()),
  pci: z.array(
    z.object({
      name: z.string(),
      devpath: z.string(),
      vendor: hexId,
      device: hexId,
      subvendor: hexId,
      subdevice: hexId,
      class: hexId,
      revision: hexId,
      iommuGroup: z.number().nullable(),
      driver: z.string().nullable(),
    }),
  ),
  virtio: z.array(z.object({ name: z.string(), parent: z.string(), device: hexId, vendor: hexId, driver: z.string().nullable() })),
  modules: z.array(z.object({ name: z.string(), path: z.string(), uses: z.array(z.string()), drivers: z.array(z.string()), loadedAtBoot: z.boolean() })),
  builtinPciDrivers: z.array(z.object({ name: z.string(), module: z.string().nullable(), binds: z.array(z.string()) })),
});

/** As written (hex strings). */
export type MachineFile = z.input<typeof machineFileSchema>;
/** As parsed (numbers). */
export type Machine = z.output<typeof machineFileSchema>;
