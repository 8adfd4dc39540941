// `kbind host ...` end to end through commander, on the temp-dir fake /sys (never the real one):
// the deps (sysfs, modprobe, uid, mountinfo) are injected.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Command, CommanderError } from "commander";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerHost } from "../../src/cli/commands/host.ts";
import { bufferIo, ExitCode } from "../../src/cli/io.ts";
import { renderError } from "../../src/cli/render-error.ts";
import type { HostDeps } from "../../src/host/host-env.ts";
import { FileJournal } from "../../src/host/journal.ts";
import { executePlan, planSet, ProcessKilled } from "../../src/host/switch.ts";
import { TmpdirSysfs } from "../../src/host/sysfs-tmpdir.ts";
import { scanVfioAliases } from "../../src/host/vfio-variant.ts";
import { hostDesc, MODULES_ALIAS } from "./fixtures.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { simulate } from "../../src/sim/simulator.ts";

let fake: TmpdirSysfs;
let work: string;
let uid = 0;
let modulesDir: string;
let configDir: string;

beforeEach(() => {
  fake = TmpdirSysfs.create(hostDesc());
  work = mkdtempSync(join(tmpdir(), "kbind-cli-"));
  modulesDir = join(work, "modules");
  configDir = join(work, "etc-kbind");
  mkdirSync(modulesDir);
  writeFileSync(join(modulesDir, "modules.alias"), MODULES_ALIAS);
  uid = 0;
});
afterEach(() => {
  fake.dispose();
  rmSync(work, { recursive: true, force: true });
});

function deps(): HostDeps {
  return {
    getuid: () => uid,
    sysfs: (root) => {
      expect(root).toBe(fake.root);
      return fake;
    },
    modprobe: () => fake.modprobePort(),
    mountinfo: () => Promise.resolve(readFileSync(fake.mountinfoPath, "utf8")),
    kernelRelease: () => "6.1.0-fake",
  };
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const program = new Command("kbind").exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerHost(program, io, deps());
  let code = 0;
  try {
    await program.parseAsync(argv, { from: "user" });
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

const R = (): string[] => ["--sysfs-root", fake.root];
const M = (): string[] => ["--modules-dir", modulesDir];
const C = (): string[] => ["--config-dir", configDir];

describe("kbind host list / snapshot", () => {
  it("lists class, driver, override, IOMMU group, host modules and the vfio flavour (libvirt's choice)", async () => {
    const r = await run("host", "list", ...R(), ...M());
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toMatch(/^DEVICE\s+CLASS\s+ID\s+DRIVER\s+OVERRIDE\s+IOMMU\s+HOST FLAVOUR\s+VFIO FLAVOUR$/);
    expect(lines.find((l) => l.startsWith("0000:02:00.0"))).toMatch(/network\s+15b3:101e\s+mlx5_core\s+-\s+2\s+mlx5_core\s+mlx5_vfio_pci \(5 wildcards\)$/);
    expect(lines.find((l) => l.startsWith("0000:03:00.0"))).toMatch(/storage\s+144d:a808\s+nvme\s+-\s+3\s+nvme\s+vfio_pci \(7 wildcards\)$/);
    const j = JSON.parse((await run("host", "list", ...R(), ...M(), "--json")).out) as { devices: { device: string; vfio: { module: string } }[] };
    expect(j.devices.map((d) => [d.device, d.vfio.module])).toContainEqual(["0000:02:00.0", "mlx5_vfio_pci"]);
  });

  it("snapshot → a scenario the simulator runs with every host binding reproduced; list --snapshot replays it", async () => {
    // Put one device in the vfio flavour first, so the snapshot carries an override and a vfio driver.
    expect((await run("host", "flavour", "set", "0000:02:00.0", "vfio", ...R(), ...M(), ...C())).code).toBe(0);
    const out = join(work, "snap.yaml");
    expect((await run("host", "snapshot", ...R(), "-o", out)).code).toBe(0);
    const yaml = readFileSync(out, "utf8");
    expect(yaml).toContain("name: 0000:03:00.0");
    expect(yaml).toContain("vendor: 0x144d");
    expect(yaml).toContain("driverOverride: mlx5_vfio_pci");
    const res = simulate(loadScenario(yaml, out));
    expect(res.expectations).toBe(6); // one per device in expect.bound
    expect(res.failures).toBe(0);
    const bound = Object.fromEntries(res.state.devices.filter((d) => d.bus === "pci").map((d) => [d.name, d.driver]));
    expect(bound).toEqual({
      "0000:01:00.0": "e1000e",
      "0000:02:00.0": "mlx5_vfio_pci",
      "0000:03:00.0": "nvme",
      "0000:04:00.0": "nouveau",
      "0000:04:00.1": "snd_hda_intel",
      "0000:05:00.0": "e1000e",
    });
    const direct = JSON.parse((await run("host", "list", ...R(), ...M(), "--json")).out) as { devices: unknown[] };
    const replay = JSON.parse((await run("host", "list", "--snapshot", out, ...M(), "--json")).out) as { devices: unknown[] };
    expect(replay.devices).toEqual(direct.devices);
  });

  it("a malformed snapshot is a located error (file:line:col), not a crash", async () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(bad, "name: x\nmachine:\n  devices:\n    - { bus: pci, name: nope, vendor: 1, device: 2 }\n");
    const r = await run("host", "list", "--snapshot", bad, ...M());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kbind: .*bad\.yaml:4:\d+: .*pci device names are DDDD:BB:DD\.F.* \[SCENARIO\]\n$/);
  });
});

