// Scenario helpers for the simulator tests: YAML text in, simulation result out.
import { loadScenario } from "../../src/sim/scenario.ts";
import { simulate, type SimOptions, type SimResult } from "../../src/sim/simulator.ts";
import { formatTraceText, type TraceRecord } from "../../src/sim/trace.ts";

export function run(yaml: string, opts: SimOptions = {}): SimResult {
  return simulate(loadScenario(yaml, "test.yaml"), opts);
}

export function text(r: SimResult): string {
  return formatTraceText(r.trace.records);
}

/** Records of one source, as "t text" lines. */
export function lines(r: SimResult, source: TraceRecord["source"], kind?: string): string[] {
  return r.trace.records.filter((x) => x.source === source && (kind === undefined || x.kind === kind)).map((x) => x.text);
}

export function recordsOf(r: SimResult, source: TraceRecord["source"], kind?: string): TraceRecord[] {
  return r.trace.records.filter((x) => x.source === source && (kind === undefined || x.kind === kind));
}

export function boundTo(r: SimResult, dev: string): string | null {
  return r.state.devices.find((d) => d.name === dev)?.driver ?? null;
}

/** A machine of two Intel NICs behind a bridge and one NVMe, modules igb and nvme (+nvme_core). */
export const SMALL = `
name: small
seed: 3
udev: { latency: 2ms, jitter: 1ms }
modules:
  inline:
    - name: igb
      drivers:
        - { name: igb, bus: pci, ids: [{ vendor: 0x8086, device: 0x1533 }], probe: { time: 1ms } }
    - name: nvme_core
    - name: nvme
      depends: [nvme_core]
      drivers:
        - { name: nvme, bus: pci, ids: [{ vendor: "*", device: "*", class: 0x010802, classMask: 0xffffff }], probe: { time: 5ms } }
machine:
  devices:
    - { bus: pci, name: "0000:00:1c.0", vendor: 0x8086, device: 0xa110, class: 0x060400 }
    - { bus: pci, name: "0000:01:00.0", parent: "0000:00:1c.0", vendor: 0x8086, device: 0x1533, class: 0x020000 }
    - { bus: pci, name: "0000:01:00.1", parent: "0000:00:1c.0", vendor: 0x8086, device: 0x1533, class: 0x020000 }
    - { bus: pci, name: "0000:03:00.0", vendor: 0x144d, device: 0xa808, class: 0x010802 }
`;
