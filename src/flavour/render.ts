// Text output of flavour runs: the per-device comparison, the fault matrix and a timeline.
// Pure string building; the CLI decides colour (terminal or not) and where the text goes.
import Table from "cli-table3";
import pc from "picocolors";
import type { DeviceOutcome, RunResult, SweepResult } from "./compare.ts";
import { FAULT_TEXT, type Fault } from "./compare.ts";
import type { Design } from "./designs/design.ts";
import type { TraceEntry } from "./backend.ts";

export interface Style {
  color: boolean;
}

function paint(style: Style): { ok: (s: string) => string; bad: (s: string) => string; dim: (s: string) => string; bold: (s: string) => string } {
  const c = pc.createColors(style.color);
  return { ok: c.green, bad: c.red, dim: c.dim, bold: c.bold };
}

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] } });
}

const driverText = (d: string | null): string => d ?? "(none)";

function cell(o: DeviceOutcome, style: Style): string {
  const p = paint(style);
  const t = o.boundAfterMs !== null ? p.dim(`\n  bound at +${o.boundAfterMs.toFixed(1)} ms`) : "";
  if (o.right) return `${p.ok("✓")} ${driverText(o.final)}${t}`;
  return `${p.bad("✗")} ${driverText(o.final)}${t}\n  ${p.dim(`want ${o.acceptable.map(driverText).join(" or ")}`)}`;
}

/** Per device and design: the final driver, ✓ when it is the right one, and the virtual time to bind. */
export function renderDeviceTable(runs: readonly RunResult[], style: Style): string {
  const first = runs[0];
  if (!first) return "";
  const t = table(["device", "role", "host driver", ...runs.map((r) => `(${r.design}) ${r.designShort}`)]);
  for (const dev of first.devices) {
    const row = [`${dev.name}\n${paint(style).dim(dev.label)}`, dev.role, driverText(dev.hostDriver)];
    for (const r of runs) {
      const o = r.devices.find((x) => x.name === dev.name);
      row.push(o ? cell(o, style) : "");
    }
    t.push(row);
  }
  return t.toString();
}

/** Per design: modules loaded (unnecessary ones), sysfs writes, uevents, modprobe runs, time to settle. */
export function renderCostTable(runs: readonly RunResult[], style: Style): string {
  const p = paint(style);
  const t = table(["design", "right", "modules loaded", "unnecessary", "sysfs writes", "uevents", "modprobe runs", "settled after"]);
  for (const r of runs) {
    const right = r.devices.filter((d) => d.right).length;
    t.push([
      `(${r.design}) ${r.designShort}`,
      `${right === r.devices.length ? p.ok(String(right)) : p.bad(String(right))}/${r.devices.length}`,
      String(r.modulesLoaded.length),
      r.unnecessaryModules.length === 0 ? "0" : `${r.unnecessaryModules.length}: ${wrapWords(r.unnecessaryModules, 48)}`,
      String(r.sysfsWrites),
      String(r.uevents),
      String(r.modprobeRuns),
      `${r.settledAfterMs} ms`,
    ]);
  }
  return t.toString();
}

/** Designs × faults: devices ending right / all devices, and which were wrong. */
export function renderFaultMatrix(matrix: ReadonlyMap<string, RunResult>, designs: readonly Design[], faults: readonly Fault[], style: Style): string {
  const p = paint(style);
  const t = table(["fault", ...designs.map((d) => `(${d.id}) ${d.short}`)]);
  for (const f of faults) {
    const row = [`${f}\n${p.dim(FAULT_TEXT[f])}`];
    for (const d of designs) {
      const r = matrix.get(`${d.id}/${f}`);
      if (!r) {
        row.push("");
        continue;
      }
      const wrong = r.devices.filter((x) => !x.right);
      const n = `${r.devices.length - wrong.length}/${r.devices.length}`;
      row.push(wrong.length === 0 ? p.ok(`✓ ${n}`) : `${p.bad(`✗ ${n}`)}\n${p.dim(wrong.map((w) => `${w.name}→${driverText(w.final)}`).join("\n"))}`);
    }
    t.push(row);
  }
  return t.toString();
}

function wrapWords(words: readonly string[], width: number): string {
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    if (cur !== "" && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur === "" ? w : `${cur} ${w}`;
  }
  if (cur !== "") lines.push(cur);
  return lines.join("\n");
}

const SHOWN: ReadonlySet<TraceEntry["kind"]> = new Set(["write", "exec", "load", "bind", "unbind", "probe-fail", "note", "udev"]);

/** A readable timeline of the switch phase (uevents left out; they follow every bind/unbind). */
export function renderTimeline(run: RunResult, style: Style, limit = 60): string {
  const p = paint(style);
  const lines: string[] = [];
  const shown = run.trace.filter((e) => SHOWN.has(e.kind));
  for (const e of shown.slice(0, limit)) {
    const t = `+${(e.t - run.switchStart).toFixed(2)} ms`.padStart(12);
    const who = (e.agent ?? (e.kind === "note" ? "" : "kernel")).padEnd(24);
    const text = e.kind === "bind" ? p.ok(e.text) : e.kind === "probe-fail" || e.text.includes("failed") ? p.bad(e.text) : e.text;
    lines.push(`${p.dim(t)}  ${p.dim(who)} ${text}`);
  }
  if (shown.length > limit) lines.push(p.dim(`   … ${shown.length - limit} more events`));
  return lines.join("\n");
}

/** Designs × faults over seeded interleavings: runs with every device right / runs. */
export function renderSweep(results: readonly SweepResult[], designs: readonly Design[], faults: readonly Fault[], style: Style): string {
  const p = paint(style);
  const t = table(["fault", ...designs.map((d) => `(${d.id}) ${d.short}`)]);
  for (const f of faults) {
    const row: string[] = [f];
    for (const d of designs) {
      const r = results.find((x) => x.design === d.id && x.fault === f);
      if (!r) {
        row.push("");
        continue;
      }
      const text = `${r.allRight}/${r.runs} runs\n${p.dim(`${r.devicesRight}/${r.devices} devices`)}`;
      row.push(r.allRight === r.runs ? p.ok(text) : p.bad(text));
    }
    t.push(row);
  }
  return t.toString();
}

/** One line per design, computed from the matrix: device outcomes right over every scenario, and which devices went wrong where. */
export function renderVerdict(matrix: ReadonlyMap<string, RunResult>, designs: readonly Design[], faults: readonly Fault[], style: Style): string {
  const p = paint(style);
  return designs
    .map((d) => {
      let right = 0;
      let total = 0;
      const wrong = new Map<string, Fault[]>();
      for (const f of faults) {
        for (const x of matrix.get(`${d.id}/${f}`)?.devices ?? []) {
          total++;
          if (x.right) right++;
          else wrong.set(x.name, [...(wrong.get(x.name) ?? []), f]);
        }
      }
      const n = `${right}/${total}`;
      const under = (fs: readonly Fault[]): string => {
        if (fs.length === faults.length) return "always";
        if (fs.length * 2 <= faults.length) return `under ${fs.join(", ")}`;
        return `under all but ${faults.filter((f) => !fs.includes(f)).join(", ")}`;
      };
      const w = [...wrong].map(([name, fs]) => `\n      ${name} ${p.dim(under(fs))}`).join("");
      return `  (${d.id}) ${d.short}: ${wrong.size === 0 ? p.ok(n) : p.bad(n)} device outcomes right${w !== "" ? `; wrong:${w}` : ""}`;
    })
    .join("\n");
}
