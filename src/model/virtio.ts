// virtio identities and matching: drivers/virtio/virtio.c (virtio_id_match, modalias_show,
// virtio_uevent), scripts/mod/file2alias.c (do_virtio_entry).

export const VIRTIO_DEV_ANY_ID = 0xffffffff;

export interface VirtioIdentity {
  device: number;
  vendor: number;
}

export interface VirtioDeviceId {
  device: number;
  vendor: number;
}

/** virtio_id_match(). */
export function virtioIdMatch(id: VirtioDeviceId, dev: VirtioIdentity): boolean {
  if (id.device !== dev.device && id.device !== VIRTIO_DEV_ANY_ID) return false;
  return id.vendor === VIRTIO_DEV_ANY_ID || id.vendor === dev.vendor;
}

/** virtio_dev_match(): first entry of the table (terminated by device == 0) that matches. */
export function virtioMatch(table: readonly VirtioDeviceId[], dev: VirtioIdentity): number {
  for (let i = 0; i < table.length; i++) {
    const id = table[i]!;
    if (id.device === 0) return -1;
    if (virtioIdMatch(id, dev)) return i;
  }
  return -1;
}

const hex8 = (v: number): string => (v >>> 0).toString(16).toUpperCase().padStart(8, "0");

/** "virtio:d%08Xv%08X" (modalias_show and the MODALIAS uevent variable). */
export function virtioModalias(dev: VirtioIdentity): string {
  return `virtio:d${hex8(dev.device)}v${hex8(dev.vendor)}`;
}

/** virtio_uevent(): the only variable is MODALIAS=virtio:d%08Xv%08X. */
export function virtioUeventVars(dev: VirtioIdentity): [string, string][] {
  return [["MODALIAS", virtioModalias(dev)]];
}
