// driver_override: drivers/base/driver.c driver_set_override() (v5.19 … v7.0; same rules as v7.0's
// __device_set_driver_override), and its show (sysfs_emit "%s\n" → "(null)\n" when unset).
import { ERRNO } from "../model/errno.ts";

/** 4 KiB pages (x86_64, arm64 default). */
export const PAGE_SIZE = 4096;

/**
 * driver_set_override(dev, &override, s, len): len >= PAGE_SIZE-1 → -EINVAL; the string ends at the
 * first NUL, then at the first newline; empty (or starting with "\n") clears it.
 * Returns the new override (null = cleared) or a negative errno.
 */
export function driverSetOverride(buf: string): { value: string | null } | number {
  if (buf.length >= PAGE_SIZE - 1) return -ERRNO.EINVAL;
  const nul = buf.indexOf("\0");
  const s = nul >= 0 ? buf.slice(0, nul) : buf;
  if (s.length === 0) return { value: null };
  const nl = s.indexOf("\n");
  if (nl === 0) return { value: null };
  return { value: nl > 0 ? s.slice(0, nl) : s };
}

/** driver_override_show(): "%s\n" of the override; vsprintf prints a NULL string as "(null)". */
export function driverOverrideShow(value: string | null): string {
  return `${value ?? "(null)"}\n`;
}
