// `kbind demo` and `kbind compare` as a user runs them (in-process through runCli).
import { describe, expect, it } from "vitest";
import { bufferIo } from "../../src/cli/io.ts";
import { runCli } from "../../src/cli/main.ts";

describe("kbind demo", () => {
  it("boots the default server, compares the four designs, prints the fault matrix and a timeline", async () => {
    const io = bufferIo();
    expect(await runCli(["demo"], io)).toBe(0);
    const out = io.stdout();
    expect(io.stderr()).toBe("");
    expect(out).toContain("kbind demo — default-server: arm64, Debian 6.1.0-56-arm64");
    expect(out).toContain("11 devices booted; 7 are switched to vfio under each design");
    // per-device verdicts: (a) right everywhere, (b) universal vfio-pci for the ConnectX VF
    expect(out).toMatch(/│ 0000:01:00\.2 +│ vfio +│ mlx5_core +│ ✓ mlx5_vfio_pci +│ ✗ vfio-pci +│ ✓ mlx5_vfio_pci +│ ✓ mlx5_vfio_pci +│/);
    expect(out).toMatch(/│ e0700000\.xgmac +│ vfio +│ amd-xgbe +│ ✓ vfio-platform +│ ✗ \(none\) +│ ✗ \(none\) +│ ✗ \(none\) +│/);
    expect(out).toMatch(/│ \(a\) flavour +│ 11\/11 +│/);
    expect(out).toMatch(/│ udev-dead +│ ✓ 11\/11 +│ ✗ 5\/11 +│ ✗ 10\/11 +│ ✗ 4\/11 +│/);
    expect(out).toContain('request_module_alias("vfio_pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00")');
    expect(out).toContain("0000:01:00.2 bound to mlx5_vfio_pci");
    expect(out).toContain("  (a) flavour: 78/78 device outcomes right\n");
    expect(out).toContain("  (c) libvirt: 72/78 device outcomes right; wrong:\n      e0700000.xgmac under all but modprobe-fails\n");
    expect(out).not.toContain("\u001b["); // no colour when not a terminal
  });
});

describe("kbind compare", () => {
  it("--json gives per-run, per-device outcomes", async () => {
    const io = bufferIo();
    expect(await runCli(["compare", "default", "--design", "a,c", "--fault", "none,hot-add", "--json"], io)).toBe(0);
    const j = JSON.parse(io.stdout()) as { machine: string; runs: { design: string; fault: string; devices: { name: string; final: string | null; right: boolean }[] }[] };
    expect(j.machine).toBe("default-server");
    expect(j.runs.map((r) => `${r.design}/${r.fault}`)).toEqual(["a/none", "c/none", "a/hot-add", "c/hot-add"]);
    const c = j.runs.find((r) => r.design === "c" && r.fault === "none")!;
    expect(c.devices.find((d) => d.name === "0009:01:00.0")).toMatchObject({ final: "nvgrace_gpu_vfio_pci", right: true });
  });

  it("rejects an unknown design or fault with a clear error and exit 1", async () => {
    const io = bufferIo();
    expect(await runCli(["compare", "--design", "z"], io)).toBe(1);
    expect(io.stderr()).toContain('unknown design "z"');
    const io2 = bufferIo();
    expect(await runCli(["compare", "--fault", "meteor"], io2)).toBe(1);
    expect(io2.stderr()).toContain('unknown fault "meteor"');
  });

  it("reports a missing scenario file with its path", async () => {
    const io = bufferIo();
    expect(await runCli(["compare", "/nonexistent/machine.yaml"], io)).toBe(1);
    expect(io.stderr()).toContain("/nonexistent/machine.yaml");
  });

  it("runs another scenario: the x86 server on Debian amd64 metadata (pds, virtio-blk, QAT without a variant)", async () => {
    const io = bufferIo();
    expect(await runCli(["compare", "data/machines/x86-server.yaml", "--design", "a,c", "--fault", "none", "--json"], io)).toBe(0);
    const j = JSON.parse(io.stdout()) as { kver: string; runs: { design: string; devices: { name: string; final: string | null; right: boolean }[] }[] };
    expect(j.kver).toBe("6.1.0-56-amd64");
    for (const r of j.runs) {
      const final = Object.fromEntries(r.devices.map((d) => [d.name, d.final]));
      expect(final, r.design).toMatchObject({ "0000:af:00.1": "pds_vfio_pci", "0000:00:05.0": "virtio_vfio_pci", "0000:6c:01.0": "vfio-pci", "0000:18:00.0": "i40e" });
      expect(r.devices.every((d) => d.right)).toBe(true);
    }
  });

  it("rejects a machine file that does not fit the schema, naming the file and the field", async () => {
    const { loadMachine } = await import("../../src/flavour/load.ts");
    const files: Record<string, string> = { "m.yaml": "name: x\narch: a\nkver: k\nmoduleData: d\nvariants: v\ndevices:\n  - { slot: \"zz\", label: l }\nraceDevice: r\n" };
    expect(() => loadMachine((p) => files[p] ?? "", "m.yaml")).toThrow(/^m\.yaml: devices\.0/);
  });
});

