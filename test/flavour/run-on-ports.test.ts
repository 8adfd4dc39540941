// The userspace agents run unchanged against the real ports (src/ports.ts): here a scripted port
// records what libvirt's algorithm reads and writes on a host with mlx5_vfio_pci available.
import { describe, expect, it } from "vitest";
import { libvirtAliasFields, libvirtBestVariant, libvirtSwitch } from "../../src/flavour/designs/c-userspace-libvirt.ts";
import { runOnPorts } from "../../src/flavour/run-on-ports.ts";
import { SysfsError, type FilesPort, type ModprobePort, type SysfsPort } from "../../src/ports.ts";

const DEV = "/sys/bus/pci/devices/0000:01:00.2";
const ALIASES = "# Aliases extracted from modules themselves.\nalias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\nalias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n";

function host() {
  const log: string[] = [];
  const files = new Map<string, string>([[`${DEV}/modalias`, "pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00\n"]]);
  let loaded = false;
  const sysfs: SysfsPort = {
    read: (p) => {
      log.push(`read ${p}`);
      const v = files.get(p);
      return v === undefined ? Promise.reject(new SysfsError("ENOENT", p)) : Promise.resolve(v);
    },
    write: (p, d) => {
      log.push(`write ${JSON.stringify(d)} > ${p}`);
      return Promise.resolve(d.length);
    },
    readlink: (p) => Promise.resolve(p === `${DEV}/driver` ? "../../../../bus/pci/drivers/mlx5_core" : null),
    list: (d) => (d === "/sys/module/mlx5_vfio_pci/drivers" && loaded ? Promise.resolve(["pci:mlx5_vfio_pci"]) : Promise.reject(new SysfsError("ENOENT", d))),
    exists: () => Promise.resolve(false),
  };
  const modprobe: ModprobePort = {
    modprobe: (args) => {
      log.push(`modprobe ${args.join(" ")}`);
      loaded = true;
      return Promise.resolve({ code: 0, stdout: "", stderr: "" });
    },
  };
  const fp: FilesPort = {
    readText: (p) => (p === "/lib/modules/6.1.0-56-arm64/modules.alias" ? Promise.resolve(ALIASES) : Promise.reject(new SysfsError("ENOENT", p))),
    readFile: () => Promise.reject(new Error("unused")),
    list: () => Promise.resolve([]),
    exists: () => Promise.resolve(true),
  };
  return { log, ports: { sysfs, modprobe, files: fp, sleep: () => Promise.resolve() } };
}

describe("runOnPorts", () => {
  it("runs libvirt's switch through SysfsPort/ModprobePort/FilesPort: modprobe -b, driver_override, unbind, drivers_probe", async () => {
    const h = host();
    await runOnPorts(libvirtSwitch({ bus: "pci", name: "0000:01:00.2" }, { kver: "6.1.0-56-arm64" }), h.ports);
    expect(h.log).toEqual([
      `read ${DEV}/modalias`,
      "modprobe -b mlx5_vfio_pci",
      `write "mlx5_vfio_pci" > ${DEV}/driver_override`,
      `write "0000:01:00.2" > ${DEV}/driver/unbind`,
      'write "0000:01:00.2" > /sys/bus/pci/drivers_probe',
    ]);
  });

  it("delivers a port's SysfsError into the algorithm, which raises it with the errno and path", async () => {
    const h = host();
    await expect(runOnPorts(libvirtSwitch({ bus: "pci", name: "0000:09:00.0" }, { kver: "6.1.0-56-arm64" }), h.ports)).rejects.toMatchObject({
      errno: "ENOENT",
      path: "/sys/bus/pci/devices/0000:09:00.0/modalias",
    });
  });
});

describe("virPCIDeviceFindBestVFIOVariant", () => {
  it("parses the 7 fields between labels", () => {
    expect(libvirtAliasFields("v000015B3d0000101Esv*sd*bc*sc*i*")).toEqual(["000015B3", "0000101E", "*", "*", "*", "*", "*"]);
  });
  it("keeps the fewest wildcards; ties go to the first line in file order; nothing for a non-pci modalias", () => {
    const dev = "pci:v000015B3d0000101Esv000015B3sd00000016bc02sc00i00";
    expect(libvirtBestVariant(dev, ALIASES)).toBe("mlx5_vfio_pci");
    const tie = "#\nalias vfio_pci:v000015B3d*sv*sd*bc*sc*i* first\nalias vfio_pci:v*d0000101Esv*sd*bc*sc*i* second\n";
    expect(libvirtBestVariant(dev, tie)).toBe("first");
    expect(libvirtBestVariant("of:NfooT(null)Cbar", ALIASES)).toBeNull();
    // partial wildcards are not supported by libvirt: a "0*"-style field never matches
    expect(libvirtBestVariant(dev, "#\nalias vfio_pci:v0000*d*sv*sd*bc*sc*i* partial\n")).toBeNull();
  });
});