describe("kbind host flavour set/unset", () => {
  it("--dry-run prints every write and writes nothing (allowed as non-root)", async () => {
    uid = 1000;
    const r = await run("host", "flavour", "set", "0000:02:00.0", "vfio", "--dry-run", ...R(), ...M(), ...C());
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        "plan: host flavour set 0000:02:00.0 vfio",
        "  0000:02:00.0: now driver mlx5_core, override (null) via mlx5_vfio_pci (vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*, 5 wildcards, modules.alias:4)",
        "  run modprobe mlx5_vfio_pci",
        '  write /sys/bus/pci/devices/0000:02:00.0/driver_override <- "<pci driver of mlx5_vfio_pci>"',
        '  write /sys/bus/pci/drivers/mlx5_core/unbind <- "0000:02:00.0"',
        '  write /sys/bus/pci/drivers_probe <- "0000:02:00.0"',
        "  verify /sys/bus/pci/devices/0000:02:00.0/driver -> <pci driver of mlx5_vfio_pci>",
        "note: module mlx5_vfio_pci is not loaded: its PCI driver name is read from /sys/module/mlx5_vfio_pci/drivers after modprobe",
        "dry run: nothing written",
        "",
      ].join("\n"),
    );
    expect(fake.writes).toEqual([]);
  });

  it("refuses to switch as non-root", async () => {
    uid = 1000;
    const r = await run("host", "flavour", "set", "0000:01:00.0", "vfio", ...R(), ...M(), ...C());
    expect(r.code).toBe(1);
    expect(r.err).toBe("kbind: EPERM: host flavour set writes to sysfs and /etc: run it as root (or use --dry-run) [NOT_ROOT]\n");
    expect(fake.writes).toEqual([]);
  });

  it("rejects path traversal and unknown flavours", async () => {
    expect((await run("host", "flavour", "set", "../../../etc/passwd", "vfio", ...R(), ...C())).err).toContain("[BAD_BUS_NAME]");
    expect((await run("host", "flavour", "set", "0000:01:00.0", "uio", ...R(), ...C())).err).toContain("[UNKNOWN_FLAVOUR]");
  });

  it("set --persist, status, drift, apply (idempotent), unset --persist back to the recorded host driver", async () => {
    const set = await run("host", "flavour", "set", "0000:01:00.0", "vfio", "--persist", ...R(), ...M(), ...C());
    expect(set.code).toBe(0);
    expect(set.out).toContain("done: 0000:01:00.0 driver vfio-pci, override vfio-pci\n");
    const cfg = JSON.parse(readFileSync(join(configDir, "devices/pci-0000:01:00.0.json"), "utf8")) as unknown;
    expect(cfg).toEqual({ bus: "pci", device: "0000:01:00.0", flavour: "vfio", module: "vfio_pci", driver: "vfio-pci", hostDriver: "e1000e" });
    const ok = await run("host", "status", ...R(), ...C());
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/0000:01:00\.0\s+vfio\s+vfio-pci\s+vfio-pci\s+vfio-pci\s+ok\n$/);
    // Drift: someone clears the override and rebinds the host driver behind kbind's back.
    await fake.write("/sys/bus/pci/devices/0000:01:00.0/driver_override", "\n");
    await fake.write("/sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0");
    await fake.write("/sys/bus/pci/drivers/e1000e/bind", "0000:01:00.0");
    const drift = await run("host", "status", ...R(), ...C());
    expect(drift.code).toBe(1);
    expect(drift.out).toContain("drift: bound to e1000e, override (null)");
    const apply = await run("host", "apply", ...R(), ...M(), ...C());
    expect(apply.code).toBe(0);
    expect(apply.out).toContain("0000:01:00.0: applied (vfio-pci)\n");
    const n = fake.writes.length;
    const again = await run("host", "apply", ...R(), ...M(), ...C());
    expect(again.out).toBe("0000:01:00.0: ok (vfio-pci)\n");
    expect(fake.writes.length).toBe(n);
    const unset = await run("host", "flavour", "unset", "0000:01:00.0", "vfio", "--persist", ...R(), ...M(), ...C());
    expect(unset.code).toBe(0);
    expect(unset.out).toContain("verify /sys/bus/pci/devices/0000:01:00.0/driver -> e1000e");
    expect(fake.state("0000:01:00.0")).toEqual({ driver: "e1000e", override: null });
    expect(existsSync(join(configDir, "devices/pci-0000:01:00.0.json"))).toBe(false);
  });

  it("apply moves IOMMU-group members persisted together as a group (each alone is never viable)", async () => {
    expect((await run("host", "flavour", "set", "0000:04:00.0", "vfio", "--group", "--persist", ...R(), ...M(), ...C())).code).toBe(0);
    expect(readdirSync(join(configDir, "devices"))).toEqual(["pci-0000:04:00.0.json", "pci-0000:04:00.1.json"]);
    // A reboot: both functions come back on their host drivers.
    for (const [d, host] of [["0000:04:00.0", "nouveau"], ["0000:04:00.1", "snd_hda_intel"]] as const) {
      await fake.write(`/sys/bus/pci/devices/${d}/driver_override`, "\n");
      await fake.write("/sys/bus/pci/drivers/vfio-pci/unbind", d);
      await fake.write(`/sys/bus/pci/drivers/${host}/bind`, d);
    }
    const apply = await run("host", "apply", ...R(), ...M(), ...C());
    expect(apply.code).toBe(0);
    expect(apply.out).toContain("0000:04:00.0, 0000:04:00.1: applied (vfio-pci)\n");
    expect(apply.out).toContain("0000:04:00.1: ok (vfio-pci)\n");
    expect(fake.state("0000:04:00.1")).toEqual({ driver: "vfio-pci", override: "vfio-pci" });
  });

  it("a failed probe exits 1 saying what failed and what was restored", async () => {
    fake.setProbe("vfio-pci", "EBUSY");
    const r = await run("host", "flavour", "set", "0000:01:00.0", "vfio", ...R(), ...M(), ...C());
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      [
        "kbind: switch FAILED: 0000:01:00.0 is not bound to vfio-pci after drivers_probe: probe failed or no driver matched (see dmesg)",
        "kbind:   0000:01:00.0: restored driver e1000e, override (null)",
        "kbind: previous state restored and verified: 0000:01:00.0 driver e1000e, override (null)",
        "",
      ].join("\n"),
    );
    expect(fake.state("0000:01:00.0")).toEqual({ driver: "e1000e", override: null });
  });

  it("recover: a switch killed mid-way is rolled back by `kbind host recover`; status reports it until then", async () => {
    let n = 0;
    const env = {
      sysfs: fake,
      modprobe: fake.modprobePort(),
      journal: new FileJournal(join(configDir, "journal.json")),
      mountinfo: () => Promise.resolve(""),
      vfioAliases: scanVfioAliases(MODULES_ALIAS),
      log: () => undefined,
      beforeStep: (l: string) => {
        if (n++ === 3) throw new ProcessKilled(l);
      },
    };
    await expect(executePlan(env, await planSet(env, "0000:01:00.0"))).rejects.toBeInstanceOf(ProcessKilled);
    expect(fake.state("0000:01:00.0")).toEqual({ driver: null, override: "vfio-pci" });
    const st = await run("host", "status", ...R(), ...C());
    expect(st.code).toBe(1);
    expect(st.out).toContain("interrupted switch pending (set 0000:01:00.0, step 0000:01:00.0: write /sys/bus/pci/drivers_probe)");
    const r = await run("host", "recover", ...R(), ...C());
    expect(r.out).toBe(
      [
        '  write /sys/bus/pci/devices/0000:01:00.0/driver_override <- "\\n": ok',
        '  write /sys/bus/pci/drivers/e1000e/bind <- "0000:01:00.0": ok',
        "rolled-back: set of 0000:01:00.0 (interrupted at: 0000:01:00.0: write /sys/bus/pci/drivers_probe)",
        "  0000:01:00.0: restored driver e1000e, override (null)",
        "",
      ].join("\n"),
    );
    expect(fake.state("0000:01:00.0")).toEqual({ driver: "e1000e", override: null });
  });
});

