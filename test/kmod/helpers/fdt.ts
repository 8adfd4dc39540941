// Flattened device tree (.dtb) reader, enough to build OF modaliases the way the kernel does
// (drivers/of/device.c of_modalias: "of:N<name>T<type>C<compat>..." with the node name without
// its unit address, device_type or "(null)" (printf of a NULL string), spaces → '_').

export interface FdtNode {
  name: string;
  props: Map<string, Uint8Array>;
}

export function parseFdt(b: Uint8Array): FdtNode[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 40 || dv.getUint32(0) !== 0xd00dfeed) throw new Error("not a flattened device tree");
  const offStruct = dv.getUint32(8);
  const offStrings = dv.getUint32(12);
  const cstr = (o: number): [string, number] => {
    let e = o;
    while (e < b.length && b[e] !== 0) e++;
    return [String.fromCharCode(...b.subarray(o, e)), e + 1];
  };
  const nodes: FdtNode[] = [];
  const stack: FdtNode[] = [];
  let p = offStruct;
  for (;;) {
    const tok = dv.getUint32(p);
    p += 4;
    if (tok === 1) {
      const [name, e] = cstr(p);
      p = (e + 3) & ~3;
      const n: FdtNode = { name, props: new Map() };
      nodes.push(n);
      stack.push(n);
    } else if (tok === 2) stack.pop();
    else if (tok === 3) {
      const len = dv.getUint32(p);
      const nameoff = dv.getUint32(p + 4);
      p += 8;
      const [pname] = cstr(offStrings + nameoff);
      stack[stack.length - 1]?.props.set(pname, b.subarray(p, p + len));
      p = (p + len + 3) & ~3;
    } else if (tok === 4) continue;
    else if (tok === 9) break;
    else throw new Error(`bad FDT token ${tok} at ${p - 4}`);
  }
  return nodes;
}

function strList(v: Uint8Array): string[] {
  const s = String.fromCharCode(...v);
  return s.split("\0").filter((x, i, a) => !(x === "" && i === a.length - 1));
}

/** of_modalias for every node with a `compatible` property. */
export function ofModaliases(b: Uint8Array): string[] {
  const out: string[] = [];
  for (const n of parseFdt(b)) {
    const compat = n.props.get("compatible");
    if (!compat) continue;
    const name = n.name.split("@")[0]!;
    const dt = n.props.get("device_type");
    const type = dt ? strList(dt)[0] ?? "" : "(null)";
    let s = `of:N${name}T${type}`;
    for (const c of strList(compat)) s += "C" + c.replaceAll(" ", "_");
    out.push(s);
  }
  return out;
}
