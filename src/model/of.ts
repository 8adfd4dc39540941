// Open Firmware (device tree) identities, of_device_id entries and the kernel's scoring.
// Sources: drivers/of/base.c (__of_device_is_compatible, __of_match_node), include/linux/of.h
// (of_compat_cmp = strcasecmp), drivers/of/module.c (of_modalias), drivers/of/device.c
// (of_device_uevent). See shared/reference/kernel.md §4.

/** A device tree node as the kernel sees it. */
export interface OfNode {
  /** Full path, e.g. "/soc/serial@1c28000" (what %pOF prints). */
  fullName: string;
  /** The device_type property, or null when absent. */
  type: string | null;
  /** The compatible property's strings, most specific first. */
  compatible: readonly string[];
}

/** struct of_device_id: an empty string means "not given". */
export interface OfDeviceId {
  name: string;
  type: string;
  compatible: string;
}

export function ofCompatible(compatible: string): OfDeviceId {
  return { name: "", type: "", compatible };
}

/** The node name without unit address (what %pOFn prints): basename of full_name up to '@'. */
export function ofNodeName(node: OfNode): string {
  const base = node.fullName === "/" ? "" : node.fullName.slice(node.fullName.lastIndexOf("/") + 1);
  const at = base.indexOf("@");
  return at >= 0 ? base.slice(0, at) : base;
}

/** strcasecmp() == 0 in the C locale: ASCII letters fold, nothing else. */
export function asciiCaseEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

const INT_MAX = 0x7fffffff;

/**
 * __of_device_is_compatible(device, compat, type, name): 0 for no match, else a score where an earlier
 * compatible string weighs more (INT_MAX/2 - (index << 2)), +2 for a device_type match, +1 for a name match.
 */
export function ofDeviceIsCompatible(node: OfNode, compat: string, type: string, name: string): number {
  let score = 0;
  if (compat !== "") {
    for (let index = 0; index < node.compatible.length; index++) {
      if (asciiCaseEqual(node.compatible[index]!, compat)) {
        score = Math.floor(INT_MAX / 2) - (index << 2);
        break;
      }
    }
    if (score === 0) return 0;
  }
  if (type !== "") {
    if (node.type === null || node.type !== type) return 0;
    score += 2;
  }
  if (name !== "") {
    if (ofNodeName(node) !== name) return 0;
    score++;
  }
  return score;
}

export interface OfMatch {
  index: number;
  score: number;
  id: OfDeviceId;
}

/** __of_match_node(): the entry with the strictly greatest score over the whole table (ties: first). */
export function ofMatchNode(table: readonly OfDeviceId[], node: OfNode): OfMatch | null {
  let best: OfMatch | null = null;
  for (let i = 0; i < table.length; i++) {
    const m = table[i]!;
    if (m.name === "" && m.type === "" && m.compatible === "") break; // table terminator
    const score = ofDeviceIsCompatible(node, m.compatible, m.type, m.name);
    if (score > (best?.score ?? 0)) best = { index: i, score, id: m };
  }
  return best;
}

/** of_modalias(): "of:N<name>T<type or (null)>" then "C<compat>" per string, spaces as '_'. */
export function ofModalias(node: OfNode): string {
  let s = `of:N${ofNodeName(node)}T${node.type ?? "(null)"}`;
  for (const c of node.compatible) s += `C${c.replace(/ /g, "_")}`;
  return s;
}

/** of_device_uevent() variables in the kernel's order (aliases omitted). */
export function ofUeventVars(node: OfNode): [string, string][] {
  const vars: [string, string][] = [
    ["OF_NAME", ofNodeName(node)],
    ["OF_FULLNAME", node.fullName],
  ];
  if (node.type !== null) vars.push(["OF_TYPE", node.type]);
  node.compatible.forEach((c, i) => vars.push([`OF_COMPATIBLE_${i}`, c]));
  vars.push(["OF_COMPATIBLE_N", String(node.compatible.length)]);
  return vars;
}
