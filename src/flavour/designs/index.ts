import { designA } from "./a-driver-flavour.ts";
import { designB } from "./b-softdep-wildcard.ts";
import { designC } from "./c-userspace-libvirt.ts";
import { designD } from "./d-udev-hook.ts";
import type { Design, DesignId } from "./design.ts";

export const DESIGNS: readonly Design[] = [designA, designB, designC, designD];

export function designById(id: string): Design | undefined {
  return DESIGNS.find((d) => d.id === (id as DesignId));
}
