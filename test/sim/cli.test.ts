// kbind sim / kbind explain as a user runs them: the two commands registered on a program configured as
// src/cli/main.ts runCli does (in-process; independent of the other commands' imports).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Command, CommanderError } from "commander";
import { bufferIo, ExitCode } from "../../src/cli/io.ts";
import { renderError } from "../../src/cli/render-error.ts";
import { register as registerSim } from "../../src/cli/commands/sim.ts";
import { register as registerExplain } from "../../src/cli/commands/explain.ts";

const scen = (f: string): string => resolve(import.meta.dirname, "../../scenarios", f);

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const program = new Command("kbind").exitOverride().configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) });
  registerSim(program, io);
  registerExplain(program, io);
  let code = 0;
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof ExitCode) code = e.code;
    else if (e instanceof CommanderError) code = e.exitCode;
    else {
      io.err(renderError(e));
      code = 1;
    }
  }
  return { code, out: io.stdout(), err: io.stderr() };
}

function tmpScenario(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "kbind-sim-"));
  const f = join(dir, "s.yaml");
  writeFileSync(f, text);
  return f;
}

describe("kbind sim", () => {
  it("prints the trace, the final state and the expectation count; exit 0", async () => {
    const r = await run("sim", scen("new-id.yaml"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("[    0.002000] kernel igc: new_id 8086 15f3\n");
    expect(r.out).toContain("devices:\n  pci      0000:05:00.0         -\n  pci      0000:06:00.0         igc\n");
    expect(r.out.endsWith("expectations: 14/14 passed\n")).toBe(true);
  });

  it("--json: JSON Lines records then the final state", async () => {
    const r = await run("sim", scen("new-id.yaml"), "--json");
    const lines = r.out.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ t: 0, seq: 0, source: "script", kind: "boot" });
    expect(lines.at(-1)).toMatchObject({ failures: 0, expectations: 14, final: { deferred: [] } });
  });

  it("a failed expectation exits 1", async () => {
    const f = tmpScenario('machine:\n  devices:\n    - { bus: pci, name: "0000:01:00.0", vendor: 1, device: 2 }\nscript:\n  - expect: { bound: { "0000:01:00.0": igb } }\n');
    const r = await run("sim", f);
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL 0000:01:00.0 bound to igb (got (none))");
  });

  it("a malformed scenario: located error, no trace", async () => {
    const f = tmpScenario("udev:\n  latency: soon\n");
    const r = await run("sim", f);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toContain(`${f}:2:12`);
  });

  it("--seed changes udev jitter; --until stops the clock", async () => {
    const a = await run("sim", scen("cold-boot-server.yaml"), "--seed", "1");
    const b = await run("sim", scen("cold-boot-server.yaml"), "--seed", "2");
    expect(a.out).not.toBe(b.out);
    const u = await run("sim", scen("hotplug.yaml"), "--until", "50ms");
    expect(u.out).toContain("final state at 0.050000 s");
    expect(u.out).not.toContain("hotplug pci 0000:01:00.0");
    expect((await run("sim", scen("hotplug.yaml"), "--seed", "x")).code).not.toBe(0);
  });
});

describe("kbind explain", () => {
  it("lists drivers in registration order with their match, the device's history and why", async () => {
    const r = await run("explain", scen("cold-boot-server.yaml"), "0000:01:00.0");
    expect(r.code).toBe(0);
    expect(r.out).toContain("    3. virtio-pci [virtio_pci]: no match\n    4. igb [igb]: matches id_table[0]  <= bound\n");
    expect(r.out).toContain("driver: 'igb': driver_bound: bound to device '0000:01:00.0'");
    expect(r.out).toContain("Module 'igb' is already loaded"); // this device's own udev event
    expect(r.out).not.toContain("probe with driver igb failed"); // the other port's probe
    expect(r.out).toContain("why: igb is bound");
  });

  it("an unknown device is an error", async () => {
    const r = await run("explain", scen("cold-boot-server.yaml"), "0000:99:00.0");
    expect(r.code).not.toBe(0);
  });
});