describe("kbind host flavour --sandbox", () => {
  it("runs the switch on a temp-dir copy of a snapshot, with the vfio modules modules.alias names; the real fake is untouched", async () => {
    const snap = join(work, "snap.yaml");
    expect((await run("host", "snapshot", ...R(), "-o", snap)).code).toBe(0);
    const ok = await run("host", "flavour", "set", "0000:02:00.0", "vfio", "--sandbox", snap, ...M());
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("done: 0000:02:00.0 driver mlx5_vfio_pci, override mlx5_vfio_pci\n");
    expect(ok.out).toContain("sandbox: ran on a temp-dir copy of");
    // vfio probe needs an IOMMU group in the sandbox, as vfio_pci_core_register_device does.
    const bad = await run("host", "flavour", "set", "0000:05:00.0", "vfio", "--sandbox", snap, ...M());
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("kbind: previous state restored and verified: 0000:05:00.0 driver e1000e, override (null)\n");
    expect(fake.writes).toEqual([]);
    expect(fake.state("0000:02:00.0")).toEqual({ driver: "mlx5_core", override: null });
  });
});

describe("kbind host: the next run finishes an interrupted switch", () => {
  it("flavour set after a kill -9 first rolls the old switch back, then plans from the restored state", async () => {
    let n = 0;
    const env = {
      sysfs: fake,
      modprobe: fake.modprobePort(),
      journal: new FileJournal(join(configDir, "journal.json")),
      mountinfo: () => Promise.resolve(""),
      vfioAliases: scanVfioAliases(MODULES_ALIAS),
      log: () => undefined,
      beforeStep: (l: string) => {
        if (n++ === 3) throw new ProcessKilled(l);
      },
    };
    await expect(executePlan(env, await planSet(env, "0000:01:00.0"))).rejects.toBeInstanceOf(ProcessKilled);
    expect(fake.state("0000:01:00.0")).toEqual({ driver: null, override: "vfio-pci" });
    fake.setProbe("vfio-pci", "EIO"); // and this time the switch itself fails
    const r = await run("host", "flavour", "set", "0000:01:00.0", "vfio", ...R(), ...M(), ...C());
    expect(r.code).toBe(1);
    expect(r.out).toContain("recovered an interrupted set of 0000:01:00.0: rolled-back\n");
    expect(r.out).toContain("0000:01:00.0: now driver e1000e, override (null)");
    // Restored to the state before the FIRST switch, not to the interrupted intermediate state.
    expect(fake.state("0000:01:00.0")).toEqual({ driver: "e1000e", override: null });
  });
});

describe("kbind host install-boot", () => {
  it("generates the udev rule (override before 80-drivers) and the apply unit into a staging dir, never /etc", async () => {
    await run("host", "flavour", "set", "0000:02:00.0", "vfio", "--persist", ...R(), ...M(), ...C());
    const target = join(work, "boot");
    const r = await run("host", "install-boot", ...C(), "--target", target);
    expect(r.code).toBe(0);
    expect(readFileSync(join(target, "05-kbind.rules"), "utf8")).toContain(
      'ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:02:00.0", ATTR{driver_override}="mlx5_vfio_pci", RUN{builtin}+="kmod load mlx5_vfio_pci"\n',
    );
    expect(readFileSync(join(target, "kbind-apply.service"), "utf8")).toContain(`ExecStart=/usr/bin/kbind host apply --config-dir ${configDir}\n`);
    const refused = await run("host", "install-boot", ...C(), "--target", "/etc/udev/rules.d");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("[REFUSED_TARGET]");
  });
});
