// Persisted flavours: one file per device, <configDir>/devices/<bus>-<device>.json (driverctl keeps
// /etc/driverctl.d/<bus>-<device>), each written atomically (temp file, fsync, rename, fsync dir).
// `kbind host apply` re-applies them idempotently; `kbind host status` compares them with reality.
import { join } from "node:path";
import { z } from "zod";
import { KbindError } from "../model/errors.ts";
import { atomicRemoveFile, atomicWriteFile, listIfExists, readTextIfExists } from "./atomic-file.ts";
import { validateBusName, validateDeviceName, validateDriverName, validateModuleName } from "./validate.ts";

export const deviceConfigSchema = z.object({
  bus: z.string(),
  device: z.string(),
  flavour: z.literal("vfio"),
  /** The module the switch loaded and the driver it bound (verified at set time). */
  module: z.string(),
  driver: z.string(),
  /** The host driver the device had before (what unset restores). */
  hostDriver: z.string().nullable(),
});
export type DeviceConfig = z.infer<typeof deviceConfigSchema>;

export class ConfigStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  get journalPath(): string {
    return join(this.dir, "journal.json");
  }
  private file(bus: string, device: string): string {
    return join(this.dir, "devices", `${validateBusName(bus)}-${validateDeviceName(device)}.json`);
  }
  get(bus: string, device: string): DeviceConfig | null {
    const path = this.file(bus, device);
    const text = readTextIfExists(path);
    return text === null ? null : parseConfig(text, path);
  }
  put(c: DeviceConfig): void {
    validateModuleName(c.module);
    validateDriverName(c.driver);
    if (c.hostDriver !== null) validateDriverName(c.hostDriver);
    atomicWriteFile(this.file(c.bus, c.device), JSON.stringify(c, null, 2) + "\n");
  }
  remove(bus: string, device: string): void {
    atomicRemoveFile(this.file(bus, device));
  }
  all(): DeviceConfig[] {
    const out: DeviceConfig[] = [];
    const dir = join(this.dir, "devices");
    for (const f of listIfExists(dir)) {
      if (!f.endsWith(".json") || f.startsWith(".")) continue;
      const path = join(dir, f);
      out.push(parseConfig(readTextIfExists(path) ?? "", path));
    }
    return out;
  }
}

function parseConfig(text: string, path: string): DeviceConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new KbindError("BAD_CONFIG", `not JSON: ${(e as Error).message}`, { file: path });
  }
  const r = deviceConfigSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new KbindError("BAD_CONFIG", `${i?.path.join(".") ?? ""}: ${i?.message ?? "invalid"}`, { file: path });
  }
  validateBusName(r.data.bus);
  validateDeviceName(r.data.device);
  validateModuleName(r.data.module);
  validateDriverName(r.data.driver);
  return r.data;
}
